/*
 * greylist doctor: finds, as root, what would make the MTA path fail open
 * or misbehave, and says how to fix each: the configuration, the group,
 * the binary's setgid bit, the database directory and every file in it,
 * each MTA user really deciding (a child switches to the user and decides
 * a throwaway triplet in a transaction it aborts, so nothing is left
 * behind), syslog, the Exim configuration, the Redis server. One line a
 * finding; exit 0 when all is well, 1 when something is wrong, 2 when it
 * cannot run.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <hiredis/hiredis.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"
#include "perm.h"
#include "policy.h"
#include "priv.h"
#include "store.h"
#include "watchdog.h"

/* A triplet no mail can have (TEST-NET-1, the .invalid domain). */
#define DOC_IP		"192.0.2.255"
#define DOC_ADDR	"doctor@greylist.invalid"

void
doctor_say(struct doc *d, int ok, const char *fmt, ...)
{
	va_list ap;

	fputs(ok ? "ok: " : "problem: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		d->problems++;
}

/* -1 = bad option (printed), 0 = parsed. */
static int
doc_parse(struct doc *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "exim-config", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': d->user = optarg; break;
		case 'g': d->group = optarg; break;
		case 'e': d->exim = optarg; break;
		default:
			return cmd_fail("doctor: unknown option or missing "
			    "value '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_fail("doctor: unexpected argument '%s'",
		    argv[optind]);
	return 0;
}

/* 0 = the group is missing (said), 1 = it exists. */
static int
doc_group(struct doc *d)
{
	if (getgrnam(d->group) != NULL)
		return 1;
	doctor_say(d, 0, "group %s does not exist; fix: groupadd --system "
	    "%s, then make install again (or greylist doctor --group=NAME "
	    "for another group)", d->group, d->group);
	return 0;
}

static void
doc_binary(struct doc *d)
{
	struct group *gr = getgrnam(d->group);
	char how[96];
	struct stat st;
	ssize_t n;

	if (d->bin[0] == '\0' && (n = readlink("/proc/self/exe", d->bin,
	    sizeof(d->bin) - 1)) > 0)
		d->bin[n] = '\0';
	if (stat(d->bin, &st) == -1) {
		doctor_say(d, 0, "cannot find the program: %s",
		    strerror(errno));
		return;
	}
	d->setgid = (st.st_mode & S_ISGID) && gr != NULL &&
	    st.st_gid == gr->gr_gid;
	perm_describe(d->bin, how, sizeof(how));
	if (d->setgid)
		doctor_say(d, 1, "%s is setgid %s", d->bin, d->group);
	else
		doctor_say(d, 0, "%s is not setgid %s (%s): MTA users cannot "
		    "write the database through it; fix: chgrp %s %s && "
		    "chmod 2755 %s", d->bin, d->group, how, d->group, d->bin,
		    d->bin);
	if (d->exim_conf != NULL && d->setgid)
		doctor_say(d, 0, "%s defines GREYLIST_CONF, but a setgid "
		    "greylist takes -c from root only; fix: remove it",
		    d->exim_conf);
}

static void	doc_files(struct doc *, const char *, gid_t, int);

/* DIR/users, where the user commands write their settings: a directory
 * of the group, group rwx and setgid, whose files are checked in turn.
 * 0 = as it should be, 1 = not (said). */
static int
doc_usersdir(struct doc *d, const char *path, const struct stat *st,
    gid_t gid)
{
	char how[96];

	if (st->st_gid == gid && (st->st_mode & 02070) == 02070) {
		doc_files(d, path, gid, 0);
		return 0;
	}
	perm_describe(path, how, sizeof(how));
	doctor_say(d, 0, "%s (%s) is not a directory of group %s, mode 2770: "
	    "user commands cannot put their settings in force; fix: chgrp -R "
	    "%s %s && chmod 2770 %s && chmod g+rw %s/*", path, how, d->group,
	    d->group, path, path, path);
	return 1;
}

/* The files in the database directory (top: and its users directory):
 * each in its group, group rw. */
static void
doc_files(struct doc *d, const char *dir, gid_t gid, int top)
{
	char path[4096], how[96];
	struct dirent *de;
	struct stat st;
	DIR *dp;
	int bad = 0, n = 0;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) ||
		    lstat(path, &st) == -1)
			continue;
		if (top && S_ISDIR(st.st_mode) &&
		    strcmp(de->d_name, "users") == 0) {
			bad += doc_usersdir(d, path, &st, gid);
			continue;
		}
		n++;
		if (S_ISREG(st.st_mode) && st.st_gid == gid &&
		    (st.st_mode & 0060) == 0060)
			continue;
		perm_describe(path, how, sizeof(how));
		doctor_say(d, 0, "%s (%s) is not a group read-write file of "
		    "group %s; fix: chgrp -R %s %s && chmod -R g+rw %s", path,
		    how, d->group, d->group, dir, dir);
		bad++;
	}
	closedir(dp);
	if (bad == 0)
		doctor_say(d, 1, "the %d files in %s are group %s, group "
		    "read-write", n, dir, d->group);
}

