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
#include "import.h"
#include "policy.h"
#include "record.h"
#include "store.h"
#include "user.h"
#include "tuple.h"

#define EXPORT_BATCH	500	/* entries per scan transaction */
#define EXPORT_NUM	24	/* bytes for a 64-bit decimal number */
#define IMPORT_TXN	100	/* entries written per transaction */
#define IMPORT_TRIES	50	/* conflicts before a transaction gives up */
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
	{ "triplet", REC_TRIPLET, FB(F_NET) | FB(F_SENDER) | FB(F_RCPT) |
	    FB(F_FIRST) | FB(F_LAST) | FB(F_PASSED) | FB(F_BLOCKED) |
	    FB(F_PASSES), import_triplet },
	{ "tuplet", REC_TUPLET, FB(F_NET) | FB(F_DOMAIN) | FB(F_FIRST) |
	    FB(F_LAST) | FB(F_PASSES), import_tuplet },
	{ "exempt", REC_EXEMPT, FB(F_ENTRY) | FB(F_FIRST), import_exempt },
	{ "no_delay", REC_NODELAY, FB(F_ENTRY) | FB(F_FIRST), import_nodelay },
	{ "counter", REC_COUNTERS, FB(F_ENTRY) | FB(F_COUNT), import_counter },
	{ "user", REC_USER, FB(F_RCPT) | FB(F_ENTRY) | FB(F_FIRST) |
	    FB(F_PASSES), import_user },
	{ "userwl", REC_USERWL, FB(F_RCPT) | FB(F_ENTRY) | FB(F_FIRST),
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
	case REC_TRIPLET:
		v[F_SENDER] = en->sender;
		v[F_RCPT] = en->rcpt;
		if (r->passed != 0)
			v[F_PASSED] = export_num(num[2], (uint64_t)r->passed);
		v[F_BLOCKED] = export_num(num[3], r->blocked);
		/* FALLTHROUGH */
	case REC_TUPLET:
		v[F_NET] = en->net;
		if (en->kind == REC_TUPLET)
			v[F_DOMAIN] = en->domain;
		v[F_LAST] = export_num(num[1], (uint64_t)r->last);
		v[F_PASSES] = export_num(num[4], r->passes);
		break;
	case REC_USER:
		v[F_RCPT] = en->login;
		v[F_ENTRY] = r->flags & USER_OFF ? "off" : "on";
		v[F_PASSES] = export_num(num[4], r->passes);
		break;
	case REC_USERWL:
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
		v[F_TYPE] = export_type(REC_COUNTERS);
		v[F_ENTRY] = record_counter_name(i);
		v[F_COUNT] = export_num(num, count[i]);
		if (csvio_row(f, v, F_N) == -1)
			return -1;
	}
	return 0;
}

struct export_state {
	FILE	*f;
	uint64_t count[CNT_N];
	unsigned long corrupt;
	int	 failed;		/* a write failed */
	const char *dir;	/* user settings in dir/users, else NULL */
	int	 wl_done, user_done, in_files;
	struct err e;
};

static int	export_fn(const void *, size_t, const void *, size_t, void *);

/* With user settings in files, their rows go where the store's records
 * would sort, before the first key of a kind past them (upto).
 * -1 = error (in st->e), 0 = done. */
static int
export_users(struct export_state *st, int upto)
{
	int ret = 0;

	if (st->dir == NULL || st->in_files)
		return 0;
	st->in_files = 1;
	if (!st->wl_done && upto > REC_USERWL) {
		st->wl_done = 1;
		ret = userfile_scan(st->dir, REC_USERWL, export_fn, st, &st->e);
	}
	if (ret == 0 && !st->user_done && upto > REC_USER) {
		st->user_done = 1;
		ret = userfile_scan(st->dir, REC_USER, export_fn, st, &st->e);
	}
	st->in_files = 0;
	return ret;
}

static int
export_fn(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct export_state *st = arg;
	uint8_t k = *(const uint8_t *)key;
	struct entry en;
	int i;

	if (st->dir != NULL && !st->in_files) {
		if (k == REC_USER || k == REC_USERWL)
			return SCAN_NEXT;	/* left by a migration cut short */
		if (export_users(st, k) == -1) {
			st->failed = 1;
			return SCAN_STOP;
		}
	}
	if (k == REC_META)
		return SCAN_NEXT;
	if (entry_decode(key, klen, val, vlen, &en) == -1 ||
	    export_type(en.kind) == NULL) {
		st->corrupt++;
		return SCAN_NEXT;
	}
	if (en.kind == REC_COUNTERS) {
		for (i = 0; i < CNT_N; i++)
			st->count[i] += en.r.count[i];
		return SCAN_NEXT;
	}
	if (export_entry(st->f, &en) == -1) {
		st->failed = 1;
		return SCAN_STOP;
	}
	return SCAN_NEXT;
}

