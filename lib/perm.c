/*
 * Group and modes of the database directory and its files. Files belong
 * to the directory's group and are group read-write whoever creates them
 * (root, an admin command, the MTA's user through the setgid binary):
 * the directory is setgid (2770), so files made in it inherit its group,
 * and greylist runs with umask 007. A directory without the setgid bit
 * is repaired by root's runs (store_bdb.c; a check on a directory that
 * has it pays nothing); one made before the group existed, by make
 * install and the Debian package; greylist doctor reports both.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "perm.h"

int
perm_mkdir(const char *dir, const char *group, struct err *e)
{
	struct group *gr;
	struct stat st;

	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 :
		    err_set(e, "%s: not a directory", dir);
	if (errno != ENOENT)
		return err_set(e, "%s: %s", dir, strerror(errno));
	if (mkdir(dir, 0770) == -1)
		return errno == EEXIST ? 0 :	/* a concurrent process */
		    err_set(e, "cannot create %s: %s", dir, strerror(errno));
	if (geteuid() == 0 && (gr = getgrnam(group)) != NULL)
		(void)!chown(dir, (uid_t)-1, gr->gr_gid);
	(void)chmod(dir, 02770);
	return 0;
}

void
perm_fix(const char *dir)
{
	struct dirent *d;
	struct stat ds, st;
	DIR *dp;
	int fd;

	if ((dp = opendir(dir)) == NULL)
		return;
	fd = dirfd(dp);
	if (fstat(fd, &ds) == 0 && geteuid() == 0 && !(ds.st_mode & S_ISGID))
		(void)fchmod(fd, (ds.st_mode & 07777) | S_ISGID);
	while ((d = readdir(dp)) != NULL) {
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) ||
		    (geteuid() != 0 && st.st_uid != geteuid()))
			continue;
		if (st.st_gid != ds.st_gid)
			(void)!fchownat(fd, d->d_name, (uid_t)-1, ds.st_gid,
			    AT_SYMLINK_NOFOLLOW);
		if ((st.st_mode & 0660) != 0660)
			(void)fchmodat(fd, d->d_name,
			    (st.st_mode & 07777) | 0660, 0);
	}
	closedir(dp);
}

int
perm_setgid(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && (st.st_mode & S_ISGID);
}

void
perm_describe(const char *path, char *buf, size_t len)
{
	char u[32], g[32];
	struct passwd *pw;
	struct group *gr;
	struct stat st;

	if (stat(path, &st) == -1) {
		snprintf(buf, len, "%s", strerror(errno));
		return;
	}
	if ((pw = getpwuid(st.st_uid)) != NULL)
		snprintf(u, sizeof(u), "%s", pw->pw_name);
	else
		snprintf(u, sizeof(u), "%u", (unsigned)st.st_uid);
	if ((gr = getgrgid(st.st_gid)) != NULL)
		snprintf(g, sizeof(g), "%s", gr->gr_name);
	else
		snprintf(g, sizeof(g), "%u", (unsigned)st.st_gid);
	snprintf(buf, len, "owner %s:%s, mode %04o", u, g,
	    (unsigned)(st.st_mode & 07777));
}

/* 1 = name in dir (or dir itself when name is NULL) is not writable
 * with the effective ids, described in buf. */
static int
perm_denied(const char *dir, const char *name, char *buf, size_t len)
{
	char path[4096], how[96];
	int n;

	n = name != NULL ? snprintf(path, sizeof(path), "%s/%s", dir, name) :
	    snprintf(path, sizeof(path), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    faccessat(AT_FDCWD, path, name != NULL ? R_OK | W_OK :
	    R_OK | W_OK | X_OK, AT_EACCESS) == 0 || errno != EACCES)
		return 0;
	perm_describe(path, how, sizeof(how));
	snprintf(buf, len, "%s: Permission denied (%s); as root run: chgrp "
	    "-R %s %s && chmod -R g+rw %s (then greylist doctor)", path, how,
	    GREYLIST_GROUP, dir, dir);
	return 1;
}

int
perm_explain(const char *dir, char *buf, size_t len)
{
	struct dirent *d;
	DIR *dp;
	int found = 0;

	if (perm_denied(dir, NULL, buf, len))
		return 1;
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while (!found && (d = readdir(dp)) != NULL)
		if (d->d_name[0] != '.')
			found = perm_denied(dir, d->d_name, buf, len);
	closedir(dp);
	return found;
}
