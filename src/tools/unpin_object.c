/* unpin_object: remove a pin under a --pin-dir (by default only pins this
 * session made).
 *
 * The path is resolved first, and every check is made on the resolved
 * path: inside a --pin-dir, on bpffs, and a pin (bpffs keeps pins as
 * regular files; directories are refused). What the pin holds is read
 * through the pin itself before it is removed, for the answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../kern/objinfo.h"
#include "../kern/owned.h"
#include "../core/clock.h"
#include "tool.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static int fail(struct tool_ctx *ctx, enum err_code code, const char *fmt, const char *path)
{
	tool__fail(ctx, code, fmt, path);
	jw__kstr(&ctx->err->ctx, "pointer", "/path");
	return -1;
}

/* What a pinned fd is: the kernel names its file "anon_inode:bpf-prog",
 * "bpf-map" or "bpf_link". */
static int check_path(struct tool_ctx *ctx, const char *path, char *real)
{
	const struct config *o = ctx->env->cfg;
	struct statfs sf;
	struct stat st;
	if (!o->n_pin_dirs)
		return fail(ctx, ERR_PATH_NOT_ALLOWED, "the server was started without --pin-dir, so no "
			    "pin may be removed ('%s'); start it with --pin-dir DIR", path);
	/* a symlink's target would be removed, not the name given: refuse it */
	if (!lstat(path, &st) && S_ISLNK(st.st_mode))
		return fail(ctx, ERR_NOT_A_PIN, "'%s' is a symlink; give the pin's own path", path);
	if (!realpath(path, real)) {
		int rc = -errno;
		if (rc == -ENOENT)
			return fail(ctx, ERR_NO_SUCH_PIN, "nothing exists at '%s'", path);
		tool__fail_errno(ctx, rc, "resolving '%s'", path);
		return -1;
	}
	if (!paths__inside(real, o->pin_dirs, o->n_pin_dirs))
		return fail(ctx, ERR_PATH_NOT_ALLOWED, "'%s' is not inside a --pin-dir directory", path);
	if (statfs(real, &sf) || (unsigned long)sf.f_type != BPF_FS_MAGIC)
		return fail(ctx, ERR_NOT_BPFFS, "'%s' is not on bpffs, so it is not a pin", path);
	if (stat(real, &st) || !S_ISREG(st.st_mode))
		return fail(ctx, ERR_NOT_A_PIN, "'%s' is not a pin (a directory or other file)", path);
	return 0;
}

static int run_unpin_object(struct tool_ctx *ctx)
{
	const char *path = tool__arg_str(ctx, "path");
	char real[LIMIT_PATH_BYTES];
	if (check_path(ctx, path, real))
		return -1;
	enum obj_kind k = OBJ_PROG, mk = OBJ_PROG;
	uint32_t id, mid;
	bool owned = !owned__find_pin(ctx->objs, real, &mk, &mid);
	int fd = bpf_obj_get(real);
	if (fd < 0)
		return fail(ctx, ERR_NOT_A_PIN, "'%s' does not hold a BPF object", path);
	int rc = objinfo__fd_kind(fd, &k);
	id = objinfo__fd_id(fd);
	close(fd);
	if (rc && owned)
		k = mk;    /* /proc unreadable: our own record says what it is */
	else if (rc == -ENOENT &&
		 tool__need_mount(ctx, "proc", "unpinning another session's pin (what it holds is read from /proc/self/fd)"))
		return -1;
	else if (rc)
		return tool__fail_errno(ctx, rc, "telling what '%s' holds (/proc/self/fd)", path);
	if (!owned && !ctx->env->allow_foreign)
		return fail(ctx, ERR_NOT_OWNED, "'%s' was not pinned by this session; only its own pins "
			    "can be removed (others' need " TOOL_FOREIGN_HINT ")", path);
	if (unlink(real))
		return tool__fail_errno(ctx, -errno, "removing '%s'", real);
	owned__remove_pin(ctx->objs, real);
	int again = k == OBJ_PROG ? bpf_prog_get_fd_by_id(id) : k == OBJ_MAP ? bpf_map_get_fd_by_id(id)
										    : bpf_link_get_fd_by_id(id);
	if (again >= 0)
		close(again);
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__kstr(w, "path", real);
	jw__kstr(w, "kind", owned__kind_name(k));
	jw__kuint(w, "id", id);
	jw__kbool(w, "owned", owned);
	jw__kbool(w, "still_exists", again >= 0);
	jw__obj_end(w);
	return 0;
}

const struct tool tool_unpin_object = {
	.name = "unpin_object",
	.schema = SCHEMA_unpin_object,
	.run = run_unpin_object,
};
