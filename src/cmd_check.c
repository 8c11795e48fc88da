/* greylist check: one decision for one recipient, for the MTA. Prints one
 * line (the SMTP reply on defer, a header on pass) and exits 0, 1 or 2;
 * any failure exits 2 so that the MTA fails open. */
#include <stdio.h>
#include <syslog.h>

#include "cmd.h"
#include "policy.h"
#include "priv.h"
#include "store.h"
#include "watchdog.h"

/* Prints the decision's line and sets the exit status it stands for. */
static int
check_answer(struct ctx *x, const struct tuple *t, const struct decision *d)
{
	char line[1024];
	int ret;

	policy_format(&x->conf, t, d, line, sizeof(line));
	printf("%s\n", line);
	if (fflush(stdout) == EOF)
		return cmd_error("cannot write the answer");
	ret = d->pass ? EXIT_PASS : EXIT_DEFER;
	wd_status(ret);
	cmd_log_decision(x, t, d, "");
	return ret;
}

static int
cmd_check(struct ctx *x, int argc, char **argv)
{
	struct decision d;
	struct store *s;
	struct tuple t;
	struct err e;
	const char *spf;
	int ret;

	if (cmd_tuple(x, argc, argv, 1, &t, &spf) != 0)
		return EXIT_ERROR;
	/* The whole check is bounded by the database timeout: the store's
	 * own waits are shorter. */
	wd_set(x->conf.timeout_ms, NULL);
	if (policy_exempt(&x->conf, &t, spf, &d)) {
		ret = check_answer(x, &t, &d);
		if (store_open(&s, &x->conf, &e) == -1 || policy_count(s, &d, &e) == -1)
			cmd_log(x, LOG_WARNING, "not counted: %s", e.msg);
		store_close(s);
		return ret;
	}
	if (store_open(&s, &x->conf, &e) == -1)
		return cmd_error("%s", e.msg);
	ret = policy_check(s, &x->conf, &t, x->now, &d, &e);
	if (ret == 0)
		ret = check_answer(x, &t, &d);
	else
		ret = cmd_error("%s", e.msg);
	store_close(s);
	return ret;
}

const struct cmd_entry cmd_check_entry = {
	"check", PRIV_MTA, cmd_check,
	"check --ip=IP --sender=ADDR --rcpt=ADDR [--helo=NAME] "
	    "[--spf=RESULT] [--host=NAME]"
};
