/* Stored records: keys and fixed-width big-endian values. Every value
 * starts with a version byte and a kind byte; record_decode() is the one
 * place that reads them. Layout version 2 holds times as 32-bit seconds
 * (to 2106); no other layout is read. */
#include <string.h>

#include "record.h"

/* The first byte of every key, and the kind byte of every value. */
#define REC_TRIPLET	'T'	/* key: client NUL sender NUL rcpt */
#define REC_TUPLET	'W'	/* key: client NUL sender-domain */
#define REC_COUNTERS	'C'	/* key: 'C' shard; decision counters */
#define REC_META	'V'	/* key: "V"; database format version */
#define REC_EXEMPT	'E'	/* key: 'E' sender entry ("user@dom", "@dom") */
#define REC_NODELAY	'N'	/* key: 'N' client network ("192.0.2.0/24") */
#define REC_USER	'U'	/* key: 'U' login; per-user settings */
#define REC_USERWL	'L'	/* key: 'L' login NUL entry; personal whitelist */

/* By enum entry_kind. */
static const uint8_t rec_byte[ENTRY_NKINDS] = {
	0, REC_TRIPLET, REC_TUPLET, REC_EXEMPT, REC_NODELAY, REC_USER,
	REC_USERWL, REC_COUNTERS, REC_META
};

/* The entry kind of a key's first byte; -1 = none. */
static int
rec_kind(uint8_t b)
{
	int k;

	for (k = ENTRY_NONE + 1; k < ENTRY_NKINDS; k++)
		if (rec_byte[k] == b)
			return k;
	return -1;
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--)
		*p++ = (uint8_t)(v >> (i * 8));
	return p;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	*p++ = (uint8_t)(v >> 24);
	*p++ = (uint8_t)(v >> 16);
	*p++ = (uint8_t)(v >> 8);
	*p++ = (uint8_t)v;
	return p;
}

static const uint8_t *
get64(const uint8_t *p, uint64_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 8; i++)
		*v = (*v << 8) | *p++;
	return p;
}

static const uint8_t *
get32(const uint8_t *p, uint32_t *v)
{
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return p + 4;
}

/* Encoded length of each kind, the 4-byte head included; 0 = unknown. */
static size_t
record_len(int kind)
{
	size_t tw = 4;	/* bytes per time */

	switch (rec_kind((uint8_t)kind)) {
	case ENTRY_TRIPLET:
		return 4 + 3 * tw + 2 * 4;
	case ENTRY_TUPLET:
		return 4 + 2 * tw + 4;
	case ENTRY_COUNTERS:
		return 4 + CNT_N * 8;
	case ENTRY_META:
		return 4 + 4;
	case ENTRY_EXEMPT:
	case ENTRY_NODELAY:
	case ENTRY_USERWL:
		return 4 + tw;
	case ENTRY_USER:
		return 4 + tw + 4;
	}
	return 0;
}

/* A time as written: seconds, held to 0 .. ENTRY_TIME_MAX. */
static uint8_t *
puttime(uint8_t *p, int64_t t)
{
	return put32(p, t < 0 ? 0 : t > (int64_t)ENTRY_TIME_MAX ?
	    ENTRY_TIME_MAX : (uint32_t)t);
}

static const uint8_t *
gettime(const uint8_t *p, int64_t *t)
{
	uint32_t w;

	p = get32(p, &w);
	*t = w;
	return p;
}

size_t
record_encode(const struct record *r, uint8_t *buf)
{
	uint8_t *p = buf;
	int i;

	*p++ = REC_VERSION;
	*p++ = rec_byte[r->kind];
	*p++ = (uint8_t)(r->flags >> 8);
	*p++ = (uint8_t)r->flags;
	switch (r->kind) {
	case ENTRY_TRIPLET:
		p = puttime(p, r->first);
		p = puttime(p, r->last);
		p = puttime(p, r->passed);
		p = put32(p, r->blocked);
		p = put32(p, r->passes);
		break;
	case ENTRY_TUPLET:
		p = puttime(p, r->first);
		p = puttime(p, r->last);
		p = put32(p, r->passes);
		break;
	case ENTRY_COUNTERS:
		for (i = 0; i < CNT_N; i++)
			p = put64(p, r->count[i]);
		break;
	case ENTRY_META:
		p = put32(p, r->format);
		break;
	case ENTRY_EXEMPT:
	case ENTRY_NODELAY:
	case ENTRY_USERWL:
		p = puttime(p, r->first);
		break;
	case ENTRY_USER:
		p = puttime(p, r->first);
		p = put32(p, r->passes);
		break;
	}
	return (size_t)(p - buf);
}

