/* map_lookup: values of the given keys in any map, or found:false. */
#include <errno.h>
#include <stdio.h>

#include <bpf/bpf.h>

#include "map_common.h"
#include "tool.h"

static int lookup_all(struct tool_ctx *ctx, struct map_ref *m, int keys, unsigned n)
{
	struct jw *w = ctx->out;
	uint8_t *key = arena__alloc(ctx->scratch, m->info.key_size + 1);
	uint8_t *val = arena__alloc(ctx->scratch, m->value_bytes + 1);
	if (!key || !val)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for one entry of map %u", m->info.id);
	unsigned found = 0;
	jw__key(w, "results");
	jw__arr(w);
	int j = keys + 1;
	for (unsigned i = 0; i < n; i++, j = jdoc__skip(ctx->doc, j)) {
		char ptr[MAP_PTR_BYTES];
		snprintf(ptr, sizeof(ptr), "/keys/%u", i);
		if (map_ref__parse_key(ctx, m, j, ptr, key))
			return -1;
		bool hit = !bpf_map_lookup_elem(m->fd, key, val);
		if (!hit && errno != ENOENT)
			return tool__fail_errno(ctx, -errno, "lookup of %s in map %u", ptr, m->info.id);
		jw__obj(w);
		jw__key(w, "key");
		if (map_ref__write_key(ctx, w, m, key))
			return -1;
		jw__kbool(w, "found", hit);
		if (hit) {
			jw__key(w, "value");
			if (map_ref__write_value(ctx, w, m, val))
				return -1;
		}
		jw__obj_end(w);
		found += hit;
	}
	jw__arr_end(w);
	jw__kuint(w, "count", n);
	jw__kuint(w, "found", found);
	return 0;
}

static int run_map_lookup(struct tool_ctx *ctx)
{
	unsigned n;
	int keys = map_ref__items(ctx, "keys", &n);
	struct map_ref m;
	if (keys < 0 || map_ref__open(ctx, &m, false))
		return -1;
	jw__obj(ctx->out);
	map_ref__write_info(ctx->out, &m);
	int r = lookup_all(ctx, &m, keys, n);
	if (!r)   /* a failure leaves its containers open: its output is dropped */
		jw__obj_end(ctx->out);
	map_ref__close(&m);
	return r ? -1 : 0;
}

const struct tool tool_map_lookup = {
	.name = "map_lookup",
	.schema = SCHEMA_map_lookup,
	.run = run_map_lookup,
};
