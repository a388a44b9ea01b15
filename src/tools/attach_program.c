/* attach_program: run a program this session loaded on a kernel hook.
 *
 * The checks come before anything changes in the kernel, in the order that
 * gives the most useful answer: the program must be ours, the running
 * kernel must offer the hook at all (no kprobes, no fentry: say so rather
 * than blame the program), the program's type must fit the hook, and the
 * links cap must have room. The per-kind attach functions (attach.h) then
 * check their target fields and attach; the result is registered with the
 * session, which detaches it on detach_link, unload_program or exit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../kern/probe.h"
#include "../sys/sysfs.h"
#include "../sys/caps.h"
#include "attach.h"

#define ATTACH_DETAIL_BYTES (32 * 1024)   /* "attached_to": two escaped paths at most */

struct attach_kind {
	const char *name;
	int (*run)(struct attach_req *r);
	enum bpf_prog_type prog_type;   /* 0: the attach function checks */
	int expected;                   /* required expected_attach_type, -1 any */
	const char *needs;              /* what kind of program fits */
};

static const struct attach_kind kinds[] = {
	{ "tracepoint", attach__tracepoint, BPF_PROG_TYPE_TRACEPOINT, -1,
	  "a tracepoint program (SEC(\"tracepoint/GROUP/NAME\"))" },
	{ "raw_tracepoint", attach__raw_tracepoint, BPF_PROG_TYPE_RAW_TRACEPOINT, -1,
	  "a raw_tracepoint program (SEC(\"raw_tracepoint/NAME\"))" },
	{ "tp_btf", attach__trace, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP,
	  "a tracing program loaded as SEC(\"tp_btf/NAME\")" },
	{ "fentry", attach__trace, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY,
	  "a tracing program loaded as SEC(\"fentry/FUNC\")" },
	{ "fexit", attach__trace, BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT,
	  "a tracing program loaded as SEC(\"fexit/FUNC\")" },
	{ "kprobe", attach__kprobe, BPF_PROG_TYPE_KPROBE, -1,
	  "a kprobe program (SEC(\"kprobe\"))" },
	{ "kretprobe", attach__kprobe, BPF_PROG_TYPE_KPROBE, -1,
	  "a kprobe program (SEC(\"kretprobe\"))" },
	{ "uprobe", attach__uprobe, BPF_PROG_TYPE_KPROBE, -1,
	  "a kprobe-type program (SEC(\"uprobe\"))" },
	{ "uretprobe", attach__uprobe, BPF_PROG_TYPE_KPROBE, -1,
	  "a kprobe-type program (SEC(\"uretprobe\"))" },
	{ "xdp", attach__xdp, BPF_PROG_TYPE_XDP, -1,
	  "an xdp program (SEC(\"xdp\"))" },
	{ "tc", attach__tc, BPF_PROG_TYPE_SCHED_CLS, -1,
	  "a sched_cls program (SEC(\"tc\") or SEC(\"tcx/ingress\"))" },
	{ "cgroup", attach__cgroup, 0, -1,
	  "a cgroup program (cgroup_skb, cgroup_sock, cgroup_sock_addr, ...)" },
	{ "perf_event", attach__perf_event, BPF_PROG_TYPE_PERF_EVENT, -1,
	  "a perf_event program (SEC(\"perf_event\"))" },
};

/* ---- checks before the kernel is asked ----------------------------------- */

static int find_program(struct attach_req *r, uint32_t *handle)
{
	r->prog = owned__program(r->ctx->objs, r->prog_id, handle);
	if (r->prog)
		return 0;
	int fd = bpf_prog_get_fd_by_id(r->prog_id);
	if (fd >= 0) {
		close(fd);
		tool__fail(r->ctx, ERR_NOT_OWNED,
			   "program %u was not loaded by this session; load it with load_program and attach the id "
			   "it returns", r->prog_id);
	} else {
		tool__fail(r->ctx, ERR_NO_SUCH_PROGRAM,
			   "no program with id %u exists; load one with load_program and use its programs[].id",
			   r->prog_id);
	}
	attach__pointer(r, "program_id");
	return -1;
}

