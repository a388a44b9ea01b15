/* map_delete: delete keys from a map, all encoded before the first delete,
 * then one syscall each in order; each key reports deleted, not_found,
 * failed (with its errno) or skipped (after a failure, unless on_error is
 * "continue"). A missing key is not a failure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "map_common.h"
#include "tool.h"

static int delete_all(struct tool_ctx *ctx, const struct map_ref *m, unsigned n, const uint8_t *keys, bool go_on)
{
	struct jw *w = ctx->out;
	unsigned deleted = 0, missing = 0, failed = 0, skipped = 0;
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
		} else if (!bpf_map_delete_elem(m->fd, key)) {
			jw__kstr(w, "status", "deleted");
			deleted++;
		} else if (errno == ENOENT) {
			jw__kstr(w, "status", "not_found");
			missing++;
		} else {
			int err = errno;
			jw__kstr(w, "status", "failed");
			map_ref__write_errno(w, m, err, "delete");
			failed++;
		}
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__kuint(w, "deleted", deleted);
	jw__kuint(w, "not_found", missing);
	jw__kuint(w, "failed", failed);
	jw__kuint(w, "skipped", skipped);
	return 0;
}

static int encode_all(struct tool_ctx *ctx, const struct map_ref *m, int keys_tok, unsigned n, uint8_t *keys)
{
	int j = keys_tok + 1;
	for (unsigned i = 0; i < n; i++, j = jdoc__skip(ctx->doc, j)) {
		char ptr[MAP_PTR_BYTES];
		snprintf(ptr, sizeof(ptr), "/keys/%u", i);
		if (map_ref__parse_key(ctx, m, j, ptr, keys + (size_t)i * m->info.key_size))
			return -1;
	}
	return 0;
}

static int delete(struct tool_ctx *ctx, const struct map_ref *m, int keys_tok, unsigned n)
{
	const char *oe = tool__arg_str(ctx, "on_error");
	uint8_t *keys = arena__alloc(ctx->scratch, (size_t)n * m->info.key_size + 1);
	if (!keys)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for %u keys of map %u; split the call",
					n, m->info.id);
	if (encode_all(ctx, m, keys_tok, n, keys))
		return -1;
	jw__obj(ctx->out);
	map_ref__write_info(ctx->out, m);
	int r = delete_all(ctx, m, n, keys, oe && !strcmp(oe, "continue"));
	if (!r)   /* a failure leaves its containers open: its output is dropped */
		jw__obj_end(ctx->out);
	return r;
}

static int run_map_delete(struct tool_ctx *ctx)
{
	return map_ref__run_write(ctx, "keys", delete);
}

const struct tool tool_map_delete = {
	.name = "map_delete",
	.schema = SCHEMA_map_delete,
	.run = run_map_delete,
};
