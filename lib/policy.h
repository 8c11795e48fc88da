/* The greylisting decision: exemptions, the user's settings, then the
 * stored triplet and auto-whitelisted tuplet (greylist(8), DESCRIPTION). */
#ifndef GREYLIST_POLICY_H
#define GREYLIST_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "entry.h"
#include "store.h"
#include "tuple.h"

enum reason {
	R_NEW,		/* defer: never seen */
	R_EARLY,	/* defer: retried before the embargo ended */
	R_RESTART,	/* defer: retried after the retry window; starts over */
	R_DELAYED,	/* pass: retried within the window */
	R_KNOWN,	/* pass: triplet passed before */
	R_AWL,		/* pass: network and sender domain auto-whitelisted */
	R_NODELAY,	/* pass: client in no_delay */
	R_EXEMPT,	/* pass: sender or domain exempt */
	R_SPF,		/* pass: SPF pass with spf_bypass */
	R_OPTOUT,	/* pass: recipient opted out */
	R_USERWL	/* pass: sender on the recipient's whitelist */
};

struct decision {
	int	 pass;		/* 1 = pass, 0 = defer */
	enum reason reason;
	int64_t	 delay;		/* R_DELAYED: seconds since first seen */
	int64_t	 retry;		/* defer: seconds left in the embargo */
	char	 rule[ADDR_MAX + 2]; /* exemptions: the entry that matched */
	char	 client[CLIENT_MAX]; /* R_DELAYED, R_KNOWN, R_AWL: the
				   client identity of the entry used */
	char	 warn[ERR_MAX];	/* for syslog: a user file ignored, and why */
};

/* Exemptions that need no database: no_delay, exempt, spf_bypass.
 * spf may be NULL. 1 = decided (pass), 0 = not exempt. */
int	policy_exempt(const struct conf *c, const struct tuple *t,
	    const char *spf, struct decision *d);

/* The decision for t at time now from the stored state, in one store
 * transaction (run again on conflict); call policy_exempt first.
 * -1 = error, 0 = done. */
int	policy_check(struct store *s, const struct conf *c,
	    const struct tuple *t, int64_t now, struct decision *d,
	    struct err *e);

/* As policy_check, in a transaction that is aborted, whatever happens:
 * shows that the caller can read and write the store, leaving no trace.
 * -1 = error (in e), 0 = decided. */
int	policy_trial(struct store *s, const struct conf *c,
	    const struct tuple *t, int64_t now, struct decision *d,
	    struct err *e);

/* Counts a decision made without policy_check (an exemption).
 * -1 = error, 0 = done. */
int	policy_count(struct store *s, const struct decision *d,
	    struct err *e);

/* Marks t passed at now, creating it if missing, and whitelists its
 * tuplet, as a successful retry would. -1 = error, 0 = done. */
int	policy_force_pass(struct store *s, const struct conf *c,
	    const struct tuple *t, int64_t now, struct err *e);

/* Revokes the tuplet of t (client identity, sender domain) and the
 * passed triplets of that identity and domain, and those of t's network
 * too when that is not its identity; *n = how many entries went.
 * -1 = error, 0 = done. */
int	policy_revoke(struct store *s, const struct tuple *t, size_t *n,
	    struct err *e);

/* The line check prints: the SMTP reply on defer, the header on pass.
 * Never contains CR or LF. */
void	policy_format(const struct conf *c, const struct tuple *t,
	    const struct decision *d, char *out, size_t outlen);

/* Short name of a reason for logs and CSV: "new", "early", ... */
const char *policy_reason_name(enum reason r);

#endif
