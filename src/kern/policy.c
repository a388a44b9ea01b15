/* The bytecode policy (see policy.h): rules, the walk over what each program
 * reaches, and the report. */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../json/json.h"
#include "../mem/arena.h"
#include "bpfcode.h"
#include "btf_cache.h"
#include "probe.h"

/* Program types loaded without a flag: tracing, networking and cgroup
 * hooks, which observe or act on their own packets and hooks. Left out, each
 * for what it does beyond that (--allow-prog-type brings one back):
 *   lsm                      decides security checks: can deny any operation system-wide
 *   struct_ops               replaces kernel implementations (TCP congestion control, sched_ext)
 *   ext                      freplace: rewrites functions of other BPF programs
 *   syscall                  runs bpf() commands and closes fds from inside the kernel
 *   raw_tracepoint_writable  writes into the buffers of writable tracepoints
 *   lirc_mode2               injects remote-control key presses (bpf_rc_keydown)
 *   modify_return            (tracing, fmod_ret) makes kernel functions return other values
 * and any type newer than this list. */
static const char *const default_types[] = {
	"socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp", "perf_event",
	"cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb",
	"cgroup_device", "sk_msg", "raw_tracepoint", "cgroup_sock_addr", "lwt_seg6local",
	"sk_reuseport", "flow_dissector", "cgroup_sysctl", "cgroup_sockopt", "tracing", "sk_lookup",
	"netfilter",
};

#define TYPE_MODIFY_RETURN "modify_return"

/* Helpers and kfuncs refused without a flag: each changes the system rather
 * than observing it. Reading helpers (probe_read_*, copy_from_user*, d_path)
 * and the packet-editing helpers of networking types stay allowed. */
