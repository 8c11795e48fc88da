/* CSV in and out through libcsv. Rows are read one physical line at a
 * time so that an error can name the line its row starts on. */
#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"

#define CSVIO_MAXFIELDS	64
#define CSVIO_MAXFIELD	65536	/* bytes; longer fields are an error */

static int
csvio_plain(const char *s)
{
	if (*s == ' ' || *s == '\t' ||
	    (*s != '\0' && (s[strlen(s) - 1] == ' ' || s[strlen(s) - 1] == '\t')))
		return 0;
	return strpbrk(s, ",\"\r\n") == NULL;
}

const char *
csvio_tty(const char *s)
{
	static char *buf;
	static size_t cap;
	size_t need = strlen(s) * 3 + 1, n = 0;
	const unsigned char *p;
	char *b;

	if (need > cap) {
		if ((b = realloc(buf, need)) == NULL)
			return NULL;
		buf = b;
		cap = need;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", p[1]);
			p++;
		} else
			buf[n++] = (char)*p;
	}
	buf[n] = '\0';
	return buf;
}

int
csvio_row(FILE *f, const char *const *fields, size_t n)
{
	const char *v;
	size_t i;
	int tty = isatty(fileno(f));

	for (i = 0; i < n; i++) {
		if (i > 0)
			putc(',', f);
		if ((v = tty ? csvio_tty(fields[i]) : fields[i]) == NULL)
			return -1;
		if (csvio_plain(v))
			fputs(v, f);
		else
			csv_fwrite(f, v, strlen(v));
	}
	putc('\n', f);
	return ferror(f) ? -1 : 0;
}

struct csvio_state {
	char	*field[CSVIO_MAXFIELDS];
	size_t	 n;
	int	 overflow;	/* too many fields or a field too long */
	unsigned long start;	/* line the current row starts on; 0 = none */
	csvio_row_fn fn;
	void	*arg;
	struct err *e;
	int	 failed;
};

static void
csvio_clear(struct csvio_state *st)
{
	while (st->n > 0)
		free(st->field[--st->n]);
	st->overflow = 0;
}

static void
csvio_field(void *data, size_t len, void *arg)
{
	struct csvio_state *st = arg;
	char *s;

	if (st->n == CSVIO_MAXFIELDS || len > CSVIO_MAXFIELD ||
	    (s = malloc(len + 1)) == NULL) {
		st->overflow = 1;
		return;
	}
	memcpy(s, data != NULL ? data : "", len);
	s[len] = '\0';
	st->field[st->n++] = s;
}

static void
csvio_end(int c, void *arg)
{
	struct csvio_state *st = arg;

	(void)c;
	if (!st->failed && st->overflow)
		st->failed = err_line(st->e, st->start, "too many or too long "
		    "fields");
	else if (!st->failed &&
	    st->fn(st->field, st->n, st->start, st->arg, st->e) == -1)
		st->failed = 1;
	csvio_clear(st);
	st->start = 0;
}

static int
csvio_space(unsigned char c)
{
	(void)c;
	return 0;	/* fields are taken as they are, spaces included */
}

int
csvio_read(FILE *f, csvio_row_fn fn, void *arg, struct err *e)
{
	struct csvio_state st;
	struct csv_parser p;
	unsigned long line = 0;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	memset(&st, 0, sizeof(st));
	st.fn = fn;
	st.arg = arg;
	st.e = e;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return err_set(e, "out of memory");
	csv_set_space_func(&p, csvio_space);
	while (!st.failed && (len = getline(&buf, &cap, f)) > 0) {
		line++;
		if (st.start == 0 && buf[0] != '\n' &&
		    !(buf[0] == '\r' && buf[1] == '\n'))
			st.start = line;
		if (csv_parse(&p, buf, (size_t)len, csvio_field, csvio_end,
		    &st) != (size_t)len && !st.failed)
			st.failed = err_line(e, st.start, "%s",
			    csv_strerror(csv_error(&p)));
	}
	if (!st.failed && ferror(f))
		st.failed = err_set(e, "read error after line %lu", line);
	if (!st.failed && csv_fini(&p, csvio_field, csvio_end, &st) != 0 &&
	    !st.failed)
		st.failed = err_line(e, st.start, "%s",
		    csv_strerror(csv_error(&p)));
	if (st.failed)
		ret = -1;
	csvio_clear(&st);
	csv_free(&p);
	free(buf);
	return ret;
}
