/* The Postfix policy delegation protocol of cmd_policy.c, one connection
 * at a time, for serve's event loop. */
#ifndef GREYLIST_POLPROTO_H
#define GREYLIST_POLPROTO_H

#include <stddef.h>

struct ctx;
struct pol;
struct store;

/* A connection whose replies go to out; free(3) it when done (the store
 * is the caller's). NULL = error (errno). */
struct pol *pol_new(struct ctx *, int out);

/* Where to read the next input into: *at, at most the returned length
 * (never 0: a long line is dropped while it arrives). */
size_t	pol_space(struct pol *, char **at);

/* Takes n bytes read at pol_space's place and answers every request they
 * complete, deciding with *s (opened, closed or replaced as needed).
 * -1 = cannot write a reply (logged), 0 = done. */
int	pol_feed(struct pol *, size_t n, struct store **s);

/* Answers every complete request in the buffer. -1 = cannot write a
 * reply (logged), 0 = done. */
int	pol_requests(struct pol *);

/* 1 = part of a request has arrived, 0 = none. */
int	pol_partial(const struct pol *);

/* At the end of the input: logs a request left incomplete. */
void	pol_eof(struct pol *);

#endif
