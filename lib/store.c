/* The store interface: dispatch to the configured backend (Berkeley DB
 * in store_bdb.c, Redis in store_redis.c), and what is the same for all
 * of them. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_impl.h"
#include "user.h"

#define STORE_TRIES	50	/* conflicts before a transaction gives up */

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
	if (c->backend == BACKEND_REDIS)
		return redis_open(sp, c, e);
	if (bdb_open(sp, c->database, c->timeout_ms, e) == -1)
		return -1;
	if (userfile_state(c->database) == USERS_OLD)
		(void)userfile_migrate(*sp, c->database, &me);
	return 0;
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
    store_scan_fn fn, void *arg, int64_t *asof, struct err *e)
{
	struct peek_args a = { fn, arg };
	struct store *s;
	int ret;

	if (c->backend != BACKEND_REDIS)
		return bdb_peek(c->database, prefix, plen, fn, arg, asof, e);
	*asof = 0;
	if (redis_open(&s, c, e) == -1)
		return -1;
	ret = store_scan(s, prefix, plen, 1000, store_peek_fn, &a, e);
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
    size_t vlen, int64_t ttl, struct err *e)
{
	return s->ops->put(s, key, klen, val, vlen, ttl, e);
}

int
store_del(struct store *s, const void *key, size_t klen, struct err *e)
{
	return s->ops->del(s, key, klen, e);
}

int
store_scan(struct store *s, const void *prefix, size_t plen, size_t batch,
    store_scan_fn fn, void *arg, struct err *e)
{
	return s->ops->scan(s, prefix, plen, batch, fn, arg, e);
}

int
store_each(struct store *s, const void *prefix, size_t plen,
    store_scan_fn fn, void *arg, struct err *e)
{
	return s->ops->each(s, prefix, plen, fn, arg, e);
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
store_run(struct store *s, int (*fn)(struct store *, void *, struct err *),
    void *arg, struct err *e)
{
	int ret, tries;

	for (tries = 0; tries < STORE_TRIES; tries++) {
		if (tries > 0)
			store_backoff(tries);
		if (store_begin(s, e) != 0)
			return -1;
		if ((ret = fn(s, arg, e)) == 0) {
			/* An optimistic store (Redis) finds a conflict only
			 * when it commits: then run the transaction again. */
			if ((ret = store_commit(s, e)) != STORE_RETRY)
				return ret == 0 ? 0 : -1;
			continue;
		}
		store_abort(s);
		if (ret != STORE_RETRY)
			return -1;
	}
	return err_set(e, "database too busy: gave up after %d conflicts",
	    tries);
}

