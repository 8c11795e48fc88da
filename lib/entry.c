/* The typed entry layer over the store: what the commands ask of the
 * database, in entries; keys and values are lib/record.c's business. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "record.h"
#include "user.h"

static const char *entry_counters[CNT_N] = {
	"deferred", "passed_delay", "passed_awl", "passed_known", "exempt",
	"opted_out", "personal_whitelist", "spare"
};

const char *
entry_counter_name(int i)
{
	return i >= 0 && i < CNT_N ? entry_counters[i] : NULL;
}

int64_t
entry_expiry(const struct conf *c, const struct record *r)
{
	if (r->kind == ENTRY_TRIPLET && r->passed == 0)
		return r->first + c->retry_window;
	if (r->kind == ENTRY_TRIPLET || r->kind == ENTRY_TUPLET)
		return r->last + c->whitelist_lifetime;
	return 0;
}

int64_t
entry_ttl(const struct conf *c, const struct record *r, int64_t now)
{
	int64_t end = entry_expiry(c, r);

	if (end == 0)
		return 0;
	return end > now ? end - now : 1;
}

/* By entry_state_of: pending, then by kind from ENTRY_TRIPLET on. */
static const char *entry_states[ENTRY_NKINDS + 1] = {
	"pending", "passed", "whitelisted", "exempt", "no_delay", "user",
	"userwl", "counters", "meta", NULL
};

int
entry_state_of(const struct entry *en)
{
	if (en->kind == ENTRY_TRIPLET && en->r.passed == 0)
		return 0;
	return en->kind > ENTRY_NONE && en->kind < ENTRY_NKINDS ? en->kind :
	    ENTRY_META;
}

const char *
entry_state_name(int i)
{
	return i >= 0 && i < ENTRY_NKINDS ? entry_states[i] : NULL;
}

const char *
entry_state(const struct entry *en)
{
	return entry_states[entry_state_of(en)];
}

const char *
entry_sender_domain(const char *sender)
{
	return sender[0] == '\0' ? NULL_SENDER : tuple_domain(sender);
}

void
entry_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	buf[0] = '\0';
	if (localtime_r(&tt, &tm) != NULL)
		strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

int
entry_hms(int64_t secs, char *buf, size_t len)
{
	return snprintf(buf, len, "%02lld:%02lld:%02lld", (long long)(secs / 3600),
	    (long long)(secs / 60 % 60), (long long)(secs % 60));
}

/* Adapts an entry_fn to a store_scan_fn. */
struct entry_scan_args {
	entry_fn fn;
	void	*arg;
	size_t	*corrupt;
	int	 peek;		/* store_peek: SCAN_DELETE means SCAN_NEXT */
	int	 stopped;	/* fn returned SCAN_STOP */
};

/* Calls a->fn, noting a stop. */
static int
entry_call(const struct entry *en, void *arg)
{
	struct entry_scan_args *a = arg;
	int ret = a->fn(en, a->arg);

	if (ret == SCAN_STOP)
		a->stopped = 1;
	return a->peek && ret == SCAN_DELETE ? SCAN_NEXT : ret;
}

static int
entry_scan_fn(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct entry_scan_args *a = arg;
	struct entry en;

	if (entry_decode(key, klen, val, vlen, &en) == -1) {
		if (a->corrupt != NULL)
			(*a->corrupt)++;
		return SCAN_NEXT;
	}
	return entry_call(&en, a);
}

int
entry_scan(struct store *s, const struct conf *c, const int *kinds,
    size_t n, size_t batch, entry_fn fn, void *arg, size_t *corrupt,
    struct err *e)
{
	struct entry_scan_args a = { fn, arg, corrupt, 0, 0 };
	uint8_t prefix[1];
	size_t i;
	int ret = 0;

