/* The configuration file, greylist.conf(5): built-in defaults, keyword
 * value lines, and the exempt_file lists they name. */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "conf.h"
#include "defaults.h"
#include "err.h"
#include "tuple.h"

#define CONF_LINE_MAX	4096		/* bytes, without the newline */
#define CONF_SHOW_MAX	80		/* bytes of a bad value quoted back */
#define CONF_TIMEOUT_MAX_MS 60000
#define CONF_SPACE	" \t\r\n\v\f"
#define CONF_LISTSEP	" \t\r\n\v\f,"

/* Longer durations are typing mistakes, and the cap keeps time + duration
 * far from int64_t overflow wherever a duration is added to a time. */
#define CONF_DURATION_MAX (100LL * 365 * 24 * 60 * 60)

#define CONF_FIELD(c, kw, type)	((type *)((char *)(c) + (kw)->off))

struct conf_pos {
	const char	*file;
	int		 line;
};

struct conf_kw;
typedef int conf_setfn(struct conf *, const struct conf_kw *, char *,
    const struct conf_pos *, struct err *);
typedef int conf_itemfn(struct conf *, const char *, const char **);
typedef int conf_linefn(struct conf *, char *, const struct conf_pos *,
    struct err *);

struct conf_kw {
	const char	*name;
	conf_setfn	*set;
	conf_itemfn	*item;		/* list keywords: one entry */
	size_t		 off;		/* scalar keywords: the field */
	int		 max;		/* prefix keywords */
	int		 raw;		/* the value is the rest of the line */
};

static int conf_err(const struct conf_pos *, struct err *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
conf_err(const struct conf_pos *pos, struct err *e, const char *fmt, ...)
{
	char	 msg[ERR_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, "%s: line %d: %s", pos->file, pos->line, msg);
}

/* A value as quoted back in a message: control bytes become '?' so that
 * the message stays one line, and long values are cut. */
static const char *
conf_show(const char *s, char *buf, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; p[i] != '\0' && i + 4 < len; i++)
		buf[i] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	if (p[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static char *
conf_trim(char *s)
{
	size_t	 n;

	s += strspn(s, CONF_SPACE);
	n = strlen(s);
	while (n > 0 && strchr(CONF_SPACE, s[n - 1]) != NULL)
		s[--n] = '\0';
	return s;
}

/* Cuts s at the first '#' that starts s or follows whitespace. */
static void
conf_uncomment(char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '#' && (i == 0 || strchr(CONF_SPACE, s[i - 1]))) {
			s[i] = '\0';
			return;
		}
}

/* The next non-empty token of *pp, cut at one of sep; NULL at the end. */
static char *
conf_next(char **pp, const char *sep)
{
	char	*p = *pp + strspn(*pp, sep), *tok = p;

	if (*p == '\0')
		return NULL;
	p += strcspn(p, sep);
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return tok;
}

static int
conf_replace(char **dst, const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

/* Decimal digits s[0..len) into *out, at most max. -1 = not a number. */
static int
conf_number(const char *s, size_t len, int64_t max, int64_t *out)
{
	int64_t	 n = 0;
	size_t	 i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || n > (max - (s[i] - '0')) / 10)
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	*out = n;
	return 0;
}

/* -1 = not a duration, 0 = done. */
int
conf_duration(const char *s, int64_t *secs)
{
	int64_t	 n, mult = 1;
	size_t	 len;

	len = strspn(s, "0123456789");
	if (s[len] != '\0') {
		if (s[len + 1] != '\0')
			return -1;
		switch (s[len]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 60 * 60; break;
		case 'd': mult = 24 * 60 * 60; break;
		case 'w': mult = 7 * 24 * 60 * 60; break;
		default: return -1;
		}
	}
	if (conf_number(s, len, CONF_DURATION_MAX / mult, &n) == -1)
		return -1;
	*secs = n * mult;
	return 0;
}

/* A duration as the shortest text that reads back the same: "5m", "90s". */
static const char *
conf_fmt_duration(int64_t secs, char *buf, size_t len)
{
	static const struct {
		int64_t	 secs;
		char	 unit;
	} units[] = {
		{ 7 * 24 * 60 * 60, 'w' }, { 24 * 60 * 60, 'd' },
		{ 60 * 60, 'h' }, { 60, 'm' }
	};
	size_t	 i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (secs > 0 && secs % units[i].secs == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		snprintf(buf, len, "%llds", (long long)secs);
	else
		snprintf(buf, len, "%lld%c", (long long)(secs / units[i].secs),
		    units[i].unit);
	return buf;
}

/* 1 = yes, 0 = no, -1 = neither. */
static int
conf_bool(const char *s)
{
	static const char *const words[][2] = {
		{ "no", "yes" }, { "off", "on" }, { "false", "true" },
		{ "0", "1" }
	};
	size_t	 i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i][0]) == 0)
			return 0;
		if (strcasecmp(s, words[i][1]) == 0)
			return 1;
	}
	return -1;
}

