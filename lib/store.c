/* The store interface: dispatch to the configured backend (Berkeley DB
 * in store_bdb.c, Redis in store_redis.c), and what is the same for all
 * of them. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "store_impl.h"
#include "user.h"

/* The backend of the last store_open, for the watchdog's hooks. */
static const struct store_ops *volatile store_hooks;

/* The first process to join an environment that predates DIR/users
 * moves the user records into files; until one succeeds, check reads the
 * records, so a failure here loses nothing and the next process tries
 * again. */
int
store_open(struct store **sp, const struct conf *c, struct err *e)
{
	struct err me;

	store_hooks = c->backend == BACKEND_REDIS ? &rds_ops : &bdb_ops;
	if (c->backend == BACKEND_REDIS) {
		if (redis_open(sp, c, e) == -1)
			return -1;
		if (store_format(*sp, 1, e) == -1) {
			store_close(*sp);
			*sp = NULL;
			return -1;
		}
		return 0;
	}
	if (bdb_open(sp, c->database, c->timeout_ms, e) == -1)
		return -1;
	if (store_format(*sp, 0, e) == -1) {
		store_close(*sp);
		*sp = NULL;
		return -1;
	}
	if (userfile_state(c->database) == USERS_OLD)
		(void)userfile_migrate(*sp, c->database, &me);
	return 0;
}

int
store_format_value(const char *name, const void *val, size_t vlen,
    struct err *e)
{
	uint32_t f;

	if (val == NULL)
		return err_set(e, "%s: not a greylist database", name);
	switch (record_format_check(val, vlen, &f)) {
	case 0:
		return 0;
	case -1:
		return err_set(e, "%s: corrupt format record", name);
	}
	if (f == 0)
		return err_set(e, "%s: database format is newer than this "
		    "greylist understands; upgrade greylist", name);
	return err_set(e, "%s: database format %u is newer than this "
	    "greylist understands (%u); upgrade greylist", name,
	    (unsigned)f, (unsigned)REC_FORMAT);
}

static int
store_format_fn(struct store *s, void *arg, struct err *e)
{
	uint8_t key[KEY_MAX], val[REC_MAX];
	size_t klen = record_key_meta(key), vlen = sizeof(val);
	int create = *(int *)arg, ret;

	if ((ret = store_get(s, key, klen, val, &vlen, create, e)) < 0)
		return ret;
	if (ret == 0 && create)
		return store_put(s, key, klen, val, record_format_new(val), 0,
		    record_flags(ENTRY_META), e);
	return store_format_value(s->name, ret == 1 ? val : NULL, vlen, e);
}

int
store_format(struct store *s, int create, struct err *e)
{
	return store_run(s, store_format_fn, &create, e);
}

/* Finds the format record for store_peek. */
struct peek_format {
	uint8_t	 val[REC_MAX];
	size_t	 vlen;
	int	 found;
};

static int
store_peek_format_fn(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct peek_format *f = arg;

	if (record_key_kind(key, klen) == ENTRY_META && klen == 1 &&
	    vlen <= sizeof(f->val)) {
		memcpy(f->val, val, vlen);
		f->vlen = vlen;
		f->found = 1;
	}
	return SCAN_STOP;
}

/* Adapts a store_peek callback to store_scan for Redis. */
struct peek_args {
	store_scan_fn fn;
	void	*arg;
};

static int
store_peek_fn(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct peek_args *a = arg;

	return a->fn(key, klen, val, vlen, a->arg) == SCAN_STOP ? SCAN_STOP :
	    SCAN_NEXT;
}

