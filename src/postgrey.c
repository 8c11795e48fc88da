/* greylist import --postgrey: the triplets of a postgrey database
 * (postgrey_db in its dbdir: "NET/SENDER/RECIPIENT" = "FIRST,LAST"), read
 * with Berkeley DB's own API, as import entries. */
#include <db.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "import.h"
#include "tuple.h"

#define POSTGREY_NET	24	/* bits of postgrey's "a.b.c" client form */

static char postgrey_dberr[256];

static void
postgrey_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	(void)pfx;
	snprintf(postgrey_dberr, sizeof(postgrey_dberr), "%s", msg);
}

/* Copies a postgrey key or value into out (len bytes) as a string; a
 * trailing NUL is allowed. -1 = too long or holds a NUL, 0 = done. */
static int
postgrey_str(const DBT *d, char *out, size_t len)
{
	size_t n = d->size;

	if (n > 0 && ((const char *)d->data)[n - 1] == '\0')
		n--;
	if (n >= len || memchr(d->data, '\0', n) != NULL)
		return -1;
	memcpy(out, d->data, n);
	out[n] = '\0';
	return 0;
}

/* 1 = s is postgrey's subnet form "a.b.c", 0 = not. */
static int
postgrey_subnet(const char *s)
{
	int i, dots = 0, digits = 0, v = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.' && digits > 0 && dots < 2) {
			dots++;
			digits = v = 0;
		} else if (s[i] >= '0' && s[i] <= '9' && digits < 3 &&
		    (v = v * 10 + s[i] - '0') <= 255)
			digits++;
		else
			return 0;
	}
	return dots == 2 && digits > 0;
}

/* Parses "FIRST,LAST" (epoch seconds, FIRST <= LAST <= ENTRY_TIME_MAX).
 * -1 = malformed. */
static int
postgrey_times(const char *s, int64_t *first, int64_t *last)
{
	int64_t v[2] = { 0, 0 };
	int i = 0, digits = 0;

	for (; *s != '\0'; s++) {
		if (*s == ',' && i == 0 && digits > 0) {
			i = 1;
			digits = 0;
		} else if (*s >= '0' && *s <= '9' && digits < 18) {
			v[i] = v[i] * 10 + (*s - '0');
			digits++;
		} else
			return -1;
	}
	if (i != 1 || digits == 0 || v[0] > v[1] || v[1] > ENTRY_TIME_MAX)
		return -1;
	*first = v[0];
	*last = v[1];
	return 0;
}

/* Turns one postgrey record "NET/SENDER/RECIPIENT" = "FIRST,LAST" into a
 * triplet in set, or counts it as skipped. -1 = out of memory, 0 = done. */
static int
postgrey_record(const struct conf *c, const DBT *k, const DBT *v,
    struct import_set *set, struct err *e)
{
	char kbuf[ADDR_NET_MAX + 2 * ADDR_MAX + 3], vbuf[64], ip[ADDR_NET_MAX];
	char *sender, *rcpt;
	struct entry en;
	struct record *r = &en.r;
	struct tuple t;
	const char *why;
	int subnet;

	memset(&en, 0, sizeof(en));
	if (postgrey_str(k, kbuf, sizeof(kbuf)) == -1 ||
	    postgrey_str(v, vbuf, sizeof(vbuf)) == -1 ||
	    postgrey_times(vbuf, &r->first, &r->last) == -1 ||
	    (sender = strchr(kbuf, '/')) == NULL ||
	    (rcpt = strrchr(kbuf, '/')) == sender)
		goto skip;
	*sender++ = '\0';
	*rcpt++ = '\0';
	subnet = postgrey_subnet(kbuf);
	if ((size_t)snprintf(ip, sizeof(ip), "%s%s", kbuf,
	    subnet ? ".0" : "") >= sizeof(ip) ||
	    tuple_make(&t, ip, sender, rcpt, c->ipv4_prefix, c->ipv6_prefix,
	    c->normalize_verp, &why) == -1)
		goto skip;
	if (subnet)
		addr_network(ip, c->ipv4_prefix < POSTGREY_NET ?
		    c->ipv4_prefix : POSTGREY_NET, c->ipv6_prefix, t.net,
		    sizeof(t.net));
	en.kind = r->kind = ENTRY_TRIPLET;
	snprintf(en.net, sizeof(en.net), "%s", t.net);
	snprintf(en.sender, sizeof(en.sender), "%s", t.sender);
	snprintf(en.rcpt, sizeof(en.rcpt), "%s", t.rcpt);
	r->passed = r->last - r->first >= c->embargo ? r->last : 0;
	r->blocked = 1;
	r->passes = r->passed != 0;
	return entry_list_add(&set->list, &en, e);
skip:
	set->skipped++;
	return 0;
}

int
postgrey_read(const struct conf *c, const char *file, struct import_set *set,
    struct err *e)
{
	DB *db;
	DBC *cur;
	DBT k, v;
	int ret;

	if ((ret = db_create(&db, NULL, 0)) != 0)
		return err_set(e, "%s: %s", file, db_strerror(ret));
	db->set_errcall(db, postgrey_errcall);
	if ((ret = db->open(db, NULL, file, NULL, DB_UNKNOWN, DB_RDONLY,
	    0)) != 0 || (ret = db->cursor(db, NULL, &cur, 0)) != 0) {
		db->close(db, 0);
		if (ret == ENOENT || ret == EACCES)
			return err_set(e, "%s: %s", file, strerror(ret));
		return err_set(e, "%s: not a readable Berkeley DB database%s%s",
		    file, postgrey_dberr[0] != '\0' ? ": " : "",
		    postgrey_dberr);
	}
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while ((ret = cur->get(cur, &k, &v, DB_NEXT)) == 0)
		if (postgrey_record(c, &k, &v, set, e) == -1)
			break;
	cur->close(cur);
	db->close(db, 0);
	if (ret == 0)
		return -1;	/* out of memory, e set */
	if (ret != DB_NOTFOUND)
		return err_set(e, "%s: %s", file, db_strerror(ret));
	return 0;
}
