/* greylist spam: takes back what a client and sender domain earned (the
 * auto-whitelisting and the passed triplets), for mail found to be spam
 * after it passed. */
#include <stdio.h>
#include <syslog.h>

#include "cmd.h"
#include "policy.h"
#include "priv.h"
#include "store.h"

static int
cmd_spam(struct ctx *x, int argc, char **argv)
{
	struct store *s;
	struct tuple t;
	struct err e;
	size_t n;
	int ret;

	if (cmd_tuple(x, argc, argv, 0, &t, NULL) != 0)
		return EXIT_ERROR;
	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	ret = policy_revoke(s, &t, &n, &e);
	store_close(s);
	if (ret == -1)
		return cmd_error("spam: %s", e.msg);
	if (n > 0)
		cmd_log(x, LOG_INFO, "spam: client=%s domain=%s: revoked %zu",
		    t.client, t.sender_domain, n);
	printf("revoked %zu\n", n);
	return 0;
}

const struct cmd_entry cmd_spam_entry = {
	"spam", PRIV_MTA, cmd_spam,
	"spam --ip=IP --sender=ADDR [--helo=NAME] [--spf=RESULT] "
	    "[--host=NAME]"
};
