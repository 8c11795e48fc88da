/*
 * The Berkeley DB store, the embedded default backend.
 *
 * Why this configuration (measured on Debian 12, libdb 5.3.28, 2 cores;
 * bin/bench-check, bin/torture and t/store.bats measure it):
 * - A transactional environment (DB_INIT_TXN, LOCK, LOG, MPOOL) with
 *   DB_TXN_WRITE_NOSYNC: concurrent checks lose no update, and a commit is
 *   in the log file (the kernel's page cache) before it returns, so a
 *   SIGKILL at any instant loses nothing that was committed. DB_TXN_NOSYNC
 *   lost committed updates; a full sync survives power loss too but costs
 *   about 30% per check.
 * - Debian's libdb uses non-robust process-shared mutexes: a process
 *   killed while holding one blocks every later process forever, and
 *   failchk and DB_REGISTER both misjudge many short-lived processes.
 *   So every process holds a shared flock on DIR/lock while it is inside
 *   the environment. One that meets DB_RUNRECOVERY, a lock timeout, or its
 *   watchdog (store_watchdog) creates DIR/recover and gives up (the MTA
 *   fails open). The next process that sees DIR/recover takes the flock
 *   exclusively, which waits until nobody is inside, and recreates the
 *   regions with DB_RECOVER: the stuck mutexes are gone and the log
 *   restores every committed transaction.
 * - Lock waits inside the environment are bounded by DB_SET_LOCK_TIMEOUT
 *   with DB_TIME_NOTGRANTED; deadlocks are broken at once (DB_LOCK_DEFAULT)
 *   and reported as STORE_RETRY so that the caller runs its transaction
 *   again.
 * - An env-less btree under a flock was faster but left zeroed pages after
 *   a kill during a page split; a Concurrent Data Store hangs after an
 *   unlucky kill. Neither meets the requirements.
 * - Logs roll at 1 MiB and are removed automatically after a checkpoint.
 *   Long runs (purge, import, batch, admin commands) take one whenever
 *   1 MiB of log has been written since the last; check and policy only
 *   past 16 MiB, so that a check never pays for flushing what a purge
 *   dirtied (measured: with checks taking them at 1 MiB, a purge of 1M
 *   entries made checks wait past their timeout and fail open). Recovery
 *   replays at most that much log.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perm.h"
#include "record.h"
#include "store_impl.h"

#define CACHE_BYTES	(8 * 1024 * 1024)	/* shared cache; pages a check touches only */
#define LOG_MAX		(1024 * 1024)		/* bytes per log file */
#define CKP_KBYTES	1024			/* long runs: checkpoint after this much log */
#define CKP_MTA_KBYTES	(16 * 1024)		/* check, policy: after this much (in log files) */
#define CKP_EVERY	64			/* commits per checkpoint attempt */
#define OPEN_TRIES	3			/* recoveries before giving up */
#define SCAN_PAUSE_NS	1000000			/* after a batch that deleted: lets checks in */

struct bdb {
	struct store base;	/* first: a struct store * is a struct bdb * */
	DB_ENV	*env;
	DB	*db;
	DB_TXN	*txn;
	int	 lockfd;
	int	 timeout_ms;
	unsigned commits;
	char	 dir[PATH_MAX];
	char	 dberr[256];		/* last message from libdb */
};

static int	bdb_get(struct bdb *, const void *, size_t, void *, size_t *,
		    int, struct err *);
static int	bdb_put(struct bdb *, const void *, size_t, const void *,
		    size_t, struct err *);

/* For the watchdog, which may run at any instant. */
static volatile sig_atomic_t store_inside;
/* For store_stuck: set while inside libdb, and bumped at each entry. */
static volatile sig_atomic_t store_busy, store_seq;

static void
store_enter(void)
{
	store_seq++;
	store_busy = 1;
}

static void
store_leave(void)
{
	store_busy = 0;
}

/* The ops table's stuck hook (store_stuck). */
static int
bdb_stuck(void)
{
	static sig_atomic_t seen = -1;
	int stuck = store_busy && store_seq == seen;

	seen = store_seq;
	return stuck;
}
static char store_markpath[PATH_MAX];

static void
store_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct bdb *s = env->app_private;

	(void)pfx;
	if (s != NULL && s->dberr[0] == '\0')	/* the first names the cause */
		snprintf(s->dberr, sizeof(s->dberr), "%s", msg);
}

