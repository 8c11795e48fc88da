/*
 * Per-user settings as files, for the Berkeley DB backend: DIR/users/LOGIN
 * (DIR the database directory) holds one user's opt-out and personal
 * whitelist.
 *
 * Why files: a user command runs with the user's real uid, so the user can
 * stop, kill or resource-limit it at any instant. Inside the shared
 * environment it would hold the flock, a lock or a mutex that every check
 * then waits for (and fails open). So the user commands never join the
 * environment: they replace their own file atomically (a temp file in
 * DIR/users whose name starts with '.', never a login, then fsync, fchmod
 * 0660 and rename), and check reads the file without any lock. A user
 * command stopped or killed at any point leaves at most a stale temp
 * file, which its next run removes.
 *
 * The format, text, versioned by its first line:
 *	greylist-user 1
 *	greylisting on|off CHANGED
 *	ADDED ENTRY		(one per whitelist entry, normalised)
 * with times in epoch seconds. A file that is not a regular file, too
 * large or malformed counts as no settings (the caller logs why).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "user.h"

#define USERS_DIR	"users"
#define USER_MAGIC	"greylist-user 1"
#define USER_FILE_MAX	(1024 * 1024)	/* bytes; larger files are refused */
#define MIGRATE_STALE	600		/* seconds; a migration takes far less */

static int
userfile_path(const char *dir, const char *name, char *path, size_t len)
{
	return (size_t)snprintf(path, len, "%s/%s%s%s", dir, USERS_DIR,
	    name != NULL ? "/" : "", name != NULL ? name : "") < len ? 0 : -1;
}

int
userfile_state(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (userfile_path(dir, NULL, path, sizeof(path)) == -1)
		return -1;
	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? USERS_READY : -1;
	if (errno != ENOENT)
		return -1;
	snprintf(path, sizeof(path), "%s/greylist.db", dir);
	return stat(path, &st) == 0 ? USERS_OLD : USERS_NONE;
}

int
userfile_mkdir(const char *dir, struct err *e)
{
	char path[PATH_MAX];

	if (userfile_path(dir, NULL, path, sizeof(path)) == -1)
		return err_set(e, "%s: path too long", dir);
	if (mkdir(dir, 0770) == -1 && errno != EEXIST)
		return err_set(e, "cannot create %s: %s", dir, strerror(errno));
	if (mkdir(path, 0770) == -1 && errno != EEXIST)
		return err_set(e, "cannot create %s: %s", path,
		    strerror(errno));
	return 0;
}

void
user_settings_free(struct user_settings *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		free(u->wl[i].text);
	free(u->wl);
	memset(u, 0, sizeof(*u));
}

int
user_settings_add(struct user_settings *u, const char *text, int64_t added)
{
	struct user_wl *v;

	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 16;
		if ((v = realloc(u->wl, u->cap * sizeof(*v))) == NULL)
			return -1;
		u->wl = v;
	}
	if ((u->wl[u->n].text = strdup(text)) == NULL)
		return -1;
	u->wl[u->n++].added = added;
	return 0;
}

/* A time field: -1 = malformed, 0 = *t set. */
static int
userfile_time(const char *s, char **end, int64_t *t)
{
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno != 0 || v > ENTRY_TIME_MAX)
		return -1;
	*t = (int64_t)v;
	return 0;
}

/* Parses a whole file (NUL-terminated). -1 = malformed, 0 = done. */
static int
userfile_parse(char *buf, struct user_settings *u)
{
	char *line, *next, *end;
	int64_t t;
	int n;

	for (line = buf, n = 0; *line != '\0'; line = next, n++) {
		if ((next = strchr(line, '\n')) == NULL)
			return -1;
		*next++ = '\0';
		if (n == 0 && strcmp(line, USER_MAGIC) != 0)
			return -1;
		if (n == 1) {
			if (strncmp(line, "greylisting on ", 15) == 0)
				u->off = 0;
			else if (strncmp(line, "greylisting off ", 16) == 0)
				u->off = 1;
			else
				return -1;
			if (userfile_time(line + 15 + u->off, &end,
			    &u->changed) == -1 || *end != '\0')
				return -1;
		}
		if (n < 2)
			continue;
		if (userfile_time(line, &end, &t) == -1 || *end != ' ' ||
		    end[1] == '\0' || strlen(end + 1) > ADDR_MAX + 1)
			return -1;
		if (user_settings_add(u, end + 1, t) == -1)
			return -1;
	}
	return n >= 2 ? 0 : -1;
}