/* A user, group or header field name: printable ASCII, no colon. */
static int
conf_token_ok(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;

	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return 0;
	return 1;
}

/* A domain lower-cased into out (outlen bytes). -1 = not a domain. */
static int
conf_domain(const char *s, char *out, size_t outlen)
{
	size_t	 i;

	if (s[0] == '\0' || strlen(s) >= outlen)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < 33 || s[i] > 126 || s[i] == '@')
			return -1;
		out[i] = (char)addr_lower(s[i]);
	}
	out[i] = '\0';
	return 0;
}

static int
conf_cidr_add(struct cidrlist *l, const struct cidr *net)
{
	struct cidr	*v;
	size_t		 cap;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 8 : l->cap * 2;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(l->v, cap * sizeof(*v))) == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *net;
	return 0;
}

/* The items below return -1 with *why set for a bad entry, -1 with *why
 * left NULL when out of memory, 0 when added. */

static int
conf_nodelay_item(struct conf *c, const char *s, const char **why)
{
	struct cidr	 net;

	if (addr_parse_cidr(s, &net) == -1) {
		*why = "not an IP network";
		return -1;
	}
	if (conf_cidr_add(&c->no_delay, &net) == -1)
		return -1;
	/* no_delay and no_delay_text stay index for index. */
	if (strlist_add(&c->no_delay_text, s) == -1) {
		c->no_delay.n--;
		return -1;
	}
	return 0;
}

static int
conf_exempt_item(struct conf *c, const char *s, const char **why)
{
	char		 out[ADDR_MAX + 2];

	if (tuple_exempt(s, out, why) == -1)
		return -1;
	*why = NULL;
	return strlist_add(&c->exempt, out);
}

/* An exempt_file entry: a client network or a sender. */
static int
conf_file_item(struct conf *c, const char *s, const char **why)
{
	struct cidr	 net;

	if (addr_parse_cidr(s, &net) == 0)
		return conf_nodelay_item(c, s, why);
	if (conf_exempt_item(c, s, why) == 0)
		return 0;
	if (*why != NULL)
		*why = "not an IP network, address or @domain";
	return -1;
}

static int
conf_domain_item(struct conf *c, const char *s, const char **why)
{
	char	 out[ADDR_MAX + 1];

	if (conf_domain(s, out, sizeof(out)) == -1) {
		*why = "not a domain";
		return -1;
	}
	return strlist_add(&c->local_domains, out);
}

static int
conf_user_item(struct conf *c, const char *s, const char **why)
{
	if (!conf_token_ok(s)) {
		*why = "not a user name";
		return -1;
	}
	return strlist_add(&c->mta_users, s);
}

/* Applies fn to each item of a list separated by whitespace or commas;
 * name (NULL in an exempt_file) prefixes the messages. */
