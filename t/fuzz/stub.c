/* What the fuzz targets link instead of the store and src/greylist.c: a
 * store that is never there (no target opens a database or writes a
 * file), and the sinks of the front end's messages (src/msg.c), which
 * check each message and drop it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "fuzz.h"
#include "policy.h"
#include "priv.h"
#include "store.h"
#include "watchdog.h"

/* A message for stderr or syslog is one line: a CR or LF in it would
 * let outside input forge log lines. */
void
cmd_vwarn(const char *fmt, va_list ap)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	FZ_ASSERT(strpbrk(msg, "\r\n") == NULL);
}

void
cmd_say(struct ctx *x, int prio, const char *line)
{
	(void)x;
	(void)prio;
	FZ_ASSERT(strpbrk(line, "\r\n") == NULL);
}

/* The fields check's logger writes, through the same one-line check
 * (the reason as a number: not every target links lib/policy.c). */
void
cmd_log_decision(struct ctx *x, const struct tuple *t,
    const struct decision *d, const char *extra)
{
	cmd_log(x, 0, "%s: client=%s sender=%s rcpt=%s reason=%d%s%s %s=%lld%s",
	    d->pass ? "pass" : "defer", t->net, t->sender, t->rcpt,
	    (int)d->reason, d->rule[0] ? " rule=" : "",
	    d->rule, d->pass ? "delay" : "retry",
	    (long long)(d->pass ? d->delay : d->retry), extra);
}

void
wd_set(int ms, wd_hook hook)
{
	(void)ms, (void)hook;
}

void
wd_arm(int ms)
{
	(void)ms;
}

void
wd_status(int status)
{
	(void)status;
}

void
cmd_syslog_stuck(void)
{
}

struct store *
cmd_open(struct ctx *x)
{
	(void)x;
	cmd_error("no database in a fuzz target");
	return NULL;
}

int
priv_secure(void)
{
	return 0;
}

int
store_open(struct store **sp, const struct conf *c, struct err *e)
{
	(void)c;
	*sp = NULL;
	return err_set(e, "no database in a fuzz target");
}

void
store_close(struct store *s)
{
	FZ_ASSERT(s == NULL);
}

/* No store is ever open, so nothing may reach the calls below. */
#define FZ_NOSTORE(s)	do { (void)(s); FZ_ASSERT(!"store used"); } while (0)

int
store_begin(struct store *s, struct err *e)
{
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

int
store_commit(struct store *s, struct err *e)
{
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

void
store_abort(struct store *s)
{
	FZ_NOSTORE(s);
}

int
store_run(struct store *s, int (*fn)(struct store *, void *, struct err *),
    void *arg, struct err *e)
{
	(void)fn;
	(void)arg;
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

int
store_again(int ret, int *tries, int max)
{
	(void)ret;
	(void)tries;
	(void)max;
	return 0;
}

int
store_gave_up(int tries, struct err *e)
{
	return err_set(e, "gave up after %d conflicts", tries);
}

int
store_peek(const struct conf *c, const void *prefix, size_t plen,
    int flags, store_scan_fn fn, void *arg, int64_t *asof, struct err *e)
{
	(void)c, (void)prefix, (void)plen, (void)flags, (void)fn, (void)arg;
	*asof = 0;
	return err_set(e, "no database");
}

int
store_get(struct store *s, const void *key, size_t klen, void *val,
    size_t *vlen, int forupdate, struct err *e)
{
	(void)key, (void)klen, (void)val, (void)vlen, (void)forupdate;
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

int
store_put(struct store *s, const void *key, size_t klen, const void *val,
    size_t vlen, int64_t ttl, int flags, struct err *e)
{
	(void)key, (void)klen, (void)val, (void)vlen, (void)ttl, (void)flags;
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

int
store_del(struct store *s, const void *key, size_t klen, struct err *e)
{
	(void)key, (void)klen;
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

int
store_scan(struct store *s, const void *prefix, size_t plen, int flags,
    size_t batch, store_scan_fn fn, void *arg, struct err *e)
{
	(void)prefix, (void)plen, (void)flags, (void)batch, (void)fn,
	    (void)arg;
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

int
store_each(struct store *s, const void *prefix, size_t plen, int flags,
    store_scan_fn fn, void *arg, struct err *e)
{
	(void)prefix, (void)plen, (void)flags, (void)fn, (void)arg;
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

int
store_yield(struct store *s, struct err *e)
{
	FZ_NOSTORE(s);
	return err_set(e, "no database");
}

void
cmd_yielded(struct ctx *x, const char *who, int ret, const struct err *e)
{
	(void)x;
	(void)who;
	(void)ret;
	(void)e;
	FZ_ASSERT(!"store yielded");
}

int
store_watchdog(void)
{
	return 0;
}
