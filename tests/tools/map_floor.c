/* Benchmark floor for map_dump: read every entry of a pinned map with
 * BPF_MAP_LOOKUP_BATCH into memory and nothing else (no decoding, no JSON,
 * no output but one line of figures), so a dump's cost can be set against
 * what the kernel alone takes to hand the entries over.
 *
 *     map_floor PIN_PATH [BATCH_ENTRIES]
 *
 * Prints "<entries> <ns in the batch calls> <cpu ns of the process>" (user +
 * system time, getrusage). BATCH_ENTRIES (default 65536)
 * is how many entries one call may return; a bucket larger than that makes
 * the kernel answer ENOSPC, and the request is doubled up to FLOOR_GROW. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define FLOOR_BATCH 65536u      /* default entries per call */
#define FLOOR_GROW  (1u << 22)  /* largest request after ENOSPC doublings */

static int die(const char *what)
{
	fprintf(stderr, "map_floor: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: map_floor PIN_PATH [BATCH_ENTRIES]\n");
		return 2;
	}
	uint32_t batch = argc == 3 ? (uint32_t)strtoul(argv[2], NULL, 10) : FLOOR_BATCH;
	int fd = bpf_obj_get(argv[1]);
	if (fd < 0)
		return die(argv[1]);
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len))
		return die("map info");
	int ncpu = libbpf_num_possible_cpus();
	size_t tok = info.key_size > 4 ? info.key_size : 4;   /* a hash batch token is a u32 bucket */
	size_t vsize = info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_PERCPU_ARRAY
			? ((info.value_size + 7u) & ~7u) * (size_t)ncpu : info.value_size;
	uint8_t *keys = malloc((size_t)FLOOR_GROW * info.key_size), *vals = malloc((size_t)FLOOR_GROW * vsize);
	uint8_t *in = calloc(1, tok), *out = calloc(1, tok);
	if (!keys || !vals || !in || !out)
		return die("malloc");
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	uint64_t total = 0, t0 = now_ns();
	for (int first = 1;; first = 0) {
		uint32_t n = batch;
		int r = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, vals, &n, &o);
		if (r && errno == ENOSPC && !n && batch < FLOOR_GROW) {
			batch *= 2;
			continue;
		}
		if (r && errno != ENOENT)
			return die("lookup batch");
		total += n;
		if (r)
			break;
		memcpy(in, out, tok);
	}
	uint64_t ns = now_ns() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	uint64_t cpu = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
		       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
	printf("%llu %llu %llu\n", (unsigned long long)total, (unsigned long long)ns, (unsigned long long)cpu);
	return 0;
}