static int
conf_each(struct conf *c, const char *name, char *val,
    const struct conf_pos *pos, struct err *e, conf_itemfn *fn)
{
	char		*p, *item, show[CONF_SHOW_MAX];
	const char	*why;
	size_t		 n = 0;

	for (p = val; (item = conf_next(&p, CONF_LISTSEP)) != NULL;) {
		n++;
		why = NULL;
		if (fn(c, item, &why) == 0)
			continue;
		conf_show(item, show, sizeof(show));
		if (why == NULL)
			return conf_err(pos, e, "out of memory");
		if (name == NULL)
			return conf_err(pos, e, "%s '%s'", why, show);
		return conf_err(pos, e, "%s: %s '%s'", name, why, show);
	}
	if (n == 0 && name != NULL)
		return conf_err(pos, e, "%s: missing value", name);
	return 0;
}

/* Reads f line by line into fn; path names f in messages. */
static int
conf_read(struct conf *c, FILE *f, const char *path, conf_linefn *fn,
    struct err *e)
{
	struct conf_pos	 pos = { path, 0 };
	char		*buf = NULL;
	size_t		 cap = 0;
	ssize_t		 len;
	int		 rv = 0;

	while (rv == 0 && (len = getline(&buf, &cap, f)) != -1) {
		pos.line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (len > CONF_LINE_MAX)
			rv = conf_err(&pos, e, "line too long");
		else if (strlen(buf) != (size_t)len)
			rv = conf_err(&pos, e, "NUL byte in line");
		else
			rv = fn(c, buf, &pos, e);
	}
	if (rv == 0 && (ferror(f) || !feof(f)))
		rv = err_set(e, "%s: %s", path, strerror(errno));
	free(buf);
	return rv;
}

static int
conf_exempt_line(struct conf *c, char *line, const struct conf_pos *pos,
    struct err *e)
{
	conf_uncomment(line);
	return conf_each(c, NULL, line, pos, e, conf_file_item);
}

static int
conf_set_exempt_file(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	FILE		*f;
	struct stat	 st;
	char		 show[CONF_SHOW_MAX];
	int		 rv, error = 0;

	if ((f = fopen(val, "r")) == NULL)
		return conf_err(pos, e, "%s: %s: %s", kw->name,
		    conf_show(val, show, sizeof(show)), strerror(errno));
	if (fstat(fileno(f), &st) == -1)
		error = errno;
	else if (S_ISDIR(st.st_mode))
		error = EISDIR;
	if (error != 0) {
		rv = conf_err(pos, e, "%s: %s: %s", kw->name,
		    conf_show(val, show, sizeof(show)), strerror(error));
		fclose(f);
		return rv;
	}
	rv = conf_read(c, f, conf_show(val, show, sizeof(show)),
	    conf_exempt_line, e);
	fclose(f);
	return rv;
}

static int
conf_set_list(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	return conf_each(c, kw->name, val, pos, e, kw->item);
}

static int
conf_set_database(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	if (val[0] != '/')
		return conf_err(pos, e, "%s: must be an absolute path",
		    kw->name);
	if (conf_replace(&c->database, val) == -1)
		return conf_err(pos, e, "out of memory");
	return 0;
}

static int
conf_set_duration(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	char	 show[CONF_SHOW_MAX];

	if (conf_duration(val, CONF_FIELD(c, kw, int64_t)) == -1)
		return conf_err(pos, e, "%s: bad duration '%s'", kw->name,
		    conf_show(val, show, sizeof(show)));
	return 0;
}

/* Durations as for conf_duration, or milliseconds as "500ms". */
static int
conf_set_timeout(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	char	 show[CONF_SHOW_MAX];
	size_t	 len = strlen(val);
	int64_t	 n;
	int	 rv;

	if (len > 2 && strcmp(val + len - 2, "ms") == 0)
		rv = conf_number(val, len - 2, CONF_DURATION_MAX, &n);
	else if ((rv = conf_duration(val, &n)) == 0)
		n *= 1000;
	if (rv == -1)
		return conf_err(pos, e, "%s: bad duration '%s'", kw->name,
		    conf_show(val, show, sizeof(show)));
	if (n < 1 || n > CONF_TIMEOUT_MAX_MS)
		return conf_err(pos, e, "%s: must be 1ms to 60s", kw->name);
	*CONF_FIELD(c, kw, int) = (int)n;
	return 0;
}

