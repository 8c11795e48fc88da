/* greylist: options, configuration, the clock, and dispatch to commands. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "priv.h"
#include "entry.h"
#include "store.h"
#include "watchdog.h"

/* The commands, in the order usage lists them. */
static const struct cmd_entry *const cmds[] = {
	&cmd_check_entry, &cmd_doctor_entry, &cmd_list_entry,
	&cmd_purge_entry, &cmd_stats_entry, &cmd_pass_entry,
	&cmd_delete_entry, &cmd_exempt_entry, &cmd_spam_entry,
	&cmd_export_entry, &cmd_import_entry, &cmd_batch_entry,
	&cmd_policy_entry, &cmd_checkpoint_entry, &cmd_serve_entry,
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: greylist [-v] [-c file] [-d dir] command [args]\n"
	    "       greylist [-a | -t | -tw [--empty]]\n"
	    "       greylist -h | --version\n"
	    "commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "       greylist %s\n", cmds[i]->usage);
}

/* Set for check, and for policy without a terminal: errors go to syslog
 * too, since the MTA may keep them from the admin (Postfix's spawn). */
static const char *log_errors;

/* One line to syslog (LOG_MAIL), or to the datagram socket named by
 * GREYLIST_SYSLOG, the tests' hook, honoured only when the caller's
 * environment is trusted (as GREYLIST_NOW is). */
static void
cmd_syslog(int prio, const char *msg)
{
	const char *path = getenv("GREYLIST_SYSLOG");
	struct sockaddr_un sun;
	char line[2300];
	int fd, n;

	if (path == NULL || priv_secure() ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		syslog(prio, "%s", msg);
		return;
	}
	n = snprintf(line, sizeof(line), "<%d>greylist[%ld]: %s",
	    LOG_MAIL | prio, (long)getpid(), msg);
	if (n < 0 || (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC,
	    0)) == -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	(void)!sendto(fd, line, (size_t)n < sizeof(line) ? (size_t)n :
	    sizeof(line) - 1, 0, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
}

/* What the watchdogs and crash handler of check and policy send to
 * syslog from a signal handler, where syslog(3) may not be called: a
 * socket, syslog's address and the line's head, made ready at start. */
static int stuck_fd = -1;
static struct sockaddr_un stuck_addr;
static char stuck_head[128];
static size_t stuck_hlen;

static void
cmd_syslog_ready(const char *name)
{
	const char *path = getenv("GREYLIST_SYSLOG");
	int n;

	if (path == NULL || priv_secure() ||
	    strlen(path) >= sizeof(stuck_addr.sun_path))
		path = "/dev/log";
	stuck_addr.sun_family = AF_UNIX;
	memcpy(stuck_addr.sun_path, path, strlen(path) + 1);
	n = snprintf(stuck_head, sizeof(stuck_head), "<%d>greylist[%ld]: %s: "
	    "failing open: ", LOG_MAIL | LOG_ERR, (long)getpid(), name);
	if (n > 0 && (size_t)n < sizeof(stuck_head)) {
		stuck_hlen = (size_t)n;
		stuck_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
}

/* Async-signal-safe: "NAME: failing open: why (greylist doctor finds
 * the cause)" to syslog, when cmd_syslog_ready made it ready. */
static void
cmd_syslog_why(const char *why)
{
	static const char tail[] = " (greylist doctor finds the cause)";
	char line[512];
	size_t n = strlen(why), room = sizeof(line) - stuck_hlen - sizeof(tail);

	if (stuck_fd == -1)
		return;
	if (n > room)
		n = room;
	memcpy(line, stuck_head, stuck_hlen);
	memcpy(line + stuck_hlen, why, n);
	memcpy(line + stuck_hlen + n, tail, sizeof(tail) - 1);
	(void)!sendto(stuck_fd, line, stuck_hlen + n + sizeof(tail) - 1,
	    MSG_DONTWAIT, (struct sockaddr *)&stuck_addr, sizeof(stuck_addr));
}

void
cmd_syslog_stuck(void)
{
	cmd_syslog_why("database did not answer in time");
}

void
cmd_vwarn(const char *fmt, va_list ap)
{
	char buf[2048], msg[2200];
	const char *m = buf;
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "greylist: %s\n", buf);
	if (log_errors == NULL)
		return;
	n = strlen(log_errors);
	if (strncmp(buf, log_errors, n) == 0 && strncmp(buf + n, ": ", 2) == 0)
		m += n + 2;	/* "check: ..." from check itself */
	snprintf(msg, sizeof(msg), "%s: failing open: %s (greylist doctor "
	    "finds the cause)", log_errors, m);
	cmd_syslog(LOG_ERR, msg);
}

void
cmd_say(struct ctx *x, int prio, const char *line)
{
	cmd_syslog(prio, line);
	if (x->verbose || x->conf.log_stderr)
		fprintf(stderr, "greylist: %s\n", line);
}

/* The clock: GREYLIST_NOW when allowed. -1 = bad value, 0 = set. */
static int
set_clock(struct ctx *x)
{
	const char *s = getenv("GREYLIST_NOW");
	char *end;
	long long v;

	x->now = (int64_t)time(NULL);
	if (s == NULL || priv_secure())
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    v > (long long)ENTRY_TIME_MAX)
		return -1;
	x->now = v;
	x->now_fixed = 1;
	return 0;
}

