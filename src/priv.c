/* Who may run what when greylist runs setgid. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_GETAUXVAL
#include <sys/auxv.h>
#endif
#ifdef STATIC_BINARY
#include <nss.h>
#endif

#include "priv.h"

#ifdef STATIC_BINARY
/* A static glibc loads the NSS modules nsswitch.conf names (systemd, ldap,
 * sss) as shared libraries, and a module built for another glibc version
 * than the one linked in can crash the setgid program. Users, groups and
 * host names come from the sources built into the C library instead,
 * before main() can ask for any. */
__attribute__((constructor)) static void
priv_nss_builtin(void)
{
	(void)__nss_configure_lookup("passwd", "files");
	(void)__nss_configure_lookup("group", "files");
	(void)__nss_configure_lookup("hosts", "files dns");
}
#endif

int
priv_secure(void)
{
#ifdef HAVE_GETAUXVAL
	return getauxval(AT_SECURE) != 0;
#else
	return getuid() != geteuid() || getgid() != getegid();
#endif
}

extern char **environ;

int
priv_sanitize(char ***userenv)
{
	char **v, **keep;
	size_t n = 0;
	int refused = 0;

	for (v = environ; *v != NULL; v++)
		n++;
	keep = calloc(n + 1, sizeof(*keep));
	for (n = 0, v = environ; *v != NULL; v++) {
		if (strncmp(*v, "GREYLIST_", 9) == 0) {
			refused |= getuid() != 0;
			continue;
		}
		if (keep != NULL && (keep[n] = strdup(*v)) != NULL)
			n++;
	}
	*userenv = keep;
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	return refused ? -1 : 0;
}

void
priv_free_env(char **env)
{
	char **v;

	if (env == NULL)
		return;
	for (v = env; *v != NULL; v++)
		free(*v);
	free(env);
}

int
priv_drop(void)
{
	gid_t g = getgid();
	uid_t u = getuid();
	gid_t rg, eg, sg;
	uid_t ru, eu, su;

	if (setresgid(g, g, g) == -1 || setresuid(u, u, u) == -1)
		return -1;
	if (getresgid(&rg, &eg, &sg) == -1 || getresuid(&ru, &eu, &su) == -1)
		return -1;
	return rg == g && eg == g && sg == g && ru == u && eu == u &&
	    su == u ? 0 : -1;
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
