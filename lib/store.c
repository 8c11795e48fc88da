/* The store interface: dispatch to the configured backend (Berkeley DB
 * in store_bdb.c, Redis in store_redis.c), and what is the same for all
 * of them. */
#include <string.h>

#include "store_impl.h"

#define STORE_TRIES	50	/* conflicts before a transaction gives up */

int
store_open(struct store **sp, const struct conf *c, struct err *e)
{
	if (c->backend == BACKEND_REDIS)
		return redis_open(sp, c, e);
	return bdb_open(sp, c->database, c->timeout_ms, e);
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

int
store_yield(struct store *s, struct err *e)
{
	return s->ops->yield(s, e);
}

int
store_run(struct store *s, int (*fn)(struct store *, void *, struct err *),
    void *arg, struct err *e)
{
	int ret, tries;

	for (tries = 0; tries < STORE_TRIES; tries++) {
		if (store_begin(s, e) != 0)
			return -1;
		if ((ret = fn(s, arg, e)) == 0)
			return store_commit(s, e) == 0 ? 0 : -1;
		store_abort(s);
		if (ret != STORE_RETRY)
			return -1;
	}
	return err_set(e, "database too busy: gave up after %d conflicts",
	    tries);
}

