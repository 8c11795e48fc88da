/* The listening sockets of greylist serve: passed by systemd, or a Unix
 * socket and a loopback TCP port of its own. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "serve.h"

#define SD_LISTEN_FDS_START 3	/* the sd_listen_fds protocol's first fd */

/* Non-blocking and close-on-exec. -1 = error, 0 = done. */
static int
serve_flags(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

int
serve_activated(int *fds, int max)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	char *end;
	long v;
	int i;

	if (pid == NULL || n == NULL)
		return 0;
	errno = 0;
	v = strtol(pid, &end, 10);
	if (*pid == '\0' || *end != '\0' || errno != 0 || v != (long)getpid())
		return 0;	/* meant for another process */
	v = strtol(n, &end, 10);
	if (*n == '\0' || *end != '\0' || v < 1 || v > max)
		return cmd_fail("serve: LISTEN_FDS: not a number from 1 to "
		    "%d", max);
	for (i = 0; i < v; i++) {
		fds[i] = SD_LISTEN_FDS_START + i;
		if (serve_flags(fds[i]) == -1)
			return cmd_fail("serve: passed socket %d: %s", fds[i],
			    strerror(errno));
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)v;
}

/* Removes a socket left at path by a server that is gone; a live one
 * is an error. -1 = error (printed), 0 = path free. */
static int
serve_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, live;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 :
		    cmd_error("serve: %s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return cmd_fail("serve: %s: exists and is not a socket", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return cmd_fail("serve: socket: %s", strerror(errno));
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (live)
		return cmd_fail("serve: %s: another server is listening", path);
	if (unlink(path) == -1)
		return cmd_fail("serve: %s: %s", path, strerror(errno));
	return 0;
}

int
serve_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return cmd_fail("serve: %s: socket path too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (serve_stale(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return cmd_fail("serve: socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, SOMAXCONN) == -1 || serve_flags(fd) == -1) {
		cmd_error("serve: %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Parses "127.0.0.1:PORT" or "[::1]:PORT" into ss, loopback only.
 * -1 = error (printed), 0 = done. */
static int
serve_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon = strrchr(addr, ':');
	size_t hl;
	long port;

	if (colon == NULL || (hl = (size_t)(colon - addr)) >= sizeof(host))
		return cmd_fail("serve: --listen %s: not ADDRESS:PORT", addr);
	memcpy(host, addr, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		return cmd_fail("serve: --listen %s: bad port", addr);
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1 &&
	    (ntohl(s4->sin_addr.s_addr) >> 24) == 127) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*s6);
			return 0;
		}
	}
	return cmd_fail("serve: --listen %s: only a loopback address "
	    "(127.0.0.1, [::1]): the protocol has no authentication", addr);
}

int
serve_tcp(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int fd, on = 1;

	if (serve_addr(addr, &ss, &len) == -1)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1)
		return cmd_fail("serve: socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, SOMAXCONN) == -1 || serve_flags(fd) == -1) {
		cmd_error("serve: %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