static void
store_mark(void)
{
	int fd;

	fd = open(store_markpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0660);
	if (fd != -1)
		close(fd);
}

/* The ops table's watchdog hook (store_watchdog). */
static int
bdb_watchdog(void)
{
	if (!store_inside || store_markpath[0] == '\0')
		return 0;
	store_mark();
	return 1;
}

static int64_t
store_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes the flock (LOCK_SH or LOCK_EX) within the store's timeout.
 * -1 = error, 0 = locked. */
static int
store_flock(struct bdb *s, int how, struct err *e)
{
	struct timespec pause = { 0, 500000 };
	int64_t deadline = store_ms() + s->timeout_ms * 3 / 4;

	while (flock(s->lockfd, how | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return err_set(e, "%s/lock: %s", s->dir,
			    strerror(errno));
		if (store_ms() >= deadline)
			return err_set(e, "%s: database busy for %d ms",
			    s->dir, s->timeout_ms * 3 / 4);
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 8000000)
			pause.tv_nsec *= 2;
	}
	return 0;
}

/* Maps a libdb return code to the store's, with a message. */
static int
store_fail(struct bdb *s, int ret, const char *what, struct err *e)
{
	switch (ret) {
	case DB_LOCK_DEADLOCK:
		return STORE_RETRY;
	case DB_LOCK_NOTGRANTED:
		store_mark();
		return err_set(e, "%s: %s: lock wait timed out", s->dir, what);
	case DB_RUNRECOVERY:
		store_mark();
		return err_set(e, "%s: %s: database needs recovery; the next "
		    "run recovers it", s->dir, what);
	case ENOSPC:
	case EROFS:
	case EACCES:
	case EPERM:
		if (perm_explain(s->dir, s->dberr, sizeof(s->dberr)))
			return err_set(e, "%s", s->dberr);
		return err_set(e, "%s: %s: %s", s->dir, what, strerror(ret));
	}
	if (s->dberr[0] != '\0')
		return err_set(e, "%s: %s: %s", s->dir, what, s->dberr);
	return err_set(e, "%s: %s: %s", s->dir, what, db_strerror(ret));
}

static void
store_detach(struct bdb *s)
{
	store_enter();
	if (s->txn != NULL)
		s->txn->abort(s->txn);
	s->txn = NULL;
	if (s->db != NULL)
		s->db->close(s->db, DB_NOSYNC);
	s->db = NULL;
	if (s->env != NULL)
		s->env->close(s->env, 0);
	s->env = NULL;
	store_inside = 0;
	store_leave();
	flock(s->lockfd, LOCK_UN);
}

/* Opens the environment and the database; create also creates both and
 * runs recovery. -2 = recovery needed (marked), -1 = error, 0 = open. */
static int
store_attach(struct bdb *s, int create, struct err *e)
{
	u_int32_t flags = DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN;
	DB_ENV *env;
	int ret;

	if ((ret = db_env_create(&env, 0)) != 0)
		return err_set(e, "%s: %s", s->dir, db_strerror(ret));
	s->env = env;
	env->app_private = s;
	env->set_errcall(env, store_errcall);
	env->set_flags(env, DB_TXN_WRITE_NOSYNC | DB_TIME_NOTGRANTED, 1);
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_timeout(env, (db_timeout_t)s->timeout_ms * 500,
	    DB_SET_LOCK_TIMEOUT);
	if (create) {
		env->set_cachesize(env, 0, CACHE_BYTES, 1);
		env->set_lk_max_locks(env, 20000);
		env->set_lk_max_objects(env, 20000);
		env->set_lg_max(env, LOG_MAX);
		env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
		flags |= DB_CREATE | DB_RECOVER;
	}
	if ((ret = env->open(env, s->dir, flags, 0660)) != 0) {
		if (!create && ret != EACCES && ret != EPERM && ret != EROFS &&
		    ret != ENOSPC) {
			store_mark();
			return STORE_RETRY;
		}
		return store_fail(s, ret, "cannot open environment", e);
	}
	if ((ret = db_create(&s->db, env, 0)) != 0)
		return store_fail(s, ret, "cannot open database", e);
	ret = s->db->open(s->db, NULL, STORE_FILE, NULL, DB_BTREE,
	    DB_AUTO_COMMIT | (create ? DB_CREATE : 0), 0660);
	if (ret == ENOENT && !create) {
		store_mark();	/* created by a process that was killed */
		return STORE_RETRY;
	}
	if (ret != 0) {
		if (ret == EINVAL || ret == DB_OLD_VERSION)
			return err_set(e, "%s/%s: not a greylist database",
			    s->dir, STORE_FILE);
		return store_fail(s, ret, STORE_FILE, e);
	}
	return 0;
}

