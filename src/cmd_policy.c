/*
 * greylist policy: the Postfix SMTPD policy delegation protocol on stdin
 * and stdout, for spawn(8) or an inetd-style service. A request is
 * name=value lines ended by an empty line; the answer is one action= line
 * and an empty line, written at once. RCPT requests are decided as check
 * decides them: DEFER_IF_PERMIT with the reply template's text, or
 * PREPEND with the header. Other stages, unusable and malformed requests
 * get DUNNO (the last two logged), and the process goes on to the end of
 * its input.
 *
 * The store stays open between requests. Measured on a 2-core Debian 12
 * machine, 5,000 new triplets through one process: opening and closing
 * it around every request cost ~280 us a request (~3,600/s, not far
 * above postgrey); kept open, ~37 us (~27,000/s). But an open Berkeley
 * DB store holds the shared flock on DIR/lock that a process wanting
 * recovery waits for (store_bdb.c). So no transaction stays open between
 * requests, the process asks the store (store_yield) before every
 * request and every RECOVER_LOOK_MS while idle whether a recovery is wanted,
 * and closes it when one is; the next request reopens it (recovering it,
 * if nobody has yet). With the Redis backend none is ever wanted and the
 * store is a connection kept open.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "policy.h"
#include "polproto.h"
#include "priv.h"
#include "store.h"
#include "watchdog.h"

#define POL_LINE_MAX	4096	/* bytes in a line; Postfix sends less */
#define POL_ATTRS_MAX	100	/* attributes in a request; Postfix sends ~30 */
#define POL_BUF		(4 * POL_LINE_MAX)	/* input buffer, bytes */
#define POL_REPLY_MAX	1280	/* bytes; policy_format's line is below 1024 */

/* The attributes used (check ignores the HELO name too); all others are
 * read and ignored. client_name is the verified host name, "unknown"
 * when it is not verified; reverse_client_name is never trusted. */
enum { A_REQUEST, A_STATE, A_CLIENT, A_SENDER, A_RCPT, A_INSTANCE,
	A_CNAME, A_N };
static const char *const pol_names[A_N] = { "request", "protocol_state",
	"client_address", "sender", "recipient", "instance", "client_name" };
/* The attributes that hold the triplet's fields (TUPLE_F_*). */
static const char *const pol_fields[TUPLE_F_N] = { "client_address",
	"sender", "recipient" };

struct pol_req {
	char	 val[A_N][POL_LINE_MAX + 1];
	unsigned seen;			/* bit 1 << A_* per attribute given */
	int	 nattr;
	char	 bad[80];		/* why malformed; "" = well formed */
};

struct pol {
	struct ctx	*x;
	int		 out;		/* where replies go */
	struct store	*s;		/* NULL while closed */
	char		 buf[POL_BUF];	/* input not yet taken: [start, end) */
	size_t		 start, end;
	int		 skip;		/* discarding the rest of a long line */
	int		 broken;	/* no configuration: DUNNO to all */
	char		 prepended[POL_LINE_MAX + 1]; /* instance given one */
	struct pol_req	 r;
};

/* Set while a request waits for its reply: the watchdog answers it. */
static volatile sig_atomic_t pol_pending;

/* The watchdog's hook (the process spent longer than the database
 * timeout in the store: a mutex left held by a killed process never
 * returns): answers DUNNO to the pending request before the process
 * exits 2, so that Postfix goes on without greylisting and starts a new
 * process. */
static void
pol_watchdog(void)
{
	static const char reply[] = "action=DUNNO\n\n";
	static const char msg[] = "greylist: policy: database did not answer "
	    "in time; failing open\n";

	if (pol_pending)
		(void)!write(STDOUT_FILENO, reply, sizeof(reply) - 1);
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	cmd_syslog_stuck();
}

/* Under spawn(8) or inetd, stderr is the same socket as stdout, where
 * anything but replies would garble the protocol: messages for stderr go
 * to /dev/null then (decisions still go to syslog). */
void
cmd_policy_quiet(struct ctx *x)
{
	struct stat out, err;
	int fd;

	if (fstat(STDOUT_FILENO, &out) == -1 ||
	    fstat(STDERR_FILENO, &err) == -1 || isatty(STDERR_FILENO) ||
	    out.st_dev != err.st_dev || out.st_ino != err.st_ino)
		return;
	x->verbose = 0;
	x->conf.log_stderr = 0;
	if ((fd = open("/dev/null", O_WRONLY)) != -1) {
		dup2(fd, STDERR_FILENO);
		if (fd != STDERR_FILENO)
			close(fd);
	}
}

/* Holds back (on) or lets through (off) the signals that end the process,
 * so that a stop from Postfix or an admin never comes inside the store,
 * where a killed process can leave a mutex held. */
