/*
 * greylist serve: the decisions of check as a resident server, for MTAs
 * where a process per recipient costs too much. One process, one poll()
 * loop, one store kept open between requests, on a Unix socket (and
 * optionally a loopback TCP port), or on the sockets systemd passes
 * (LISTEN_FDS and LISTEN_PID, the sd_listen_fds protocol).
 *
 * Two protocols on the same socket, told apart by a connection's first
 * bytes:
 * - a line starting with "check": check's options as words, each
 *   optionally double-quoted (\" \\ \n \r inside quotes, as Exim's
 *   ${quote:} writes them); the answer is one line, check's exit status,
 *   a space and the line check prints ("1 451 4.7.1 Greylisted, ...");
 *   for Exim's ${readsocket}. Several lines may follow one another;
 *   each is answered in turn.
 * - anything else: the Postfix policy delegation protocol, answered by
 *   cmd_policy.c's code, so that Postfix needs no spawn(8).
 *
 * Bounds: a line of at most SRV_LINE_MAX bytes, srv_max connections (the
 * listening sockets are not polled while that many are open, and the
 * kernel's backlog holds the rest), idle_ms from a connection's last
 * complete request (or its start) to the end of the next before it is
 * closed, and a reply the client does not read closes it. The
 * store is used as check uses it (the same crash safety): a request runs
 * under the watchdog, no transaction stays open between requests, and
 * the store is asked (store_yield) before every request and every
 * RECOVER_LOOK_MS while idle whether a recovery is wanted, and closed when
 * one is, so that the process that asked can recover it; the next
 * request reopens it. When the
 * database does not answer in time the watchdog answers the pending
 * request as failed (open), marks the store for recovery, tells syslog
 * and ends the process with status 2: a mutex left held by a killed
 * process never comes back, and the supervisor (systemd's Restart=)
 * starts a new server, which recovers the store first.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "ident.h"
#include "policy.h"
#include "polproto.h"
#include "priv.h"
#include "serve.h"
#include "store.h"
#include "watchdog.h"

#define SRV_LINE_MAX	4096	/* bytes in a check line; Exim sends < 2k */
#define SRV_WORDS	16	/* words in a check line */
#define SRV_REPLY_MAX	1100	/* bytes; policy_format's line is < 1024 */
#define SRV_READS	16	/* reads of one connection in a row */

enum { P_NEW, P_LINE, P_POLICY };

struct conn {
	int		 fd;		/* -1 = free */
	int		 proto;		/* P_* */
	int64_t		 deadline;	/* ms (monotonic) of the idle close */
	size_t		 len;		/* bytes in line */
	char		 line[SRV_LINE_MAX + 1];
	struct pol	*pol;		/* P_POLICY */
};

struct srv {
	struct ctx	*x;
	struct store	*s;		/* NULL while closed */
	int		 lfd[SRV_LISTEN_MAX], nl;
	const char	*path;		/* own socket, unlinked at the end */
	const char	*tcp;		/* --listen ADDR:PORT */
	struct conn	*c;
	struct pollfd	*pfd;
	int		 max, n;	/* connection slots, in use */
	int		 idle_ms;
	int64_t		 full_logged;	/* ms of the last "limit reached" */
	int64_t		 checked;	/* ms of the last srv_recheck */
	int		 yielded;	/* its store_yield, to log (srv_said) */
	struct err	 yerr;
};

/* The connection being answered, for the watchdog. */
static volatile sig_atomic_t srv_cur_fd = -1, srv_cur_proto;
static volatile sig_atomic_t srv_quit, srv_hup;
static char srv_tag[64];	/* "<20>greylist[PID]: serve: " */

static int64_t
srv_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Async-signal-safe syslog of one message (LOG_MAIL | LOG_ERR) straight
 * to /dev/log, for the watchdog, which cannot call syslog(3). */
static void
srv_rawlog(const char *msg)
{
	struct sockaddr_un sun;
	char buf[256];
	size_t a = strlen(srv_tag), b = strlen(msg);
	int fd;

	if (a + b > sizeof(buf))
		b = sizeof(buf) - a;
	memcpy(buf, srv_tag, a);
	memcpy(buf + a, msg, b);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, "/dev/log", sizeof("/dev/log"));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		(void)!send(fd, buf, a + b, 0);
	close(fd);
}