/* Writes the format record into a database that has none (a new one);
 * store_open checks it. -1 = error, 0 = done. */
static int
store_format_create(struct bdb *s, struct err *e)
{
	uint8_t key[8], val[REC_MAX];
	size_t klen = record_key_meta(key), vlen = sizeof(val);
	int ret;

	ret = bdb_get(s, key, klen, val, &vlen, 0, e);
	if (ret < 0)
		return ret == STORE_RETRY ?
		    err_set(e, "%s: database busy", s->dir) : -1;
	if (ret == 0 && bdb_put(s, key, klen, val, record_format_new(val),
	    e) != 0)
		return -1;
	return 0;
}

static int
store_exists(const struct bdb *s, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->dir, name) >=
	    sizeof(path))
		return 0;
	return stat(path, &st) == 0;
}

/* The highest log file number in the directory (0 = none), and in
 * *first, when not NULL, the lowest. */
static uint32_t
store_logs(const struct bdb *s, uint32_t *first)
{
	struct dirent *d;
	uint32_t n, min = UINT32_MAX, max = 0;
	DIR *dir;

	if ((dir = opendir(s->dir)) != NULL) {
		while ((d = readdir(dir)) != NULL)
			if (sscanf(d->d_name, "log.%10u", &n) == 1) {
				max = n > max ? n : max;
				min = n < min ? n : min;
			}
		closedir(dir);
	}
	if (first != NULL)
		*first = max == 0 ? 0 : min;
	return max;
}

static uint32_t
store_last_log(const struct bdb *s)
{
	return store_logs(s, NULL);
}

/* The highest log file number any process noted, kept in DIR/lock: log
 * numbers only grow, so fewer at recovery means log files were lost. */
static uint32_t
store_seen_log(const struct bdb *s)
{
	uint32_t n;

	return pread(s->lockfd, &n, sizeof(n), 0) == sizeof(n) ? n : 0;
}

/* Notes the highest log file present (after a creation, a recovery or a
 * checkpoint, so rarely). */
static void
store_note_log(const struct bdb *s)
{
	uint32_t n = store_last_log(s);

	if (n > store_seen_log(s))
		(void)!pwrite(s->lockfd, &n, sizeof(n), 0);
}

/* Reads the header of every page of greylist.db (host byte order, as
 * libdb writes it). Before recovery (after = 0): a page names the log
 * record of its last change, written first, so a page naming a log file
 * past the last one present means log files are missing and recovery
 * would silently drop their changes. After recovery (after = 1): every
 * page up to the last one the meta page names carries its own number; a
 * zeroed page means greylist.db lost pages (truncated or overwritten)
 * that the log did not restore. Both refuse rather than go on with less.
 * -1 = damaged (in e), 0 = fine, or not a database (libdb says so). */
static int
store_pages(struct bdb *s, int after, struct err *e)
{
	char path[PATH_MAX + sizeof(STORE_FILE) + 1];
	uint8_t h[40];
	uint32_t pgsz, last, i, v, logs = store_last_log(s);
	struct stat st;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", s->dir, STORE_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || pread(fd, h, 40, 0) != 40)
		goto done;
	if (!after && (logs == 0 || logs < store_seen_log(s))) {
		ret = err_set(e, "%s: log files are missing (the last was "
		    "log.%010u), and with them the latest changes; restore "
		    "them, or with no greylist running run db5.3_recover -h %s "
		    "and empty %s/lock to go on without", path,
		    store_seen_log(s), s->dir, s->dir);
		goto done;
	}
	memcpy(&pgsz, h + 20, 4);		/* the meta page's page size */
	memcpy(&last, h + 32, 4);		/* and last page number */
	if (pgsz < 512 || pgsz > 65536 || (pgsz & (pgsz - 1)) != 0)
		goto done;
	if (after && ((uint64_t)last + 1) * pgsz > (uint64_t)st.st_size) {
		ret = err_set(e, "%s is truncated: %lld bytes where its pages "
		    "need %llu; restore it from a backup", path,
		    (long long)st.st_size, ((unsigned long long)last + 1) * pgsz);
		goto done;
	}
	for (i = 0; (off_t)(i + 1) * pgsz <= st.st_size && ret == 0; i++) {
		if (pread(fd, h, 32, (off_t)i * pgsz) != 32)
			break;
		memcpy(&v, h, 4);		/* LSN: log file number */
		if (!after && v > logs)
			ret = err_set(e, "%s: page %u needs log file %u, which is "
			    "missing; restore the log files", path, i, v);
		memcpy(&v, h + 8, 4);		/* the page's own number */
		if (after && i > 0 && i <= last && v != i)
			ret = err_set(e, "%s: page %u of %u is lost (truncated or "
			    "overwritten); restore it from a backup", path, i,
			    last);
	}
done:
	close(fd);
	return ret;
}

