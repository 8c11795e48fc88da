/* greylist check: one decision for one recipient, for the MTA. Prints one
 * line (the SMTP reply on defer, a header on pass) and exits 0, 1 or 2;
 * any failure exits 2 so that the MTA fails open. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd.h"
#include "policy.h"
#include "store.h"
#include "watchdog.h"

/* Writes addr for the log: "<>" when empty, "*@domain" with privacy. */
static const char *
check_logaddr(const struct ctx *x, const char *addr, char *buf, size_t len)
{
	const char *at = strrchr(addr, '@');

	if (addr[0] == '\0')
		return "<>";
	if (x->conf.privacy)
		snprintf(buf, len, "*@%s", at != NULL ? at + 1 : "");
	else
		snprintf(buf, len, "%s", addr);
	return buf;
}

void
cmd_log_decision(struct ctx *x, const struct tuple *t,
    const struct decision *d, const char *extra)
{
	char s[ADDR_MAX + 3], r[ADDR_MAX + 3];
	const char *id = d->client[0] != '\0' ? d->client : t->client;

	cmd_log(x, LOG_INFO, "%s: client=%s%s%s sender=%s rcpt=%s "
	    "reason=%s%s%s %s=%lld%s", d->pass ? "pass" : "defer", t->net,
	    strcmp(id, t->net) != 0 ? " identity=" : "",
	    strcmp(id, t->net) != 0 ? id : "",
	    check_logaddr(x, t->sender, s, sizeof(s)),
	    check_logaddr(x, t->rcpt, r, sizeof(r)),
	    policy_reason_name(d->reason), d->rule[0] ? " rule=" : "",
	    d->rule, d->pass ? "delay" : "retry",
	    (long long)(d->pass ? d->delay : d->retry), extra);
	if (d->warn[0] != '\0')
		cmd_log(x, LOG_WARNING, "%s", d->warn);
}

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

struct check_args {
	const char *ip, *sender, *rcpt, *helo, *spf, *host;
};

static int
check_parse(int argc, char **argv, struct check_args *a)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "sender", required_argument, NULL, 's' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "helo", required_argument, NULL, 'H' },
		{ "spf", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i': a->ip = optarg; break;
		case 's': a->sender = optarg; break;
		case 'r': a->rcpt = optarg; break;
		case 'H': a->helo = optarg; break;
		case 'p': a->spf = optarg; break;
		case 'n': a->host = optarg; break;
		default:
			return cmd_error("check: unknown option or missing "
			    "value '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_error("check: unexpected argument '%s'",
		    argv[optind]);
	if (a->ip == NULL || a->sender == NULL || a->rcpt == NULL)
		return cmd_error("check: --ip, --sender and --rcpt are "
		    "required");
	return 0;
}

int
cmd_check(struct ctx *x, int argc, char **argv)
{
	struct check_args a;
	struct decision d;
	struct store *s;
	struct tuple t;
	struct err e;
	const char *why;
	int ret;

	if (check_parse(argc, argv, &a) != 0)
		return EXIT_ERROR;
	if (tuple_make(&t, a.ip, a.sender, a.rcpt, x->conf.ipv4_prefix,
	    x->conf.ipv6_prefix, x->conf.normalize_verp, &why) == -1)
		return cmd_error("check: %s", why);
	ident_apply(&t, x->conf.client_identity, a.spf, a.helo, a.host);
	/* The whole check is bounded by the database timeout: the store's
	 * own waits are shorter. */
	wd_set(x->conf.timeout_ms, NULL);
	if (policy_exempt(&x->conf, &t, a.spf, &d)) {
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