static const struct {
	const char *name, *why;
} default_blocked[] = {
	{ "bpf_probe_write_user", "writes the memory of the running process" },
	{ "bpf_override_return", "makes a kernel function return an error it did not produce" },
	{ "bpf_send_signal", "signals (kills) the running process" },
	{ "bpf_send_signal_thread", "signals (kills) the running thread" },
	{ "bpf_sys_bpf", "runs bpf() commands: loads programs past this policy" },
	{ "bpf_sys_close", "closes file descriptors of the running process" },
	{ "bpf_sysctl_set_new_value", "rewrites the value a process writes to a sysctl" },
	{ "bpf_bprm_opts_set", "changes the security flags of an exec" },
	{ "bpf_send_signal_task", "kfunc: signals (kills) any task" },
	{ "bpf_sock_destroy", "kfunc: aborts sockets" },
	{ "bpf_set_dentry_xattr", "kfunc: writes extended attributes of files" },
	{ "bpf_remove_dentry_xattr", "kfunc: removes extended attributes of files" },
	{ "crash_kexec", "kfunc: crashes the kernel into the kdump kernel" },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Helper names match with or without the "bpf_" prefix. */
static const char *bare(const char *name)
{
	return strncmp(name, "bpf_", 4) ? name : name + 4;
}

static bool same_call(const char *a, const char *b)
{
	return !strcmp(bare(a), bare(b));
}

static bool known_type(const char *t)
{
	if (!strcmp(t, TYPE_MODIFY_RETURN))
		return true;
	/* 0 is "unspec"; libbpf's names end at the newest type it knows */
	for (uint32_t k = 1; k < PROBE_MAX_TYPES; k++) {
		const char *n = libbpf_bpf_prog_type_str((enum bpf_prog_type)k);
		if (!n)
			break;
		if (!strcmp(n, t))
			return true;
	}
	return false;
}

static bool plain_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= POLICY_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int policy__flag(struct policy_opts *o, const char *flag, const char *value, char *err, unsigned err_len)
{
	static const char *const flags[] = { "--allow-helper", "--block-helper", "--allow-prog-type",
					     "--block-prog-type", "--only-prog-type" };
	unsigned k = 0;
	while (k < N_OF(flags) && strcmp(flag, flags[k]))
		k++;
	if (k == N_OF(flags))
		return 1;
	bool type = k >= POLICY_ALLOW_TYPE;
	if (!value || !plain_name(value) || (type && !known_type(value))) {
		snprintf(err, err_len, "%s needs %s", flag,
			 type ? "a program type libbpf names (e.g. tracepoint, kprobe, xdp, sched_cls for tc, lsm, "
				"struct_ops, ext, modify_return)"
			      : "a helper or kfunc name (letters, digits, '_')");
		return -1;
	}
	if (o->n_rules == POLICY_MAX_RULES) {
		snprintf(err, err_len, "more than %u policy flags", POLICY_MAX_RULES);
		return -1;
	}
	o->rules[o->n_rules++] = (struct policy_rule){ .kind = (enum policy_rule_kind)k, .name = value };
	return 0;
}

bool policy__blocked(const struct policy_opts *o, const char *name)
{
	bool b = false;
	for (unsigned i = 0; i < N_OF(default_blocked); i++)
		b |= same_call(default_blocked[i].name, name);
	for (unsigned i = 0; i < o->n_rules; i++) {
		const struct policy_rule *r = &o->rules[i];
		if ((r->kind == POLICY_ALLOW_HELPER || r->kind == POLICY_BLOCK_HELPER) && same_call(r->name, name))
			b = r->kind == POLICY_BLOCK_HELPER;
	}
	return b;
}

static bool default_type(const char *name);

/* Any --only-prog-type rule given? */
static bool only_types(const struct policy_opts *o)
{
	for (unsigned i = 0; i < o->n_rules; i++)
		if (o->rules[i].kind == POLICY_ONLY_TYPE)
			return true;
	return false;
}

/* In the list the allow/block rules start from: --only-prog-type's types
 * when any is given, else the defaults. An operator who lists the types
 * expects every other one refused, including default ones. */
static bool base_type(const struct policy_opts *o, const char *type)
{
	if (!only_types(o))
		return default_type(type);
	for (unsigned i = 0; i < o->n_rules; i++)
		if (o->rules[i].kind == POLICY_ONLY_TYPE && !strcmp(o->rules[i].name, type))
			return true;
	return false;
}

bool policy__type_allowed(const struct policy_opts *o, const char *type)
{
	bool ok = base_type(o, type);
	for (unsigned i = 0; i < o->n_rules; i++) {
		const struct policy_rule *r = &o->rules[i];
		if ((r->kind == POLICY_ALLOW_TYPE || r->kind == POLICY_BLOCK_TYPE) && !strcmp(r->name, type))
			ok = r->kind == POLICY_ALLOW_TYPE;
	}
	return ok;
}

/* ---- the walk ------------------------------------------------------------ */

struct walk {
	const struct policy_opts *o;
	const struct bpfcode *code;
	struct arena *a;
	struct policy_report *r;
	const char *helper_name[PROBE_MAX_HELPERS];   /* by enum bpf_func_id value */
	uint32_t counts[PROBE_MAX_HELPERS];           /* this program's helper calls */
	uint8_t *seen;                                /* functions reached (bitmap) */
	uint32_t *queue;                              /* functions still to walk */
	unsigned n_kfunc_evs;                         /* bound of distinct kfuncs */
	const struct btf *vmlinux;                    /* for kfunc ids, NULL until needed */
	bool vmlinux_tried;
	bool oom;                                     /* the arena refused a name */
};

static const char *policy_type(const struct bpf_program *p)
{
	if (bpf_program__type(p) == BPF_PROG_TYPE_TRACING &&
	    bpf_program__expected_attach_type(p) == BPF_MODIFY_RETURN)
		return TYPE_MODIFY_RETURN;
	const char *t = libbpf_bpf_prog_type_str(bpf_program__type(p));
	return t ? t : "unknown";
}

static const struct btf *vmlinux_btf(struct walk *w)
{
	struct btf_view v;
	if (!w->vmlinux_tried && !btf_cache__vmlinux(&v))
		w->vmlinux = v.btf;
	w->vmlinux_tried = true;
	return w->vmlinux;
}

/* The arena's copy: names from the ELF die with it. */
static const char *keep(struct walk *w, const char *s)
{
	const char *copy = s ? arena__strndup(w->a, s, strlen(s)) : NULL;
	w->oom |= s && !copy;
	return copy;
}

/* Records the first violation; later ones are not looked for. */
static void refuse(struct walk *w, enum policy_verdict v, const char *prog, const struct bpfcode_fn *f,
		   const struct bpfcode_ev *ev, const char *name, const char *kind)
{
	struct policy_report *r = w->r;
	if (r->verdict != POLICY_OK)
		return;
	r->verdict = v;
	r->why.program = prog;
	r->why.function = keep(w, f ? f->name : NULL);
	r->why.insn = ev ? ev->insn : 0;
	r->why.id = ev ? ev->arg : 0;
	r->why.name = keep(w, name);
	r->why.kind = kind;
}

/* The vmlinux function a pre-resolved kfunc call (src_reg 2) names. */
static const char *kfunc_by_id(struct walk *w, const struct bpfcode_ev *ev)
{
	const struct btf *b = ev->off == 0 ? vmlinux_btf(w) : NULL;
	const struct btf_type *t = b && ev->arg < btf__type_cnt(b) ? btf__type_by_id(b, ev->arg) : NULL;
	return t && btf_is_func(t) ? btf__name_by_offset(b, t->name_off) : NULL;
}

static uint32_t kfunc_id(struct walk *w, const char *name)
{
	const struct btf *b = vmlinux_btf(w);
	int id = b ? btf__find_by_name_kind(b, name, BTF_KIND_FUNC) : -1;
	return id > 0 ? (uint32_t)id : 0;
}

/* Counts a kfunc call; the first call of a name looks its vmlinux id up. */
static void add_kfunc(struct walk *w, struct policy_prog *pp, const struct bpfcode_ev *ev, const char *name)
{
	for (unsigned i = 0; i < pp->n_kfuncs; i++)
		if (!strcmp(pp->kfuncs[i].name, name)) {
			pp->kfuncs[i].count++;
			return;
		}
	const char *copy = arena__strndup(w->a, name, strlen(name));
	w->oom |= !copy;
	if (copy && pp->n_kfuncs < w->n_kfunc_evs)
		pp->kfuncs[pp->n_kfuncs++] = (struct policy_call){
			.name = copy, .id = ev->kind == BPFCODE_KFUNC_ID ? ev->arg : kfunc_id(w, name), .count = 1 };
}

/* Queues function i (an index into code->fns) unless already reached. */
static void enqueue(struct walk *w, struct policy_prog *pp, uint32_t i)
{
	if (!(w->seen[i / 8] >> (i % 8) & 1)) {
		w->seen[i / 8] |= (uint8_t)(1u << (i % 8));
		w->queue[pp->functions++] = i;
	}
}

#define KFUNC_NAME_MAX 512   /* KSYM_NAME_LEN */

/* The kernel function a kfunc call resolves to: the extern's name without
 * a flavor suffix, or the vmlinux function a pre-resolved call names. */
static const char *kfunc_name(struct walk *w, const struct bpfcode_ev *ev, char *buf)
{
	if (ev->kind == BPFCODE_KFUNC_ID)
		return kfunc_by_id(w, ev);
	if (!ev->name || !ev->name_len || ev->name_len >= KFUNC_NAME_MAX)
		return NULL;
	memcpy(buf, ev->name, ev->name_len);
	buf[ev->name_len] = 0;
	return buf;
}

static void walk_event(struct walk *w, struct policy_prog *pp, const struct bpfcode_fn *f,
		       const struct bpfcode_ev *ev)
{
	char buf[KFUNC_NAME_MAX];
	const char *name = NULL;
	switch (ev->kind) {
	case BPFCODE_HELPER:
		name = ev->arg < PROBE_MAX_HELPERS ? w->helper_name[ev->arg] : NULL;
		if (!name) {
			refuse(w, POLICY_HELPER_UNKNOWN, pp->name, f, ev, NULL, "helper");
			return;
		}
		w->counts[ev->arg]++;
		if (policy__blocked(w->o, name))
			refuse(w, POLICY_CALL_BLOCKED, pp->name, f, ev, name, "helper");
		return;
	case BPFCODE_KFUNC:
	case BPFCODE_KFUNC_ID:
		name = kfunc_name(w, ev, buf);
		if (!name) {
			refuse(w, POLICY_KFUNC_UNNAMED, pp->name, f, ev, NULL, "kfunc");
			return;
		}
		add_kfunc(w, pp, ev, name);
		if (policy__blocked(w->o, name))
			refuse(w, POLICY_CALL_BLOCKED, pp->name, f, ev, name, "kfunc");
		return;
	case BPFCODE_SUBPROG:
		if (ev->arg == BPFCODE_NO_TARGET) {
			refuse(w, POLICY_UNRESOLVED_CALL, pp->name, f, ev, NULL, "subprogram");
			return;
		}
		enqueue(w, pp, ev->arg);
		return;
	}
}

/* libbpf names the exception callback of a program in a BTF decl tag
 * "exception_callback:<subprogram>" on the program's function and appends
 * it without a call: it is reached too. */
static const char *exception_cb(const struct bpf_object *obj, const char *prog)
{
	const struct btf *b = bpf_object__btf(obj);
	uint32_t n = b ? btf__type_cnt(b) : 0;
	static const char tag[] = "exception_callback:";
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(b, id);
		const char *s = btf__name_by_offset(b, t->name_off);
		if (!btf_is_decl_tag(t) || !s || strncmp(s, tag, sizeof(tag) - 1))
			continue;
		const struct btf_type *fn = btf__type_by_id(b, t->type);
		const char *fname = fn && btf_is_func(fn) ? btf__name_by_offset(b, fn->name_off) : NULL;
		if (fname && !strcmp(fname, prog))
			return s + sizeof(tag) - 1;
	}
	return NULL;
}