/* With the flock held exclusively: creates or recovers the environment.
 * -1 = error, 0 = done. */
static int
store_recover(struct bdb *s, struct err *e)
{
	int ret;

	if (!store_exists(s, "recover") && store_exists(s, "__db.001"))
		return 0;	/* somebody else did it meanwhile */
	/* Until the mark is gone nobody joins a half-made environment. */
	store_mark();
	if (store_pages(s, 0, e) == -1)
		return -1;
	store_inside = 1;
	store_enter();
	s->dberr[0] = '\0';
	ret = store_attach(s, 1, e);
	if (ret != 0 && s->dberr[0] != '\0')
		ret = err_set(e, "%s: recovery of %s failed: %s", s->dir,
		    STORE_FILE, s->dberr);
	if (ret == 0)
		ret = store_pages(s, 1, e);
	if (ret == 0)
		ret = store_format_create(s, e);
	if (ret == 0)
		store_note_log(s);
	perm_fix(s->dir);
	if (ret == 0 && unlink(store_markpath) == -1 && errno != ENOENT)
		ret = err_set(e, "%s: %s", store_markpath, strerror(errno));
	store_detach(s);
	return ret;
}

/* One try at joining the environment: 1 = open, 0 = recovery needed
 * first, -1 = error. */
static int
store_join(struct bdb *s, struct err *e)
{
	int ret;

	if (store_flock(s, LOCK_SH, e) == -1)
		return -1;
	if (store_exists(s, "recover") || !store_exists(s, "__db.001")) {
		flock(s->lockfd, LOCK_UN);
		if (store_flock(s, LOCK_EX, e) == -1)
			return -1;
		ret = store_recover(s, e);
		flock(s->lockfd, LOCK_UN);
		return ret == -1 ? -1 : 0;
	}
	store_inside = 1;
	store_enter();
	ret = store_attach(s, 0, e);
	store_leave();
	if (ret != 0) {
		store_detach(s);
		return ret == STORE_RETRY ? 0 : -1;
	}
	return 1;
}

/* Joins the environment, recovering it first when it is marked.
 * -1 = error, 0 = joined. */
static int
bdb_join(struct bdb *s, struct err *e)
{
	int i, ret = 0;

	for (i = 0; i < OPEN_TRIES && (ret = store_join(s, e)) == 0; i++)
		;
	if (ret == 0)
		err_set(e, "%s: recovery did not succeed", s->dir);
	return ret == 1 ? 0 : -1;
}

/* Between two transactions: when another process asked for recovery,
 * leaves the environment (so that it can take the lock) and, with
 * rejoin, joins it again (else the next transaction does).
 * -1 = error, 0 = nothing asked, 1 = left (and joined again). */
static int
bdb_leave(struct bdb *s, int rejoin, struct err *e)
{
	struct stat st;

	if (s->txn != NULL || s->env == NULL || stat(store_markpath, &st) == -1)
		return 0;
	store_detach(s);
	if (rejoin && bdb_join(s, e) == -1)
		return -1;
	return 1;
}

/* A long run joins again at once; the MTA's processes close the store or
 * join at their next transaction. */
static int
bdb_yield(struct bdb *s, struct err *e)
{
	return bdb_leave(s, s->base.long_run, e);
}

/* After bdb_yield left the environment: joins it again.
 * -1 = error, 0 = joined. */
