/* Error values for lib/ (see err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int
err_field(struct err *e, enum err_code code, int field, const char *fmt,
    ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	e->line = 0;
	e->field = field;
	e->why = 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Writes "line LINE: " and why (at most ERR_MAX bytes) into e. */
static void
err_lineset(struct err *e, unsigned long line, const char *why)
{
	char buf[ERR_MAX];
	int n;

	snprintf(buf, sizeof(buf), "%s", why);
	n = snprintf(e->msg, sizeof(e->msg), "line %lu: ", line);
	e->why = n > 0 && (size_t)n < sizeof(e->msg) ? (unsigned)n : 0;
	snprintf(e->msg + e->why, sizeof(e->msg) - e->why, "%s", buf);
	e->code = ERR_LINE;
	e->line = line;
	e->field = -1;
}

int
err_line(struct err *e, unsigned long line, const char *fmt, ...)
{
	char why[ERR_MAX];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	err_lineset(e, line, why);
	return -1;
}

void
err_reline(struct err *e, unsigned long base)
{
	char why[ERR_MAX];

	if (e->code != ERR_LINE)
		return;
	snprintf(why, sizeof(why), "%s", e->msg + e->why);
	err_lineset(e, e->line + base, why);
}
