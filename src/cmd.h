/* What the command front end shares between main and the commands. */
#ifndef GREYLIST_CMD_H
#define GREYLIST_CMD_H

#include <pwd.h>
#include <stdarg.h>
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

/* A command: each src/cmd_NAME.c defines one, with the usage line its
 * man page's SYNOPSIS repeats; src/greylist.c lists them. */
struct cmd_entry {
	const char *name;	/* as typed: "check"; "greylist", "-t" and
				 * "-tw" for the user commands */
	int	    priv;	/* PRIV_ANY, PRIV_MTA, PRIV_ADMIN (priv.h) */
	int	  (*exec)(struct ctx *, int, char **);
	const char *usage;
};

extern const struct cmd_entry cmd_batch_entry, cmd_check_entry,
    cmd_checkpoint_entry, cmd_delete_entry, cmd_doctor_entry,
    cmd_exempt_entry, cmd_export_entry, cmd_import_entry, cmd_list_entry,
    cmd_mine_entry, cmd_pass_entry, cmd_policy_entry, cmd_purge_entry,
    cmd_serve_entry, cmd_spam_entry, cmd_stats_entry, cmd_toggle_entry,
    cmd_whitelist_entry;

/* src/cmd_policy.c: */
/* Under spawn(8) or inetd (stderr is the reply socket): stderr goes to
 * /dev/null, so that no message garbles the protocol. */
void	cmd_policy_quiet(struct ctx *);
/* Without a usable configuration: DUNNO to every request until the end
 * of the input. Returns EXIT_ERROR. */
int	cmd_policy_dunno(struct ctx *);

struct store;
struct tuple;
struct decision;

/* src/front.c: what several commands share. */

/* Parses the tuple options of check, pass and spam (argv[0] the
 * command's name) into t, with the client identity chosen as configured:
 * --ip, --sender, --rcpt when want_rcpt, --helo, --spf (its value in
 * *spf when spf is not NULL), --host. EXIT_ERROR = bad arguments
 * (printed), 0 = parsed. */
int	cmd_tuple(struct ctx *, int argc, char **argv, int want_rcpt,
	    struct tuple *t, const char **spf);

/* Logs a decision of check, batch, policy or serve, extra appended. */
void	cmd_log_decision(struct ctx *, const struct tuple *,
	    const struct decision *, const char *extra);

/* Logs what store_yield between the requests of policy or serve
 * returned (ret, e): nothing for 0; the caller has closed the store for
 * 1 (left for a recovery) and -1 (an error). Outside the watchdog's
 * window: syslog may block. */
void	cmd_yielded(struct ctx *, const char *who, int ret,
	    const struct err *e);

/* The invoking user's passwd entry and login (LOGIN_MAX + 1 bytes),
 * exactly as the system spells it. NULL = no usable login (printed). */
const struct passwd *cmd_self(char *login);

/* Whether login may change settings: refused (printed) when it has
 * upper-case letters, which no recipient (compared in lower case) can
 * match. -1 = refused, 0 = fine. */
int	cmd_settable(const char *login);

/* src/msg.c: messages, formatted there and handed to the sinks of
 * src/greylist.c. */

/* Prints "greylist: MESSAGE" on stderr (and to syslog where the MTA may
 * hide stderr: check, policy); returns EXIT_ERROR. */
int	cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* As cmd_error, -1 for functions that report errors so. */
#define cmd_fail(...)	(cmd_error(__VA_ARGS__), -1)

/* Sends a decision or event to syslog (LOG_MAIL), and to stderr with -v. */
void	cmd_log(struct ctx *, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* src/greylist.c: the sinks (t/fuzz/stub.c has its own), the opening
 * of the store and the configuration's reload. */

/* The sinks: an error message, and one line of cmd_log. */
void	cmd_vwarn(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
void	cmd_say(struct ctx *, int prio, const char *line);

/* Async-signal-safe, for the watchdogs of check and policy: tells syslog
 * that the process fails open because the database did not answer. */
void	cmd_syslog_stuck(void);

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

#endif