static int
bdb_ready(struct bdb *s, struct err *e)
{
	return s->env != NULL ? 0 : bdb_join(s, e);
}

int
bdb_open(struct store **sp, const char *dir, int timeout_ms, struct err *e)
{
	struct bdb *s;
	char path[PATH_MAX];

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_set(e, "%s", strerror(errno));
	s->timeout_ms = timeout_ms;
	s->lockfd = -1;
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s", dir) >=
	    sizeof(s->dir) - 32) {
		free(s);
		return err_set(e, "database path too long");
	}
	snprintf(store_markpath, sizeof(store_markpath), "%s/recover", dir);
	snprintf(path, sizeof(path), "%s/lock", dir);
	if (perm_mkdir(dir, GREYLIST_GROUP, e) == -1)
		goto fail;
	s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (s->lockfd == -1) {
		if (errno != EACCES ||
		    !perm_explain(dir, s->dberr, sizeof(s->dberr)))
			err_set(e, "cannot open %s: %s", path, strerror(errno));
		else
			err_set(e, "%s", s->dberr);
		goto fail;
	}
	if (bdb_join(s, e) == 0) {
		if (geteuid() == 0 && !perm_setgid(dir))
			perm_fix(dir);
		s->base.ops = &bdb_ops;
		snprintf(s->base.name, sizeof(s->base.name), "%s/%s", dir,
		    STORE_FILE);
		*sp = &s->base;
		return 0;
	}
	close(s->lockfd);
fail:
	free(s);
	return -1;
}

static void
bdb_close(struct bdb *s)
{
	if (s == NULL)
		return;
	/* A long run ends with the checkpoint its last commits may not
	 * have asked for: the hourly purge keeps the log short. */
	if (s->base.long_run && s->env != NULL && s->txn == NULL) {
		store_enter();
		if (s->env->txn_checkpoint(s->env, CKP_KBYTES, 0, 0) == 0)
			store_note_log(s);
		store_leave();
	}
	store_detach(s);
	close(s->lockfd);
	free(s);
}

static int
bdb_begin(struct bdb *s, struct err *e)
{
	int ret;

	if (bdb_ready(s, e) == -1)
		return -1;
	s->dberr[0] = '\0';
	store_enter();
	if ((ret = s->env->txn_begin(s->env, NULL, &s->txn, 0)) != 0) {
		store_leave();
		s->txn = NULL;
		return store_fail(s, ret, "cannot begin transaction", e);
	}
	return 0;
}

static int
bdb_commit(struct bdb *s, struct err *e)
{
	DB_TXN *txn = s->txn;
	uint32_t first;
	int ret;

	s->txn = NULL;
	ret = txn->commit(txn, 0);
	store_leave();
	if (ret != 0)
		return store_fail(s, ret, "cannot commit", e);
	/* Even a checkpoint with nothing to do costs system calls, so one
	 * commit in CKP_EVERY asks for one: every CKP_EVERY-th of a long
	 * run, and one check process in CKP_EVERY, by pid. A checkpoint
	 * flushes the cache and syncs greylist.db: quick when taken often,
	 * but seconds while a bulk writer (purge, import) dirties much, far
	 * past what a check may take; one cut short by the check's watchdog
	 * leaves a mutex held and the store to recover. So long runs take
	 * them at every CKP_KBYTES of log, and the MTA's processes only past
	 * CKP_MTA_KBYTES, which a long run beside them never lets the log
	 * reach. */
	if ((++s->commits + (unsigned)getpid()) % CKP_EVERY != 0)
		return 0;
	/* Not even asking: the call waits for a checkpoint in progress. */
	if (!s->base.long_run && store_logs(s, &first) - first + 1 <
	    CKP_MTA_KBYTES / (LOG_MAX / 1024))
		return 0;
	store_enter();
	ret = s->env->txn_checkpoint(s->env, CKP_KBYTES, 0, 0);
	store_leave();
	if (ret != 0)
		return store_fail(s, ret, "checkpoint", e);
	store_note_log(s);
	return 0;
}

static void
bdb_abort(struct bdb *s)
{
	store_enter();
	if (s->txn != NULL)
		s->txn->abort(s->txn);
	s->txn = NULL;
	store_leave();
}

static void
store_dbt(DBT *d, const void *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)(uintptr_t)data;
	d->size = (u_int32_t)len;
}

