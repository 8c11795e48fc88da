/*
 * The Redis store, for sites whose MX hosts share one greylist.
 *
 * A transaction is optimistic: store_get reads from the server and
 * remembers what it saw, store_put and store_del only remember, and
 * store_commit sends everything to one Lua script (EVALSHA, EVAL after
 * NOSCRIPT) that checks every value read is still what it was and only
 * then writes, atomically on the server. If another MX host changed one
 * of them meanwhile, the commit reports STORE_RETRY and the caller runs
 * its transaction again, so the decision logic of lib/policy.c serves
 * both backends and no read-then-write race crosses MX hosts.
 *
 * Keys are the store's keys behind redis_prefix. Entries that expire
 * (triplets and tuplets) get the TTL the caller gives as a Redis TTL:
 * expiry is the server's, and purge has nothing to do. Those the caller
 * puts with STORE_INDEXED (exemptions, user settings, counters, the
 * format record) never expire and are also members of one sorted set,
 * PREFIX "idx", so that they can be walked in key order without a SCAN;
 * the others are found with SCAN. This file never looks inside a key:
 * the callers' flags say which is which.
 *
 * Every connect and command is bounded by redis_timeout (500 ms by
 * default): a dead or frozen server fails a check open, it never hangs.
 * With redis_sentinels, each process asks the Sentinels in turn for the
 * current master of redis_master; a write that reaches a replica
 * (READONLY) fails open as well.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "store_impl.h"

#define RDS_KEY_MAX	(KEY_MAX + 128)

/* The commit: KEYS = the keys read, the keys written, the index. ARGV =
 * count read, count written, each value read ("" = absent), then for each
 * write its value ("" = delete), TTL in seconds (0 = none) and whether it
 * is indexed, with its index member. */
static const char rds_script[] =
    "local nr, nw = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "for i = 1, nr do\n"
    "  local v = redis.call('GET', KEYS[i])\n"
    "  if (v or '') ~= ARGV[2 + i] then return 0 end\n"
    "end\n"
    "local idx = KEYS[nr + nw + 1]\n"
    "for j = 1, nw do\n"
    "  local k, a = KEYS[nr + j], 2 + nr + (j - 1) * 4\n"
    "  local v, ttl, ix, m = ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4]\n"
    "  if v == '' then\n"
    "    redis.call('DEL', k)\n"
    "    if ix == '1' then redis.call('ZREM', idx, m) end\n"
    "  else\n"
    "    if ttl > 0 then redis.call('SET', k, v, 'EX', ttl)\n"
    "    else redis.call('SET', k, v) end\n"
    "    if ix == '1' then redis.call('ZADD', idx, 0, m) end\n"
    "  end\n"
    "end\n"
    "return 1\n";

/* SHA-1 of rds_script, for EVALSHA; t/redis.bats checks it against the
 * server's SCRIPT LOAD. A stale one only costs an EVAL. */
#define RDS_SHA		"a7e0f1bc625d4d822ba087f871addc2d707227ca"

/* One key with a value, in the read set or the write set. */
struct rds_kv {
	uint8_t	 key[KEY_MAX];
	size_t	 klen;
	uint8_t	 val[REC_MAX];
	size_t	 vlen;		/* 0 = absent (read) or delete (write) */
	int64_t	 ttl;
	int	 indexed;	/* write: keep the key in the index */
};

struct rds {
	struct store base;	/* first: a struct store * is a struct rds * */
	redisContext *c;
	char	 prefix[128];
	size_t	 plen;
	char	 sha[48];
	struct rds_kv *rd, *wr;
	size_t	 nrd, nwr, caprd, capwr;
};


static size_t
rds_key(const struct rds *s, const void *key, size_t klen, char *out)
{
	memcpy(out, s->prefix, s->plen);
	memcpy(out + s->plen, key, klen);
	return s->plen + klen;
}

/* Runs one command given as argv; NULL = error (message in e). */
static redisReply *
rds_cmd(struct rds *s, int argc, const char **argv, const size_t *len,
    struct err *e)
{
	redisReply *r;

