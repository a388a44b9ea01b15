/* Unit tests for the bytecode policy (src/kern/policy.c) and the code reader
 * under it (src/kern/bpfcode.c): rule parsing and precedence, then the walk
 * over real test objects (the objects under build/bpf, opened by libbpf, never
 * loaded), with helper names from this kernel's BTF. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "json/json.h"
#include "kern/bpfcode.h"
#include "kern/policy.h"
#include "mem/arena.h"
#include "unit.h"

static struct arena arena;

struct image {
	void *bytes;
	size_t len;
};

static struct image slurp(const char *path)
{
	struct image im = { 0 };
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("cannot open %s (build it with make build/bpf/...)\n", path);
		return im;
	}
	fseek(f, 0, SEEK_END);
	im.len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	im.bytes = malloc(im.len ? im.len : 1);
	if (im.bytes && fread(im.bytes, 1, im.len, f) != im.len)
		im.len = 0;
	fclose(f);
	return im;
}

static void flags(void)
{
	struct policy_opts o = { 0 };
	char err[256];
	CHECK_INT(policy__flag(&o, "--profile", "full", err, sizeof(err)), 1);
	CHECK_INT(policy__flag(&o, "--allow-helper", "bpf_send_signal", err, sizeof(err)), 0);
	CHECK_INT(policy__flag(&o, "--block-prog-type", "tracepoint", err, sizeof(err)), 0);
	CHECK_INT(o.n_rules, 2);
	CHECK_INT(policy__flag(&o, "--allow-prog-type", "no_such_type", err, sizeof(err)), -1);
	CHECK(strstr(err, "--allow-prog-type") != NULL);
	CHECK_INT(policy__flag(&o, "--block-helper", "bad-name", err, sizeof(err)), -1);
	CHECK_INT(policy__flag(&o, "--block-helper", "", err, sizeof(err)), -1);
	CHECK_INT(policy__flag(&o, "--block-helper", NULL, err, sizeof(err)), -1);
	CHECK_INT(policy__flag(&o, "--allow-prog-type", "modify_return", err, sizeof(err)), 0);
	CHECK_INT(o.n_rules, 3);
	/* exactly POLICY_MAX_RULES fit, one more is refused */
	while (o.n_rules < POLICY_MAX_RULES)
		CHECK_INT(policy__flag(&o, "--block-helper", "bpf_ktime_get_ns", err, sizeof(err)), 0);
	CHECK_INT(policy__flag(&o, "--block-helper", "bpf_ktime_get_ns", err, sizeof(err)), -1);
	CHECK(strstr(err, "64") != NULL);
}

static void precedence(void)
{
	struct policy_opts o = { 0 };
	char err[256];
	CHECK(policy__blocked(&o, "bpf_send_signal"));
	CHECK(policy__blocked(&o, "send_signal"));          /* with or without bpf_ */
	CHECK(policy__blocked(&o, "bpf_probe_write_user"));
	CHECK(policy__blocked(&o, "bpf_send_signal_task")); /* a kfunc */
	CHECK(!policy__blocked(&o, "bpf_ktime_get_ns"));
	CHECK(policy__type_allowed(&o, "tracepoint"));
	CHECK(policy__type_allowed(&o, "xdp"));
	CHECK(!policy__type_allowed(&o, "lsm"));
	CHECK(!policy__type_allowed(&o, "struct_ops"));
	CHECK(!policy__type_allowed(&o, "ext"));
	CHECK(!policy__type_allowed(&o, "modify_return"));
	CHECK(!policy__type_allowed(&o, "unknown"));
	/* later rules win over earlier ones and over the defaults */
	policy__flag(&o, "--allow-helper", "send_signal", err, sizeof(err));
	CHECK(!policy__blocked(&o, "bpf_send_signal"));
	policy__flag(&o, "--block-helper", "bpf_send_signal", err, sizeof(err));
	CHECK(policy__blocked(&o, "bpf_send_signal"));
	policy__flag(&o, "--allow-prog-type", "lsm", err, sizeof(err));
	policy__flag(&o, "--block-prog-type", "tracepoint", err, sizeof(err));
	CHECK(policy__type_allowed(&o, "lsm"));
	CHECK(!policy__type_allowed(&o, "tracepoint"));
}

