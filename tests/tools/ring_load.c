/* Benchmark fixture: loads build/bpf/bench_ring.bpf.o with its ring buffer
 * resized, attaches it, and holds it while stdin is open.
 *
 *     ring_load OBJECT RING_BYTES
 *
 * Prints {"map_id","counters_id","ring_bytes"} once attached; then, for
 * each line read on stdin, the program's own counters as
 * {"reserved","failed"} (failed: bpf_ringbuf_reserve found the ring full).
 * Everything is released when stdin closes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int die(const char *what)
{
	fprintf(stderr, "ring_load: %s: %s\n", what, strerror(errno));
	return 1;
}

static int map_id(const struct bpf_map *m)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	return bpf_map_get_info_by_fd(bpf_map__fd(m), &info, &len) ? -1 : (int)info.id;
}

static void print_counters(const struct bpf_map *m)
{
	__u64 v[2] = { 0, 0 };
	for (__u32 k = 0; k < 2; k++)
		bpf_map_lookup_elem(bpf_map__fd(m), &k, &v[k]);
	printf("{\"reserved\":%llu,\"failed\":%llu}\n", (unsigned long long)v[0], (unsigned long long)v[1]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return fprintf(stderr, "usage: %s OBJECT RING_BYTES\n", argv[0]), 2;
	unsigned long ring = strtoul(argv[2], NULL, 0);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return die("open");
	struct bpf_map *events = bpf_object__find_map_by_name(obj, "events");
	struct bpf_map *counters = bpf_object__find_map_by_name(obj, "counters");
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "emit");
	if (!events || !counters || !prog)
		return errno = ENOENT, die("events, counters or emit");
	if (bpf_map__set_max_entries(events, (__u32)ring))
		return die("ring size (a power of 2, at least a page)");
	if (bpf_object__load(obj))
		return die("load");
	struct bpf_link *link = bpf_program__attach(prog);
	if (!link)
		return die("attach");
	printf("{\"map_id\":%d,\"counters_id\":%d,\"ring_bytes\":%u}\n", map_id(events), map_id(counters),
	       bpf_map__max_entries(events));
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin))
		print_counters(counters);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
