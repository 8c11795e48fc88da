/* The greylisting decision: exemptions, then the stored triplet and the
 * auto-whitelisted tuplet, updated in one transaction. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ident.h"
#include "policy.h"
#include "record.h"
#include "user.h"

static const char *reason_names[] = {
	"new", "early", "restart", "delayed", "known", "awl", "no_delay",
	"exempt", "spf", "optout", "userwl"
};

const char *
policy_reason_name(enum reason r)
{
	return reason_names[r];
}

static int
policy_pass(struct decision *d, enum reason r, const char *rule)
{
	memset(d, 0, sizeof(*d));
	d->pass = 1;
	d->reason = r;
	snprintf(d->rule, sizeof(d->rule), "%s", rule);
	return 1;
}

int
policy_exempt(const struct conf *c, const struct tuple *t, const char *spf,
    struct decision *d)
{
	char dom[ADDR_MAX + 2];
	size_t i;

	for (i = 0; i < c->no_delay.n; i++)
		if (addr_in_cidr(&t->addr, &c->no_delay.v[i]))
			return policy_pass(d, R_NODELAY,
			    c->no_delay_text.v[i]);
	if (t->sender[0] != '\0' && strlist_has(&c->exempt, t->sender))
		return policy_pass(d, R_EXEMPT, t->sender);
	if (t->sender_domain[0] != '\0') {
		snprintf(dom, sizeof(dom), "@%s", t->sender_domain);
		if (strlist_has(&c->exempt, dom))
			return policy_pass(d, R_EXEMPT, dom);
	}
	if (c->spf_bypass && spf != NULL && strcasecmp(spf, "pass") == 0)
		return policy_pass(d, R_SPF, "");
	return 0;
}

static enum counter
policy_counter(const struct decision *d)
{
	switch (d->reason) {
	case R_DELAYED:
		return CNT_PASSED_DELAY;
	case R_KNOWN:
		return CNT_PASSED_KNOWN;
	case R_AWL:
		return CNT_PASSED_AWL;
	case R_NODELAY:
	case R_EXEMPT:
	case R_SPF:
		return CNT_EXEMPT;
	case R_OPTOUT:
		return CNT_OPTOUT;
	case R_USERWL:
		return CNT_USERWL;
	default:
		return CNT_DEFERRED;
	}
}

/* Reads the record at key into r; a missing or undecodable one reads as
 * kind 0, so that a damaged entry is replaced rather than blocking mail.
 * -2 = retry, -1 = error, 0 = done. */
static int
policy_get(struct store *s, const uint8_t *key, size_t klen,
    struct record *r, struct err *e)
{
	uint8_t val[REC_MAX];
	size_t vlen = sizeof(val);
	int ret;

	ret = store_get(s, key, klen, val, &vlen, 1, e);
	if (ret < 0)
		return ret;
	if (ret == 0 || record_decode(val, vlen, r) == -1 ||
	    r->kind != record_key_kind(key, klen))
		memset(r, 0, sizeof(*r));
	return 0;
}

/* Stores r (a triplet or tuplet) at key. -2 = retry, -1 = error,
 * 0 = stored. */
static int
policy_put(struct store *s, const struct conf *c, const uint8_t *key,
    size_t klen, struct record *r, int64_t now, struct err *e)
{
	uint8_t val[REC_MAX];

	r->kind = record_key_kind(key, klen);
	return store_put(s, key, klen, val, record_encode(r, val),
	    entry_ttl(c, r, now), record_flags(r->kind), e);
}

/* Adds one to the counter of d in a shard picked by process. */
static int
policy_bump(struct store *s, const struct decision *d, struct err *e)
{
	uint64_t add[CNT_N];

	memset(add, 0, sizeof(add));
	add[policy_counter(d)] = 1;
	return entry_count_add(s, (unsigned)getpid(), add, e);
}

/* The domain of t's tuplet: NULL_SENDER stands for the null sender, so
 * that its whitelisting does not cover senders without a domain. */
static const char *
policy_domain(const struct tuple *t)
{
	return t->sender[0] == '\0' ? NULL_SENDER : t->sender_domain;
}

/* Marks the tuplet at key, whose stored record is w (kind 0 = none), used
 * at now, starting it anew if missing or expired. */
static int
policy_mark(struct store *s, const struct conf *c, const uint8_t *key,
    size_t klen, struct record *w, int64_t now, struct err *e)
{
	if (w->kind == ENTRY_NONE || entry_expiry(c, w) < now) {
		memset(w, 0, sizeof(*w));
		w->first = now;
	}
	w->last = now > w->last ? now : w->last;
	w->passes++;
	return policy_put(s, c, key, klen, w, now, e);
}

