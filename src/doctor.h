/* What greylist doctor's checks share (cmd_doctor.c, doctor_exim.c). */
#ifndef GREYLIST_DOCTOR_H
#define GREYLIST_DOCTOR_H

#include <sys/types.h>

#include "cmd.h"

struct doc {
	struct ctx	*x;
	const char	*group;		/* the setgid group (--group) */
	const char	*user;		/* --user: one more user to try */
	const char	*exim;		/* --exim-config, else looked for */
	char		 bin[4096];	/* the program Exim runs, else this one */
	int		 setgid;	/* 1 = bin is setgid to group */
	const char	*exim_conf;	/* Exim's config when it sets -c */
	int		 problems;
};

/* Prints one finding, "ok: ..." or "problem: ..." (ok 0), on stdout. */
void	doctor_say(struct doc *, int ok, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* The Exim configuration, when there is one: the stanza included and
 * the program it runs (put in bin). */
void	doctor_exim(struct doc *);

#endif
