/* greylist stats: what the database holds and what was decided, in
 * counts, for people, programs (CSV) or Prometheus. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "entry.h"
#include "filter.h"
#include "priv.h"

#define STATS_NSTATES	5	/* states counted: pending .. no_delay */

struct stats_state {
	uint64_t state[STATS_NSTATES];	/* by entry_state_of */
	uint64_t named[IDENT_NET];	/* tuplets by identity: [IDENT_SPF],
					   [IDENT_PTR] */
	uint64_t count[CNT_N];
	int64_t	*delay;		/* passed_at - first_seen of passed triplets */
	size_t	 ndelay, cap;
	int	 failed;
};

static int
stats_fn(const struct entry *en, void *arg)
{
	struct stats_state *st = arg;
	int64_t *d;
	size_t i;

	if ((i = (size_t)entry_state_of(en)) < STATS_NSTATES)
		st->state[i]++;
	switch (en->kind) {
	case ENTRY_COUNTERS:
		for (i = 0; i < CNT_N; i++)
			st->count[i] += en->r.count[i];
		return SCAN_NEXT;
	case ENTRY_TRIPLET:
		if (en->r.passed == 0)
			return SCAN_NEXT;
		if (st->ndelay == st->cap) {
			st->cap = st->cap ? st->cap * 2 : 1024;
			if ((d = realloc(st->delay, st->cap * sizeof(*d))) == NULL) {
				st->failed = 1;
				return SCAN_STOP;
			}
			st->delay = d;
		}
		st->delay[st->ndelay++] = en->r.passed - en->r.first;
		return SCAN_NEXT;
	case ENTRY_TUPLET:
		if ((i = (size_t)ident_kind(en->net)) != IDENT_NET)
			st->named[i]++;
		break;
	}
	return SCAN_NEXT;
}

static int
stats_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
stats_row(int csv, const char *name, uint64_t v)
{
	char num[32];
	const char *f[2] = { name, num };

	snprintf(num, sizeof(num), "%" PRIu64, v);
	if (csv)
		csvio_row(stdout, f, 2);
	else
		printf("%-20s %s\n", name, num);
}

/* The delay below which a fraction q of the sorted delays lie. */
static int64_t
stats_quantile(const struct stats_state *st, double q)
{
	size_t i = (size_t)(q * (double)st->ndelay);

	if (st->ndelay == 0)
		return 0;
	return st->delay[i < st->ndelay ? i : st->ndelay - 1];
}

/* The Prometheus text format, for node_exporter's textfile collector. */
static void
stats_prometheus(const struct stats_state *st)
{
	static const double qs[] = { 0.5, 0.9, 0.99 };
	int64_t sum = 0;
	size_t i;

	printf("# HELP greylist_entries Entries in the greylist database, by "
	    "state.\n# TYPE greylist_entries gauge\n");
	for (i = 0; i < STATS_NSTATES; i++)
		printf("greylist_entries{state=\"%s\"} %" PRIu64 "\n",
		    entry_state_name((int)i), st->state[i]);
	printf("# HELP greylist_decisions_total Decisions since the database "
	    "was made, by reason.\n# TYPE greylist_decisions_total "
	    "counter\n");
	for (i = 0; i < CNT_N - 1; i++)
		printf("greylist_decisions_total{reason=\"%s\"} %" PRIu64
		    "\n", entry_counter_name((int)i), st->count[i]);
	for (i = 0; i < st->ndelay; i++)
		sum += st->delay[i];
	printf("# HELP greylist_delay_seconds Delay of the passed triplets "
	    "in the database, first attempt to pass.\n"
	    "# TYPE greylist_delay_seconds summary\n");
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		printf("greylist_delay_seconds{quantile=\"%g\"} %lld\n",
		    qs[i], (long long)stats_quantile(st, qs[i]));
	printf("greylist_delay_seconds_sum %lld\n"
	    "greylist_delay_seconds_count %zu\n", (long long)sum,
	    st->ndelay);
}

/* Takes --prometheus out of argv (filter_parse does not know it).
 * 1 = it was there, 0 = not. */
static int
stats_take_prometheus(int *argc, char **argv)
{
	int i, j, found = 0;

	for (i = j = 0; i < *argc; i++)
		if (i > 0 && strcmp(argv[i], "--prometheus") == 0)
			found = 1;
		else
			argv[j++] = argv[i];
	*argc = j;
	return found;
}

static int
cmd_stats(struct ctx *x, int argc, char **argv)
{
	static const int kinds[] = {
		ENTRY_COUNTERS, ENTRY_EXEMPT, ENTRY_NODELAY, ENTRY_TRIPLET,
		ENTRY_TUPLET
	};
	static const char *hdr[2] = { "name", "value" };
	struct stats_state st;
	struct filter f;
	struct store *s;
	struct err e;
	int i, ret, prom;

	prom = stats_take_prometheus(&argc, argv);
	if (filter_parse(x, argc, argv, 1, &f) != 0)
		return EXIT_ERROR;
	if (f.n > 0)
		return cmd_error("stats: takes no selectors");
	if (prom && f.csv)
		return cmd_error("stats: --csv or --prometheus, not both");
	memset(&st, 0, sizeof(st));
	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	ret = entry_scan(s, NULL, kinds, sizeof(kinds) / sizeof(kinds[0]),
	    SCAN_BATCH_READ, stats_fn, &st, NULL, &e);
	store_close(s);
	if (ret == -1 || st.failed) {
		free(st.delay);
		return cmd_error("stats: %s", ret == -1 ? e.msg : "out of memory");
	}
	if (st.ndelay > 0)
		qsort(st.delay, st.ndelay, sizeof(*st.delay), stats_cmp);
	if (prom) {
		stats_prometheus(&st);
		free(st.delay);
		return fflush(stdout) == EOF ? cmd_error("stats: write error") :
		    0;
	}
	if (f.csv)
		csvio_row(stdout, hdr, 2);
	for (i = 0; i < STATS_NSTATES; i++)
		stats_row(f.csv, entry_state_name(i), st.state[i]);
	for (i = 0; i < CNT_N - 1; i++)
		stats_row(f.csv, i == CNT_EXEMPT ? "exempt_passes" :
		    entry_counter_name(i), st.count[i]);
	stats_row(f.csv, "median_delay", st.ndelay == 0 ? 0 :
	    (uint64_t)st.delay[st.ndelay / 2]);
	stats_row(f.csv, "whitelisted_spf", st.named[IDENT_SPF]);
	stats_row(f.csv, "whitelisted_ptr", st.named[IDENT_PTR]);
	free(st.delay);
	return fflush(stdout) == EOF ? cmd_error("stats: write error") : 0;
}

const struct cmd_entry cmd_stats_entry = {
	"stats", PRIV_ADMIN, cmd_stats,
	"stats [--csv | --prometheus]"
};
