/* Test and benchmark fixture: create a BPF map with BTF (u32 keys, u64
 * values), pin it, and fill it fast with BPF_MAP_UPDATE_BATCH.
 *
 *     map_fill PIN_PATH TYPE MAX_ENTRIES COUNT
 *
 * TYPE is hash, percpu_hash or array. Keys are 0..COUNT-1; the value of key
 * k is k * 1000 + 7 (plus the CPU's number for per-CPU maps), so a reader
 * can check each entry without a second source. Prints the map id. The map lives as
 * long as its pin. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define FILL_CHUNK 65536u   /* entries per update_batch call */

static int die(const char *what)
{
	fprintf(stderr, "map_fill: %s: %s\n", what, strerror(errno));
	return 1;
}

/* A BTF object with the key and value types, loaded into the kernel. */
static int make_btf(uint32_t *key_id, uint32_t *val_id)
{
	struct btf *b = btf__new_empty();
	if (!b)
		return -1;
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int u64 = btf__add_int(b, "unsigned long long", 8, 0);
	*key_id = (uint32_t)btf__add_typedef(b, "__u32", u32);
	*val_id = (uint32_t)btf__add_typedef(b, "__u64", u64);
	int r = btf__load_into_kernel(b);
	int fd = r ? -1 : dup(btf__fd(b));
	btf__free(b);
	return fd;
}

static enum bpf_map_type parse_type(const char *s)
{
	if (!strcmp(s, "hash"))
		return BPF_MAP_TYPE_HASH;
	if (!strcmp(s, "percpu_hash"))
		return BPF_MAP_TYPE_PERCPU_HASH;
	if (!strcmp(s, "array"))
		return BPF_MAP_TYPE_ARRAY;
	return BPF_MAP_TYPE_UNSPEC;
}

static int fill(int fd, uint32_t count, unsigned ncpus)
{
	uint32_t *keys = malloc(FILL_CHUNK * sizeof(uint32_t));
	uint64_t *vals = malloc((size_t)FILL_CHUNK * ncpus * sizeof(uint64_t));
	if (!keys || !vals)
		return -ENOMEM;
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	for (uint32_t start = 0; start < count; start += FILL_CHUNK) {
		uint32_t n = count - start < FILL_CHUNK ? count - start : FILL_CHUNK;
		for (uint32_t i = 0; i < n; i++) {
			keys[i] = start + i;
			for (unsigned c = 0; c < ncpus; c++)
				vals[(size_t)i * ncpus + c] = (uint64_t)(start + i) * 1000 + 7 + c;
		}
		uint32_t done = n;
		if (bpf_map_update_batch(fd, keys, vals, &done, &o))
			return -errno;
	}
	free(keys);
	free(vals);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: map_fill PIN_PATH hash|percpu_hash|array MAX_ENTRIES COUNT\n");
		return 2;
	}
	enum bpf_map_type type = parse_type(argv[2]);
	uint32_t max = (uint32_t)strtoul(argv[3], NULL, 10), count = (uint32_t)strtoul(argv[4], NULL, 10);
	if (type == BPF_MAP_TYPE_UNSPEC || !max || count > max) {
		fprintf(stderr, "map_fill: bad type or sizes\n");
		return 2;
	}
	uint32_t key_id, val_id;
	int btf_fd = make_btf(&key_id, &val_id);
	if (btf_fd < 0)
		return die("loading BTF");
	LIBBPF_OPTS(bpf_map_create_opts, mo, .btf_fd = (uint32_t)btf_fd, .btf_key_type_id = key_id,
		    .btf_value_type_id = val_id);
	int fd = bpf_map_create(type, "map_fill", 4, 8, max, &mo);
	if (fd < 0)
		return die("creating the map");
	unsigned ncpus = type == BPF_MAP_TYPE_PERCPU_HASH ? (unsigned)libbpf_num_possible_cpus() : 1;
	int r = fill(fd, count, ncpus);
	if (r) {
		errno = -r;
		return die("filling the map");
	}
	if (bpf_obj_pin(fd, argv[1]))
		return die("pinning the map");
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	if (bpf_map_get_info_by_fd(fd, &info, &len))
		return die("reading the map's id");
	printf("%u\n", info.id);
	return 0;
}