/* The program's helper counts as a list in helper-id order. */
static int collect_helpers(struct walk *w, struct policy_prog *pp)
{
	unsigned n = 0;
	for (unsigned id = 0; id < PROBE_MAX_HELPERS; id++)
		n += w->counts[id] > 0;
	pp->helpers = arena__alloc(w->a, (n ? n : 1) * sizeof(*pp->helpers));
	if (!pp->helpers)
		return -ENOMEM;
	for (unsigned id = 0; id < PROBE_MAX_HELPERS; id++)
		if (w->counts[id])
			pp->helpers[pp->n_helpers++] = (struct policy_call){ .name = w->helper_name[id], .id = id,
									      .count = w->counts[id] };
	return 0;
}

/* Walks the program's function, its exception callback and every
 * subprogram they reach, once each (libbpf appends each once). */
static void walk_program(struct walk *w, const struct bpf_object *obj, struct policy_prog *pp,
			 const struct bpfcode_fn *f)
{
	const struct bpfcode *c = w->code;
	memset(w->seen, 0, (c->n_fns + 7) / 8);
	memset(w->counts, 0, sizeof(w->counts));
	enqueue(w, pp, (uint32_t)(f - c->fns));
	const char *cb = exception_cb(obj, pp->name);
	const struct bpfcode_fn *cbf = cb ? bpfcode__find(c, ".text", cb) : NULL;
	if (cb && !cbf)
		refuse(w, POLICY_UNRESOLVED_CALL, pp->name, f, NULL, cb, "exception callback");
	else if (cbf)
		enqueue(w, pp, (uint32_t)(cbf - c->fns));
	uint64_t insns = 0;
	for (unsigned head = 0; head < pp->functions && w->r->verdict == POLICY_OK; head++) {
		const struct bpfcode_fn *g = &c->fns[w->queue[head]];
		insns += g->cnt;
		for (uint32_t e = 0; e < g->n_ev; e++)
			walk_event(w, pp, g, &c->evs[g->first_ev + e]);
	}
	pp->insns = insns > UINT32_MAX ? UINT32_MAX : (uint32_t)insns;
	if (insns > w->r->insn_cap) {
		refuse(w, POLICY_TOO_MANY_INSNS, pp->name, NULL, NULL, NULL, NULL);
		w->r->why.insns = insns;
	}
}

