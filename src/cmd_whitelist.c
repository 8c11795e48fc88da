/* greylist -tw: the personal whitelist. A child that has dropped every
 * extra privilege for good runs the editor (or reads stdin when it is not
 * a terminal), reads ~/.wl with the user's own rights, cleans it, rewrites
 * it and hands the clean list over a pipe; the parent checks every line
 * again and stores the list, where check honours it. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd.h"
#include "entry.h"
#include "priv.h"
#include "store.h"
#include "user.h"

/* Reads at most max bytes of fd into buf; more is an error.
 * -1 = error (errno, EFBIG for too much), else the length. */
static ssize_t
wl_slurp(int fd, char *buf, size_t max)
{
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf + n, max + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		n += (size_t)r;
		if (n > max) {
			errno = EFBIG;
			return -1;
		}
	}
	return (ssize_t)n;
}

/* What a file type is called in messages. */
static const char *
wl_type(mode_t m)
{
	if (S_ISLNK(m))
		return "a symlink";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* In the child: the path of ~/.wl, refusing anything but a regular file
 * (or none). -1 = refused (printed). */
static int
wl_path(const struct passwd *pw, char *path, size_t len)
{
	struct stat st;

	if ((size_t)snprintf(path, len, "%s/.wl", pw->pw_dir) >= len)
		return cmd_fail("home directory path too long");
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return cmd_fail("%s: %s, not a regular file: refused", path,
		    wl_type(st.st_mode));
	return 0;
}

/* The caller's variable name, from the environment kept before a setgid
 * run cleared it. NULL = unset. */
static const char *
wl_getenv(const struct ctx *x, const char *name)
{
	size_t n = strlen(name);
	char **v;

	if (x->userenv == NULL)
		return getenv(name);
	for (v = x->userenv; *v != NULL; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

/* In the child, privileges dropped: runs the editor on path with the
 * user's own environment. The value of $VISUAL (else $EDITOR, else vi)
 * is a shell command line, as git and mutt take it: it may hold
 * arguments and shell quoting; the file name is added as one word. */
static int
wl_run_editor(const struct ctx *x, const char *ed, const char *path)
{
	extern char **environ;
	char cmd[4096];
	pid_t pid;
	int status;

	if ((size_t)snprintf(cmd, sizeof(cmd), "%s \"$@\"", ed) >= sizeof(cmd))
		return cmd_fail("editor command too long");
	if ((pid = fork()) == 0) {
		execle("/bin/sh", "sh", "-c", cmd, ed, path, (char *)NULL,
		    x->userenv != NULL ? x->userenv : environ);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &status, 0) == -1 ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cmd_fail("editor '%s' failed: whitelist not changed",
		    ed);
	return 0;
}

/* In the child: runs the editor on path and reads what it left. */
static ssize_t
wl_edit(const struct ctx *x, const char *path, char *buf)
{
	const char *ed = wl_getenv(x, "VISUAL");
	struct stat st;
	ssize_t len;
	int fd;

	if (ed == NULL || *ed == '\0')
		ed = wl_getenv(x, "EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1)
		return cmd_fail("%s: %s", path, strerror(errno));
	close(fd);
	if (wl_run_editor(x, ed, path) == -1)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cmd_error("%s: %s", path, fd == -1 ? strerror(errno) :
		    "not a regular file: refused");
		return -1;
	}
	if ((len = wl_slurp(fd, buf, USER_WL_MAX)) == -1)
		cmd_error("%s: %s", path, errno == EFBIG ?
		    "more than 64 KiB: refused" : strerror(errno));
	close(fd);
	return len;
}

static void
wl_dropped(unsigned line, const char *text, const char *why, void *arg)
{
	fprintf(stderr, "greylist: %s: line %u dropped: '%s': %s\n",
	    (const char *)arg, line, text, why);
}

/* In the child: writes the clean list to path (through a new file and a
 * rename) and to the pipe. -1 = error (printed). */
static int
wl_write(const char *path, const struct strlist *wl, int out)
{
	char tmp[4096 + 8];
	size_t i;
	FILE *f;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return cmd_fail("%s: path too long", path);
	if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "w")) == NULL)
		return cmd_fail("%s: %s", path, strerror(errno));
	for (i = 0; i < wl->n; i++) {
		fprintf(f, "%s\n", wl->v[i]);
		if (dprintf(out, "%s\n", wl->v[i]) < 0)
			break;
	}
	if (fchmod(fd, 0644) == -1 || fclose(f) == EOF || i < wl->n ||
	    rename(tmp, path) == -1) {
		unlink(tmp);
		return cmd_fail("%s: %s", path, strerror(errno));
	}
	return 0;
}

