/* Benchmark fixture: an exactly known number of close_range() calls, the
 * events build/bpf/bench_ring.bpf.o and bench's bpftrace script both see.
 *
 *     ring_producer N RATE [SECONDS]
 *
 * Makes N calls close_range(seq, 0, BAD_FLAGS) with seq = 0..N-1 (fewer if
 * SECONDS is given and runs out first; the count made is printed): the
 * kernel rejects the flags at once (EINVAL, nothing closed), after the
 * sys_enter tracepoint has fired with seq as its first argument. RATE 0 is
 * flat out; otherwise calls are paced to RATE per second (sleeping while
 * ahead of the schedule). The comm must stay "ring_producer" (the filters
 * compare it). Prints {"produced","ns","rate"} at the end; exits 1 if any
 * call did not fail with EINVAL as it should. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BAD_FLAGS 0x80000000u     /* not a CLOSE_RANGE_* flag */
#define PACE_SLEEP_NS 100000L     /* sleep while ahead of the schedule */
#define CLOCK_EVERY 1024ul        /* flat-out calls between looks at the clock */

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static int one(unsigned long seq)
{
	return syscall(SYS_close_range, (unsigned int)seq, 0u, BAD_FLAGS) == -1 && errno == EINVAL;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		return fprintf(stderr, "usage: %s N RATE [SECONDS]\n", argv[0]), 2;
	unsigned long n = strtoul(argv[1], NULL, 10), rate = strtoul(argv[2], NULL, 10), ok = 0, i = 0;
	unsigned long long t0 = now_ns(), end = argc == 4 ? strtoull(argv[3], NULL, 10) * 1000000000ull : ~0ull;
	while (i < n) {
		if (rate) {
			unsigned long long t = now_ns() - t0, due = t * rate / 1000000000ull + 1;
			if (t >= end)
				break;
			if (i >= due) {
				struct timespec ts = { 0, PACE_SLEEP_NS };
				nanosleep(&ts, NULL);
				continue;
			}
			for (; i < due && i < n; i++)
				ok += one(i);
		} else {
			ok += one(i++);
			if (i % CLOCK_EVERY == 0 && now_ns() - t0 >= end)
				break;
		}
	}
	unsigned long long ns = now_ns() - t0;
	printf("{\"produced\":%lu,\"ns\":%llu,\"rate\":%.0f}\n", i, ns, (double)i * 1e9 / (double)(ns ? ns : 1));
	return ok == i ? 0 : 1;
}