static int
conf_set_prefix(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	int64_t	 n;

	if (conf_number(val, strlen(val), kw->max, &n) == -1)
		return conf_err(pos, e, "%s: must be 0 to %d", kw->name,
		    kw->max);
	*CONF_FIELD(c, kw, int) = (int)n;
	return 0;
}

static int
conf_set_bool(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	int	 b;

	if ((b = conf_bool(val)) == -1)
		return conf_err(pos, e, "%s: expected yes or no", kw->name);
	*CONF_FIELD(c, kw, int) = b;
	return 0;
}

/* The SMTP reply: one line of printable ASCII (RFC 5321 reply text),
 * a 4xx code, and only the escapes policy_reply() expands. */
static int
conf_set_reply(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	const char	*p;

	for (p = val; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return conf_err(pos, e, "%s: must be printable ASCII",
			    kw->name);
	if (val[0] != '4' || val[1] < '0' || val[1] > '9' || val[2] < '0' ||
	    val[2] > '9' || val[3] != ' ')
		return conf_err(pos, e, "%s: must start with a 4xx code",
		    kw->name);
	for (p = val; (p = strchr(p, '%')) != NULL; p += 2)
		if (p[1] == '\0' || strchr("rsnd%", p[1]) == NULL)
			return conf_err(pos, e, "%s: unknown escape '%%%.1s'",
			    kw->name, p + 1);
	if (conf_replace(&c->reply, val) == -1)
		return conf_err(pos, e, "out of memory");
	return 0;
}

/* 1 = printable ASCII without spaces, 0 = not. */
static int
conf_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 33 || *s > 126)
			return 0;
	return 1;
}

/* "host:port" with a port of 1 to 65535. 1 = valid, 0 = not. */
static int
conf_hostport(const char *s)
{
	const char	*colon = strrchr(s, ':');
	int64_t		 port;

	return colon != NULL && colon != s && conf_printable(s) &&
	    conf_number(colon + 1, strlen(colon + 1), 65535, &port) == 0 &&
	    port > 0;
}

static int
conf_set_server(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	char	 show[CONF_SHOW_MAX];

	if (!(strncmp(val, "unix:/", 6) == 0 && conf_printable(val)) &&
	    !conf_hostport(val))
		return conf_err(pos, e, "%s: expected unix:/PATH or HOST:PORT, "
		    "not '%s'", kw->name, conf_show(val, show, sizeof(show)));
	if (conf_replace(CONF_FIELD(c, kw, char *), val) == -1)
		return conf_err(pos, e, "out of memory");
	return 0;
}

static int
conf_sentinel_item(struct conf *c, const char *s, const char **why)
{
	if (!conf_hostport(s)) {
		*why = "not HOST:PORT";
		return -1;
	}
	return strlist_add(&c->redis_sentinels, s);
}

static int
conf_set_backend(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	if (strcmp(val, "bdb") == 0)
		c->backend = BACKEND_BDB;
	else if (strcmp(val, "redis") == 0)
		c->backend = BACKEND_REDIS;
	else
		return conf_err(pos, e, "%s: expected bdb or redis", kw->name);
	return 0;
}

/* The password is the file's first line; the file stays the admin's. */
static int
conf_set_password(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	char	 buf[512], show[CONF_SHOW_MAX];
	FILE	*f;
	size_t	 n;

	if ((f = fopen(val, "r")) == NULL)
		return conf_err(pos, e, "%s: %s: %s", kw->name,
		    conf_show(val, show, sizeof(show)), strerror(errno));
	n = fgets(buf, sizeof(buf), f) != NULL ? strcspn(buf, "\r\n") : 0;
	fclose(f);
	if (n == sizeof(buf) - 1)
		return conf_err(pos, e, "%s: %s: password longer than %zu bytes",
		    kw->name, conf_show(val, show, sizeof(show)),
		    sizeof(buf) - 2);
	buf[n] = '\0';
	if (n == 0)
		return conf_err(pos, e, "%s: %s: no password on its first line",
		    kw->name, conf_show(val, show, sizeof(show)));
	if (conf_replace(&c->redis_password, buf) == -1)
		return conf_err(pos, e, "out of memory");
	return 0;
}