/* A bus error or segmentation fault in the store's shared memory: a
 * region file that cannot grow on a full file system, or a damaged one.
 * Marks the store for recovery, which recreates the regions, and fails
 * open. */
static void
crashed(int sig)
{
	static const char bus[] = "greylist: database region could not be "
	    "written (file system full?); marked for recovery\n";
	static const char segv[] = "greylist: database region is damaged; "
	    "marked for recovery\n";
	static const char out[] = "greylist: crashed reading the database "
	    "(it changed meanwhile?); try again\n";

	if (!store_watchdog())
		(void)!write(STDERR_FILENO, out, sizeof(out) - 1);
	else if (sig == SIGBUS) {
		(void)!write(STDERR_FILENO, bus, sizeof(bus) - 1);
		cmd_syslog_why("database region could not be written (file "
		    "system full?); marked for recovery");
	} else {
		(void)!write(STDERR_FILENO, segv, sizeof(segv) - 1);
		cmd_syslog_why("database region is damaged; marked for "
		    "recovery");
	}
	_exit(EXIT_ERROR);
}

/* Resets what a caller can hand a (setgid) process through exec: a
 * blocked signal mask and ignored or caught dispositions. Every signal is
 * unblocked; those the program relies on (the watchdog's SIGALRM, SIGCHLD
 * for the editor's child, SIGPIPE, SIGTERM, SIGXFSZ, SIGXCPU) get their
 * default action, SIGBUS and SIGSEGV the crash handler. SIGHUP, SIGINT
 * and SIGQUIT keep what they had, so that nohup and background jobs work
 * as usual. -1 = failed, 0 = done. */
static int
sig_reset(void)
{
	static const int dfl[] = { SIGALRM, SIGCHLD, SIGPIPE, SIGTERM, SIGXFSZ,
	    SIGXCPU };
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
		if (sigaction(dfl[i], &sa, NULL) == -1)
			return -1;
	sa.sa_handler = crashed;
	if (sigaction(SIGBUS, &sa, NULL) == -1 ||
	    sigaction(SIGSEGV, &sa, NULL) == -1)
		return -1;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The watchdog of the commands that have none of their own (admin and
 * user commands, whose scans may rightly take long): it ticks every five
 * timeouts, and one call of the store that lasts a whole tick (a lock
 * left by a killed process never returns; a checkpoint's fsync on a busy
 * disk may take seconds, which is why the tick is long) ends the
 * process, marking the store for recovery. */
struct store *
cmd_open(struct ctx *x)
{
	struct store *s;
	struct err e;

	wd_tick(x->conf.timeout_ms * 5);
	if (store_open(&s, &x->conf, &e) == -1) {
		cmd_error("%s", e.msg);
		return NULL;
	}
	store_long_run(s);
	return s;
}

/* The start-up watchdog's hook. */
static void
start_late(void)
{
	static const char start[] = "greylist: did not start in time "
	    "(configuration or user database stuck); failing open\n";

	(void)!write(STDERR_FILENO, start, sizeof(start) - 1);
	cmd_syslog_why("did not start in time (configuration or user "
	    "database stuck)");
}

/* The start-up bound: armed first thing in main, before the options, the
 * configuration (a file on a hung network file system, a user database
 * that does not answer) or anything else that can block, so that the MTA
 * needs no timeout(1) around the program. What the caller left behind
 * cannot disarm it: wd_set unblocks SIGALRM, sets its disposition and
 * replaces any inherited timer. Commands other than check end it before
 * they run (wd_stop); check replaces it with the database timeout once
 * its arguments are read. */
static void
wd_early(void)
{
	wd_set(WD_START_MS, start_late);
}

static const struct cmd_entry *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i]->name, name) == 0)
			return cmds[i];
	return NULL;
}

/* -c and -d, kept for cmd_reload. */
static const char *conf_file, *conf_dbdir;

/* Loads the configuration named by -c (or the default) and -d.
 * -1 = error (in e), 0 = loaded. */
static int
load_conf(struct ctx *x, const char *file, const char *dbdir, struct err *e)
{
	conf_file = file;
	conf_dbdir = dbdir;
	conf_init(&x->conf, GREYLIST_DBDIR);
	x->conffile = file != NULL ? file : GREYLIST_CONF;
	if (priv_secure() && getuid() != 0 && (file != NULL || dbdir != NULL))
		return err_set(e, "-c and -d are for root only in a setgid "
		    "install");
	if (conf_load(&x->conf, x->conffile, file == NULL, e) == -1)
		return -1;
	if (dbdir != NULL) {
		free(x->conf.database);
		if ((x->conf.database = strdup(dbdir)) == NULL)
			return err_set(e, "%s", strerror(errno));
	}
	return 0;
}

