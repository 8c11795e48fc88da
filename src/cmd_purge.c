/* greylist purge: deletes expired entries, for cron, in short
 * transactions so that checks running meanwhile barely wait. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd.h"
#include "entry.h"
#include "priv.h"


struct purge_state {
	const struct conf *c;
	int64_t	 now;
	int	 dry;
	int	 tty;		/* stderr is a terminal: show progress */
	uint64_t seen, pending, passed, tuplets;
};

static int
purge_fn(const struct entry *en, void *arg)
{
	struct purge_state *st = arg;
	int64_t exp;

	if (st->tty && ++st->seen % PROGRESS_EVERY == 0)
		fprintf(stderr, "\r%" PRIu64 " entries looked at, %" PRIu64
		    " expired", st->seen, st->pending + st->passed +
		    st->tuplets);
	exp = entry_expiry(st->c, &en->r);
	if (exp == 0 || exp >= st->now)
		return SCAN_NEXT;
	if (en->kind == ENTRY_TUPLET)
		st->tuplets++;
	else if (en->r.passed == 0)
		st->pending++;
	else
		st->passed++;
	return st->dry ? SCAN_NEXT : SCAN_DELETE;
}

static int
cmd_purge(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	static const int kinds[] = { ENTRY_TRIPLET, ENTRY_TUPLET };
	struct purge_state st;
	struct store *s;
	struct err e;
	int ch, ret;

	memset(&st, 0, sizeof(st));
	st.c = &x->conf;
	st.now = x->now;
	st.tty = isatty(STDERR_FILENO);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'n')
			return cmd_error("purge: unknown option '%s'",
			    argv[optind - 1]);
		st.dry = 1;
	}
	if (optind < argc)
		return cmd_error("purge: unexpected argument '%s'", argv[optind]);
	if (x->conf.backend == BACKEND_REDIS) {
		printf("nothing to purge: the redis backend expires entries "
		    "by itself\n");
		return 0;
	}
	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	ret = entry_scan(s, NULL, kinds, 2, SCAN_BATCH_WRITE, purge_fn, &st,
	    NULL, &e);
	store_close(s);
	if (st.seen >= PROGRESS_EVERY)
		fputc('\n', stderr);
	if (ret == -1)
		return cmd_error("purge: %s", e.msg);
	if (!st.dry)
		cmd_log(x, LOG_INFO, "purge: %" PRIu64 " pending, %" PRIu64
		    " passed, %" PRIu64 " whitelisted", st.pending, st.passed,
		    st.tuplets);
	printf("%s %" PRIu64 " pending, %" PRIu64 " passed, %" PRIu64
	    " whitelisted\n", st.dry ? "would purge" : "purged", st.pending,
	    st.passed, st.tuplets);
	return fflush(stdout) == EOF ? cmd_error("purge: write error") : 0;
}

const struct cmd_entry cmd_purge_entry = {
	"purge", PRIV_ADMIN, cmd_purge,
	"purge [--dry-run]"
};
