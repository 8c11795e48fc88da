/* greylist batch: decides a stream of CSV rows (ip,sender,recipient
 * [,helo[,time[,host[,spf]]]]) exactly as check would, through one open
 * store, and writes every row back with its decision. For replaying mail
 * logs and for testing a configuration against real traffic. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd.h"
#include "csvio.h"
#include "policy.h"
#include "priv.h"
#include "store.h"
#include "watchdog.h"

#define BATCH_RECHECK	1000	/* rows between looks for a recovery mark */
#define BATCH_OUTBUF	(64 * 1024)	/* stdout buffer, bytes */

struct batch {
	struct ctx	*x;
	struct store	*s;
	unsigned long	 rows, npass, ndefer, nerror;
	unsigned long	 base;		/* lines read by earlier csvio_reads */
	int		 tty;		/* stderr is a terminal */
	int		 fatal;		/* the read stopped on a database or
					   write error, not on bad CSV */
};

/* Parses epoch seconds: digits only, at most ENTRY_TIME_MAX.
 * -1 = malformed, 0 = done. */
static int
batch_time(const char *s, int64_t *t)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > (long long)ENTRY_TIME_MAX)
		return -1;
	*t = v;
	return 0;
}

/* Writes one output row: the four input fields, the time, the decision,
 * the reason and the retry, and with client (rows that gave a host name
 * or SPF result) the host, the SPF result and the client identity.
 * -1 = write error (in e), 0 = done. */
static int
batch_put(struct batch *b, const char *const in[7], const char *when,
    const char *decision, const char *reason, int64_t retry,
    const char *client, struct err *e)
{
	char rbuf[24];
	const char *f[11];

	snprintf(rbuf, sizeof(rbuf), "%lld", (long long)retry);
	f[0] = in[0];
	f[1] = in[1];
	f[2] = in[2];
	f[3] = in[3];
	f[4] = when;
	f[5] = decision;
	f[6] = reason;
	f[7] = rbuf;
	f[8] = in[5];
	f[9] = in[6];
	f[10] = client;
	if (csvio_row(stdout, f, client != NULL ? 11 : 8) == -1) {
		b->fatal = 1;
		return err_set(e, "batch: cannot write the output: %s",
		    strerror(errno));
	}
	if (++b->rows % PROGRESS_EVERY == 0 && b->tty)
		fprintf(stderr, "\r%lu rows", b->rows);
	return 0;
}

/* Every BATCH_RECHECK rows, lets a recovery another process asked for
 * happen, so that the shared lock this long run holds does not keep it
 * waiting. -1 = error (in e), 0 = done. */
static int
batch_recheck(struct batch *b, struct err *e)
{
	int ret;

	if (b->rows % BATCH_RECHECK != 0)
		return 0;
	wd_arm(b->x->conf.timeout_ms);
	ret = store_yield(b->s, e);
	wd_arm(0);
	return ret;
}

/* The decision on a valid triplet at when, as check makes it.
 * -1 = database error (in e), 0 = done. */
static int
batch_decide(struct batch *b, const struct tuple *t, const char *spf,
    int64_t when, struct decision *d, struct err *e)
{
	const struct conf *c = &b->x->conf;
	int ret;

	/* Like check, a row is bounded by the database timeout: a lock left
	 * held by a killed process ends the run, which marks the store. */
	wd_arm(c->timeout_ms);
	if (policy_exempt(c, t, spf, d))
		ret = policy_count(b->s, d, e);
	else
		ret = policy_check(b->s, c, t, when, d, e);
	wd_arm(0);
	if (ret == 0 && d->warn[0] != '\0')
		cmd_log(b->x, LOG_WARNING, "%s", d->warn);
	if (ret == -1)
		b->fatal = 1;
	return ret;
}