/* The child's whole work; its exit status. */
static int
wl_child(const struct ctx *x, const struct passwd *pw, int out)
{
	static char buf[USER_WL_MAX + 1];
	struct strlist wl = { NULL, 0, 0 };
	char path[4096];
	ssize_t len;

	umask(022);
	if (priv_drop() == -1)
		return cmd_error("cannot drop privileges: %s", strerror(errno));
	if (wl_path(pw, path, sizeof(path)) == -1)
		return EXIT_ERROR;
	if (isatty(STDIN_FILENO))
		len = wl_edit(x, path, buf);
	else if ((len = wl_slurp(STDIN_FILENO, buf, USER_WL_MAX)) == -1)
		cmd_error("standard input: %s", errno == EFBIG ?
		    "more than 64 KiB" : strerror(errno));
	if (len == -1)
		return EXIT_ERROR;
	if (user_wl_clean(buf, (size_t)len, &wl, wl_dropped, path) == -1)
		return cmd_error("out of memory");
	/* A script or an ssh session without a terminal that sends nothing
	 * must not empty the list by accident. */
	if (wl.n == 0 && !isatty(STDIN_FILENO) && !x->empty)
		return cmd_error("no entries on standard input: whitelist not "
		    "changed (greylist -tw --empty empties it)");
	if (wl_write(path, &wl, out) == -1)
		return EXIT_ERROR;
	return 0;
}

static void
wl_ignore(unsigned line, const char *text, const char *why, void *arg)
{
	(void)line, (void)text, (void)why, (void)arg;
}

/* In the parent: the list the child sent, checked again line by line.
 * -1 = the child failed (it said why), 0 = wl filled. */
static int
wl_receive(pid_t pid, int in, struct strlist *wl)
{
	static char buf[USER_WL_MAX + 1];
	ssize_t len = wl_slurp(in, buf, USER_WL_MAX);
	int status;

	close(in);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (len == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return user_wl_clean(buf, (size_t)len, wl, wl_ignore, NULL) == -1 ?
	    cmd_error("out of memory") : 0;
}

static int
cmd_whitelist(struct ctx *x, int argc, char **argv)
{
	struct strlist wl = { NULL, 0, 0 };
	const struct passwd *pw;
	char login[LOGIN_MAX + 1];
	struct users *u;
	struct err e;
	uint32_t n;
	int fds[2], off, ret;
	pid_t pid;

	(void)argc;	/* main refuses arguments after -tw */
	(void)argv;
	if ((pw = cmd_self(login)) == NULL || cmd_settable(login) == -1)
		return EXIT_ERROR;
	/* Close-on-exec: the editor and what it leaves running in the
	 * background never hold the pipe, so the parent sees its end. */
	if (pipe2(fds, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		return cmd_error("%s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		_exit(wl_child(x, pw, fds[1]));
	}
	close(fds[1]);
	if (wl_receive(pid, fds[0], &wl) == -1)
		return cmd_error("whitelist not changed");
	if (users_open(&u, &x->conf, &e) == -1) {
		strlist_free(&wl);
		return cmd_error("%s", e.msg);
	}
	ret = users_set_whitelist(u, login, &wl, x->now, &e);
	if (ret == 0)
		ret = users_get(u, login, &off, &n, &e);
	users_close(u);
	if (ret == -1) {
		strlist_free(&wl);
		return cmd_error("%s", e.msg);
	}
	cmd_log(x, LOG_INFO, "user %s stored %zu whitelist entries", login, wl.n);
	printf("personal whitelist of %s: %zu %s in force\n", login, wl.n,
	    wl.n == 1 ? "entry" : "entries");
	if (off)
		printf("greylisting is off for %s: the whitelist has no effect "
		    "until you turn it on with greylist -t\n", login);
	strlist_free(&wl);
	return 0;
}

const struct cmd_entry cmd_whitelist_entry = {
	"-tw", PRIV_ANY, cmd_whitelist,
	"greylist -tw [--empty]"
};
