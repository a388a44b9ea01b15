/* unload_program: close one object this session loaded (and its links). */
#include <errno.h>

#include "../kern/owned.h"
#include "../sys/audit.h"
#include "tool.h"

static int run_unload_program(struct tool_ctx *ctx)
{
	uint32_t handle = (uint32_t)tool__arg_int(ctx, "handle", 0);
	if (owned__close_object(ctx->objs, handle)) {
		tool__fail(ctx, ERR_NO_SUCH_HANDLE,
			   "no object is loaded under handle %u in this session (see inspect_state for what is owned)",
			   handle);
		jw__kstr(&ctx->err->ctx, "pointer", "/handle");
		return -1;
	}
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__kuint(w, "handle", handle);
	audit__write_objects(w, ctx->objs, "released", false);   /* what the close destroyed */
	jw__key(w, "pinned");
	jw__arr(w);
	/* pins are by id: report the ones naming an object just released */
	const struct owned_event *ev;
	unsigned dropped, n = owned__journal(ctx->objs, &ev, &dropped);
	enum obj_kind k;
	uint32_t id;
	const char *p;
	for (unsigned i = 0; (p = owned__pin_at(ctx->objs, i, &k, &id)); i++)
		for (unsigned j = 0; j < n; j++)
			if (ev[j].kind == k && ev[j].id == id) {
				jw__str(w, p);
				break;
			}
	jw__arr_end(w);
	jw__obj_end(w);
	return 0;
}

const struct tool tool_unload_program = {
	.name = "unload_program",
	.schema = SCHEMA_unload_program,
	.run = run_unload_program,
};
