/* `greylist` with no command: the entries that concern the invoking
 * user, whose identity is the real uid's login, case and all (the other
 * user commands: -t in src/cmd_toggle.c, -tw in src/cmd_whitelist.c).
 *
 * The user can stop, kill or limit these commands at will, so with
 * Berkeley DB they never enter the database environment, where they could
 * hold what checks wait for: settings are files under DIR/users
 * (lib/userfile.c), and the listing reads greylist.db on its own
 * (entry_peek), as of the last checkpoint. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "csvio.h"
#include "entry.h"
#include "priv.h"
#include "user.h"

#define USER_SHOW_MAX	1000	/* entries shown in all */

/* The user's entries, gathered by one scan of the triplets: all of them
 * with -a, else the USER_SHOW_MAX newest (more counts the others). */
struct mine {
	const struct conf *c;
	const char *login;
	struct entry *v;
	size_t	 n, cap, more;
	int	 all;
	int	 failed;
};

/* Newest first: last seen, then first seen. */
static int
mine_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->r.last != y->r.last)
		return x->r.last < y->r.last ? 1 : -1;
	if (x->r.first != y->r.first)
		return x->r.first < y->r.first ? 1 : -1;
	return 0;
}

/* Keeps the USER_SHOW_MAX newest of m. */
static void
mine_trim(struct mine *m)
{
	if (m->all || m->n <= USER_SHOW_MAX)
		return;
	qsort(m->v, m->n, sizeof(m->v[0]), mine_cmp);
	m->more += m->n - USER_SHOW_MAX;
	m->n = USER_SHOW_MAX;
}

static int
mine_fn(const struct entry *en, void *arg)
{
	struct mine *m = arg;
	char local[LOGIN_MAX + 2];
	struct entry *v;

	tuple_local(en->rcpt, local, sizeof(local));
	if (strcmp(local, m->login) != 0 || (strchr(en->rcpt, '@') != NULL &&
	    !conf_is_local_domain(m->c, tuple_domain(en->rcpt))))
		return SCAN_NEXT;
	if (m->n == 2 * USER_SHOW_MAX)
		mine_trim(m);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		if ((v = realloc(m->v, m->cap * sizeof(*v))) == NULL) {
			m->failed = 1;
			return SCAN_STOP;
		}
		m->v = v;
	}
	m->v[m->n++] = *en;
	return SCAN_NEXT;
}

/* What is left of a pending triplet's embargo, as people read it. */
static void
mine_left(const struct ctx *x, const struct entry *en, char *buf, size_t len)
{
	int64_t left = en->r.first + x->conf.embargo - x->now;

	if (entry_expiry(&x->conf, &en->r) < x->now)
		snprintf(buf, len, "expired");
	else if (left <= 0)
		snprintf(buf, len, "passes on retry");
	else
		entry_hms(left, buf, len);
}

static void
mine_print(const struct ctx *x, const struct mine *m, int passed)
{
	char t1[64], t2[64];
	const char *safe;
	size_t i, shown = 0;
	int tty = isatty(STDOUT_FILENO);

	printf("\n%s\n", passed ? "auto-whitelisted (mail passes at once):" :
	    "greylisted (deferred until the sender retries):");
	printf("  %-18s %-32s %-25s %s\n", "NETWORK", "SENDER",
	    passed ? "LAST SEEN" : "FIRST SEEN", passed ? "EXPIRES" :
	    "TIME LEFT");
	for (i = 0; i < m->n; i++) {
		const struct entry *en = &m->v[i];

		if ((en->r.passed != 0) != passed)
			continue;
		entry_time(passed ? en->r.last : en->r.first, t1, sizeof(t1));
		if (passed)
			entry_time(entry_expiry(&x->conf, &en->r), t2,
			    sizeof(t2));
		else
			mine_left(x, en, t2, sizeof(t2));
		printf("  %-18s %-32s %-25s %s\n", en->net,
		    en->sender[0] == '\0' ? NULL_SENDER : tty &&
		    (safe = csvio_tty(en->sender)) != NULL ? safe : en->sender,
		    t1, t2);
		shown++;
	}
	if (shown == 0)
		printf("  (none)\n");
}

/* Starts m over, for a read again after a checkpoint wrote the file. */
static void
mine_restart(void *arg)
{
	struct mine *m = arg;

	m->n = m->more = 0;
	m->failed = 0;
}

/* Reads the user's triplets into m without joining the database, again
 * when a checkpoint wrote the file meanwhile. -1 = error (printed),
 * 0 = done. */
static int
mine_read(struct ctx *x, struct mine *m, int64_t *asof)
{
	struct err e;
	int ret;

	ret = entry_peek(&x->conf, ENTRY_TRIPLET, mine_fn, m, mine_restart,
	    asof, &e);
	if (ret < 0 || m->failed)
		return cmd_fail("%s", ret < 0 ? e.msg : "out of memory");
	mine_trim(m);
	if (m->n > 1)
		qsort(m->v, m->n, sizeof(m->v[0]), mine_cmp);
	return 0;
}

/* The settings line and, on Berkeley DB, how old the listing is. */
static void
mine_head(const char *login, int off, uint32_t nwl,
    int64_t asof)
{
	char t[64];

	printf("greylisting is %s for %s; personal whitelist: %u %s\n",
	    off ? "off" : "on", login, (unsigned)nwl,
	    nwl == 1 ? "entry" : "entries");
	if (asof != 0) {
		entry_time(asof, t, sizeof(t));
		printf("triplets as of %s (the database as last written to "
		    "disk; newer ones show within minutes)\n", t);
	}
	if (strpbrk(login, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL)
		printf("no mail matches %s: its recipients are compared in "
		    "lower case\n", login);
}

static int
cmd_mine(struct ctx *x, int argc, char **argv)
{
	char login[LOGIN_MAX + 1];
	struct users *u;
	struct mine m;
	struct err e;
	int64_t asof;
	uint32_t nwl;
	int off, ret;

	(void)argc;
	(void)argv;
	if (cmd_self(login) == NULL)
		return EXIT_ERROR;
	memset(&m, 0, sizeof(m));
	m.c = &x->conf;
	m.login = login;
	m.all = x->all;
	if ((ret = users_open(&u, &x->conf, &e)) == 0) {
		ret = users_get(u, login, &off, &nwl, &e);
		users_close(u);
	}
	if (ret == -1)
		return cmd_error("%s", e.msg);
	if (mine_read(x, &m, &asof) == -1) {
		free(m.v);
		return EXIT_ERROR;
	}
	mine_head(login, off, nwl, asof);
	mine_print(x, &m, 0);
	mine_print(x, &m, 1);
	if (m.more > 0)
		printf("\n(%zu older not shown; greylist -a shows all)\n",
		    m.more);
	free(m.v);
	return fflush(stdout) == EOF ? cmd_error("write error") : 0;
}

const struct cmd_entry cmd_mine_entry = {
	"greylist", PRIV_ANY, cmd_mine,
	"greylist [-a]"
};