/* Whether the running kernel offers the hook at all. */
static int kernel_offers(struct attach_req *r, const struct attach_kind *k)
{
	if (k->run == attach__kprobe && !sysfs__probe_pmu("kprobe"))
		return attach__unsupported(r, "type", "this kernel has no kprobe support: there is no kprobe PMU in "
					   "/sys/bus/event_source/devices and no kprobe_events in tracefs (it was built "
					   "without CONFIG_KPROBES/CONFIG_KPROBE_EVENTS); use a tracepoint, raw_tracepoint "
					   "or tp_btf instead");
	if (k->run == attach__uprobe && !sysfs__probe_pmu("uprobe"))
		return attach__unsupported(r, "type", "this kernel has no uprobe support: there is no uprobe PMU in "
					   "/sys/bus/event_source/devices and no uprobe_events in tracefs (it was built "
					   "without CONFIG_UPROBE_EVENTS)");
	bool fentry = k->expected == BPF_TRACE_FENTRY || k->expected == BPF_TRACE_FEXIT;
	if (fentry && (int)bpf_program__expected_attach_type(r->prog) != k->expected) {
		/* the probe loads a minimal fentry program: a refusal means none can load */
		const struct probe_type *t = probe__find(PROBE_PROG, "tracing");
		if (t && t->supported == 0 && t->err) {
			attach__unsupported(r, "type", "this kernel refuses fentry/fexit programs: loading a minimal fentry "
					    "program fails with %s (%s), so none can be loaded or attached here; use a "
					    "tracepoint, raw_tracepoint or tp_btf instead", tool__errno_code(t->err),
					    strerror(t->err));
			jw__kint(&r->ctx->err->ctx, "errno", t->err);
			return -1;
		}
	}
	return 0;
}

static int check_prog_type(struct attach_req *r, const struct attach_kind *k)
{
	enum bpf_prog_type pt = bpf_program__type(r->prog);
	const char *have = libbpf_bpf_prog_type_str(pt);
	if (!k->prog_type)
		return 0;
	bool ok = pt == k->prog_type || (k->prog_type == BPF_PROG_TYPE_RAW_TRACEPOINT &&
					 pt == BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE);
	if (ok && k->expected >= 0 && (int)bpf_program__expected_attach_type(r->prog) != k->expected)
		ok = false;
	if (ok)
		return 0;
	tool__fail(r->ctx, ERR_WRONG_PROGRAM_TYPE,
		   "program %u '%s' is a %s program (section \"%s\"); type '%s' needs %s", r->prog_id,
		   bpf_program__name(r->prog), have ? have : "unknown", bpf_program__section_name(r->prog), k->name,
		   k->needs);
	jw__kstr(&r->ctx->err->ctx, "program_type", have ? have : "unknown");
	jw__kstr(&r->ctx->err->ctx, "section", bpf_program__section_name(r->prog));
	attach__pointer(r, "type");
	return -1;
}

/* ---- after the kernel said yes ------------------------------------------- */

static void undo(struct attach_req *r)
{
	if (r->link)
		bpf_link__destroy(r->link);
	else if (r->link_fd >= 0)
		close(r->link_fd);
	else if (r->is_tc)
		attach__tc_undo(&r->tc);
}

/* Hands the result to the session; on failure undoes it. */
static int register_result(struct attach_req *r, uint32_t *link_id)
{
	int rc;
	if (r->link)
		rc = owned__add_link(r->ctx->objs, r->link, r->prog_id, link_id);
	else if (r->link_fd >= 0)
		rc = owned__add_link_fd(r->ctx->objs, r->link_fd, r->prog_id, link_id);
	else
		rc = owned__add_tc(r->ctx->objs, &r->tc, r->prog_id, link_id);
	if (rc)
		undo(r);
	if (rc == -EOPNOTSUPP)
		return attach__unsupported(r, "type", "the kernel made this attachment without a BPF link object (a kernel "
					   "older than BPF links for this hook), so it could not be tracked; it was "
					   "undone");
	if (rc)
		return tool__fail_errno(r->ctx, rc, "registering the link");
	return 0;
}

