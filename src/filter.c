/* Selectors shared by list and delete. */
#include <getopt.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "policy.h"

/* -1 = not a state list shows (all but counters and meta), 0 = one. */
static int
filter_state(const char *s)
{
	const char *name;
	int i;

	for (i = 0; (name = entry_state_name(i)) != NULL; i++)
		if (strcmp(name, s) == 0)
			return strcmp(s, "counters") == 0 ||
			    strcmp(s, "meta") == 0 ? -1 : 0;
	return -1;
}

/* Handles one selector option. EXIT_ERROR = bad value (printed),
 * 0 = taken. */
static int
filter_opt(struct filter *f, int ch, const char *arg)
{
	const char *why;
	size_t i;

	f->n++;
	switch (ch) {
	case 'S':
		f->state = arg;
		return filter_state(arg) == -1 ?
		    cmd_error("--state: unknown state '%s'", arg) : 0;
	case 'i':
		f->has_ip = 1;
		return addr_parse(arg, &f->ip) == -1 ?
		    cmd_error("--ip: malformed address '%s'", arg) : 0;
	case 's':
		f->has_sender = 1;
		return tuple_addr(arg, TUPLE_SENDER, f->verp, f->sender,
		    &why) == -1 ?
		    cmd_error("--sender: %s", why) : 0;
	case 'r':
		return tuple_addr(arg, TUPLE_RCPT, 0, f->rcpt, &why) == -1 ?
		    cmd_error("--rcpt: %s", why) : 0;
	case 'C':
		if (strlen(arg) >= sizeof(f->client) || arg[0] == '\0')
			return cmd_error("--client: bad client identity");
		for (i = 0; i <= strlen(arg); i++)
			f->client[i] = (char)addr_lower(arg[i]);
		return 0;
	}
	if (strlen(arg) >= sizeof(f->domain) || arg[0] == '\0')
		return cmd_error("--domain: bad domain");
	for (i = 0; i <= strlen(arg); i++)
		f->domain[i] = (char)addr_lower(arg[i]);
	return 0;
}

int
filter_parse(struct ctx *x, int argc, char **argv, int csv, struct filter *f)
{
	static const struct option opts[] = {
		{ "csv", no_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 'S' },
		{ "ip", required_argument, NULL, 'i' },
		{ "sender", required_argument, NULL, 's' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "domain", required_argument, NULL, 'd' },
		{ "client", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(f, 0, sizeof(*f));
	f->verp = x->conf.normalize_verp;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'c' && csv)
			f->csv = 1;
		else if (ch == '?' || ch == 'c')
			return cmd_error("%s: unknown option or missing value "
			    "'%s'", argv[0], argv[optind - 1]);
		else if (filter_opt(f, ch, optarg) != 0)
			return EXIT_ERROR;
	}
	if (optind < argc)
		return cmd_error("%s: unexpected argument '%s'", argv[0],
		    argv[optind]);
	return 0;
}

static int
filter_ip(const struct filter *f, const struct entry *en)
{
	struct cidr c;

	if (en->kind == ENTRY_EXEMPT)
		return 0;
	if (addr_parse_cidr(en->kind == ENTRY_NODELAY ? en->text : en->net,
	    &c) == -1)
		return 0;
	return addr_in_cidr(&f->ip, &c);
}

static int
filter_sender(const struct filter *f, const struct entry *en)
{
	switch (en->kind) {
	case ENTRY_TRIPLET:
		return strcmp(en->sender, f->sender) == 0;
	case ENTRY_EXEMPT:
		return strcmp(en->text, f->sender) == 0;
	}
	return 0;
}

static int
filter_dom(const struct filter *f, const struct entry *en)
{
	switch (en->kind) {
	case ENTRY_TRIPLET:
		return strcasecmp(entry_sender_domain(en->sender), f->domain) == 0;
	case ENTRY_TUPLET:
		return strcasecmp(en->domain, f->domain) == 0;
	case ENTRY_EXEMPT:
		return strcasecmp(en->text[0] == '@' ? en->text + 1 :
		    tuple_domain(en->text), f->domain) == 0;
	}
	return 0;
}

/* A triplet to the recipient, or the settings of the user whose login
 * is the recipient's local part. */
static int
filter_rcpt(const struct filter *f, const struct entry *en)
{
	char local[ADDR_MAX + 1];

	if (en->kind == ENTRY_TRIPLET)
		return strcmp(en->rcpt, f->rcpt) == 0;
	if (en->kind != ENTRY_USER && en->kind != ENTRY_USERWL)
		return 0;
	tuple_local(f->rcpt, local, sizeof(local));
	return strcmp(local, en->login) == 0;
}

int
filter_match(const struct filter *f, const struct entry *en)
{
	if (en->kind == ENTRY_COUNTERS || en->kind == ENTRY_META)
		return 0;
	if (f->state != NULL && strcmp(entry_state(en), f->state) != 0)
		return 0;
	if (f->has_ip && !filter_ip(f, en))
		return 0;
	if (f->has_sender && !filter_sender(f, en))
		return 0;
	if (f->rcpt[0] != '\0' && !filter_rcpt(f, en))
		return 0;
	if (f->domain[0] != '\0' && !filter_dom(f, en))
		return 0;
	if (f->client[0] != '\0' && ((en->kind != ENTRY_TRIPLET &&
	    en->kind != ENTRY_TUPLET) || strcmp(en->net, f->client) != 0))
		return 0;
	return 1;
}
