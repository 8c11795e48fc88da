/* Stored records: keys and fixed-width, versioned values, encoded and
 * decoded here and nowhere else. Only lib/ includes this file; the
 * commands see typed entries through lib/entry.h. */
#ifndef GREYLIST_RECORD_H
#define GREYLIST_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"

#define REC_VERSION	2	/* value layout version, the only one read */
#define REC_FORMAT	1	/* database format version written to the meta key */

#define REC_NSHARDS	16	/* counter records, spread to cut contention */

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
/* kind is ENTRY_EXEMPT or ENTRY_NODELAY. */
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

/* The prefix of every key of kind (an enum entry_kind); returns 1. */
size_t	record_key_prefix(int kind, uint8_t *key);

/* The prefix of the triplets of client; returns its length. */
size_t	record_key_triplets_of(const char *client, uint8_t *key);

/* The store flags of the keys of kind: STORE_EXPIRES for triplets and
 * tuplets, STORE_INDEXED for the kinds that never expire. */
int	record_flags(int kind);

/* The value of the format record this greylist writes, into val
 * (REC_MAX bytes); returns its length. */
size_t	record_format_new(uint8_t *val);

/* What a stored format record says. 0 = usable, 1 = newer than this
 * greylist understands (*format = its format, 0 = a newer layout),
 * -1 = corrupt. */
int	record_format_check(const void *val, size_t vlen, uint32_t *format);

/* The enum entry_kind of a key; -1 = none. */
int	record_key_kind(const void *key, size_t klen);

#endif
