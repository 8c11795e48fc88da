/* Stored records: keys and fixed-width big-endian values. Every value
 * starts with a version byte and a kind byte; record_decode() is the one
 * place that reads them. */
#include <string.h>

#include "record.h"

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
	switch (kind) {
	case REC_TRIPLET:
		return 4 + 3 * 8 + 2 * 4;
	case REC_TUPLET:
		return 4 + 2 * 8 + 4;
	case REC_COUNTERS:
		return 4 + CNT_N * 8;
	case REC_META:
		return 4 + 4;
	}
	return 0;
}

size_t
record_encode(const struct record *r, uint8_t *buf)
{
	uint8_t *p = buf;
	int i;

	*p++ = REC_VERSION;
	*p++ = (uint8_t)r->kind;
	*p++ = (uint8_t)(r->flags >> 8);
	*p++ = (uint8_t)r->flags;
	switch (r->kind) {
	case REC_TRIPLET:
		p = put64(p, (uint64_t)r->first);
		p = put64(p, (uint64_t)r->last);
		p = put64(p, (uint64_t)r->passed);
		p = put32(p, r->blocked);
		p = put32(p, r->passes);
		break;
	case REC_TUPLET:
		p = put64(p, (uint64_t)r->first);
		p = put64(p, (uint64_t)r->last);
		p = put32(p, r->passes);
		break;
	case REC_COUNTERS:
		for (i = 0; i < CNT_N; i++)
			p = put64(p, r->count[i]);
		break;
	case REC_META:
		p = put32(p, r->format);
		break;
	}
	return (size_t)(p - buf);
}

/* -1 = corrupt or unknown version, 0 = decoded into *r. */
int
record_decode(const void *buf, size_t len, struct record *r)
{
	const uint8_t *p = buf;
	uint64_t v[3];
	int i;

	memset(r, 0, sizeof(*r));
	if (len < 4 || p[0] != REC_VERSION || record_len(p[1]) != len)
		return -1;
	r->kind = p[1];
	r->flags = (uint16_t)(p[2] << 8 | p[3]);
	p += 4;
	switch (r->kind) {
	case REC_TRIPLET:
	case REC_TUPLET:
		p = get64(p, &v[0]);
		p = get64(p, &v[1]);
		if (r->kind == REC_TRIPLET) {
			p = get64(p, &v[2]);
			r->passed = (int64_t)v[2];
			p = get32(p, &r->blocked);
		}
		get32(p, &r->passes);
		r->first = (int64_t)v[0];
		r->last = (int64_t)v[1];
		if (r->first < 0 || r->last < 0 || r->passed < 0)
			return -1;
		break;
	case REC_COUNTERS:
		for (i = 0; i < CNT_N; i++)
			p = get64(p, &r->count[i]);
		break;
	case REC_META:
		get32(p, &r->format);
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
record_key_triplet(const struct tuple *t, uint8_t *key)
{
	size_t n = 0;

	key[n++] = REC_TRIPLET;
	n += putstr(key + n, t->rcpt, 1);
	n += putstr(key + n, t->net, 1);
	n += putstr(key + n, t->sender, 0);
	return n;
}

size_t
record_key_tuplet(const char *net, const char *domain, uint8_t *key)
{
	size_t n = 0;

	key[n++] = REC_TUPLET;
	n += putstr(key + n, net, 1);
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
