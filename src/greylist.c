/* greylist: options, configuration, the clock, and dispatch to commands. */
#include <sys/stat.h>
#include <sys/time.h>

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
#include "record.h"
#include "store.h"

static const struct cmd cmds[] = {
	{ "check", cmd_check, PRIV_MTA,
	    "check --ip=IP --sender=ADDR --rcpt=ADDR [--helo=NAME] "
	    "[--spf=RESULT]" },
	{ "list", cmd_list, PRIV_ADMIN,
	    "list [--csv] [--state=STATE] [--ip=IP] [--sender=ADDR] "
	    "[--rcpt=ADDR] [--domain=DOMAIN]" },
	{ "purge", cmd_purge, PRIV_ADMIN, "purge [--dry-run]" },
	{ "stats", cmd_stats, PRIV_ADMIN, "stats [--csv]" },
	{ "pass", cmd_pass, PRIV_ADMIN,
	    "pass --ip=IP --sender=ADDR --rcpt=ADDR" },
	{ "delete", cmd_delete, PRIV_ADMIN,
	    "delete [--state=STATE] [--ip=IP] [--sender=ADDR] [--rcpt=ADDR] "
	    "[--domain=DOMAIN]" },
	{ "exempt", cmd_exempt, PRIV_ADMIN,
	    "exempt add|del ADDR|@DOMAIN|IP|CIDR ... | exempt list" },
	{ "spam", cmd_spam, PRIV_MTA, "spam --ip=IP --sender=ADDR" },
	{ "export", cmd_export, PRIV_ADMIN, "export" },
	{ "import", cmd_import, PRIV_ADMIN,
	    "import [--replace] [FILE] | import --postgrey FILE" },
	{ "batch", cmd_batch, PRIV_MTA, "batch" },
	{ "policy", cmd_policy, PRIV_MTA, "policy" },
	{ "serve", cmd_serve, PRIV_MTA,
	    "serve [--socket=PATH] [--listen=ADDRESS:PORT] [--max-conn=N] "
	    "[--idle=SECONDS]" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: greylist [-v] [-c file] [-d dir] command [args]\n"
	    "       greylist [-t | -tw]\n"
	    "       greylist -h | --version\n"
	    "commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "       greylist %s\n", cmds[i].usage);
}

static void
cmd_vwarn(const char *fmt, va_list ap)
{
	fputs("greylist: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
cmd_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vwarn(fmt, ap);
	va_end(ap);
	return EXIT_ERROR;
}

int
cmd_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vwarn(fmt, ap);
	va_end(ap);
	return -1;
}

void
cmd_log(struct ctx *x, int prio, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	syslog(prio, "%s", buf);
	if (x->verbose || x->conf.log_stderr)
		fprintf(stderr, "greylist: %s\n", buf);
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
	    v > (long long)REC_TIME_MAX)
		return -1;
	x->now = v;
	return 0;
}

/* The watchdog of the commands that have none of their own (admin and
 * user commands, whose scans may rightly take long): it ticks every five
 * timeouts, and one call of the store that lasts a whole tick (a lock
 * left by a killed process never returns; a checkpoint's fsync on a busy
 * disk may take seconds, which is why the tick is long) ends the
 * process, marking the store for recovery. */
static void
wd_tick(int sig)
{
	static const char msg[] = "greylist: database did not answer in "
	    "time\n";

	(void)sig;
	if (!store_stuck())
		return;
	store_watchdog();
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EXIT_ERROR);
}