/* Marks the tuplet of t used at now (policy_mark after reading it). */
static int
policy_whitelist(struct store *s, const struct conf *c, const struct tuple *t,
    int64_t now, struct err *e)
{
	uint8_t key[KEY_MAX];
	size_t klen = record_key_tuplet(t->client, policy_domain(t), key);
	struct record w;
	int ret;

	if ((ret = policy_get(s, key, klen, &w, e)) != 0)
		return ret;
	return policy_mark(s, c, key, klen, &w, now, e);
}

/* 1 = a pending triplet r retried at now may pass, 0 = not. */
static int
policy_due(const struct conf *c, const struct record *r, int64_t now)
{
	int64_t age = now - r->first;

	return r->kind != ENTRY_NONE && r->passed == 0 &&
	    age >= c->embargo && entry_expiry(c, r) >= now;
}

/* The decision on a triplet record r (kind 0 = none) that neither passed
 * before nor is whitelisted by its tuplet; updates r. */
static void
policy_triplet(const struct conf *c, struct record *r, int64_t now,
    struct decision *d)
{
	int64_t age = now - r->first;

	memset(d, 0, sizeof(*d));
	if (policy_due(c, r, now)) {
		d->pass = 1;
		d->reason = R_DELAYED;
		d->delay = age;
		r->passed = now;
		r->passes++;
	} else if (r->kind != 0 && r->passed == 0 && age >= 0 &&
	    age < c->embargo) {
		d->reason = R_EARLY;
		d->retry = c->embargo - age;
		r->blocked++;
	} else {
		d->reason = r->kind != 0 ? R_RESTART : R_NEW;
		d->retry = c->embargo;
		memset(r, 0, sizeof(*r));
		r->first = now;
		r->blocked = 1;
	}
	r->last = now > r->last ? now : r->last;
}

struct nodelay_arg {
	const struct tuple *t;
	struct decision *d;
	int	 found;
};

/* Looks for the client among the stored no_delay networks. */
static int
policy_nodelay_fn(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct nodelay_arg *a = arg;
	struct entry en;
	struct cidr c;

	if (entry_decode(key, klen, val, vlen, &en) == -1 ||
	    addr_parse_cidr(en.text, &c) == -1 ||
	    !addr_in_cidr(&a->t->addr, &c))
		return SCAN_NEXT;
	a->found = policy_pass(a->d, R_NODELAY, en.text);
	return SCAN_STOP;
}

/* 1 = key exists, 0 = not, -2/-1 = retry/error. */
static int
policy_has(struct store *s, int kind, const char *text, struct err *e)
{
	uint8_t key[KEY_MAX], val[REC_MAX];
	size_t vlen = sizeof(val);

	return store_get(s, key, record_key_exempt(kind, text, key), val,
	    &vlen, 0, e);
}

/* The recipient's settings from DIR/users/LOGIN, read without a lock. An
 * odd file counts as none, never as an error: d->warn says why.
 * 0 = neither, 1 = pass (d filled). */
static int
policy_user_file(const struct conf *c, const struct tuple *t,
    const char *login, struct decision *d)
{
	char dom[ADDR_MAX + 2];
	struct err e;
	int off, listed;

	snprintf(dom, sizeof(dom), "@%s", t->sender_domain);
	if (userfile_match(c->database, login, t->sender, dom, &off, &listed,
	    &e) == -1) {
		snprintf(d->warn, sizeof(d->warn), "%s", e.msg);
		return 0;
	}
	if (off)
		return policy_pass(d, R_OPTOUT, login);
	return listed ? policy_pass(d, R_USERWL, login) : 0;
}

/* The recipient's own settings: opted out, or the sender on the personal
 * whitelist. -2 = retry, -1 = error, 0 = neither, 1 = pass (d filled). */
static int
policy_user(struct store *s, const struct conf *c, const struct tuple *t,
    struct decision *d, struct err *e)
{
	uint8_t key[KEY_MAX], val[REC_MAX];
	char login[LOGIN_MAX + 2], dom[ADDR_MAX + 2];
	size_t vlen = sizeof(val);
	struct record r;
	int ret;

