/* Per-user settings: greylisting on or off, and the personal whitelist
 * that `greylist -tw` puts in force (check never reads home directories).
 * With Berkeley DB they are files in DIR/users that the user commands
 * write without joining the environment (lib/userfile.c); with Redis,
 * records in the store. The users_* functions choose by backend. */
#ifndef GREYLIST_USER_H
#define GREYLIST_USER_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "entry.h"
#include "store.h"

#define USER_WL_MAX	(64 * 1024)	/* bytes; largest ~/.wl read */

/* 1 = a login name greylist keeps (printable ASCII, no '/', '@' or
 * space, at most LOGIN_MAX bytes), 0 = not. */
int	user_login_ok(const char *login);

/* The user settings c configures, for the user commands: on Berkeley DB
 * DIR/users (created in a new database directory; an error when the
 * database predates it and no check or admin command has migrated it
 * yet), never joining the environment; on Redis the store.
 * -1 = error, 0 = open. */
struct users;
int	users_open(struct users **up, const struct conf *c, struct err *e);
void	users_close(struct users *u);

/* 1 = c keeps user settings in files (Berkeley DB, DIR/users made),
 * 0 = in the store. */
int	users_in_files(const struct conf *c);

/* As user_get, user_toggle and user_set_whitelist below, on u. */
int	users_get(struct users *u, const char *login, int *off, uint32_t *nwl,
	    struct err *e);
int	users_toggle(struct users *u, const char *login, int64_t now,
	    int *off, struct err *e);
int	users_set_whitelist(struct users *u, const char *login,
	    const struct strlist *wl, int64_t now, struct err *e);

/* The store-kept settings (Redis, and Berkeley DB databases not yet
 * migrated to DIR/users). The user's state: *off = greylisting off, *nwl = whitelist entries.
 * -1 = error, 0 = done (defaults when the user never changed anything). */
int	user_get(struct store *s, const char *login, int *off, uint32_t *nwl,
	    struct err *e);

/* Flips greylisting for login; *off = the new state. -1 = error. */
int	user_toggle(struct store *s, const char *login, int64_t now, int *off,
	    struct err *e);

/* Replaces login's whitelist with wl (normalised entries). -1 = error. */
int	user_set_whitelist(struct store *s, const char *login,
	    const struct strlist *wl, int64_t now, struct err *e);

/* Called for each line user_wl_clean drops: its number, its text and
 * why. */
typedef void (*user_drop_fn)(unsigned line, const char *text,
    const char *why, void *arg);

/* Cleans the text of a ~/.wl (len bytes, may hold NULs): per line,
 * meta-characters and white space are stripped and what remains must be
 * one address or @domain, added normalised to out (duplicates once);
 * blank lines go silently, others through drop. -1 = out of memory,
 * 0 = done. */
int	user_wl_clean(const char *text, size_t len, struct strlist *out,
	    user_drop_fn drop, void *arg);

/* One user's settings as lib/userfile.c keeps them. */
struct user_wl {
	int64_t	 added;
	char	*text;		/* normalised address or @domain */
};

struct user_settings {
	int	 off;		/* greylisting off */
	int64_t	 changed;	/* when off last changed */
	struct user_wl *wl;
	size_t	 n, cap;
};

void	user_settings_free(struct user_settings *u);
/* -1 = out of memory, 0 = added. */
int	user_settings_add(struct user_settings *u, const char *text,
	    int64_t added);

/* What userfile_state finds in a database directory. */
#define USERS_READY	1	/* DIR/users exists */
#define USERS_OLD	2	/* none, but greylist.db: to migrate */
#define USERS_NONE	3	/* neither: a new database directory */

/* -1 = DIR/users is not a directory or cannot be looked at, else one of
 * USERS_READY, USERS_OLD, USERS_NONE. */
int	userfile_state(const char *dir);

/* Creates dir (if missing) and dir/users. -1 = error, 0 = done. */
int	userfile_mkdir(const char *dir, struct err *e);

/* Reads dir/users/login without any lock into u (defaults when there is
 * none); free it with user_settings_free. -1 = the file is odd (not a
 * regular file, too large, malformed: u holds defaults, e says why),
 * 0 = no file, 1 = read. */
int	userfile_read(const char *dir, const char *login,
	    struct user_settings *u, struct err *e);

/* For check: *off = login opted out, *listed = sender (or atdom,
 * "@domain") is on login's whitelist. Returns as userfile_read. */
int	userfile_match(const char *dir, const char *login, const char *sender,
	    const char *atdom, int *off, int *listed, struct err *e);

/* Replaces dir/users/login with u atomically (temp file, fsync, 0660,
 * rename), first removing temp files that killed runs for login left.
 * -1 = error, 0 = done. */
int	userfile_write(const char *dir, const char *login,
	    const struct user_settings *u, struct err *e);

/* Removes dir/users/login. -1 = error, 0 = done (or none). */
int	userfile_remove(const char *dir, const char *login, struct err *e);

/* Removes every user file. -1 = error, 0 = done. */
int	userfile_clear(const char *dir, struct err *e);

/* Calls fn for each user file in login order; u is NULL for a file that
 * cannot be read. fn returns 0 to go on. -1 = error, else what fn
 * returned last. */
typedef int (*userfile_fn)(const char *login, const struct user_settings *u,
    void *arg);
int	userfile_each(const char *dir, userfile_fn fn, void *arg,
	    struct err *e);

/* Users' settings put together from records (migration, import). */
struct user_batch {
	struct user_batch_user {
		char	 login[LOGIN_MAX + 1];
		struct user_settings u;
	} *v;
	size_t	 n, cap;
	int	 failed;
};

/* Applies one ENTRY_USER or ENTRY_USERWL entry to b (others are
 * ignored); a login new to b starts from dir/users/login when dir is not
 * NULL. -1 = out of memory, 0 = done. */
int	user_batch_add(struct user_batch *b, const char *dir,
	    const struct entry *en);
/* Writes every user of b with userfile_write. -1 = error, 0 = done. */
int	user_batch_write(const struct user_batch *b, const char *dir,
	    struct err *e);
void	user_batch_free(struct user_batch *b);

/* Calls fn for the user files of dir as the entries the store used to
 * keep: kind ENTRY_USER, one per login, or ENTRY_USERWL, one per
 * whitelist entry, in key order. fn returning SCAN_STOP ends it.
 * -1 = error, 0 = done. */
int	userfile_scan(const char *dir, int kind, entry_fn fn, void *arg,
	    struct err *e);

/* Moves the user records of s (an environment just joined) into files:
 * writes them all in a temp directory, renames it to dir/users (a
 * migrator that loses a race removes its own) and deletes the records.
 * -1 = error (nothing changed for check), 0 = done. */
int	userfile_migrate(struct store *s, const char *dir, struct err *e);

#endif
