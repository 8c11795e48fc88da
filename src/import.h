/* The entries an import has read and checked, kept in memory until all
 * of them are known good; filled by src/cmd_export.c from CSV and by
 * src/postgrey.c from a postgrey database. */
#ifndef GREYLIST_IMPORT_H
#define GREYLIST_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "entry.h"

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

/* Reads every record of the postgrey database FILE into set as triplets,
 * counting those it cannot use in set->skipped. -1 = error, 0 = done. */
int	postgrey_read(const struct conf *c, const char *file,
	    struct import_set *set, struct err *e);

#endif