static const struct bpfcode_fn *fn_named(const struct bpfcode *c, const char *name)
{
	for (unsigned i = 0; i < c->n_fns; i++)
		if (!strcmp(c->fns[i].name, name))
			return &c->fns[i];
	return NULL;
}

static void reads_code(void)
{
	struct image im = slurp("build/bpf/load_blocked.bpf.o");
	struct bpfcode c;
	CHECK_INT(bpfcode__open(&c, im.bytes, im.len), 0);
	const struct bpfcode_fn *kill = fn_named(&c, "bl_kill"), *nested = fn_named(&c, "bl_nested");
	CHECK(kill && nested);
	if (kill && nested) {
		CHECK_STR(kill->section, ".text");
		CHECK_INT(kill->sec, c.text_sec);
		CHECK(bpfcode__find(&c, "tracepoint/syscalls/sys_enter_getppid", "bl_nested") == nested);
		CHECK(bpfcode__find(&c, ".text", "bl_nested") == NULL);
		/* bl_kill: the helper call is its first instruction */
		CHECK_INT(kill->n_ev, 1);
		CHECK_INT(c.evs[kill->first_ev].kind, BPFCODE_HELPER);
		CHECK_INT(c.evs[kill->first_ev].arg, BPF_FUNC_send_signal);
		CHECK_INT(c.evs[kill->first_ev].insn, 0);
		/* bl_nested reaches bl_kill through a relocated call */
		bool calls_kill = false;
		for (unsigned e = 0; e < nested->n_ev; e++)
			calls_kill |= c.evs[nested->first_ev + e].kind == BPFCODE_SUBPROG &&
				      &c.fns[c.evs[nested->first_ev + e].arg] == kill;
		CHECK(calls_kill);
	}
	bpfcode__close(&c);
	free(im.bytes);
}

static void refuses_other_files(void)
{
	struct bpfcode c;
	char junk[256];
	memset(junk, 0x41, sizeof(junk));
	CHECK_INT(bpfcode__open(&c, junk, sizeof(junk)), -EINVAL);
	struct image im = slurp("build/bpf/load_basic.bpf.o");
	CHECK_INT(bpfcode__open(&c, im.bytes, 40), -EINVAL);   /* cut inside the header */
	free(im.bytes);
	im = slurp("/proc/self/exe");                          /* an x86 executable, not BPF */
	CHECK(im.len > 0);
	CHECK_INT(bpfcode__open(&c, im.bytes, im.len), -EINVAL);
	free(im.bytes);
}

/* Opens path with libbpf (no kernel involved), keeps only `only` (NULL:
 * all) and runs the policy. */
static int check_file(const char *path, const char *only, const struct policy_opts *o, uint64_t cap,
		      struct policy_report *r)
{
	struct image im = slurp(path);
	struct bpf_object *obj = im.len ? bpf_object__open_mem(im.bytes, im.len, NULL) : NULL;
	if (!obj) {
		free(im.bytes);
		return -ENOENT;
	}
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, !only || !strcmp(bpf_program__name(p), only));
	int rc = policy__check(o, im.bytes, im.len, obj, cap, &arena, r);
	bpf_object__close(obj);
	free(im.bytes);
	return rc;
}

static const struct policy_call *call_named(const struct policy_call *c, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return &c[i];
	return NULL;
}

