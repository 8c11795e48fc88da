/* The client identity of a triplet (client_identity in greylist.conf(5)):
 * the sender domain when the MTA says SPF passed, the registrable domain
 * of the client's verified host name unless the name looks generic, else
 * the network. The registrable domain comes from libpsl's built-in copy
 * of the public suffix list, so that no file is read per check. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "ident.h"

/* Words that residential, dial-up and dynamic host names carry; a name
 * holding one of them anywhere is never a client identity. */
static const char *const ident_tokens[] = {
	"dyn", "dynamic", "dsl", "dhcp", "pool", "ppp", "cable", "dialup",
	"broadband", "client", "cust", "static", "ip-", "host-"
};

#define IDENT_NUMS	128	/* numbers of a name kept: all of them */

/* The numbers of a name, in order; joined = only punctuation (or
 * nothing, inside one run) between a number and the one before. */
struct ident_nums {
	unsigned v[IDENT_NUMS];
	int	 joined[IDENT_NUMS];
	size_t	 n;
};

/* Copies a host name into out (IDENT_NAME_MAX + 1 bytes), lower-cased and
 * without one trailing dot. -1 = not a DNS host name (letters, digits,
 * '-' and '_' in non-empty labels), 0 = done. */
static int
ident_name(const char *in, char *out)
{
	size_t n, i;

	if (in == NULL || (n = strnlen(in, IDENT_NAME_MAX + 2)) == 0)
		return -1;
	if (in[n - 1] == '.')
		n--;
	if (n == 0 || n > IDENT_NAME_MAX || in[0] == '.')
		return -1;
	for (i = 0; i < n; i++) {
		out[i] = in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' :
		    in[i];
		if (out[i] == '.' && in[i + 1] == '.')
			return -1;
		if (strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.",
		    out[i]) == NULL)
			return -1;
	}
	out[n] = '\0';
	return 0;
}

/* -1 = not a host name or nothing registrable, 0 = done. */
int
ident_domain(const char *host, char *out)
{
	char name[IDENT_NAME_MAX + 1];
	const char *reg;

	if (ident_name(host, name) == -1 ||
	    (reg = psl_registrable_domain(psl_builtin(), name)) == NULL)
		return -1;
	memmove(out, reg, strlen(reg) + 1);
	return 0;
}

static int
ident_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Adds the run s[0..len) of digits in base (10 or 16) to nums: cut into
 * width-digit numbers when len is a multiple of width (decimal octets as
 * 3 digits, hex octets as 2, hex groups as 4), as one number when
 * len <= maxone; joined says whether only punctuation precedes it. A run
 * of any other length breaks the chain. */
static void
ident_run(struct ident_nums *nums, const char *s, size_t len, int base,
    size_t width, size_t maxone, int joined)
{
	size_t i, j, w;
	unsigned v;

	if (len <= maxone)
		w = len;
	else if (len % width == 0)
		w = width;
	else
		w = 0;
	for (i = 0; w != 0 && i < len && nums->n < IDENT_NUMS; i += w) {
		for (v = 0, j = i; j < i + w; j++)
			v = v * (unsigned)base + (unsigned)ident_hexval(s[j]);
		nums->v[nums->n] = v;
		nums->joined[nums->n++] = i > 0 || joined;
	}
	if (w == 0 && nums->n < IDENT_NUMS) {
		nums->v[nums->n] = ~0u;
		nums->joined[nums->n++] = 0;
	}
}

/* Splits name into the numbers of its runs of digits (base 10) or hex
 * digits (base 16). */
static void
ident_numbers(const char *name, int base, size_t width, size_t maxone,
    struct ident_nums *nums)
{
	const char *p = name, *q;
	int joined = 0;

	nums->n = 0;
	while (*p != '\0') {
		for (q = p; *q != '\0' && ident_hexval(*q) >= 0 &&
		    (base == 16 || ident_hexval(*q) < 10); q++)
			;
		if (q > p) {
			ident_run(nums, p, (size_t)(q - p), base, width,
			    maxone, joined);
			p = q;
			joined = 1;
			continue;
		}
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			joined = 0;
		p++;
	}
}