/* -1 = corrupt or unknown version, 0 = decoded into *r. */
int
record_decode(const void *buf, size_t len, struct record *r)
{
	const uint8_t *p = buf;
	int i;

	memset(r, 0, sizeof(*r));
	if (len < 4 || p[0] != REC_VERSION || record_len(p[1]) != len)
		return -1;
	r->kind = rec_kind(p[1]);
	r->flags = (uint16_t)(p[2] << 8 | p[3]);
	p += 4;
	switch (r->kind) {
	case ENTRY_TRIPLET:
	case ENTRY_TUPLET:
		p = gettime(p, &r->first);
		p = gettime(p, &r->last);
		if (r->kind == ENTRY_TRIPLET) {
			p = gettime(p, &r->passed);
			p = get32(p, &r->blocked);
		}
		get32(p, &r->passes);
		break;
	case ENTRY_COUNTERS:
		for (i = 0; i < CNT_N; i++)
			p = get64(p, &r->count[i]);
		break;
	case ENTRY_META:
		get32(p, &r->format);
		break;
	case ENTRY_EXEMPT:
	case ENTRY_NODELAY:
	case ENTRY_USERWL:
	case ENTRY_USER:
		p = gettime(p, &r->first);
		if (r->kind == ENTRY_USER)
			get32(p, &r->passes);
		break;
	}
	return 0;
}

static size_t
putstr(uint8_t *p, const char *s, int nul)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	if (nul)
		p[n++] = '\0';
	return n;
}

size_t
record_key_triplet_of(const char *client, const char *sender,
    const char *rcpt, uint8_t *key)
{
	size_t n = 0;

	key[n++] = REC_TRIPLET;
	n += putstr(key + n, client, 1);
	n += putstr(key + n, sender, 1);
	n += putstr(key + n, rcpt, 0);
	return n;
}

size_t
record_key_triplet(const struct tuple *t, uint8_t *key)
{
	return record_key_triplet_of(t->client, t->sender, t->rcpt, key);
}

size_t
record_key_tuplet(const char *client, const char *domain, uint8_t *key)
{
	size_t n = 0;

	key[n++] = REC_TUPLET;
	n += putstr(key + n, client, 1);
	n += putstr(key + n, domain, 0);
	return n;
}

size_t
record_key_counters(unsigned shard, uint8_t *key)
{
	key[0] = REC_COUNTERS;
	key[1] = (uint8_t)(shard % REC_NSHARDS);
	return 2;
}

size_t
record_key_meta(uint8_t *key)
{
	key[0] = REC_META;
	return 1;
}

size_t
record_key_exempt(int kind, const char *text, uint8_t *key)
{
	key[0] = rec_byte[kind];
	return 1 + putstr(key + 1, text, 0);
}

size_t
entry_key(const struct entry *en, uint8_t *key)
{
	switch (en->kind) {
	case ENTRY_TRIPLET:
		return record_key_triplet_of(en->net, en->sender, en->rcpt,
		    key);
	case ENTRY_TUPLET:
		return record_key_tuplet(en->net, en->domain, key);
	case ENTRY_EXEMPT:
	case ENTRY_NODELAY:
		return record_key_exempt(en->kind, en->text, key);
	case ENTRY_COUNTERS:
		return record_key_counters(en->shard, key);
	case ENTRY_USER:
		return record_key_user(en->login, key);
	case ENTRY_USERWL:
		return record_key_userwl(en->login, en->text, key);
	}
	return record_key_meta(key);
}

