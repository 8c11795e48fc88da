/* Who may run what when greylist runs setgid (greylist(8), INSTALLATION AND
 * PRIVILEGES). */
#ifndef GREYLIST_PRIV_H
#define GREYLIST_PRIV_H

#include "conf.h"

#define PRIV_ANY	0	/* user commands: identity from the real uid */
#define PRIV_MTA	1	/* check, policy, spam, batch */
#define PRIV_ADMIN	2	/* list, purge, stats, pass, delete, ... */

/* 1 = running with rights the caller does not have (AT_SECURE). */
int	priv_secure(void);

/* For a setgid run: keeps a copy of the caller's environment (what the
 * loader left of it, without GREYLIST_*) in *userenv, NULL-terminated,
 * for the editor that runs once every privilege is dropped; empties the
 * environment and sets a safe PATH. -1 = the caller, not root, set
 * GREYLIST_* variables (refused), 0 = done. */
int	priv_sanitize(char ***userenv);

/* Frees what priv_sanitize kept (NULL is fine). */
void	priv_free_env(char **env);

/* Drops every extra privilege for good (the effective and saved group
 * and user become the real ones). -1 = failed, 0 = done. */
int	priv_drop(void);

/* Whether the real user may run a command of class cls. Without elevated
 * rights everyone may (file permissions are the boundary); with them,
 * root always, the admin_group for PRIV_ADMIN and the mta_users for
 * PRIV_MTA. 1 = allowed, 0 = not. */
int	priv_allowed(const struct conf *c, int cls);

#endif
