/* The listening sockets of greylist serve (serve_listen.c). */
#ifndef GREYLIST_SERVE_H
#define GREYLIST_SERVE_H

#define SRV_LISTEN_MAX	8	/* listening sockets */

/* The sockets systemd passed (LISTEN_FDS, LISTEN_PID): their number, put
 * in fds (non-blocking, close-on-exec), and the variables removed;
 * 0 = none passed, -1 = error (printed). */
int	serve_activated(int *fds, int max);

/* A listening Unix socket at path, replacing a stale one (a socket no
 * server answers on). -1 = error (printed), else the descriptor. */
int	serve_unix(const char *path);

/* A listening TCP socket on a loopback address, "127.0.0.1:PORT" or
 * "[::1]:PORT". -1 = error (printed), else the descriptor. */
int	serve_tcp(const char *addr);

#endif
