/* greylist -t: turns greylisting off, or on again, for the invoking
 * user: a setting in the user's file under DIR/users (lib/userfile.c),
 * never a lock any check could wait for. */
#include <stdio.h>
#include <syslog.h>

#include "cmd.h"
#include "priv.h"
#include "user.h"

static int
cmd_toggle(struct ctx *x, int argc, char **argv)
{
	char login[LOGIN_MAX + 1];
	struct users *u;
	struct err e;
	int off, ret;

	(void)argc;
	(void)argv;
	if (cmd_self(login) == NULL || cmd_settable(login) == -1)
		return EXIT_ERROR;
	if ((ret = users_open(&u, &x->conf, &e)) == 0) {
		ret = users_toggle(u, login, x->now, &off, &e);
		users_close(u);
	}
	if (ret == -1)
		return cmd_error("%s", e.msg);
	cmd_log(x, LOG_INFO, "user %s turned greylisting %s", login,
	    off ? "off" : "on");
	printf("greylisting is now %s for %s\n", off ? "off" : "on", login);
	return 0;
}

const struct cmd_entry cmd_toggle_entry = {
	"-t", PRIV_ANY, cmd_toggle,
	"greylist -t"
};