static int check_program(struct walk *w, const struct bpf_object *obj, const struct bpf_program *p,
			 struct policy_prog *pp)
{
	memset(pp, 0, sizeof(*pp));
	pp->name = keep(w, bpf_program__name(p));   /* outlives obj when it is reopened */
	pp->type = policy_type(p);
	if (!pp->name)
		return -ENOMEM;
	if (!policy__type_allowed(w->o, pp->type)) {
		refuse(w, POLICY_TYPE_REFUSED, pp->name, NULL, NULL, NULL, NULL);
		w->r->why.type = pp->type;
		return 0;
	}
	/* libbpf's copy of the program must be the code walked here */
	const struct bpfcode_fn *f = bpfcode__find(w->code, bpf_program__section_name(p), pp->name);
	if (!f || f->cnt != bpf_program__insn_cnt(p) ||
	    memcmp(f->insns, bpf_program__insns(p), (size_t)f->cnt * sizeof(struct bpf_insn))) {
		refuse(w, POLICY_UNMAPPED, pp->name, NULL, NULL, NULL, NULL);
		return 0;
	}
	pp->kfuncs = arena__alloc(w->a, (w->n_kfunc_evs + 1) * sizeof(*pp->kfuncs));
	if (!pp->kfuncs)
		return -ENOMEM;
	walk_program(w, obj, pp, f);
	return w->oom ? -ENOMEM : collect_helpers(w, pp);
}

