/* Fuzz target: the ~/.wl sanitiser. The input is the file as read, NULs
 * and all. What user_wl_clean keeps must be normalised exemptions that
 * import takes back unchanged, each once; what it drops must be reported
 * by line, in order, as printable text. */
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "tuple.h"
#include "user.h"

struct fz_drops {
	unsigned last;		/* line of the last drop */
	unsigned lines;		/* lines in the input */
};

static void
fz_drop(unsigned line, const char *text, const char *why, void *arg)
{
	struct fz_drops *d = arg;
	const unsigned char *p = (const unsigned char *)text;

	FZ_ASSERT(line > d->last && line <= d->lines);
	d->last = line;
	FZ_ASSERT(why != NULL && why[0] != '\0');
	FZ_ASSERT(strlen(text) <= ADDR_MAX + 1);
	for (; *p != '\0'; p++)
		FZ_ASSERT(*p >= 0x20 && *p != 0x7f);
}

/* As import_exempt() in src/import.c checks a userwl entry. */
static void
fz_entry(const char *s)
{
	char wrapped[ADDR_MAX + 3], again[ADDR_MAX + 2];
	const char *in = s, *why;

	FZ_ASSERT(s[0] != '\0' && strlen(s) <= ADDR_MAX);
	if (s[0] != '@' && strlen(s) + 2 <= ADDR_MAX) {
		snprintf(wrapped, sizeof(wrapped), "<%s>", s);
		in = wrapped;
	}
	FZ_ASSERT(tuple_exempt(in, again, &why) == 0);
	FZ_ASSERT(strcmp(again, s) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strlist wl;
	struct fz_drops d = { 0, 0 };
	size_t i, j;

	for (i = 0; i < size; i++)
		d.lines += data[i] == '\n';
	d.lines += size > 0 && data[size - 1] != '\n';
	memset(&wl, 0, sizeof(wl));
	if (user_wl_clean((const char *)data, size, &wl, fz_drop, &d) == 0)
		for (i = 0; i < wl.n; i++) {
			fz_entry(wl.v[i]);
			for (j = 0; j < i; j++)
				FZ_ASSERT(strcmp(wl.v[i], wl.v[j]) != 0);
		}
	strlist_free(&wl);
	return 0;
}
