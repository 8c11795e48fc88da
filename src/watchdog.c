/* The watchdog (see watchdog.h): one SIGALRM handler for every command,
 * a single shot or a tick, and the hook each command sets. */
#include <sys/time.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"
#include "watchdog.h"

static volatile sig_atomic_t wd_code = EXIT_ERROR, wd_ticking;
static volatile wd_hook wd_fn;

/* The default hook: a database that did not answer in time. */
static void
wd_failopen(void)
{
	static const char msg[] = "greylist: database did not answer in "
	    "time; failing open\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	cmd_syslog_stuck();
}

/* SIGALRM: a tick that finds the store moving returns; anything else
 * ends the process (see watchdog.h). */
static void
wd_fire(int sig)
{
	static const char tick[] = "greylist: database did not answer in "
	    "time\n";
	wd_hook fn = wd_fn;

	(void)sig;
	if (wd_ticking) {
		if (!store_stuck())
			return;
		store_watchdog();
		(void)!write(STDERR_FILENO, tick, sizeof(tick) - 1);
		_exit(EXIT_ERROR);
	}
	store_watchdog();
	if (wd_code == EXIT_ERROR)
		(fn != NULL ? fn : wd_failopen)();
	_exit(wd_code);
}

/* Sets the timer: a single shot ms from now (0 = disarmed), again every
 * ms when every is set. */
static void
wd_timer(int ms, int every)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	if (every)
		it.it_interval = it.it_value;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Installs the handler whatever was inherited, and unblocks SIGALRM. */
static void
wd_take(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = wd_fire;
	sa.sa_flags = SA_RESTART;	/* the tick returns when not stuck */
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void
wd_set(int ms, wd_hook hook)
{
	wd_ticking = 0;
	wd_fn = hook;
	wd_take();
	wd_timer(ms, 0);
}

void
wd_arm(int ms)
{
	wd_ticking = 0;
	wd_timer(ms, 0);
}

void
wd_tick(int ms)
{
	wd_ticking = 1;
	wd_take();
	wd_timer(ms, 1);
}

void
wd_status(int status)
{
	wd_code = status;
}

void
wd_stop(void)
{
	wd_timer(0, 0);
	signal(SIGALRM, SIG_DFL);
	wd_ticking = 0;
	wd_fn = NULL;
}

void
wd_deadline(int ms)
{
	sigset_t set;

	signal(SIGALRM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	wd_timer(ms, 0);
}
