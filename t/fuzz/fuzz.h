/* Shared by the fuzz targets: the libFuzzer entry point, an assertion
 * that stays on whatever NDEBUG says, and the splitting of one input into
 * several NUL-terminated fields. */
#ifndef GREYLIST_FUZZ_H
#define GREYLIST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: assertion failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The fields of an input: a copy of it cut at every NUL byte, so that
 * each field is a C string; fields past the input are "". */
#define FZ_FIELDS	8

struct fz_fields {
	char	*buf;
	char	*f[FZ_FIELDS];
	size_t	 n;		/* fields present in the input */
};

/* -1 = out of memory, 0 = split. */
static inline int
fz_split(const uint8_t *data, size_t size, struct fz_fields *ff)
{
	size_t i, start = 0;

	memset(ff, 0, sizeof(*ff));
	if ((ff->buf = malloc(size + 1)) == NULL)
		return -1;
	memcpy(ff->buf, data, size);
	ff->buf[size] = '\0';
	for (i = 0; i <= size && ff->n < FZ_FIELDS; i++)
		if (i == size || ff->buf[i] == '\0') {
			ff->f[ff->n++] = ff->buf + start;
			start = i + 1;
		}
	for (i = ff->n; i < FZ_FIELDS; i++)
		ff->f[i] = ff->buf + size;
	return 0;
}

static inline void
fz_split_free(struct fz_fields *ff)
{
	free(ff->buf);
}

#endif
