/* Stored records: keys and fixed-width, versioned values, encoded and
 * decoded here and nowhere else. */
#ifndef GREYLIST_RECORD_H
#define GREYLIST_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "tuple.h"

#define REC_VERSION	2	/* value layout version, the only one read */
#define REC_TIME_MAX	UINT32_MAX	/* latest time a record holds (2106) */
#define REC_FORMAT	1	/* database format version written to the meta key */

/* Kinds, also the first byte of every key. */
#define REC_TRIPLET	'T'	/* key: client NUL sender NUL rcpt */
#define REC_TUPLET	'W'	/* key: client NUL sender-domain */
#define REC_COUNTERS	'C'	/* key: 'C' shard; decision counters */
#define REC_META	'V'	/* key: "V"; database format version */
#define REC_EXEMPT	'E'	/* key: 'E' sender entry ("user@dom", "@dom") */
#define REC_NODELAY	'N'	/* key: 'N' client network ("192.0.2.0/24") */
#define REC_USER	'U'	/* key: 'U' login; per-user settings */
#define REC_USERWL	'L'	/* key: 'L' login NUL entry; personal whitelist */

#define USER_OFF	0x0001	/* REC_USER flag: greylisting off */
#define LOGIN_MAX	64	/* bytes; longest login name kept */

#define REC_NSHARDS	16	/* counter records, spread to cut contention */

enum counter {
	CNT_DEFERRED,		/* new or early retry */
	CNT_PASSED_DELAY,	/* retried after the embargo */
	CNT_PASSED_AWL,		/* network and domain auto-whitelisted */
	CNT_PASSED_KNOWN,	/* triplet passed before */
	CNT_EXEMPT,		/* no_delay, exempt, SPF */
	CNT_OPTOUT,		/* recipient opted out */
	CNT_USERWL,		/* recipient's personal whitelist */
	CNT_SPARE,
	CNT_N
};

struct record {
	int	 kind;
	uint16_t flags;
	int64_t	 first;		/* T, W: first seen; E, N, L: added; U: changed */
	int64_t	 last;		/* T, W: last seen or used */
	int64_t	 passed;	/* T: when it passed, 0 = pending */
	uint32_t blocked;	/* T: deferrals */
	uint32_t passes;	/* T, W: passes; U: whitelist entries */
	uint64_t count[CNT_N];	/* C */
	uint32_t format;	/* V */
};

/* A whole stored entry: its key split into fields, and its value. */
struct entry {
	int	 kind;
	char	 net[CLIENT_MAX];	/* T, W: the client identity: a
					   network, "spf:DOMAIN" or
					   "ptr:DOMAIN" */
	char	 sender[ADDR_MAX + 1];	/* T */
	char	 rcpt[ADDR_MAX + 1];	/* T */
	char	 domain[ADDR_MAX + 1];	/* W: sender domain, "<>" = null sender */
	char	 text[ADDR_MAX + 2];	/* E, N, L: the exemption */
	char	 login[LOGIN_MAX + 1];	/* U, L */
	unsigned shard;			/* C */
	struct record r;
};

#define REC_MAX		(4 + 8 * CNT_N)		/* largest encoded value */
#define KEY_MAX		(2 + 2 * (ADDR_MAX + 1) + CLIENT_MAX)

/* Encodes r into buf (REC_MAX bytes); returns the length. */
size_t	record_encode(const struct record *r, uint8_t *buf);

/* -1 = corrupt or unknown version, 0 = decoded into *r. */
int	record_decode(const void *buf, size_t len, struct record *r);

/* Key builders; each returns the key length. A client is an identity as
 * t->client holds it; record_key_triplet uses t->client. */
size_t	record_key_triplet(const struct tuple *t, uint8_t *key);
size_t	record_key_triplet_of(const char *client, const char *sender,
	    const char *rcpt, uint8_t *key);
size_t	record_key_tuplet(const char *client, const char *domain,
	    uint8_t *key);
size_t	record_key_counters(unsigned shard, uint8_t *key);
size_t	record_key_meta(uint8_t *key);
/* kind is REC_EXEMPT or REC_NODELAY. */
size_t	record_key_exempt(int kind, const char *text, uint8_t *key);

size_t	record_key_user(const char *login, uint8_t *key);
/* The whitelist entry text of login; text NULL = the prefix of them all. */
size_t	record_key_userwl(const char *login, const char *text, uint8_t *key);

/* The key of an entry from its fields (kind and the fields it uses). */
size_t	entry_key(const struct entry *en, uint8_t *key);

/* Splits a stored key and decodes its value into en.
 * -1 = corrupt key or value, 0 = decoded. */
int	entry_decode(const void *key, size_t klen, const void *val,
	    size_t vlen, struct entry *en);

/* Name of counter i ("deferred", "passed_delay", ...); NULL past the end. */
const char *record_counter_name(int i);

#endif
