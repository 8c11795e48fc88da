/* Selectors shared by list and delete: --state, --ip, --sender, --rcpt,
 * --domain, --client, matched against stored entries. */
#ifndef GREYLIST_FILTER_H
#define GREYLIST_FILTER_H

#include "cmd.h"
#include "entry.h"

struct filter {
	const char *state;
	int	 has_ip;
	struct ipaddr ip;
	char	 sender[ADDR_MAX + 1];	/* normalised; "" = any */
	int	 has_sender;
	char	 rcpt[ADDR_MAX + 1];
	char	 domain[ADDR_MAX + 1];	/* lower-cased */
	char	 client[CLIENT_MAX];	/* client identity, lower-cased;
					   "" = any */
	int	 n;			/* selectors given */
	int	 csv;			/* --csv, where allowed */
	int	 verp;			/* normalise --sender as check does */
};

/* Parses the command's options into f; csv allows --csv.
 * EXIT_ERROR = bad arguments (printed), 0 = parsed. */
int	filter_parse(struct ctx *x, int argc, char **argv, int csv,
	    struct filter *f);

/* 1 = en (a triplet, tuplet, exempt or no_delay entry) matches every
 * selector of f, 0 = not. */
int	filter_match(const struct filter *f, const struct entry *en);

#endif