	for (i = 0; i < n && ret == 0 && !a.stopped; i++)
		if ((kinds[i] == ENTRY_USER || kinds[i] == ENTRY_USERWL) &&
		    c != NULL && users_in_files(c))
			ret = userfile_scan(c->database, kinds[i], entry_call,
			    &a, e);
		else
			ret = store_scan(s, prefix, record_key_prefix(kinds[i],
			    prefix), record_flags(kinds[i]), batch,
			    entry_scan_fn, &a, e);
	return ret;
}

int
entry_peek(const struct conf *c, int kind, entry_fn fn, void *arg,
    void (*restart)(void *), int64_t *asof, struct err *e)
{
	struct entry_scan_args a = { fn, arg, NULL, 1, 0 };
	uint8_t prefix[1];
	size_t plen = record_key_prefix(kind, prefix);
	int ret, tries = 0;

	do {
		if (restart != NULL)
			restart(arg);
		ret = store_peek(c, prefix, plen, record_flags(kind),
		    entry_scan_fn, &a, asof, e);
	} while (store_again(ret, &tries, PEEK_TRIES));
	return ret == STORE_RETRY ? -1 : ret;	/* e says why */
}

int
entry_put(struct store *s, const struct conf *c, const struct entry *en,
    int64_t now, struct err *e)
{
	uint8_t key[KEY_MAX], val[REC_MAX];
	struct record r = en->r;

	r.kind = en->kind;
	return store_put(s, key, entry_key(en, key), val,
	    record_encode(&r, val), entry_ttl(c, &r, now),
	    record_flags(r.kind), e);
}

int
entry_del(struct store *s, const struct entry *en, struct err *e)
{
	uint8_t key[KEY_MAX];

	return store_del(s, key, entry_key(en, key), e);
}

int
entry_count_add(struct store *s, unsigned shard, const uint64_t *add,
    struct err *e)
{
	uint8_t key[KEY_MAX], val[REC_MAX];
	size_t klen = record_key_counters(shard, key), vlen = sizeof(val);
	struct record r;
	int i, ret;

	if ((ret = store_get(s, key, klen, val, &vlen, 1, e)) < 0)
		return ret;
	if (ret == 0 || record_decode(val, vlen, &r) == -1 ||
	    r.kind != ENTRY_COUNTERS) {
		memset(&r, 0, sizeof(r));
		r.kind = ENTRY_COUNTERS;
	}
	for (i = 0; i < CNT_N; i++)
		r.count[i] = r.count[i] > UINT64_MAX - add[i] ? UINT64_MAX :
		    r.count[i] + add[i];
	return store_put(s, key, klen, val, record_encode(&r, val), 0,
	    record_flags(ENTRY_COUNTERS), e);
}

static int
entry_wipe_fn(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	(void)val;
	(void)vlen;
	(void)arg;
	return record_key_kind(key, klen) == ENTRY_META ? SCAN_NEXT :
	    SCAN_DELETE;
}

int
entry_wipe(struct store *s, struct err *e)
{
	return store_scan(s, "", 0, STORE_INDEXED | STORE_EXPIRES,
	    SCAN_BATCH_WRITE, entry_wipe_fn, NULL, e);
}

int
entry_list_add(struct entry_list *l, const struct entry *en, struct err *e)
{
	uint8_t key[KEY_MAX], val[REC_MAX];
	struct record r = en->r;
	size_t klen, vlen;

	r.kind = en->kind;
	klen = entry_key(en, key);
	vlen = record_encode(&r, val);
	if (kvbuf_add(&l->kv, key, klen, val, vlen) == -1)
		return err_set(e, "%s", strerror(ENOMEM));
	return 0;
}

int
entry_list_next(const struct entry_list *l, size_t *off, struct entry *en)
{
	const void *k, *v;
	size_t klen, vlen;

	while (kvbuf_next(&l->kv, off, &k, &klen, &v, &vlen) == 0)
		if (entry_decode(k, klen, v, vlen, en) == 0)
			return 0;
	return -1;
}

void
entry_list_free(struct entry_list *l)
{
	kvbuf_free(&l->kv);
}
