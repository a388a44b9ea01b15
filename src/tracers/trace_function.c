/* trace_function: the calls of any one kernel function, for a duration:
 * arguments and return value decoded through the function's BTF
 * prototype, latency as a log2 histogram, counts by return value and by
 * kernel stack, and a bounded list of calls.
 *
 * fn_target checks the function exists, is traceable and has BTF;
 * fn_proto says which register holds what. One embedded object carries
 * both program pairs (bpf/trace_function.bpf.c): fentry/fexit, loaded
 * with the function's BTF id as attach_btf_id, is tried first; where the
 * kernel refuses it (or the policy, or the caller, rules it out) the
 * object is opened again with the kprobe/kretprobe pair instead. What was
 * used, and why the other was not, is in the result. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kern/probe.h"
#include "../sys/sysfs.h"
#include "fn_proto.h"
#include "fn_target.h"
#include "ksyms.h"
#include "trace_function.h"
#include "trace_function.skel.h"
#include "tracer_run.h"

#define TF_WHY_BYTES     512    /* why a mechanism was not used */
#define TF_MAX_EVENTS    100    /* max_events when the call gives none */

enum tf_mech { TF_FENTRY, TF_KPROBE, TF_MECHS };
static const char *const mech_names[TF_MECHS] = { "fentry", "kprobe" };

struct tf {
	struct fn_target target;
	struct fn_proto proto;
	char signature[FN_PROTO_SIG_BYTES];
	const struct policy_opts *policy;
	int want;                         /* TF_MECHS: either, by preference */
	int used;                         /* the mechanism attached */
	char why[TF_MECHS][TF_WHY_BYTES]; /* why one was not used ("" for the one used) */
	bool denied[TF_MECHS];            /* ... because the policy refuses it */
	bool args, retval, stack, errors_only;
	uint64_t min_latency_ns;
	unsigned n_strs;
};

/* ---- the object, set up for one mechanism ------------------------------------- */

static uint8_t ret_kind(const struct fn_val *r)
{
	if (r->kind == FN_PTR)
		return TRACE_FUNCTION_RET_PTR;
	if (r->kind == FN_INT || r->kind == FN_BOOL || r->kind == FN_ENUM)
		return TRACE_FUNCTION_RET_INT;
	return TRACE_FUNCTION_RET_VOID;   /* void, or not in one register: not counted */
}

static void set_rodata(struct trace_function_bpf *s, const struct tracer *t, const struct tf *f)
{
	const struct fn_val *r = &f->proto.ret;
	TRACER_SET_FILTERS(s->rodata, &t->o);
	for (unsigned i = 0; f->args && i < f->proto.n_params; i++) {
		const struct fn_val *v = &f->proto.params[i];
		if (v->kind == FN_STR)
			s->rodata->targ_str_mode[v->reg] = v->str_mode;
	}
	s->rodata->targ_strings = f->args && f->n_strs;
	s->rodata->targ_stack = f->stack;
	s->rodata->targ_retvals = f->retval;
	s->rodata->targ_ret_kind = ret_kind(r);
	s->rodata->targ_ret_bytes = r->size >= 1 && r->size <= 8 ? r->size : 8;
	s->rodata->targ_ret_signed = r->is_signed;
	s->rodata->targ_min_latency_ns = f->min_latency_ns;
	s->rodata->targ_errors_only = f->errors_only;
	/* in the background max_events bounds each read, not the run */
	s->rodata->targ_max_events = t->background ? UINT64_MAX : t->o.max_events;
}

/* Opens the object for mechanism m: 0, or -errno. */
static int open_for(struct tracer *t, struct tf *f, int m)
{
	struct trace_function_bpf *s = trace_function_bpf__open();
	if (!s)
		return -errno;
	set_rodata(s, t, f);
	/* maps the run does not use shrink to one entry */
	bpf_map__set_max_entries(s->maps.start_strs, f->args && f->n_strs ? TRACE_FUNCTION_STR_INFLIGHT_MAX : 1);
	if (!f->stack) {
		bpf_map__set_max_entries(s->maps.stacks, 1);
		bpf_map__set_max_entries(s->maps.stack_counts, 1);
	}
	if (!f->retval || ret_kind(&f->proto.ret) == TRACE_FUNCTION_RET_VOID)
		bpf_map__set_max_entries(s->maps.retvals, 1);
	bpf_program__set_autoload(s->progs.tf_fentry, m == TF_FENTRY);
	bpf_program__set_autoload(s->progs.tf_fexit, m == TF_FENTRY);
	bpf_program__set_autoload(s->progs.tf_kprobe, m == TF_KPROBE);
	bpf_program__set_autoload(s->progs.tf_kretprobe, m == TF_KPROBE);
	int err = 0;
	if (m == TF_FENTRY) {   /* attach_btf_id: the function's id in its BTF */
		err = bpf_program__set_attach_target(s->progs.tf_fentry, 0, f->target.name);
		if (!err)
			err = bpf_program__set_attach_target(s->progs.tf_fexit, 0, f->target.name);
	}
	t->skel = s, t->sk = s->skeleton, t->ring = s->maps.events;
	return err;
}

