/* list_bpf_program_types: which BPF program types the running kernel accepts
 * (probed through libbpf, cached), and on request the helpers one type may
 * call (probed per helper, names from the kernel's BTF). */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "../kern/probe.h"
#include "tool.h"


/* Short human descriptions by libbpf type name. Only the wording lives here:
 * which types exist and whether they work comes from libbpf and the kernel. */
static const char *const prog_desc[][2] = {
	{ "socket_filter", "Filter or observe packets on a socket (SO_ATTACH_BPF); returns bytes to keep." },
	{ "kprobe", "Run at a kernel function entry/return (kprobe, kretprobe, uprobe, kprobe.multi)." },
	{ "sched_cls", "tc classifier on ingress/egress (clsact or tcx): inspect, modify, redirect or drop packets." },
	{ "sched_act", "tc action attached to a tc filter (legacy direct-action style)." },
	{ "tracepoint", "Run at a static kernel tracepoint (tracefs events/<group>/<name>) with its format as context." },
	{ "xdp", "eXpress Data Path: run on received packets in the driver, before the stack (pass, drop, tx, redirect)." },
	{ "perf_event", "Run on a perf event overflow (sampling timers, hardware counters) with its registers." },
	{ "cgroup_skb", "Filter packets entering or leaving a cgroup's sockets." },
	{ "cgroup_sock", "Run at socket creation, release or bind in a cgroup; may refuse it or set options." },
	{ "lwt_in", "Lightweight tunnel hook on a route, input path." },
	{ "lwt_out", "Lightweight tunnel hook on a route, output path." },
	{ "lwt_xmit", "Lightweight tunnel hook on a route, transmit path (may encapsulate)." },
	{ "sock_ops", "TCP socket events in a cgroup (connect, established, RTO, ...): tune or observe connections." },
	{ "sk_skb", "Stream parser/verdict for sockets in a sockmap/sockhash (redirect between sockets)." },
	{ "cgroup_device", "Allow or deny device access (open/mknod) for a cgroup." },
	{ "sk_msg", "Verdict on sendmsg data of sockets in a sockmap/sockhash (redirect, drop, cork)." },
	{ "raw_tracepoint", "Run at a tracepoint with its raw arguments (no perf format), lower overhead." },
	{ "cgroup_sock_addr", "Run at connect/bind/sendmsg/getpeername of a cgroup's sockets; may rewrite addresses." },
	{ "lwt_seg6local", "IPv6 segment routing (SRv6) local action." },
	{ "lirc_mode2", "Decode infrared remote-control pulses from a LIRC device." },
	{ "sk_reuseport", "Pick the socket within a SO_REUSEPORT group that gets a packet or connection." },
	{ "flow_dissector", "Replace the kernel's flow dissector for packet parsing in a network namespace." },
	{ "cgroup_sysctl", "Allow, deny or rewrite sysctl reads and writes from a cgroup." },
	{ "raw_tracepoint_writable", "Raw tracepoint that may write into the tracepoint's buffer (e.g. nbd)." },
	{ "cgroup_sockopt", "Run at getsockopt/setsockopt in a cgroup; may change or refuse options." },
	{ "tracing", "BTF-typed tracing: fentry/fexit/fmod_ret, tp_btf and iterators (needs an attach target)." },
	{ "struct_ops", "Implement a kernel ops table in BPF (e.g. TCP congestion control, sched_ext)." },
	{ "ext", "Replace a function of another BPF program (freplace)." },
	{ "lsm", "Linux Security Module hook (BPF LSM): audit or deny security-sensitive operations." },
	{ "sk_lookup", "Pick the listening/receiving socket for an incoming connection or packet in a netns." },
	{ "syscall", "Program run from user space with BPF_PROG_RUN that may itself call bpf() (loaders)." },
	{ "netfilter", "Netfilter hook (pre/post-routing, input, output, forward) returning accept or drop." },
};


static void write_probe_info(struct jw *w, bool cached, uint64_t ns)
{
	jw__key(w, "probe");
	jw__obj(w);
	jw__kbool(w, "cached", cached);
	jw__kuint(w, "duration_us", ns / 1000);
	jw__key(w, "libbpf");
	jw__strf(w, "%u.%u", libbpf_major_version(), libbpf_minor_version());
	jw__obj_end(w);
}

