/* Client IP addresses: parsing, masking to a network, and matching against
 * the no_delay list (CIDRs, single addresses, ASSP-style dotted prefixes). */
#ifndef GREYLIST_ADDR_H
#define GREYLIST_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* Long enough for "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128". */
#define ADDR_NET_MAX	48

/* An IPv4 address is kept as family 4 with its four bytes in b[0..3];
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is turned into family 4. */
struct ipaddr {
	int	family;		/* 4 or 6 */
	uint8_t	b[16];
};

struct cidr {
	struct ipaddr	addr;	/* already masked to len */
	int		len;	/* prefix length in bits */
};

/* -1 = not an IP address, 0 = parsed into *a. Accepts dotted-quad IPv4,
 * any inet_pton() IPv6 form, and one pair of surrounding brackets. */
int	addr_parse(const char *s, struct ipaddr *a);

/* Zeroes the bits of a beyond len (clamped to the family's width). */
void	addr_mask(struct ipaddr *a, int len);

/* Writes "a.b.c.d/len" or the compressed IPv6 form "x:y::/len" into out
 * (ADDR_NET_MAX bytes at least). */
void	addr_format_net(const struct ipaddr *a, int len, char *out, size_t outlen);

/* The client network of ip for the given prefix lengths, as text.
 * -1 = not an IP address, 0 = done. */
int	addr_network(const char *ip, int v4len, int v6len, char *out, size_t outlen);

/* Parses "192.0.2.0/24", "2001:db8::/32", a single address, or a dotted
 * prefix such as "192.168." or "10." (whole octets only).
 * -1 = not a network, 0 = parsed. */
int	addr_parse_cidr(const char *s, struct cidr *c);

/* 1 = a lies within c, 0 = it does not (different family included). */
int	addr_in_cidr(const struct ipaddr *a, const struct cidr *c);

/* c in lower case: ASCII letters only, whatever the locale; DNS names
 * and addresses are compared so. */
int	addr_lower(int c);

#endif
