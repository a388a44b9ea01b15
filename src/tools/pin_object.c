/* pin_object: pin a program, map or link on bpffs under a --pin-dir.
 *
 * The new path's parent must resolve inside a --pin-dir and be on bpffs
 * (paths__new_under); the object is opened by id, so what gets pinned is
 * exactly the kernel object named, and the pin is remembered for the
 * shutdown report and for unpin_object's ownership check.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../kern/owned.h"
#include "../core/clock.h"
#include "tool.h"

static void ctx_pin_dirs(struct tool_ctx *ctx)
{
	const struct config *o = ctx->env->cfg;
	jw__key(&ctx->err->ctx, "pin_dirs");
	jw__arr(&ctx->err->ctx);
	for (unsigned i = 0; i < o->n_pin_dirs; i++)
		jw__str(&ctx->err->ctx, o->pin_dirs[i]);
	jw__arr_end(&ctx->err->ctx);
}

static int fail_path(struct tool_ctx *ctx, int rc, const char *path)
{
	if (!ctx->env->cfg->n_pin_dirs)
		tool__fail(ctx, ERR_PATH_NOT_ALLOWED, "pinning is off: the server was started "
			   "without --pin-dir; start it with --pin-dir DIR (a directory on bpffs) to pin objects");
	else if (rc == -EACCES)
		tool__fail(ctx, ERR_PATH_NOT_ALLOWED, "'%s' is not inside a --pin-dir directory; "
			   "pin under one of context.pin_dirs", path);
	else if (rc == -ENOTDIR)
		tool__fail(ctx, ERR_NOT_BPFFS, "the directory of '%s' is not on bpffs, so nothing "
			   "can be pinned there (mount -t bpf bpf DIR)", path);
	else if (rc == -EINVAL)
		tool__fail(ctx, ERR_BAD_PIN_PATH, "'%s' does not end in a file name", path);
	else if (rc == -ENOENT)
		tool__fail(ctx, ERR_NO_SUCH_DIRECTORY, "the directory of '%s' does not exist; "
			   "pins go into existing directories", path);
	else
		tool__fail_errno(ctx, rc, "pin path '%s'", path);
	jw__kstr(&ctx->err->ctx, "pointer", "/path");
	ctx_pin_dirs(ctx);
	return -1;
}

static const struct {
	const char *name;
	enum obj_kind kind;
	int (*get_fd)(__u32 id);
} kinds[] = {
	{ "program", OBJ_PROG, bpf_prog_get_fd_by_id },
	{ "map", OBJ_MAP, bpf_map_get_fd_by_id },
	{ "link", OBJ_LINK, bpf_link_get_fd_by_id },
};

/* An fd for the object, after the ownership check. */
static int open_object(struct tool_ctx *ctx, unsigned k, uint32_t id, bool *owned)
{
	const char *kn = kinds[k].name;
	*owned = owned__owns(ctx->objs, kinds[k].kind, id);
	if (kinds[k].kind == OBJ_LINK && id >= OWNED_LOCAL_LINK_MIN) {
		tool__fail(ctx, ERR_NOT_PINNABLE, "link %u is a tc clsact filter, which has no kernel "
			   "link object to pin; attach with tc mode tcx to get a pinnable link", id);
		jw__kstr(&ctx->err->ctx, "pointer", "/id");
		return -1;
	}
	int fd = kinds[k].get_fd(id);
	if (fd < 0 && errno == ENOENT) {
		tool__fail(ctx, ERR_NO_SUCH_OBJECT, "no %s with id %u exists (inspect_state lists "
			   "them)", kn, id);
		jw__kstr(&ctx->err->ctx, "pointer", "/id");
		return -1;
	}
	if (fd < 0)
		return tool__fail_errno(ctx, -errno, "opening %s %u", kn, id);
	if (!*owned && !ctx->env->allow_foreign) {
		close(fd);
		tool__fail(ctx, ERR_NOT_OWNED, "%s %u was not created by this session; only its own "
			   "objects can be pinned (others' need " TOOL_FOREIGN_HINT ")", kn, id);
		jw__kstr(&ctx->err->ctx, "pointer", "/id");
		return -1;
	}
	return fd;
}

static int run_pin_object(struct tool_ctx *ctx)
{
	const char *kind = tool__arg_str(ctx, "kind"), *path = tool__arg_str(ctx, "path");
	uint32_t id = (uint32_t)tool__arg_int(ctx, "id", 0);
	unsigned k = 0;
	while (k < 2 && strcmp(kinds[k].name, kind))
		k++;
	char real[LIMIT_PATH_BYTES];
	const struct config *o = ctx->env->cfg;
	int rc = paths__new_under(path, o->pin_dirs, o->n_pin_dirs, real);
	if (rc || !o->n_pin_dirs)
		return fail_path(ctx, rc, path);
	if (strchr(strrchr(real, '/') + 1, '.')) {
		tool__fail(ctx, ERR_BAD_PIN_PATH, "bpffs refuses '.' in names; choose a pin name "
			   "without dots");
		jw__kstr(&ctx->err->ctx, "pointer", "/path");
		return -1;
	}
	bool owned;
	int fd = open_object(ctx, k, id, &owned);
	if (fd < 0)
		return -1;
	rc = bpf_obj_pin(fd, real) ? -errno : 0;
	close(fd);
	if (rc == -EEXIST) {
		tool__fail(ctx, ERR_PATH_EXISTS, "'%s' already exists; choose a new name (or "
			   "unpin_object it first)", real);
		jw__kstr(&ctx->err->ctx, "pointer", "/path");
		return -1;
	}
	if (rc)
		return tool__fail_errno(ctx, rc, "pinning %s %u at '%s'", kinds[k].name, id, real);
	if ((rc = owned__add_pin(ctx->objs, kinds[k].kind, id, real))) {
		unlink(real);   /* an unrecorded pin would escape the shutdown report */
		return tool__fail_errno(ctx, rc, "recording the pin (it was removed again)");
	}
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__kstr(w, "kind", kinds[k].name);
	jw__kuint(w, "id", id);
	jw__kstr(w, "path", real);
	jw__kbool(w, "owned", owned);
	jw__obj_end(w);
	return 0;
}

const struct tool tool_pin_object = {
	.name = "pin_object",
	.schema = SCHEMA_pin_object,
	.run = run_pin_object,
};
