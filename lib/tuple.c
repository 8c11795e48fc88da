/* Envelope addresses and the triplet: validation, normalisation, and the
 * collapsing of per-message sender variants (BATV, SRS, VERP). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tuple.h"

#define TUPLE_STR(x)	#x
#define TUPLE_XSTR(x)	TUPLE_STR(x)

enum tuple_error {
	TE_OK,
	TE_LONG,
	TE_CONTROL,
	TE_UTF8,
	TE_EMPTY,
	TE_MISSING,
	TE_N
};

static const char *const tuple_why[TE_N] = {
	"", "longer than " TUPLE_XSTR(ADDR_MAX) " bytes", "control character",
	"invalid UTF-8", "empty", "missing"
};

/* The code of each in a struct err. */
static const enum err_code tuple_code[TE_N] = {
	ERR_FAIL, ERR_TOOLONG, ERR_CONTROL, ERR_UTF8, ERR_EMPTY, ERR_MISSING
};

/* The fields as check's options name them. */
static const char *const tuple_opts[TUPLE_F_N] = { "--ip", "--sender",
	"--rcpt" };

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t
tuple_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* TE_OK when s[0..n) is printable ASCII and valid UTF-8 only. */
static enum tuple_error
tuple_check(const unsigned char *s, size_t n)
{
	size_t	 i, len;

	for (i = 0; i < n; i += len) {
		len = 1;
		if (s[i] < 0x20 || s[i] == 0x7f)
			return TE_CONTROL;
		if (s[i] >= 0x80 && (len = tuple_utf8_len(s + i, n - i)) == 0)
			return TE_UTF8;
	}
	return TE_OK;
}

/* Narrows s[*start..*end) past surrounding spaces and tabs. */
static void
tuple_trim(const char *s, size_t *start, size_t *end)
{
	while (*start < *end && (s[*start] == ' ' || s[*start] == '\t'))
		(*start)++;
	while (*end > *start && (s[*end - 1] == ' ' || s[*end - 1] == '\t'))
		(*end)--;
}

/* Removes +detail: the local part from its first '+' up to the '@'. */
static void
tuple_strip_detail(char *addr)
{
	char	*at, *plus;

	if ((at = strrchr(addr, '@')) == NULL)
		at = addr + strlen(addr);
	if ((plus = memchr(addr, '+', at - addr)) != NULL)
		memmove(plus, at, strlen(at) + 1);
}

static enum tuple_error
tuple_normalize(const char *in, int which, int verp, char *out)
{
	size_t		 start = 0, end, i;
	enum tuple_error err;

	if (in == NULL)
		return TE_MISSING;
	if ((end = strnlen(in, ADDR_MAX + 1)) > ADDR_MAX)
		return TE_LONG;
	tuple_trim(in, &start, &end);
	if ((err = tuple_check((const unsigned char *)in + start,
	    end - start)) != TE_OK)
		return err;
	if (end - start >= 2 && in[start] == '<' && in[end - 1] == '>') {
		start++;
		end--;
		tuple_trim(in, &start, &end);
	}
	for (i = 0; start + i < end; i++) {
		out[i] = (char)addr_lower(in[start + i]);
	}
	out[i] = '\0';
	if (which == TUPLE_RCPT)
		tuple_strip_detail(out);
	else if (verp)
		tuple_collapse_verp(out);
	start = 0;
	end = strlen(out);
	tuple_trim(out, &start, &end);
	memmove(out, out + start, end - start);
	out[end - start] = '\0';
	if (which == TUPLE_RCPT && out[0] == '\0')
		return TE_EMPTY;
	return TE_OK;
}

/* -1 = invalid (why in *why, a static string), 0 = done. */
int
tuple_addr(const char *in, int which, int verp, char *out, const char **why)
{
	enum tuple_error err;

	out[0] = '\0';
	if ((err = tuple_normalize(in, which, verp, out)) == TE_OK)
		return 0;
	out[0] = '\0';
	if (why != NULL)
		*why = tuple_why[err];
	return -1;
}

