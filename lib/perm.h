/* Group and modes of the database directory and its files. */
#ifndef GREYLIST_PERM_H
#define GREYLIST_PERM_H

#include <stddef.h>

#include "err.h"

#ifndef GREYLIST_GROUP
#define GREYLIST_GROUP	"greylist"	/* configure --with-group */
#endif

/* Creates dir if missing: mode 2770, and when root, in group (if it
 * exists), so that every file made in it later inherits the group.
 * -1 = error (in e), 0 = there or made. */
int	perm_mkdir(const char *dir, const char *group, struct err *e);

/* Gives each file in dir the directory's group and group read-write,
 * where this process may (root; the file's owner in that group); root
 * also sets the directory's setgid bit. Best effort, silent. */
void	perm_fix(const char *dir);

/* 1 = dir has its setgid bit (files made in it get its group), 0 = not:
 * then the files may need perm_fix. */
int	perm_setgid(const char *dir);

/* "owner USER:GROUP, mode 0NNN" of path, for error messages. */
void	perm_describe(const char *path, char *buf, size_t len);

/* For an error opening the database in dir: the first file in it (or
 * dir itself) that this process, with its effective ids, cannot write,
 * described with its owner and mode and the commands that fix it.
 * 1 = found (in buf), 0 = none. */
int	perm_explain(const char *dir, char *buf, size_t len);

#endif
