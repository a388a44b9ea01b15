/* Kernel feature probes through libbpf, cached for the process lifetime
 * (see probe.h). */
#include "probe.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

struct type_cache {
	struct probe_type types[PROBE_MAX_TYPES];
	unsigned n;
	bool done;
	uint64_t probe_ns;
};

struct helper_cache {
	struct probe_helper *all;          /* one malloc holding names too */
	unsigned n;
	bool loaded;
	uint8_t *usable[PROBE_MAX_TYPES];  /* per program type, once probed */
	unsigned n_usable[PROBE_MAX_TYPES];
	uint64_t probe_ns[PROBE_MAX_TYPES];
};

/* Filled once, under the lock, by the first caller (the others wait for
 * it); read-only after. */
static struct type_cache caches[2];
static struct helper_cache helpers;
static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER, helpers_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *type_name(enum probe_kind k, uint32_t t)
{
	return k == PROBE_PROG ? libbpf_bpf_prog_type_str((enum bpf_prog_type)t)
			       : libbpf_bpf_map_type_str((enum bpf_map_type)t);
}

static void probe_one(enum probe_kind k, struct probe_type *p)
{
	/* libbpf answers 0 for "refused" but leaves the kernel's errno from the
	 * failed load/create in errno: that is the reason we report. */
	errno = 0;
	int r = k == PROBE_PROG ? libbpf_probe_bpf_prog_type((enum bpf_prog_type)p->id, NULL)
				: libbpf_probe_bpf_map_type((enum bpf_map_type)p->id, NULL);
	int e = errno;
	if (r > 0) {
		p->supported = 1;
		p->err = 0;
	} else if (r == 0) {
		p->supported = 0;
		p->err = e;
	} else {
		p->supported = -1;   /* libbpf has no probe recipe for it */
		p->err = -r;
	}
}

int probe__types(enum probe_kind k, struct probe_types *out, bool *cached)
{
	struct type_cache *c = &caches[k == PROBE_MAP];
	pthread_mutex_lock(&types_lock);
	*cached = c->done;
	if (!c->done) {
		uint64_t t0 = mono_ns();
		c->n = 0;
		/* Value 0 is "unspec", not a type; libbpf names stop at the
		 * newest type it knows. */
		for (uint32_t t = 1; t < PROBE_MAX_TYPES; t++) {
			const char *name = type_name(k, t);
			if (!name)
				break;
			struct probe_type *p = &c->types[c->n++];
			p->id = t;
			p->name = name;
			probe_one(k, p);
		}
		c->probe_ns = mono_ns() - t0;
		c->done = true;
	}
	pthread_mutex_unlock(&types_lock);
	out->types = c->types;
	out->n = c->n;
	out->probe_ns = c->probe_ns;
	return 0;
}

const struct probe_type *probe__find(enum probe_kind k, const char *name)
{
	struct probe_types all;
	bool cached;
	if (probe__types(k, &all, &cached))
		return NULL;
	for (unsigned i = 0; i < all.n; i++)
		if (!strcmp(all.types[i].name, name))
			return &all.types[i];
	return NULL;
}

const char *probe__reason(enum probe_kind k, const struct probe_type *p, char *buf, unsigned cap)
{
	const char *what = k == PROBE_PROG ? "load a minimal program" : "create a minimal map";
	if (p->supported == 1)
		snprintf(buf, cap, "%s", "");
	else if (p->supported < 0)
		snprintf(buf, cap, "libbpf %u.%u has no probe for this type: support unknown",
			 libbpf_major_version(), libbpf_minor_version());
	else if (p->err)
		snprintf(buf, cap, "the kernel refused to %s of this type: %s%s", what, strerror(p->err),
			 k == PROBE_PROG && !strcmp(p->name, "tracing")
				 ? " (the probe is an fentry program; tp_btf and iterator programs may still load)" : "");
	else
		snprintf(buf, cap, "the kernel did not answer the probe (%s) the way a supporting kernel does", what);
	return buf;
}

#define FUNC_PREFIX "BPF_FUNC_"

