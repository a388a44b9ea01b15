/* detach_link: end an attachment this session made (or, with
 * --allow-foreign, force any kernel link off its hook).
 *
 * Closing a link fd only drops one reference: a pin keeps the link running.
 * So an owned link is first asked off its hook with BPF_LINK_DETACH where
 * the kernel supports that (xdp, tcx, cgroup, netns, ...), then closed; the
 * result says whether the link object still exists and why.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../kern/owned.h"
#include "../core/clock.h"
#include "tool.h"

static const char *link_type(int fd)
{
	struct bpf_link_info li = { 0 };
	__u32 len = sizeof(li);
	if (fd < 0 || bpf_link_get_info_by_fd(fd, &li, &len))
		return NULL;
	return libbpf_bpf_link_type_str(li.type);
}

/* Whether the interface an owned network link ran on is gone: the kernel
 * clears an xdp, tcx or netkit link's device (ifindex 0) when it is
 * deleted, and a clsact filter goes with its interface. The link stopped
 * running then; detaching only closes what is left. 1 gone, 0 there, -1 not
 * a link on an interface. */
static int interface_gone(const struct tool_ctx *ctx, uint32_t id, int fd, int *ifindex)
{
	struct owned_tc tc;
	char name[IF_NAMESIZE];
	*ifindex = 0;
	if (fd < 0) {
		if (owned__link_tc(ctx->objs, id, &tc))
			return -1;
		*ifindex = tc.ifindex;
		return !if_indextoname((unsigned)tc.ifindex, name);
	}
	struct bpf_link_info li = { 0 };
	__u32 len = sizeof(li);
	if (bpf_link_get_info_by_fd(fd, &li, &len))
		return -1;
	if (li.type == BPF_LINK_TYPE_XDP)
		return !li.xdp.ifindex;
	if (li.type == BPF_LINK_TYPE_TCX || li.type == BPF_LINK_TYPE_NETKIT)
		return !li.tcx.ifindex;
	return -1;
}

static bool link_exists(uint32_t id)
{
	int fd = id < OWNED_LOCAL_LINK_MIN ? bpf_link_get_fd_by_id(id) : -1;
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Pins this session made of link id. */
static unsigned write_pins(struct jw *w, const struct owned *objs, uint32_t id)
{
	enum obj_kind k;
	uint32_t pid;
	const char *p;
	unsigned n = 0;
	jw__key(w, "pinned");
	jw__arr(w);
	for (unsigned i = 0; (p = owned__pin_at(objs, i, &k, &pid)); i++)
		if (k == OBJ_LINK && pid == id) {
			jw__str(w, p);
			n++;
		}
	jw__arr_end(w);
	return n;
}

static int detach_own(struct tool_ctx *ctx, uint32_t id, int fd, uint32_t prog_id)
{
	struct jw *w = ctx->out;
	const char *type = link_type(fd);
	int ifindex;
	int gone = interface_gone(ctx, id, fd, &ifindex);
	bool forced = fd >= 0 && !bpf_link_detach(fd);
	owned__destroy_link(ctx->objs, id);
	bool exists = link_exists(id);
	jw__obj(w);
	jw__kuint(w, "link_id", id);
	jw__kbool(w, "owned", true);
	if (type)
		jw__kstr(w, "link_type", type);
	jw__kuint(w, "program_id", prog_id);
	jw__kbool(w, "forced", forced);
	jw__kbool(w, "still_exists", exists);
	unsigned pins = write_pins(w, ctx->objs, id);
	char note[160];
	if (gone >= 0)
		jw__kbool(w, "interface_gone", gone);
	if (gone > 0 && fd < 0) {
		snprintf(note, sizeof(note), "its interface (ifindex %d) was deleted, and the clsact filter "
			 "with it; nothing was left to remove", ifindex);
		jw__kstr(w, "note", note);
	} else if (gone > 0)
		jw__kstr(w, "note", "its interface was deleted, which had already taken the link off its hook "
			 "(defunct); the link is closed now");
	else if (fd < 0)
		jw__kstr(w, "note", "the clsact filter running it was deleted, or was already gone; the clsact qdisc stays");
	else if (exists && forced)
		jw__kstr(w, "note", "detached from its hook; the link object stays (defunct) while a pin or another "
			 "process holds it");
	else if (exists)
		jw__kstr(w, "note", pins ? "the kernel cannot force this link type off its hook: it keeps running "
				      "until its pin is removed (unpin_object)"
				    : "the kernel cannot force this link type off its hook: it keeps running while "
				      "another holder (a pin or process) has it");
	jw__obj_end(w);
	return 0;
}

static int detach_foreign(struct tool_ctx *ctx, uint32_t id, int fd)
{
	const char *type = link_type(fd);
	struct bpf_link_info li = { 0 };
	__u32 len = sizeof(li);
	bpf_link_get_info_by_fd(fd, &li, &len);
	int rc = bpf_link_detach(fd) ? -errno : 0;
	close(fd);
	if (rc == -EOPNOTSUPP || rc == -EINVAL) {
		tool__fail(ctx, ERR_LINK_NOT_DETACHABLE, "the kernel cannot force a %s link off its "
			   "hook; it ends when its owner closes it or its pin is removed (unpin_object)",
			   type ? type : "link of this type");
		jw__kint(&ctx->err->ctx, "errno", -rc);
		return -1;
	}
	if (rc)
		return tool__fail_errno(ctx, rc, "detaching link %u", id);
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__kuint(w, "link_id", id);
	jw__kbool(w, "owned", false);
	if (type)
		jw__kstr(w, "link_type", type);
	jw__kuint(w, "program_id", li.prog_id);
	jw__kbool(w, "forced", true);
	jw__kbool(w, "still_exists", link_exists(id));
	jw__kstr(w, "note", "detached from its hook; the link object stays (defunct) until its owner closes it");
	jw__obj_end(w);
	return 0;
}

static int run_detach_link(struct tool_ctx *ctx)
{
	uint32_t id = (uint32_t)tool__arg_int(ctx, "link_id", 0), prog_id = 0;
	int fd = -1;
	if (!owned__link(ctx->objs, id, &fd, &prog_id))
		return detach_own(ctx, id, fd, prog_id);
	int lfd = id < OWNED_LOCAL_LINK_MIN ? bpf_link_get_fd_by_id(id) : -ENOENT;
	int rc = lfd < 0 ? (id < OWNED_LOCAL_LINK_MIN ? -errno : -ENOENT) : 0;
	if (rc == -ENOENT) {
		tool__fail(ctx, ERR_NO_SUCH_LINK, "no link with id %u exists%s; attach_program "
			   "returns link ids, inspect_state lists the kernel's links", id,
			   id >= OWNED_LOCAL_LINK_MIN ? " in this session (ids from 2147483648 up are clsact filters)" : "");
		jw__kstr(&ctx->err->ctx, "pointer", "/link_id");
		return -1;
	}
	if (rc)
		return tool__fail_errno(ctx, rc, "opening link %u", id);
	if (!ctx->env->allow_foreign) {
		close(lfd);
		tool__fail(ctx, ERR_NOT_OWNED, "link %u was not created by this session; only links "
			   "attach_program made here can be detached (others' need " TOOL_FOREIGN_HINT ")", id);
		jw__kstr(&ctx->err->ctx, "pointer", "/link_id");
		return -1;
	}
	return detach_foreign(ctx, id, lfd);
}

const struct tool tool_detach_link = {
	.name = "detach_link",
	.schema = SCHEMA_detach_link,
	.run = run_detach_link,
};