static void close_obj(struct tracer *t)
{
	if (t->sk) {
		bpf_object__detach_skeleton(t->sk);
		bpf_object__destroy_skeleton(t->sk);
	}
	free(t->skel);
	t->skel = NULL, t->sk = NULL, t->ring = NULL;
}

/* ---- trying a mechanism ------------------------------------------------------------- */

/* "EPERM (Operation not permitted)" for a negative errno. */
static const char *err_text(int err, char *buf, size_t cap)
{
	const char *name = tracer__errno_name(-err);
	if (name)
		snprintf(buf, cap, "%s (%s)", name, strerror(-err));
	else
		snprintf(buf, cap, "errno %d", -err);
	return buf;
}

/* The last non-empty line of a verifier log, or NULL. */
static const char *log_tail(const char *log, char *buf, size_t cap)
{
	size_t n = log ? strlen(log) : 0;
	while (n && (log[n - 1] == '\n' || log[n - 1] == ' '))
		n--;
	if (!n)
		return NULL;
	size_t from = n;
	while (from && log[from - 1] != '\n')
		from--;
	snprintf(buf, cap, "%.*s", (int)(n - from), log + from);
	return buf;
}

static void why_load(struct tracer *t, struct tf *f, int m, int err)
{
	char tail[200] = "";
	const char *line = NULL;
	struct bpf_program *p;
	bpf_object__for_each_program(p, *t->sk->obj) {
		size_t n = 0;
		const char *log = bpf_program__log_buf(p, &n);
		if (!line && log && n)
			line = log_tail(log, tail, sizeof(tail));
	}
	const char *extra = "";
	const struct probe_type *pt = m == TF_FENTRY && err == -EPERM ? probe__find(PROBE_PROG, "tracing") : NULL;
	if (pt && pt->supported == 0 && pt->err == EPERM)
		extra = "; a minimal fentry program fails alike: this kernel refuses all fentry/fexit programs";
	char e[96];
	snprintf(f->why[m], TF_WHY_BYTES, "loading %s for %.128s failed: %s%s%s%s", m == TF_FENTRY ?
		 "fentry/fexit" : "kprobe/kretprobe", f->target.name, err_text(err, e, sizeof(e)),
		 line ? ": " : "", line ? line : "", extra);
}

static int load_logged(struct tool_ctx *ctx, struct tracer *t)
{
	size_t cap = limits[LIM_VERIFIER_LOG_BYTES];
	struct bpf_program *p;
	bpf_object__for_each_program(p, *t->sk->obj) {
		if (!bpf_program__autoload(p))
			continue;
		char *log = arena__alloc(ctx->scratch, cap);
		if (log) {
			log[0] = 0;
			bpf_program__set_log_buf(p, log, cap);
		}
	}
	return bpf_object__load_skeleton(t->sk);
}

/* The exit program first: an entry recorded before it was attached would
 * wait in `starts` for a return nobody sees. The links go in the
 * skeleton's: detaching the skeleton destroys them. */
static int attach_pair(struct tracer *t, struct tf *f, int m)
{
	struct trace_function_bpf *s = t->skel;
	LIBBPF_OPTS(bpf_kprobe_opts, entry, .retprobe = false);
	LIBBPF_OPTS(bpf_kprobe_opts, exit, .retprobe = true);
	if (m == TF_FENTRY)
		s->links.tf_fexit = bpf_program__attach_trace(s->progs.tf_fexit);
	else
		s->links.tf_kretprobe = bpf_program__attach_kprobe_opts(s->progs.tf_kretprobe, f->target.name, &exit);
	if (!(m == TF_FENTRY ? s->links.tf_fexit : s->links.tf_kretprobe))
		return -errno;
	if (m == TF_FENTRY)
		s->links.tf_fentry = bpf_program__attach_trace(s->progs.tf_fentry);
	else
		s->links.tf_kprobe = bpf_program__attach_kprobe_opts(s->progs.tf_kprobe, f->target.name, &entry);
	return (m == TF_FENTRY ? s->links.tf_fentry : s->links.tf_kprobe) ? 0 : -errno;
}

