/* greylist exempt add|del|list: exemptions kept in the database, which
 * check honours like the config's exempt and no_delay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cmd.h"
#include "entry.h"
#include "priv.h"

/* EXIT_ERROR = not an exemption (printed), 0 = normalised into it (kind
 * ENTRY_EXEMPT or ENTRY_NODELAY, and text). */
static int
exempt_parse(const char *s, struct entry *it)
{
	const char *why;
	struct cidr c;

	memset(it, 0, sizeof(*it));
	if (addr_parse_cidr(s, &c) == 0) {
		it->kind = ENTRY_NODELAY;
		addr_format_net(&c.addr, c.len, it->text, sizeof(it->text));
		return 0;
	}
	it->kind = ENTRY_EXEMPT;
	if (tuple_exempt(s, it->text, &why) == -1)
		return cmd_error("exempt: '%s': not an address, @domain, IP "
		    "address or network", s);
	return 0;
}

struct exempt_args {
	struct entry *items;
	int	 n;
	int	 add;
	int64_t	 now;
	const struct conf *c;
	char	*done;		/* per item: added, or existed and deleted */
};

static int
exempt_txn(struct store *s, void *arg, struct err *e)
{
	struct exempt_args *a = arg;
	int i, ret;

	for (i = 0; i < a->n; i++) {
		a->items[i].r.first = a->now;
		if (a->add)
			ret = entry_put(s, a->c, &a->items[i], a->now, e);
		else
			ret = entry_del(s, &a->items[i], e);
		if (ret < 0)
			return ret;
		a->done[i] = a->add || ret == 1;
	}
	return 0;
}

/* -1 = error (printed), 0 = done. */
static int
exempt_apply(struct ctx *x, struct exempt_args *a)
{
	struct store *s;
	struct err e;
	int ret;

	if ((s = cmd_open(x)) == NULL)
		return -1;
	ret = store_run(s, exempt_txn, a, &e);
	store_close(s);
	if (ret != 0)
		cmd_error("exempt: %s", e.msg);
	return ret;
}

static int
exempt_list_fn(const struct entry *en, void *arg)
{
	printf("%s\n", en->text);
	(*(size_t *)arg)++;
	return SCAN_NEXT;
}

static int
exempt_list(struct ctx *x)
{
	static const int kinds[] = { ENTRY_EXEMPT, ENTRY_NODELAY };
	struct store *s;
	struct err e;
	size_t n = 0;
	int ret;

	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	ret = entry_scan(s, NULL, kinds, 2, SCAN_BATCH_READ, exempt_list_fn,
	    &n, NULL, &e);
	store_close(s);
	if (ret == -1)
		return cmd_error("exempt: %s", e.msg);
	return n > 0 ? 0 : 1;
}

static int
cmd_exempt(struct ctx *x, int argc, char **argv)
{
	struct exempt_args a;
	int i, ret = 1, any = 0;

	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return exempt_list(x);
	if (argc < 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "del")))
		return cmd_error("exempt: usage: exempt add|del ENTRY... | "
		    "exempt list");
	memset(&a, 0, sizeof(a));
	a.n = argc - 2;
	a.add = strcmp(argv[1], "add") == 0;
	a.now = x->now;
	a.c = &x->conf;
	a.items = calloc((size_t)a.n, sizeof(*a.items));
	a.done = calloc((size_t)a.n, 1);
	if (a.items == NULL || a.done == NULL)
		ret = cmd_error("exempt: out of memory");
	for (i = 0; ret == 1 && i < a.n; i++)
		if (exempt_parse(argv[i + 2], &a.items[i]) != 0)
			ret = EXIT_ERROR;
	if (ret == 1 && exempt_apply(x, &a) == -1)
		ret = EXIT_ERROR;
	for (i = 0; ret == 1 && i < a.n; i++) {
		if (!a.done[i])
			continue;
		any = 1;
		printf("%s %s\n", a.add ? "added" : "deleted", a.items[i].text);
		cmd_log(x, LOG_INFO, "exempt: %s %s by admin",
		    a.add ? "added" : "deleted", a.items[i].text);
	}
	if (ret == 1)
		ret = any ? 0 : 1;
	free(a.items);
	free(a.done);
	return ret;
}

const struct cmd_entry cmd_exempt_entry = {
	"exempt", PRIV_ADMIN, cmd_exempt,
	"exempt add|del ADDR|@DOMAIN|IP|CIDR ... | exempt list"
};