/* 1 = two joined numbers of nums equal two adjacent parts of part[0..n)
 * (either order when both = 1), 0 = not. */
static int
ident_pairs(const struct ident_nums *nums, const unsigned *part, size_t n,
    int both)
{
	size_t i, j;

	for (i = 1; i < nums->n; i++) {
		if (!nums->joined[i])
			continue;
		for (j = 0; j + 1 < n; j++)
			if ((nums->v[i - 1] == part[j] &&
			    nums->v[i] == part[j + 1]) || (both &&
			    nums->v[i - 1] == part[j + 1] &&
			    nums->v[i] == part[j]))
				return 1;
	}
	return 0;
}

/* 1 = name holds two adjacent octets (IPv4: decimal or hex, either order)
 * or groups (IPv6: hex) of a, 0 = not. */
static int
ident_has_addr(const char *name, const struct ipaddr *a)
{
	struct ident_nums nums;
	unsigned part[8];
	size_t i;

	if (a->family == 4) {
		for (i = 0; i < 4; i++)
			part[i] = a->b[i];
		ident_numbers(name, 10, 3, 3, &nums);
		if (ident_pairs(&nums, part, 4, 1))
			return 1;
		ident_numbers(name, 16, 2, 0, &nums);
		return ident_pairs(&nums, part, 4, 1);
	}
	for (i = 0; i < 8; i++)
		part[i] = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];
	ident_numbers(name, 16, 4, 4, &nums);
	return ident_pairs(&nums, part, 8, 0);
}

int
ident_generic(const char *name, const struct ipaddr *a)
{
	size_t i;

	for (i = 0; i < sizeof(ident_tokens) / sizeof(ident_tokens[0]); i++)
		if (strstr(name, ident_tokens[i]) != NULL)
			return 1;
	return ident_has_addr(name, a);
}

/* The SPF identity's domain into dom. -1 = none, 0 = done. */
static int
ident_spf(const struct tuple *t, const char *spf, const char *helo,
    char *dom)
{
	if (spf == NULL || strcasecmp(spf, "pass") != 0)
		return -1;
	if (t->sender[0] == '\0')
		return ident_domain(helo, dom);
	return ident_name(t->sender_domain, dom);
}

/* The ptr identity's domain into dom. -1 = none, 0 = done. */
static int
ident_ptr(const struct tuple *t, const char *host, char *dom)
{
	char name[IDENT_NAME_MAX + 1];

	if (ident_name(host, name) == -1 || strcmp(name, "unknown") == 0 ||
	    ident_generic(name, &t->addr))
		return -1;
	return ident_domain(name, dom);
}

int
ident_apply(struct tuple *t, const unsigned char *order, const char *spf,
    const char *helo, const char *host)
{
	char dom[IDENT_NAME_MAX + 1];
	size_t i;

	for (i = 0; i < IDENT_ORDER_MAX && order[i] != IDENT_END; i++) {
		if (order[i] == IDENT_NET)
			break;
		if ((order[i] == IDENT_SPF ? ident_spf(t, spf, helo, dom) :
		    ident_ptr(t, host, dom)) == 0) {
			snprintf(t->client, sizeof(t->client), "%s:%s",
			    order[i] == IDENT_SPF ? "spf" : "ptr", dom);
			return order[i];
		}
	}
	memcpy(t->client, t->net, sizeof(t->net));
	return IDENT_NET;
}

int
ident_named(const char *client)
{
	char name[IDENT_NAME_MAX + 1];

	return ident_kind(client) != IDENT_NET &&
	    ident_name(client + 4, name) == 0 && strcmp(name, client + 4) == 0;
}

int
ident_kind(const char *client)
{
	if (strncmp(client, "spf:", 4) == 0)
		return IDENT_SPF;
	if (strncmp(client, "ptr:", 4) == 0)
		return IDENT_PTR;
	return IDENT_NET;
}
