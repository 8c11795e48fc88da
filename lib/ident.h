/* The client identity of a triplet: the sender domain SPF authenticated,
 * the registrable domain of the client's verified host name, or its
 * network. See client_identity in greylist.conf(5). */
#ifndef GREYLIST_IDENT_H
#define GREYLIST_IDENT_H

#include "tuple.h"

#define IDENT_END	0	/* ends an order */
#define IDENT_SPF	1	/* "spf:DOMAIN" */
#define IDENT_PTR	2	/* "ptr:DOMAIN" */
#define IDENT_NET	3	/* the network, "192.0.2.0/24" */
#define IDENT_ORDER_MAX	3	/* identities in an order at most */

#define IDENT_NAME_MAX	253	/* bytes; longest DNS name */

/* Sets t->client (tuple_make left it at the network) to
 * the first identity of order (IDENT_* values, IDENT_END last) that
 * applies: IDENT_SPF when spf is "pass" (any case) and the sender is not
 * null (its domain), or when the sender is null (the registrable domain of
 * helo); IDENT_PTR when host is a verified, well-formed, non-generic name
 * with a registrable domain; IDENT_NET always. spf, helo and host may be
 * NULL or empty. Returns the identity chosen. */
int	ident_apply(struct tuple *t, const unsigned char *order,
	    const char *spf, const char *helo, const char *host);

/* 1 = name (lower-case, no trailing dot) looks like a residential or
 * dynamic host of address a: it holds two adjacent parts of a in decimal
 * or hex, or one of the generic tokens; 0 = it does not. */
int	ident_generic(const char *name, const struct ipaddr *a);

/* The registrable domain of host into out (IDENT_NAME_MAX + 1 bytes),
 * lower-cased, without a trailing dot. -1 = not a host name, or a public
 * suffix with nothing registrable, 0 = done. */
int	ident_domain(const char *host, char *out);

/* 1 = client is "spf:" or "ptr:" and a lower-case DNS name without a
 * trailing dot, as ident_apply writes them; 0 = not. */
int	ident_named(const char *client);

/* The kind of a stored client identity: IDENT_SPF, IDENT_PTR or
 * IDENT_NET. */
int	ident_kind(const char *client);

#endif