int
store_peek(const struct conf *c, const void *prefix, size_t plen,
    int flags, store_scan_fn fn, void *arg, int64_t *asof, struct err *e)
{
	struct peek_args a = { fn, arg };
	struct peek_format f;
	uint8_t key[KEY_MAX];
	char name[PATH_MAX];
	struct store *s;
	int ret;

	if (c->backend != BACKEND_REDIS) {
		memset(&f, 0, sizeof(f));
		snprintf(name, sizeof(name), "%s/%s", c->database, STORE_FILE);
		if ((ret = bdb_peek(c->database, key, record_key_meta(key),
		    store_peek_format_fn, &f, asof, e)) != 0)
			return ret;
		if (f.found && store_format_value(name, f.val, f.vlen, e) == -1)
			return -1;
		return bdb_peek(c->database, prefix, plen, fn, arg, asof, e);
	}
	*asof = 0;
	if (store_open(&s, c, e) == -1)
		return -1;
	ret = store_scan(s, prefix, plen, flags, SCAN_BATCH_READ, store_peek_fn,
	    &a, e);
	store_close(s);
	return ret;
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int
store_begin(struct store *s, struct err *e)
{
	return s->ops->begin(s, e);
}

int
store_commit(struct store *s, struct err *e)
{
	return s->ops->commit(s, e);
}

void
store_abort(struct store *s)
{
	s->ops->abort(s);
}

int
store_get(struct store *s, const void *key, size_t klen, void *val,
    size_t *vlen, int forupdate, struct err *e)
{
	return s->ops->get(s, key, klen, val, vlen, forupdate, e);
}

int
store_put(struct store *s, const void *key, size_t klen, const void *val,
    size_t vlen, int64_t ttl, int flags, struct err *e)
{
	return s->ops->put(s, key, klen, val, vlen, ttl, flags, e);
}

int
store_del(struct store *s, const void *key, size_t klen, struct err *e)
{
	return s->ops->del(s, key, klen, e);
}

int
store_scan(struct store *s, const void *prefix, size_t plen, int flags,
    size_t batch, store_scan_fn fn, void *arg, struct err *e)
{
	return s->ops->scan(s, prefix, plen, flags, batch, fn, arg, e);
}

int
store_each(struct store *s, const void *prefix, size_t plen, int flags,
    store_scan_fn fn, void *arg, struct err *e)
{
	return s->ops->each(s, prefix, plen, flags, fn, arg, e);
}

void
store_long_run(struct store *s)
{
	s->long_run = 1;
}

int
store_yield(struct store *s, struct err *e)
{
	return s->ops->yield(s, e);
}

int
store_checkpoint(struct store *s, struct err *e)
{
	return s->ops->checkpoint(s, e);
}

int
store_watchdog(void)
{
	const struct store_ops *o = store_hooks;

	return o != NULL && o->watchdog != NULL ? o->watchdog() : 0;
}

int
store_stuck(void)
{
	const struct store_ops *o = store_hooks;

	return o != NULL && o->stuck != NULL ? o->stuck() : 0;
}

/* After a conflict: waits a random while that grows with the tries, so
 * that the processes that collided do not collide again at once. */
static void
store_backoff(int tries)
{
	struct timespec ts = { 0, 0 };
	static unsigned seed;

	if (seed == 0)
		seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	ts.tv_nsec = (long)(rand_r(&seed) % (tries < 10 ? tries : 10)) *
	    200000 + 50000;
	nanosleep(&ts, NULL);
}

int
store_again(int ret, int *tries, int max)
{
	if (ret != STORE_RETRY || ++*tries >= max)
		return 0;
	store_backoff(*tries);
	return 1;
}

int
store_gave_up(int tries, struct err *e)
{
	return err_set(e, "database too busy: gave up after %d conflicts",
	    tries);
}

int
store_run(struct store *s, int (*fn)(struct store *, void *, struct err *),
    void *arg, struct err *e)
{
	int ret, tries = 0;

	do {
		if (store_begin(s, e) != 0)
			return -1;
		/* An optimistic store (Redis) finds a conflict only when it
		 * commits: then the transaction runs again too. */
		if ((ret = fn(s, arg, e)) == 0)
			ret = store_commit(s, e);
		else
			store_abort(s);
	} while (store_again(ret, &tries, STORE_TRIES));
	if (ret == STORE_RETRY)
		return store_gave_up(tries, e);
	return ret == 0 ? 0 : -1;
}
