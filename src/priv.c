/* Who may run what when greylist runs setgid. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_GETAUXVAL
#include <sys/auxv.h>
#endif

#include "priv.h"

int
priv_secure(void)
{
#ifdef HAVE_GETAUXVAL
	return getauxval(AT_SECURE) != 0;
#else
	return getuid() != geteuid() || getgid() != getegid();
#endif
}

/* 1 = the real user is in group name (primary or supplementary). */
static int
priv_in_group(const char *name)
{
	struct group *gr = getgrnam(name);
	gid_t groups[256];
	int i, n;

	if (gr == NULL)
		return 0;
	if (getgid() == gr->gr_gid)
		return 1;
	if ((n = getgroups(256, groups)) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return 1;
	return 0;
}

int
priv_allowed(const struct conf *c, int cls)
{
	struct passwd *pw;

	if (!priv_secure() || getuid() == 0 || cls == PRIV_ANY)
		return 1;
	if (cls == PRIV_ADMIN)
		return priv_in_group(c->admin_group);
	pw = getpwuid(getuid());
	return pw != NULL && strlist_has(&c->mta_users, pw->pw_name);
}