	if (strchr(t->rcpt, '@') != NULL &&
	    !conf_is_local_domain(c, tuple_domain(t->rcpt)))
		return 0;
	tuple_local(t->rcpt, login, sizeof(login));
	if (!user_login_ok(login))
		return 0;
	if (c->backend == BACKEND_BDB &&
	    userfile_state(c->database) == USERS_READY)
		return policy_user_file(c, t, login, d);
	ret = store_get(s, key, record_key_user(login, key), val, &vlen, 0, e);
	if (ret < 0)
		return ret;
	if (ret == 1 && record_decode(val, vlen, &r) == 0 &&
	    (r.flags & USER_OFF))
		return policy_pass(d, R_OPTOUT, login);
	if (ret == 0 || r.passes == 0 || t->sender[0] == '\0')
		return 0;
	snprintf(dom, sizeof(dom), "@%s", t->sender_domain);
	vlen = sizeof(val);
	if ((ret = store_get(s, key, record_key_userwl(login, t->sender, key),
	    val, &vlen, 0, e)) == 0 && t->sender_domain[0] != '\0') {
		vlen = sizeof(val);
		ret = store_get(s, key, record_key_userwl(login, dom, key), val,
		    &vlen, 0, e);
	}
	return ret <= 0 ? ret : policy_pass(d, R_USERWL, login);
}

/* Exemptions kept in the database (greylist exempt add).
 * -2 = retry, -1 = error, 0 = none, 1 = exempt (d filled). */
static int
policy_stored(struct store *s, const struct conf *c, const struct tuple *t,
    struct decision *d, struct err *e)
{
	struct nodelay_arg a = { t, d, 0 };
	char dom[ADDR_MAX + 2];
	uint8_t prefix[1];
	size_t plen = record_key_prefix(ENTRY_NODELAY, prefix);
	int ret;

	if (t->sender[0] != '\0' &&
	    (ret = policy_has(s, ENTRY_EXEMPT, t->sender, e)) != 0)
		return ret < 0 ? ret : policy_pass(d, R_EXEMPT, t->sender);
	snprintf(dom, sizeof(dom), "@%s", t->sender_domain);
	if (t->sender_domain[0] != '\0' &&
	    (ret = policy_has(s, ENTRY_EXEMPT, dom, e)) != 0)
		return ret < 0 ? ret : policy_pass(d, R_EXEMPT, dom);
	if ((ret = store_each(s, prefix, plen, record_flags(ENTRY_NODELAY),
	    policy_nodelay_fn, &a, e)) != 0)
		return ret;
	return a.found ? 1 : policy_user(s, c, t, d, e);
}

/* An entry as policy_find found it: its key, its record (kind 0 = none)
 * and the client identity it is stored under. */
struct found {
	uint8_t	 key[KEY_MAX];
	size_t	 klen;
	struct record r;
	const char *client;
};

/* 1 = r (a triplet or tuplet, kind 0 = none) has not expired at now. */
static int
policy_live(const struct conf *c, const struct record *r, int64_t now)
{
	return r->kind != ENTRY_NONE && entry_expiry(c, r) >= now;
}

/* Reads the triplet or tuplet (kind) of t under client into f.
 * -2 = retry, -1 = error, 0 = done. */
static int
policy_read(struct store *s, const struct tuple *t, int kind,
    const char *client, struct found *f, struct err *e)
{
	f->client = client;
	f->klen = kind == ENTRY_TRIPLET ?
	    record_key_triplet_of(client, t->sender, t->rcpt, f->key) :
	    record_key_tuplet(client, policy_domain(t), f->key);
	return policy_get(s, f->key, f->klen, &f->r, e);
}

/* Reads the triplet or tuplet (kind) of t into f: the one under t's
 * identity, unless that has expired and the one under t's network (from
 * before client_identity, or from an attempt whose host name the MTA did
 * not give) has not. -2 = retry, -1 = error, 0 = done. */
static int
policy_find(struct store *s, const struct conf *c, const struct tuple *t,
    int kind, int64_t now, struct found *f, struct err *e)
{
	struct found g;
	int ret;

	if ((ret = policy_read(s, t, kind, t->client, f, e)) != 0 ||
	    policy_live(c, &f->r, now) || strcmp(t->client, t->net) == 0)
		return ret;
	if ((ret = policy_read(s, t, kind, t->net, &g, e)) != 0)
		return ret;
	if (policy_live(c, &g.r, now))
		*f = g;
	return 0;
}

/* The decision from the triplet, in the order: passed before, due,
 * tuplet whitelisted, defer. -2 = retry, -1 = error, 0 = done. */
