/* map_update: write entries into a map, all encoded before the first write,
 * then one syscall each in order; each entry reports written, failed (with
 * its errno) or skipped (after a failure, unless on_error is "continue"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "map_common.h"
#include "tool.h"

/* Encodes every entry into keys[] / vals[]: a malformed one fails the call
 * before anything is written. */
static int encode_all(struct tool_ctx *ctx, const struct map_ref *m, int entries, unsigned n, uint8_t *keys,
		      uint8_t *vals)
{
	const struct jdoc *d = ctx->doc;
	int j = entries + 1;
	for (unsigned i = 0; i < n; i++, j = jdoc__skip(d, j)) {
		char ptr[MAP_PTR_BYTES];
		snprintf(ptr, sizeof(ptr), "/entries/%u/key", i);
		if (map_ref__parse_key(ctx, m, jdoc__get(d, j, "key"), ptr, keys + (size_t)i * m->info.key_size))
			return -1;
		snprintf(ptr, sizeof(ptr), "/entries/%u/value", i);
		if (map_ref__parse_value(ctx, m, jdoc__get(d, j, "value"), ptr, vals + (size_t)i * m->value_bytes))
			return -1;
	}
	return 0;
}

static int write_all(struct tool_ctx *ctx, const struct map_ref *m, unsigned n, const uint8_t *keys,
		     const uint8_t *vals, uint64_t flags, bool go_on)
{
	struct jw *w = ctx->out;
	unsigned written = 0, failed = 0, skipped = 0;
	jw__key(w, "results");
	jw__arr(w);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *key = keys + (size_t)i * m->info.key_size;
		jw__obj(w);
		jw__kuint(w, "index", i);
		jw__key(w, "key");
		if (map_ref__write_key(ctx, w, m, key))
			return -1;
		if (failed && !go_on) {
			jw__kstr(w, "status", "skipped");
			skipped++;
		} else if (bpf_map_update_elem(m->fd, key, vals + (size_t)i * m->value_bytes, flags)) {
			int err = errno;
			jw__kstr(w, "status", "failed");
			map_ref__write_errno(w, m, err, "update");
			failed++;
		} else {
			jw__kstr(w, "status", "written");
			written++;
		}
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__kuint(w, "written", written);
	jw__kuint(w, "failed", failed);
	jw__kuint(w, "skipped", skipped);
	return 0;
}

static int update(struct tool_ctx *ctx, const struct map_ref *m, int entries, unsigned n)
{
	const char *f = tool__arg_str(ctx, "flags"), *oe = tool__arg_str(ctx, "on_error");
	uint64_t flags = !f || !strcmp(f, "any") ? BPF_ANY : !strcmp(f, "noexist") ? BPF_NOEXIST : BPF_EXIST;
	uint8_t *keys = arena__alloc(ctx->scratch, (size_t)n * m->info.key_size + 1);
	uint8_t *vals = arena__alloc(ctx->scratch, (size_t)n * m->value_bytes + 1);
	if (!keys || !vals)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for %u entries of map %u; split the call",
					n, m->info.id);
	if (encode_all(ctx, m, entries, n, keys, vals))
		return -1;
	jw__obj(ctx->out);
	map_ref__write_info(ctx->out, m);
	int r = write_all(ctx, m, n, keys, vals, flags, oe && !strcmp(oe, "continue"));
	if (!r)   /* a failure leaves its containers open: its output is dropped */
		jw__obj_end(ctx->out);
	return r;
}

static int run_map_update(struct tool_ctx *ctx)
{
	return map_ref__run_write(ctx, "entries", update);
}

const struct tool tool_map_update = {
	.name = "map_update",
	.schema = SCHEMA_map_update,
	.run = run_map_update,
};
