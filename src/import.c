/* The CSV of export and import: its columns, its row types, and the
 * check of every row import reads, into entries kept in memory until the
 * whole file is known good (src/cmd_import.c writes them). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "csvio.h"
#include "entry.h"
#include "import.h"
#include "user.h"

const char *const import_header[F_N] = {
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

const char *
import_type_name(int kind)
{
	size_t i;

	for (i = 0; i < IMPORT_NTYPES; i++)
		if (import_types[i].kind == kind)
			return import_types[i].name;
	return NULL;
}


static int
import_bad(const struct import_row *r, int i, const char *why)
{
	return err_line(r->e, r->line, "%s: %s", import_header[i],
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
		return err_line(r->e, r->line, "%s: '%s' is not canonical "
		    "(should be %s)", import_header[i], s, out);
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
			return err_line(r->e, r->line, "%s: must be empty in "
			    "a %s row", import_header[i], t->name);
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
			if (strcmp(f[i], import_header[i]) != 0)
				break;
		if (n != F_N || i != F_N)
			return err_line(e, line, "not export's header "
			    "row");
		set->header = 1;
		return 0;
	}
	if (n != F_N)
		return err_line(e, line, "%zu fields, expected %d",
		    n, F_N);
	if (import_entry(&r, &en) == -1)
		return -1;
	if (en.kind == ENTRY_COUNTERS)
		return 0;
	return entry_list_add(&set->list, &en, e);
}

int
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