static int
policy_decide(struct store *s, const struct conf *c, const struct tuple *t,
    int64_t now, struct decision *d, struct err *e)
{
	struct found tf, wf;
	int ret;

	if ((ret = policy_find(s, c, t, ENTRY_TRIPLET, now, &tf, e)) != 0)
		return ret;
	if (tf.r.kind != ENTRY_NONE && tf.r.passed != 0 &&
	    entry_expiry(c, &tf.r) >= now) {
		policy_pass(d, R_KNOWN, "");
		tf.r.last = now > tf.r.last ? now : tf.r.last;
		tf.r.passes++;
	} else {
		if (!policy_due(c, &tf.r, now)) {
			if ((ret = policy_find(s, c, t, ENTRY_TUPLET, now, &wf,
			    e)) != 0)
				return ret;
			if (policy_live(c, &wf.r, now)) {
				policy_pass(d, R_AWL, "");
				snprintf(d->client, sizeof(d->client), "%s",
				    wf.client);
				return policy_mark(s, c, wf.key, wf.klen,
				    &wf.r, now, e);
			}
		}
		policy_triplet(c, &tf.r, now, d);
	}
	snprintf(d->client, sizeof(d->client), "%s", tf.client);
	if ((ret = policy_put(s, c, tf.key, tf.klen, &tf.r, now, e)) != 0)
		return ret;
	return d->pass ? policy_whitelist(s, c, t, now, e) : 0;
}

/* One attempt at the whole decision: stored exemptions and the
 * recipient's settings first. -2 = retry, -1 = error, 0 = done. */
static int
policy_txn(struct store *s, const struct conf *c, const struct tuple *t,
    int64_t now, struct decision *d, struct err *e)
{
	char warn[sizeof(d->warn)];
	int ret;

	d->warn[0] = '\0';
	if ((ret = policy_stored(s, c, t, d, e)) != 0)
		return ret < 0 ? ret : 0;
	memcpy(warn, d->warn, sizeof(warn));
	ret = policy_decide(s, c, t, now, d, e);
	memcpy(d->warn, warn, sizeof(warn));
	return ret;
}

struct policy_args {
	const struct conf *c;
	const struct tuple *t;
	int64_t	 now;
	struct decision *d;
};

static int
policy_check_fn(struct store *s, void *arg, struct err *e)
{
	struct policy_args *a = arg;
	int ret;

	if ((ret = policy_txn(s, a->c, a->t, a->now, a->d, e)) != 0)
		return ret;
	return policy_bump(s, a->d, e);
}

int
policy_check(struct store *s, const struct conf *c, const struct tuple *t,
    int64_t now, struct decision *d, struct err *e)
{
	struct policy_args a = { c, t, now, d };

	return store_run(s, policy_check_fn, &a, e);
}

int
policy_trial(struct store *s, const struct conf *c, const struct tuple *t,
    int64_t now, struct decision *d, struct err *e)
{
	int ret;

	if (store_begin(s, e) != 0)
		return -1;
	ret = policy_txn(s, c, t, now, d, e);
	if (ret == 0)
		ret = policy_bump(s, d, e);
	store_abort(s);
	if (ret == STORE_RETRY)
		return err_set(e, "conflict with another process");
	return ret == 0 ? 0 : -1;
}

static int
policy_count_fn(struct store *s, void *arg, struct err *e)
{
	return policy_bump(s, arg, e);
}

int
policy_count(struct store *s, const struct decision *d, struct err *e)
{
	return store_run(s, policy_count_fn, (void *)(uintptr_t)d, e);
}

static int
policy_force_fn(struct store *s, void *arg, struct err *e)
{
	struct policy_args *a = arg;
	uint8_t key[KEY_MAX];
	size_t klen = record_key_triplet(a->t, key);
	struct record r;
	int ret;

	if ((ret = policy_get(s, key, klen, &r, e)) != 0)
		return ret;
	if (r.kind == 0)
		r.first = a->now;
	if (r.passed == 0)
		r.passed = a->now;
	r.last = a->now > r.last ? a->now : r.last;
	r.passes++;
	if ((ret = policy_put(s, a->c, key, klen, &r, a->now, e)) != 0)
		return ret;
	return policy_whitelist(s, a->c, a->t, a->now, e);
}

int
policy_force_pass(struct store *s, const struct conf *c,
    const struct tuple *t, int64_t now, struct err *e)
{
	struct policy_args a = { c, t, now, NULL };

	return store_run(s, policy_force_fn, &a, e);
}

struct revoke_args {
	const char *domain;
	uint8_t	 key[KEY_MAX];
	size_t	 klen;
	size_t	 n;
	int	 deleted;	/* the tuplet: 1 = deleted, 0 = none */
};