static void
pol_hold(int on)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(on ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void
pol_signals(void)
{
	struct sigaction sa;

	wd_set(0, pol_watchdog);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);	/* a write error ends the process */
}

/* Closes the store after a database error or for a recovery. */
static void
pol_drop(struct pol *p)
{
	store_close(p->s);
	p->s = NULL;
}

/* Closes the store when another process asked for a recovery
 * (store_yield says so); the next request opens it again. The caller
 * runs the watchdog. */
static void
pol_recheck(struct pol *p)
{
	struct err e;
	int ret;

	if (p->s == NULL || (ret = store_yield(p->s, &e)) == 0)
		return;
	pol_drop(p);
	cmd_yielded(p->x, "policy", ret, &e);
}

/* pol_recheck while idle, under the watchdog. */
static void
pol_idle(struct pol *p)
{
	pol_hold(1);
	wd_arm(p->x->conf.timeout_ms);
	pol_recheck(p);
	wd_arm(0);
	pol_hold(0);
}

/* Writes "action=ACTION[ TEXT]" and the empty line that ends a reply.
 * -1 = cannot write (logged), 0 = written. */
static int
pol_reply(struct pol *p, const char *action, const char *text)
{
	char out[POL_REPLY_MAX];
	size_t len, off = 0;
	ssize_t n;
	int ret;

	wd_arm(0);
	pol_pending = 0;
	ret = snprintf(out, sizeof(out), "action=%s%s%s\n\n", action,
	    text != NULL ? " " : "", text != NULL ? text : "");
	if (ret < 0 || (size_t)ret >= sizeof(out))
		ret = snprintf(out, sizeof(out), "action=DUNNO\n\n");
	len = (size_t)ret;
	while (off < len) {
		if ((n = write(p->out, out + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			cmd_log(p->x, LOG_ERR, "policy: cannot write the "
			    "reply: %s", strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Logs a decision in check's words, with Postfix's instance when it is
 * a plain token. */
static void
pol_log(struct pol *p, const struct tuple *t, const struct decision *d)
{
	static const char ok[] = "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-_";
	const char *inst = p->r.val[A_INSTANCE];
	char extra[80] = "";

	if ((p->r.seen & 1u << A_INSTANCE) && inst[0] != '\0' &&
	    strlen(inst) <= 64 && inst[strspn(inst, ok)] == '\0')
		snprintf(extra, sizeof(extra), " instance=%s", inst);
	cmd_log_decision(p->x, t, d, extra);
}

/* Opens the store unless it is open. -1 = error (in e), 0 = open. */
static int
pol_open(struct pol *p, struct err *e)
{
	if (p->s != NULL)
		return 0;
	return store_open(&p->s, &p->x->conf, e);
}

/* The decision on a valid triplet, as check makes it; the watchdog runs
 * meanwhile. -1 = database error (in e; the store is closed), 0 = done. */
static int
pol_decide(struct pol *p, const struct tuple *t, struct decision *d,
    struct err *e)
{
	const struct conf *c = &p->x->conf;
	int64_t now = p->x->now_fixed ? p->x->now : (int64_t)time(NULL);

	pol_pending = 1;
	wd_arm(c->timeout_ms);
	pol_recheck(p);
	if (policy_exempt(c, t, NULL, d)) {
		if (pol_open(p, e) == -1 || policy_count(p->s, d, e) == -1) {
			cmd_log(p->x, LOG_WARNING, "policy: not counted: %s",
			    e->msg);
			pol_drop(p);
		}
		return 0;
	}
	if (pol_open(p, e) == -1 || policy_check(p->s, c, t, now, d,
	    e) == -1) {
		pol_drop(p);
		return -1;
	}
	return 0;
}

/* Whether a well-formed request is one to decide. 1 = an RCPT request,
 * 0 = another stage (DUNNO, not logged), -1 = unusable (why in buf). */
static int
pol_usable(const struct pol_req *r, char *buf, size_t len)
{
	static const int need[] = { A_CLIENT, A_SENDER, A_RCPT };
	size_t i;

	if (!(r->seen & 1u << A_REQUEST) ||
	    strcmp(r->val[A_REQUEST], "smtpd_access_policy") != 0) {
		snprintf(buf, len, "not request=smtpd_access_policy");
		return -1;
	}
	if (!(r->seen & 1u << A_STATE)) {
		snprintf(buf, len, "no protocol_state");
		return -1;
	}
	if (strcasecmp(r->val[A_STATE], "RCPT") != 0)
		return 0;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(r->seen & 1u << need[i])) {
			snprintf(buf, len, "no %s", pol_names[need[i]]);
			return -1;
		}
	return 1;
}

/* The text of an SMTP reply after its code, which Postfix sets itself
 * for DEFER_IF_PERMIT: "4.7.1 Greylisted, ..." from "451 4.7.1 ...". */
static const char *
pol_text(const char *reply)
{
	reply += strcspn(reply, " ");
	return reply + strspn(reply, " ");
}

/* Whether the message (Postfix's instance) already got its header: one
 * header a message, not one a recipient. 1 = it did, 0 = not yet (now
 * noted). */
static int
pol_once(struct pol *p)
{
	const char *inst = p->r.val[A_INSTANCE];

	if (!(p->r.seen & 1u << A_INSTANCE) || inst[0] == '\0')
		return 0;
	if (strcmp(p->prepended, inst) == 0)
		return 1;
	snprintf(p->prepended, sizeof(p->prepended), "%s", inst);
	return 0;
}

/* Answers one complete request. -1 = cannot write (logged),
 * 0 = answered. */
static int
pol_request(struct pol *p)
{
	const struct conf *c = &p->x->conf;
	struct pol_req *r = &p->r;
	char line[1024], wbuf[128];
	const char *why = NULL;
	struct decision d;
	struct tuple t;
	struct err e;
	int ret;

	if (r->bad[0] == '\0' && r->nattr == 0)
		snprintf(r->bad, sizeof(r->bad), "empty request");
	if (p->broken)
		return pol_reply(p, "DUNNO", NULL);
	if (r->bad[0] != '\0') {
		cmd_log(p->x, LOG_WARNING, "policy: malformed request: %s",
		    r->bad);
		return pol_reply(p, "DUNNO", NULL);
	}
	if ((ret = pol_usable(r, wbuf, sizeof(wbuf))) == 1 &&
	    tuple_parse(&t, r->val[A_CLIENT], r->val[A_SENDER],
	    r->val[A_RCPT], c->ipv4_prefix, c->ipv6_prefix,
	    c->normalize_verp, &e) == -1) {
		ret = -1;
		tuple_explain(&e, pol_fields, wbuf, sizeof(wbuf));
		why = wbuf;
	} else if (ret == -1)
		why = wbuf;
	if (ret != 1) {
		if (ret == -1)
			cmd_log(p->x, LOG_WARNING, "policy: cannot use the "
			    "request: %s", why);
		return pol_reply(p, "DUNNO", NULL);
	}
	ident_apply(&t, c->client_identity, NULL, NULL,
	    r->seen & 1u << A_CNAME ? r->val[A_CNAME] : NULL);
	if (pol_decide(p, &t, &d, &e) == -1) {
		cmd_log(p->x, LOG_ERR, "policy: failing open: %s (greylist "
		    "doctor finds the cause)", e.msg);
		return pol_reply(p, "DUNNO", NULL);
	}
	policy_format(c, &t, &d, line, sizeof(line));
	if (d.pass && pol_once(p))
		ret = pol_reply(p, "DUNNO", NULL);
	else
		ret = d.pass ? pol_reply(p, "PREPEND", line) :
		    pol_reply(p, "DEFER_IF_PERMIT", pol_text(line));
	pol_log(p, &t, &d);
	return ret;
}

/* Adds one line (without its LF) to the request. 1 = the empty line
 * that ends the request, 0 = an attribute or a malformed line. */
static int
pol_take(struct pol *p, char *line, size_t len)
{
	struct pol_req *r = &p->r;
	char *eq;
	int i;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 1;
	if (r->bad[0] != '\0')
		return 0;
	if (++r->nattr > POL_ATTRS_MAX) {
		snprintf(r->bad, sizeof(r->bad), "more than %d attributes",
		    POL_ATTRS_MAX);
		return 0;
	}
	line[len] = '\0';
	if (strlen(line) != len) {
		snprintf(r->bad, sizeof(r->bad), "NUL byte in line %d",
		    r->nattr);
		return 0;
	}
	if ((eq = strchr(line, '=')) == NULL || eq == line) {
		snprintf(r->bad, sizeof(r->bad), "line %d is not name=value",
		    r->nattr);
		return 0;
	}
	*eq = '\0';
	for (i = 0; i < A_N && strcmp(line, pol_names[i]) != 0; i++)
		;
	if (i == A_N)
		return 0;
	if (r->seen & 1u << i) {
		snprintf(r->bad, sizeof(r->bad), "%s given twice", line);
		return 0;
	}
	r->seen |= 1u << i;
	memcpy(r->val[i], eq + 1, len - (size_t)(eq + 1 - line) + 1);
	return 0;
}

/* Marks the request malformed for a line longer than POL_LINE_MAX. */
static void
pol_toolong(struct pol *p)
{
	if (p->r.bad[0] == '\0')
		snprintf(p->r.bad, sizeof(p->r.bad), "line longer than %d "
		    "bytes", POL_LINE_MAX);
}

/* The next complete line in the buffer, without its LF; a line longer
 * than POL_LINE_MAX is dropped, even before its end has arrived, and the
 * request marked malformed. 1 = a line in *line and *len, 0 = more input
 * needed. */
static int
pol_line(struct pol *p, char **line, size_t *len)
{
	char *b, *nl;
	size_t n;

	for (;;) {
		b = p->buf + p->start;
		n = p->end - p->start;
		if ((nl = memchr(b, '\n', n)) == NULL)
			break;
		p->start += (size_t)(nl - b) + 1;
		if (p->skip)		/* the end of a long line */
			p->skip = 0;
		else if ((size_t)(nl - b) > POL_LINE_MAX)
			pol_toolong(p);
		else {
			*line = b;
			*len = (size_t)(nl - b);
			return 1;
		}
	}
	if (!p->skip && n <= POL_LINE_MAX) {
		memmove(p->buf, b, n);
		p->start = 0;
		p->end = n;
		return 0;
	}
	pol_toolong(p);
	p->skip = 1;
	p->start = p->end = 0;
	return 0;
}

/* Reads more input. While the store is open, asks whether a recovery is
 * wanted every RECOVER_LOOK_MS meanwhile. -1 = read error (logged), 0 = end of
 * input, 1 = read. */
static int
pol_fill(struct pol *p)
{
	struct pollfd pfd;
	ssize_t n = -1;
	int ret;

	pfd.fd = STDIN_FILENO;
	pfd.events = POLLIN;
	while ((ret = poll(&pfd, 1, p->s != NULL ? RECOVER_LOOK_MS : -1)) <= 0) {
		if (ret == 0)
			pol_idle(p);
		else if (errno != EINTR)
			break;
	}
	while (ret > 0 && (n = read(STDIN_FILENO, p->buf + p->end,
	    sizeof(p->buf) - p->end)) == -1 && errno == EINTR)
		;
	if (n == -1) {
		cmd_log(p->x, LOG_ERR, "policy: cannot read the requests: %s",
		    strerror(errno));
		return -1;
	}
	p->end += (size_t)n;
	return n > 0;
}

int
pol_requests(struct pol *p)
{
	char *line;
	size_t len;
	int ret;

	while (pol_line(p, &line, &len) == 1) {
		if (pol_take(p, line, len) == 0)
			continue;
		pol_hold(1);
		ret = pol_request(p);
		pol_hold(0);
		if (ret == -1)
			return -1;
		p->r.seen = 0;
		p->r.nattr = 0;
		p->r.bad[0] = '\0';
	}
	return 0;
}

int
pol_partial(const struct pol *p)
{
	return p->r.nattr > 0 || p->r.bad[0] != '\0' || p->end > p->start;
}

void
pol_eof(struct pol *p)
{
	if (pol_partial(p))
		cmd_log(p->x, LOG_WARNING, "policy: input ended inside a "
		    "request; not answered");
}

size_t
pol_space(struct pol *p, char **at)
{
	*at = p->buf + p->end;
	return sizeof(p->buf) - p->end;
}

int
pol_feed(struct pol *p, size_t n, struct store **s)
{
	int ret;

	p->end += n;
	p->s = *s;
	ret = pol_requests(p);
	*s = p->s;
	p->s = NULL;
	return ret;
}

/* Answers requests until the end of the input. Returns the exit status. */
static int
pol_run(struct pol *p)
{
	int ret;

	for (;;) {
		if (pol_requests(p) == -1)
			return EXIT_ERROR;
		if ((ret = pol_fill(p)) <= 0)
			break;
	}
	if (ret == 0)
		pol_eof(p);
	return ret == 0 ? EXIT_PASS : EXIT_ERROR;
}

struct pol *
pol_new(struct ctx *x, int out)
{
	struct pol *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->x = x;
	p->out = out;
	return p;
}

int
cmd_policy_dunno(struct ctx *x)
{
	struct pol *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return EXIT_ERROR;
	p->x = x;
	p->out = STDOUT_FILENO;
	p->broken = 1;
	pol_signals();
	(void)pol_run(p);
	free(p);
	return EXIT_ERROR;
}

static int
cmd_policy(struct ctx *x, int argc, char **argv)
{
	struct pol *p;
	int ret;

	if (argc > 1)
		return cmd_error("policy: unexpected argument '%s'", argv[1]);
	if ((p = pol_new(x, STDOUT_FILENO)) == NULL)
		return cmd_error("policy: %s", strerror(errno));
	cmd_policy_quiet(x);
	pol_signals();
	ret = pol_run(p);
	pol_hold(1);
	wd_arm(x->conf.timeout_ms);
	store_close(p->s);
	wd_arm(0);
	free(p);
	return ret;
}

const struct cmd_entry cmd_policy_entry = {
	"policy", PRIV_MTA, cmd_policy,
	"policy"
};
