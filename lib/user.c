/* Per-user settings: greylisting on or off and the personal whitelist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
	r->kind = ENTRY_USER;
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
	return store_put(s, key, klen, val, record_encode(&r, val), 0,
	    record_flags(ENTRY_USER), e);
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
	if ((ret = store_each(s, key, klen, record_flags(ENTRY_USERWL),
	    user_keys_fn, &old, e)) == 0 &&
	    old.failed)
		ret = err_set(e, "out of memory");
	for (i = 0; ret == 0 && i < old.texts.n; i++)
		if ((ret = store_del(s, key, record_key_userwl(a->login,
		    old.texts.v[i], key), e)) > 0)
			ret = 0;
	strlist_free(&old.texts);
	memset(&r, 0, sizeof(r));
	r.kind = ENTRY_USERWL;
	r.first = a->now;
	for (i = 0; ret == 0 && i < a->wl->n; i++)
		ret = store_put(s, key, record_key_userwl(a->login,
		    a->wl->v[i], key), val, record_encode(&r, val), 0,
		    record_flags(ENTRY_USERWL), e);
	if (ret == 0 && (ret = user_read(s, a->login, key, &klen, &ur, e)) == 0) {
		ur.passes = (uint32_t)a->wl->n;
		ret = store_put(s, key, klen, val, record_encode(&ur, val), 0,
		    record_flags(ENTRY_USER), e);
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

struct users {
	const struct conf *c;
	struct store *s;	/* Redis: the store; Berkeley DB: NULL */
};

int
users_in_files(const struct conf *c)
{
	return c->backend == BACKEND_BDB &&
	    userfile_state(c->database) == USERS_READY;
}

int
users_open(struct users **up, const struct conf *c, struct err *e)
{
	struct users *u;
	int st = USERS_READY;

	*up = NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return err_set(e, "%s", strerror(errno));
	u->c = c;
	if (c->backend == BACKEND_REDIS) {
		if (store_open(&u->s, c, e) == 0) {
			*up = u;
			return 0;
		}
	} else if ((st = userfile_state(c->database)) == USERS_OLD)
		err_set(e, "%s: database not upgraded yet to keep user "
		    "settings in files (the next check or admin command "
		    "does it); try again later", c->database);
	else if (st == -1)
		err_set(e, "%s/users: cannot use it (not a directory?)",
		    c->database);
	else if (st == USERS_READY || userfile_mkdir(c->database, e) == 0) {
		*up = u;
		return 0;
	}
	free(u);
	return -1;
}

void
users_close(struct users *u)
{
	if (u == NULL)
		return;
	store_close(u->s);
	free(u);
}

int
users_get(struct users *u, const char *login, int *off, uint32_t *nwl,
    struct err *e)
{
	struct user_settings us;

	if (u->s != NULL)
		return user_get(u->s, login, off, nwl, e);
	(void)userfile_read(u->c->database, login, &us, e);
	*off = us.off;
	*nwl = (uint32_t)us.n;
	user_settings_free(&us);
	return 0;
}

int
users_toggle(struct users *u, const char *login, int64_t now, int *off,
    struct err *e)
{
	struct user_settings us;
	int ret;

	if (u->s != NULL)
		return user_toggle(u->s, login, now, off, e);
	/* An unreadable file is the user's own: it is replaced. */
	(void)userfile_read(u->c->database, login, &us, e);
	us.off = !us.off;
	us.changed = now;
	*off = us.off;
	ret = userfile_write(u->c->database, login, &us, e);
	user_settings_free(&us);
	return ret;
}

int
users_set_whitelist(struct users *u, const char *login,
    const struct strlist *wl, int64_t now, struct err *e)
{
	struct user_settings us, fresh;
	size_t i;
	int ret = 0;

	if (u->s != NULL)
		return user_set_whitelist(u->s, login, wl, now, e);
	(void)userfile_read(u->c->database, login, &us, e);
	memset(&fresh, 0, sizeof(fresh));
	fresh.off = us.off;
	fresh.changed = us.changed;
	user_settings_free(&us);
	for (i = 0; i < wl->n && ret == 0; i++)
		if (user_settings_add(&fresh, wl->v[i], now) == -1)
			ret = err_set(e, "%s", strerror(ENOMEM));
	if (ret == 0)
		ret = userfile_write(u->c->database, login, &fresh, e);
	user_settings_free(&fresh);
	return ret;
}
