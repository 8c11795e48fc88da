/* greylist export and import: the whole database as CSV and back (and,
 * through src/postgrey.c, a postgrey database in). Import validates every
 * row before it writes anything. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "csvio.h"
#include "entry.h"
#include "import.h"
#include "user.h"
#include "tuple.h"

#define EXPORT_NUM	24	/* bytes for a 64-bit decimal number */
#define IMPORT_TXN	100	/* entries written per transaction */
#define IMPORT_PROGRESS	10000	/* entries between progress lines on a tty */

/* The CSV columns, in export's order. */
enum export_field {
	F_TYPE, F_NET, F_SENDER, F_RCPT, F_DOMAIN, F_ENTRY, F_FIRST, F_LAST,
	F_PASSED, F_BLOCKED, F_PASSES, F_COUNT, F_N
};

static const char *const export_header[F_N] = {
	"type", "network", "sender", "recipient", "domain", "entry",
	"first_seen", "last_seen", "passed_at", "blocked", "passes", "count"
};

#define FB(f)	(1u << (f))

/* One CSV row being checked. */
struct import_row {
	char	**f;
	unsigned long line;
	struct import_set *set;
	struct err *e;
};

static int	import_triplet(const struct import_row *, struct entry *);
static int	import_tuplet(const struct import_row *, struct entry *);
static int	import_exempt(const struct import_row *, struct entry *);
static int	import_nodelay(const struct import_row *, struct entry *);
static int	import_counter(const struct import_row *, struct entry *);
static int	import_user(const struct import_row *, struct entry *);
static int	import_userwl(const struct import_row *, struct entry *);

static const struct import_type {
	const char *name;
	int	 kind;
	unsigned used;		/* fields the type fills; others stay empty */
	int	(*fn)(const struct import_row *, struct entry *);
} import_types[] = {
	{ "triplet", ENTRY_TRIPLET, FB(F_NET) | FB(F_SENDER) | FB(F_RCPT) |
	    FB(F_FIRST) | FB(F_LAST) | FB(F_PASSED) | FB(F_BLOCKED) |
	    FB(F_PASSES), import_triplet },
	{ "tuplet", ENTRY_TUPLET, FB(F_NET) | FB(F_DOMAIN) | FB(F_FIRST) |
	    FB(F_LAST) | FB(F_PASSES), import_tuplet },
	{ "exempt", ENTRY_EXEMPT, FB(F_ENTRY) | FB(F_FIRST), import_exempt },
	{ "no_delay", ENTRY_NODELAY, FB(F_ENTRY) | FB(F_FIRST), import_nodelay },
	{ "counter", ENTRY_COUNTERS, FB(F_ENTRY) | FB(F_COUNT), import_counter },
	{ "user", ENTRY_USER, FB(F_RCPT) | FB(F_ENTRY) | FB(F_FIRST) |
	    FB(F_PASSES), import_user },
	{ "userwl", ENTRY_USERWL, FB(F_RCPT) | FB(F_ENTRY) | FB(F_FIRST),
	    import_userwl },
};

#define IMPORT_NTYPES	(sizeof(import_types) / sizeof(import_types[0]))

static const char *
export_num(char *buf, uint64_t v)
{
	snprintf(buf, EXPORT_NUM, "%" PRIu64, v);
	return buf;
}

