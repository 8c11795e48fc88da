/* Fuzz target: the rows of `greylist import`. src/import.c,
 * src/cmd_export.c and src/postgrey.c are included to reach their static
 * row checks; no database is opened. The input is read through csvio_read as an export file, then again as data
 * rows after a header, and a slice of it as a postgrey record. Every
 * entry import accepts must decode, and its export row must import back
 * to the very same key and value: export and import round-trip. */
#include "../../src/import.c"
#include "../../src/cmd_export.c"
#include "../../src/postgrey.c"

#include "fuzz.h"

#define FZ_NOW	1700000000

/* The default configuration, and one with normalize_verp on. */
static struct ctx fz_ctx, fz_verp;

int	LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memset(&fz_ctx, 0, sizeof(fz_ctx));
	conf_init(&fz_ctx.conf, "/var/lib/greylist");
	fz_ctx.now = FZ_NOW;
	memset(&fz_verp, 0, sizeof(fz_verp));
	conf_init(&fz_verp.conf, "/var/lib/greylist");
	fz_verp.conf.normalize_verp = 1;
	fz_verp.now = FZ_NOW;
	return 0;
}

static void
fz_set_init(struct import_set *set, int header)
{
	memset(set, 0, sizeof(*set));
	set->header = header;
	set->conf = &fz_ctx.conf;
	set->now = FZ_NOW;
}

/* The export row of one entry, read back: one row, imported alone. */
struct fz_back {
	struct import_set set;
	int	 rows;
};

static int
fz_back_row(char **f, size_t n, unsigned long line, void *arg, struct err *e)
{
	struct fz_back *b = arg;

	b->rows++;
	FZ_ASSERT(import_row_fn(f, n, line, &b->set, e) == 0);
	return 0;
}

/* The entry at off in set: decodes, exports, and imports back equal. */
static void
fz_round_trip(const struct import_set *set, size_t off)
{
	size_t len = 0, at = off;
	struct fz_back b;
	struct entry en;
	struct err e;
	char *text = NULL;
	FILE *f;

	FZ_ASSERT(entry_list_next(&set->list, &at, &en) == 0);
	FZ_ASSERT((f = open_memstream(&text, &len)) != NULL);
	FZ_ASSERT(export_entry(f, &en) == 0);
	FZ_ASSERT(fclose(f) == 0);
	FZ_ASSERT((f = fmemopen(text, len, "r")) != NULL);
	fz_set_init(&b.set, 1);
	b.rows = 0;
	FZ_ASSERT(csvio_read(f, fz_back_row, &b, &e) == 0);
	fclose(f);
	free(text);
	FZ_ASSERT(b.rows == 1 && b.set.list.kv.n == 1);
	FZ_ASSERT(b.set.list.kv.len == at - off);
	FZ_ASSERT(memcmp(b.set.list.kv.buf, set->list.kv.buf + off,
	    b.set.list.kv.len) == 0);
	entry_list_free(&b.set.list);
}

static int
fz_row(char **f, size_t n, unsigned long line, void *arg, struct err *e)
{
	struct import_set *set = arg;
	size_t off = set->list.kv.len, count = set->list.kv.n;

	if (import_row_fn(f, n, line, set, e) == -1)
		return -1;
	if (set->list.kv.n > count)
		fz_round_trip(set, off);
	return 0;
}

static void
fz_csv(const uint8_t *data, size_t size, int header)
{
	struct import_set set;
	struct err e;
	FILE *f;

	if (size == 0 ||
	    (f = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return;
	fz_set_init(&set, header);
	e.msg[0] = '\0';
	if (csvio_read(f, fz_row, &set, &e) == -1)
		FZ_ASSERT(e.msg[0] != '\0');
	FZ_ASSERT(strpbrk(e.msg, "\r\n") == NULL);
	fclose(f);
	entry_list_free(&set.list);
}

/* The input's first byte splits the rest into a postgrey key and value. */
static void
fz_postgrey(const struct ctx *x, const uint8_t *data, size_t size)
{
	struct import_set set;
	struct err e;
	DBT k, v;
	size_t klen;

	if (size < 1)
		return;
	klen = data[0] % size;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)(uintptr_t)(data + 1);
	k.size = (u_int32_t)klen;
	v.data = (void *)(uintptr_t)(data + 1 + klen);
	v.size = (u_int32_t)(size - 1 - klen);
	fz_set_init(&set, 1);
	FZ_ASSERT(postgrey_record(&x->conf, &k, &v, &set, &e) == 0);
	FZ_ASSERT(set.list.kv.n + set.skipped == 1);
	if (set.list.kv.n == 1)
		fz_round_trip(&set, 0);
	entry_list_free(&set.list);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_csv(data, size, 0);
	fz_csv(data, size, 1);
	fz_postgrey(&fz_ctx, data, size);
	fz_postgrey(&fz_verp, data, size);
	return 0;
}
