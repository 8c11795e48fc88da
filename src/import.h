/* The CSV of export and import, and the entries an import has read and
 * checked, kept in memory until all of them are known good; filled by
 * src/import.c from CSV and by src/postgrey.c from a postgrey database,
 * written by src/cmd_import.c. */
#ifndef GREYLIST_IMPORT_H
#define GREYLIST_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "entry.h"

/* The CSV columns, in export's order. */
enum import_field {
	F_TYPE, F_NET, F_SENDER, F_RCPT, F_DOMAIN, F_ENTRY, F_FIRST, F_LAST,
	F_PASSED, F_BLOCKED, F_PASSES, F_COUNT, F_N
};

/* The header row: the columns' names. */
extern const char *const import_header[F_N];

/* Rows read and checked. */
struct import_set {
	struct entry_list list;		/* the entries, counters aside */
	size_t	 skipped;		/* postgrey: invalid records */
	int	 header;		/* the header row was read */
	unsigned seen;			/* counter rows read, bit per counter */
	uint64_t count[CNT_N];
	const struct conf *conf;	/* for the entries' lifetimes */
	int64_t	 now;
	const char *users;		/* user settings in files: the database */
};

/* The row type of entries of kind ("triplet", ...); NULL for none. */
const char *import_type_name(int kind);

/* Reads and checks all of file (stdin when NULL or "-") into set.
 * -1 = malformed or unreadable, 0 = done. */
int	import_read(const char *file, struct import_set *set, struct err *e);

/* Reads every record of the postgrey database FILE into set as triplets,
 * counting those it cannot use in set->skipped. -1 = error, 0 = done. */
int	postgrey_read(const struct conf *c, const char *file,
	    struct import_set *set, struct err *e);

#endif
