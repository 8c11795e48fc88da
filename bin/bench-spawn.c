/* Runs a command N times in sequence and prints the median, p99 and mean
 * wall time of one run in microseconds. Every argument holding "%d" has it
 * replaced by the run's number, so that each run can use a new triplet.
 * Used by bin/bench-check; not installed. */
#define _GNU_SOURCE
#include <sys/wait.h>

#include <fcntl.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ;

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *
subst(const char *arg, long i)
{
	const char *p = strstr(arg, "%d");
	char *s;

	if (p == NULL)
		return strdup(arg);
	if (asprintf(&s, "%.*s%ld%s", (int)(p - arg), arg, i, p + 2) == -1)
		return NULL;
	return s;
}

int
main(int argc, char *argv[])
{
	posix_spawn_file_actions_t fa;
	struct timespec a, b;
	double *t, sum = 0;
	long n, i, start;
	char **av;
	int k, st;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: bench-spawn N START command [args]\n");
		return 2;
	}
	n = atol(argv[1]);
	start = atol(argv[2]);
	t = calloc((size_t)n, sizeof(*t));
	av = calloc((size_t)argc, sizeof(*av));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (i = 0; i < n; i++) {
		for (k = 3; k < argc; k++)
			av[k - 3] = subst(argv[k], start + i);
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (posix_spawn(&pid, av[0], &fa, NULL, av, environ) != 0) {
			perror(av[0]);
			return 2;
		}
		waitpid(pid, &st, 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
			fprintf(stderr, "run %ld failed (status %d)\n", i, st);
			return 2;
		}
		t[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
		sum += t[i];
		for (k = 0; av[k] != NULL; k++)
			free(av[k]);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%.0f %.0f %.0f\n", t[n / 2], t[(n * 99) / 100], sum / n);
	return 0;
}
