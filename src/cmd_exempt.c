/* greylist exempt add|del|list: exemptions kept in the database, which
 * check honours like the config's exempt and no_delay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cmd.h"
#include "policy.h"
#include "store.h"

/* One exemption, normalised: its kind and canonical text. */
struct exempt_item {
	int	 kind;			/* REC_EXEMPT or REC_NODELAY */
	char	 text[ADDR_MAX + 2];
};

/* EXIT_ERROR = not an exemption (printed), 0 = normalised into it. */
static int
exempt_parse(const char *s, struct exempt_item *it)
{
	const char *why;
	struct cidr c;

	if (addr_parse_cidr(s, &c) == 0) {
		it->kind = REC_NODELAY;
		addr_format_net(&c.addr, c.len, it->text, sizeof(it->text));
		return 0;
	}
	it->kind = REC_EXEMPT;
	if (tuple_exempt(s, it->text, &why) == -1)
		return cmd_error("exempt: '%s': not an address, @domain, IP "
		    "address or network", s);
	return 0;
}

struct exempt_args {
	struct exempt_item *items;
	int	 n;
	int	 add;
	int64_t	 now;
	char	*done;		/* per item: added, or existed and deleted */
};

static int
exempt_txn(struct store *s, void *arg, struct err *e)
{
	struct exempt_args *a = arg;
	uint8_t key[KEY_MAX], val[REC_MAX];
	struct record r;
	int i, ret;

	memset(&r, 0, sizeof(r));
	r.first = a->now;
	for (i = 0; i < a->n; i++) {
		size_t klen = record_key_exempt(a->items[i].kind,
		    a->items[i].text, key);

		r.kind = a->items[i].kind;
		if (a->add)
			ret = store_put(s, key, klen, val,
			    record_encode(&r, val), 0, e);
		else
			ret = store_del(s, key, klen, e);
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
exempt_list_fn(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct entry en;

	if (entry_decode(key, klen, val, vlen, &en) == 0) {
		printf("%s\n", en.text);
		(*(size_t *)arg)++;
	}
	return SCAN_NEXT;
}

static int
exempt_list(struct ctx *x)
{
	static const uint8_t kinds[] = { REC_EXEMPT, REC_NODELAY };
	struct store *s;
	struct err e;
	size_t i, n = 0;
	int ret = 0;

	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	for (i = 0; i < sizeof(kinds) && ret == 0; i++)
		ret = store_scan(s, &kinds[i], 1, 1000, exempt_list_fn, &n, &e);
	store_close(s);
	if (ret == -1)
		return cmd_error("exempt: %s", e.msg);
	return n > 0 ? 0 : 1;
}

int
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
