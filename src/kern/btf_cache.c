/* Kernel BTF for queries (see btf_cache.h).
 *
 * vmlinux BTF is mapped read-only from sysfs (kernels >= 6.16 allow it) and
 * handed to btf__new(), which keeps its own copy: the heap holds one copy
 * instead of the two that libbpf's file reader needs at its peak, and there
 * are no 4 KiB sysfs reads. Older kernels fall back to btf__parse_split().
 *
 * The name index groups the ids of named vmlinux types by a hash of the
 * name into BTF_INDEX_TYPES_PER_BUCKET-sized buckets (a counting sort: one
 * pass hashes, one pass places), built on the first exact-name lookup.
 * Memory: 4 bytes per named type plus 4 per bucket, ~0.35 MiB for the ~127k
 * types of a 6.x kernel, and 2 bytes per type while it is built. A random-
 * access hash table of the same types cost 3x the build time in cache
 * misses; libbpf's btf__find_by_name_kind() walks every type on each call
 * (~2 ms here, over the 1 ms budget of a warm lookup).
 */
#define _GNU_SOURCE
#include "btf_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#define BTF_INDEX_TYPES_PER_BUCKET 8       /* types (named or not) per bucket: ~4 names to compare */
#define BTF_INDEX_BUCKETS_MAX      32768   /* bucket numbers + 1 fit the u16 tags */

static struct {
	struct btf *vmlinux;
	uint32_t *bucket;       /* nbuckets + 1 starts into ids */
	uint32_t *ids;          /* named type ids, bucket by bucket, ascending in each */
	uint32_t bucket_mask;   /* nbuckets - 1 (a power of two) */
	bool index_refused;     /* the heap refused it once: scan from then on */
} cache;

/* vmlinux and its index are made once, by the first caller, under this
 * lock (calls of several sessions run at once); read-only after. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* A raw BTF file: mapped when the kernel allows it, else read by libbpf. */
static int load_file(const char *path, struct btf *base, struct btf **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st)) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > UINT32_MAX) {
		close(fd);
		return -EINVAL;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	struct btf *b;
	if (p == MAP_FAILED) {
		b = btf__parse_split(path, base);
	} else {
		b = btf__new_split(p, (uint32_t)st.st_size, base);
		munmap(p, (size_t)st.st_size);
	}
	if (!b)
		return errno ? -errno : -EINVAL;
	*out = b;
	return 0;
}

static void view_init(struct btf_view *v, struct btf *b, bool owned, const char *kind, const char *name,
		      uint32_t id)
{
	v->btf = b;
	v->owned = owned;
	v->kind = kind;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->btf_id = id;
}

int btf_cache__vmlinux(struct btf_view *v)
{
	pthread_mutex_lock(&cache_lock);
	int r = cache.vmlinux ? 0 : load_file(BTF_SYSFS_DIR "/vmlinux", NULL, &cache.vmlinux);
	if (r)
		cache.vmlinux = NULL;
	struct btf *b = cache.vmlinux;
	pthread_mutex_unlock(&cache_lock);
	if (!r)
		view_init(v, b, false, "vmlinux", "vmlinux", 0);
	return r;
}

/* A module name is one path component of /sys/kernel/btf. */
static bool module_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (!n || n >= BTF_MODULE_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return !strchr(name, '/');
}

int btf_cache__module(const char *name, struct btf_view *v)
{
	if (!module_name_ok(name))
		return -EINVAL;
	if (!strcmp(name, "vmlinux"))
		return btf_cache__vmlinux(v);
	char path[sizeof(BTF_SYSFS_DIR) + BTF_MODULE_NAME_MAX + 1];
	snprintf(path, sizeof(path), BTF_SYSFS_DIR "/%s", name);
	if (access(path, R_OK))
		return -errno;
	struct btf_view base;
	int r = btf_cache__vmlinux(&base);
	if (r)
		return r;
	struct btf *b;
	r = load_file(path, base.btf, &b);
	if (r)
		return r;
	view_init(v, b, true, "module", name, 0);
	return 0;
}

int btf_cache__by_id(uint32_t id, struct btf_view *v)
{
	int fd = bpf_btf_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	char name[BTF_MODULE_NAME_MAX] = "";
	struct bpf_btf_info info = { 0 };
	uint32_t len = sizeof(info);
	info.name = (uint64_t)(uintptr_t)name;
	info.name_len = sizeof(name);
	int r = bpf_btf_get_info_by_fd(fd, &info, &len);
	r = r ? -errno : 0;
	close(fd);
	if (r)
		return r;
	name[sizeof(name) - 1] = 0;
	/* The kernel's own vmlinux object is the cached one: no second 5.5 MB
	 * copy (three at the peak of libbpf's by-id load). */
	if (info.kernel_btf && !strcmp(name, "vmlinux")) {
		if ((r = btf_cache__vmlinux(v)))
			return r;
		v->kind = "btf_id";
		v->btf_id = id;
		return 0;
	}
	/* Kernel module BTF holds only the module's types on top of vmlinux. */
	struct btf_view base = { 0 };
	if (info.kernel_btf && (r = btf_cache__vmlinux(&base)))
		return r;
	struct btf *b = btf__load_from_kernel_by_id_split(id, base.btf);
	if (!b)
		return errno ? -errno : -EINVAL;
	view_init(v, b, true, "btf_id", name, id);
	return 0;
}