static int walk_init(struct walk *w, const struct bpfcode *c)
{
	const struct probe_helper *all;
	unsigned n;
	int rc = probe__helper_names(&all, &n);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++)
		if (all[i].id < PROBE_MAX_HELPERS)
			w->helper_name[all[i].id] = all[i].name;
	w->code = c;
	w->seen = arena__alloc(w->a, c->n_fns / 8 + 1);
	w->queue = arena__alloc(w->a, (c->n_fns + 1) * sizeof(*w->queue));
	for (unsigned i = 0; i < c->n_evs; i++)
		w->n_kfunc_evs += c->evs[i].kind == BPFCODE_KFUNC || c->evs[i].kind == BPFCODE_KFUNC_ID;
	return w->seen && w->queue ? 0 : -ENOMEM;
}

int policy__check(const struct policy_opts *o, void *image, size_t len, struct bpf_object *obj,
		  uint64_t insn_cap, struct arena *a, struct policy_report *r)
{
	memset(r, 0, sizeof(*r));
	r->insn_cap = insn_cap;
	struct walk *w = arena__alloc(a, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct walk){ .o = o, .a = a, .r = r };
	struct bpfcode code;
	int rc = bpfcode__open(&code, image, len);
	if (rc)
		return rc;
	rc = walk_init(w, &code);
	struct bpf_program *p;
	unsigned n = 0;
	bpf_object__for_each_program(p, obj)
		n += bpf_program__autoload(p);
	r->progs = rc ? NULL : arena__alloc(a, (n + 1) * sizeof(*r->progs));
	if (!rc && !r->progs)
		rc = -ENOMEM;
	bpf_object__for_each_program(p, obj) {
		if (rc || r->verdict != POLICY_OK)
			break;
		if (bpf_program__autoload(p))
			rc = check_program(w, obj, p, &r->progs[r->n_progs++]);
	}
	bpfcode__close(&code);
	return rc ? rc : w->oom ? -ENOMEM : 0;
}

/* ---- the report ------------------------------------------------------------ */

/* Whether rules[0..upto) already listed this name with the same kind. */
static bool listed_before(const struct policy_opts *o, unsigned upto, enum policy_rule_kind k, const char *name)
{
	for (unsigned i = 0; i < upto; i++)
		if (o->rules[i].kind == k && (k == POLICY_BLOCK_HELPER ? same_call(o->rules[i].name, name)
								    : !strcmp(o->rules[i].name, name)))
			return true;
	return false;
}

