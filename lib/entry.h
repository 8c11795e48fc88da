/* The database's entries as the commands see them: typed and decoded,
 * never as keys or bytes (lib/record.c alone knows the encoding). Scans
 * of some kinds through a callback, puts and deletes of whole entries,
 * the decision counters, and a compact list of entries read for import. */
#ifndef GREYLIST_ENTRY_H
#define GREYLIST_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "store.h"
#include "tuple.h"

/* What an entry is; the fields of struct entry each kind uses are marked
 * with its letter there. */
enum entry_kind {
	ENTRY_NONE,		/* no entry (a record read as missing) */
	ENTRY_TRIPLET,		/* T: client, sender, recipient */
	ENTRY_TUPLET,		/* W: client, sender domain (auto-whitelist) */
	ENTRY_EXEMPT,		/* E: an exempt sender ("user@dom", "@dom") */
	ENTRY_NODELAY,		/* N: a no_delay network ("192.0.2.0/24") */
	ENTRY_USER,		/* U: a login's settings */
	ENTRY_USERWL,		/* L: an entry of a login's whitelist */
	ENTRY_COUNTERS,		/* C: one shard of the decision counters */
	ENTRY_META,		/* V: the database format */
	ENTRY_NKINDS
};

#define ENTRY_TIME_MAX	UINT32_MAX	/* s; latest time an entry holds (2106) */
#define USER_OFF	0x0001	/* ENTRY_USER flag: greylisting off */
#define LOGIN_MAX	64	/* bytes; longest login name kept */
#define NULL_SENDER	"<>"	/* how the null sender is shown and stored
				   as a domain */

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
	int	 kind;		/* enum entry_kind */
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
	int	 kind;			/* enum entry_kind */
	char	 net[CLIENT_MAX];	/* T, W: the client identity: a
					   network, "spf:DOMAIN" or
					   "ptr:DOMAIN" */
	char	 sender[ADDR_MAX + 1];	/* T */
	char	 rcpt[ADDR_MAX + 1];	/* T */
	char	 domain[ADDR_MAX + 1];	/* W: sender domain, NULL_SENDER =
					   null sender */
	char	 text[ADDR_MAX + 2];	/* E, N, L: the exemption */
	char	 login[LOGIN_MAX + 1];	/* U, L */
	unsigned shard;			/* C */
	struct record r;
};

/* Return of an entry_fn: SCAN_NEXT, SCAN_STOP or SCAN_DELETE (store.h). */
typedef int (*entry_fn)(const struct entry *en, void *arg);

/* Calls fn for every entry of the n kinds of kinds[], kind after kind,
 * through store_scan in transactions of batch entries (SCAN_DELETE
 * deletes the entry being scanned). With c not NULL and the user
 * settings in files (users_in_files), ENTRY_USER and ENTRY_USERWL come
 * from there, where SCAN_DELETE deletes nothing. Entries that do not
 * decode are skipped and counted in *corrupt (when not NULL).
 * -1 = error, 0 = done. */
int	entry_scan(struct store *s, const struct conf *c,
	    const int *kinds, size_t n, size_t batch, entry_fn fn, void *arg,
	    size_t *corrupt, struct err *e);

/* As entry_scan for one kind, through store_peek (the user's listing:
 * no environment joined), again when the file changed while it was read
 * (restart, when not NULL, called before each try); *asof as store_peek
 * sets it. -1 = error, 0 = done. */
int	entry_peek(const struct conf *c, int kind, entry_fn fn, void *arg,
	    void (*restart)(void *), int64_t *asof, struct err *e);

/* Inside a transaction: stores en (its kind and the fields that kind
 * uses), to expire as entry_expiry says under c. -2 = retry, -1 = error,
 * 0 = stored. */
int	entry_put(struct store *s, const struct conf *c,
	    const struct entry *en, int64_t now, struct err *e);

/* Inside a transaction: deletes the entry en names. -2 = retry,
 * -1 = error, 0 = not found, 1 = deleted. */
int	entry_del(struct store *s, const struct entry *en, struct err *e);

/* Inside a transaction: adds add[] to the counters of shard (any number;
 * the layer folds it), saturating. -2 = retry, -1 = error, 0 = done. */
int	entry_count_add(struct store *s, unsigned shard, const uint64_t *add,
	    struct err *e);

/* Deletes every entry but the database format, in short transactions.
 * -1 = error, 0 = done. */
int	entry_wipe(struct store *s, struct err *e);

/* When the entry of value r (of r->kind) expires under c (epoch
 * seconds); 0 = never. The one rule: a pending triplet lives for the
 * retry window from first seen, a passed triplet and a tuplet for the
 * whitelist lifetime from last seen. */
int64_t	entry_expiry(const struct conf *c, const struct record *r);

/* The TTL to store r with at now, for backends that expire entries by
 * themselves: seconds until it expires, at least 1; 0 = never. */
int64_t	entry_ttl(const struct conf *c, const struct record *r, int64_t now);

/* The state of en for listings: "pending", "passed", "whitelisted",
 * "exempt", "no_delay", "user", "userwl", "counters", "meta". */
const char *entry_state(const struct entry *en);

/* The number of en's state in that order (0 = pending). */
int	entry_state_of(const struct entry *en);

/* Name of state i in that order; NULL past the end. */
const char *entry_state_name(int i);

/* The domain a sender's tuplet is stored under: NULL_SENDER for the
 * null sender (""), so that its whitelisting covers no other sender. */
const char *entry_sender_domain(const char *sender);

/* Writes time t as listings show it (local ISO 8601 with offset) into
 * buf of len bytes; "" when it cannot. */
void	entry_time(int64_t t, char *buf, size_t len);

/* Writes a duration of secs seconds as HH:MM:SS into buf of len bytes;
 * returns what snprintf returns. */
int	entry_hms(int64_t secs, char *buf, size_t len);

/* Name of counter i ("deferred", "passed_delay", ...); NULL past the end. */
const char *entry_counter_name(int i);

/* Entries kept in memory, compactly (encoded), in the order added;
 * kv.n counts them. */
struct entry_list {
	struct kvbuf kv;
};

/* Appends en. -1 = out of memory, 0 = done. */
int	entry_list_add(struct entry_list *l, const struct entry *en,
	    struct err *e);
/* Decodes the entry at *off into en and moves *off past it.
 * 0 = done, -1 = at the end. */
int	entry_list_next(const struct entry_list *l, size_t *off,
	    struct entry *en);
void	entry_list_free(struct entry_list *l);

#endif
