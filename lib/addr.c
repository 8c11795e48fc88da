/* Client IP addresses: parsing, masking to a network, and no_delay
 * matching against CIDRs and ASSP-style dotted prefixes. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"

/* Longest text considered: a bracketed IPv6 address with a prefix fits. */
#define ADDR_TEXT_MAX	64

static const uint8_t addr_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int
addr_width(int family)
{
	return family == 4 ? 32 : 128;
}

static int
addr_clamp(int family, int len)
{
	if (len < 0)
		return 0;
	if (len > addr_width(family))
		return addr_width(family);
	return len;
}

/* -1 = not an IP address, 0 = parsed into *a. */
int
addr_parse(const char *s, struct ipaddr *a)
{
	char	 buf[ADDR_TEXT_MAX + 1];
	char	*p = buf;
	size_t	 len;

	memset(a, 0, sizeof(*a));
	len = strnlen(s, ADDR_TEXT_MAX + 1);
	if (len == 0 || len > ADDR_TEXT_MAX)
		return -1;
	memcpy(buf, s, len + 1);
	if (buf[0] == '[') {
		if (len < 3 || buf[len - 1] != ']')
			return -1;
		buf[len - 1] = '\0';
		p++;
	}
	if (strchr(p, ':') == NULL) {
		if (inet_pton(AF_INET, p, a->b) != 1)
			return -1;
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, p, a->b) != 1)
		return -1;
	a->family = 6;
	if (memcmp(a->b, addr_v4mapped, sizeof(addr_v4mapped)) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = 4;
	}
	return 0;
}

void
addr_mask(struct ipaddr *a, int len)
{
	int	 i, width = addr_width(a->family);

	len = addr_clamp(a->family, len);
	for (i = 0; i < width / 8; i++) {
		if (len >= 8)
			len -= 8;
		else {
			a->b[i] &= (uint8_t)(0xff00 >> len);
			len = 0;
		}
	}
}

void
addr_format_net(const struct ipaddr *a, int len, char *out, size_t outlen)
{
	char	 text[INET6_ADDRSTRLEN];

	if (outlen == 0)
		return;
	if (a->family == 4) {
		snprintf(out, outlen, "%u.%u.%u.%u/%d", a->b[0], a->b[1],
		    a->b[2], a->b[3], len);
		return;
	}
	if (inet_ntop(AF_INET6, a->b, text, sizeof(text)) == NULL)
		text[0] = '\0';
	snprintf(out, outlen, "%s/%d", text, len);
}

/* -1 = not an IP address, 0 = done. */
int
addr_network(const char *ip, int v4len, int v6len, char *out, size_t outlen)
{
	struct ipaddr	 a;
	int		 len;

	if (addr_parse(ip, &a) == -1)
		return -1;
	len = addr_clamp(a.family, a.family == 4 ? v4len : v6len);
	addr_mask(&a, len);
	addr_format_net(&a, len, out, outlen);
	return 0;
}

/* An ASSP-style prefix: one to three whole octets, "10." or "192.168.1".
 * A lone number needs its dot, so "10" is not taken for 10.0.0.0/8.
 * -1 = not a prefix, 0 = parsed. */
static int
addr_parse_dotted(const char *s, struct cidr *c)
{
	int	 octets = 0, digits, v;

	memset(c, 0, sizeof(*c));
	c->addr.family = 4;
	while (*s != '\0') {
		if (octets == 3)
			return -1;
		for (v = 0, digits = 0; *s >= '0' && *s <= '9'; s++) {
			if (++digits > 3 || (digits > 1 && v == 0))
				return -1;
			v = v * 10 + (*s - '0');
		}
		if (digits == 0 || v > 255)
			return -1;
		c->addr.b[octets++] = (uint8_t)v;
		if (*s == '.')
			s++;
		else if (*s != '\0' || octets == 1)
			return -1;
	}
	if (octets == 0)
		return -1;
	c->len = octets * 8;
	return 0;
}

/* -1 = not a prefix length for the family, 0 = parsed into *len. */
static int
addr_parse_len(const char *s, int family, int *len)
{
	int	 digits, v;

	for (v = 0, digits = 0; *s >= '0' && *s <= '9'; s++) {
		if (++digits > 3)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0 || *s != '\0' || v > addr_width(family))
		return -1;
	*len = v;
	return 0;
}

/* -1 = not a network, 0 = parsed. */
int
addr_parse_cidr(const char *s, struct cidr *c)
{
	char	 buf[ADDR_TEXT_MAX + 1];
	char	*slash;
	size_t	 len;
	int	 mapped, family;

	len = strnlen(s, ADDR_TEXT_MAX + 1);
	if (len == 0 || len > ADDR_TEXT_MAX)
		return -1;
	memcpy(buf, s, len + 1);
	memset(c, 0, sizeof(*c));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (addr_parse(buf, &c->addr) == -1)
		return slash == NULL ? addr_parse_dotted(buf, c) : -1;
	c->len = addr_width(c->addr.family);
	if (slash == NULL)
		return 0;
	/* ::ffff:10.0.0.0/104 is 10.0.0.0/8 once the address is IPv4. */
	mapped = c->addr.family == 4 && strchr(buf, ':') != NULL;
	family = mapped ? 6 : c->addr.family;
	if (addr_parse_len(slash + 1, family, &c->len) == -1)
		return -1;
	if (mapped && (c->len -= 96) < 0)
		return -1;
	addr_mask(&c->addr, c->len);
	return 0;
}

/* 1 = a lies within c, 0 = it does not (different family included). */
int
addr_in_cidr(const struct ipaddr *a, const struct cidr *c)
{
	struct ipaddr	 x = *a, y = c->addr;

	if (a->family != c->addr.family)
		return 0;
	addr_mask(&x, c->len);
	addr_mask(&y, c->len);
	return memcmp(x.b, y.b, addr_width(a->family) / 8) == 0;
}

int
addr_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}