static int
bdb_get(struct bdb *s, const void *key, size_t klen, void *val,
    size_t *vlen, int forupdate, struct err *e)
{
	DBT k, v;
	int ret;

	store_dbt(&k, key, klen);
	memset(&v, 0, sizeof(v));
	v.data = val;
	v.ulen = (u_int32_t)*vlen;
	v.flags = DB_DBT_USERMEM;
	/* A read for update takes the write lock at once; any other read
	 * lets its lock go as soon as it has read, so that lookups (the
	 * exemptions, the user's settings) never take part in a deadlock. */
	ret = s->db->get(s->db, s->txn, &k, &v, s->txn == NULL ? 0 :
	    forupdate ? DB_RMW : DB_READ_COMMITTED);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret == DB_BUFFER_SMALL) {
		*vlen = v.size;
		return err_set(e, "%s: stored value of %u bytes is corrupt",
		    s->dir, v.size);
	}
	if (ret != 0)
		return store_fail(s, ret, "read", e);
	*vlen = v.size;
	return 1;
}

static int
bdb_put(struct bdb *s, const void *key, size_t klen, const void *val,
    size_t vlen, struct err *e)
{
	DBT k, v;
	int ret;

	store_dbt(&k, key, klen);
	store_dbt(&v, val, vlen);
	ret = s->db->put(s->db, s->txn, &k, &v,
	    s->txn == NULL ? DB_AUTO_COMMIT : 0);
	return ret == 0 ? 0 : store_fail(s, ret, "write", e);
}

static int
bdb_del(struct bdb *s, const void *key, size_t klen, struct err *e)
{
	DBT k;
	int ret;

	store_dbt(&k, key, klen);
	ret = s->db->del(s->db, s->txn, &k,
	    s->txn == NULL ? DB_AUTO_COMMIT : 0);
	if (ret == DB_NOTFOUND)
		return 0;
	return ret == 0 ? 1 : store_fail(s, ret, "delete", e);
}

/* Walks a scan batch (entries read by one transaction, copied out of
 * it): sets *k, *v to the entry at *off and advances. */
static void
batch_next(const struct kvbuf *b, size_t *off, DBT *k, DBT *v)
{
	const void *key, *val;
	size_t klen, vlen;

	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	(void)kvbuf_next(b, off, &key, &klen, &val, &vlen);
	store_dbt(k, key, klen);
	store_dbt(v, val, vlen);
}

/* Reads up to max entries with the prefix from *from on (after it when
 * skip is set) into b. -2 = retry, -1 = error, 0 = done. */
static int
scan_read(struct bdb *s, const DBT *prefix, DBT *from, int skip,
    size_t max, struct kvbuf *b, struct err *e)
{
	DBC *c;
	DBT k, v;
	int ret, op = DB_SET_RANGE;

	kvbuf_clear(b);
	if ((ret = bdb_begin(s, e)) != 0)
		return ret;
	if ((ret = s->db->cursor(s->db, s->txn, &c, DB_READ_COMMITTED)) != 0)
		goto fail;
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = from->data;
	k.size = from->size;
	while (b->n < max && (ret = c->get(c, &k, &v, op)) == 0) {
		op = DB_NEXT;
		if (k.size < prefix->size ||
		    memcmp(k.data, prefix->data, prefix->size) != 0) {
			ret = DB_NOTFOUND;
			break;
		}
		if (skip && k.size == from->size &&
		    memcmp(k.data, from->data, k.size) == 0)
			continue;
		if (kvbuf_add(b, k.data, k.size, v.data, v.size) == -1) {
			ret = ENOMEM;
			break;
		}
	}
	c->close(c);
	if (ret != 0 && ret != DB_NOTFOUND)
		goto fail;
	return bdb_commit(s, e);
fail:
	bdb_abort(s);
	return store_fail(s, ret, "scan", e);
}

/* Deletes the entries of b flagged in del[] that still hold the value
 * read, so that an entry a check refreshed meanwhile survives.
 * -2 = retry, -1 = error, 0 = done. */
static int
scan_delete(struct bdb *s, const struct kvbuf *b, const char *del,
    struct err *e)
{
	uint8_t cur[REC_MAX * 2];
	size_t off = 0, i, clen;
	DBT k, v;
	int ret;

