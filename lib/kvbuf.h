/* Keys and values kept back to back in one growing buffer, each pair
 * preceded by its two lengths: a scan's batch copied out of its
 * transaction, the entries an import has read. */
#ifndef GREYLIST_KVBUF_H
#define GREYLIST_KVBUF_H

#include <stddef.h>
#include <stdint.h>

struct kvbuf {
	uint8_t	*buf;
	size_t	 len, cap;
	size_t	 n;		/* pairs in buf */
};

/* Appends a pair. -1 = out of memory, 0 = done. */
int	kvbuf_add(struct kvbuf *b, const void *key, size_t klen,
	    const void *val, size_t vlen);
/* Points *key and *val at the pair at *off and moves *off past it.
 * 0 = done, -1 = at the end. */
int	kvbuf_next(const struct kvbuf *b, size_t *off, const void **key,
	    size_t *klen, const void **val, size_t *vlen);
/* Empties b, keeping its memory. */
void	kvbuf_clear(struct kvbuf *b);
void	kvbuf_free(struct kvbuf *b);

#endif
