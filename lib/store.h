/* The store: a transactional key/value map shared by every greylist
 * process: Berkeley DB in lib/store_bdb.c, Redis in lib/store_redis.c,
 * behind the operations table of lib/store_impl.h. */
#ifndef GREYLIST_STORE_H
#define GREYLIST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "defaults.h"
#include "err.h"
#include "kvbuf.h"

#define STORE_RETRY	(-2)	/* conflict: abort and run the transaction again */

/* Flags of store_put. */
/* Flags of store_put (STORE_INDEXED or 0) and of the scans (either or
 * both): whether the keys never expire, and are then kept in an index
 * that scans read (Redis), or expire and are found otherwise. The
 * callers know which; the backends never look inside a key. */
#define STORE_INDEXED	0x1
#define STORE_EXPIRES	0x2

struct store;

/* Return of a scan callback. */
#define SCAN_NEXT	0	/* go on */
#define SCAN_STOP	1	/* end the scan */
#define SCAN_DELETE	2	/* delete this entry, go on */

typedef int (*store_scan_fn)(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg);

/* Opens the store c configures: the Berkeley DB environment in
 * c->database (created if missing, recovered first when a crashed process
 * left it marked, waiting at most c->timeout_ms for a lock), or the Redis
 * server (c->redis_*). -1 = error, 0 = open. */
int	store_open(struct store **sp, const struct conf *c, struct err *e);
void	store_close(struct store *s);

/* One transaction at a time per store. */
int	store_begin(struct store *s, struct err *e);
int	store_commit(struct store *s, struct err *e);
void	store_abort(struct store *s);

/* The one conflict-retry rule, for loops that run something again after
 * a conflict: ret is what the last try returned; *tries counts the tries
 * (start it at 0); max is the limit (STORE_TRIES, SCAN_TRIES or
 * PEEK_TRIES of lib/defaults.h). 1 = ret is STORE_RETRY and fewer than
 * max tries were made (after a short random wait: try again), 0 = stop. */
int	store_again(int ret, int *tries, int max);

/* Sets e to say that tries conflicts made a transaction give up;
 * returns -1. */
int	store_gave_up(int tries, struct err *e);

/* Runs fn in a transaction of its own, again after each conflict (fn
 * returning STORE_RETRY) as store_again says, committing when it
 * returns 0. -1 = error, 0 = committed. */
int	store_run(struct store *s, int (*fn)(struct store *, void *,
	    struct err *), void *arg, struct err *e);

/* -2 = retry, -1 = error, 0 = not found, 1 = found (value copied into val,
 * at most *vlen bytes; *vlen set to the stored length). forupdate takes the
 * write lock at once. */
int	store_get(struct store *s, const void *key, size_t klen, void *val,
	    size_t *vlen, int forupdate, struct err *e);
/* ttl: seconds after which the backend may drop the entry on its own
 * (Redis expires it; Berkeley DB leaves that to purge); 0 = never.
 * flags: STORE_INDEXED or 0. -2 = retry, -1 = error, 0 = stored. */
int	store_put(struct store *s, const void *key, size_t klen,
	    const void *val, size_t vlen, int64_t ttl, int flags,
	    struct err *e);
/* -2 = retry, -1 = error, 0 = not found, 1 = deleted. */
int	store_del(struct store *s, const void *key, size_t klen,
	    struct err *e);

/* Calls fn for every key starting with prefix (of the keys flags says:
 * STORE_INDEXED, STORE_EXPIRES or both), in key order, in short
 * transactions of at most batch entries each (never inside one begun by
 * the caller). An entry fn asks to delete is deleted only if nobody
 * changed it meanwhile; after a batch that deleted, the scan pauses for a
 * millisecond so that waiting checks get in. -1 = error, 0 = done. */
int	store_scan(struct store *s, const void *prefix, size_t plen,
	    int flags, size_t batch, store_scan_fn fn, void *arg,
	    struct err *e);

/* Calls fn for every key starting with prefix (flags as for store_scan)
 * inside the transaction begun by the caller, for small sets only; fn
 * returns SCAN_NEXT or SCAN_STOP. -2 = retry, -1 = error, 0 = done. */
int	store_each(struct store *s, const void *prefix, size_t plen,
	    int flags, store_scan_fn fn, void *arg, struct err *e);

/* Marks s as used by a long run (purge, import, batch, admin commands):
 * it takes the checkpoints, one whenever a megabyte of log has been
 * written, so that the MTA's checks beside it never have to. A process
 * not so marked (check, policy) takes one only after many megabytes,
 * which a long run beside it never lets the log reach. */
void	store_long_run(struct store *s);

/* Between transactions: lets a recovery that another process asked for
 * happen, and the only way to learn that one is wanted. The store leaves
 * what it shares (Berkeley DB: the environment and its lock); a long run
 * (store_long_run) joins again at once, any other process at its next
 * transaction, or closes the store. store_scan does it by itself. Cheap
 * (one stat), for every request of policy and serve.
 * -1 = error, 0 = none wanted, 1 = left for a recovery. */
int	store_yield(struct store *s, struct err *e);

/* Writes what the store holds in memory to its files (Berkeley DB: a
 * checkpoint, which is what the user's listing reads; Redis: nothing to
 * do). -1 = error, 0 = done. */
int	store_checkpoint(struct store *s, struct err *e);

/* Async-signal-safe: 1 when the process has been inside the same call
 * of the store since the previous call of store_stuck, 0 otherwise
 * (always with Redis). */
int	store_stuck(void);

/* Async-signal-safe: called from a watchdog when the process is about to
 * give up; marks the store for recovery if the process was inside it.
 * 1 = marked, 0 = it was not inside (always with Redis). */
int	store_watchdog(void);

/* For the user's listing: after the format check, calls fn (SCAN_NEXT or
 * SCAN_STOP) for every key starting with prefix (flags as for
 * store_scan) without joining anything a stopped or killed process could
 * hold. Berkeley DB: greylist.db read-only without the
 * environment, as of the last checkpoint, *asof = the file's
 * modification time (0 = no database yet). Redis: a live scan, *asof = 0.
 * -2 = the file changed while it was read (try again), -1 = error,
 * 0 = done. */
int	store_peek(const struct conf *c, const void *prefix, size_t plen,
	    int flags, store_scan_fn fn, void *arg, int64_t *asof,
	    struct err *e);

#endif
