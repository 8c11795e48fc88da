/* greylist import: writes what src/import.c (CSV) or src/postgrey.c (a
 * postgrey database) read and checked, in short transactions, after
 * every row was found good. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "entry.h"
#include "import.h"
#include "priv.h"
#include "user.h"


/* One transaction of import_store: up to IMPORT_TXN entries from off
 * on; next is where the following one starts. */
struct import_txn {
	const struct import_set *set;
	size_t	 off, next;
};

static int
import_txn_fn(struct store *s, void *arg, struct err *e)
{
	struct import_txn *a = arg;
	const struct import_set *set = a->set;
	struct entry en;
	size_t at = a->off, i;
	int ret;

	for (i = 0; i < IMPORT_TXN && entry_list_next(&set->list, &at,
	    &en) == 0; i++) {
		if (set->users != NULL && (en.kind == ENTRY_USER ||
		    en.kind == ENTRY_USERWL))
			continue;
		if ((ret = entry_put(s, set->conf, &en, set->now, e)) != 0)
			return ret;
	}
	a->next = at;
	return 0;
}

/* Adds the set's counters into shard 0, which after a wipe sets them. */
static int
import_count_fn(struct store *s, void *arg, struct err *e)
{
	const struct import_set *set = arg;

	return entry_count_add(s, 0, set->count, e);
}

/* With user settings in files: writes the set's user and userwl
 * entries there (into each user's file, or instead of all files with
 * replace). -1 = error, 0 = done. */
static int
import_users(const struct import_set *set, int replace, struct err *e)
{
	struct user_batch b = { NULL, 0, 0, 0 };
	struct entry en;
	size_t off = 0;
	int ret = 0;

	while (ret == 0 && entry_list_next(&set->list, &off, &en) == 0)
		if (user_batch_add(&b, replace ? NULL : set->users, &en) == -1)
			ret = err_set(e, "%s", strerror(ENOMEM));
	if (ret == 0 && replace)
		ret = userfile_clear(set->users, e);
	if (ret == 0)
		ret = user_batch_write(&b, set->users, e);
	user_batch_free(&b);
	return ret;
}

/* Writes the set: wipes the store first with replace, then the entries
 * in transactions of IMPORT_TXN, then the counters. -1 = error, 0 = done. */
static int
import_store(struct store *s, const struct import_set *set, int replace,
    struct err *e)
{
	struct import_txn a = { set, 0, 0 };
	size_t done = 0, n = set->list.kv.n, len = set->list.kv.len;
	int tty = isatty(STDERR_FILENO);

	if (replace && entry_wipe(s, e) == -1)
		return -1;
	if (set->users != NULL && import_users(set, replace, e) == -1)
		return -1;
	while (a.off < len) {
		if (store_run(s, import_txn_fn, &a, e) == -1 ||
		    store_yield(s, e) == -1)
			return -1;
		a.off = a.next;
		done += IMPORT_TXN;
		if (tty && (done % PROGRESS_EVERY == 0 || a.off == len))
			fprintf(stderr, "\r%zu of %zu entries%s", done < n ?
			    done : n, n, a.off == len ? "\n" : "");
	}
	if (set->seen != 0 && store_run(s, import_count_fn,
	    (void *)(uintptr_t)set, e) == -1)
		return -1;
	return 0;
}

struct import_args {
	int	 replace;
	const char *postgrey;
	const char *file;
};

static int
import_parse(int argc, char **argv, struct import_args *a)
{
	static const struct option opts[] = {
		{ "replace", no_argument, NULL, 'r' },
		{ "postgrey", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 0;	/* a full reset: main parsed its options with '+' */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			a->replace = 1;
			break;
		case 'p':
			a->postgrey = optarg;
			break;
		default:
			return cmd_error("import: unknown option or missing "
			    "value '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc)
		return cmd_error("import: unexpected argument '%s'",
		    argv[optind]);
	if (a->postgrey != NULL && (a->replace || a->file != NULL))
		return cmd_error("import: --postgrey FILE takes no other "
		    "arguments");
	return 0;
}

static int
cmd_import(struct ctx *x, int argc, char **argv)
{
	struct import_args a;
	struct import_set set;
	size_t n;
	struct store *s;
	struct err e;
	int ret;

	if (import_parse(argc, argv, &a) != 0)
		return EXIT_ERROR;
	memset(&set, 0, sizeof(set));
	set.conf = &x->conf;
	set.now = x->now;
	if (a.postgrey != NULL)
		ret = postgrey_read(&x->conf, a.postgrey, &set, &e);
	else
		ret = import_read(a.file, &set, &e);
	if (ret == 0 && (s = cmd_open(x)) == NULL) {
		entry_list_free(&set.list);
		return EXIT_ERROR;
	}
	if (ret == 0) {
		set.users = users_in_files(&x->conf) ? x->conf.database : NULL;
		ret = import_store(s, &set, a.replace, &e);
		store_close(s);
	}
	n = set.list.kv.n;
	entry_list_free(&set.list);
	if (ret != 0)
		return cmd_error("import: %s", e.msg);
	if (a.postgrey != NULL)
		printf("imported %zu entries, skipped %zu\n", n,
		    set.skipped);
	else
		printf("imported %zu entries\n", n);
	if (fflush(stdout) == EOF)
		return cmd_error("import: cannot write: %s", strerror(errno));
	return 0;
}

const struct cmd_entry cmd_import_entry = {
	"import", PRIV_ADMIN, cmd_import,
	"import [--replace] [FILE] | import --postgrey FILE"
};