static int
policy_revoke_fn(struct store *s, void *arg, struct err *e)
{
	struct revoke_args *a = arg;
	int ret;

	if ((ret = store_del(s, a->key, a->klen, e)) < 0)
		return ret;
	a->deleted = ret;
	return 0;
}

static int
policy_revoke_scan(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct revoke_args *a = arg;
	struct entry en;
	const char *dom;

	if (entry_decode(key, klen, val, vlen, &en) == -1 || en.r.passed == 0)
		return SCAN_NEXT;
	dom = entry_sender_domain(en.sender);
	if (strcmp(dom, a->domain) != 0)
		return SCAN_NEXT;
	a->n++;
	return SCAN_DELETE;
}

/* Revokes the tuplet of client and a->domain and the passed triplets of
 * them, adding their number to a->n. -1 = error, 0 = done. */
static int
policy_revoke_client(struct store *s, const char *client,
    struct revoke_args *a, struct err *e)
{
	a->klen = record_key_tuplet(client, a->domain, a->key);
	a->deleted = 0;
	if (store_run(s, policy_revoke_fn, a, e) == -1)
		return -1;
	a->n += (size_t)a->deleted;
	a->klen = record_key_triplets_of(client, a->key);
	return store_scan(s, a->key, a->klen, record_flags(ENTRY_TRIPLET),
	    SCAN_BATCH_WRITE, policy_revoke_scan, a, e);
}

int
policy_revoke(struct store *s, const struct tuple *t, size_t *n,
    struct err *e)
{
	struct revoke_args a;

	a.domain = policy_domain(t);
	a.n = 0;
	if (policy_revoke_client(s, t->client, &a, e) == -1 ||
	    (strcmp(t->client, t->net) != 0 &&
	    policy_revoke_client(s, t->net, &a, e) == -1))
		return -1;
	*n = a.n;
	return 0;
}

/* Appends the expansion of template tpl for d to out. */
static void
policy_reply(const char *tpl, const struct tuple *t,
    const struct decision *d, char *out, size_t outlen)
{
	size_t n = 0;
	int w;

	for (; *tpl != '\0' && n + 1 < outlen; tpl++) {
		if (*tpl != '%' || tpl[1] == '\0') {
			out[n++] = *tpl;
			continue;
		}
		switch (*++tpl) {
		case 'r':
			w = entry_hms(d->retry, out + n, outlen - n);
			break;
		case 's':
			w = snprintf(out + n, outlen - n, "%lld",
			    (long long)d->retry);
			break;
		case 'n':
			w = snprintf(out + n, outlen - n, "%s", t->net);
			break;
		case 'd':
			w = snprintf(out + n, outlen - n, "%s",
			    t->sender_domain);
			break;
		default:
			w = snprintf(out + n, outlen - n, "%c", *tpl);
			break;
		}
		if (w < 0 || (size_t)w >= outlen - n)
			break;
		n += (size_t)w;
	}
	out[n] = '\0';
}

void
policy_format(const struct conf *c, const struct tuple *t,
    const struct decision *d, char *out, size_t outlen)
{
	const char *h = c->header;
	int net = ident_kind(d->client) == IDENT_NET;

	switch (d->pass ? d->reason : R_NEW) {
	case R_DELAYED:
		snprintf(out, outlen, "%s: delayed %lld seconds%s%s%s", h,
		    (long long)d->delay, net ? "" : " (", net ? "" : d->client,
		    net ? "" : ")");
		break;
	case R_KNOWN:
		snprintf(out, outlen, "%s: auto-whitelisted "
		    "(passed before%s%s)", h, net ? "" : ", ",
		    net ? "" : d->client);
		break;
	case R_AWL:
		if (ident_kind(d->client) == IDENT_SPF)
			snprintf(out, outlen, "%s: auto-whitelisted (%s)", h,
			    d->client);
		else
			snprintf(out, outlen, "%s: auto-whitelisted (%s, %s)",
			    h, net ? t->net : d->client, policy_domain(t));
		break;
	case R_NODELAY:
		snprintf(out, outlen, "%s: exempt (no_delay %s)", h, d->rule);
		break;
	case R_EXEMPT:
		snprintf(out, outlen, "%s: exempt (sender %s)", h, d->rule);
		break;
	case R_SPF:
		snprintf(out, outlen, "%s: exempt (SPF pass)", h);
		break;
	case R_OPTOUT:
		snprintf(out, outlen, "%s: opted out", h);
		break;
	case R_USERWL:
		snprintf(out, outlen, "%s: personal whitelist", h);
		break;
	default:
		policy_reply(c->reply, t, d, out, outlen);
		break;
	}
}
