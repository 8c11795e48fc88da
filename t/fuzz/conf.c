/* Fuzz target: the configuration file. The input up to its first NUL is
 * greylist.conf, read by conf_load; the rest is what any other file the
 * config names (exempt_file, redis_password_file) holds. No file is
 * opened: conf.c is included here with fopen and fstat replaced by ones
 * that serve the input from memory. The lines are also fed one by one to
 * conf_line (going on after errors) and to conf_duration. A config that
 * loads must hold what conf.h promises, and the reply and header built
 * from it must be one line. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

#define FZ_CONF	"/fuzz/greylist.conf"

static const uint8_t *fz_conf_text, *fz_other_text;
static size_t fz_conf_len, fz_other_len;

/* FZ_CONF is the config text, any other path the other text; an empty
 * text is a file that does not exist. */
static FILE *
fz_fopen(const char *path, const char *mode)
{
	const uint8_t *text = fz_other_text;
	size_t len = fz_other_len;

	FZ_ASSERT(strcmp(mode, "r") == 0);
	if (strcmp(path, FZ_CONF) == 0) {
		text = fz_conf_text;
		len = fz_conf_len;
	}
	if (len == 0) {
		errno = ENOENT;
		return NULL;
	}
	return fmemopen((void *)(uintptr_t)text, len, mode);
}

static int
fz_fstat(int fd, struct stat *st)
{
	(void)fd;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0644;
	return 0;
}

#define fopen(path, mode)	fz_fopen(path, mode)
#define fstat(fd, st)		fz_fstat(fd, st)
#include "../../lib/conf.c"
#undef fopen
#undef fstat

#include "policy.h"

/* A message printed as "greylist: MESSAGE" stays one line. */
static void
fz_one_line(const char *s)
{
	FZ_ASSERT(strpbrk(s, "\r\n") == NULL);
}

static void
fz_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++)
		FZ_ASSERT(*p >= 0x20 && *p != 0x7f);
}

static void
fz_lists(const struct conf *c)
{
	char out[ADDR_MAX + 2];
	const char *why;
	size_t i;

	FZ_ASSERT(c->no_delay.n == c->no_delay_text.n);
	for (i = 0; i < c->no_delay.n; i++)
		FZ_ASSERT(addr_in_cidr(&c->no_delay.v[i].addr,
		    &c->no_delay.v[i]));
	for (i = 0; i < c->exempt.n; i++) {
		FZ_ASSERT(tuple_exempt(c->exempt.v[i], out, &why) == 0);
		FZ_ASSERT(strcmp(out, c->exempt.v[i]) == 0);
	}
	for (i = 0; i < c->local_domains.n; i++) {
		FZ_ASSERT(strchr(c->local_domains.v[i], '@') == NULL);
		FZ_ASSERT(conf_is_local_domain(c, c->local_domains.v[i]));
	}
}

/* What policy builds from c for a few clients and senders. */
static void
fz_policy(const struct conf *c)
{
	static const char *const ips[] = { "192.0.2.1", "10.1.2.3",
	    "2001:db8::1", "::ffff:198.51.100.7" };
	static const char *const senders[] = { "", "alice@example.org",
	    "postmaster@example.com", "news@lists.example.com" };
	static const enum reason reasons[] = { R_NEW, R_DELAYED, R_AWL,
	    R_NODELAY, R_EXEMPT, R_SPF, R_USERWL };
	char line[1024];
	struct decision d;
	struct tuple t;
	const char *why;
	size_t i, j;

	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		FZ_ASSERT(tuple_make(&t, ips[i], senders[i], "bob@example.net",
		    c->ipv4_prefix, c->ipv6_prefix, c->normalize_verp,
		    &why) == 0);
		memset(&d, 0, sizeof(d));
		d.retry = c->embargo;
		d.delay = c->retry_window;
		if (policy_exempt(c, &t, "pass", &d))
			FZ_ASSERT(d.pass);
		for (j = 0; j < sizeof(reasons) / sizeof(reasons[0]); j++) {
			d.pass = reasons[j] != R_NEW;
			d.reason = reasons[j];
			policy_format(c, &t, &d, line, sizeof(line));
			fz_printable(line);
		}
	}
}

/* Durations that parse are in range and print back the same. */
static void
fz_duration(const char *s)
{
	char buf[32];
	int64_t secs, again;

	if (conf_duration(s, &secs) == -1)
		return;
	FZ_ASSERT(secs >= 0 && secs <= CONF_DURATION_MAX);
	conf_fmt_duration(secs, buf, sizeof(buf));
	FZ_ASSERT(conf_duration(buf, &again) == 0 && again == secs);
}

/* client_identity: spf, ptr and net at most once each, net last, then
 * IDENT_END. */
static void
fz_identity(const unsigned char *order)
{
	unsigned seen = 0;
	size_t i;

	for (i = 0; order[i] != IDENT_END; i++) {
		FZ_ASSERT(i < IDENT_ORDER_MAX);
		FZ_ASSERT(order[i] >= IDENT_SPF && order[i] <= IDENT_NET);
		FZ_ASSERT(!(seen & 1u << order[i]));
		FZ_ASSERT(i == 0 || order[i - 1] != IDENT_NET);
		seen |= 1u << order[i];
	}
}

static void
fz_load(void)
{
	struct conf c;
	struct err e;

	conf_init(&c, "/var/lib/greylist");
	e.msg[0] = '\0';
	if (conf_load(&c, FZ_CONF, 1, &e) == 0) {
		FZ_ASSERT(c.database != NULL && c.database[0] == '/');
		FZ_ASSERT(c.embargo >= 0 && c.embargo < c.retry_window);
		FZ_ASSERT(c.whitelist_lifetime > 0);
		FZ_ASSERT(c.ipv4_prefix >= 0 && c.ipv4_prefix <= 32);
		FZ_ASSERT(c.ipv6_prefix >= 0 && c.ipv6_prefix <= 128);
		FZ_ASSERT(c.timeout_ms >= 1 && c.timeout_ms <= 60000);
		fz_identity(c.client_identity);
		fz_lists(&c);
		fz_policy(&c);
	} else
		FZ_ASSERT(e.msg[0] != '\0');
	fz_one_line(e.msg);
	conf_free(&c);
}

/* Every line through conf_line and conf_duration, errors or not. */
static void
fz_lines(char *text)
{
	struct conf c;
	struct err e;
	char *line, *p = text;
	int n = 0;

	conf_init(&c, NULL);
	while ((line = strsep(&p, "\n")) != NULL) {
		e.msg[0] = '\0';
		if (conf_line(&c, line, "fuzz", ++n, &e) == -1)
			FZ_ASSERT(e.msg[0] != '\0');
		fz_one_line(e.msg);
		fz_duration(line);
	}
	fz_lists(&c);
	conf_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char *text;

	fz_conf_text = data;
	fz_conf_len = nul != NULL ? (size_t)(nul - data) : size;
	fz_other_text = nul != NULL ? nul + 1 : data + size;
	fz_other_len = size - (size_t)(fz_other_text - data);
	fz_load();
	if ((text = strndup((const char *)data, fz_conf_len)) == NULL)
		return 0;
	fz_lines(text);
	free(text);
	return 0;
}
