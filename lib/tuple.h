/* Envelope addresses and the triplet: normalisation and validation. */
#ifndef GREYLIST_TUPLE_H
#define GREYLIST_TUPLE_H

#include <stddef.h>

#include "addr.h"
#include "defaults.h"
#include "err.h"

/* Bytes of a client identity with its NUL: a network, or "spf:" or "ptr:"
 * and a DNS name of up to 253 bytes. */
#define CLIENT_MAX	(4 + 253 + 1)

/* A normalised triplet; every string is NUL-terminated and holds no
 * control characters and no NUL. */
struct tuple {
	struct ipaddr addr;		/* client address, unmasked */
	char	net[ADDR_NET_MAX];	/* client network, "192.0.2.0/24" */
	char	client[CLIENT_MAX];	/* client identity: net,
					   "spf:example.org" or
					   "ptr:example.org" (ident.h) */
	char	sender[ADDR_MAX + 1];	/* "" for the null sender */
	char	rcpt[ADDR_MAX + 1];
	const char *sender_domain;	/* points into sender: after '@', or "" */
};

#define TUPLE_SENDER	0
#define TUPLE_RCPT	1

/* Normalises one envelope address into out (ADDR_MAX + 1 bytes):
 * surrounding whitespace and one pair of <> removed, the whole address
 * lower-cased (ASCII only; UTF-8 bytes are kept), for TUPLE_RCPT the
 * +detail of the local part removed, for TUPLE_SENDER with verp set the
 * BATV/SRS/VERP variations collapsed. Accepts printable ASCII and valid
 * UTF-8 only; rejects control characters, invalid UTF-8 and anything
 * longer than ADDR_MAX bytes (before or after normalisation). An empty
 * sender is valid (the null sender); an empty recipient is not.
 * -1 = invalid (why in *why, a static string), 0 = done. */
int	tuple_addr(const char *in, int which, int verp, char *out,
	    const char **why);

/* Collapses BATV (prvs=, msprvs1=, btv1==), SRS0/SRS1 hash and time
 * fields, and VERP-style digit and long hex runs in the local part of an
 * already lower-cased address, in place. */
void	tuple_collapse_verp(char *addr);

/* The part after the last '@', or "" when there is none. */
const char *tuple_domain(const char *addr);

/* The local part of addr copied into out (outlen bytes, truncated). */
void	tuple_local(const char *addr, char *out, size_t outlen);

/* Normalises an exemption into out (ADDR_MAX + 2 bytes): "user@domain"
 * as a sender without VERP collapse, or "@domain" lower-cased (printable
 * ASCII). -1 = invalid (why set), 0 = done. */
int	tuple_exempt(const char *in, char *out, const char **why);

/* The fields of a triplet, for an error about one (struct err's field). */
enum { TUPLE_F_IP, TUPLE_F_SENDER, TUPLE_F_RCPT, TUPLE_F_N };

/* Fills t from raw MTA values, the client identity being the network
 * (ident_apply may widen it). -1 = invalid (in e: code ERR_MISSING to
 * ERR_EMPTY, field TUPLE_F_*, the message in check's words: "malformed
 * --ip"), 0 = done. */
int	tuple_parse(struct tuple *t, const char *ip, const char *sender,
	    const char *rcpt, int v4len, int v6len, int verp, struct err *e);

/* tuple_parse with the message in *why (static, valid until the next
 * call). -1 = invalid, 0 = done. */
int	tuple_make(struct tuple *t, const char *ip, const char *sender,
	    const char *rcpt, int v4len, int v6len, int verp, const char **why);

/* Words the error of tuple_parse into buf, the fields named
 * names[TUPLE_F_*] ("client_address" instead of "--ip", say). */
void	tuple_explain(const struct err *e, const char *const names[TUPLE_F_N],
	    char *buf, size_t len);

#endif
