/* Benchmark client for map_dump: spawn the server on pipes, page through a
 * pinned map with the cursor, and read each reply line without parsing it
 * (only its tail is scanned for count, done and next_cursor), so what is
 * timed is the server's work from the first request to the last byte of the
 * last reply, not a JSON parser's.
 *
 *     map_pager SERVER PIN_PATH PAGE_ENTRIES [SERVER_ARGS...]
 *
 * Prints "<entries> <pages> <reply bytes> <ns> <server cpu ns>" (the last:
 * the server's user + system time over its whole life, from wait4) and
 * exits 0, or names what
 * went wrong and exits 1. Replies are read into one buffer of up to
 * PAGER_LINE_BYTES. With MAP_PAGER_OUT=FILE set, every reply line is also
 * written to FILE (to compare outputs; the time then includes it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGER_LINE_BYTES (512u << 20)  /* largest reply line read */
#define PAGER_PIPE_BYTES (16u << 20)   /* asked of the kernel for the reply pipe: a whole page, so the server never waits on the reader (root may exceed pipe-max-size) */
#define PAGER_TAIL       4096          /* bytes at a reply's end scanned for its members */
#define PAGER_CURSOR     1024          /* longest cursor carried to the next request */
#define PAGER_PAGES      100000        /* pages before giving up */

static char *buf;
static size_t have, used;   /* bytes in buf; bytes of it already returned as lines */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The next reply line (without its newline) at *line; its length, or -1. */
static ssize_t read_line(int fd, const char **line)
{
	if (used) {
		memmove(buf, buf + used, have - used);
		have -= used, used = 0;
	}
	for (size_t scanned = 0;;) {
		char *nl = memchr(buf + scanned, '\n', have - scanned);
		if (nl) {
			*line = buf;
			used = (size_t)(nl - buf) + 1;
			return nl - buf;
		}
		scanned = have;
		if (have == PAGER_LINE_BYTES)
			return -1;
		ssize_t n = read(fd, buf + have, PAGER_LINE_BYTES - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
}

/* The last occurrence of s in [p, p+n). */
static const char *last(const char *p, size_t n, const char *s)
{
	const char *hit = NULL;
	for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), s, strlen(s))); q++)
		hit = q;
	return hit;
}

static int fail(const char *what, const char *line, ssize_t n)
{
	fprintf(stderr, "map_pager: %s: %.*s\n", what, (int)(n < 400 ? n : 400), line ? line : "");
	return 1;
}

static pid_t spawn(char **argv, int *to, int *from)
{
	int a[2], b[2];
	if (pipe(a) || pipe(b))
		return -1;
	if (fcntl(b[0], F_SETPIPE_SZ, PAGER_PIPE_BYTES) < 0)
		fcntl(b[0], F_SETPIPE_SZ, 1u << 20);   /* the usual pipe-max-size */
	pid_t pid = fork();
	if (pid == 0) {
		dup2(a[0], 0);
		dup2(b[1], 1);
		close(a[1]), close(b[0]), close(a[0]), close(b[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(a[0]), close(b[1]);
	*to = a[1], *from = b[0];
	return pid;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return fprintf(stderr, "usage: map_pager SERVER PIN_PATH PAGE_ENTRIES [SERVER_ARGS...]\n"), 2;
	char *sargv[64] = { argv[1] };
	for (int i = 4; i < argc && i < 62; i++)
		sargv[i - 3] = argv[i];
	buf = malloc(PAGER_LINE_BYTES);
	int to, from;
	pid_t pid = buf ? spawn(sargv, &to, &from) : -1;
	if (pid < 0)
		return fail("spawn", NULL, 0);
	static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
				   "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"pager\",\"version\":\"1\"}}}\n";
	const char *line;
	ssize_t n;
	if (write(to, init, sizeof(init) - 1) < 0 || read_line(from, &line) < 0)
		return fail("initialize", NULL, 0);
	char cursor[PAGER_CURSOR] = "", req[PAGER_CURSOR + 512];
	const char *save = getenv("MAP_PAGER_OUT");
	FILE *copy = save ? fopen(save, "w") : NULL;
	if (save && !copy)
		return fail("MAP_PAGER_OUT", save, (ssize_t)strlen(save));
	uint64_t entries = 0, bytes = 0, t0 = now_ns();
	int pages = 0;
	for (bool done = false; !done && pages < PAGER_PAGES; pages++) {
		int k = snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":"
				 "\"map_dump\",\"arguments\":{\"pin_path\":\"%s\",\"limit\":%s%s%s%s}}}\n", pages + 2, argv[2],
				 argv[3], *cursor ? ",\"cursor\":\"" : "", cursor, *cursor ? "\"" : "");
		if (write(to, req, (size_t)k) != k || (n = read_line(from, &line)) < 0)
			return fail("request", NULL, 0);
		bytes += (uint64_t)n + 1;
		if (copy)
			fwrite(line, 1, (size_t)n + 1, copy);
		size_t off = n > PAGER_TAIL ? (size_t)n - PAGER_TAIL : 0;
		const char *c = last(line + off, (size_t)n - off, "\"count\":");
		unsigned long long cnt;
		char d[6];
		if (!c || sscanf(c, "\"count\":%llu,\"read\":\"%*[a-z]\",\"done\":%5[a-z]", &cnt, d) != 2)
			return fail("reply without a count", line, n);
		entries += cnt;
		done = !strcmp(d, "true");
		const char *nc = done ? NULL : last(line + off, (size_t)n - off, "\"next_cursor\":\"");
		if (!done && (!nc || sscanf(nc, "\"next_cursor\":\"%1000[^\"]", cursor) != 1))
			return fail("reply without a cursor", line, n);
	}
	uint64_t ns = now_ns() - t0;
	if (copy)
		fclose(copy);
	close(to);
	struct rusage ru;
	if (wait4(pid, NULL, 0, &ru) != pid)
		return fail("wait4", NULL, 0);
	uint64_t cpu = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
		       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
	printf("%llu %d %llu %llu %llu\n", (unsigned long long)entries, pages, (unsigned long long)bytes, (unsigned long long)ns,
	       (unsigned long long)cpu);
	return 0;
}