static int link_fd_of(const struct attach_req *r)
{
	return r->link ? bpf_link__fd(r->link) : r->link_fd;
}

static void write_result(struct attach_req *r, uint32_t link_id, uint32_t handle, int fd)
{
	struct jw *w = r->ctx->out;
	jw__obj(w);
	jw__kuint(w, "link_id", link_id);
	jw__kbool(w, "kernel_link", !r->is_tc);
	jw__kstr(w, "type", r->type);
	struct bpf_link_info li = { 0 };
	__u32 len = sizeof(li);
	const char *lt = fd >= 0 && !bpf_link_get_info_by_fd(fd, &li, &len) ? libbpf_bpf_link_type_str(li.type) : NULL;
	if (lt)
		jw__kstr(w, "link_type", lt);
	jw__key(w, "program");
	jw__obj(w);
	jw__kuint(w, "id", r->prog_id);
	jw__kstr(w, "name", bpf_program__name(r->prog));
	const char *pt = libbpf_bpf_prog_type_str(bpf_program__type(r->prog));
	jw__kstr(w, "type", pt ? pt : "unknown");
	jw__kuint(w, "handle", handle);
	jw__obj_end(w);
	jw__key(w, "attached_to");
	jw__raw(w, r->det.buf, r->det.len);
	if (r->note)
		jw__kstr(w, "note", r->note);
	jw__obj_end(w);
}

static const struct attach_kind *find_kind(const char *name)
{
	for (unsigned i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

/* Networking hooks (xdp, tc, cgroup) need CAP_NET_ADMIN; tracing hooks and
 * perf events need CAP_PERFMON (CAP_SYS_ADMIN covers both). */
static int need_cap(struct tool_ctx *ctx, const struct attach_kind *k)
{
	bool net = !strcmp(k->name, "xdp") || !strcmp(k->name, "tc") || !strcmp(k->name, "cgroup");
	char why[64];
	snprintf(why, sizeof(why), "attaching a %s program", k->name);
	return tool__need_cap(ctx, net ? CAP_NET_ADMIN : CAP_PERFMON, why);
}

/* Attaches and registers the link; -1 with nothing held on failure. */
static int attach(struct attach_req *r, const struct attach_kind *k, uint32_t *link_id)
{
	struct tool_ctx *ctx = r->ctx;
	if (k->run(r))
		return -1;
	jw__obj_end(&r->det);
	if (r->det.overflow) {
		undo(r);
		return tool__fail(ctx, ERR_INTERNAL, "attached_to did not fit %llu bytes; the "
				  "attachment was undone", (unsigned long long)ATTACH_DETAIL_BYTES);
	}
	r->result_fd = link_fd_of(r);
	return register_result(r, link_id);
}

static int run_attach_program(struct tool_ctx *ctx)
{
	struct attach_req r = { .ctx = ctx, .link_fd = -1 };
	uint32_t handle = 0, link_id = 0;
	r.type = tool__arg_str(ctx, "type");
	r.prog_id = (uint32_t)tool__arg_int(ctx, "program_id", 0);
	const struct attach_kind *k = find_kind(r.type);
	char *det = arena__alloc(ctx->scratch, ATTACH_DETAIL_BYTES);
	if (!k || !det)
		return tool__fail(ctx, ERR_INTERNAL, "attach type or scratch memory missing");
	jw__init(&r.det, det, ATTACH_DETAIL_BYTES);
	jw__obj(&r.det);
	if (need_cap(ctx, k) || find_program(&r, &handle) || kernel_offers(&r, k) || check_prog_type(&r, k))
		return -1;
	static const struct owned_need one_link = { .links = 1 };
	if (tool__admit(ctx, &one_link))
		return -1;
	int rc = attach(&r, k, &link_id);
	owned__unadmit(&one_link);
	if (!rc)
		write_result(&r, link_id, handle, r.result_fd);
	return rc;
}

const struct tool tool_attach_program = {
	.name = "attach_program",
	.schema = SCHEMA_attach_program,
	.run = run_attach_program,
};