/* Copies (id, "bpf_<name>") of every BPF_FUNC_* enumerator except unspec. */
static int collect_helpers(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_enum *e = btf_enum(t);
	unsigned vlen = btf_vlen(t), n = 0;
	size_t name_bytes = 0, pl = strlen(FUNC_PREFIX);
	for (unsigned i = 0; i < vlen; i++) {
		const char *s = btf__name_by_offset(btf, e[i].name_off);
		if (s && !strncmp(s, FUNC_PREFIX, pl) && e[i].val > 0 && n < PROBE_MAX_HELPERS) {
			name_bytes += strlen("bpf_") + strlen(s + pl) + 1;
			n++;
		}
	}
	struct probe_helper *all = malloc(n * sizeof(*all) + name_bytes);
	if (!all)
		return -ENOMEM;
	char *names = (char *)(all + n);
	unsigned k = 0;
	for (unsigned i = 0; i < vlen && k < n; i++) {
		const char *s = btf__name_by_offset(btf, e[i].name_off);
		if (!s || strncmp(s, FUNC_PREFIX, pl) || e[i].val <= 0)
			continue;
		all[k].id = (uint32_t)e[i].val;
		all[k].name = names;
		names += sprintf(names, "bpf_%s", s + pl) + 1;
		k++;
	}
	helpers.all = all;
	helpers.n = n;
	return 0;
}

/* Helper names and ids from the running kernel's BTF, loaded once and freed
 * right away: only the small name table stays. */
static int load_helper_names(void)
{
	if (helpers.loaded)
		return 0;
	struct btf *btf = btf__load_vmlinux_btf();
	if (!btf)
		return errno ? -errno : -ENOENT;
	int r = -ENOENT;
	int id = btf__find_by_name_kind(btf, "bpf_func_id", BTF_KIND_ENUM);
	if (id > 0)
		r = collect_helpers(btf, btf__type_by_id(btf, (uint32_t)id));
	btf__free(btf);
	if (!r)
		helpers.loaded = true;
	return r;
}

int probe__helper_names(const struct probe_helper **all, unsigned *n)
{
	pthread_mutex_lock(&helpers_lock);
	int r = load_helper_names();
	pthread_mutex_unlock(&helpers_lock);
	if (r)
		return r;
	*all = helpers.all;
	*n = helpers.n;
	return 0;
}

static int probe_helpers_of(uint32_t prog_type)
{
	uint8_t *bits = calloc(1, (helpers.n + 7) / 8 + 1);
	if (!bits)
		return -ENOMEM;
	uint64_t t0 = mono_ns();
	unsigned usable = 0;
	for (unsigned i = 0; i < helpers.n; i++) {
		int r = libbpf_probe_bpf_helper((enum bpf_prog_type)prog_type,
						(enum bpf_func_id)helpers.all[i].id, NULL);
		if (r < 0) {
			free(bits);
			return r;
		}
		if (r > 0) {
			bits[i / 8] |= (uint8_t)(1u << (i % 8));
			usable++;
		}
	}
	helpers.usable[prog_type] = bits;
	helpers.n_usable[prog_type] = usable;
	helpers.probe_ns[prog_type] = mono_ns() - t0;
	return 0;
}

int probe__helpers(uint32_t prog_type, struct probe_helpers *out, bool *cached)
{
	if (prog_type >= PROBE_MAX_TYPES)
		return -EINVAL;
	/* A refused load gives no verifier message, which libbpf reads as
	 * "helper usable": only a type the kernel accepts can be probed. */
	const char *name = libbpf_bpf_prog_type_str((enum bpf_prog_type)prog_type);
	const struct probe_type *pt = name ? probe__find(PROBE_PROG, name) : NULL;
	if (!pt)
		return -EINVAL;
	if (pt->supported != 1)
		return -ENODEV;
	pthread_mutex_lock(&helpers_lock);
	int r = load_helper_names();
	if (!r) {
		*cached = helpers.usable[prog_type] != NULL;
		if (!*cached)
			r = probe_helpers_of(prog_type);
	}
	pthread_mutex_unlock(&helpers_lock);
	if (r)
		return r;
	out->all = helpers.all;
	out->n = helpers.n;
	out->usable = helpers.usable[prog_type];
	out->n_usable = helpers.n_usable[prog_type];
	out->probe_ns = helpers.probe_ns[prog_type];
	return 0;
}

static const char *describe(const char *const desc[][2], unsigned n, const char *name)
{
	for (unsigned k = 0; k < n; k++)
		if (!strcmp(desc[k][0], name))
			return desc[k][1];
	return "No description in this server version (the type is newer than its table).";
}

void probe__write_type(struct jw *w, enum probe_kind k, const struct probe_type *p,
		       const char *const desc[][2], unsigned n)
{
	jw__obj(w);
	jw__kstr(w, "name", p->name);
	jw__kuint(w, "id", p->id);
	jw__key(w, "supported");
	if (p->supported < 0)
		jw__null(w);
	else
		jw__bool(w, p->supported == 1);
	if (p->supported != 1) {
		char why[160];
		jw__key(w, "errno");
		if (p->err)
			jw__int(w, p->err);
		else
			jw__null(w);
		jw__kstr(w, "reason", probe__reason(k, p, why, sizeof(why)));
	}
	jw__kstr(w, "description", describe(desc, n, p->name));
	jw__obj_end(w);
}