static void reports_calls(void)
{
	struct policy_opts o = { 0 };
	struct policy_report r;
	CHECK_INT(check_file("build/bpf/load_basic.bpf.o", NULL, &o, 131072, &r), 0);
	CHECK_INT(r.verdict, POLICY_OK);
	CHECK_INT(r.n_progs, 2);
	if (r.n_progs == 2) {
		const struct policy_prog *tp = &r.progs[0];
		CHECK_STR(tp->name, "lb_tp");
		CHECK_STR(tp->type, "tracepoint");
		CHECK_INT(tp->functions, 2);     /* lb_tp and lb_bump */
		const struct policy_call *pid = call_named(tp->helpers, tp->n_helpers, "bpf_get_current_pid_tgid");
		CHECK(pid && pid->count == 1 && pid->id == BPF_FUNC_get_current_pid_tgid);
		/* lb_bump's helpers count for both programs */
		CHECK(call_named(tp->helpers, tp->n_helpers, "bpf_ktime_get_ns") != NULL);
		CHECK(call_named(r.progs[1].helpers, r.progs[1].n_helpers, "bpf_ktime_get_ns") != NULL);
		CHECK(call_named(r.progs[1].helpers, r.progs[1].n_helpers, "bpf_map_update_elem") == NULL);
		CHECK_STR(r.progs[1].type, "socket_filter");
	}
	arena__reset(&arena);
	CHECK_INT(check_file("build/bpf/load_kfunc.bpf.o", NULL, &o, 131072, &r), 0);
	CHECK_INT(r.verdict, POLICY_OK);
	if (r.n_progs == 1) {
		const struct policy_call *k = call_named(r.progs[0].kfuncs, r.progs[0].n_kfuncs, "bpf_rcu_read_lock");
		CHECK(k && k->count == 1 && k->id > 0);   /* found in vmlinux BTF */
		CHECK_INT(r.progs[0].n_kfuncs, 2);
	}
	arena__reset(&arena);
}

static void refuses_blocked(void)
{
	static const struct {
		const char *path, *prog, *function, *helper;
		uint32_t insn;
	} cases[] = {
		{ "build/bpf/load_blocked.bpf.o", "bl_signal", "bl_signal", "bpf_send_signal", 10 },
		{ "build/bpf/load_blocked.bpf.o", "bl_nested", "bl_kill", "bpf_send_signal", 0 },
		{ "build/bpf/load_blocked.bpf.o", "bl_write", "bl_write", "bpf_probe_write_user", 6 },
		{ "build/bpf/policy_reach.bpf.o", "pr_loop", "pr_loop_cb", "bpf_send_signal", 1 },
		{ "build/bpf/policy_reach.bpf.o", "pr_throw", "pr_exc_cb", "bpf_send_signal_thread", 1 },
	};
	struct policy_opts o = { 0 };
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_report r;
		unit_case = cases[i].prog;
		CHECK_INT(check_file(cases[i].path, cases[i].prog, &o, 131072, &r), 0);
		CHECK_INT(r.verdict, POLICY_CALL_BLOCKED);
		CHECK_STR(r.why.program, cases[i].prog);
		CHECK_STR(r.why.function, cases[i].function);
		CHECK_STR(r.why.name, cases[i].helper);
		CHECK_STR(r.why.kind, "helper");
		CHECK_INT(r.why.insn, cases[i].insn);
		arena__reset(&arena);
	}
	/* a kfunc blocked by name */
	char err[64];
	policy__flag(&o, "--block-helper", "bpf_rcu_read_unlock", err, sizeof(err));
	struct policy_report r;
	CHECK_INT(check_file("build/bpf/load_kfunc.bpf.o", NULL, &o, 131072, &r), 0);
	CHECK_INT(r.verdict, POLICY_CALL_BLOCKED);
	CHECK_STR(r.why.kind, "kfunc");
	CHECK_STR(r.why.name, "bpf_rcu_read_unlock");
	CHECK_INT(r.why.insn, 3);
	arena__reset(&arena);
}

static void insn_cap_and_types(void)
{
	struct policy_opts o = { 0 };
	struct policy_report r;
	CHECK_INT(check_file("build/bpf/load_big.bpf.o", NULL, &o, 1000000, &r), 0);
	uint32_t n = r.n_progs ? r.progs[0].insns : 0;
	CHECK(n > 1000);
	arena__reset(&arena);
	CHECK_INT(check_file("build/bpf/load_big.bpf.o", NULL, &o, n, &r), 0);   /* at the cap */
	CHECK_INT(r.verdict, POLICY_OK);
	arena__reset(&arena);
	CHECK_INT(check_file("build/bpf/load_big.bpf.o", NULL, &o, n - 1, &r), 0);
	CHECK_INT(r.verdict, POLICY_TOO_MANY_INSNS);
	CHECK_U64(r.why.insns, n);
	CHECK_STR(r.why.program, "big_unrolled");
	arena__reset(&arena);
	CHECK_INT(check_file("build/bpf/load_lsm.bpf.o", NULL, &o, 1000, &r), 0);
	CHECK_INT(r.verdict, POLICY_TYPE_REFUSED);
	CHECK_STR(r.why.type, "lsm");
	arena__reset(&arena);
	char err[64];
	policy__flag(&o, "--allow-prog-type", "lsm", err, sizeof(err));
	CHECK_INT(check_file("build/bpf/load_lsm.bpf.o", NULL, &o, 1000, &r), 0);
	CHECK_INT(r.verdict, POLICY_OK);
	arena__reset(&arena);
}

