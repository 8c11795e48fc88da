/* What the command front end shares between main and the commands. */
#ifndef GREYLIST_CMD_H
#define GREYLIST_CMD_H

#include <pwd.h>
#include <stdint.h>

#include "conf.h"

#define EXIT_PASS	0
#define EXIT_DEFER	1
#define EXIT_ERROR	2	/* temporary or usage error; the MTA fails open */

struct ctx {
	struct conf conf;
	int64_t	 now;		/* epoch seconds, GREYLIST_NOW in tests */
	int	 now_fixed;	/* GREYLIST_NOW given: now for every request */
	int	 verbose;	/* -v: decisions also on stderr */
	char	**userenv;	/* setgid: the caller's environment, kept
				 * before it is cleared, for the editor */
	int	 all;		/* -a: the user's whole listing */
	int	 empty;		/* -tw --empty: an empty list is meant */
	const char *conffile;	/* the configuration file read */
	const char *conferr;	/* doctor: why it could not be read */
};

struct cmd {
	const char *name;
	int	  (*fn)(struct ctx *, int, char **);
	int	    priv;	/* PRIV_ANY, PRIV_MTA, PRIV_ADMIN (priv.h) */
	const char *usage;
};

int	cmd_check(struct ctx *, int, char **);	/* cmd_check.c */
int	cmd_doctor(struct ctx *, int, char **);	/* cmd_doctor.c */
int	cmd_list(struct ctx *, int, char **);	/* cmd_list.c */
int	cmd_purge(struct ctx *, int, char **);	/* cmd_purge.c */
int	cmd_stats(struct ctx *, int, char **);	/* cmd_list.c */
int	cmd_pass(struct ctx *, int, char **);	/* cmd_edit.c */
int	cmd_delete(struct ctx *, int, char **);	/* cmd_edit.c */
int	cmd_exempt(struct ctx *, int, char **);	/* cmd_exempt.c */
int	cmd_spam(struct ctx *, int, char **);	/* cmd_edit.c */
int	cmd_export(struct ctx *, int, char **);	/* cmd_export.c */
int	cmd_import(struct ctx *, int, char **);	/* cmd_export.c */
int	cmd_batch(struct ctx *, int, char **);	/* cmd_batch.c */
int	cmd_policy(struct ctx *, int, char **);	/* cmd_policy.c */
/* Under spawn(8) or inetd (stderr is the reply socket): stderr goes to
 * /dev/null, so that no message garbles the protocol. */
void	cmd_policy_quiet(struct ctx *);
/* Without a usable configuration: DUNNO to every request until the end
 * of the input. Returns EXIT_ERROR. */
int	cmd_policy_dunno(struct ctx *);
int	cmd_serve(struct ctx *, int, char **);	/* cmd_serve.c */
int	cmd_mine(struct ctx *, int, char **);	/* cmd_user.c */
int	cmd_toggle(struct ctx *, int, char **);	/* cmd_user.c */
int	cmd_whitelist(struct ctx *, int, char **); /* cmd_wl.c */
int	cmd_checkpoint(struct ctx *, int, char **); /* cmd_purge.c */

struct tuple;
struct decision;

/* Logs a decision of check, batch or policy, extra appended. */
void	cmd_log_decision(struct ctx *, const struct tuple *,
	    const struct decision *, const char *extra);

/* Opens the configured store for a command other than check and policy
 * (a long run: it takes the store's checkpoints), with the ticking
 * watchdog, printing the error. NULL = failed. */
struct store *cmd_open(struct ctx *);

/* Loads the configuration again from where main loaded it, the old one
 * moved to *old (the caller frees it or puts it back with
 * cmd_reload_undo). -1 = error (printed; the old one still in force),
 * 0 = loaded. */
int	cmd_reload(struct ctx *, struct conf *old);
void	cmd_reload_undo(struct ctx *, struct conf *old);

/* Prints "greylist: MESSAGE" on stderr; returns EXIT_ERROR. */
int	cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* As cmd_error, returning -1 for functions that report errors so. */
int	cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The invoking user's passwd entry and login (LOGIN_MAX + 1 bytes),
 * exactly as the system spells it. NULL = no usable login (printed). */
const struct passwd *cmd_self(char *login);

/* Whether login may change settings: refused (printed) when it has
 * upper-case letters, which no recipient (compared in lower case) can
 * match. -1 = refused, 0 = fine. */
int	cmd_settable(const char *login);

/* Async-signal-safe, for the watchdogs of check and policy: tells syslog
 * that the process fails open because the database did not answer. */
void	cmd_syslog_stuck(void);

/* Sends a decision or event to syslog (LOG_MAIL), and to stderr with -v. */
void	cmd_log(struct ctx *, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
