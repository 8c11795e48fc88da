/* greylist list: the entries a filter selects, for people (an aligned
 * table) or for programs (CSV). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"
#include "entry.h"
#include "filter.h"
#include "priv.h"

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

static int
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

const struct cmd_entry cmd_list_entry = {
	"list", PRIV_ADMIN, cmd_list,
	"list [--csv] [--state=STATE] [--ip=IP] [--sender=ADDR] "
	    "[--rcpt=ADDR] [--domain=DOMAIN] [--client=ID]"
};
