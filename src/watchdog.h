/* The watchdog: the one timer of the process (SIGALRM), which ends it
 * when it spends too long, above all inside the store, where a lock left
 * by a killed process never returns. When it fires it marks the store
 * for recovery if the process was inside it (store_watchdog), runs the
 * hook its user set (answering the client, telling stderr and syslog)
 * and exits with the status set by wd_status (EXIT_ERROR unless told
 * otherwise: the MTA fails open). Nothing else in the program arms a
 * timer. */
#ifndef GREYLIST_WATCHDOG_H
#define GREYLIST_WATCHDOG_H

/* Runs in the signal handler: async-signal-safe code only. */
typedef void (*wd_hook)(void);

/* Takes SIGALRM whatever the process inherited (handler installed,
 * signal unblocked, any timer replaced) and arms a single shot ms from
 * now (0 = none yet). hook runs when it fires while the exit status is
 * still EXIT_ERROR; NULL = "database did not answer in time; failing
 * open" on stderr and syslog. */
void	wd_set(int ms, wd_hook hook);

/* Re-arms the single shot with the hook already set: ms from now, 0 =
 * disarmed. One system call: for the request path. */
void	wd_arm(int ms);

/* For long runs whose scans may rightly take long: ticks every ms and
 * ends the process ("database did not answer in time", status 2) only
 * when one call of the store has lasted a whole tick. */
void	wd_tick(int ms);

/* The exit status when the watchdog fires: a check that has printed its
 * answer exits with that answer's status, quietly. */
void	wd_status(int status);

/* Disarms the timer and gives SIGALRM back its default action. */
void	wd_stop(void);

/* For a child that must not outlive a bound: SIGALRM's default action
 * (death by the signal, which the parent sees) ms from now. */
void	wd_deadline(int ms);

#endif