/* csvio_read's callback: one input row. */
static int
batch_row(char **f, size_t n, unsigned long line, void *arg, struct err *e)
{
	struct batch *b = arg;
	const char *in[7] = { "", "", "", "", "", "", "" };
	const char *why = NULL, *client;
	char tbuf[24], nbuf[48];
	struct decision d;
	struct tuple t;
	int64_t when = b->x->now;
	size_t i;

	(void)line;
	for (i = 0; i < n && i < 7; i++)
		in[i] = f[i];
	if (n < 3 || n > 7) {
		snprintf(nbuf, sizeof(nbuf), "%zu fields (want 3 to 7)", n);
		why = nbuf;
	} else if (in[4][0] != '\0' && batch_time(in[4], &when) == -1)
		why = "malformed time";
	else if (tuple_make(&t, in[0], in[1], in[2], b->x->conf.ipv4_prefix,
	    b->x->conf.ipv6_prefix, b->x->conf.normalize_verp, &why) == 0)
		ident_apply(&t, b->x->conf.client_identity, in[6], in[3],
		    in[5]);
	client = n > 5 ? "" : NULL;
	snprintf(tbuf, sizeof(tbuf), "%lld", (long long)when);
	if (why != NULL) {
		b->nerror++;
		return batch_put(b, in, in[4][0] != '\0' ? in[4] : tbuf,
		    "error", why, 0, client, e);
	}
	if (batch_decide(b, &t, in[6], when, &d, e) == -1)
		return -1;
	if (d.pass)
		b->npass++;
	else
		b->ndefer++;
	if (client != NULL)
		client = d.client[0] != '\0' ? d.client : t.client;
	if (batch_put(b, in, tbuf, d.pass ? "pass" : "defer",
	    policy_reason_name(d.reason), d.pass ? 0 : d.retry, client,
	    e) == -1)
		return -1;
	if (batch_recheck(b, e) == -1) {
		b->fatal = 1;
		return -1;
	}
	return 0;
}

/* After csvio_read stopped on malformed CSV (ERR_LINE, counted from
 * where that read started): writes an error row naming the line, counted
 * from the start of the input, so that reading can go on with the next
 * line. -1 = not a CSV error, or a write error (in e), 0 = done. */
static int
batch_badcsv(struct batch *b, struct err *e)
{
	static const char *const none[7] = { "", "", "", "", "", "", "" };
	char reason[ERR_MAX], tbuf[24];

	if (e->code != ERR_LINE)
		return -1;
	err_reline(e, b->base);
	b->base = e->line;
	snprintf(reason, sizeof(reason), "%s", e->msg);
	snprintf(tbuf, sizeof(tbuf), "%lld", (long long)b->x->now);
	b->nerror++;
	return batch_put(b, none, tbuf, "error", reason, 0, NULL, e);
}

/* Reads stdin to its end. -1 = error (printed), 0 = done. */
static int
batch_run(struct batch *b)
{
	struct err e;

	while (csvio_read(stdin, batch_row, b, &e) == -1) {
		if (b->fatal || ferror(stdin) || batch_badcsv(b, &e) == -1) {
			fflush(stdout);
			cmd_error("%s", ferror(stdin) && !b->fatal ?
			    "batch: read error on the input" : e.msg);
			return -1;
		}
		if (feof(stdin))
			break;
	}
	return 0;
}

static int
cmd_batch(struct ctx *x, int argc, char **argv)
{
	struct batch b;
	int ret;

	if (argc > 1)
		return cmd_error("batch: unexpected argument '%s'", argv[1]);
	memset(&b, 0, sizeof(b));
	b.x = x;
	b.tty = isatty(STDERR_FILENO);
	setvbuf(stdout, NULL, _IOFBF, BATCH_OUTBUF);
	wd_set(x->conf.timeout_ms, NULL);
	b.s = cmd_open(x);
	wd_arm(0);
	if (b.s == NULL)
		return EXIT_ERROR;
	ret = batch_run(&b);
	store_close(b.s);
	if (ret == 0 && fflush(stdout) == EOF)
		ret = cmd_error("batch: cannot write the output: %s",
		    strerror(errno));
	if (b.tty)
		fprintf(stderr, "\r%lu rows\n", b.rows);
	cmd_log(x, LOG_INFO, "batch: %lu rows: %lu pass, %lu defer, "
	    "%lu error", b.rows, b.npass, b.ndefer, b.nerror);
	return ret == 0 ? EXIT_PASS : EXIT_ERROR;
}

const struct cmd_entry cmd_batch_entry = {
	"batch", PRIV_MTA, cmd_batch,
	"batch"
};
