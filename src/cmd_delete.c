/* greylist delete: removes the triplets and tuplets a filter selects. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "cmd.h"
#include "entry.h"
#include "filter.h"
#include "priv.h"
#include "store.h"

struct delete_state {
	struct filter f;
	size_t	 n;
};

static int
delete_fn(const struct entry *en, void *arg)
{
	struct delete_state *st = arg;

	if (!filter_match(&st->f, en))
		return SCAN_NEXT;
	st->n++;
	return SCAN_DELETE;
}

static int
cmd_delete(struct ctx *x, int argc, char **argv)
{
	static const int kinds[] = { ENTRY_TRIPLET, ENTRY_TUPLET };
	struct delete_state st;
	struct store *s;
	struct err e;
	int ret;

	memset(&st, 0, sizeof(st));
	if (filter_parse(x, argc, argv, 0, &st.f) != 0)
		return EXIT_ERROR;
	if (st.f.n == 0)
		return cmd_error("delete: give at least one of --state, --ip, "
		    "--sender, --rcpt, --domain, --client");
	if ((s = cmd_open(x)) == NULL)
		return EXIT_ERROR;
	ret = entry_scan(s, NULL, kinds, 2, SCAN_BATCH_WRITE, delete_fn, &st,
	    NULL, &e);
	store_close(s);
	if (ret == -1)
		return cmd_error("delete: %s", e.msg);
	if (st.n > 0)
		cmd_log(x, LOG_INFO, "delete: %zu entries by admin", st.n);
	printf("deleted %zu\n", st.n);
	return st.n > 0 ? 0 : 1;
}

const struct cmd_entry cmd_delete_entry = {
	"delete", PRIV_ADMIN, cmd_delete,
	"delete [--state=STATE] [--ip=IP] [--sender=ADDR] "
	    "[--rcpt=ADDR] [--domain=DOMAIN] [--client=ID]"
};