static const char *
export_type(int kind)
{
	size_t i;

	for (i = 0; i < IMPORT_NTYPES; i++)
		if (import_types[i].kind == kind)
			return import_types[i].name;
	return NULL;
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
	v[F_TYPE] = export_type(en->kind);
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
		v[F_TYPE] = export_type(ENTRY_COUNTERS);
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

int
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
	if (csvio_row(stdout, export_header, F_N) == -1)
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

static int
import_bad(const struct import_row *r, int i, const char *why)
{
	return err_set(r->e, "line %lu: %s: %s", r->line, export_header[i],
	    why);
}

/* Field i as a decimal integer of at most max. -1 = malformed, 0 = ok. */
static int
import_num(const struct import_row *r, int i, uint64_t max, uint64_t *v)
{
	const char *s = r->f[i];
	uint64_t n = 0, d;

	if (*s == '\0')
		return import_bad(r, i, "missing");
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return import_bad(r, i, "not a non-negative integer");
		d = (uint64_t)(*s - '0');
		if (n > (max - d) / 10)
			return import_bad(r, i, "too large");
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}

/* Field i as a network written as addr_network() writes it, into out
 * (ADDR_NET_MAX bytes). -1 = malformed, 0 = ok. */
static int
import_net(const struct import_row *r, int i, char *out)
{
	const char *s = r->f[i];
	struct cidr c;

	if (strchr(s, '/') == NULL || addr_parse_cidr(s, &c) == -1)
		return import_bad(r, i, "not a network such as 192.0.2.0/24");
	addr_format_net(&c.addr, c.len, out, ADDR_NET_MAX);
	if (strcmp(out, s) != 0)
		return err_set(r->e, "line %lu: %s: '%s' is not canonical "
		    "(should be %s)", r->line, export_header[i], s, out);
	return 0;
}

/* Field i as a client identity (CLIENT_MAX bytes): a network as
 * import_net takes it, or "spf:" or "ptr:" and a lower-case DNS name.
 * -1 = malformed, 0 = ok. */
static int
import_client(const struct import_row *r, int i, char *out)
{
	if (ident_kind(r->f[i]) == IDENT_NET)
		return import_net(r, i, out);
	if (!ident_named(r->f[i]))
		return import_bad(r, i, "not a network such as 192.0.2.0/24 "
		    "or spf:DOMAIN or ptr:DOMAIN in lower case");
	snprintf(out, CLIENT_MAX, "%s", r->f[i]);
	return 0;
}

/* Field i as an address already normalised as check normalises it, into
 * out (ADDR_MAX + 1 bytes); which is TUPLE_SENDER or TUPLE_RCPT. The
 * field is wrapped in <> first so that a stored address that itself has
 * the form <...> survives. -1 = malformed, 0 = ok. */
static int
import_addr(const struct import_row *r, int i, int which, char *out)
{
	char wrapped[ADDR_MAX + 3];
	const char *s = r->f[i], *in = s, *why;
	size_t n = strlen(s);

	if (n > ADDR_MAX)
		return import_bad(r, i, "too long");
	if (n + 2 <= ADDR_MAX) {
		snprintf(wrapped, sizeof(wrapped), "<%s>", s);
		in = wrapped;
	}
	if (tuple_addr(in, which, 0, out, &why) == -1)
		return import_bad(r, i, why);
	if (strcmp(out, s) != 0)
		return import_bad(r, i, which == TUPLE_RCPT ?
		    "not normalised (lower case, no <>, no +detail)" :
		    "not normalised (lower case, no <>)");
	return 0;
}

static int
import_triplet(const struct import_row *r, struct entry *en)
{
	uint64_t v[5] = { 0, 0, 0, 0, 0 };

	if (import_client(r, F_NET, en->net) == -1 ||
	    import_addr(r, F_SENDER, TUPLE_SENDER, en->sender) == -1 ||
	    import_addr(r, F_RCPT, TUPLE_RCPT, en->rcpt) == -1 ||
	    import_num(r, F_FIRST, ENTRY_TIME_MAX, &v[0]) == -1 ||
	    import_num(r, F_LAST, ENTRY_TIME_MAX, &v[1]) == -1 ||
	    (r->f[F_PASSED][0] != '\0' &&
	    import_num(r, F_PASSED, ENTRY_TIME_MAX, &v[2]) == -1) ||
	    import_num(r, F_BLOCKED, UINT32_MAX, &v[3]) == -1 ||
	    import_num(r, F_PASSES, UINT32_MAX, &v[4]) == -1)
		return -1;
	en->r.first = (int64_t)v[0];
	en->r.last = (int64_t)v[1];
	en->r.passed = (int64_t)v[2];
	en->r.blocked = (uint32_t)v[3];
	en->r.passes = (uint32_t)v[4];
	return 0;
}

static int
import_tuplet(const struct import_row *r, struct entry *en)
{
	uint64_t v[3];

	if (import_client(r, F_NET, en->net) == -1 ||
	    import_addr(r, F_DOMAIN, TUPLE_SENDER, en->domain) == -1)
		return -1;
	if (strchr(en->domain, '@') != NULL)
		return import_bad(r, F_DOMAIN, "a domain has no '@'");
	if (import_num(r, F_FIRST, ENTRY_TIME_MAX, &v[0]) == -1 ||
	    import_num(r, F_LAST, ENTRY_TIME_MAX, &v[1]) == -1 ||
	    import_num(r, F_PASSES, UINT32_MAX, &v[2]) == -1)
		return -1;
	en->r.first = (int64_t)v[0];
	en->r.last = (int64_t)v[1];
	en->r.passes = (uint32_t)v[2];
	return 0;
}

static int
import_exempt(const struct import_row *r, struct entry *en)
{
	char wrapped[ADDR_MAX + 3];
	const char *s = r->f[F_ENTRY], *in = s, *why;
	uint64_t first;

	if (strlen(s) > ADDR_MAX)
		return import_bad(r, F_ENTRY, "too long");
	if (s[0] != '@' && strlen(s) + 2 <= ADDR_MAX) {
		snprintf(wrapped, sizeof(wrapped), "<%s>", s);
		in = wrapped;
	}
	if (tuple_exempt(in, en->text, &why) == -1)
		return import_bad(r, F_ENTRY, why);
	if (strcmp(en->text, s) != 0)
		return import_bad(r, F_ENTRY, "not normalised");
	if (import_num(r, F_FIRST, ENTRY_TIME_MAX, &first) == -1)
		return -1;
	en->r.first = (int64_t)first;
	return 0;
}

static int
import_nodelay(const struct import_row *r, struct entry *en)
{
	uint64_t first;

	if (import_net(r, F_ENTRY, en->text) == -1 ||
	    import_num(r, F_FIRST, ENTRY_TIME_MAX, &first) == -1)
		return -1;
	en->r.first = (int64_t)first;
	return 0;
}

/* The login of a user or userwl row. -1 = malformed. */
static int
import_login(const struct import_row *r, struct entry *en)
{
	if (!user_login_ok(r->f[F_RCPT]) || strlen(r->f[F_RCPT]) > LOGIN_MAX)
		return import_bad(r, F_RCPT, "not a login name");
	snprintf(en->login, sizeof(en->login), "%s", r->f[F_RCPT]);
	return 0;
}

static int
import_user(const struct import_row *r, struct entry *en)
{
	uint64_t first, n;

	if (import_login(r, en) == -1)
		return -1;
	if (strcmp(r->f[F_ENTRY], "on") != 0 && strcmp(r->f[F_ENTRY], "off"))
		return import_bad(r, F_ENTRY, "expected on or off");
	if (import_num(r, F_FIRST, ENTRY_TIME_MAX, &first) == -1 ||
	    import_num(r, F_PASSES, UINT32_MAX, &n) == -1)
		return -1;
	en->r.flags = strcmp(r->f[F_ENTRY], "off") == 0 ? USER_OFF : 0;
	en->r.first = (int64_t)first;
	en->r.passes = (uint32_t)n;
	return 0;
}

static int
import_userwl(const struct import_row *r, struct entry *en)
{
	if (import_login(r, en) == -1)
		return -1;
	return import_exempt(r, en);
}

/* A counter row goes straight into the set's totals. */
static int
import_counter(const struct import_row *r, struct entry *en)
{
	const char *name;
	uint64_t v;
	int i;

	(void)en;
	for (i = 0; (name = entry_counter_name(i)) != NULL; i++)
		if (strcmp(name, r->f[F_ENTRY]) == 0)
			break;
	if (name == NULL)
		return import_bad(r, F_ENTRY, "unknown counter name");
	if (r->set->seen & FB(i))
		return import_bad(r, F_ENTRY, "counter given twice");
	if (import_num(r, F_COUNT, UINT64_MAX, &v) == -1)
		return -1;
	r->set->seen |= FB(i);
	r->set->count[i] = v;
	return 0;
}

/* Checks a data row and fills en from it. -1 = malformed, 0 = ok. */
static int
import_entry(const struct import_row *r, struct entry *en)
{
	const struct import_type *t = NULL;
	size_t i;

	for (i = 0; i < IMPORT_NTYPES && t == NULL; i++)
		if (strcmp(import_types[i].name, r->f[F_TYPE]) == 0)
			t = &import_types[i];
	if (t == NULL)
		return import_bad(r, F_TYPE, "unknown type (triplet, tuplet, "
		    "exempt, no_delay, counter, user or userwl)");
	for (i = F_TYPE + 1; i < F_N; i++)
		if (!(t->used & FB(i)) && r->f[i][0] != '\0')
			return err_set(r->e, "line %lu: %s: must be empty in "
			    "a %s row", r->line, export_header[i], t->name);
	memset(en, 0, sizeof(*en));
	en->kind = en->r.kind = t->kind;
	return t->fn(r, en);
}

static int
import_row_fn(char **f, size_t n, unsigned long line, void *arg,
    struct err *e)
{
	struct import_set *set = arg;
	struct import_row r = { f, line, set, e };
	struct entry en;
	size_t i;

	if (!set->header) {
		for (i = 0; i < n && i < F_N; i++)
			if (strcmp(f[i], export_header[i]) != 0)
				break;
		if (n != F_N || i != F_N)
			return err_set(e, "line %lu: not export's header "
			    "row", line);
		set->header = 1;
		return 0;
	}
	if (n != F_N)
		return err_set(e, "line %lu: %zu fields, expected %d", line,
		    n, F_N);
	if (import_entry(&r, &en) == -1)
		return -1;
	if (en.kind == ENTRY_COUNTERS)
		return 0;
	return entry_list_add(&set->list, &en, e);
}

/* Reads and checks all of file (stdin when NULL or "-") into set.
 * -1 = malformed or unreadable, 0 = done. */
static int
import_read(const char *file, struct import_set *set, struct err *e)
{
	FILE *f = stdin;
	int ret;

	if (file != NULL && strcmp(file, "-") != 0 &&
	    (f = fopen(file, "r")) == NULL)
		return err_set(e, "%s: %s", file, strerror(errno));
	ret = csvio_read(f, import_row_fn, set, e);
	if (f != stdin)
		fclose(f);
	if (ret == 0 && !set->header)
		ret = err_set(e, "no header row");
	return ret;
}

/* One transaction of import_store: up to IMPORT_TXN entries from off
 * on; next is where the following one starts. */
struct import_txn {
	const struct import_set *set;
	size_t	 off, next;
};

static int
import_txn_fn(struct store *s, void *arg, struct err *e)
{
	struct import_txn *a = arg;
	const struct import_set *set = a->set;
	struct entry en;
	size_t at = a->off, i;
	int ret;

	for (i = 0; i < IMPORT_TXN && entry_list_next(&set->list, &at,
	    &en) == 0; i++) {
		if (set->users != NULL && (en.kind == ENTRY_USER ||
		    en.kind == ENTRY_USERWL))
			continue;
		if ((ret = entry_put(s, set->conf, &en, set->now, e)) != 0)
			return ret;
	}
	a->next = at;
	return 0;
}

/* Adds the set's counters into shard 0, which after a wipe sets them. */
static int
import_count_fn(struct store *s, void *arg, struct err *e)
{
	const struct import_set *set = arg;

	return entry_count_add(s, 0, set->count, e);
}

/* With user settings in files: writes the set's user and userwl
 * entries there (into each user's file, or instead of all files with
 * replace). -1 = error, 0 = done. */
static int
import_users(const struct import_set *set, int replace, struct err *e)
{
	struct user_batch b = { NULL, 0, 0, 0 };
	struct entry en;
	size_t off = 0;
	int ret = 0;

	while (ret == 0 && entry_list_next(&set->list, &off, &en) == 0)
		if (user_batch_add(&b, replace ? NULL : set->users, &en) == -1)
			ret = err_set(e, "%s", strerror(ENOMEM));
	if (ret == 0 && replace)
		ret = userfile_clear(set->users, e);
	if (ret == 0)
		ret = user_batch_write(&b, set->users, e);
	user_batch_free(&b);
	return ret;
}

/* Writes the set: wipes the store first with replace, then the entries
 * in transactions of IMPORT_TXN, then the counters. -1 = error, 0 = done. */
static int
import_store(struct store *s, const struct import_set *set, int replace,
    struct err *e)
{
	struct import_txn a = { set, 0, 0 };
	size_t done = 0, n = set->list.kv.n, len = set->list.kv.len;
	int tty = isatty(STDERR_FILENO);

	if (replace && entry_wipe(s, e) == -1)
		return -1;
	if (set->users != NULL && import_users(set, replace, e) == -1)
		return -1;
	while (a.off < len) {
		if (store_run(s, import_txn_fn, &a, e) == -1 ||
		    store_yield(s, e) == -1)
			return -1;
		a.off = a.next;
		done += IMPORT_TXN;
		if (tty && (done % IMPORT_PROGRESS == 0 || a.off == len))
			fprintf(stderr, "\r%zu of %zu entries%s", done < n ?
			    done : n, n, a.off == len ? "\n" : "");
	}
	if (set->seen != 0 && store_run(s, import_count_fn,
	    (void *)(uintptr_t)set, e) == -1)
		return -1;
	return 0;
}

struct import_args {
	int	 replace;
	const char *postgrey;
	const char *file;
};

static int
import_parse(int argc, char **argv, struct import_args *a)
{
	static const struct option opts[] = {
		{ "replace", no_argument, NULL, 'r' },
		{ "postgrey", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 0;	/* a full reset: main parsed its options with '+' */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			a->replace = 1;
			break;
		case 'p':
			a->postgrey = optarg;
			break;
		default:
			return cmd_error("import: unknown option or missing "
			    "value '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc)
		return cmd_error("import: unexpected argument '%s'",
		    argv[optind]);
	if (a->postgrey != NULL && (a->replace || a->file != NULL))
		return cmd_error("import: --postgrey FILE takes no other "
		    "arguments");
	return 0;
}

int
cmd_import(struct ctx *x, int argc, char **argv)
{
	struct import_args a;
	struct import_set set;
	size_t n;
	struct store *s;
	struct err e;
	int ret;

	if (import_parse(argc, argv, &a) != 0)
		return EXIT_ERROR;
	memset(&set, 0, sizeof(set));
	set.conf = &x->conf;
	set.now = x->now;
	if (a.postgrey != NULL)
		ret = postgrey_read(&x->conf, a.postgrey, &set, &e);
	else
		ret = import_read(a.file, &set, &e);
	if (ret == 0 && (s = cmd_open(x)) == NULL) {
		entry_list_free(&set.list);
		return EXIT_ERROR;
	}
	if (ret == 0) {
		set.users = users_in_files(&x->conf) ? x->conf.database : NULL;
		ret = import_store(s, &set, a.replace, &e);
		store_close(s);
	}
	n = set.list.kv.n;
	entry_list_free(&set.list);
	if (ret != 0)
		return cmd_error("import: %s", e.msg);
	if (a.postgrey != NULL)
		printf("imported %zu entries, skipped %zu\n", n,
		    set.skipped);
	else
		printf("imported %zu entries\n", n);
	if (fflush(stdout) == EOF)
		return cmd_error("import: cannot write: %s", strerror(errno));
	return 0;
}