/* Reads fd (at most USER_FILE_MAX bytes) into a new buffer.
 * NULL = error (in e). */
static char *
userfile_slurp(int fd, const char *path, struct err *e)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *buf;

	if (fstat(fd, &st) == -1) {
		err_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > USER_FILE_MAX) {
		err_set(e, "%s: %s: ignored", path, S_ISREG(st.st_mode) ?
		    "too large" : "not a regular file");
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		err_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while (n < (size_t)st.st_size && ((r = read(fd, buf + n,
	    (size_t)st.st_size - n)) > 0 || (r == -1 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	buf[n] = '\0';
	if (n != (size_t)st.st_size || memchr(buf, '\0', n) != NULL) {
		err_set(e, "%s: changed while read, or binary: ignored", path);
		free(buf);
		return NULL;
	}
	return buf;
}

int
userfile_read(const char *dir, const char *login, struct user_settings *u,
    struct err *e)
{
	char path[PATH_MAX], *buf;
	int fd, ret;

	memset(u, 0, sizeof(*u));
	if (userfile_path(dir, login, path, sizeof(path)) == -1)
		return err_set(e, "%s: path too long", dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : err_set(e, "%s: %s: ignored",
		    path, strerror(errno));
	buf = userfile_slurp(fd, path, e);
	close(fd);
	if (buf == NULL)
		return -1;
	ret = userfile_parse(buf, u);
	free(buf);
	if (ret == -1) {
		user_settings_free(u);
		return err_set(e, "%s: not a greylist user file: ignored",
		    path);
	}
	return 1;
}

int
userfile_match(const char *dir, const char *login, const char *sender,
    const char *atdom, int *off, int *listed, struct err *e)
{
	struct user_settings u;
	size_t i;
	int ret;

	*off = *listed = 0;
	if ((ret = userfile_read(dir, login, &u, e)) <= 0)
		return ret;
	*off = u.off;
	for (i = 0; i < u.n && !*listed && sender[0] != '\0'; i++)
		*listed = strcmp(u.wl[i].text, sender) == 0 ||
		    (atdom[1] != '\0' && strcmp(u.wl[i].text, atdom) == 0);
	user_settings_free(&u);
	return 1;
}

/* 1 = the process named in a temp file's name is still running. */
static int
userfile_alive(const char *pidtext)
{
	unsigned long pid;
	char *end;

	errno = 0;
	pid = strtoul(pidtext, &end, 10);
	if (*end != '.' || pid == 0 || errno != 0)
		return 0;
	return (pid_t)pid == getpid() || kill((pid_t)pid, 0) == 0 ||
	    errno == EPERM;
}

/* Removes the temp files that runs for login left when they were killed
 * (".LOGIN@PID.XXXXXX" whose PID is gone). */
static void
userfile_clean(const char *udir, const char *login)
{
	char path[PATH_MAX], pre[LOGIN_MAX + 3];
	struct dirent *d;
	DIR *dp;
	size_t n;

	n = (size_t)snprintf(pre, sizeof(pre), ".%s@", login);
	if ((dp = opendir(udir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, pre, n) != 0 ||
		    userfile_alive(d->d_name + n))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", udir,
		    d->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(dp);
}

/* Writes u to the open temp file fd. -1 = error (errno). */
static int
userfile_put(int fd, const struct user_settings *u)
{
	FILE *f;
	size_t i;
	int ret;

	if ((fd = dup(fd)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	fprintf(f, "%s\ngreylisting %s %lld\n", USER_MAGIC, u->off ? "off" :
	    "on", (long long)u->changed);
	for (i = 0; i < u->n; i++)
		fprintf(f, "%lld %s\n", (long long)u->wl[i].added,
		    u->wl[i].text);
	ret = fflush(f) == EOF || ferror(f) ? -1 : 0;
	if (fclose(f) == EOF)
		ret = -1;
	return ret;
}

/* Replaces udir/login with u: a temp file, fsync'd when sync is set,
 * renamed over it. -1 = error, 0 = done. */
static int
userfile_save(const char *udir, const char *login,
    const struct user_settings *u, int sync, struct err *e)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t i, size = 64;
	int fd;

	for (i = 0; i < u->n; i++)
		size += strlen(u->wl[i].text) + 12;
	if (size > USER_FILE_MAX)
		return err_set(e, "%s: more whitelist entries than %d bytes "
		    "hold", login, USER_FILE_MAX);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", udir, login) >=
	    sizeof(path) || (size_t)snprintf(tmp, sizeof(tmp),
	    "%s/.%s@%ld.XXXXXX", udir, login, (long)getpid()) >= sizeof(tmp))
		return err_set(e, "%s: path too long", udir);
	if ((fd = mkstemp(tmp)) == -1)
		return err_set(e, "cannot create a file in %s: %s", udir,
		    strerror(errno));
	if (userfile_put(fd, u) == -1 || (sync && fsync(fd) == -1) ||
	    fchmod(fd, 0660) == -1 || rename(tmp, path) == -1) {
		err_set(e, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return 0;
}

int
userfile_write(const char *dir, const char *login,
    const struct user_settings *u, struct err *e)
{
	char udir[PATH_MAX];

	if (userfile_path(dir, NULL, udir, sizeof(udir)) == -1)
		return err_set(e, "%s: path too long", dir);
	userfile_clean(udir, login);
	return userfile_save(udir, login, u, 1, e);
}

int
userfile_remove(const char *dir, const char *login, struct err *e)
{
	char path[PATH_MAX];

	if (userfile_path(dir, login, path, sizeof(path)) == -1)
		return err_set(e, "%s: path too long", dir);
	if (unlink(path) == -1 && errno != ENOENT)
		return err_set(e, "cannot remove %s: %s", path,
		    strerror(errno));
	return 0;
}

static int
userfile_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The logins that have a file in DIR/users, sorted. -1 = error. */
static int
userfile_logins(const char *dir, struct strlist *l, struct err *e)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	if (userfile_path(dir, NULL, path, sizeof(path)) == -1)
		return err_set(e, "%s: path too long", dir);
	if ((dp = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : err_set(e, "%s: %s", path,
		    strerror(errno));
	while ((d = readdir(dp)) != NULL)
		if (d->d_name[0] != '.' && user_login_ok(d->d_name) &&
		    strlist_add(l, d->d_name) == -1) {
			closedir(dp);
			return err_set(e, "%s", strerror(ENOMEM));
		}
	closedir(dp);
	if (l->n > 0)
		qsort(l->v, l->n, sizeof(l->v[0]), userfile_cmp);
	return 0;
}

int
userfile_each(const char *dir, userfile_fn fn, void *arg, struct err *e)
{
	struct strlist l = { NULL, 0, 0 };
	struct user_settings u;
	struct err fe;
	size_t i;
	int ret = 0;

	if (userfile_logins(dir, &l, e) == -1)
		return -1;
	for (i = 0; i < l.n && ret == 0; i++) {
		if (userfile_read(dir, l.v[i], &u, &fe) == 1) {
			ret = fn(l.v[i], &u, arg);
			user_settings_free(&u);
		} else
			ret = fn(l.v[i], NULL, arg);
	}
	strlist_free(&l);
	return ret;
}

int
userfile_clear(const char *dir, struct err *e)
{
	struct strlist l = { NULL, 0, 0 };
	size_t i;
	int ret = 0;

	if (userfile_logins(dir, &l, e) == -1)
		return -1;
	for (i = 0; i < l.n && ret == 0; i++)
		ret = userfile_remove(dir, l.v[i], e);
	strlist_free(&l);
	return ret;
}

/* login's settings in b, added when new: from dir/users/login when dir
 * is not NULL, else empty. NULL = out of memory. */
static struct user_settings *
batch_user(struct user_batch *b, const char *dir, const char *login)
{
	struct user_batch_user *v;
	struct err e;
	size_t i;

	for (i = b->n; i > 0; i--)
		if (strcmp(b->v[i - 1].login, login) == 0)
			return &b->v[i - 1].u;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		if ((v = realloc(b->v, b->cap * sizeof(*v))) == NULL)
			return NULL;
		b->v = v;
	}
	memset(&b->v[b->n], 0, sizeof(b->v[b->n]));
	snprintf(b->v[b->n].login, sizeof(b->v[b->n].login), "%s", login);
	if (dir != NULL)
		(void)userfile_read(dir, login, &b->v[b->n].u, &e);
	return &b->v[b->n++].u;
}

int
user_batch_add(struct user_batch *b, const char *dir,
    const struct entry *en)
{
	struct user_settings *u;
	size_t i;

	if ((en->kind != ENTRY_USER && en->kind != ENTRY_USERWL) ||
	    !user_login_ok(en->login))
		return 0;
	if ((u = batch_user(b, dir, en->login)) == NULL)
		return -1;
	if (en->kind == ENTRY_USER) {
		u->off = (en->r.flags & USER_OFF) != 0;
		u->changed = en->r.first;
		return 0;
	}
	for (i = 0; i < u->n; i++)
		if (strcmp(u->wl[i].text, en->text) == 0) {
			u->wl[i].added = en->r.first;
			return 0;
		}
	return user_settings_add(u, en->text, en->r.first);
}

int
user_batch_write(const struct user_batch *b, const char *dir,
    struct err *e)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (userfile_write(dir, b->v[i].login, &b->v[i].u, e) == -1)
			return -1;
	return 0;
}

void
user_batch_free(struct user_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		user_settings_free(&b->v[i].u);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

static int
migrate_fn(const struct entry *en, void *arg)
{
	struct user_batch *b = arg;

	if (user_batch_add(b, NULL, en) == -1) {
		b->failed = 1;
		return SCAN_STOP;
	}
	return SCAN_NEXT;
}

static int
migrate_delete_fn(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	(void)key, (void)klen, (void)val, (void)vlen, (void)arg;
	return SCAN_DELETE;
}

/* Removes a temp directory of the migration and what is in it. */
static void
migrate_rmtmp(const char *tmp)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	if ((dp = opendir(tmp)) != NULL) {
		while ((d = readdir(dp)) != NULL)
			if (strcmp(d->d_name, ".") != 0 &&
			    strcmp(d->d_name, "..") != 0 &&
			    (size_t)snprintf(path, sizeof(path), "%s/%s", tmp,
			    d->d_name) < sizeof(path))
				unlink(path);
		closedir(dp);
	}
	rmdir(tmp);
}

/* Removes the temp directories of migrations killed at least
 * MIGRATE_STALE seconds ago (a younger one may be at work). */
static void
migrate_clean(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL)
		if (strncmp(d->d_name, ".users-", 7) == 0 &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    d->d_name) < sizeof(path) && lstat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_mtime + MIGRATE_STALE <
		    time(NULL))
			migrate_rmtmp(path);
	closedir(dp);
}

/* Writes every user of m into the new directory tmp and makes it
 * DIR/users. -1 = error, 0 = done, 1 = another process did it first. */
static int
migrate_write(const struct user_batch *m, const char *dir, struct err *e)
{
	char tmp[PATH_MAX], udir[PATH_MAX];
	struct stat st;
	size_t i;
	int fd, ret = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.users-XXXXXX", dir) >=
	    sizeof(tmp) || userfile_path(dir, NULL, udir, sizeof(udir)) == -1)
		return err_set(e, "%s: path too long", dir);
	if (stat(dir, &st) == -1)
		return err_set(e, "%s: %s", dir, strerror(errno));
	/* Keeps the setgid bit of a setgid install's directory, so that the
	 * files get its group whoever writes them. */
	if (mkdtemp(tmp) == NULL || chmod(tmp, 0770 | (st.st_mode & S_ISGID))
	    == -1)
		return err_set(e, "cannot create %s: %s", tmp, strerror(errno));
	for (i = 0; i < m->n && ret == 0; i++)
		ret = userfile_save(tmp, m->v[i].login, &m->v[i].u, 0, e);
	/* One flush for all the files rather than one per file. */
	if (ret == 0 && ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) == -1 ||
	    syncfs(fd) == -1 || close(fd) == -1))
		ret = err_set(e, "%s: %s", tmp, strerror(errno));
	if (ret == 0 && rename(tmp, udir) == -1)
		ret = errno == EEXIST || errno == ENOTEMPTY ? 1 :
		    err_set(e, "cannot rename %s: %s", tmp, strerror(errno));
	if (ret != 0)
		migrate_rmtmp(tmp);
	return ret;
}

int
userfile_migrate(struct store *s, const char *dir, struct err *e)
{
	static const int kinds[] = { ENTRY_USERWL, ENTRY_USER };
	struct user_batch b = { NULL, 0, 0, 0 };
	uint8_t prefix[1];
	size_t i;
	int ret;

	migrate_clean(dir);
	ret = entry_scan(s, NULL, kinds, 2, SCAN_BATCH_READ, migrate_fn, &b,
	    NULL, e);
	if (ret == 0 && b.failed)
		ret = err_set(e, "%s", strerror(ENOMEM));
	if (ret == 0)
		ret = migrate_write(&b, dir, e);
	/* The records are no longer read once DIR/users exists. */
	for (i = 0; i < 2 && ret == 0 && b.n > 0; i++)
		ret = store_scan(s, prefix, record_key_prefix(kinds[i], prefix),
		    record_flags(kinds[i]), SCAN_BATCH_WRITE,
		    migrate_delete_fn, NULL, e);
	user_batch_free(&b);
	return ret == -1 ? -1 : 0;
}

static int
userfile_wlcmp(const void *a, const void *b)
{
	return strcmp(((const struct user_wl *)a)->text,
	    ((const struct user_wl *)b)->text);
}

/* Calls a->fn with login's settings as the entries the store kept. */
struct scan_args {
	int	 kind;
	entry_fn fn;
	void	*arg;
	struct entry en;
};

static int
userfile_scan_fn(const char *login, const struct user_settings *u,
    void *arg)
{
	struct scan_args *a = arg;
	struct entry *en = &a->en;
	size_t i;

	if (u == NULL)
		return 0;
	memset(en, 0, sizeof(*en));
	en->kind = en->r.kind = a->kind;
	snprintf(en->login, sizeof(en->login), "%s", login);
	if (a->kind == ENTRY_USER) {
		en->r.flags = u->off ? USER_OFF : 0;
		en->r.first = u->changed;
		en->r.passes = (uint32_t)u->n;
		return a->fn(en, a->arg) == SCAN_STOP;
	}
	if (u->n > 1)
		qsort(u->wl, u->n, sizeof(u->wl[0]), userfile_wlcmp);
	for (i = 0; i < u->n; i++) {
		en->r.first = u->wl[i].added;
		snprintf(en->text, sizeof(en->text), "%s", u->wl[i].text);
		if (a->fn(en, a->arg) == SCAN_STOP)
			return 1;
	}
	return 0;
}

int
userfile_scan(const char *dir, int kind, entry_fn fn, void *arg,
    struct err *e)
{
	struct scan_args *a;
	int ret;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return err_set(e, "%s", strerror(ENOMEM));
	a->kind = kind;
	a->fn = fn;
	a->arg = arg;
	ret = userfile_each(dir, userfile_scan_fn, a, e) == -1 ? -1 : 0;
	free(a);
	return ret;
}
