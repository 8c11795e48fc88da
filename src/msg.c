/* The front end's messages: formatted here, written by the sinks
 * (cmd_vwarn and cmd_say, in src/greylist.c for the program and in
 * t/fuzz/stub.c for the fuzz targets, which check that each is one
 * line). */
#include <stdarg.h>
#include <stdio.h>

#include "cmd.h"

int
cmd_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vwarn(fmt, ap);
	va_end(ap);
	return EXIT_ERROR;
}

void
cmd_log(struct ctx *x, int prio, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cmd_say(x, prio, buf);
}
