/* What a store backend provides; see store.h for the meaning of each
 * operation. Every backend's handle starts with a struct store. */
#ifndef GREYLIST_STORE_IMPL_H
#define GREYLIST_STORE_IMPL_H

#include <stdint.h>

#include "conf.h"
#include "store.h"

struct store_ops {
	void	(*close)(struct store *);
	int	(*begin)(struct store *, struct err *);
	int	(*commit)(struct store *, struct err *);
	void	(*abort)(struct store *);
	int	(*get)(struct store *, const void *, size_t, void *, size_t *,
		    int, struct err *);
	int	(*put)(struct store *, const void *, size_t, const void *,
		    size_t, int64_t, int, struct err *);
	int	(*del)(struct store *, const void *, size_t, struct err *);
	int	(*scan)(struct store *, const void *, size_t, int, size_t,
		    store_scan_fn, void *, struct err *);
	int	(*each)(struct store *, const void *, size_t, int,
		    store_scan_fn, void *, struct err *);
	int	(*yield)(struct store *, struct err *);
	int	(*checkpoint)(struct store *, struct err *);
	/* Async-signal-safe, for the watchdog and the crash handler; they
	 * concern the process, not one handle. NULL = nothing to do (a
	 * backend whose calls cannot leave a lock held: Redis). */
	int	(*watchdog)(void);
	int	(*stuck)(void);
};

#define STORE_FILE	"greylist.db"	/* the Berkeley DB database file */

struct store {
	const struct store_ops *ops;
	int	 long_run;	/* store_long_run was called */
	char	 name[300];	/* for messages: "DIR/greylist.db", "redis" */
};

/* store.c: the one check of the stored format, through the operations
 * table: writes the format record into a store without one when create
 * (a new database), else refuses such a store; refuses a newer or
 * corrupt one. -1 = error, 0 = usable. */
int	store_format(struct store *s, int create, struct err *e);

/* store.c: as store_format for a format record read by hand (store_peek):
 * val NULL = none. -1 = refused, 0 = usable. */
int	store_format_value(const char *name, const void *val, size_t vlen,
	    struct err *e);

/* store_bdb.c */
extern const struct store_ops bdb_ops;
int	bdb_open(struct store **, const char *dir, int timeout_ms,
	    struct err *);

int	bdb_peek(const char *dir, const void *prefix, size_t plen,
	    store_scan_fn fn, void *arg, int64_t *asof, struct err *e);

/* store_redis.c */
extern const struct store_ops rds_ops;
int	redis_open(struct store **, const struct conf *, struct err *);

#endif
