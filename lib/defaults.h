/* Built-in defaults, each with its unit and the reason for its value. */
#ifndef GREYLIST_DEFAULTS_H
#define GREYLIST_DEFAULTS_H

#define DEF_EMBARGO	(5 * 60)	/* s; long enough to stop one-shot senders, short for MTAs retrying at 5-15 min */
#define DEF_RETRY_WINDOW (28 * 60 * 60) /* s; covers a sender that retries once a day */
#define DEF_WL_LIFETIME	(36 * 24 * 60 * 60) /* s; survives a monthly newsletter */
#define DEF_IPV4_PREFIX	24		/* bits; senders' farms rotate within a /24 */
#define DEF_IPV6_PREFIX	64		/* bits; one site's LAN */
#define DEF_TIMEOUT_MS	1000		/* ms; longest a check waits for the database before failing open */
#define WD_START_MS	5000		/* ms; bound on a check's start-up (options, configuration) */
#define DEF_HEADER	"X-Greylist"
#define DEF_REPLY	"451 4.7.1 Greylisted, please retry later retry=%r"
#define DEF_ADMIN_GROUP	"root"
#define DEF_MTA_USERS	"Debian-exim exim mail postfix"

#define DEF_REDIS_PREFIX "greylist:"
#define DEF_REDIS_TIMEOUT_MS 500	/* ms; a frozen server fails a check open this fast */

#define STORE_TRIES	50		/* tries; conflicts before a transaction gives up: far more than two processes ever meet on one key, few enough that a stuck peer fails the run within a second or so */
#define SCAN_TRIES	100		/* tries; conflicts before one batch of a scan gives up: its hundreds of keys meet checks' writes more often than a check's few keys do */
#define PEEK_TRIES	3		/* tries; reads of greylist.db by the user's listing that a checkpoint writing it at the same time may spoil: checkpoints are minutes apart */
#define SCAN_BATCH_WRITE 500		/* entries; per transaction of a scan that deletes or writes: short, so that checks meanwhile barely wait */
#define SCAN_BATCH_READ	1000		/* entries; per transaction of a scan that only reads */

#define IMPORT_TXN	100		/* entries; per transaction of an import: its writes hold locks that checks may wait for */
#define RECOVER_LOOK_MS	100		/* ms; how often an idle policy or serve process looks whether a recovery is wanted, which waits for it to leave */
#define PROGRESS_EVERY	10000		/* entries or rows; between progress lines of long runs on a terminal */

#define DEF_SERVE_MAX_CONN 256		/* connections; serve --max-conn: far more than an MTA opens, few enough for the default file limit */
#define DEF_SERVE_IDLE	60		/* s; serve --idle: a client silent this long is closed */

#define ADDR_MAX	512		/* bytes; longest sender or recipient accepted */

#endif