int
cmd_reload(struct ctx *x, struct conf *old)
{
	struct err e;

	*old = x->conf;
	if (load_conf(x, conf_file, conf_dbdir, &e) == 0)
		return 0;
	cmd_log(x, LOG_ERR, "%s", e.msg);
	conf_free(&x->conf);
	x->conf = *old;
	return -1;
}

void
cmd_reload_undo(struct ctx *x, struct conf *old)
{
	conf_free(&x->conf);
	x->conf = *old;
}

/* The command named by the arguments left after the options: -t and
 * -tw are the user's, no command lists the user's entries. NULL = error
 * (printed). */
static const struct cmd_entry *
pick_cmd(int argc, char **argv, int t, int w)
{
	static const struct cmd_entry *const user_cmds[] = {
		&cmd_mine_entry, &cmd_toggle_entry, &cmd_whitelist_entry
	};
	const struct cmd_entry *cmd;

	if (w && !t) {
		cmd_error("-w goes with -t: greylist -tw");
		return NULL;
	}
	if (t && argc > 0) {
		cmd_error("-t%s takes no command", w ? "w" : "");
		return NULL;
	}
	if (t || argc == 0)
		return user_cmds[t + w];
	if ((cmd = find_cmd(argv[0])) == NULL) {
		cmd_error("unknown command '%s'", argv[0]);
		usage(stderr);
	}
	return cmd;
}

/* Loads the configuration and runs cmd with the rest of the arguments;
 * its exit status. check stays under the start-up watchdog until it arms
 * its own; doctor runs even without a configuration, and policy then
 * answers DUNNO. */
static int
run_cmd(struct ctx *x, const struct cmd_entry *cmd, const char *file,
    const char *dbdir, int argc, char **argv)
{
	struct err e;
	int loaded = load_conf(x, file, dbdir, &e);

	if (cmd != &cmd_check_entry)
		wd_stop();
	if (loaded == -1 && cmd == &cmd_doctor_entry) {
		x->conferr = e.msg;
		return cmd->exec(x, argc, argv);
	}
	if (loaded == -1) {
		cmd_error("%s", e.msg);
		return cmd == &cmd_policy_entry ? cmd_policy_dunno(x) : EXIT_ERROR;
	}
	if (!priv_allowed(&x->conf, cmd->priv))
		return cmd_error("%s: permission denied (needs root or %s)",
		    cmd->name, cmd->priv == PRIV_ADMIN ?
		    "the admin_group" : "a user named in mta_users");
	return cmd->exec(x, argc, argv);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "empty", no_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 }
	};
	const char *file = NULL, *dbdir = NULL;
	const struct cmd_entry *cmd;
	struct ctx x;
	int ch, ret, t = 0, w = 0;

	if (sig_reset() == -1)
		return cmd_error("cannot reset signals: %s", strerror(errno));
	memset(&x, 0, sizeof(x));
	wd_early();
	umask(007);
	if (priv_secure() && priv_sanitize(&x.userenv) == -1)
		return cmd_error("GREYLIST_* variables are for root only in a "
		    "setgid install");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+ac:d:htvw", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			x.all = 1;
			break;
		case 'E':
			x.empty = 1;
			break;
		case 'c':
			file = optarg;
			break;
		case 'd':
			dbdir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 't':
			t = 1;
			break;
		case 'v':
			x.verbose = 1;
			break;
		case 'w':
			w = 1;
			break;
		case 'V':
			puts(PACKAGE_STRING);
			return 0;
		default:
			return cmd_error("unknown option '%s' (see greylist -h)",
			    argv[optind - 1]);
		}
	}
	if ((cmd = pick_cmd(argc - optind, argv + optind, t, w)) == NULL)
		return EXIT_ERROR;
	if ((x.all && (t || argc > optind)) || (x.empty && !(t && w)))
		return cmd_error("%s", x.all ? "-a goes alone: greylist -a" :
		    "--empty goes with -tw: greylist -tw --empty");
	openlog("greylist", LOG_PID, LOG_MAIL);
	if (cmd == &cmd_check_entry ||
	    (cmd == &cmd_policy_entry && !isatty(STDERR_FILENO))) {
		log_errors = cmd->name;
		cmd_syslog_ready(cmd->name);
	}
	if (cmd == &cmd_policy_entry)
		cmd_policy_quiet(&x);
	if (set_clock(&x) == -1)
		ret = cmd_error("GREYLIST_NOW: not a time in epoch seconds");
	else
		ret = run_cmd(&x, cmd, file, dbdir, argc - optind,
		    argv + optind);
	conf_free(&x.conf);
	priv_free_env(x.userenv);
	return ret;
}