/* Loads and attaches the object opened for m: 0, or -1 with f->why[m]. */
static int try_mech(struct tool_ctx *ctx, struct tracer *t, struct tf *f, int m)
{
	int err = load_logged(ctx, t);
	if (err) {
		why_load(t, f, m, err);
		return -1;
	}
	err = attach_pair(t, f, m);
	if (err) {
		char e[96];
		snprintf(f->why[m], TF_WHY_BYTES, "attaching %s to %.128s failed: %s%s", m == TF_FENTRY ?
			 "fentry/fexit" : "kprobe/kretprobe", f->target.name, err_text(err, e, sizeof(e)),
			 m == TF_KPROBE && err == -EINVAL ? ": the kernel keeps kprobes off it (its kprobe blacklist)" : "");
		return -1;
	}
	return 0;
}

/* ---- choosing ------------------------------------------------------------------------ */

/* Helpers the programs call, by what they are asked to do. */
static const char *const helpers_always[] = {
	"map_lookup_elem", "map_update_elem", "map_delete_elem", "ktime_get_ns", "get_current_pid_tgid",
	"get_current_comm", "get_current_cgroup_id", "ringbuf_reserve", "ringbuf_submit", "get_smp_processor_id",
};
static const char *const helpers_fentry[] = { "get_func_arg", "get_func_ret" };
static const char *const helpers_strings[] = { "probe_read_kernel_str", "probe_read_user_str", "probe_read_kernel",
					       "probe_read_user" };
static const char *const helpers_stack[] = { "get_stackid" };

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *blocked_in(const struct policy_opts *o, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (policy__blocked(o, names[i]))
			return names[i];
	return NULL;
}

/* Whether the policy refuses mechanism m, with f->why[m] set if so. */
static bool policy_refuses(struct tf *f, int m)
{
	const char *type = m == TF_FENTRY ? "tracing" : "kprobe", *h = NULL;
	if (!policy__type_allowed(f->policy, type)) {
		snprintf(f->why[m], TF_WHY_BYTES, "the policy does not load %s programs (--allow-prog-type %s)", type,
			 type);
		return f->denied[m] = true;
	}
	h = blocked_in(f->policy, helpers_always, N_OF(helpers_always));
	if (!h && m == TF_FENTRY)
		h = blocked_in(f->policy, helpers_fentry, N_OF(helpers_fentry));
	if (!h && f->args && f->n_strs)
		h = blocked_in(f->policy, helpers_strings, N_OF(helpers_strings));
	if (!h && f->stack)
		h = blocked_in(f->policy, helpers_stack, N_OF(helpers_stack));
	if (h)
		snprintf(f->why[m], TF_WHY_BYTES, "the policy blocks the helper bpf_%s, which the %s programs call", h,
			 mech_names[m]);
	return f->denied[m] = h != NULL;
}

static int fail_all(struct tool_ctx *ctx, const struct tf *f)
{
	bool one = f->want != TF_MECHS;
	bool denied = one ? f->denied[f->want] : f->denied[TF_FENTRY] && f->denied[TF_KPROBE];
	const char *name = f->target.name;
	if (denied)
		tool__fail(ctx, ERR_FUNCTION_TRACING_DENIED, "the policy lets trace_function use %s for '%s': %s",
			   one ? "no such program" : "neither fentry nor kprobes", name,
			   one ? f->why[f->want] : f->why[TF_FENTRY]);
	else if (one)
		tool__fail(ctx, ERR_NO_FUNCTION_TRACING, "%s does not work here for '%s' (leave out `mechanism` to try "
			   "the other too): %s", mech_names[f->want], name, f->why[f->want]);
	else
		tool__fail(ctx, ERR_NO_FUNCTION_TRACING, "neither fentry/fexit nor kprobes work on this kernel for '%s': "
			   "fentry: %s; kprobe: %s", name, f->why[TF_FENTRY], f->why[TF_KPROBE]);
	struct jw *w = &ctx->err->ctx;
	jw__kstr(w, "function", name);
	jw__kstr(w, "fentry", f->why[TF_FENTRY]);
	jw__kstr(w, "kprobe", f->why[TF_KPROBE]);
	return -1;
}

