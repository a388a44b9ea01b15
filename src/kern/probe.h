/* What the running kernel supports, probed through libbpf and cached.
 *
 * Program and map types are probed by loading a minimal program / creating a
 * minimal map of each type libbpf names; helpers by loading a one-call
 * program per (program type, helper) pair, with helper names and ids read
 * from the kernel's own BTF (enum bpf_func_id). The kernel cannot change what
 * it supports while running, so every result is kept for the process
 * lifetime: the first call pays the probes, later calls are lookups.
 */
#ifndef EBPF_MCP_PROBE_H
#define EBPF_MCP_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "../json/json.h"

#define PROBE_MAX_TYPES   256    /* enum bpf_prog_type / bpf_map_type values walked */
#define PROBE_MAX_HELPERS 1024   /* enum bpf_func_id values kept (6.18 has 212) */

enum probe_kind { PROBE_PROG, PROBE_MAP };

struct probe_type {
	uint32_t id;            /* enum bpf_prog_type / bpf_map_type value */
	const char *name;       /* libbpf's name ("xdp", "hash", ...) */
	int8_t supported;       /* 1 yes, 0 no, -1 libbpf cannot probe it */
	int err;                /* errno the kernel refused the probe with, or 0 */
};

struct probe_types {
	const struct probe_type *types;
	unsigned n;
	uint64_t probe_ns;      /* wall time the probes took when first run */
};

/* Probes every type libbpf knows (skipping "unspec") on first use.
 * *cached tells whether this call reused earlier results. 0 or -errno. */
int probe__types(enum probe_kind k, struct probe_types *out, bool *cached);
/* One sentence on why p is not marked supported ("" when it is). */
const char *probe__reason(enum probe_kind k, const struct probe_type *p, char *buf, unsigned cap);
/* One entry of a list_bpf_*_types result: name, id, supported, and for an
 * unsupported type its errno and reason; desc[n][2] maps names to the
 * one-line descriptions (wording only: the data comes from the probe). */
void probe__write_type(struct jw *w, enum probe_kind k, const struct probe_type *p,
		       const char *const desc[][2], unsigned n);
/* The probed entry called name, or NULL. */
const struct probe_type *probe__find(enum probe_kind k, const char *name);

struct probe_helper {
	uint32_t id;            /* enum bpf_func_id value */
	const char *name;       /* "bpf_map_lookup_elem" */
};

struct probe_helpers {
	const struct probe_helper *all;   /* every helper the kernel's BTF names */
	unsigned n;
	const uint8_t *usable;            /* bitmap over all[]: usable from the type */
	unsigned n_usable;
	uint64_t probe_ns;
};

/* Helpers usable from program type prog_type (probed on first use per type).
 * -EINVAL for a type libbpf does not name; -ENODEV when the kernel does not
 * support the program type (nothing to probe with); -EOPNOTSUPP when libbpf
 * cannot probe helpers for it (tracing, ext, lsm and struct_ops need an
 * attach target); -ENOENT when the kernel's BTF has no enum bpf_func_id. */
int probe__helpers(uint32_t prog_type, struct probe_helpers *out, bool *cached);
/* Every helper the kernel's BTF names (enum bpf_func_id), without probing:
 * read once, kept for the process. 0, -ENOENT (no such enum), -ENOMEM. */
int probe__helper_names(const struct probe_helper **all, unsigned *n);

static inline bool probe__bit(const uint8_t *map, unsigned i)
{
	return map[i / 8] >> (i % 8) & 1;
}

#endif