	r = redisCommandArgv(s->c, argc, argv, len);
	if (r == NULL) {
		err_set(e, "redis: %s", s->c->errstr[0] ? s->c->errstr :
		    "no answer");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		/* The reply's first word is the server's error code. */
		err_code(e, strncmp(r->str, "NOSCRIPT", 8) == 0 ?
		    ERR_NOSCRIPT : ERR_FAIL, "redis: %s%s", r->str,
		    strncmp(r->str, "READONLY", 8) == 0 ?
		    " (a replica: is the master down?)" : "");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static redisContext *
rds_connect_to(const char *addr, int ms, struct err *e)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	char host[256];
	const char *colon;
	redisContext *c;

	if (strncmp(addr, "unix:", 5) == 0)
		c = redisConnectUnixWithTimeout(addr + 5, tv);
	else {
		/* HOST:PORT, an IPv6 address in brackets or not. */
		colon = strrchr(addr, ':');
		if (addr[0] == '[' && colon > addr && colon[-1] == ']')
			snprintf(host, sizeof(host), "%.*s",
			    (int)(colon - addr - 2), addr + 1);
		else
			snprintf(host, sizeof(host), "%.*s",
			    (int)(colon - addr), addr);
		c = redisConnectWithTimeout(host, atoi(colon + 1), tv);
	}
	if (c == NULL || c->err) {
		err_set(e, "redis %s: %s", addr, c != NULL ? c->errstr :
		    "out of memory");
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	return c;
}

/* Asks the Sentinels in turn for the master's address. -1 = none knew. */
static int
rds_sentinel(const struct conf *cf, char *addr, size_t len, struct err *e)
{
	const char *argv[3] = { "SENTINEL", "get-master-addr-by-name",
	    cf->redis_master };
	redisContext *c;
	redisReply *r;
	size_t i;

	for (i = 0; i < cf->redis_sentinels.n; i++) {
		if ((c = rds_connect_to(cf->redis_sentinels.v[i],
		    cf->redis_timeout_ms, e)) == NULL)
			continue;
		r = redisCommandArgv(c, 3, argv, NULL);
		if (r != NULL && r->type == REDIS_REPLY_ARRAY &&
		    r->elements == 2) {
			snprintf(addr, len, "%s:%s", r->element[0]->str,
			    r->element[1]->str);
			freeReplyObject(r);
			redisFree(c);
			return 0;
		}
		err_set(e, "redis sentinel %s: no master named %s",
		    cf->redis_sentinels.v[i], cf->redis_master);
		if (r != NULL)
			freeReplyObject(r);
		redisFree(c);
	}
	return -1;
}

static int
rds_auth(struct rds *s, const char *password, struct err *e)
{
	const char *argv[2] = { "AUTH", password };
	redisReply *r;

	if (password == NULL)
		return 0;
	if ((r = rds_cmd(s, 2, argv, NULL, e)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int
redis_open(struct store **sp, const struct conf *cf, struct err *e)
{
	char addr[300];
	struct rds *s;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_set(e, "out of memory");
	s->base.ops = &rds_ops;
	snprintf(s->base.name, sizeof(s->base.name), "redis");
	/* A server that dies between two commands must give EPIPE, and a
	 * check that fails open with exit 2, not a death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(s->sha, sizeof(s->sha), "%s", RDS_SHA);
	s->plen = strlen(cf->redis_prefix);
	if (s->plen >= sizeof(s->prefix)) {
		free(s);
		return err_set(e, "redis_prefix too long");
	}
	memcpy(s->prefix, cf->redis_prefix, s->plen);
	if (cf->redis_sentinels.n > 0 && cf->redis_master != NULL) {
		if (rds_sentinel(cf, addr, sizeof(addr), e) == -1)
			goto fail;
	} else
		snprintf(addr, sizeof(addr), "%s", cf->redis_server);
	if ((s->c = rds_connect_to(addr, cf->redis_timeout_ms, e)) == NULL ||
	    rds_auth(s, cf->redis_password, e) == -1)
		goto fail;
	*sp = &s->base;
	return 0;
fail:
	store_close(&s->base);
	return -1;
}

static void
rds_close(struct store *st)
{
	struct rds *s = (struct rds *)st;

	if (s->c != NULL)
		redisFree(s->c);
	free(s->rd);
	free(s->wr);
	free(s);
}

static int
rds_begin(struct store *st, struct err *e)
{
	struct rds *s = (struct rds *)st;

	(void)e;
	s->nrd = s->nwr = 0;
	return 0;
}

static void
rds_abort(struct store *st)
{
	struct rds *s = (struct rds *)st;

	s->nrd = s->nwr = 0;
}

/* The entry for key in set v of n, or NULL. */
static struct rds_kv *
rds_find(struct rds_kv *v, size_t n, const void *key, size_t klen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].klen == klen && memcmp(v[i].key, key, klen) == 0)
			return &v[i];
	return NULL;
}

/* Appends key to the set (*v, *n, *cap); NULL = out of memory. */
static struct rds_kv *
rds_add(struct rds_kv **v, size_t *n, size_t *cap, const void *key,
    size_t klen)
{
	struct rds_kv *p;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		if ((p = realloc(*v, *cap * sizeof(**v))) == NULL)
			return NULL;
		*v = p;
	}
	p = &(*v)[(*n)++];
	memcpy(p->key, key, klen);
	p->klen = klen;
	p->vlen = 0;
	p->ttl = 0;
	p->indexed = 0;
	return p;
}

/* Reads key from the server into kv. -1 = error, 0 = done. */
static int
rds_fetch(struct rds *s, struct rds_kv *kv, struct err *e)
{
	char k[RDS_KEY_MAX];
	const char *argv[2] = { "GET", k };
	size_t len[2] = { 3, rds_key(s, kv->key, kv->klen, k) };
	redisReply *r;

	if ((r = rds_cmd(s, 2, argv, len, e)) == NULL)
		return -1;
	kv->vlen = 0;
	if (r->type == REDIS_REPLY_STRING) {
		if (r->len == 0 || r->len > REC_MAX) {
			freeReplyObject(r);
			return err_set(e, "redis: stored value of %zu bytes is "
			    "corrupt", (size_t)r->len);
		}
		memcpy(kv->val, r->str, r->len);
		kv->vlen = r->len;
	}
	freeReplyObject(r);
	return 0;
}

/* The value of key as this transaction sees it: its own write, or what
 * the server had when first read. NULL = error. */
static const struct rds_kv *
rds_value(struct rds *s, const void *key, size_t klen, struct err *e)
{
	struct rds_kv *kv;

	if (klen > KEY_MAX) {
		err_set(e, "key too long");
		return NULL;
	}
	if ((kv = rds_find(s->wr, s->nwr, key, klen)) != NULL ||
	    (kv = rds_find(s->rd, s->nrd, key, klen)) != NULL)
		return kv;
	if ((kv = rds_add(&s->rd, &s->nrd, &s->caprd, key, klen)) == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	if (rds_fetch(s, kv, e) == -1) {
		s->nrd--;
		return NULL;
	}
	return kv;
}

static int
rds_get(struct store *st, const void *key, size_t klen, void *val,
    size_t *vlen, int forupdate, struct err *e)
{
	const struct rds_kv *kv;

	(void)forupdate;	/* every read is checked at commit */
	if ((kv = rds_value((struct rds *)st, key, klen, e)) == NULL)
		return -1;
	if (kv->vlen == 0)
		return 0;
	if (kv->vlen > *vlen)
		return err_set(e, "redis: stored value of %zu bytes is corrupt",
		    kv->vlen);
	memcpy(val, kv->val, kv->vlen);
	*vlen = kv->vlen;
	return 1;
}

/* Records a write (vlen 0 = delete; a delete takes the key out of the
 * index too, where it may be). -1 = error, 0 = done. */
static int
rds_write(struct rds *s, const void *key, size_t klen, const void *val,
    size_t vlen, int64_t ttl, int indexed, struct err *e)
{
	struct rds_kv *kv;

	if (klen > KEY_MAX || vlen > REC_MAX)
		return err_set(e, "key or value too long");
	if ((kv = rds_find(s->wr, s->nwr, key, klen)) == NULL &&
	    (kv = rds_add(&s->wr, &s->nwr, &s->capwr, key, klen)) == NULL)
		return err_set(e, "out of memory");
	memcpy(kv->val, val, vlen);
	kv->vlen = vlen;
	kv->ttl = ttl;
	kv->indexed = indexed || vlen == 0;
	return 0;
}

static int
rds_put(struct store *st, const void *key, size_t klen, const void *val,
    size_t vlen, int64_t ttl, int flags, struct err *e)
{
	if (vlen == 0)
		return err_set(e, "empty value");
	return rds_write((struct rds *)st, key, klen, val, vlen,
	    ttl > 0 ? ttl : 0, (flags & STORE_INDEXED) != 0, e);
}

static int
rds_del(struct store *st, const void *key, size_t klen, struct err *e)
{
	struct rds *s = (struct rds *)st;
	const struct rds_kv *kv;
	int had;

	if ((kv = rds_value(s, key, klen, e)) == NULL)
		return -1;
	had = kv->vlen != 0;
	if (rds_write(s, key, klen, "", 0, 0, 1, e) == -1)
		return -1;
	return had;
}

/* Argument vectors of one command, grown as needed. */
struct rds_args {
	const char **v;
	size_t	*len;
	int	 n, cap;
	char	*buf;		/* prefixed keys and numbers, back to back */
	size_t	 used, size;
};

static int
rds_arg(struct rds_args *a, const void *p, size_t len)
{
	if (a->n == a->cap) {
		int cap = a->cap ? a->cap * 2 : 64;
		const char **v = realloc(a->v, (size_t)cap * sizeof(*v));
		size_t *l = v != NULL ? realloc(a->len, (size_t)cap *
		    sizeof(*l)) : NULL;

		if (v != NULL)
			a->v = v;
		if (l == NULL)
			return -1;
		a->len = l;
		a->cap = cap;
	}
	a->v[a->n] = p;
	a->len[a->n++] = len;
	return 0;
}

/* Copies len bytes into the args' own buffer and adds them. */
static int
rds_argcopy(struct rds_args *a, const void *p, size_t len)
{
	char *q = a->buf + a->used;

	if (a->used + len > a->size)
		return -1;
	memcpy(q, p, len);
	a->used += len;
	return rds_arg(a, q, len);
}

static int
rds_argkey(struct rds_args *a, const struct rds *s, const void *key,
    size_t klen)
{
	char k[RDS_KEY_MAX];

	return rds_argcopy(a, k, rds_key(s, key, klen, k));
}

static int
rds_argnum(struct rds_args *a, long long v)
{
	char num[24];

	return rds_argcopy(a, num, (size_t)snprintf(num, sizeof(num), "%lld",
	    v));
}

static void
rds_args_free(struct rds_args *a)
{
	free(a->v);
	free(a->len);
	free(a->buf);
}

/* The commit script's arguments after its name. -1 = out of memory. */
static int
rds_commit_args(struct rds *s, struct rds_args *a)
{
	size_t i;
	int ok = 0;

	a->size = (s->nrd + s->nwr + 2) * (RDS_KEY_MAX + REC_MAX + 64);
	if ((a->buf = malloc(a->size)) == NULL)
		return -1;
	ok |= rds_argnum(a, (long long)(s->nrd + s->nwr + 1));
	for (i = 0; i < s->nrd; i++)
		ok |= rds_argkey(a, s, s->rd[i].key, s->rd[i].klen);
	for (i = 0; i < s->nwr; i++)
		ok |= rds_argkey(a, s, s->wr[i].key, s->wr[i].klen);
	ok |= rds_argkey(a, s, "idx", 3);
	ok |= rds_argnum(a, (long long)s->nrd);
	ok |= rds_argnum(a, (long long)s->nwr);
	for (i = 0; i < s->nrd; i++)
		ok |= rds_argcopy(a, s->rd[i].val, s->rd[i].vlen);
	for (i = 0; i < s->nwr; i++) {
		ok |= rds_argcopy(a, s->wr[i].val, s->wr[i].vlen);
		ok |= rds_argnum(a, s->wr[i].ttl);
		ok |= rds_argcopy(a, s->wr[i].indexed ? "1" : "0", 1);
		ok |= rds_argcopy(a, s->wr[i].key, s->wr[i].klen);
	}
	return ok != 0 ? -1 : 0;
}

/* Runs the commit script, loading it when the server lacks it.
 * -2 = conflict, -1 = error, 0 = written. */
static int
rds_eval(struct rds *s, struct rds_args *a, struct err *e)
{
	redisReply *r;
	int ret;

	a->v[0] = "EVALSHA";
	a->len[0] = 7;
	a->v[1] = s->sha;
	a->len[1] = strlen(s->sha);
	r = s->sha[0] != '\0' ? rds_cmd(s, a->n, a->v, a->len, e) : NULL;
	if (r == NULL && s->sha[0] != '\0' && e->code != ERR_NOSCRIPT)
		return -1;
	if (r == NULL) {
		a->v[0] = "EVAL";
		a->len[0] = 4;
		a->v[1] = rds_script;
		a->len[1] = sizeof(rds_script) - 1;
		if ((r = rds_cmd(s, a->n, a->v, a->len, e)) == NULL)
			return -1;
	}
	ret = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? 0 :
	    STORE_RETRY;
	freeReplyObject(r);
	return ret;
}

static int
rds_commit(struct store *st, struct err *e)
{
	struct rds *s = (struct rds *)st;
	struct rds_args a;
	int ret;

	if (s->nwr == 0) {
		s->nrd = 0;
		return 0;
	}
	memset(&a, 0, sizeof(a));
	if (rds_arg(&a, NULL, 0) == -1 || rds_arg(&a, NULL, 0) == -1 ||
	    rds_commit_args(s, &a) == -1)
		ret = err_set(e, "out of memory");
	else
		ret = rds_eval(s, &a, e);
	rds_args_free(&a);
	s->nrd = s->nwr = 0;
	return ret;
}

/* Keys found by a scan, without the store's prefix, back to back. */
struct rds_keys {
	char	*buf;
	size_t	 used, size;
	struct rds_ref {
		size_t	 off, len;
	} *ref;
	size_t	 n, cap;
};

static int
rds_keys_add(struct rds_keys *k, const char *p, size_t len)
{
	void *q;

	if (len > KEY_MAX)
		return 0;	/* not one of ours */
	if (k->used + len > k->size) {
		k->size = (k->size + len) * 2;
		if ((q = realloc(k->buf, k->size)) == NULL)
			return -1;
		k->buf = q;
	}
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 1024;
		if ((q = realloc(k->ref, k->cap * sizeof(*k->ref))) == NULL)
			return -1;
		k->ref = q;
	}
	k->ref[k->n].off = k->used;
	k->ref[k->n++].len = len;
	memcpy(k->buf + k->used, p, len);
	k->used += len;
	return 0;
}

static void
rds_keys_free(struct rds_keys *k)
{
	free(k->buf);
	free(k->ref);
}

/* Byte order, shorter first on a tie: Berkeley DB's order. */
static int
rds_keys_cmp(const void *a, const void *b, void *arg)
{
	const struct rds_ref *x = a, *y = b;
	const char *buf = arg;
	int c;

	c = memcmp(buf + x->off, buf + y->off, x->len < y->len ? x->len :
	    y->len);
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Adds the indexed keys starting with prefix. No key holds the byte 0xff
 * (UTF-8 never does), so prefix 0xff bounds the range. -1 = error. */
static int
rds_keys_index(struct rds *s, const char *prefix, size_t plen,
    struct rds_keys *k, struct err *e)
{
	char idx[RDS_KEY_MAX], min[KEY_MAX + 2], max[KEY_MAX + 2];
	const char *argv[4] = { "ZRANGEBYLEX", idx, min, max };
	size_t len[4] = { 11, rds_key(s, "idx", 3, idx), 1, 1 }, i;
	redisReply *r;
	int ret = 0;

	min[0] = '-';
	max[0] = '+';
	if (plen > 0) {
		min[0] = max[0] = '[';
		memcpy(min + 1, prefix, plen);
		memcpy(max + 1, prefix, plen);
		max[plen + 1] = (char)0xff;
		len[2] = plen + 1;
		len[3] = plen + 2;
	}
	if ((r = rds_cmd(s, 4, argv, len, e)) == NULL)
		return -1;
	for (i = 0; i < r->elements && ret == 0; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			ret = rds_keys_add(k, r->element[i]->str,
			    r->element[i]->len);
	freeReplyObject(r);
	return ret == 0 ? 0 : err_set(e, "out of memory");
}

/* The SCAN pattern for keys starting with the store's prefix and then
 * prefix: glob characters escaped. */
static size_t
rds_pattern(const struct rds *s, const char *prefix, size_t plen, char *out)
{
	char k[RDS_KEY_MAX];
	size_t i, n = 0, klen = rds_key(s, prefix, plen, k);

	for (i = 0; i < klen; i++) {
		if (strchr("*?[]\\", k[i]) != NULL && k[i] != '\0')
			out[n++] = '\\';
		out[n++] = k[i];
	}
	out[n++] = '*';
	return n;
}

/* Adds the keys starting with prefix found by SCAN, but the index itself.
 * -1 = error. */
static int
rds_keys_scan(struct rds *s, const char *prefix, size_t plen,
    struct rds_keys *k, struct err *e)
{
	char cursor[32] = "0", pat[2 * RDS_KEY_MAX + 2];
	const char *argv[6] = { "SCAN", cursor, "MATCH", pat, "COUNT", "1000" };
	size_t len[6] = { 4, 1, 5, rds_pattern(s, prefix, plen, pat), 5, 4 };
	redisReply *r, *el;
	size_t i;
	int ret = 0;

	do {
		len[1] = strlen(cursor);
		if ((r = rds_cmd(s, 6, argv, len, e)) == NULL)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			freeReplyObject(r);
			return err_set(e, "redis: unexpected SCAN reply");
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		el = r->element[1];
		for (i = 0; i < el->elements && ret == 0; i++)
			if (el->element[i]->len > s->plen &&
			    (el->element[i]->len != s->plen + 3 ||
			    memcmp(el->element[i]->str + s->plen, "idx", 3)))
				ret = rds_keys_add(k, el->element[i]->str +
				    s->plen, el->element[i]->len - s->plen);
		freeReplyObject(r);
	} while (ret == 0 && strcmp(cursor, "0") != 0);
	return ret == 0 ? 0 : err_set(e, "out of memory");
}

/* Drops the keys of sorted k that equal the one before. */
static void
rds_keys_unique(struct rds_keys *k)
{
	size_t i, n = 0;

	for (i = 0; i < k->n; i++)
		if (n == 0 || rds_keys_cmp(&k->ref[n - 1], &k->ref[i],
		    k->buf) != 0)
			k->ref[n++] = k->ref[i];
	k->n = n;
}

/* Every key starting with prefix, sorted: from the index with
 * STORE_INDEXED, by SCAN with STORE_EXPIRES (which also finds indexed
 * keys, dropped as duplicates when both are asked for). -1 = error. */
static int
rds_keys_collect(struct rds *s, const void *prefix, size_t plen, int flags,
    struct rds_keys *k, struct err *e)
{
	const char *p = prefix;

	memset(k, 0, sizeof(*k));
	if ((flags & STORE_INDEXED) && rds_keys_index(s, p, plen, k, e) == -1)
		return -1;
	if ((flags & STORE_EXPIRES) && rds_keys_scan(s, p, plen, k, e) == -1)
		return -1;
	if (k->n > 1)
		qsort_r(k->ref, k->n, sizeof(*k->ref), rds_keys_cmp, k->buf);
	if ((flags & STORE_INDEXED) && (flags & STORE_EXPIRES))
		rds_keys_unique(k);
	return 0;
}

/* Fetches the values of keys [from, to) into the read set of a fresh
 * transaction. -1 = error. */
static int
rds_fetch_batch(struct rds *s, const struct rds_keys *k, size_t from,
    size_t to, struct err *e)
{
	size_t i;

	s->nrd = s->nwr = 0;
	for (i = from; i < to; i++)
		if (rds_value(s, k->buf + k->ref[i].off, k->ref[i].len,
		    e) == NULL)
			return -1;
	return 0;
}

/* Deletes the keys fn asked for that still hold the value it saw.
 * -1 = error, 0 = done. */
static int
rds_scan_delete(struct rds *s, struct rds_kv *del, size_t n, struct err *e)
{
	const struct rds_kv *kv;
	size_t i;
	int ret, tries = 0;

	do {
		s->nrd = s->nwr = 0;
		for (i = 0, ret = 0; i < n && ret == 0; i++) {
			if ((kv = rds_value(s, del[i].key, del[i].klen, e)) ==
			    NULL)
				return -1;
			if (kv->vlen == del[i].vlen &&
			    memcmp(kv->val, del[i].val, kv->vlen) == 0)
				ret = rds_write(s, del[i].key, del[i].klen, "",
				    0, 0, 1, e);
		}
		if (ret == 0)
			ret = rds_commit(&s->base, e);
	} while (store_again(ret, &tries, STORE_TRIES));
	if (ret == STORE_RETRY)
		return store_gave_up(tries, e);
	return ret == 0 ? 0 : -1;
}

/* Calls fn on the entries fetched into the read set; collects the ones
 * to delete into *del. 1 = fn stopped, 0 = go on, -1 = error. */
static int
rds_scan_call(struct rds *s, store_scan_fn fn, void *arg,
    struct rds_kv **del, size_t *ndel, size_t *cap, struct err *e)
{
	struct rds_kv *kv, *d;
	size_t i;
	int act;

	for (i = 0; i < s->nrd; i++) {
		kv = &s->rd[i];
		if (kv->vlen == 0)
			continue;	/* expired meanwhile */
		act = fn(kv->key, kv->klen, kv->val, kv->vlen, arg);
		if (act == SCAN_STOP)
			return 1;
		if (act != SCAN_DELETE)
			continue;
		if ((d = rds_add(del, ndel, cap, kv->key, kv->klen)) == NULL)
			return err_set(e, "out of memory");
		memcpy(d->val, kv->val, kv->vlen);
		d->vlen = kv->vlen;
	}
	return 0;
}

static int
rds_scan(struct store *st, const void *prefix, size_t plen, int flags,
    size_t batch, store_scan_fn fn, void *arg, struct err *e)
{
	struct rds *s = (struct rds *)st;
	struct rds_kv *del = NULL;
	struct rds_keys k;
	size_t from, to, ndel, cap = 0;
	int ret;

	if ((ret = rds_keys_collect(s, prefix, plen, flags, &k, e)) == 0)
		for (from = 0; from < k.n && ret == 0; from = to) {
			to = from + batch < k.n ? from + batch : k.n;
			ndel = 0;
			if ((ret = rds_fetch_batch(s, &k, from, to, e)) == 0)
				ret = rds_scan_call(s, fn, arg, &del, &ndel,
				    &cap, e);
			if (ret != -1 && ndel > 0 &&
			    rds_scan_delete(s, del, ndel, e) == -1)
				ret = -1;
		}
	s->nrd = s->nwr = 0;
	rds_keys_free(&k);
	free(del);
	return ret == -1 ? -1 : 0;
}

/* Inside a transaction: the values read join its read set, so that the
 * commit checks them too. */
static int
rds_each(struct store *st, const void *prefix, size_t plen, int flags,
    store_scan_fn fn, void *arg, struct err *e)
{
	struct rds *s = (struct rds *)st;
	const struct rds_kv *kv;
	struct rds_keys k;
	size_t i;
	int ret;

	if ((ret = rds_keys_collect(s, prefix, plen, flags, &k, e)) == 0)
		for (i = 0; i < k.n; i++) {
			if ((kv = rds_value(s, k.buf + k.ref[i].off,
			    k.ref[i].len, e)) == NULL) {
				ret = -1;
				break;
			}
			if (kv->vlen != 0 && fn(kv->key, kv->klen, kv->val,
			    kv->vlen, arg) == SCAN_STOP)
				break;
		}
	rds_keys_free(&k);
	return ret;
}

/* Nothing keeps another process waiting here. */
static int
rds_yield(struct store *st, struct err *e)
{
	(void)st, (void)e;
	return 0;
}

const struct store_ops rds_ops = {
	rds_close, rds_begin, rds_commit, rds_abort, rds_get, rds_put,
	rds_del, rds_scan, rds_each, rds_yield, rds_yield, NULL, NULL
};
