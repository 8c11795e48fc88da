/* greylist checkpoint: writes what the environment holds in memory to
 * greylist.db, which the users' listings read without joining it; cron
 * or a timer runs it every few minutes. */

#include "cmd.h"
#include "priv.h"
#include "store.h"

static int
cmd_checkpoint(struct ctx *x, int argc, char **argv)
{
	struct store *s;
	struct err e;
	int ret;

	if (argc > 1)
		return cmd_error("checkpoint: unexpected argument '%s'", argv[1]);
	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	ret = store_checkpoint(s, &e);
	store_close(s);
	if (ret == -1)
		return cmd_error("checkpoint: %s", e.msg);
	return 0;
}

const struct cmd_entry cmd_checkpoint_entry = {
	"checkpoint", PRIV_ADMIN, cmd_checkpoint,
	"checkpoint"
};
