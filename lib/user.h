/* Per-user settings kept in the store: greylisting on or off, and the
 * personal whitelist that `greylist -tw` puts in force (check never reads
 * home directories). */
#ifndef GREYLIST_USER_H
#define GREYLIST_USER_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "store.h"

#define USER_WL_MAX	(64 * 1024)	/* bytes; largest ~/.wl read */

/* 1 = a login name greylist keeps (printable ASCII, no '/', '@' or
 * space, at most LOGIN_MAX bytes), 0 = not. */
int	user_login_ok(const char *login);

/* The user's state: *off = greylisting off, *nwl = whitelist entries.
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

#endif