void btf_cache__close(struct btf_view *v)
{
	if (v->owned)
		btf__free(v->btf);
	v->btf = NULL;
	v->owned = false;
}

/* ---- name index ---------------------------------------------------------- */

/* The index is built from ~127k names on the first lookup, so the hash
 * takes eight bytes a step and finds the NUL inside the word (a byte-wise
 * hash plus strlen tripled the build). The words are the name's bytes
 * zero-padded to a multiple of eight, whichever path reads them; bytes up
 * to `end` may be read past the NUL. */
static uint64_t hash_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ h >> 29;
}

static uint32_t name_hash(const char *s, const char *end)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t h = 0, w;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; end - s >= 8; s += 8) {
		memcpy(&w, s, 8);
		uint64_t z = (w - ones) & ~w & highs;   /* lowest set bit: the first NUL */
		if (z) {
			unsigned keep = (unsigned)__builtin_ctzll(z) / 8;
			return (uint32_t)hash_word(h, keep ? w & (~0ull >> (64 - 8 * keep)) : 0);
		}
		h = hash_word(h, w);
	}
#endif
	for (;;) {
		w = 0;
		for (unsigned i = 0; i < 8 && s[i]; i++)
			w |= (uint64_t)(unsigned char)s[i] << (8 * i);
		h = hash_word(h, w);
		if (!w || w >> 56 == 0)
			return (uint32_t)h;
		s += 8;
	}
}

/* Where name strings may be read in whole words: the end of the raw BTF
 * (the string section is inside it). */
static const char *strs_end(const struct btf *b)
{
	uint32_t size = 0;
	const char *raw = btf__raw_data(b, &size);
	return raw ? raw + size : NULL;
}

/* Pass 1 hashes every name into a bucket number (+1; 0 = anonymous) and
 * counts per bucket; pass 2 places ids in id order, so each bucket lists
 * its ids ascending and lookups need no sort. */
static int index_build(const struct btf *b)
{
	uint32_t n = btf__type_cnt(b), nb = 1024, named = 0;
	while (nb < n / BTF_INDEX_TYPES_PER_BUCKET && nb < BTF_INDEX_BUCKETS_MAX)
		nb <<= 1;
	uint16_t *tag = malloc((size_t)n * sizeof(*tag));
	uint32_t *start = calloc((size_t)nb + 1, sizeof(*start));
	if (!tag || !start) {
		free(tag);
		free(start);
		return -ENOMEM;
	}
	/* vmlinux has no base: a name is the string section plus name_off
	 * (offsets were range-checked when libbpf parsed it). */
	const char *strs = btf__name_by_offset(b, 0), *end = strs_end(b);
	for (uint32_t id = 1; id < n; id++) {
		const char *nm = strs + btf__type_by_id(b, id)->name_off;
		tag[id] = *nm ? (uint16_t)((name_hash(nm, end ? end : nm) & (nb - 1)) + 1) : 0;
		start[tag[id]]++;   /* counts land one slot up: prefix sums give starts */
		named += !!tag[id];
	}
	uint32_t *ids = malloc((size_t)(named ? named : 1) * sizeof(*ids));
	if (!ids) {
		free(tag);
		free(start);
		return -ENOMEM;
	}
	start[0] = 0;   /* anonymous types were counted there */
	for (uint32_t k = 1; k <= nb; k++)
		start[k] += start[k - 1];
	/* start[k] is where bucket k begins: place ids with it as the cursor */
	for (uint32_t id = 1; id < n; id++)
		if (tag[id])
			ids[start[tag[id] - 1]++] = id;
	for (uint32_t k = nb; k > 0; k--)   /* cursors ended one bucket late */
		start[k] = start[k - 1];
	start[0] = 0;
	free(tag);
	cache.bucket = start;
	cache.ids = ids;
	cache.bucket_mask = nb - 1;
	return 0;
}

static void index_find(const struct btf *b, const char *name, uint32_t *ids, unsigned cap, unsigned *total)
{
	uint32_t k = name_hash(name, name + strlen(name) + 1) & cache.bucket_mask;
	for (uint32_t i = cache.bucket[k]; i < cache.bucket[k + 1]; i++) {
		uint32_t id = cache.ids[i];
		if (!strcmp(btf__name_by_offset(b, btf__type_by_id(b, id)->name_off), name)) {
			if (*total < cap)
				ids[*total] = id;   /* ascending already */
			(*total)++;
		}
	}
}

void btf_cache__find_name(const struct btf_view *v, const char *name, uint32_t *ids, unsigned cap,
			  unsigned *total)
{
	const struct btf *b = v->btf;
	*total = 0;
	if (!*name)
		return;   /* anonymous types have no name to find */
	pthread_mutex_lock(&cache_lock);
	if (b == cache.vmlinux && !cache.ids && !cache.index_refused && index_build(b))
		cache.index_refused = true;
	bool indexed = b == cache.vmlinux && cache.ids;
	pthread_mutex_unlock(&cache_lock);
	if (indexed) {
		index_find(b, name, ids, cap, total);
		return;
	}
	const struct btf *base = btf__base_btf(b);
	uint32_t n = btf__type_cnt(b);
	for (uint32_t id = base ? btf__type_cnt(base) : 1; id < n; id++)
		if (!strcmp(btf__name_by_offset(b, btf__type_by_id(b, id)->name_off), name)) {
			if (*total < cap)
				ids[*total] = id;   /* ascending: ids are walked in order */
			(*total)++;
		}
}
