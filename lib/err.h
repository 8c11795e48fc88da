/* Error values for lib/: a message filled in where the error is found and
 * printed once by the caller. */
#ifndef GREYLIST_ERR_H
#define GREYLIST_ERR_H

#define ERR_MAX 512

struct err {
	char msg[ERR_MAX];
};

/* Formats the message into e (may be NULL); always returns -1. */
int err_set(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