/* tracer__start's load and attach: each mechanism in turn, the object
 * opened again for the next after a failed load (libbpf cannot load an
 * object twice). */
static int load_attach(struct tracer *t, struct tool_ctx *ctx)
{
	struct tf *f = t->priv;
	for (int m = 0; m < TF_MECHS; m++) {
		if (f->want != TF_MECHS && f->want != m) {
			snprintf(f->why[m], TF_WHY_BYTES, "not tried: mechanism \"%s\" was asked for", mech_names[f->want]);
			continue;
		}
		if (policy_refuses(f, m))
			continue;
		if (m == TF_KPROBE && !sysfs__probe_pmu("kprobe")) {
			snprintf(f->why[m], TF_WHY_BYTES, "no kprobe support: no kprobe PMU in /sys/bus/event_source/devices, "
				 "no kprobe_events in tracefs (CONFIG_KPROBES/CONFIG_KPROBE_EVENTS off)");
			continue;
		}
		close_obj(t);
		int err = open_for(t, f, m);
		if (!err && !try_mech(ctx, t, f, m)) {
			f->used = m;
			if (m == TF_FENTRY && f->want == TF_MECHS)
				snprintf(f->why[TF_KPROBE], TF_WHY_BYTES, "not needed: fentry/fexit attached (preferred: a "
					 "BPF trampoline costs less per call than a kprobe's breakpoint)");
			f->why[m][0] = 0;
			return 0;
		}
		if (err) {
			char e[96];
			snprintf(f->why[m], TF_WHY_BYTES, "opening the embedded object for %s failed: %s", mech_names[m],
				 err_text(err, e, sizeof(e)));
		}
		close_obj(t);
	}
	return fail_all(ctx, f);
}

/* ---- events ---------------------------------------------------------------------------- */

static void write_ret(struct jw *w, const struct tf *f, uint64_t raw)
{
	const struct fn_val *r = &f->proto.ret;
	uint64_t regs[TRACE_FUNCTION_ARGS] = { raw };
	jw__obj(w);
	jw__kstr(w, "type", r->type);
	fn_proto__write_value(w, &f->proto, r, regs, NULL);
	int64_t v = (int64_t)raw;   /* the BPF side extended it from the type's width */
	if (fn_proto__ret_errors(&f->proto) && v < 0 && v >= -TRACER_ERRNO_MAX) {
		const char *e = tracer__errno_name(-v);
		jw__key(w, "errno");
		if (e)
			jw__str(w, e);
		else
			jw__strf(w, "E%" PRId64, -v);
	}
	jw__obj_end(w);
}