/* Replaces s[a..b) (not empty) by one '#'; returns the bytes removed. */
static size_t
tuple_squash(char *s, size_t a, size_t b)
{
	s[a] = '#';
	memmove(s + a + 1, s + b, strlen(s + b) + 1);
	return b - a - 1;
}

/* Strips a leading BATV tag from the local part s[0..n); returns the
 * bytes removed. */
static size_t
tuple_strip_batv(char *s, size_t n)
{
	static const char *const tags[][2] = {
		{ "prvs=", "=" }, { "msprvs1=", "=" }, { "btv1==", "==" }
	};
	const char	*end;
	size_t		 i, plen, skip;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		plen = strlen(tags[i][0]);
		if (n <= plen || strncmp(s, tags[i][0], plen) != 0)
			continue;
		if ((end = strstr(s + plen, tags[i][1])) == NULL ||
		    end == s + plen)
			continue;
		skip = end - s + strlen(tags[i][1]);
		if (skip >= n)
			continue;
		memmove(s, s + skip, strlen(s + skip) + 1);
		return skip;
	}
	return 0;
}

/* Finds the SRS hash and time fields in the local part s[0..n) and puts
 * their bounds in f; returns how many, 0 when s is not SRS. The shapes:
 * srs0=HASH=TT=domain=local and srs1=HASH=fwd==HASH=TT=domain=local, the
 * separator after srs0/srs1 (and before the inner hash) '=', '+' or '-'. */
static size_t
tuple_srs_fields(const char *s, size_t n, size_t f[3][2])
{
	const char	*shape, *eq;
	size_t		 p = 5, nf = 0;

	if (n <= 5 || strncmp(s, "srs", 3) != 0 ||
	    (s[4] != '=' && s[4] != '+' && s[4] != '-'))
		return 0;
	if (s[3] == '0')
		shape = "HT";
	else if (s[3] == '1')
		shape = "HF-HT";
	else
		return 0;
	for (; *shape != '\0'; shape++) {
		if (*shape == '-') {
			if (p >= n || (s[p] != '=' && s[p] != '+' && s[p] != '-'))
				return 0;
			p++;
			continue;
		}
		if ((eq = memchr(s + p, '=', n - p)) == NULL || eq == s + p)
			return 0;
		if (*shape != 'F') {
			f[nf][0] = p;
			f[nf++][1] = eq - s;
		}
		p = eq - s + 1;
	}
	if (memchr(s + p, '=', n - p) == NULL)
		return 0;
	return nf;
}

static int
tuple_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* Collapses, in s[0..n), hex runs of 8 or more characters that hold a
 * digit, then the remaining digit runs, each to one '#', in place. */
static void
tuple_collapse_runs(char *s, size_t n)
{
	size_t	 r = 0, w = 0, e;
	int	 digit;

	while (r < n) {
		for (e = r, digit = 0; e < n && (tuple_isdigit(s[e]) ||
		    (s[e] >= 'a' && s[e] <= 'f')); e++)
			digit |= tuple_isdigit(s[e]);
		if (e == r) {
			s[w++] = s[r++];
			continue;
		}
		if (e - r >= 8 && digit) {
			s[w++] = '#';
			r = e;
			continue;
		}
		while (r < e) {
			if (!tuple_isdigit(s[r])) {
				s[w++] = s[r++];
				continue;
			}
			while (r < e && tuple_isdigit(s[r]))
				r++;
			s[w++] = '#';
		}
	}
	memmove(s + w, s + n, strlen(s + n) + 1);
}

/* Every step only shortens the address, so in place is safe. */
void
tuple_collapse_verp(char *addr)
{
	size_t	 f[3][2], nf, n, from = 0;
	char	*at;

	n = (at = strrchr(addr, '@')) != NULL ? (size_t)(at - addr) :
	    strlen(addr);
	n -= tuple_strip_batv(addr, n);
	if ((nf = tuple_srs_fields(addr, n, f)) > 0) {
		while (nf-- > 0)
			n -= tuple_squash(addr, f[nf][0], f[nf][1]);
		from = 5;
	}
	tuple_collapse_runs(addr + from, n - from);
}

