/* Error values for lib/: a message filled in where the error is found
 * and printed once by the caller, with a code (and the line or field it
 * concerns) for callers that act on what went wrong; they never read the
 * message. The wording of each kind of error is in one place: where it is
 * set, or err.c for the line prefix. */
#ifndef GREYLIST_ERR_H
#define GREYLIST_ERR_H

#define ERR_MAX 512

enum err_code {
	ERR_FAIL = 1,	/* no code of its own: the message says it */
	ERR_LINE,	/* malformed input at e->line (first = 1); the
			 * message is "line N: WHY", WHY at e->msg + e->why */
	ERR_NOSCRIPT,	/* Redis: the server does not hold the script */
	/* A field's value (which one in e->field, the setter's enum): */
	ERR_MISSING,	/* not given */
	ERR_MALFORMED,	/* not what the field holds */
	ERR_TOOLONG,	/* longer than the field's limit */
	ERR_CONTROL,	/* a control character */
	ERR_UTF8,	/* invalid UTF-8 */
	ERR_EMPTY	/* empty */
};

struct err {
	enum err_code	 code;
	unsigned long	 line;	/* ERR_LINE: the line, 1 = the first */
	int		 field;	/* ERR_MISSING to ERR_EMPTY: which field */
	unsigned	 why;	/* ERR_LINE: offset of WHY in msg */
	char		 msg[ERR_MAX];
};

/* Formats the message into e (may be NULL) with code and, for a
 * field's value (ERR_MISSING to ERR_EMPTY), the field (else -1); no
 * line. Always returns -1. */
int	err_field(struct err *e, enum err_code code, int field,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* err_field with code and no field. Returns -1. */
#define err_code(e, code, ...)	err_field((e), (code), -1, __VA_ARGS__)

/* err_field with ERR_FAIL, for an error no caller acts on but to print
 * it. Returns -1. */
#define err_set(e, ...)		err_field((e), ERR_FAIL, -1, __VA_ARGS__)

/* ERR_LINE at line: "line LINE: " and the formatted WHY. Returns -1. */
int	err_line(struct err *e, unsigned long line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* An ERR_LINE error counted from base lines further on (its input was
 * a part that started after base lines): line and message renumbered. */
void	err_reline(struct err *e, unsigned long base);

#endif