/* One word of printable ASCII: redis_prefix and redis_master. */
static int
conf_set_word(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	char	 show[CONF_SHOW_MAX];

	if (val[0] == '\0' || !conf_printable(val) || strlen(val) > 100)
		return conf_err(pos, e, "%s: not one word of printable ASCII "
		    "'%s'", kw->name, conf_show(val, show, sizeof(show)));
	if (conf_replace(CONF_FIELD(c, kw, char *), val) == -1)
		return conf_err(pos, e, "out of memory");
	return 0;
}

/* header (RFC 5322 field name) and admin_group. */
static int
conf_set_name(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	char	 show[CONF_SHOW_MAX];

	if (!conf_token_ok(val))
		return conf_err(pos, e, "%s: not a valid name '%s'", kw->name,
		    conf_show(val, show, sizeof(show)));
	if (conf_replace(CONF_FIELD(c, kw, char *), val) == -1)
		return conf_err(pos, e, "out of memory");
	return 0;
}

/* client_identity: spf, ptr and net, each at most once, net last. */
static int
conf_set_identity(struct conf *c, const struct conf_kw *kw, char *val,
    const struct conf_pos *pos, struct err *e)
{
	static const char *const names[] = { "spf", "ptr", "net" };
	unsigned char order[IDENT_ORDER_MAX + 1] = { IDENT_END };
	char	*p = val, *w, show[CONF_SHOW_MAX];
	size_t	 n = 0, i;

	while ((w = conf_next(&p, CONF_LISTSEP)) != NULL) {
		for (i = 0; i < 3 && strcmp(w, names[i]) != 0; i++)
			;
		if (i == 3)
			return conf_err(pos, e, "%s: expected spf, ptr or net, "
			    "not '%s'", kw->name,
			    conf_show(w, show, sizeof(show)));
		if (memchr(order, IDENT_SPF + (int)i, n) != NULL)
			return conf_err(pos, e, "%s: %s given twice",
			    kw->name, w);
		if (n > 0 && order[n - 1] == IDENT_NET)
			return conf_err(pos, e, "%s: net must come last",
			    kw->name);
		order[n++] = (unsigned char)(IDENT_SPF + i);
		order[n] = IDENT_END;
	}
	memcpy(c->client_identity, order, sizeof(order));
	return 0;
}

#define CONF_OFF(f)	offsetof(struct conf, f)

