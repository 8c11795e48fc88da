/* Fuzz target: the Postfix policy protocol of `greylist policy`. The
 * input's first byte picks the settings and how the stream is cut into
 * reads and writes; the rest is what Postfix sends. src/cmd_policy.c is
 * included with read, poll and write replaced by ones that serve the
 * input from memory and take the replies (the watchdog is a stub), so
 * pol_run runs as it does on stdin and stdout. There is no database: a
 * request that needs one gets DUNNO, one that an exemption decides gets
 * PREPEND. Every empty line that ends a request must get exactly one
 * well-formed reply, and nothing else may be written. */
#include <poll.h>
#include <unistd.h>

#include "fuzz.h"

static ssize_t	fz_read(int, void *, size_t);
static ssize_t	fz_write(int, const void *, size_t);
static int	fz_poll(struct pollfd *, nfds_t, int);

#define read(fd, buf, n)	fz_read(fd, buf, n)
#define write(fd, buf, n)	fz_write(fd, buf, n)
#define poll(fds, n, ms)	fz_poll(fds, n, ms)
#include "../../src/cmd_policy.c"
#undef read
#undef write
#undef poll

/* Sizes of successive reads and writes, cycled from the input's pick. */
static const size_t fz_sizes[8] = { 1, 2, 13, 255, 4095, 4097, 8192,
	16384 };

static struct {
	const uint8_t *data;
	size_t	 size, off;
	unsigned pick, reads, writes;
	char	 reply[POL_REPLY_MAX + 1];	/* the reply being written */
	size_t	 rlen;
	unsigned replies;
} fz;

static struct ctx fz_ctx[4];	/* normalize_verp and privacy off/on */

int	LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const lines[] = {
		"no_delay 192.0.2.0/24 10. 2001:db8:1::/48",
		"exempt @example.com postmaster@example.org",
		"reply 451 4.7.1 Greylisted for %s seconds (%r) %n %d",
	};
	struct err e;
	size_t i, j;

	(void)argc;
	(void)argv;
	for (i = 0; i < 4; i++) {
		conf_init(&fz_ctx[i].conf, "/var/lib/greylist");
		for (j = 0; j < sizeof(lines) / sizeof(lines[0]); j++)
			FZ_ASSERT(conf_line(&fz_ctx[i].conf, lines[j], "fuzz",
			    (int)j + 1, &e) == 0);
		fz_ctx[i].conf.normalize_verp = (i & 1) != 0;
		fz_ctx[i].conf.privacy = (i & 2) != 0;
		fz_ctx[i].now = 1700000000;
		fz_ctx[i].now_fixed = 1;
	}
	return 0;
}

static ssize_t
fz_read(int fd, void *buf, size_t n)
{
	size_t len = fz_sizes[(fz.pick + fz.reads++) % 8];

	FZ_ASSERT(fd == STDIN_FILENO && n > 0);
	if (len > n)
		len = n;
	if (len > fz.size - fz.off)
		len = fz.size - fz.off;
	memcpy(buf, fz.data + fz.off, len);
	fz.off += len;
	return (ssize_t)len;
}

static int
fz_poll(struct pollfd *fds, nfds_t n, int ms)
{
	(void)ms;
	FZ_ASSERT(n == 1 && fds[0].fd == STDIN_FILENO);
	fds[0].revents = POLLIN;
	return 1;
}

/* A whole reply: "action=WORD[ TEXT]" then an empty line, TEXT one line
 * of printable text. */
static void
fz_reply(const char *r, size_t len)
{
	static const char *const actions[] = { "action=DUNNO",
	    "action=PREPEND ", "action=DEFER_IF_PERMIT " };
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(actions[i]);
		if (len >= n + 2 && strncmp(r, actions[i], n) == 0)
			break;
	}
	FZ_ASSERT(i < 3);
	FZ_ASSERT(i == 0 ? len == n + 2 : len > n + 2);
	for (; n < len - 2; n++)
		FZ_ASSERT((unsigned char)r[n] >= 0x20 && r[n] != 0x7f);
	FZ_ASSERT(r[len - 2] == '\n' && r[len - 1] == '\n');
	fz.replies++;
}

/* Takes part of a reply, as a pipe might; a reply ends at "\n\n". */
static ssize_t
fz_write(int fd, const void *buf, size_t n)
{
	size_t len = fz_sizes[(fz.pick / 8 + fz.writes++) % 8];

	FZ_ASSERT(fd == STDOUT_FILENO && n > 0);
	if (len > n)
		len = n;
	FZ_ASSERT(fz.rlen + len <= POL_REPLY_MAX);
	memcpy(fz.reply + fz.rlen, buf, len);
	fz.rlen += len;
	if (fz.rlen >= 2 && memcmp(fz.reply + fz.rlen - 2, "\n\n", 2) == 0) {
		fz_reply(fz.reply, fz.rlen);
		fz.rlen = 0;
	}
	return (ssize_t)len;
}

/* The requests the input ends: its complete lines that are empty or a
 * lone CR (a line too long to take is never empty). */
static unsigned
fz_requests(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;
	unsigned n = 0;

	for (; (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1)
		n += nl == p || (nl == p + 1 && *p == '\r');
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol *p;

	if (size < 1)
		return 0;
	memset(&fz, 0, sizeof(fz));
	fz.pick = data[0] >> 2;
	fz.data = data + 1;
	fz.size = size - 1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return 0;
	p->x = &fz_ctx[data[0] & 3];
	p->out = STDOUT_FILENO;
	FZ_ASSERT(pol_run(p) == EXIT_PASS);
	FZ_ASSERT(p->s == NULL);
	FZ_ASSERT(fz.rlen == 0);
	FZ_ASSERT(fz.replies == fz_requests(fz.data, fz.size));
	free(p);
	return 0;
}
