/* What several commands share: the tuple options of check, pass and
 * spam, the log line of a decision (check, batch, policy, serve), and
 * who the invoking user is (the user commands). */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd.h"
#include "entry.h"
#include "policy.h"
#include "store.h"
#include "user.h"

int
cmd_tuple(struct ctx *x, int argc, char **argv, int want_rcpt,
    struct tuple *t, const char **spf)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, 0 },
		{ "sender", required_argument, NULL, 1 },
		{ "rcpt", required_argument, NULL, 2 },
		{ "helo", required_argument, NULL, 3 },
		{ "spf", required_argument, NULL, 4 },
		{ "host", required_argument, NULL, 5 },
		{ NULL, 0, NULL, 0 }
	};
	const char *v[6] = { NULL, NULL, want_rcpt ? NULL : "postmaster",
	    NULL, NULL, NULL };
	const char *why;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == '?' || (ch == 2 && !want_rcpt))
			return cmd_error("%s: unknown option or missing value "
			    "'%s'", argv[0], argv[optind - 1]);
		v[ch] = optarg;
	}
	if (optind < argc)
		return cmd_error("%s: unexpected argument '%s'", argv[0],
		    argv[optind]);
	if (v[0] == NULL || v[1] == NULL || v[2] == NULL)
		return cmd_error("%s: --ip, --sender%s are required", argv[0],
		    want_rcpt ? " and --rcpt" : "");
	if (tuple_make(t, v[0], v[1], v[2], x->conf.ipv4_prefix,
	    x->conf.ipv6_prefix, x->conf.normalize_verp, &why) == -1)
		return cmd_error("%s: %s", argv[0], why);
	ident_apply(t, x->conf.client_identity, v[4], v[3], v[5]);
	if (spf != NULL)
		*spf = v[4];
	return 0;
}

/* Writes addr for the log: the null sender as NULL_SENDER, "*@domain"
 * with privacy. */
static const char *
front_logaddr(const struct ctx *x, const char *addr, char *buf, size_t len)
{
	const char *at = strrchr(addr, '@');

	if (addr[0] == '\0')
		return NULL_SENDER;
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
	    front_logaddr(x, t->sender, s, sizeof(s)),
	    front_logaddr(x, t->rcpt, r, sizeof(r)),
	    policy_reason_name(d->reason), d->rule[0] ? " rule=" : "",
	    d->rule, d->pass ? "delay" : "retry",
	    (long long)(d->pass ? d->delay : d->retry), extra);
	if (d->warn[0] != '\0')
		cmd_log(x, LOG_WARNING, "%s", d->warn);
}

void
cmd_yielded(struct ctx *x, const char *who, int ret, const struct err *e)
{
	if (ret == -1)
		cmd_log(x, LOG_WARNING, "%s: %s", who, e->msg);
	else if (ret == 1)
		cmd_log(x, LOG_INFO, "%s: database closed for a recovery", who);
}

const struct passwd *
cmd_self(char *login)
{
	const struct passwd *pw = getpwuid(getuid());

	if (pw == NULL || !user_login_ok(pw->pw_name)) {
		cmd_error("no usable login name for uid %u", (unsigned)getuid());
		return NULL;
	}
	snprintf(login, LOGIN_MAX + 1, "%s", pw->pw_name);
	return pw;
}

/* Recipients' local parts are compared in lower case, so settings of a
 * login with upper-case letters could never apply to any mail, and would
 * be taken for those of the all-lower-case login. */
int
cmd_settable(const char *login)
{
	if (strpbrk(login, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL)
		return cmd_fail("login '%s' has upper-case letters; "
			    "recipients are compared in lower case, so no "
			    "mail is greylisted for it: nothing to change",
			    login);
	return 0;
}
