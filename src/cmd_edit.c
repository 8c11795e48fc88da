/* greylist pass, delete, exempt and spam: the operators' changes to the
 * database. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "filter.h"
#include "policy.h"
#include "store.h"

/* Parses --ip, --sender, --rcpt (when want_rcpt), and --helo, --spf and
 * --host, which choose the client identity as for check, into t.
 * EXIT_ERROR = bad arguments (printed), 0 = parsed. */
static int
edit_tuple(struct ctx *x, int argc, char **argv, int want_rcpt,
    struct tuple *t)
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
	return 0;
}

int
cmd_pass(struct ctx *x, int argc, char **argv)
{
	struct store *s;
	struct tuple t;
	struct err e;
	int ret;

	if (edit_tuple(x, argc, argv, 1, &t) != 0)
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

int
cmd_spam(struct ctx *x, int argc, char **argv)
{
	struct store *s;
	struct tuple t;
	struct err e;
	size_t n;
	int ret;

	if (edit_tuple(x, argc, argv, 0, &t) != 0)
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

struct delete_state {
	struct filter f;
	size_t	 n;
};

static int
delete_fn(const struct entry *en, void *arg)
{
	struct delete_state *st = arg;

	if (!filter_match(&st->f, en))
		return SCAN_NEXT;
	st->n++;
	return SCAN_DELETE;
}

int
cmd_delete(struct ctx *x, int argc, char **argv)
{
	static const int kinds[] = { ENTRY_TRIPLET, ENTRY_TUPLET };
	struct delete_state st;
	struct store *s;
	struct err e;
	int ret;

	memset(&st, 0, sizeof(st));
	if (filter_parse(x, argc, argv, 0, &st.f) != 0)
		return EXIT_ERROR;
	if (st.f.n == 0)
		return cmd_error("delete: give at least one of --state, --ip, "
		    "--sender, --rcpt, --domain, --client");
	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	ret = entry_scan(s, NULL, kinds, 2, SCAN_BATCH_WRITE, delete_fn, &st,
	    NULL, &e);
	store_close(s);
	if (ret == -1)
		return cmd_error("delete: %s", e.msg);
	if (st.n > 0)
		cmd_log(x, LOG_INFO, "delete: %zu entries by admin", st.n);
	printf("deleted %zu\n", st.n);
	return st.n > 0 ? 0 : 1;
}