static void
wd_ticking(int ms)
{
	struct sigaction sa, old;
	struct itimerval it;

	if (sigaction(SIGALRM, NULL, &old) == -1 || old.sa_handler != SIG_DFL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wd_tick;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	it.it_interval = it.it_value;
	setitimer(ITIMER_REAL, &it, NULL);
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

	store_watchdog();
	if (sig == SIGBUS)
		(void)!write(STDERR_FILENO, bus, sizeof(bus) - 1);
	else
		(void)!write(STDERR_FILENO, segv, sizeof(segv) - 1);
	_exit(EXIT_ERROR);
}

struct store *
cmd_open(struct ctx *x)
{
	struct store *s;
	struct err e;

	wd_ticking(x->conf.timeout_ms * 5);
	if (store_open(&s, &x->conf, &e) == -1) {
		cmd_error("%s", e.msg);
		return NULL;
	}
	store_long_run(s);
	return s;
}

static volatile sig_atomic_t wd_status = EXIT_ERROR, wd_starting;

static void
wd_fire(int sig)
{
	static const char msg[] = "greylist: database did not answer in "
	    "time; failing open\n";
	static const char start[] = "greylist: did not start in time "
	    "(configuration or user database stuck); failing open\n";

	(void)sig;
	store_watchdog();
	if (wd_status == EXIT_ERROR && wd_starting)
		(void)!write(STDERR_FILENO, start, sizeof(start) - 1);
	else if (wd_status == EXIT_ERROR)
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(wd_status);
}

void
cmd_watchdog(int ms)
{
	struct itimerval it;
	struct sigaction sa;

	wd_starting = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wd_fire;
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The start-up bound: armed first thing in main, before the options, the
 * configuration (a file on a hung network file system, a user database
 * that does not answer) or anything else that can block, so that the MTA
 * needs no timeout(1) around the program. What the caller left behind
 * cannot disarm it: SIGALRM is unblocked, its disposition set and any
 * inherited timer replaced. Commands other than check end it before they
 * run (wd_early_end); check replaces it with the database timeout once
 * its arguments are read. */
static void
wd_early(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	cmd_watchdog(WD_START_MS);
	wd_starting = 1;
}

static void
wd_early_end(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_DFL);
}

void
cmd_watchdog_status(int status)
{
	wd_status = status;
}

static const struct cmd *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* -c and -d, kept for cmd_reload. */
static const char *conf_file, *conf_dbdir;

/* Loads the configuration named by -c (or the default) and -d.
 * -1 = error (printed), 0 = loaded. */
static int
load_conf(struct ctx *x, const char *file, const char *dbdir)
{
	struct err e;

	conf_file = file;
	conf_dbdir = dbdir;

	conf_init(&x->conf, GREYLIST_DBDIR);
	if (priv_secure() && getuid() != 0 && (file != NULL || dbdir != NULL))
		return cmd_fail("-c and -d are for root only in a setgid "
		    "install");
	if (conf_load(&x->conf, file != NULL ? file : GREYLIST_CONF,
	    file == NULL, &e) == -1)
		return cmd_fail("%s", e.msg);
	if (dbdir != NULL) {
		free(x->conf.database);
		if ((x->conf.database = strdup(dbdir)) == NULL)
			return cmd_fail("%s", strerror(errno));
	}
	return 0;
}

int
cmd_reload(struct ctx *x, struct conf *old)
{
	*old = x->conf;
	if (load_conf(x, conf_file, conf_dbdir) == 0)
		return 0;
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
static const struct cmd *
pick_cmd(int argc, char **argv, int t, int w)
{
	static const struct cmd user_cmds[] = {
		{ "greylist", cmd_mine, PRIV_ANY, "" },
		{ "-t", cmd_toggle, PRIV_ANY, "-t" },
		{ "-tw", cmd_whitelist, PRIV_ANY, "-tw" },
	};
	const struct cmd *cmd;

	if (w && !t) {
		cmd_error("-w goes with -t: greylist -tw");
		return NULL;
	}
	if (t && argc > 0) {
		cmd_error("-t%s takes no command", w ? "w" : "");
		return NULL;
	}
	if (t || argc == 0)
		return &user_cmds[t + w];
	if ((cmd = find_cmd(argv[0])) == NULL) {
		cmd_error("unknown command '%s'", argv[0]);
		usage(stderr);
	}
	return cmd;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *file = NULL, *dbdir = NULL;
	const struct cmd *cmd;
	struct ctx x;
	int ch, ret, t = 0, w = 0;

	memset(&x, 0, sizeof(x));
	wd_early();
	umask(007);
	signal(SIGBUS, crashed);
	signal(SIGSEGV, crashed);
	if (priv_secure() && priv_sanitize(&x.editor, &x.term) == -1)
		return cmd_error("GREYLIST_* variables are for root only in a "
		    "setgid install");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:d:htvw", longopts, NULL)) != -1) {
		switch (ch) {
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
	if (set_clock(&x) == -1)
		ret = cmd_error("GREYLIST_NOW: not a time in epoch seconds");
	else if (load_conf(&x, file, dbdir) == -1)
		ret = EXIT_ERROR;
	else if (!priv_allowed(&x.conf, cmd->priv))
		ret = cmd_error("%s: permission denied (needs root or %s)",
		    cmd->name, cmd->priv == PRIV_ADMIN ?
		    "the admin_group" : "a user named in mta_users");
	else {
		if (cmd->fn != cmd_check)
			wd_early_end();
		openlog("greylist", LOG_PID, LOG_MAIL);
		ret = cmd->fn(&x, argc - optind, argv + optind);
	}
	conf_free(&x.conf);
	free(x.editor);
	free(x.term);
	return ret;
}