static const struct conf_kw conf_kws[] = {
	{ "database", conf_set_database, NULL, 0, 0, 0 },
	{ "embargo", conf_set_duration, NULL, CONF_OFF(embargo), 0, 0 },
	{ "retry_window", conf_set_duration, NULL, CONF_OFF(retry_window),
	    0, 0 },
	{ "whitelist_lifetime", conf_set_duration, NULL,
	    CONF_OFF(whitelist_lifetime), 0, 0 },
	{ "ipv4_prefix", conf_set_prefix, NULL, CONF_OFF(ipv4_prefix), 32, 0 },
	{ "ipv6_prefix", conf_set_prefix, NULL, CONF_OFF(ipv6_prefix), 128, 0 },
	{ "no_delay", conf_set_list, conf_nodelay_item, 0, 0, 0 },
	{ "exempt", conf_set_list, conf_exempt_item, 0, 0, 0 },
	{ "exempt_file", conf_set_exempt_file, NULL, 0, 0, 0 },
	{ "local_domains", conf_set_list, conf_domain_item, 0, 0, 0 },
	{ "client_identity", conf_set_identity, NULL, 0, 0, 0 },
	{ "spf_bypass", conf_set_bool, NULL, CONF_OFF(spf_bypass), 0, 0 },
	{ "normalize_verp", conf_set_bool, NULL, CONF_OFF(normalize_verp),
	    0, 0 },
	{ "privacy", conf_set_bool, NULL, CONF_OFF(privacy), 0, 0 },
	{ "log_stderr", conf_set_bool, NULL, CONF_OFF(log_stderr), 0, 0 },
	{ "reply", conf_set_reply, NULL, 0, 0, 1 },
	{ "header", conf_set_name, NULL, CONF_OFF(header), 0, 0 },
	{ "mta_users", conf_set_list, conf_user_item, 0, 0, 0 },
	{ "admin_group", conf_set_name, NULL, CONF_OFF(admin_group), 0, 0 },
	{ "timeout", conf_set_timeout, NULL, CONF_OFF(timeout_ms), 0, 0 },
	{ "backend", conf_set_backend, NULL, 0, 0, 0 },
	{ "redis_server", conf_set_server, NULL, CONF_OFF(redis_server), 0, 0 },
	{ "redis_password_file", conf_set_password, NULL, 0, 0, 0 },
	{ "redis_prefix", conf_set_word, NULL, CONF_OFF(redis_prefix), 0, 0 },
	{ "redis_timeout", conf_set_timeout, NULL, CONF_OFF(redis_timeout_ms),
	    0, 0 },
	{ "redis_sentinels", conf_set_list, conf_sentinel_item, 0, 0, 0 },
	{ "redis_master", conf_set_word, NULL, CONF_OFF(redis_master), 0, 0 },
};

/* -1 = error, 0 = done; blank and comment lines are done at once. */
int
conf_line(struct conf *c, const char *line, const char *file, int lineno,
    struct err *e)
{
	struct conf_pos		 pos = { file, lineno };
	const struct conf_kw	*kw = NULL;
	char			*buf, *key, *val, show[CONF_SHOW_MAX];
	size_t			 i;
	int			 rv;

	if ((buf = strdup(line)) == NULL)
		return conf_err(&pos, e, "out of memory");
	key = buf + strspn(buf, CONF_SPACE);
	val = key + strcspn(key, CONF_SPACE);
	if (*val != '\0')
		*val++ = '\0';
	for (i = 0; i < sizeof(conf_kws) / sizeof(conf_kws[0]); i++)
		if (strcmp(key, conf_kws[i].name) == 0)
			kw = &conf_kws[i];
	if (*key == '\0' || *key == '#')
		rv = 0;
	else if (kw == NULL)
		rv = conf_err(&pos, e, "unknown keyword '%s'",
		    conf_show(key, show, sizeof(show)));
	else {
		/* The reply text may hold '#'; it is the whole rest. */
		if (!kw->raw)
			conf_uncomment(val);
		val = conf_trim(val);
		if (*val == '\0')
			rv = conf_err(&pos, e, "%s: missing value", kw->name);
		else
			rv = kw->set(c, kw, val, &pos, e);
	}
	free(buf);
	return rv;
}

static int
conf_file_line(struct conf *c, char *line, const struct conf_pos *pos,
    struct err *e)
{
	return conf_line(c, line, pos->file, pos->line, e);
}

/* The first mta_users or local_domains of a file replaces the list
 * before it; old is what the list held before the file. */
static void
conf_keep(struct strlist *cur, struct strlist *old)
{
	if (cur->n == 0) {
		strlist_free(cur);
		*cur = *old;
	} else
		strlist_free(old);
}