/* The database did not answer within its timeout: answers the pending
 * request as failed, marks the store for recovery and ends the process
 * (see the top of the file). */
static void
srv_watchdog(void)
{
	static const char line[] = "2 greylist: database did not answer in "
	    "time\n";
	static const char dunno[] = "action=DUNNO\n\n";
	static const char msg[] = "database did not answer in time; "
	    "failing open, marked for recovery, exiting";
	int fd = srv_cur_fd;

	if (fd >= 0 && srv_cur_proto == P_LINE)
		(void)!write(fd, line, sizeof(line) - 1);
	else if (fd >= 0)
		(void)!write(fd, dunno, sizeof(dunno) - 1);
	srv_rawlog(msg);
	(void)!write(STDERR_FILENO, "greylist: serve: ", 17);
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(EXIT_ERROR);
}

static void
srv_flag(int sig)
{
	if (sig == SIGHUP)
		srv_hup = 1;
	else
		srv_quit = 1;
}

static void
srv_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	wd_set(0, srv_watchdog);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = srv_flag;	/* no SA_RESTART: poll returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	snprintf(srv_tag, sizeof(srv_tag), "<%d>greylist[%ld]: serve: ",
	    LOG_MAIL | LOG_ERR, (long)getpid());
}

/* Starts (ms > 0) or stops (ms = 0) the watchdog for connection fd. */
static void
srv_arm(int ms, int fd, int proto)
{
	srv_cur_fd = ms > 0 ? fd : -1;
	srv_cur_proto = proto;
	wd_arm(ms);
}

/* Closes the store when another process asked for a recovery
 * (store_yield says so); the caller runs the watchdog, and logs what
 * happened with srv_said once it has stopped it. */
static void
srv_recheck(struct srv *v)
{
	v->checked = srv_ms();
	if (v->s == NULL || (v->yielded = store_yield(v->s, &v->yerr)) == 0)
		return;
	store_close(v->s);
	v->s = NULL;
}

/* Logs srv_recheck's outcome, outside the watchdog's window. */
static void
srv_said(struct srv *v)
{
	cmd_yielded(v->x, "serve", v->yielded, &v->yerr);
	v->yielded = 0;
}

/* srv_recheck between requests, under the watchdog, when the last was
 * RECOVER_LOOK_MS ago or more. */
static void
srv_idle(struct srv *v)
{
	if (v->s == NULL || srv_ms() - v->checked < RECOVER_LOOK_MS)
		return;
	srv_arm(v->x->conf.timeout_ms, -1, P_NEW);
	srv_recheck(v);
	srv_arm(0, -1, P_NEW);
	srv_said(v);
}

/* Splits a check line into words in place, undoing Exim's ${quote:}.
 * -1 = malformed (why in *why), else the number of words. */
static int
srv_words(char *s, char **w, int max, const char **why)
{
	char *d;
	int n = 0, q;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			return n;
		if (n == max) {
			*why = "too many words";
			return -1;
		}
		for (w[n++] = d = s, q = 0; *s != '\0' && (q ||
		    (*s != ' ' && *s != '\t')); s++) {
			if (*s == '"')
				q = !q;
			else if (q && *s == '\\' && s[1] != '\0') {
				s++;
				*d++ = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
			} else
				*d++ = *s;
		}
		if (q) {
			*why = "unterminated quote";
			return -1;
		}
		if (*s != '\0')
			s++;
		*d = '\0';
	}
}

struct srv_args {
	const char *ip, *sender, *rcpt, *helo, *spf, *host;
};

/* check's options from the words after "check". -1 = bad (why in buf),
 * 0 = done. */