static bool default_block(const char *name)
{
	for (unsigned i = 0; i < N_OF(default_blocked); i++)
		if (same_call(default_blocked[i].name, name))
			return true;
	return false;
}

static bool default_type(const char *name)
{
	for (unsigned i = 0; i < N_OF(default_types); i++)
		if (!strcmp(default_types[i], name))
			return true;
	return false;
}

/* Blocked helpers and kfuncs in force: the defaults still blocked, then
 * those --block-helper added. */
static void write_blocked(struct jw *w, const struct policy_opts *o)
{
	jw__key(w, "blocked");
	jw__arr(w);
	for (unsigned i = 0; i < N_OF(default_blocked); i++) {
		if (!policy__blocked(o, default_blocked[i].name))
			continue;
		jw__obj(w);
		jw__kstr(w, "name", default_blocked[i].name);
		jw__kstr(w, "why", default_blocked[i].why);
		jw__obj_end(w);
	}
	for (unsigned i = 0; i < o->n_rules; i++) {
		const char *n = o->rules[i].name;
		if (o->rules[i].kind != POLICY_BLOCK_HELPER || default_block(n) || !policy__blocked(o, n) ||
		    listed_before(o, i, POLICY_BLOCK_HELPER, n))
			continue;
		jw__obj(w);
		jw__kstr(w, "name", n);
		jw__kstr(w, "why", "--block-helper");
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

/* The types in force: the base list (the defaults, or --only-prog-type's)
 * still allowed, then those --allow-prog-type added. */
static void write_types(struct jw *w, const struct policy_opts *o)
{
	bool only = only_types(o);
	jw__key(w, "allowed_types");
	jw__arr(w);
	for (unsigned i = 0; !only && i < N_OF(default_types); i++)
		if (policy__type_allowed(o, default_types[i]))
			jw__str(w, default_types[i]);
	for (unsigned i = 0; only && i < o->n_rules; i++) {
		const char *n = o->rules[i].name;
		if (o->rules[i].kind == POLICY_ONLY_TYPE && policy__type_allowed(o, n) &&
		    !listed_before(o, i, POLICY_ONLY_TYPE, n))
			jw__str(w, n);
	}
	for (unsigned i = 0; i < o->n_rules; i++) {
		const char *n = o->rules[i].name;
		if (o->rules[i].kind == POLICY_ALLOW_TYPE && !base_type(o, n) && policy__type_allowed(o, n) &&
		    !listed_before(o, i, POLICY_ALLOW_TYPE, n))
			jw__str(w, n);
	}
	jw__arr_end(w);
}

static void write_calls(struct jw *w, const char *key, const struct policy_call *c, unsigned n, bool helper)
{
	jw__key(w, key);
	jw__arr(w);
	for (unsigned i = 0; i < n; i++) {
		jw__obj(w);
		jw__kstr(w, "name", c[i].name);
		if (helper || c[i].id)
			jw__kuint(w, helper ? "id" : "btf_id", c[i].id);
		jw__kuint(w, "count", c[i].count);
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

void policy__write(struct jw *w, const struct policy_opts *o, const struct policy_report *r)
{
	jw__obj(w);
	jw__kuint(w, "insn_cap", r->insn_cap);
	write_blocked(w, o);
	write_types(w, o);
	jw__key(w, "programs");
	jw__arr(w);
	for (unsigned i = 0; i < r->n_progs; i++) {
		const struct policy_prog *p = &r->progs[i];
		jw__obj(w);
		jw__kstr(w, "name", p->name);
		jw__kstr(w, "type", p->type);
		jw__kuint(w, "insns", p->insns);
		jw__kuint(w, "functions", p->functions);
		write_calls(w, "helpers", p->helpers, p->n_helpers, true);
		write_calls(w, "kfuncs", p->kfuncs, p->n_kfuncs, false);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__obj_end(w);
}
