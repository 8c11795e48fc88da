/* Pairs of byte strings back to back in memory (see kvbuf.h). */
#include <stdlib.h>
#include <string.h>

#include "kvbuf.h"

int
kvbuf_add(struct kvbuf *b, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	size_t need = 2 * sizeof(size_t) + klen + vlen, cap;
	uint8_t *p;

	if (b->len + need > b->cap) {
		for (cap = b->cap ? b->cap : 65536; cap < b->len + need;)
			cap *= 2;
		if ((p = realloc(b->buf, cap)) == NULL)
			return -1;
		b->buf = p;
		b->cap = cap;
	}
	p = b->buf + b->len;
	memcpy(p, &klen, sizeof(klen));
	memcpy(p + sizeof(klen), &vlen, sizeof(vlen));
	p += 2 * sizeof(size_t);
	memcpy(p, key, klen);
	memcpy(p + klen, val, vlen);
	b->len += need;
	b->n++;
	return 0;
}

int
kvbuf_next(const struct kvbuf *b, size_t *off, const void **key,
    size_t *klen, const void **val, size_t *vlen)
{
	const uint8_t *p = b->buf + *off;

	if (*off >= b->len)
		return -1;
	memcpy(klen, p, sizeof(*klen));
	memcpy(vlen, p + sizeof(*klen), sizeof(*vlen));
	p += 2 * sizeof(size_t);
	*key = p;
	*val = p + *klen;
	*off += 2 * sizeof(size_t) + *klen + *vlen;
	return 0;
}

void
kvbuf_clear(struct kvbuf *b)
{
	b->len = b->n = 0;
}

void
kvbuf_free(struct kvbuf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}
