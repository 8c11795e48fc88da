/* CSV in and out (RFC 4180) through libcsv, for list, stats, export,
 * import and batch. */
#ifndef GREYLIST_CSVIO_H
#define GREYLIST_CSVIO_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* Writes one row of n fields ending in LF: a field that holds a comma,
 * quote, CR or LF, or starts or ends with a space or tab, quoted by
 * libcsv, any other as it is. On a terminal, fields go through csvio_tty
 * first. -1 = write error, 0 = done. */
int	csvio_row(FILE *f, const char *const *fields, size_t n);

/* A copy of s (in a buffer that the next call reuses) in which the
 * UTF-8 encoded C1 controls U+0080 to U+009F, which terminals may obey
 * as escape sequences, are written as \u0080 to \u009f. Stored text
 * holds no other control characters. NULL = out of memory. */
const char *csvio_tty(const char *s);

/* Called per row read: the fields, their count, and the line the row
 * starts on. Returns 0 to go on, -1 to stop the read (e holds why). */
typedef int (*csvio_row_fn)(char **fields, size_t n, unsigned long line,
    void *arg, struct err *e);

/* Reads f to its end, calling fn for every row, empty lines skipped.
 * -1 = error (in e; malformed CSV is ERR_LINE, at the line its row
 * starts on, counted from where this read started), 0 = done. */
int	csvio_read(FILE *f, csvio_row_fn fn, void *arg, struct err *e);

#endif