/* Copies the NUL-terminated field at *p (ending before end) into out of
 * outlen bytes and moves *p past it. -1 = too long or missing, 0 = done. */
static int
getfield(const uint8_t **p, const uint8_t *end, char *out, size_t outlen)
{
	const uint8_t *q = *p;
	size_t n;

	while (q < end && *q != '\0')
		q++;
	n = (size_t)(q - *p);
	if (n >= outlen)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = q < end ? q + 1 : q;
	return 0;
}

/* -1 = corrupt key or value, 0 = decoded. */
int
entry_decode(const void *key, size_t klen, const void *val, size_t vlen,
    struct entry *en)
{
	const uint8_t *p = key, *end = p + klen;
	uint8_t canon[KEY_MAX];

	memset(en, 0, sizeof(*en));
	if (klen == 0 || record_decode(val, vlen, &en->r) == -1 ||
	    en->r.kind != rec_kind(p[0]))
		return -1;
	en->kind = en->r.kind;
	p++;
	switch (en->kind) {
	case ENTRY_TRIPLET:
		if (getfield(&p, end, en->net, sizeof(en->net)) == -1 ||
		    getfield(&p, end, en->sender, sizeof(en->sender)) == -1 ||
		    getfield(&p, end, en->rcpt, sizeof(en->rcpt)) == -1)
			return -1;
		break;
	case ENTRY_TUPLET:
		if (getfield(&p, end, en->net, sizeof(en->net)) == -1 ||
		    getfield(&p, end, en->domain, sizeof(en->domain)) == -1)
			return -1;
		break;
	case ENTRY_EXEMPT:
	case ENTRY_NODELAY:
		if (getfield(&p, end, en->text, sizeof(en->text)) == -1)
			return -1;
		break;
	case ENTRY_USER:
		if (getfield(&p, end, en->login, sizeof(en->login)) == -1)
			return -1;
		break;
	case ENTRY_USERWL:
		if (getfield(&p, end, en->login, sizeof(en->login)) == -1 ||
		    getfield(&p, end, en->text, sizeof(en->text)) == -1)
			return -1;
		break;
	case ENTRY_COUNTERS:
		if (klen != 2)
			return -1;
		en->shard = p[0];
		p++;
		break;
	}
	if (p != end || entry_key(en, canon) != klen ||
	    memcmp(canon, key, klen) != 0)
		return -1;
	return 0;
}

size_t
record_key_user(const char *login, uint8_t *key)
{
	key[0] = REC_USER;
	return 1 + putstr(key + 1, login, 0);
}

size_t
record_key_userwl(const char *login, const char *text, uint8_t *key)
{
	size_t n = 1;

	key[0] = REC_USERWL;
	n += putstr(key + n, login, 1);
	if (text != NULL)
		n += putstr(key + n, text, 0);
	return n;
}

size_t
record_key_prefix(int kind, uint8_t *key)
{
	key[0] = rec_byte[kind];
	return 1;
}

int
record_key_kind(const void *key, size_t klen)
{
	return klen == 0 ? -1 : rec_kind(*(const uint8_t *)key);
}

size_t
record_key_triplets_of(const char *client, uint8_t *key)
{
	size_t n = 0;

	key[n++] = REC_TRIPLET;
	n += putstr(key + n, client, 1);
	return n;
}

int
record_flags(int kind)
{
	return kind == ENTRY_TRIPLET || kind == ENTRY_TUPLET ? STORE_EXPIRES :
	    STORE_INDEXED;
}

size_t
record_format_new(uint8_t *val)
{
	struct record r;

	memset(&r, 0, sizeof(r));
	r.kind = ENTRY_META;
	r.format = REC_FORMAT;
	return record_encode(&r, val);
}

int
record_format_check(const void *val, size_t vlen, uint32_t *format)
{
	struct record r;

	*format = 0;
	if (vlen < 4 || ((const uint8_t *)val)[0] > REC_VERSION)
		return 1;
	if (record_decode(val, vlen, &r) == -1 || r.kind != ENTRY_META)
		return -1;
	*format = r.format;
	return r.format > REC_FORMAT;
}