/* --only-prog-type: the listed types replace the defaults (a default type
 * not listed is refused), allow/block rules still apply on top, and the
 * report lists exactly what is in force. */
static void only_types(void)
{
	struct policy_opts o = { 0 };
	char err[256];
	CHECK_INT(policy__flag(&o, "--only-prog-type", "kprobe", err, sizeof(err)), 0);
	CHECK_INT(policy__flag(&o, "--only-prog-type", "tracepoint", err, sizeof(err)), 0);
	CHECK_INT(policy__flag(&o, "--only-prog-type", "tracepoint", err, sizeof(err)), 0);   /* twice: once in the report */
	CHECK_INT(policy__flag(&o, "--only-prog-type", "tc", err, sizeof(err)), -1);          /* libbpf's name is sched_cls */
	CHECK(strstr(err, "--only-prog-type needs a program type") != NULL);
	CHECK(policy__type_allowed(&o, "kprobe"));
	CHECK(policy__type_allowed(&o, "tracepoint"));
	CHECK(!policy__type_allowed(&o, "xdp"));             /* a default type, not listed */
	CHECK(!policy__type_allowed(&o, "socket_filter"));
	CHECK(!policy__type_allowed(&o, "lsm"));
	struct policy_report r;
	CHECK_INT(check_file("build/bpf/load_basic.bpf.o", NULL, &o, 131072, &r), 0);
	CHECK_INT(r.verdict, POLICY_TYPE_REFUSED);
	CHECK_STR(r.why.program, "lb_sock");
	CHECK_STR(r.why.type, "socket_filter");
	arena__reset(&arena);
	CHECK_INT(check_file("build/bpf/load_basic.bpf.o", "lb_tp", &o, 131072, &r), 0);
	CHECK_INT(r.verdict, POLICY_OK);
	char out[4096];
	struct jw w;
	jw__init(&w, out, sizeof(out) - 1);
	policy__write(&w, &o, &r);
	out[w.len] = 0;
	CHECK(strstr(out, "\"allowed_types\":[\"kprobe\",\"tracepoint\"]") != NULL);
	arena__reset(&arena);
	/* on top: a listed type blocked, an unlisted one allowed, in any order */
	policy__flag(&o, "--allow-prog-type", "lsm", err, sizeof(err));
	policy__flag(&o, "--block-prog-type", "kprobe", err, sizeof(err));
	CHECK(policy__type_allowed(&o, "lsm"));
	CHECK(!policy__type_allowed(&o, "kprobe"));
	CHECK(!policy__type_allowed(&o, "xdp"));
	CHECK_INT(check_file("build/bpf/load_basic.bpf.o", "lb_tp", &o, 131072, &r), 0);
	jw__init(&w, out, sizeof(out) - 1);
	policy__write(&w, &o, &r);
	out[w.len] = 0;
	CHECK(strstr(out, "\"allowed_types\":[\"tracepoint\",\"lsm\"]") != NULL);
	arena__reset(&arena);
	/* without --only-prog-type the defaults stand */
	struct policy_opts none = { 0 };
	CHECK(policy__type_allowed(&none, "xdp"));
}

int main(void)
{
	libbpf_set_print(NULL);
	if (arena__init(&arena, 1 << 20))
		return 1;
	TEST(flags);
	TEST(precedence);
	TEST(reads_code);
	TEST(refuses_other_files);
	TEST(reports_calls);
	TEST(refuses_blocked);
	TEST(insn_cap_and_types);
	TEST(only_types);
	arena__fini(&arena);
	return UNIT_DONE();
}
