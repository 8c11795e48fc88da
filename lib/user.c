/* Per-user settings: greylisting on or off and the personal whitelist. */
#include <stdio.h>
#include <string.h>

#include "record.h"
#include "tuple.h"
#include "user.h"

/* Stripped from whitelist lines: shell, quoting and list punctuation. */
#define USER_META	" \t\r\v\f<>()[]{}\"'`$;|&*?!,:\\"

int
user_login_ok(const char *login)
{
	const unsigned char *p = (const unsigned char *)login;

	if (*p == '\0' || strlen(login) > LOGIN_MAX)
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == '@')
			return 0;
	return 1;
}

struct user_args {
	const char *login;
	int64_t	 now;
	int	 off;
	uint32_t nwl;
	const struct strlist *wl;
};

/* Reads login's record into r (zeroed when none). -2/-1/0. */
static int
user_read(struct store *s, const char *login, uint8_t *key, size_t *klen,
    struct record *r, struct err *e)
{
	uint8_t val[REC_MAX];
	size_t vlen = sizeof(val);
	int ret;

	*klen = record_key_user(login, key);
	memset(r, 0, sizeof(*r));
	if ((ret = store_get(s, key, *klen, val, &vlen, 1, e)) < 0)
		return ret;
	if (ret == 1 && record_decode(val, vlen, r) == -1)
		memset(r, 0, sizeof(*r));
	r->kind = REC_USER;
	return 0;
}

static int
user_get_fn(struct store *s, void *arg, struct err *e)
{
	struct user_args *a = arg;
	uint8_t key[KEY_MAX];
	struct record r;
	size_t klen;
	int ret;

	if ((ret = user_read(s, a->login, key, &klen, &r, e)) != 0)
		return ret;
	a->off = (r.flags & USER_OFF) != 0;
	a->nwl = r.passes;
	return 0;
}

int
user_get(struct store *s, const char *login, int *off, uint32_t *nwl,
    struct err *e)
{
	struct user_args a = { login, 0, 0, 0, NULL };

	if (store_run(s, user_get_fn, &a, e) == -1)
		return -1;
	*off = a.off;
	*nwl = a.nwl;
	return 0;
}

static int
user_toggle_fn(struct store *s, void *arg, struct err *e)
{
	struct user_args *a = arg;
	uint8_t key[KEY_MAX], val[REC_MAX];
	struct record r;
	size_t klen;
	int ret;

	if ((ret = user_read(s, a->login, key, &klen, &r, e)) != 0)
		return ret;
	r.flags ^= USER_OFF;
	r.first = a->now;
	a->off = (r.flags & USER_OFF) != 0;
	return store_put(s, key, klen, val, record_encode(&r, val), 0, e);
}

int
user_toggle(struct store *s, const char *login, int64_t now, int *off,
    struct err *e)
{
	struct user_args a = { login, now, 0, 0, NULL };

	if (store_run(s, user_toggle_fn, &a, e) == -1)
		return -1;
	*off = a.off;
	return 0;
}

/* Collects the keys of login's whitelist entries for deletion. */
struct user_keys {
	struct strlist texts;
	int	 failed;
};

static int
user_keys_fn(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct user_keys *k = arg;
	struct entry en;

	if (entry_decode(key, klen, val, vlen, &en) == 0 &&
	    strlist_add(&k->texts, en.text) == -1) {
		k->failed = 1;
		return SCAN_STOP;
	}
	return SCAN_NEXT;
}

static int
user_setwl_fn(struct store *s, void *arg, struct err *e)
{
	struct user_args *a = arg;
	struct user_keys old = { { NULL, 0, 0 }, 0 };
	uint8_t key[KEY_MAX], val[REC_MAX];
	struct record r, ur;
	size_t i, klen;
	int ret;

	klen = record_key_userwl(a->login, NULL, key);
	if ((ret = store_each(s, key, klen, user_keys_fn, &old, e)) == 0 &&
	    old.failed)
		ret = err_set(e, "out of memory");
	for (i = 0; ret == 0 && i < old.texts.n; i++)
		if ((ret = store_del(s, key, record_key_userwl(a->login,
		    old.texts.v[i], key), e)) > 0)
			ret = 0;
	strlist_free(&old.texts);
	memset(&r, 0, sizeof(r));
	r.kind = REC_USERWL;
	r.first = a->now;
	for (i = 0; ret == 0 && i < a->wl->n; i++)
		ret = store_put(s, key, record_key_userwl(a->login,
		    a->wl->v[i], key), val, record_encode(&r, val), 0, e);
	if (ret == 0 && (ret = user_read(s, a->login, key, &klen, &ur, e)) == 0) {
		ur.passes = (uint32_t)a->wl->n;
		ret = store_put(s, key, klen, val, record_encode(&ur, val), 0,
		    e);
	}
	return ret;
}

int
user_set_whitelist(struct store *s, const char *login,
    const struct strlist *wl, int64_t now, struct err *e)
{
	struct user_args a = { login, now, 0, 0, wl };

	return store_run(s, user_setwl_fn, &a, e);
}

/* Cleans one line in place into buf; returns why it is dropped, or NULL
 * when buf holds an entry (normalised into out) or the line is blank. */
static const char *
user_wl_line(char *buf, char *out)
{
	const char *why;
	size_t i, n = 0;

	for (i = 0; buf[i] != '\0'; i++)
		if (strchr(USER_META, buf[i]) == NULL &&
		    (unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f)
			buf[n++] = buf[i];
	buf[n] = '\0';
	out[0] = '\0';
	if (n == 0)
		return NULL;
	if (buf[0] == '#')
		return "a comment";
	if (tuple_exempt(buf, out, &why) == -1)
		return why;
	return NULL;
}

/* Copies s into out without control characters, for messages. */
static void
user_printable(const char *s, char *out)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			*out++ = *s;
	*out = '\0';
}

int
user_wl_clean(const char *text, size_t len, struct strlist *out,
    user_drop_fn drop, void *arg)
{
	char buf[ADDR_MAX + 2], norm[ADDR_MAX + 2], raw[ADDR_MAX + 2];
	const char *p = text, *end = text + len, *nl, *why;
	unsigned line = 0;
	size_t n;

	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n >= sizeof(buf) || memchr(p, '\0', n) != NULL) {
			drop(line, n >= sizeof(buf) ? "(a long line)" :
			    "(binary data)", "not an address or @domain", arg);
			continue;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		user_printable(buf, raw);
		if ((why = user_wl_line(buf, norm)) != NULL)
			drop(line, raw, why, arg);
		else if (norm[0] != '\0' && !strlist_has(out, norm) &&
		    strlist_add(out, norm) == -1)
			return -1;
	}
	return 0;
}
