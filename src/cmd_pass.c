/* greylist pass: lets a triplet through now, as if it had retried after
 * the embargo, for an operator who knows the sender. */
#include <stdio.h>
#include <syslog.h>

#include "cmd.h"
#include "entry.h"
#include "policy.h"
#include "priv.h"
#include "store.h"

static int
cmd_pass(struct ctx *x, int argc, char **argv)
{
	struct store *s;
	struct tuple t;
	struct err e;
	int ret;

	if (cmd_tuple(x, argc, argv, 1, &t, NULL) != 0)
		return EXIT_ERROR;
	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	ret = policy_force_pass(s, &x->conf, &t, x->now, &e);
	store_close(s);
	if (ret == -1)
		return cmd_error("pass: %s", e.msg);
	cmd_log(x, LOG_INFO, "pass: client=%s sender=<%s> rcpt=<%s> by admin",
	    t.client, t.sender, t.rcpt);
	printf("passed %s %s %s\n", t.client, t.sender[0] ? t.sender :
	    NULL_SENDER, t.rcpt);
	return 0;
}

const struct cmd_entry cmd_pass_entry = {
	"pass", PRIV_ADMIN, cmd_pass,
	"pass --ip=IP --sender=ADDR --rcpt=ADDR [--helo=NAME] "
	    "[--spf=RESULT] [--host=NAME]"
};
