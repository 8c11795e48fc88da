/* greylist export: the whole database as CSV (src/import.c has the
 * columns and reads it back). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "csvio.h"
#include "entry.h"
#include "import.h"
#include "priv.h"

#define EXPORT_NUM	24	/* bytes for a 64-bit decimal number */

static const char *
export_num(char *buf, uint64_t v)
{
	snprintf(buf, EXPORT_NUM, "%" PRIu64, v);
	return buf;
}

/* Writes en as one row. -1 = write error, 0 = done. */
static int
export_entry(FILE *f, const struct entry *en)
{
	char num[5][EXPORT_NUM];
	const char *v[F_N];
	const struct record *r = &en->r;
	int i;

	for (i = 0; i < F_N; i++)
		v[i] = "";
	v[F_TYPE] = import_type_name(en->kind);
	v[F_FIRST] = export_num(num[0], (uint64_t)r->first);
	switch (en->kind) {
	case ENTRY_TRIPLET:
		v[F_SENDER] = en->sender;
		v[F_RCPT] = en->rcpt;
		if (r->passed != 0)
			v[F_PASSED] = export_num(num[2], (uint64_t)r->passed);
		v[F_BLOCKED] = export_num(num[3], r->blocked);
		/* FALLTHROUGH */
	case ENTRY_TUPLET:
		v[F_NET] = en->net;
		if (en->kind == ENTRY_TUPLET)
			v[F_DOMAIN] = en->domain;
		v[F_LAST] = export_num(num[1], (uint64_t)r->last);
		v[F_PASSES] = export_num(num[4], r->passes);
		break;
	case ENTRY_USER:
		v[F_RCPT] = en->login;
		v[F_ENTRY] = r->flags & USER_OFF ? "off" : "on";
		v[F_PASSES] = export_num(num[4], r->passes);
		break;
	case ENTRY_USERWL:
		v[F_RCPT] = en->login;
		/* FALLTHROUGH */
	default:
		v[F_ENTRY] = en->text;
		break;
	}
	return csvio_row(f, v, F_N);
}

/* The counter rows: one per name, the sum over the shards. */
static int
export_counters(FILE *f, const uint64_t *count)
{
	char num[EXPORT_NUM];
	const char *v[F_N];
	int i, j;

	for (i = 0; i < CNT_N; i++) {
		for (j = 0; j < F_N; j++)
			v[j] = "";
		v[F_TYPE] = import_type_name(ENTRY_COUNTERS);
		v[F_ENTRY] = entry_counter_name(i);
		v[F_COUNT] = export_num(num, count[i]);
		if (csvio_row(f, v, F_N) == -1)
			return -1;
	}
	return 0;
}

struct export_state {
	FILE	*f;
	uint64_t count[CNT_N];
	size_t	 corrupt;
	int	 failed;		/* a write failed */
};

static int
export_fn(const struct entry *en, void *arg)
{
	struct export_state *st = arg;
	int i;

	if (en->kind == ENTRY_COUNTERS) {
		for (i = 0; i < CNT_N; i++)
			st->count[i] += en->r.count[i];
		return SCAN_NEXT;
	}
	if (export_entry(st->f, en) == -1) {
		st->failed = 1;
		return SCAN_STOP;
	}
	return SCAN_NEXT;
}

static int
cmd_export(struct ctx *x, int argc, char **argv)
{
	/* The kinds in the order of their rows (the counters, summed, last). */
	static const int kinds[] = {
		ENTRY_COUNTERS, ENTRY_EXEMPT, ENTRY_USERWL, ENTRY_NODELAY,
		ENTRY_TRIPLET, ENTRY_USER, ENTRY_TUPLET
	};
	struct export_state st;
	struct store *s;
	struct err e;
	int ret = 0;

	if (argc > 1)
		return cmd_error("export: unexpected argument '%s'", argv[1]);
	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	memset(&st, 0, sizeof(st));
	st.f = stdout;
	if (csvio_row(stdout, import_header, F_N) == -1)
		st.failed = 1;
	else
		ret = entry_scan(s, &x->conf, kinds, sizeof(kinds) /
		    sizeof(kinds[0]), SCAN_BATCH_READ, export_fn, &st,
		    &st.corrupt, &e);
	store_close(s);
	if (ret == -1)
		return cmd_error("export: %s", e.msg);
	if (!st.failed && export_counters(stdout, st.count) == -1)
		st.failed = 1;
	if (fflush(stdout) == EOF || st.failed)
		return cmd_error("export: cannot write: %s", strerror(errno));
	if (st.corrupt > 0)
		return cmd_error("export: %zu corrupt entries left out",
		    st.corrupt);
	return 0;
}

const struct cmd_entry cmd_export_entry = {
	"export", PRIV_ADMIN, cmd_export,
	"export"
};