static void
doc_dir(struct doc *d)
{
	const char *dir = d->x->conf.database;
	struct group *gr = getgrnam(d->group);
	char how[96];
	struct stat st;

	if (stat(dir, &st) == -1) {
		doctor_say(d, 0, "database directory %s: %s; fix: mkdir -p %s "
		    "&& chgrp %s %s && chmod 2770 %s", dir, strerror(errno),
		    dir, d->group, dir, dir);
		return;
	}
	perm_describe(dir, how, sizeof(how));
	if (!S_ISDIR(st.st_mode))
		doctor_say(d, 0, "%s is not a directory", dir);
	else if (gr == NULL || st.st_gid != gr->gr_gid ||
	    (st.st_mode & 02070) != 02070)
		doctor_say(d, 0, "database directory %s (%s) is not group %s "
		    "mode 2770; fix: chgrp %s %s && chmod 2770 %s", dir, how,
		    d->group, d->group, dir, dir);
	else
		doctor_say(d, 1, "database directory %s: %s", dir, how);
	if (S_ISDIR(st.st_mode) && gr != NULL)
		doc_files(d, dir, gr->gr_gid, 1);
}

/* Whether a datagram reaches the syslog socket (GREYLIST_SYSLOG, the
 * tests' hook, or /dev/log): errors of the MTA path go nowhere else. */
static void
doc_syslog(struct doc *d)
{
	const char *path = getenv("GREYLIST_SYSLOG");
	struct sockaddr_un sun;
	int fd, ok = 0;

	if (path == NULL || priv_secure())
		path = "/dev/log";
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		close(fd);
	}
	if (ok)
		doctor_say(d, 1, "syslog listens on %s", path);
	else
		doctor_say(d, 0, "nothing listens on %s (%s): the reasons the "
		    "MTA path fails open are lost; fix: install and start a "
		    "syslog daemon (apt-get install rsyslog)", path,
		    strerror(errno));
}

/* In the child, as the user with the ids a setgid run has: reads the
 * configuration and decides the throwaway triplet. Writes what failed
 * to fd; never returns. */
static void
doc_child(struct doc *d, const struct passwd *pw, gid_t egid, int fd)
{
	const struct conf *c = &d->x->conf;
	const char *why = "", *conf = d->x->conffile;
	struct decision dec;
	struct store *s;
	struct tuple t;
	struct err e;
	int cfd;

	e.msg[0] = '\0';
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, egid, egid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		snprintf(e.msg, sizeof(e.msg), "cannot switch to the user: "
		    "%s", strerror(errno));
	else if ((cfd = open(conf, O_RDONLY | O_CLOEXEC)) == -1 &&
	    errno != ENOENT)
		snprintf(e.msg, sizeof(e.msg), "cannot read %s: %s", conf,
		    strerror(errno));
	else if (cfd != -1 && close(cfd) == -1)
		;
	else if (tuple_make(&t, DOC_IP, DOC_ADDR, DOC_ADDR, c->ipv4_prefix,
	    c->ipv6_prefix, 0, &why) == -1)
		snprintf(e.msg, sizeof(e.msg), "%s", why);
	else if (store_open(&s, c, &e) == 0) {
		if (policy_trial(s, c, &t, d->x->now, &dec, &e) == 0)
			e.msg[0] = '\0';
		store_close(s);
	}
	(void)!write(fd, e.msg, strlen(e.msg));
	_exit(e.msg[0] == '\0' ? 0 : 1);
}

