/* The configuration file: keyword value lines, # comments, durations with
 * units. See greylist.conf(5). */
#ifndef GREYLIST_CONF_H
#define GREYLIST_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"
#include "ident.h"

struct strlist {
	char	**v;
	size_t	  n, cap;
};

struct cidrlist {
	struct cidr *v;
	size_t	  n, cap;
};

struct conf {
	char	*database;		/* environment directory */
	int64_t	 embargo;		/* seconds */
	int64_t	 retry_window;		/* seconds, counted from first seen */
	int64_t	 whitelist_lifetime;	/* seconds after last use */
	int	 ipv4_prefix;		/* 0..32 */
	int	 ipv6_prefix;		/* 0..128 */
	struct cidrlist no_delay;	/* clients that pass at once */
	struct strlist no_delay_text;	/* the same entries as written, for headers */
	struct strlist exempt;		/* normalised "user@dom" and "@dom" */
	struct strlist local_domains;	/* lower-cased; empty = any domain */
	unsigned char client_identity[IDENT_ORDER_MAX + 1]; /* IDENT_*, in
					   order, IDENT_END last */
	int	 spf_bypass;		/* 0/1 */
	int	 normalize_verp;	/* 0/1 */
	int	 privacy;		/* 0/1: logs hide local parts */
	char	*reply;			/* template, see conf_reply */
	char	*header;		/* header field name */
	struct strlist mta_users;
	char	*admin_group;
	int	 timeout_ms;		/* bound on database waits */
	int	 log_stderr;		/* 0/1: copy decisions to stderr */
	int	 backend;		/* BACKEND_BDB or BACKEND_REDIS */
	char	*redis_server;		/* "unix:/path" or "host:port" */
	char	*redis_password;	/* read from redis_password_file */
	char	*redis_prefix;		/* put before every key */
	int	 redis_timeout_ms;	/* connect and command timeout */
	struct strlist redis_sentinels;	/* "host:port" each */
	char	*redis_master;		/* the Sentinel master name */
};

#define BACKEND_BDB	0
#define BACKEND_REDIS	1

/* Fills c with the built-in defaults; database is set to dbdir. */
void	conf_init(struct conf *c, const char *dbdir);

/* Reads path into c (on top of what is there). missing_ok: a file that
 * does not exist leaves the defaults and is not an error.
 * -1 = error ("PATH: line N: ..." in e), 0 = done. */
int	conf_load(struct conf *c, const char *path, int missing_ok,
	    struct err *e);

/* Applies one "keyword value" line; file and line only name the place in
 * error messages. -1 = error, 0 = done. */
int	conf_line(struct conf *c, const char *line, const char *file,
	    int lineno, struct err *e);

/* Parses "90", "90s", "5m", "28h", "36d", "2w" into seconds.
 * -1 = not a duration, 0 = done. */
int	conf_duration(const char *s, int64_t *secs);

/* 1 = the domain (lower-case) is local, 0 = not. */
int	conf_is_local_domain(const struct conf *c, const char *domain);

void	conf_free(struct conf *c);

int	strlist_add(struct strlist *l, const char *s);
int	strlist_has(const struct strlist *l, const char *s);
void	strlist_free(struct strlist *l);

#endif