static int
srv_args(char **w, int n, struct srv_args *a, char *buf, size_t len)
{
	static const char *const names[] = { "--ip=", "--sender=",
		"--rcpt=", "--helo=", "--spf=", "--host=" };
	const char **to[] = { &a->ip, &a->sender, &a->rcpt, &a->helo,
		&a->spf, &a->host };
	size_t i, l;
	int k;

	memset(a, 0, sizeof(*a));
	for (k = 1; k < n; k++) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			l = strlen(names[i]);
			if (strncmp(w[k], names[i], l) == 0) {
				*to[i] = w[k] + l;
				break;
			}
		}
		if (i == sizeof(names) / sizeof(names[0])) {
			snprintf(buf, len, "check: unknown option or missing "
			    "value '%.100s'", w[k]);
			return -1;
		}
	}
	if (a->ip == NULL || a->sender == NULL || a->rcpt == NULL) {
		snprintf(buf, len, "check: --ip, --sender and --rcpt are "
		    "required");
		return -1;
	}
	return 0;
}

/* The decision on a valid tuple, as check makes it (the client identity
 * from a's SPF result, HELO and host names), under the watchdog.
 * -1 = database error (in e; logged, store closed), 0 = decided. */
static int
srv_decide(struct srv *v, int fd, struct tuple *t, const struct srv_args *a,
    struct decision *d, struct err *e)
{
	const struct conf *c = &v->x->conf;
	int64_t now = v->x->now_fixed ? v->x->now : (int64_t)time(NULL);
	const char *spf = a->spf;
	int ret = 0;

	ident_apply(t, c->client_identity, a->spf, a->helo, a->host);
	srv_arm(c->timeout_ms, fd, P_LINE);
	srv_recheck(v);
	srv_arm(c->timeout_ms, fd, P_LINE);
	if (policy_exempt(c, t, spf, d)) {
		if ((v->s == NULL && store_open(&v->s, c, e) == -1) ||
		    policy_count(v->s, d, e) == -1) {
			cmd_log(v->x, LOG_WARNING, "serve: not counted: %s",
			    e->msg);
			store_close(v->s);
			v->s = NULL;
		}
	} else if ((v->s == NULL && store_open(&v->s, c, e) == -1) ||
	    policy_check(v->s, c, t, now, d, e) == -1) {
		cmd_log(v->x, LOG_ERR, "serve: %s; failing open", e->msg);
		store_close(v->s);
		v->s = NULL;
		ret = -1;
	}
	srv_arm(0, -1, P_NEW);
	srv_said(v);
	return ret;
}

static int srv_write(int, const char *, size_t);

/* Answers one check line on fd, "STATUS LINE", and logs; the client has
 * its answer before the decision's syslog line is written. -1 = cannot
 * write, 0 = answered. */
static int
srv_check(struct srv *v, int fd, char *line, char *out, size_t len)
{
	const struct conf *c = &v->x->conf;
	char *w[SRV_WORDS], why[600], fmt[1024];
	const char *bad = NULL;
	struct srv_args a;
	struct decision d;
	struct tuple t;
	struct err e;
	int n;

	if ((n = srv_words(line, w, SRV_WORDS, &bad)) == -1 ||
	    (n > 0 && strcmp(w[0], "check") != 0) || n == 0) {
		snprintf(why, sizeof(why), "malformed request: %s", bad != NULL ?
		    bad : "not a check line");
	} else if (srv_args(w, n, &a, why, sizeof(why)) == 0) {
		if (tuple_make(&t, a.ip, a.sender, a.rcpt, c->ipv4_prefix,
		    c->ipv6_prefix, c->normalize_verp, &bad) == -1)
			snprintf(why, sizeof(why), "check: %s", bad);
		else if (srv_decide(v, fd, &t, &a, &d, &e) == -1)
			snprintf(why, sizeof(why), "%s", e.msg);
		else {
			policy_format(c, &t, &d, fmt, sizeof(fmt));
			snprintf(out, len, "%d %s\n", d.pass ? EXIT_PASS :
			    EXIT_DEFER, fmt);
			n = srv_write(fd, out, strlen(out));
			cmd_log_decision(v->x, &t, &d, "");
			return n;
		}
	}
	if (strncmp(why, "malformed", 9) == 0 || strncmp(why, "check:", 6) == 0)
		cmd_log(v->x, LOG_WARNING, "serve: %s; failing open", why);
	snprintf(out, len, "%d greylist: %s\n", EXIT_ERROR, why);
	return srv_write(fd, out, strlen(out));
}

/* Writes a whole reply at once; a client that does not read its replies
 * fills its socket buffer and is dropped. -1 = cannot, 0 = written. */