/* Tries a decision as the user pw, in a child. */
static void
doc_try(struct doc *d, const struct passwd *pw)
{
	struct stat st;
	char msg[ERR_MAX];
	gid_t egid = pw->pw_gid;
	ssize_t n;
	pid_t pid;
	int fds[2], status;

	if (d->setgid && stat(d->bin, &st) == 0)
		egid = st.st_gid;
	fflush(stdout);
	if (pipe(fds) == -1 || (pid = fork()) == -1) {
		doctor_say(d, 0, "cannot try %s: %s", pw->pw_name,
		    strerror(errno));
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		wd_deadline((d->x->conf.timeout_ms / 1000 + 5) * 1000);
		doc_child(d, pw, egid, fds[1]);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		doctor_say(d, 1, "%s can open the database and decide%s",
		    pw->pw_name, d->setgid ? " through the setgid program" :
		    "");
	else if (WIFSIGNALED(status))
		doctor_say(d, 0, "%s: a decision did not end in time (signal "
		    "%d): its checks fail open", pw->pw_name,
		    WTERMSIG(status));
	else
		doctor_say(d, 0, "%s cannot decide, its checks fail open: %s",
		    pw->pw_name, msg);
}

/* Each MTA user that exists, and --user. */
static void
doc_users(struct doc *d)
{
	const struct strlist *l = &d->x->conf.mta_users;
	struct passwd *pw;
	size_t i;
	int tried = 0;

	for (i = 0; i < l->n; i++)
		if ((pw = getpwnam(l->v[i])) != NULL) {
			doc_try(d, pw);
			tried++;
		}
	if (d->user != NULL) {
		if ((pw = getpwnam(d->user)) == NULL)
			doctor_say(d, 0, "user %s does not exist", d->user);
		else if (!strlist_has(l, d->user)) {
			doctor_say(d, 0, "%s is not in mta_users: greylist "
			    "refuses its checks; fix: add it to mta_users in "
			    "%s", d->user, d->x->conffile);
			doc_try(d, pw);
		}
		tried++;
	}
	if (tried == 0)
		doctor_say(d, 0, "no user of mta_users exists here: greylist "
		    "refuses every MTA's checks; fix: name the MTA's user in "
		    "mta_users in %s, or try one with --user=NAME",
		    d->x->conffile);
}

/* appendonly of the Redis server at addr ("unix:PATH" or "HOST:PORT"):
 * without it a restart loses recent entries. */
static void
doc_appendonly(struct doc *d, const char *addr)
{
	struct timeval tv = { 1, 0 };
	const char *colon = strrchr(addr, ':');
	redisContext *c;
	redisReply *r = NULL;
	char host[256];

	if (strncmp(addr, "unix:", 5) == 0)
		c = redisConnectUnixWithTimeout(addr + 5, tv);
	else {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr),
		    addr[0] == '[' ? addr + 1 : addr);
		host[strcspn(host, "]")] = '\0';
		c = redisConnectWithTimeout(host, atoi(colon + 1), tv);
	}
	if (c != NULL && !c->err && d->x->conf.redis_password != NULL)
		freeReplyObject(redisCommand(c, "AUTH %s",
		    d->x->conf.redis_password));
	if (c != NULL && !c->err)
		r = redisCommand(c, "CONFIG GET appendonly");
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING)
		doctor_say(d, strcmp(r->element[1]->str, "yes") == 0,
		    "redis %s: appendonly %s%s", addr, r->element[1]->str,
		    strcmp(r->element[1]->str, "yes") == 0 ? "" : ": a restart "
		    "loses the last entries; fix: appendonly yes in its "
		    "redis.conf (and CONFIG SET appendonly yes)");
	else
		doctor_say(d, 1, "redis %s: cannot tell whether appendonly is "
		    "on (CONFIG refused); see share/redis/README", addr);
	freeReplyObject(r);
	redisFree(c);
}

static void
doc_backend(struct doc *d)
{
	const struct conf *c = &d->x->conf;
	struct store *s;
	struct err e;

	if (c->backend != BACKEND_REDIS) {
		doc_dir(d);
		return;
	}
	if (store_open(&s, c, &e) == -1) {
		doctor_say(d, 0, "%s; fix: start the Redis server or correct "
		    "redis_server in %s", e.msg, d->x->conffile);
		return;
	}
	store_close(s);
	doctor_say(d, 1, "redis %s answers", c->redis_server != NULL ?
	    c->redis_server : c->redis_master);
	if (c->redis_server != NULL)
		doc_appendonly(d, c->redis_server);
}

static int
cmd_doctor(struct ctx *x, int argc, char **argv)
{
	struct doc d;

	memset(&d, 0, sizeof(d));
	d.x = x;
	d.group = GREYLIST_GROUP;
	if (doc_parse(&d, argc, argv) == -1)
		return EXIT_ERROR;
	if (getuid() != 0)
		return cmd_error("doctor: run it as root: it tries each MTA "
		    "user's rights");
	if (x->conferr != NULL) {
		doctor_say(&d, 0, "%s; fix that line", x->conferr);
		return 1;
	}
	doctor_say(&d, 1, "configuration %s parses", x->conffile);
	doctor_exim(&d);
	if (doc_group(&d)) {
		doc_binary(&d);
		doc_backend(&d);
	} else if (x->conf.backend == BACKEND_REDIS)
		doc_backend(&d);
	doc_users(&d);
	doc_syslog(&d);
	if (fflush(stdout) == EOF)
		return EXIT_ERROR;
	return d.problems > 0 ? 1 : 0;
}

const struct cmd_entry cmd_doctor_entry = {
	"doctor", PRIV_ADMIN, cmd_doctor,
	"doctor [--user=NAME] [--group=NAME] [--exim-config=FILE]"
};