static int
conf_check(const struct conf *c, const char *path, struct err *e)
{
	char	 a[32], b[32];

	if (c->retry_window <= c->embargo)
		return err_set(e, "%s: retry_window (%s) must be longer than "
		    "embargo (%s)", path,
		    conf_fmt_duration(c->retry_window, a, sizeof(a)),
		    conf_fmt_duration(c->embargo, b, sizeof(b)));
	if (c->whitelist_lifetime <= 0)
		return err_set(e, "%s: whitelist_lifetime must be longer "
		    "than 0", path);
	if (c->backend == BACKEND_REDIS && c->redis_server == NULL &&
	    (c->redis_sentinels.n == 0 || c->redis_master == NULL))
		return err_set(e, "%s: backend redis needs redis_server, or "
		    "redis_sentinels and redis_master", path);
	return 0;
}

/* -1 = error ("PATH: line N: ..." in e), 0 = done. */
int
conf_load(struct conf *c, const char *path, int missing_ok, struct err *e)
{
	struct strlist	 users, domains;
	FILE		*f;
	int		 rv;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return err_set(e, "%s: %s", path, strerror(errno));
	}
	users = c->mta_users;
	domains = c->local_domains;
	memset(&c->mta_users, 0, sizeof(c->mta_users));
	memset(&c->local_domains, 0, sizeof(c->local_domains));
	rv = conf_read(c, f, path, conf_file_line, e);
	fclose(f);
	conf_keep(&c->mta_users, &users);
	conf_keep(&c->local_domains, &domains);
	if (rv == 0)
		rv = conf_check(c, path, e);
	return rv;
}

void
conf_init(struct conf *c, const char *dbdir)
{
	char	 users[] = DEF_MTA_USERS, *p, *u;

	memset(c, 0, sizeof(*c));
	if (dbdir != NULL)
		c->database = strdup(dbdir);
	c->embargo = DEF_EMBARGO;
	c->retry_window = DEF_RETRY_WINDOW;
	c->whitelist_lifetime = DEF_WL_LIFETIME;
	c->ipv4_prefix = DEF_IPV4_PREFIX;
	c->ipv6_prefix = DEF_IPV6_PREFIX;
	c->client_identity[0] = IDENT_SPF;
	c->client_identity[1] = IDENT_PTR;
	c->client_identity[2] = IDENT_NET;
	c->client_identity[3] = IDENT_END;
	c->reply = strdup(DEF_REPLY);
	c->header = strdup(DEF_HEADER);
	c->admin_group = strdup(DEF_ADMIN_GROUP);
	c->timeout_ms = DEF_TIMEOUT_MS;
	c->redis_prefix = strdup(DEF_REDIS_PREFIX);
	c->redis_timeout_ms = DEF_REDIS_TIMEOUT_MS;
	for (p = users; (u = conf_next(&p, " ")) != NULL;)
		strlist_add(&c->mta_users, u);
}

/* 1 = the domain (lower-case) is local, 0 = not. */
int
conf_is_local_domain(const struct conf *c, const char *domain)
{
	size_t	 i;

	if (c->local_domains.n == 0)
		return 1;
	for (i = 0; i < c->local_domains.n; i++)
		if (strcasecmp(c->local_domains.v[i], domain) == 0)
			return 1;
	return 0;
}

void
conf_free(struct conf *c)
{
	free(c->database);
	free(c->no_delay.v);
	strlist_free(&c->no_delay_text);
	strlist_free(&c->exempt);
	strlist_free(&c->local_domains);
	free(c->reply);
	free(c->header);
	strlist_free(&c->mta_users);
	free(c->admin_group);
	free(c->redis_server);
	free(c->redis_password);
	free(c->redis_prefix);
	strlist_free(&c->redis_sentinels);
	free(c->redis_master);
	memset(c, 0, sizeof(*c));
}

/* -1 = out of memory, 0 = added. */
int
strlist_add(struct strlist *l, const char *s)
{
	char	**v, *d;
	size_t	  cap;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 8 : l->cap * 2;
		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(l->v, cap * sizeof(*v))) == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if ((d = strdup(s)) == NULL)
		return -1;
	l->v[l->n++] = d;
	return 0;
}

/* 1 = s is in l (exactly), 0 = not. */
int
strlist_has(const struct strlist *l, const char *s)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void
strlist_free(struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
