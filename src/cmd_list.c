/* greylist list and greylist stats: what the database holds, for people
 * (an aligned table) or for programs (CSV). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "csvio.h"
#include "entry.h"
#include "filter.h"

#define LIST_NF		10
#define LIST_FMAX	(ADDR_MAX + 4)

static const char *list_names[LIST_NF] = {
	"state", "network", "sender", "recipient", "first_seen", "last_seen",
	"passed_at", "blocked", "passes", "expires"
};

/* Rows kept for the table, which needs every width before it prints. */
struct list_rows {
	char	**cell;		/* n * LIST_NF strings */
	size_t	  n, cap;
	int	  width[LIST_NF];
	int	  tty;		/* stdout is a terminal: C1 controls escaped */
};

struct list_state {
	struct ctx *x;
	struct filter f;
	struct list_rows rows;
	size_t	 matched;
	int	 failed;
};

static void
list_time(int64_t t, char *buf)
{
	buf[0] = '\0';
	if (t != 0)
		entry_time(t, buf, LIST_FMAX);
}

static void
list_num(int show, uint64_t v, char *buf)
{
	if (show)
		snprintf(buf, LIST_FMAX, "%" PRIu64, v);
	else
		buf[0] = '\0';
}

/* The listing fields of en, per greylist(8). */
static void
list_fields(const struct ctx *x, const struct entry *en,
    char f[LIST_NF][LIST_FMAX])
{
	int tri = en->kind == ENTRY_TRIPLET, tup = en->kind == ENTRY_TUPLET;

	memset(f, 0, LIST_NF * LIST_FMAX);
	snprintf(f[0], LIST_FMAX, "%s", entry_state(en));
	if (tri || tup)
		snprintf(f[1], LIST_FMAX, "%s", en->net);
	else if (en->kind == ENTRY_NODELAY)
		snprintf(f[1], LIST_FMAX, "%s", en->text);
	if (tri)
		snprintf(f[2], LIST_FMAX, "%s", en->sender[0] ? en->sender :
		    NULL_SENDER);
	else if (tup)
		snprintf(f[2], LIST_FMAX, "%s%s", strcmp(en->domain,
		    NULL_SENDER) ? "@" : "", en->domain);
	else if (en->kind == ENTRY_EXEMPT || en->kind == ENTRY_USERWL)
		snprintf(f[2], LIST_FMAX, "%s", en->text);
	else if (en->kind == ENTRY_USER)
		snprintf(f[2], LIST_FMAX, "greylisting %s",
		    en->r.flags & USER_OFF ? "off" : "on");
	if (en->kind == ENTRY_USER || en->kind == ENTRY_USERWL)
		snprintf(f[3], LIST_FMAX, "%s", en->login);
	if (tri || tup)
		snprintf(f[3], LIST_FMAX, "%s", tri ? en->rcpt : "*");
	list_time(en->r.first, f[4]);
	if (tri || tup)
		list_time(en->r.last, f[5]);
	if (tri)
		list_time(en->r.passed, f[6]);
	list_num(tri, en->r.blocked, f[7]);
	list_num(tri || tup || en->kind == ENTRY_USER, en->r.passes, f[8]);
	list_time(entry_expiry(&x->conf, &en->r), f[9]);
}

/* Width of s on a terminal: one column per UTF-8 character. */
static int
list_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static int
list_keep(struct list_rows *r, char f[LIST_NF][LIST_FMAX])
{
	const char *c;
	char **v;
	size_t i, cap;
	int w;

	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 256;
		if ((v = realloc(r->cell, cap * LIST_NF * sizeof(*v))) == NULL)
			return -1;
		r->cell = v;
		r->cap = cap;
	}
	for (i = 0; i < LIST_NF; i++) {
		if ((c = r->tty ? csvio_tty(f[i]) : f[i]) == NULL ||
		    (r->cell[r->n * LIST_NF + i] = strdup(c)) == NULL)
			return -1;
		if ((w = list_width(c)) > r->width[i])
			r->width[i] = w;
	}
	r->n++;
	return 0;
}

static int
list_fn(const struct entry *en, void *arg)
{
	struct list_state *st = arg;
	char f[LIST_NF][LIST_FMAX];
	const char *p[LIST_NF];
	int i;

	if (!filter_match(&st->f, en))
		return SCAN_NEXT;
	if (st->matched++ == 0 && st->f.csv)
		csvio_row(stdout, list_names, LIST_NF);
	list_fields(st->x, en, f);
	for (i = 0; i < LIST_NF; i++)
		p[i] = f[i];
	if (st->f.csv ? csvio_row(stdout, p, LIST_NF) == -1 :
	    list_keep(&st->rows, f) == -1) {
		st->failed = 1;
		return SCAN_STOP;
	}
	return SCAN_NEXT;
}

/* Prints one table line of cells padded to the column widths, without
 * trailing blanks. */
static void
list_line(const struct list_rows *r, char **cell)
{
	char line[LIST_NF * (LIST_FMAX + 2)];
	size_t j, n = 0;

	for (j = 0; j < LIST_NF; j++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%*s",
		    cell[j], r->width[j] + 2 - list_width(cell[j]), "");
	while (n > 0 && line[n - 1] == ' ')
		n--;
	printf("%.*s\n", (int)n, line);
}

static void
list_table(struct list_rows *r)
{
	char name[LIST_NF][16], *head[LIST_NF];
	size_t i, j, k;

	for (j = 0; j < LIST_NF; j++) {
		for (k = 0; list_names[j][k] != '\0'; k++)
			name[j][k] = (char)toupper((unsigned char)list_names[j][k]);
		name[j][k] = '\0';
		head[j] = name[j];
		if ((int)k > r->width[j])
			r->width[j] = (int)k;
	}
	list_line(r, head);
	for (i = 0; i < r->n; i++) {
		list_line(r, r->cell + i * LIST_NF);
		for (j = 0; j < LIST_NF; j++)
			free(r->cell[i * LIST_NF + j]);
	}
	free(r->cell);
}

/* Scans the kinds in listing order with fn. -1 = error (printed). */
static int
list_scan(struct ctx *x, entry_fn fn, void *arg)
{
	static const int kinds[] = {
		ENTRY_TRIPLET, ENTRY_TUPLET, ENTRY_EXEMPT, ENTRY_NODELAY,
		ENTRY_USER, ENTRY_USERWL
	};
	struct store *s;
	struct err e;
	int ret;

	if ((s = cmd_open(x)) == NULL)
		return -1;
	ret = entry_scan(s, &x->conf, kinds, sizeof(kinds) / sizeof(kinds[0]),
	    SCAN_BATCH_READ, fn, arg, NULL, &e);
	store_close(s);
	if (ret == -1)
		cmd_error("%s", e.msg);
	return ret;
}

int
cmd_list(struct ctx *x, int argc, char **argv)
{
	struct list_state st;

	memset(&st, 0, sizeof(st));
	st.x = x;
	st.rows.tty = isatty(STDOUT_FILENO);
	if (filter_parse(x, argc, argv, 1, &st.f) != 0)
		return EXIT_ERROR;
	if (list_scan(x, list_fn, &st) == -1)
		return EXIT_ERROR;
	if (st.failed)
		return cmd_error("list: %s", "cannot write the listing");
	if (!st.f.csv && st.matched > 0)
		list_table(&st.rows);
	if (fflush(stdout) == EOF)
		return cmd_error("list: cannot write the listing");
	return st.matched > 0 ? 0 : 1;
}

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

int
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
