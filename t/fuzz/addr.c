/* Fuzz target: client addresses and envelope addresses. The input is
 * cut at NUL bytes into an IP or network, a sender and a recipient; two
 * leading bytes give the prefix lengths and VERP collapsing. Besides
 * memory errors it checks that what the parsers accept is what the
 * rest of greylist expects: networks read back as written (import
 * insists on it), and normalised addresses and exemptions are fixed
 * points of import's checks, so that export and import round-trip. */
#include <string.h>

#include "addr.h"
#include "defaults.h"
#include "fuzz.h"
#include "ident.h"
#include "tuple.h"

/* A network as addr_format_net writes it reads back the same. */
static void
fz_net_canonical(const char *net)
{
	char again[ADDR_NET_MAX];
	struct cidr c;

	FZ_ASSERT(strlen(net) < ADDR_NET_MAX);
	FZ_ASSERT(strchr(net, '/') != NULL);
	FZ_ASSERT(addr_parse_cidr(net, &c) == 0);
	addr_format_net(&c.addr, c.len, again, sizeof(again));
	FZ_ASSERT(strcmp(again, net) == 0);
}

static void
fz_ip(const char *s, int v4len, int v6len)
{
	char net[ADDR_NET_MAX], again[ADDR_NET_MAX];
	struct ipaddr a;
	struct cidr c, c2;

	if (addr_parse(s, &a) == 0) {
		FZ_ASSERT(a.family == 4 || a.family == 6);
		FZ_ASSERT(addr_network(s, v4len, v6len, net,
		    sizeof(net)) == 0);
		fz_net_canonical(net);
		FZ_ASSERT(addr_parse_cidr(net, &c) == 0);
		FZ_ASSERT(addr_in_cidr(&a, &c) == 1);
	} else
		FZ_ASSERT(addr_network(s, v4len, v6len, net,
		    sizeof(net)) == -1);
	if (addr_parse_cidr(s, &c) == 0) {
		FZ_ASSERT(c.addr.family == 4 || c.addr.family == 6);
		FZ_ASSERT(c.len >= 0 &&
		    c.len <= (c.addr.family == 4 ? 32 : 128));
		FZ_ASSERT(addr_in_cidr(&c.addr, &c) == 1);
		addr_format_net(&c.addr, c.len, again, sizeof(again));
		fz_net_canonical(again);
		FZ_ASSERT(addr_parse_cidr(again, &c2) == 0);
		FZ_ASSERT(memcmp(&c, &c2, sizeof(c)) == 0);
	}
}

/* Printable ASCII or UTF-8, no control characters, as tuple.h says. */
static void
fz_clean(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;

	FZ_ASSERT(strlen(s) <= max);
	for (; *p != '\0'; p++)
		FZ_ASSERT(*p >= 0x20 && *p != 0x7f);
}

/* import_addr() of src/import.c: the stored form wrapped in <>
 * normalises to itself. */
static void
fz_addr_stable(const char *out, int which)
{
	char wrapped[ADDR_MAX + 3], again[ADDR_MAX + 1];
	const char *in = out, *why;

	if (strlen(out) + 2 <= ADDR_MAX) {
		snprintf(wrapped, sizeof(wrapped), "<%s>", out);
		in = wrapped;
	}
	FZ_ASSERT(tuple_addr(in, which, 0, again, &why) == 0);
	FZ_ASSERT(strcmp(again, out) == 0);
}

static void
fz_addr(const char *s, int verp)
{
	char out[ADDR_MAX + 1];
	const char *why = NULL;
	int which;

	for (which = TUPLE_SENDER; which <= TUPLE_RCPT; which++) {
		if (tuple_addr(s, which, verp, out, &why) == -1) {
			FZ_ASSERT(why != NULL && out[0] == '\0');
			continue;
		}
		fz_clean(out, ADDR_MAX);
		FZ_ASSERT(which == TUPLE_SENDER || out[0] != '\0');
		fz_addr_stable(out, which);
	}
}

/* import_exempt() of src/import.c: an exemption as stored is
 * accepted back as itself. */
static void
fz_exempt(const char *s)
{
	char out[ADDR_MAX + 2], wrapped[ADDR_MAX + 3], again[ADDR_MAX + 2];
	const char *in, *why = NULL;

	if (tuple_exempt(s, out, &why) == -1) {
		FZ_ASSERT(why != NULL);
		return;
	}
	fz_clean(out, ADDR_MAX + 1);
	FZ_ASSERT(strchr(out, '@') != NULL);
	in = out;
	if (out[0] != '@' && strlen(out) + 2 <= ADDR_MAX) {
		snprintf(wrapped, sizeof(wrapped), "<%s>", out);
		in = wrapped;
	}
	FZ_ASSERT(strlen(out) <= ADDR_MAX);
	FZ_ASSERT(tuple_exempt(in, again, &why) == 0);
	FZ_ASSERT(strcmp(again, out) == 0);
}

/* The client identity with the recipient field as host and HELO name:
 * the network, or a canonical spf:/ptr: name that is not generic. */
static void
fz_ident(struct tuple *t, const char *host, int spf)
{
	static const unsigned char order[] = { IDENT_SPF, IDENT_PTR,
	    IDENT_NET, IDENT_END };
	int kind;

	kind = ident_apply(t, order, spf ? "pass" : "fail", host, host);
	FZ_ASSERT(strlen(t->client) < CLIENT_MAX);
	FZ_ASSERT(ident_kind(t->client) == kind);
	if (kind == IDENT_NET) {
		FZ_ASSERT(strcmp(t->client, t->net) == 0);
		return;
	}
	FZ_ASSERT(ident_named(t->client));
	if (kind == IDENT_PTR)
		FZ_ASSERT(!ident_generic(t->client + 4, &t->addr));
}

static void
fz_make(const char *ip, const char *sender, const char *rcpt, int v4len,
    int v6len, int verp)
{
	char net[ADDR_NET_MAX];
	const char *why = NULL;
	struct tuple t;

	if (tuple_make(&t, ip, sender, rcpt, v4len, v6len, verp, &why) == -1) {
		FZ_ASSERT(why != NULL);
		return;
	}
	FZ_ASSERT(addr_network(ip, v4len, v6len, net, sizeof(net)) == 0);
	FZ_ASSERT(strcmp(net, t.net) == 0);
	fz_clean(t.sender, ADDR_MAX);
	fz_clean(t.rcpt, ADDR_MAX);
	FZ_ASSERT(t.rcpt[0] != '\0');
	FZ_ASSERT(t.sender_domain >= t.sender &&
	    t.sender_domain <= t.sender + strlen(t.sender));
	FZ_ASSERT(strchr(t.sender_domain, '@') == NULL);
	fz_ident(&t, rcpt, verp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_fields ff;
	int v4len, v6len, verp;

	if (size < 2)
		return 0;
	/* Out-of-range lengths too: the library clamps them. */
	v4len = data[0] % 40 - 2;
	v6len = (data[1] & 0x7f) + (data[1] & 0x80 ? 3 : 0) - 1;
	verp = data[0] >= 0x80;
	if (fz_split(data + 2, size - 2, &ff) == -1)
		return 0;
	fz_ip(ff.f[0], v4len, v6len);
	fz_addr(ff.f[1], verp);
	fz_addr(ff.f[2], verp);
	fz_exempt(ff.f[1]);
	fz_make(ff.f[0], ff.f[1], ff.f[2], v4len, v6len, verp);
	fz_make(ff.f[0], ff.f[1], ff.n > 2 ? ff.f[2] : NULL, v4len, v6len,
	    verp);
	fz_split_free(&ff);
	return 0;
}