static int
srv_write(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while ((n = write(fd, buf, len)) == -1 && errno == EINTR)
		;
	return n == (ssize_t)len ? 0 : -1;
}

static void
srv_close(struct srv *v, struct conn *c)
{
	close(c->fd);
	free(c->pol);
	c->pol = NULL;
	c->fd = -1;
	v->n--;
}

/* Answers the complete lines in c->line (and, at the end of the input,
 * an unterminated last one). -1 = close the connection, 0 = go on. */
static int
srv_lines(struct srv *v, struct conn *c, int eof)
{
	char out[SRV_REPLY_MAX], *nl;
	size_t n;

	while (c->len > 0) {
		c->line[c->len] = '\0';
		if ((nl = memchr(c->line, '\n', c->len)) == NULL) {
			if (c->len >= SRV_LINE_MAX) {
				snprintf(out, sizeof(out), "%d greylist: "
				    "request longer than %d bytes\n",
				    EXIT_ERROR, SRV_LINE_MAX);
				cmd_log(v->x, LOG_WARNING, "serve: request "
				    "longer than %d bytes; failing open",
				    SRV_LINE_MAX);
				(void)srv_write(c->fd, out, strlen(out));
				return -1;
			}
			if (!eof)
				return 0;
			nl = c->line + c->len;
		}
		*nl = '\0';
		if (nl > c->line && nl[-1] == '\r')
			nl[-1] = '\0';
		n = (size_t)(nl - c->line) + (nl < c->line + c->len);
		if (srv_check(v, c->fd, c->line, out, sizeof(out)) == -1)
			return -1;
		memmove(c->line, c->line + n, c->len - n);
		c->len -= n;
	}
	return 0;
}

/* Feeds a Postfix connection n bytes already in its buffer. -1 = close
 * the connection, 0 = go on. */
static int
srv_policy(struct srv *v, struct conn *c, size_t n)
{
	int ret;

	srv_cur_fd = c->fd;	/* pol_decide arms the watchdog itself */
	srv_cur_proto = P_POLICY;
	ret = pol_feed(c->pol, n, &v->s);
	srv_arm(0, -1, P_NEW);
	return ret;
}

/* A new connection's first bytes choose the protocol: a check line or
 * Postfix's attributes. -1 = close, 0 = go on. */
static int
srv_choose(struct srv *v, struct conn *c, int eof)
{
	static const char word[] = "check";
	size_t k = c->len < 5 ? c->len : 5;
	char *at;

	if (memcmp(c->line, word, k) == 0 && (c->len <= 5 ||
	    c->line[5] == ' ' || c->line[5] == '\t')) {
		if (c->len <= 5 && !eof)
			return 0;	/* too early to tell */
		c->proto = P_LINE;
		return srv_lines(v, c, eof);
	}
	if ((c->pol = pol_new(v->x, c->fd)) == NULL) {
		cmd_log(v->x, LOG_ERR, "serve: %s", strerror(errno));
		return -1;
	}
	c->proto = P_POLICY;
	(void)pol_space(c->pol, &at);
	memcpy(at, c->line, c->len);
	return srv_policy(v, c, c->len);
}

/* Reads once what a connection sent and answers it. -1 = close,
 * 0 = nothing more to read now, 1 = read (read again). */
static int
srv_read1(struct srv *v, struct conn *c)
{
	char *at;
	size_t room;
	ssize_t n;

	if (c->proto == P_POLICY)
		room = pol_space(c->pol, &at);
	else {
		at = c->line + c->len;
		room = SRV_LINE_MAX - c->len;
	}
	while ((n = read(c->fd, at, room)) == -1 && errno == EINTR)
		;
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if (c->proto == P_POLICY && n == 0)
		pol_eof(c->pol);
	else if (c->proto == P_POLICY && srv_policy(v, c, (size_t)n) == -1)
		return -1;
	c->len += c->proto == P_POLICY ? 0 : (size_t)n;
	if (c->proto == P_NEW && c->len > 0 && srv_choose(v, c, n == 0) == -1)
		return -1;
	else if (c->proto == P_LINE && srv_lines(v, c, n == 0) == -1)
		return -1;
	/* The idle time runs from the last complete request: a client
	 * sending a byte now and then gains nothing. */
	if (c->proto == P_POLICY ? !pol_partial(c->pol) : c->len == 0)
		c->deadline = srv_ms() + v->idle_ms;
	return n == 0 ? -1 : 1;
}

