/* The greylisting decision: exemptions, then the stored triplet and the
 * auto-whitelisted tuplet, updated in one transaction. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "policy.h"
#include "record.h"

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
	    r->kind != key[0])
		memset(r, 0, sizeof(*r));
	return 0;
}

static int
policy_put(struct store *s, const uint8_t *key, size_t klen,
    struct record *r, struct err *e)
{
	uint8_t val[REC_MAX];

	r->kind = key[0];
	return store_put(s, key, klen, val, record_encode(r, val), e);
}

/* Adds one to the counter of d in a shard picked by process. */
static int
policy_bump(struct store *s, const struct decision *d, struct err *e)
{
	uint8_t key[4];
	size_t klen = record_key_counters((unsigned)getpid(), key);
	struct record r;
	int ret;

	if ((ret = policy_get(s, key, klen, &r, e)) != 0)
		return ret;
	r.count[policy_counter(d)]++;
	return policy_put(s, key, klen, &r, e);
}

/* Marks the tuplet of t used at now, creating it if missing or expired. */
static int
policy_whitelist(struct store *s, const struct conf *c, const struct tuple *t,
    int64_t now, struct err *e)
{
	uint8_t key[KEY_MAX];
	size_t klen = record_key_tuplet(t->net, t->sender_domain, key);
	struct record w;
	int ret;

	if ((ret = policy_get(s, key, klen, &w, e)) != 0)
		return ret;
	if (w.kind == 0 || w.last + c->whitelist_lifetime <= now) {
		memset(&w, 0, sizeof(w));
		w.first = now;
	}
	w.last = now > w.last ? now : w.last;
	w.passes++;
	return policy_put(s, key, klen, &w, e);
}

/* 1 = a pending triplet r retried at now may pass, 0 = not. */
static int
policy_due(const struct conf *c, const struct record *r, int64_t now)
{
	int64_t age = now - r->first;

	return r->kind != 0 && r->passed == 0 && age >= c->embargo &&
	    age <= c->retry_window;
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

/* One attempt at the whole decision, in the order: triplet passed before,
 * triplet due, tuplet whitelisted, defer. -2 = retry, -1 = error,
 * 0 = done. */
static int
policy_txn(struct store *s, const struct conf *c, const struct tuple *t,
    int64_t now, struct decision *d, struct err *e)
{
	uint8_t tkey[KEY_MAX], wkey[KEY_MAX];
	size_t tlen = record_key_triplet(t, tkey);
	size_t wlen = record_key_tuplet(t->net, t->sender_domain, wkey);
	struct record tr, wr;
	int ret;

	if ((ret = policy_get(s, tkey, tlen, &tr, e)) != 0)
		return ret;
	if (tr.kind != 0 && tr.passed != 0 &&
	    tr.last + c->whitelist_lifetime > now) {
		policy_pass(d, R_KNOWN, "");
		tr.last = now > tr.last ? now : tr.last;
		tr.passes++;
	} else {
		if (!policy_due(c, &tr, now)) {
			if ((ret = policy_get(s, wkey, wlen, &wr, e)) != 0)
				return ret;
			if (wr.kind != 0 &&
			    wr.last + c->whitelist_lifetime > now) {
				policy_pass(d, R_AWL, "");
				return policy_whitelist(s, c, t, now, e);
			}
		}
		policy_triplet(c, &tr, now, d);
	}
	if ((ret = policy_put(s, tkey, tlen, &tr, e)) != 0)
		return ret;
	return d->pass ? policy_whitelist(s, c, t, now, e) : 0;
}

int
policy_check(struct store *s, const struct conf *c, const struct tuple *t,
    int64_t now, struct decision *d, struct err *e)
{
	int ret, tries;

	for (tries = 0; tries < 50; tries++) {
		if ((ret = store_begin(s, e)) != 0)
			return -1;
		ret = policy_txn(s, c, t, now, d, e);
		if (ret == 0)
			ret = policy_bump(s, d, e);
		if (ret == 0)
			return store_commit(s, e) == 0 ? 0 : -1;
		store_abort(s);
		if (ret != STORE_RETRY)
			return -1;
	}
	return err_set(e, "database too busy: gave up after %d conflicts",
	    tries);
}

int
policy_count(struct store *s, const struct decision *d, struct err *e)
{
	int ret, tries;

	for (tries = 0; tries < 50; tries++) {
		if ((ret = store_begin(s, e)) != 0)
			return -1;
		if ((ret = policy_bump(s, d, e)) == 0)
			return store_commit(s, e) == 0 ? 0 : -1;
		store_abort(s);
		if (ret != STORE_RETRY)
			return -1;
	}
	return err_set(e, "database too busy: gave up after %d conflicts",
	    tries);
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
			w = snprintf(out + n, outlen - n, "%02lld:%02lld:%02lld",
			    (long long)(d->retry / 3600),
			    (long long)(d->retry / 60 % 60),
			    (long long)(d->retry % 60));
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

	switch (d->pass ? d->reason : R_NEW) {
	case R_DELAYED:
		snprintf(out, outlen, "%s: delayed %lld seconds", h,
		    (long long)d->delay);
		break;
	case R_KNOWN:
		snprintf(out, outlen, "%s: auto-whitelisted (passed before)",
		    h);
		break;
	case R_AWL:
		snprintf(out, outlen, "%s: auto-whitelisted (%s, %s)", h,
		    t->net, t->sender_domain[0] ? t->sender_domain : "<>");
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
