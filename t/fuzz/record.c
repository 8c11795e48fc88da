/* Fuzz target: stored records. Raw bytes split into a key and a value go
 * through record_decode and entry_decode, as a damaged or foreign
 * database would feed them; a value of the current layout that decodes
 * must encode back to the very same bytes, and a key to the very same
 * bytes, or export, purge
 * and delete would act on another key than the one stored. The same bytes also build a record and an entry that
 * must survive encode then decode unchanged. */
#include <string.h>

#include "fuzz.h"
#include "record.h"

static const int fz_kinds[] = {
	ENTRY_TRIPLET, ENTRY_TUPLET, ENTRY_COUNTERS, ENTRY_META, ENTRY_EXEMPT,
	ENTRY_NODELAY, ENTRY_USER, ENTRY_USERWL
};
#define FZ_NKINDS	(sizeof(fz_kinds) / sizeof(fz_kinds[0]))

/* A stored key and value as the database holds them. */
static void
fz_raw(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	uint8_t buf[REC_MAX], kbuf[KEY_MAX];
	struct record r, back;
	struct entry en;
	size_t n;

	if (record_decode(val, vlen, &r) == 0) {
		FZ_ASSERT(vlen <= REC_MAX);
		n = record_encode(&r, buf);
		FZ_ASSERT(n == vlen && memcmp(buf, val, n) == 0);
		FZ_ASSERT(record_decode(buf, n, &back) == 0 &&
		    memcmp(&back, &r, sizeof(r)) == 0);
	}
	if (entry_decode(key, klen, val, vlen, &en) == -1)
		return;
	FZ_ASSERT(en.kind == en.r.kind &&
	    en.kind == record_key_kind(key, klen));
	FZ_ASSERT(klen <= KEY_MAX);
	n = entry_key(&en, kbuf);
	FZ_ASSERT(n == klen && memcmp(kbuf, key, n) == 0);
}

/* The next 8 bytes of *p (fewer at the end) as a number. */
static uint64_t
fz_num(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8 && *p < end; i++)
		v = v << 8 | *(*p)++;
	return v;
}

/* The next NUL- or end-terminated string of *p into out (truncated). */
static void
fz_str(const uint8_t **p, const uint8_t *end, char *out, size_t outlen)
{
	size_t n = 0;

	while (*p < end && **p != '\0') {
		if (n + 1 < outlen)
			out[n++] = (char)**p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	out[n] = '\0';
}

static void
fz_same(const struct entry *a, const struct entry *b)
{
	uint8_t x[REC_MAX], y[REC_MAX];
	size_t n;

	FZ_ASSERT(a->kind == b->kind);
	FZ_ASSERT(strcmp(a->net, b->net) == 0);
	FZ_ASSERT(strcmp(a->sender, b->sender) == 0);
	FZ_ASSERT(strcmp(a->rcpt, b->rcpt) == 0);
	FZ_ASSERT(strcmp(a->domain, b->domain) == 0);
	FZ_ASSERT(strcmp(a->text, b->text) == 0);
	FZ_ASSERT(strcmp(a->login, b->login) == 0);
	FZ_ASSERT(a->shard == b->shard);
	n = record_encode(&a->r, x);
	FZ_ASSERT(n == record_encode(&b->r, y) && memcmp(x, y, n) == 0);
}

/* An entry made from the input: kind, numbers, then strings. */
static void
fz_built(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	uint8_t key[KEY_MAX], val[REC_MAX];
	struct entry en, back;
	size_t klen, vlen;
	int i;

	memset(&en, 0, sizeof(en));
	en.kind = en.r.kind = fz_kinds[data[0] % FZ_NKINDS];
	en.r.flags = (uint16_t)fz_num(&p, end);
	en.r.first = (int64_t)(fz_num(&p, end) >> 1);
	if (en.kind == ENTRY_TRIPLET || en.kind == ENTRY_TUPLET)
		en.r.last = (int64_t)(fz_num(&p, end) >> 1);
	if (en.kind == ENTRY_TRIPLET) {
		en.r.passed = (int64_t)(fz_num(&p, end) >> 1);
		en.r.blocked = (uint32_t)fz_num(&p, end);
	}
	if (en.kind == ENTRY_TRIPLET || en.kind == ENTRY_TUPLET ||
	    en.kind == ENTRY_USER)
		en.r.passes = (uint32_t)fz_num(&p, end);
	if (en.kind == ENTRY_COUNTERS)
		for (i = 0; i < CNT_N; i++)
			en.r.count[i] = fz_num(&p, end);
	if (en.kind == ENTRY_META)
		en.r.format = (uint32_t)fz_num(&p, end);
	if (en.kind == ENTRY_META || en.kind == ENTRY_COUNTERS)
		en.r.first = 0;
	en.shard = en.kind == ENTRY_COUNTERS ? data[0] / FZ_NKINDS %
	    REC_NSHARDS : 0;
	switch (en.kind) {
	case ENTRY_TRIPLET:
		fz_str(&p, end, en.net, sizeof(en.net));
		fz_str(&p, end, en.sender, sizeof(en.sender));
		fz_str(&p, end, en.rcpt, sizeof(en.rcpt));
		break;
	case ENTRY_TUPLET:
		fz_str(&p, end, en.net, sizeof(en.net));
		fz_str(&p, end, en.domain, sizeof(en.domain));
		break;
	case ENTRY_USERWL:
		fz_str(&p, end, en.login, sizeof(en.login));
		/* FALLTHROUGH */
	case ENTRY_EXEMPT:
	case ENTRY_NODELAY:
		fz_str(&p, end, en.text, sizeof(en.text));
		break;
	case ENTRY_USER:
		fz_str(&p, end, en.login, sizeof(en.login));
		break;
	}
	klen = entry_key(&en, key);
	vlen = record_encode(&en.r, val);
	FZ_ASSERT(klen <= KEY_MAX && vlen <= REC_MAX);
	FZ_ASSERT(entry_decode(key, klen, val, vlen, &back) == 0);
	fz_same(&en, &back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t klen;

	if (size < 2)
		return 0;
	klen = ((size_t)data[0] << 8 | data[1]) % (size - 1);
	fz_raw(data + 2, klen, data + 2 + klen, size - 2 - klen);
	fz_built(data, size);
	return 0;
}