/* Reads and answers until the connection has nothing more to say: the
 * end of input that Exim sends right after its line is then seen at
 * once, and the connection closed without another round of the loop;
 * at most SRV_READS reads, so that a busy client cannot hold up the
 * others. -1 = close, 0 = go on. */
static int
srv_input(struct srv *v, struct conn *c)
{
	int ret, n = 0;

	while ((ret = srv_read1(v, c)) == 1 && ++n < SRV_READS)
		;
	return ret == -1 ? -1 : 0;
}

/* Accepts what the listening socket lfd has waiting, up to the limit. */
static void
srv_accept(struct srv *v, int lfd)
{
	struct conn *c;
	int fd, i;

	while (v->n < v->max) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				cmd_log(v->x, LOG_ERR, "serve: accept: %s",
				    strerror(errno));
			return;
		}
		for (i = 0; v->c[i].fd != -1; i++)
			;
		c = &v->c[i];
		c->fd = fd;
		c->proto = P_NEW;
		c->len = 0;
		c->deadline = srv_ms() + v->idle_ms;
		v->n++;
		/* The request is usually there already. */
		if (srv_input(v, c) == -1)
			srv_close(v, c);
	}
}

/* The pollfd array: the listening sockets while below the limit, then
 * every connection. Returns the poll timeout, ms. */