/* The part after the last '@', or "" when there is none. */
const char *
tuple_domain(const char *addr)
{
	const char	*at;

	return (at = strrchr(addr, '@')) != NULL ? at + 1 : "";
}

void
tuple_local(const char *addr, char *out, size_t outlen)
{
	const char	*at;
	size_t		 n;

	if (outlen == 0)
		return;
	n = (at = strrchr(addr, '@')) != NULL ? (size_t)(at - addr) :
	    strlen(addr);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, addr, n);
	out[n] = '\0';
}

void
tuple_explain(const struct err *e, const char *const names[TUPLE_F_N],
    char *buf, size_t len)
{
	const char *name = e->field >= 0 && e->field < TUPLE_F_N ?
	    names[e->field] : "?";
	size_t i;

	for (i = 1; i < TE_N && tuple_code[i] != e->code; i++)
		;
	if (e->code == ERR_MISSING || e->code == ERR_MALFORMED)
		snprintf(buf, len, "%s %s", e->code == ERR_MISSING ?
		    "missing" : "malformed", name);
	else
		snprintf(buf, len, "%s: %s", name, i < TE_N ? tuple_why[i] :
		    "invalid");
}

int
tuple_parse(struct tuple *t, const char *ip, const char *sender,
    const char *rcpt, int v4len, int v6len, int verp, struct err *e)
{
	enum tuple_error err = TE_OK;
	int code = 0, field = TUPLE_F_IP;

	memset(t, 0, sizeof(*t));
	if (ip == NULL)
		code = ERR_MISSING;
	else if (addr_parse(ip, &t->addr) == -1 ||
	    addr_network(ip, v4len, v6len, t->net, sizeof(t->net)) == -1)
		code = ERR_MALFORMED;
	else if ((err = tuple_normalize(sender, TUPLE_SENDER, verp,
	    t->sender)) != TE_OK)
		field = TUPLE_F_SENDER;
	else if ((err = tuple_normalize(rcpt, TUPLE_RCPT, 0,
	    t->rcpt)) != TE_OK)
		field = TUPLE_F_RCPT;
	if (err != TE_OK)
		code = (int)tuple_code[err];
	if (code != 0) {
		memset(t, 0, sizeof(*t));
		t->sender_domain = t->sender;
		if (e != NULL) {
			err_field(e, (enum err_code)code, field, "%s", "");
			tuple_explain(e, tuple_opts, e->msg, sizeof(e->msg));
		}
		return -1;
	}
	t->sender_domain = strchr(t->sender, '@') != NULL ?
	    tuple_domain(t->sender) : t->sender + strlen(t->sender);
	memcpy(t->client, t->net, sizeof(t->net));
	return 0;
}

int
tuple_make(struct tuple *t, const char *ip, const char *sender,
    const char *rcpt, int v4len, int v6len, int verp, const char **why)
{
	static struct err e;

	if (tuple_parse(t, ip, sender, rcpt, v4len, v6len, verp, &e) == 0)
		return 0;
	if (why != NULL)
		*why = e.msg;
	return -1;
}

int
tuple_exempt(const char *in, char *out, const char **why)
{
	const char *at, *twhy;
	size_t i;

	*why = "not an address or @domain";
	if (in[0] == '@') {
		if (in[1] == '\0' || strlen(in) > ADDR_MAX)
			return -1;
		for (i = 0; in[i] != '\0'; i++) {
			if (in[i] < 33 || in[i] > 126 || (i > 0 && in[i] == '@'))
				return -1;
			out[i] = (char)addr_lower(in[i]);
		}
		out[i] = '\0';
		return 0;
	}
	if (tuple_addr(in, TUPLE_SENDER, 0, out, &twhy) == -1 ||
	    (at = strrchr(out, '@')) == NULL || at[1] == '\0')
		return -1;
	if (out[0] == '@') {
		char copy[ADDR_MAX + 2];

		memcpy(copy, out, strlen(out) + 1);
		return tuple_exempt(copy, out, why);
	}
	return 0;
}