static void write_args(struct jw *w, const struct tf *f, const struct trace_function_event *e)
{
	jw__key(w, "args");
	jw__arr(w);
	for (unsigned i = 0; i < f->proto.n_params; i++) {
		const struct fn_val *v = &f->proto.params[i];
		struct fn_str str = { 0 };
		if (v->kind == FN_STR) {
			str.bytes = e->strs.s[v->reg];
			str.len = e->start.str_len[v->reg];
			str.cut = e->start.str_cut >> v->reg & 1;
		}
		jw__obj(w);
		jw__kstr(w, "name", v->name);
		jw__kstr(w, "type", v->type);
		fn_proto__write_value(w, &f->proto, v, (const uint64_t *)e->start.args, v->kind == FN_STR ? &str : NULL);
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

static int event(struct tracer *t, struct jw *w, const void *data, size_t size)
{
	const struct trace_function_event *e = data;
	const struct tf *f = t->priv;
	if (size < sizeof(*e))
		return 1;
	jw__obj(w);
	jw__kuint(w, "ts_ns", e->start.ts_ns);
	jw__kuint(w, "pid", e->tgid);
	jw__kuint(w, "tid", e->tid);
	tracer__kcomm(w, "comm", e->start.comm);
	tracer__kcgroup(t, w, e->start.cgroup_id, e->tgid);
	jw__kuint(w, "cpu", e->cpu);
	jw__kuint(w, "latency_ns", e->latency_ns);
	if (f->args)
		write_args(w, f, e);
	if (f->retval && f->proto.ret.kind != FN_VOID) {
		jw__key(w, "ret");
		write_ret(w, f, e->ret);
	}
	if (f->stack)
		jw__kint(w, "stack_id", e->start.stack_id);
	jw__obj_end(w);
	return 0;
}

static uint64_t ring_dropped(struct tracer *t)
{
	return ((struct trace_function_bpf *)t->skel)->bss->events_dropped;
}

/* ---- the report ------------------------------------------------------------------------ */

#define ROW_VAL(k) TRACER_ROW_VAL(sizeof(k))

static void write_calls(struct jw *w, const struct trace_function_bpf *s)
{
	jw__key(w, "calls");
	jw__obj(w);
	jw__kuint(w, "entered", s->bss->entered);
	jw__kuint(w, "returned", s->bss->returned);
	jw__kuint(w, "counted", s->bss->kept);
	jw__kuint(w, "filtered_latency", s->bss->filtered_latency);
	jw__kuint(w, "filtered_errors", s->bss->filtered_errors);
	jw__kuint(w, "starts_dropped", s->bss->starts_dropped);
	jw__obj_end(w);
	jw__kuint(w, "events_not_sent", s->bss->events_over);
	jw__key(w, "latency");
	jw__obj(w);
	tracer__hist(w, s->bss->hist, s->bss->lat_sum_ns, s->bss->lat_max_ns);
	jw__obj_end(w);
}

/* One row of `returns`: the value as the return type has it. */
static void write_ret_row(struct jw *w, const struct tf *f, int64_t key, uint64_t count)
{
	const struct fn_val *r = &f->proto.ret;
	jw__obj(w);
	if (r->kind == FN_PTR && key == TRACE_FUNCTION_RET_VALID_PTR) {
		jw__kstr(w, "value", "non-NULL pointer");
	} else if (r->kind == FN_PTR && !key) {
		jw__kstr(w, "value", "NULL");
	} else {
		uint64_t regs[TRACE_FUNCTION_ARGS] = { (uint64_t)key };
		fn_proto__write_value(w, &f->proto, r, regs, NULL);
	}
	if (fn_proto__ret_errors(&f->proto) && key < 0 && key >= -TRACER_ERRNO_MAX) {
		const char *e = tracer__errno_name(-key);
		jw__key(w, "errno");
		if (e)
			jw__str(w, e);
		else
			jw__strf(w, "E%" PRId64, -key);
	}
	jw__kuint(w, "count", count);
	jw__obj_end(w);
}

static void write_returns(struct jw *w, const struct tracer *t, const struct tf *f)
{
	const struct trace_function_bpf *s = t->skel;
	size_t n = 0, row = 0, stride = 0;
	char *rows = f->retval && ret_kind(&f->proto.ret) != TRACE_FUNCTION_RET_VOID
			     ? tracer__read_map(s->maps.retvals, &n, &row, &stride) : NULL;
	tracer__sort_rows(rows, n, row, ROW_VAL(int64_t));
	jw__key(w, "returns");
	jw__arr(w);
	for (size_t i = 0; i < n && i < t->o.limit; i++) {
		int64_t key;
		uint64_t count;
		memcpy(&key, rows + i * row, sizeof(key));
		memcpy(&count, rows + i * row + ROW_VAL(int64_t), sizeof(count));
		write_ret_row(w, f, key, count);
	}
	jw__arr_end(w);
	jw__kuint(w, "returns_distinct", n);
	jw__kuint(w, "returns_other", s->bss->retvals_other);
	free(rows);
}

/* How many frames to look through for the traced function itself: with
 * fentry the BPF program and its trampoline come first. */
#define TF_OWN_FRAMES 4

/* The frames of stack id, innermost first, symbolized when ks can, from
 * the traced function on (the tracer's own frames before it left out). */
static void write_frames(struct jw *w, int fd, int32_t id, const struct ksyms *ks, const char *fn)
{
	uint64_t ips[TRACE_FUNCTION_STACK_DEPTH];
	const char *name[TRACE_FUNCTION_STACK_DEPTH], *mod[TRACE_FUNCTION_STACK_DEPTH];
	uint64_t off[TRACE_FUNCTION_STACK_DEPTH];
	unsigned n = 0, from = 0;
	if (!bpf_map_lookup_elem(fd, &id, ips))
		for (; n < TRACE_FUNCTION_STACK_DEPTH && ips[n]; n++)
			if (!ks || !ksyms__find(ks, ips[n], &name[n], &mod[n], &off[n]))
				name[n] = NULL;
	for (unsigned i = 0; i < n && i < TF_OWN_FRAMES; i++)
		if (name[i] && !strcmp(name[i], fn)) {
			from = i;
			break;
		}
	jw__key(w, "frames");
	jw__arr(w);
	for (unsigned i = from; i < n; i++) {
		if (name[i])
			jw__strf(w, "%s+0x%" PRIx64 "%s%s%s", name[i], off[i], mod[i] ? " [" : "", mod[i] ? mod[i] : "",
				 mod[i] ? "]" : "");
		else
			jw__strf(w, "0x%" PRIx64, ips[i]);
	}
	jw__arr_end(w);
}

/* Kernel symbols, or why frames stay addresses (then ks is NULL). */
static const char *load_ksyms(struct ksyms **ks, char *why, size_t cap)
{
	int err = ksyms__load(ks, limits[LIM_SCAN_ITEMS]);
	if (!err && !ksyms__hidden(*ks))
		return NULL;
	if (err)
		snprintf(why, cap, "frames not symbolized: reading /proc/kallsyms: %s", strerror(-err));
	else
		snprintf(why, cap, "frames not symbolized: /proc/kallsyms shows zero addresses (kernel.kptr_restrict, "
			 "or no CAP_SYSLOG)");
	ksyms__free(*ks);
	*ks = NULL;
	return why;
}

static void write_stacks(struct jw *w, const struct tracer *t, const struct tf *f)
{
	const struct trace_function_bpf *s = t->skel;
	size_t n = 0, row = 0, stride = 0;
	char *rows = f->stack ? tracer__read_map(s->maps.stack_counts, &n, &row, &stride) : NULL;
	struct ksyms *ks = NULL;
	char why[160];
	const char *problem = n ? load_ksyms(&ks, why, sizeof(why)) : NULL;
	tracer__sort_rows(rows, n, row, ROW_VAL(int32_t));
	jw__key(w, "stacks");
	jw__arr(w);
	for (size_t i = 0; i < n && i < t->o.limit; i++) {
		int32_t id;
		uint64_t count;
		memcpy(&id, rows + i * row, sizeof(id));
		memcpy(&count, rows + i * row + ROW_VAL(int32_t), sizeof(count));
		jw__obj(w);
		jw__kint(w, "stack_id", id);
		jw__kuint(w, "count", count);
		write_frames(w, bpf_map__fd(s->maps.stacks), id, ks, f->target.name);
		if (problem)
			jw__kstr(w, "error", problem);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__kuint(w, "stacks_distinct", n);
	jw__kuint(w, "stacks_lost", s->bss->stacks_lost + s->bss->stack_counts_dropped);
	ksyms__free(ks);
	free(rows);
}

static void write_target(struct jw *w, const struct tf *f)
{
	jw__kstr(w, "function", f->target.name);
	jw__key(w, "module");
	if (f->target.module[0])
		jw__str(w, f->target.module);
	else
		jw__null(w);
	jw__kstr(w, "btf", f->target.btf.name);
	jw__kuint(w, "btf_id", f->target.func_id);
	jw__kstr(w, "prototype", f->signature);
	jw__kstr(w, "mechanism", mech_names[f->used]);
	jw__key(w, "not_used");
	jw__obj(w);
	jw__kstr(w, "mechanism", mech_names[!f->used]);
	jw__kstr(w, "why", f->why[!f->used]);
	jw__obj_end(w);
}

static void write_notes(struct jw *w, const struct tf *f)
{
	jw__key(w, "notes");
	jw__arr(w);
	if (f->target.traceable < 0)
		jw__str(w, f->target.note);
	if (f->target.symbols > 1)
		jw__strf(w, "%u kernel functions are named %s (static functions of different files): the kernel "
			 "attaches to the one it finds first", f->target.symbols, f->target.name);
	bool unseen = f->proto.varargs;
	for (unsigned i = 0; i < f->proto.n_params; i++)
		unseen |= f->proto.params[i].kind == FN_STACK;
	if (unseen)
		jw__str(w, "some arguments are not in the six argument registers recorded (passed in memory): they "
			"show as null");
	jw__arr_end(w);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	const struct tf *f = t->priv;
	write_target(w, f);
	(void)ctx;
	write_calls(w, t->skel);
	write_returns(w, t, f);
	write_stacks(w, t, f);
	write_notes(w, f);
	return 0;
}

/* ---- the call ---------------------------------------------------------------------------- */

static void free_tf(void *priv)
{
	struct tf *f = priv;
	if (f)
		fn_target__close(&f->target);
	free(f);
}

static const struct tracer_ops ops = {
	.max_events_default = TF_MAX_EVENTS,
	.event = event,
	.report = report,
	.free_priv = free_tf,
	.ring_dropped = ring_dropped,
};

static void read_args(struct tool_ctx *ctx, struct tf *f)
{
	const char *mech = tool__arg_str(ctx, "mechanism");
	f->args = tool__arg_bool(ctx, "args", true);
	f->retval = tool__arg_bool(ctx, "retval", true);
	f->stack = tool__arg_bool(ctx, "stack", false);
	f->errors_only = tool__arg_bool(ctx, "errors_only", false);
	f->min_latency_ns = (uint64_t)tool__arg_int(ctx, "min_latency_ns", 0);
	f->want = !mech || !strcmp(mech, "auto") ? TF_MECHS : !strcmp(mech, "fentry") ? TF_FENTRY : TF_KPROBE;
	f->policy = &ctx->env->cfg->policy;
}

/* The prototype, and whether errors_only can mean anything for it. */
static int read_proto(struct tool_ctx *ctx, struct tf *f)
{
	int err = fn_proto__read(f->target.btf.btf, f->target.func_id, &f->proto);
	if (err == -E2BIG)
		return tool__fail(ctx, ERR_BAD_BTF, "'%s' has more than %d parameters in BTF; trace_function reads at "
				  "most %d", f->target.name, FN_PROTO_PARAMS_MAX, FN_PROTO_PARAMS_MAX);
	if (err)
		return tool__fail(ctx, ERR_BAD_BTF, "the BTF of '%s' (type %u in %s) is not a function with a "
				  "prototype trace_function can read", f->target.name, f->target.func_id, f->target.btf.name);
	fn_proto__signature(&f->proto, f->target.name, f->signature, sizeof(f->signature));
	for (unsigned i = 0; i < f->proto.n_params; i++)
		f->n_strs += f->proto.params[i].kind == FN_STR;
	if (!f->errors_only || fn_proto__ret_errors(&f->proto))
		return 0;
	tool__fail(ctx, ERR_CONFLICTING_ARGS, "errors_only needs a function that returns errors as a signed int or "
		   "long (-errno) or a pointer (ERR_PTR); %s returns %s", f->target.name,
		   f->proto.ret.kind == FN_VOID ? "nothing" : f->proto.ret.type);
	jw__kstr(&ctx->err->ctx, "pointer", "/errors_only");
	jw__kstr(&ctx->err->ctx, "prototype", f->signature);
	return -1;
}

/* kallsyms names: letters, digits, '_' and '.' (".isra.0", ".cold"). */
static int check_name(struct tool_ctx *ctx, const char *name)
{
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '.')) {
			tool__fail(ctx, ERR_BAD_TARGET, "function name '%s' may hold only letters, digits, '_' and '.'",
				   name);
			jw__kstr(&ctx->err->ctx, "pointer", "/function");
			return -1;
		}
	return 0;
}

static int run_trace_function(struct tool_ctx *ctx)
{
	const char *name = tool__arg_str(ctx, "function");
	if (check_name(ctx, name))
		return -1;
	struct tracer *t = tracer__begin(ctx, "trace_function", &ops);
	if (!t)
		return -1;
	struct tf *f = calloc(1, sizeof(*f));
	if (!f) {
		errno = ENOMEM;
		return tracer__open_failed(ctx, t);
	}
	t->priv = f;
	t->samples_only = true;   /* a full list ends nothing: the counts go on */
	t->load_attach = load_attach;
	read_args(ctx, f);
	if (fn_target__find(ctx, name, &f->target) || read_proto(ctx, f)) {
		tracer__abandon(t);
		return -1;
	}
	/* load_attach opens the object for each mechanism it tries */
	return tracer__start(ctx, t, NULL, NULL, NULL);
}

const struct tool tool_trace_function = {
	.name = "trace_function",
	.schema = SCHEMA_trace_function,
	.run = run_trace_function,
};