	if ((ret = bdb_begin(s, e)) != 0)
		return ret;
	for (i = 0; i < b->n; i++) {
		batch_next(b, &off, &k, &v);
		if (!del[i])
			continue;
		clen = sizeof(cur);
		ret = bdb_get(s, k.data, k.size, cur, &clen, 1, e);
		if (ret == 1 && clen == v.size &&
		    memcmp(cur, v.data, clen) == 0)
			ret = bdb_del(s, k.data, k.size, e);
		if (ret < 0) {
			bdb_abort(s);
			return ret;
		}
	}
	return bdb_commit(s, e);
}

static int
bdb_scan(struct bdb *s, const void *prefix, size_t plen, size_t batch,
    store_scan_fn fn, void *arg, struct err *e)
{
	struct timespec pause = { 0, SCAN_PAUSE_NS };
	struct kvbuf b = { NULL, 0, 0, 0 };
	uint8_t *last = NULL;
	char *del = NULL;
	size_t off, i;
	DBT p, from, k, v;
	int ret, act = SCAN_NEXT, tries;

	if (bdb_ready(s, e) == -1)
		return -1;
	store_dbt(&p, prefix, plen);
	from = p;
	if ((del = malloc(batch)) == NULL || (last = malloc(KEY_MAX)) == NULL)
		goto nomem;
	do {
		tries = 0;
		while (store_again(ret = scan_read(s, &p, &from,
		    from.data == last, batch, &b, e), &tries, SCAN_TRIES))
			;
		if (ret != 0)
			break;
		memset(del, 0, batch);
		for (off = 0, i = 0; i < b.n && act != SCAN_STOP; i++) {
			batch_next(&b, &off, &k, &v);
			act = fn(k.data, k.size, v.data, v.size, arg);
			del[i] = act == SCAN_DELETE;
			if (k.size <= KEY_MAX) {
				memcpy(last, k.data, k.size);
				store_dbt(&from, last, k.size);
			}
		}
		tries = 0;
		while (store_again(ret = scan_delete(s, &b, del, e), &tries,
		    SCAN_TRIES))
			;
		if (ret == 0 && memchr(del, 1, b.n) != NULL)
			nanosleep(&pause, NULL);
		if (ret == 0 && bdb_leave(s, 1, e) == -1)
			ret = -1;
	} while (ret == 0 && act != SCAN_STOP && b.n == batch);
	if (ret == STORE_RETRY)
		ret = err_set(e, "%s: scan: too many conflicts", s->dir);
	kvbuf_free(&b);
	free(del);
	free(last);
	return ret;
nomem:
	free(del);
	return err_set(e, "%s", strerror(ENOMEM));
}

/* Calls fn for every key of db starting with prefix, in key order, with
 * a cursor of txn (NULL: none) opened with flags, until fn says stop.
 * 0 = done, else libdb's error. */
static int
bdb_walk(DB *db, DB_TXN *txn, u_int32_t flags, const void *prefix,
    size_t plen, store_scan_fn fn, void *arg)
{
	DBC *c;
	DBT k, v;
	int ret, op = DB_SET_RANGE;

	if ((ret = db->cursor(db, txn, &c, flags)) != 0)
		return ret;
	store_dbt(&k, prefix, plen);
	memset(&v, 0, sizeof(v));
	while ((ret = c->get(c, &k, &v, op)) == 0) {
		op = DB_NEXT;
		if (k.size < plen || memcmp(k.data, prefix, plen) != 0 ||
		    fn(k.data, k.size, v.data, v.size, arg) == SCAN_STOP)
			break;
	}
	c->close(c);
	return ret == DB_NOTFOUND ? 0 : ret;
}

static int
bdb_each(struct bdb *s, const void *prefix, size_t plen,
    store_scan_fn fn, void *arg, struct err *e)
{
	int ret = bdb_walk(s->db, s->txn, DB_READ_COMMITTED, prefix, plen, fn,
	    arg);

	return ret == 0 ? 0 : store_fail(s, ret, "read", e);
}

/* Fails a read of greylist.db without the environment: a page that a
 * checkpoint was writing meanwhile is worth another try. */