static int write_helpers(struct tool_ctx *ctx, const struct probe_type *pt, uint64_t offset, uint64_t limit)
{
	struct probe_helpers h;
	bool cached;
	int r = probe__helpers(pt->id, &h, &cached);
	if (r == -ENODEV)
		return tool__fail(ctx, ERR_PROGRAM_TYPE_UNSUPPORTED,
				  "this kernel does not support %s programs, so no helper can be probed for them", pt->name);
	if (r == -EOPNOTSUPP)
		return tool__fail(ctx, ERR_HELPER_PROBE_UNAVAILABLE,
				  "helpers of %s programs cannot be probed (they load only against an attach target); "
				  "try a related type such as raw_tracepoint or kprobe", pt->name);
	if (r)
		return tool__fail_errno(ctx, r, "probing helpers of %s programs", pt->name);
	struct jw *w = ctx->out;
	jw__key(w, "helpers");
	jw__obj(w);
	jw__kstr(w, "program_type", pt->name);
	jw__kuint(w, "known", h.n);
	jw__kuint(w, "usable", h.n_usable);
	jw__kbool(w, "cached", cached);
	jw__kuint(w, "duration_us", h.probe_ns / 1000);
	uint64_t seen = 0, shown = 0;
	jw__key(w, "list");
	jw__arr(w);
	for (unsigned i = 0; i < h.n; i++) {
		if (!probe__bit(h.usable, i) || seen++ < offset || shown >= limit)
			continue;
		jw__obj(w);
		jw__kstr(w, "name", h.all[i].name);
		jw__kuint(w, "id", h.all[i].id);
		jw__obj_end(w);
		shown++;
	}
	jw__arr_end(w);
	tool__page_fields(w, h.n_usable, offset, shown);
	jw__obj_end(w);
	return 0;
}

static int run_list_bpf_program_types(struct tool_ctx *ctx)
{
	const char *type = tool__arg_str(ctx, "type");
	bool want_helpers = tool__arg_bool(ctx, "helpers", false);
	uint64_t limit, offset;
	if (tool__page_args(ctx, 100, &limit, &offset))
		return -1;
	if (want_helpers && !type) {
		tool__fail(ctx, ERR_TYPE_REQUIRED,
			   "helpers needs `type` (one program type, e.g. \"xdp\"): probing every type would take thousands of loads");
		jw__kstr(&ctx->err->ctx, "pointer", "/type");
		return -1;
	}
	struct probe_types all;
	bool cached;
	int r = probe__types(PROBE_PROG, &all, &cached);
	if (r)
		return tool__fail_errno(ctx, r, "probing program types");
	const struct probe_type *only = NULL;
	if (type && !(only = probe__find(PROBE_PROG, type))) {
		tool__fail(ctx, ERR_UNKNOWN_PROGRAM_TYPE,
			   "no program type is called \"%s\"; call list_bpf_program_types without `type` for the names", type);
		jw__kstr(&ctx->err->ctx, "pointer", "/type");
		return -1;
	}
	struct jw *w = ctx->out;
	jw__obj(w);
	/* With helpers, limit/offset page the helper list; the one type shows. */
	uint64_t type_off = want_helpers ? 0 : offset, type_lim = want_helpers ? 1 : limit;
	uint64_t n_supported = 0, seen = 0, shown = 0;
	jw__key(w, "types");
	jw__arr(w);
	for (unsigned i = 0; i < all.n; i++) {
		const struct probe_type *p = &all.types[i];
		n_supported += p->supported == 1;
		if (only && p != only)
			continue;
		if (seen++ < type_off || shown >= type_lim)
			continue;
		probe__write_type(w, PROBE_PROG, p, prog_desc, sizeof(prog_desc) / sizeof(prog_desc[0]));
		shown++;
	}
	jw__arr_end(w);
	tool__page_fields(w, seen, type_off, shown);
	jw__kuint(w, "supported_count", n_supported);
	write_probe_info(w, cached, all.probe_ns);
	if (want_helpers && write_helpers(ctx, only, offset, limit))
		return -1;
	jw__obj_end(w);
	return 0;
}

const struct tool tool_list_bpf_program_types = {
	.name = "list_bpf_program_types",
	.schema = SCHEMA_list_bpf_program_types,
	.run = run_list_bpf_program_types,
};