static int
srv_prepare(struct srv *v, int *np)
{
	int64_t now = srv_ms(), next = INT64_MAX;
	int i, n = 0;

	for (i = 0; i < v->nl && v->n < v->max; i++) {
		v->pfd[n].fd = v->lfd[i];
		v->pfd[n++].events = POLLIN;
	}
	if (v->n == v->max && now - v->full_logged > 60000) {
		v->full_logged = now;
		cmd_log(v->x, LOG_WARNING, "serve: %d connections, the limit: "
		    "new ones wait", v->max);
	}
	for (i = 0; i < v->max; i++) {
		v->pfd[n].fd = v->c[i].fd;	/* -1: ignored by poll */
		v->pfd[n++].events = POLLIN;
		if (v->c[i].fd != -1 && v->c[i].deadline < next)
			next = v->c[i].deadline;
	}
	*np = n;
	if (v->s != NULL && next > v->checked + RECOVER_LOOK_MS)
		next = v->checked + RECOVER_LOOK_MS;
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* One round of the loop: waits, accepts, answers, closes idle ones. */
static void
srv_round(struct srv *v)
{
	int i, k, n, nlp, timeout;
	int64_t now;

	timeout = srv_prepare(v, &n);
	nlp = n - v->max;
	if (poll(v->pfd, (nfds_t)n, timeout) == -1 && errno != EINTR)
		cmd_log(v->x, LOG_ERR, "serve: poll: %s", strerror(errno));
	srv_idle(v);
	for (i = 0; i < v->max; i++) {
		k = nlp + i;
		if (v->c[i].fd != -1 && v->pfd[k].revents != 0 &&
		    srv_input(v, &v->c[i]) == -1)
			srv_close(v, &v->c[i]);
	}
	now = srv_ms();
	for (i = 0; i < v->max; i++)
		if (v->c[i].fd != -1 && v->c[i].deadline <= now) {
			cmd_log(v->x, LOG_INFO, "serve: connection idle for "
			    "%d ms: closed", v->idle_ms);
			srv_close(v, &v->c[i]);
		}
	for (i = 0; i < nlp; i++)
		if (v->pfd[i].revents & POLLIN)
			srv_accept(v, v->pfd[i].fd);
}

/* SIGHUP: the configuration again, kept only if it loads; the database
 * cannot change under open connections. */
static void
srv_reload(struct srv *v)
{
	struct conf old;

	srv_hup = 0;
	if (cmd_reload(v->x, &old) == -1) {
		cmd_log(v->x, LOG_ERR, "serve: configuration not reloaded; "
		    "the old one stays in force");
		return;
	}
	if (strcmp(old.database, v->x->conf.database) != 0 ||
	    old.backend != v->x->conf.backend) {
		cmd_log(v->x, LOG_ERR, "serve: configuration not reloaded: "
		    "a new database or backend needs a restart");
		cmd_reload_undo(v->x, &old);
		return;
	}
	conf_free(&old);
	srv_arm(v->x->conf.timeout_ms, -1, P_NEW);
	store_close(v->s);	/* the Redis server may have changed */
	v->s = NULL;
	srv_arm(0, -1, P_NEW);
	cmd_log(v->x, LOG_INFO, "serve: configuration reloaded");
}

/* Options. -1 = error (printed), 0 = done. */
static int
srv_options(struct srv *v, int argc, char **argv, const char **path)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "max-conn", required_argument, NULL, 'm' },
		{ "idle", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long n;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			*path = optarg;
		else if (ch == 'l')
			v->tcp = optarg;
		else if (ch == 'm' || ch == 'i') {
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    n < 1 || n > (ch == 'm' ? 10000 : 86400))
				return cmd_fail("serve: --%s: not a number "
				    "from 1 to %d", ch == 'm' ? "max-conn" :
				    "idle", ch == 'm' ? 10000 : 86400);
			if (ch == 'm')
				v->max = (int)n;
			else
				v->idle_ms = (int)n * 1000;
		} else
			return cmd_fail("serve: unknown option or missing "
			    "value '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return cmd_fail("serve: unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

/* The listening sockets: systemd's, else the socket at path and the
 * --listen port. -1 = error (printed), 0 = done. */
static int
srv_listen(struct srv *v, const char *path)
{
	if ((v->nl = serve_activated(v->lfd, SRV_LISTEN_MAX)) != 0)
		return v->nl == -1 ? -1 : 0;
	if ((v->lfd[0] = serve_unix(path)) == -1)
		return -1;
	v->path = path;
	v->nl = 1;
	if (v->tcp != NULL) {
		if ((v->lfd[1] = serve_tcp(v->tcp)) == -1)
			return -1;
		v->nl = 2;
	}
	return 0;
}

/* Sets up v. -1 = error (printed), 0 = ready. */
static int
srv_init(struct srv *v, struct ctx *x, int argc, char **argv)
{
	const char *path = GREYLIST_SOCKET;
	int i;

	v->x = x;
	v->max = DEF_SERVE_MAX_CONN;
	v->idle_ms = DEF_SERVE_IDLE * 1000;
	v->full_logged = -60000;
	if (srv_options(v, argc, argv, &path) == -1)
		return -1;
	v->c = calloc((size_t)v->max, sizeof(*v->c));
	v->pfd = calloc((size_t)(v->max + SRV_LISTEN_MAX), sizeof(*v->pfd));
	if (v->c == NULL || v->pfd == NULL)
		return cmd_fail("serve: %s", strerror(errno));
	for (i = 0; i < v->max; i++)
		v->c[i].fd = -1;
	return srv_listen(v, path);
}

static int
cmd_serve(struct ctx *x, int argc, char **argv)
{
	struct srv v;
	int i;

	memset(&v, 0, sizeof(v));
	srv_signals();
	if (srv_init(&v, x, argc, argv) == -1) {
		free(v.c);
		free(v.pfd);
		return EXIT_ERROR;
	}
	cmd_log(x, LOG_INFO, "serve: ready on %d socket%s, at most %d "
	    "connections", v.nl, v.nl == 1 ? "" : "s", v.max);
	while (!srv_quit) {
		if (srv_hup)
			srv_reload(&v);
		srv_round(&v);
	}
	for (i = 0; i < v.max; i++)
		if (v.c[i].fd != -1)
			srv_close(&v, &v.c[i]);
	srv_arm(x->conf.timeout_ms, -1, P_NEW);
	store_close(v.s);
	srv_arm(0, -1, P_NEW);
	if (v.path != NULL)
		unlink(v.path);
	free(v.c);
	free(v.pfd);
	cmd_log(x, LOG_INFO, "serve: stopped");
	return EXIT_PASS;
}

const struct cmd_entry cmd_serve_entry = {
	"serve", PRIV_MTA, cmd_serve,
	"serve [--socket=PATH] [--listen=ADDRESS:PORT] "
	    "[--max-conn=N] [--idle=SECONDS]"
};
