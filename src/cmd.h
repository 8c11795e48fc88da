/* What the command front end shares between main and the commands. */
#ifndef GREYLIST_CMD_H
#define GREYLIST_CMD_H

#include <stdint.h>

#include "conf.h"

#define EXIT_PASS	0
#define EXIT_DEFER	1
#define EXIT_ERROR	2	/* temporary or usage error; the MTA fails open */

struct ctx {
	struct conf conf;
	int64_t	 now;		/* epoch seconds, GREYLIST_NOW in tests */
	int	 verbose;	/* -v: decisions also on stderr */
};

struct cmd {
	const char *name;
	int	  (*fn)(struct ctx *, int, char **);
	const char *usage;
};

int	cmd_check(struct ctx *, int, char **);

/* Prints "greylist: MESSAGE" on stderr; returns EXIT_ERROR. */
int	cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends a decision or event to syslog (LOG_MAIL), and to stderr with -v. */
void	cmd_log(struct ctx *, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