int
cmd_export(struct ctx *x, int argc, char **argv)
{
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
	st.dir = users_in_files(&x->conf) ? x->conf.database : NULL;
	if (csvio_row(stdout, export_header, F_N) == -1)
		st.failed = 1;
	else
		ret = store_scan(s, "", 0, EXPORT_BATCH, export_fn, &st, &e);
	store_close(s);
	if (ret == 0 && !st.failed && export_users(&st, 0x100) == -1)
		st.failed = 1;
	if (ret == -1)
		return cmd_error("export: %s", e.msg);
	if (st.e.msg[0] != '\0')
		return cmd_error("export: %s", st.e.msg);
	if (!st.failed && export_counters(stdout, st.count) == -1)
		st.failed = 1;
	if (fflush(stdout) == EOF || st.failed)
		return cmd_error("export: cannot write: %s", strerror(errno));
	if (st.corrupt > 0)
		return cmd_error("export: %lu corrupt entries left out",
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
	    import_num(r, F_FIRST, REC_TIME_MAX, &v[0]) == -1 ||
	    import_num(r, F_LAST, REC_TIME_MAX, &v[1]) == -1 ||
	    (r->f[F_PASSED][0] != '\0' &&
	    import_num(r, F_PASSED, REC_TIME_MAX, &v[2]) == -1) ||
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
	if (import_num(r, F_FIRST, REC_TIME_MAX, &v[0]) == -1 ||
	    import_num(r, F_LAST, REC_TIME_MAX, &v[1]) == -1 ||
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
	if (import_num(r, F_FIRST, REC_TIME_MAX, &first) == -1)
		return -1;
	en->r.first = (int64_t)first;
	return 0;
}

static int
import_nodelay(const struct import_row *r, struct entry *en)
{
	uint64_t first;

	if (import_net(r, F_ENTRY, en->text) == -1 ||
	    import_num(r, F_FIRST, REC_TIME_MAX, &first) == -1)
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
	if (import_num(r, F_FIRST, REC_TIME_MAX, &first) == -1 ||
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
	for (i = 0; (name = record_counter_name(i)) != NULL; i++)
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

int
import_add(struct import_set *set, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, struct err *e)
{
	size_t need = 4 + klen + vlen, cap;
	uint8_t *p;

	if (set->len + need > set->cap) {
		for (cap = set->cap ? set->cap : 65536; cap < set->len + need;)
			cap *= 2;
		if ((p = realloc(set->buf, cap)) == NULL)
			return err_set(e, "%s", strerror(errno));
		set->buf = p;
		set->cap = cap;
	}
	p = set->buf + set->len;
	p[0] = (uint8_t)(klen >> 8);
	p[1] = (uint8_t)klen;
	p[2] = (uint8_t)(vlen >> 8);
	p[3] = (uint8_t)vlen;
	memcpy(p + 4, key, klen);
	memcpy(p + 4 + klen, val, vlen);
	set->len += need;
	set->n++;
	return 0;
}

/* Points *k and *v at the entry at *off and moves *off past it. */
static void
import_next(const struct import_set *set, size_t *off, const uint8_t **k,
    size_t *klen, const uint8_t **v, size_t *vlen)
{
	const uint8_t *p = set->buf + *off;

	*klen = (size_t)p[0] << 8 | p[1];
	*vlen = (size_t)p[2] << 8 | p[3];
	*k = p + 4;
	*v = p + 4 + *klen;
	*off += 4 + *klen + *vlen;
}

static int
import_row_fn(char **f, size_t n, unsigned long line, void *arg,
    struct err *e)
{
	struct import_set *set = arg;
	struct import_row r = { f, line, set, e };
	struct entry en;
	uint8_t key[KEY_MAX], val[REC_MAX];
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
	if (en.kind == REC_COUNTERS)
		return 0;
	return import_add(set, key, entry_key(&en, key), val,
	    record_encode(&en.r, val), e);
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

/* One transaction putting up to IMPORT_TXN entries from *off on; moves
 * *off past them once committed. -2 = retry, -1 = error, 0 = done. */
static int
import_txn(struct store *s, const struct import_set *set, size_t *off,
    struct err *e)
{
	const uint8_t *k, *v;
	size_t klen, vlen, at = *off, i;
	int ret;

	if ((ret = store_begin(s, e)) != 0)
		return ret;
	for (i = 0; i < IMPORT_TXN && at < set->len; i++) {
		import_next(set, &at, &k, &klen, &v, &vlen);
		if (set->users != NULL && (k[0] == REC_USER ||
		    k[0] == REC_USERWL))
			continue;
		if ((ret = store_put(s, k, klen, v, vlen, policy_ttl(set->conf,
		    k, klen, v, vlen, set->now), e)) != 0) {
			store_abort(s);
			return ret;
		}
	}
	if ((ret = store_commit(s, e)) != 0)
		return ret;
	*off = at;
	return 0;
}

/* Adds the set's counters into shard 0 (read, add, write), which after a
 * wipe sets them. -2 = retry, -1 = error, 0 = done. */
static int
import_count_txn(struct store *s, const struct import_set *set,
    size_t *unused, struct err *e)
{
	uint8_t key[4], val[REC_MAX];
	size_t klen = record_key_counters(0, key), vlen = sizeof(val);
	struct record r;
	int ret, i;

	(void)unused;
	if ((ret = store_begin(s, e)) != 0)
		return ret;
	ret = store_get(s, key, klen, val, &vlen, 1, e);
	if (ret < 0) {
		store_abort(s);
		return ret;
	}
	if (ret == 0 || record_decode(val, vlen, &r) == -1 ||
	    r.kind != REC_COUNTERS) {
		memset(&r, 0, sizeof(r));
		r.kind = REC_COUNTERS;
	}
	for (i = 0; i < CNT_N; i++)
		r.count[i] = r.count[i] > UINT64_MAX - set->count[i] ?
		    UINT64_MAX : r.count[i] + set->count[i];
	if ((ret = store_put(s, key, klen, val, record_encode(&r, val), 0,
	    e)) != 0) {
		store_abort(s);
		return ret;
	}
	return store_commit(s, e);
}

static int
import_wipe_fn(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	(void)klen;
	(void)val;
	(void)vlen;
	(void)arg;
	return *(const uint8_t *)key == REC_META ? SCAN_NEXT : SCAN_DELETE;
}

/* Runs fn until it does not meet a conflict. -1 = error, 0 = done. */
static int
import_retry(struct store *s, const struct import_set *set, size_t *off,
    int (*fn)(struct store *, const struct import_set *, size_t *,
    struct err *), struct err *e)
{
	int ret, tries;

	for (tries = 0; tries < IMPORT_TRIES; tries++)
		if ((ret = fn(s, set, off, e)) != STORE_RETRY)
			return ret == 0 ? 0 : -1;
	return err_set(e, "database too busy: gave up after %d conflicts",
	    tries);
}

/* With user settings in files: writes the set's user and userwl
 * entries there (into each user's file, or instead of all files with
 * replace). -1 = error, 0 = done. */
static int
import_users(const struct import_set *set, int replace, struct err *e)
{
	struct user_batch b = { NULL, 0, 0, 0 };
	const uint8_t *k, *v;
	size_t klen, vlen, off = 0;
	int ret = 0;

	while (off < set->len && ret == 0) {
		import_next(set, &off, &k, &klen, &v, &vlen);
		if (k[0] == REC_USER || k[0] == REC_USERWL)
			ret = user_batch_add(&b, replace ? NULL : set->users, k,
			    klen, v, vlen) == -1 ? err_set(e, "%s",
			    strerror(ENOMEM)) : 0;
	}
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
	size_t off = 0, done = 0;
	int tty = isatty(STDERR_FILENO);

	if (replace && store_scan(s, "", 0, EXPORT_BATCH, import_wipe_fn,
	    NULL, e) == -1)
		return -1;
	if (set->users != NULL && import_users(set, replace, e) == -1)
		return -1;
	while (off < set->len) {
		if (import_retry(s, set, &off, import_txn, e) == -1 ||
		    store_yield(s, e) == -1)
			return -1;
		done += IMPORT_TXN;
		if (tty && (done % IMPORT_PROGRESS == 0 || off == set->len))
			fprintf(stderr, "\r%zu of %zu entries%s", done < set->n ?
			    done : set->n, set->n, off == set->len ? "\n" : "");
	}
	if (set->seen != 0 &&
	    import_retry(s, set, &off, import_count_txn, e) == -1)
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
		free(set.buf);
		return EXIT_ERROR;
	}
	if (ret == 0) {
		set.users = users_in_files(&x->conf) ? x->conf.database : NULL;
		ret = import_store(s, &set, a.replace, &e);
		store_close(s);
	}
	free(set.buf);
	if (ret != 0)
		return cmd_error("import: %s", e.msg);
	if (a.postgrey != NULL)
		printf("imported %zu entries, skipped %zu\n", set.n,
		    set.skipped);
	else
		printf("imported %zu entries\n", set.n);
	if (fflush(stdout) == EOF)
		return cmd_error("import: cannot write: %s", strerror(errno));
	return 0;
}