static int
peek_fail(const char *path, int ret, struct err *e)
{
	if (ret == DB_PAGE_NOTFOUND || ret == DB_VERIFY_BAD ||
	    ret == EINVAL || ret == DB_SECONDARY_BAD) {
		err_set(e, "%s changed while it was read (a checkpoint was "
		    "writing it); try again", path);
		return STORE_RETRY;
	}
	return err_set(e, "%s: %s", path, db_strerror(ret));
}

/* The cursor walk of bdb_peek. -2/-1/0 as bdb_peek. */
static int
peek_walk(DB *db, const char *path, const void *prefix, size_t plen,
    store_scan_fn fn, void *arg, struct err *e)
{
	int ret = bdb_walk(db, NULL, 0, prefix, plen, fn, arg);

	return ret == 0 ? 0 : peek_fail(path, ret, e);
}

/* The user's listing reads greylist.db with a handle of its own, without
 * the environment: no flock, no lock, no mutex, nothing that a stopped or
 * killed reader could hold. It sees what the last checkpoint wrote. */
int
bdb_peek(const char *dir, const void *prefix, size_t plen,
    store_scan_fn fn, void *arg, int64_t *asof, struct err *e)
{
	char path[PATH_MAX];
	struct stat st;
	DB *db;
	int ret;

	*asof = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE) >=
	    sizeof(path))
		return err_set(e, "database path too long");
	if (stat(path, &st) == -1)
		return errno == ENOENT ? 0 : err_set(e, "%s: %s", path,
		    strerror(errno));
	*asof = (int64_t)st.st_mtime;
	if ((ret = db_create(&db, NULL, 0)) != 0)
		return err_set(e, "%s: %s", path, db_strerror(ret));
	db->set_errcall(db, store_errcall);
	if ((ret = db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0)) != 0)
		ret = peek_fail(path, ret, e);
	else
		ret = peek_walk(db, path, prefix, plen, fn, arg, e);
	db->close(db, DB_NOSYNC);
	return ret;
}

/* The operations as the store interface calls them. */
static void
op_close(struct store *st)
{
	bdb_close((struct bdb *)st);
}

static int
op_begin(struct store *st, struct err *e)
{
	return bdb_begin((struct bdb *)st, e);
}

static int
op_commit(struct store *st, struct err *e)
{
	return bdb_commit((struct bdb *)st, e);
}

static void
op_abort(struct store *st)
{
	bdb_abort((struct bdb *)st);
}

static int
op_get(struct store *st, const void *key, size_t klen, void *val,
    size_t *vlen, int forupdate, struct err *e)
{
	return bdb_get((struct bdb *)st, key, klen, val, vlen, forupdate, e);
}

/* Expiry is purge's work here, and a B-tree needs no index: ttl and
 * flags are for backends that expire keys. */
static int
op_put(struct store *st, const void *key, size_t klen, const void *val,
    size_t vlen, int64_t ttl, int flags, struct err *e)
{
	(void)ttl;
	(void)flags;
	return bdb_put((struct bdb *)st, key, klen, val, vlen, e);
}

static int
op_del(struct store *st, const void *key, size_t klen, struct err *e)
{
	return bdb_del((struct bdb *)st, key, klen, e);
}

static int
op_scan(struct store *st, const void *prefix, size_t plen, int flags,
    size_t batch, store_scan_fn fn, void *arg, struct err *e)
{
	(void)flags;
	return bdb_scan((struct bdb *)st, prefix, plen, batch, fn, arg, e);
}

static int
op_yield(struct store *st, struct err *e)
{
	return bdb_yield((struct bdb *)st, e);
}

static int
op_each(struct store *st, const void *prefix, size_t plen, int flags,
    store_scan_fn fn, void *arg, struct err *e)
{
	(void)flags;
	return bdb_each((struct bdb *)st, prefix, plen, fn, arg, e);
}

static int
op_checkpoint(struct store *st, struct err *e)
{
	struct bdb *s = (struct bdb *)st;
	int ret;

	if (bdb_ready(s, e) == -1)
		return -1;
	store_enter();
	ret = s->env->txn_checkpoint(s->env, 0, 0, 0);
	store_leave();
	if (ret != 0)
		return store_fail(s, ret, "checkpoint", e);
	store_note_log(s);
	return 0;
}

const struct store_ops bdb_ops = {
	op_close, op_begin, op_commit, op_abort, op_get, op_put, op_del,
	op_scan, op_each, op_yield, op_checkpoint, bdb_watchdog, bdb_stuck
};
