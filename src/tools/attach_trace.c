/* attach_program's tracing hooks: tracepoints, raw tracepoints, BTF-typed
 * tracing (tp_btf, fentry, fexit), kprobes, uprobes and perf events.
 *
 * libbpf does the attaching; each function checks its target fields first
 * and turns the kernel's errno into an answer that says what to change.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../sys/sysfs.h"
#include "../kern/tracepoint.h"
#include "attach.h"

#define TARGET_BYTES 256   /* schema maxLength of target/symbol + 1 */

static const char *target_arg(struct attach_req *r, const char *what)
{
	const char *t = tool__arg_str(r->ctx, "target");
	if (!t)
		attach__missing(r, "target", what);
	return t;
}

/* ENOENT from tracefs: the tracepoint is absent, or tracefs is not mounted
 * (or was unmounted since the last call): the latter is the resource error
 * every tracefs user gives, recoverable by mounting it. */
static int fail_tracepoint(struct attach_req *r, int rc, const char *name)
{
	char dir[LIMIT_PATH_BYTES];
	int t = rc == -ENOENT ? sysfs__tracefs_dir(dir, sizeof(dir)) : 0;
	if (t == -EACCES)
		return tool__tracefs_denied(r->ctx, "attaching a tracepoint");
	if (t && tool__need_mount(r->ctx, "tracefs", "attaching a tracepoint (its id is read from tracefs)")) {
		attach__pointer(r, "target");
		return -1;
	}
	if (t)
		return attach__unsupported(r, "target", "tracefs is not mounted, so tracepoint ids cannot be read; mount it "
					   "(mount -t tracefs tracefs /sys/kernel/tracing) and retry");
	if (rc == -ENOENT)
		return attach__bad(r, "target", ERR_NO_SUCH_TRACEPOINT, "the kernel has no tracepoint '%s' (%s/events); "
				   "see list_tracepoints", name, dir);
	return attach__kernel(r, rc, "target", "attaching to tracepoint '%s'", name);
}

int attach__tracepoint(struct attach_req *r)
{
	const char *t = target_arg(r, "the tracepoint as \"group/name\" (e.g. \"syscalls/sys_enter_openat\")");
	if (!t)
		return -1;
	char group[TARGET_BYTES];
	const char *slash = strchr(t, '/');
	size_t gl = slash ? (size_t)(slash - t) : 0;
	if (!slash || gl >= sizeof(group) || strchr(slash + 1, '/'))
		return attach__bad(r, "target", ERR_BAD_TARGET, "tracepoint target '%s' must be \"group/name\" "
				   "(e.g. \"sched/sched_switch\")", t);
	memcpy(group, t, gl);
	group[gl] = 0;
	if (!attach__name_ok(group, NULL) || !attach__name_ok(slash + 1, NULL))
		return attach__bad(r, "target", ERR_BAD_TARGET, "tracepoint group and name may hold only letters, "
				   "digits, '_', '-' and '.' (got '%s')", t);
	r->link = tracepoint__attach(r->prog, group, slash + 1);
	if (!r->link)
		return fail_tracepoint(r, -errno, t);
	jw__kstr(&r->det, "tracepoint", t);
	return 0;
}

int attach__raw_tracepoint(struct attach_req *r)
{
	const char *t = target_arg(r, "the tracepoint name (e.g. \"sched_switch\")");
	if (!t)
		return -1;
	if (!attach__name_ok(t, NULL))
		return attach__bad(r, "target", ERR_BAD_TARGET, "raw tracepoint name '%s' may hold only letters, "
				   "digits, '_', '-' and '.'", t);
	r->link = bpf_program__attach_raw_tracepoint(r->prog, t);
	if (!r->link) {
		int rc = -errno;
		if (rc == -ENOENT)
			return attach__bad(r, "target", ERR_NO_SUCH_TRACEPOINT, "the kernel has no tracepoint named '%s' "
					   "(the name without its group, e.g. \"sched_switch\"); see list_tracepoints", t);
		return attach__kernel(r, rc, "target", "attaching to raw tracepoint '%s'", t);
	}
	jw__kstr(&r->det, "tracepoint", t);
	return 0;
}

/* tp_btf/fentry/fexit: the target was fixed at load, from the section. */
int attach__trace(struct attach_req *r)
{
	const char *sec = bpf_program__section_name(r->prog);
	const char *fixed = strchr(sec, '/') ? strchr(sec, '/') + 1 : "";
	const char *t = tool__arg_str(r->ctx, "target");
	bool tp = !strcmp(r->type, "tp_btf");
	if (t && strcmp(t, fixed))
		return attach__bad(r, "target", ERR_TARGET_MISMATCH, "program '%s' was loaded for %s '%s' (section "
				   "\"%s\"): a %s program's target is fixed when it is loaded; leave `target` out or "
				   "load a program for '%s'", bpf_program__name(r->prog), tp ? "tracepoint" : "function",
				   fixed, sec, r->type, t);
	r->link = bpf_program__attach_trace(r->prog);
	if (!r->link)
		return attach__kernel(r, -errno, NULL, "attaching %s program '%s' to '%s'", r->type,
				      bpf_program__name(r->prog), fixed);
	jw__kstr(&r->det, tp ? "tracepoint" : "function", fixed);
	return 0;
}

int attach__kprobe(struct attach_req *r)
{
	const char *t = target_arg(r, "the kernel function to probe (see list_kernel_functions)");
	if (!t)
		return -1;
	if (!attach__name_ok(t, NULL))
		return attach__bad(r, "target", ERR_BAD_TARGET, "kernel function name '%s' may hold only letters, "
				   "digits, '_', '-' and '.'", t);
	uint64_t off = (uint64_t)tool__arg_int(r->ctx, "offset", 0);
	LIBBPF_OPTS(bpf_kprobe_opts, o, .retprobe = !strcmp(r->type, "kretprobe"), .offset = off);
	r->link = bpf_program__attach_kprobe_opts(r->prog, t, &o);
	if (!r->link) {
		int rc = -errno;
		if (rc == -ENOENT || rc == -EINVAL)
			return attach__bad(r, "target", ERR_NO_SUCH_FUNCTION, "the kernel could not probe '%s'%s (%s): it "
					   "is not a probeable kernel function; see list_kernel_functions (traceable)", t,
					   off ? " at that offset" : "", strerror(-rc));
		return attach__kernel(r, rc, "target", "attaching %s to '%s'", r->type, t);
	}
	jw__kstr(&r->det, "function", t);
	if (off)
		jw__kuint(&r->det, "offset", off);
	return 0;
}

static int fail_uprobe(struct attach_req *r, int rc, const char *bin, const char *sym, int64_t pid)
{
	if (rc == -ENOENT && sym)
		return attach__bad(r, "symbol", ERR_NO_SUCH_SYMBOL, "'%s' has no function symbol '%s' in its symbol "
				   "tables (a stripped binary has none: give `offset` instead)", bin, sym);
	if (rc == -ESRCH)
		return attach__bad(r, "pid", ERR_NO_SUCH_PROCESS, "no process %lld exists", (long long)pid);
	return attach__kernel(r, rc, sym ? "symbol" : "offset", "attaching %s to '%s'", r->type, bin);
}

int attach__uprobe(struct attach_req *r)
{
	const char *bin = tool__arg_str(r->ctx, "binary");
	const char *sym = tool__arg_str(r->ctx, "symbol");
	bool has_off = tool__arg(r->ctx, "offset") >= 0;
	int64_t pid = tool__arg_int(r->ctx, "pid", -1);
	if (!bin)
		return attach__missing(r, "binary", "the executable or library to probe");
	if (!sym && !has_off)
		return attach__missing(r, "symbol", "a function symbol in the binary, or `offset` (its file offset)");
	if (sym && !attach__name_ok(sym, "@$"))
		return attach__bad(r, "symbol", ERR_BAD_TARGET, "symbol '%s' may hold only letters, digits and _.-@$", sym);
	char real[LIMIT_PATH_BYTES];
	struct stat st;
	if (!realpath(bin, real) && errno == ENOENT)
		return attach__bad(r, "binary", ERR_NO_SUCH_FILE, "binary '%s' does not exist", bin);
	if (!realpath(bin, real))
		return attach__kernel(r, -errno, "binary", "binary '%s'", bin);
	if (stat(real, &st) || !S_ISREG(st.st_mode))
		return attach__bad(r, "binary", ERR_NOT_REGULAR_FILE, "binary '%s' is not a regular file", bin);
	uint64_t off = (uint64_t)tool__arg_int(r->ctx, "offset", 0);
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = !strcmp(r->type, "uretprobe"), .func_name = sym);
	r->link = bpf_program__attach_uprobe_opts(r->prog, (pid_t)pid, real, off, &o);
	if (!r->link)
		return fail_uprobe(r, -errno, real, sym, pid);
	jw__kstr(&r->det, "binary", real);
	if (sym)
		jw__kstr(&r->det, "symbol", sym);
	jw__kuint(&r->det, "offset", off);
	if (pid > 0)
		jw__kint(&r->det, "pid", pid);
	return 0;
}

/* ---- perf events ---------------------------------------------------------- */

#define PERF_MIN_CLOCK_PERIOD_NS 10000   /* a shorter cpu-clock period floods the CPU */
#define PERF_DEFAULT_FREQ        99      /* off the 100 Hz tick, the usual profiling rate */

static const struct perf_ev {
	const char *name;
	uint32_t type;
	uint64_t config;
	bool clock;            /* period in nanoseconds */
} perf_events[] = {
	{ "cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, true },
	{ "task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, true },
	{ "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, false },
	{ "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, false },
	{ "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, false },
	{ "minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN, false },
	{ "major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ, false },
	{ "cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, false },
	{ "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, false },
	{ "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, false },
	{ "branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, false },
};

static const struct perf_ev *find_perf_event(const char *name)
{
	for (unsigned i = 0; name && i < sizeof(perf_events) / sizeof(perf_events[0]); i++)
		if (!strcmp(perf_events[i].name, name))
			return &perf_events[i];
	return NULL;
}

/* Fills attr's sampling from frequency / sample_period (exactly one). */
static int perf_sampling(struct attach_req *r, const struct perf_ev *ev, struct perf_event_attr *a)
{
	bool has_freq = tool__arg(r->ctx, "frequency") >= 0, has_period = tool__arg(r->ctx, "sample_period") >= 0;
	if (has_freq && has_period)
		return attach__bad(r, "sample_period", ERR_CONFLICTING_TARGET, "give `frequency` or `sample_period`, "
				   "not both");
	if (has_period) {
		a->sample_period = (uint64_t)tool__arg_int(r->ctx, "sample_period", 0);
		if (ev->clock && a->sample_period < PERF_MIN_CLOCK_PERIOD_NS)
			return attach__bad(r, "sample_period", ERR_PERIOD_TOO_SMALL, "%s counts nanoseconds: a "
					   "sample_period under %d would flood the CPU with samples", ev->name,
					   PERF_MIN_CLOCK_PERIOD_NS);
		jw__kuint(&r->det, "sample_period", a->sample_period);
		return 0;
	}
	a->freq = 1;
	a->sample_freq = (uint64_t)tool__arg_int(r->ctx, "frequency", PERF_DEFAULT_FREQ);
	jw__kuint(&r->det, "frequency", a->sample_freq);
	return 0;
}

static int fail_perf_open(struct attach_req *r, int rc, const struct perf_ev *ev, int64_t pid, int cpu)
{
	int64_t max_rate = 0;
	if (ev->type == PERF_TYPE_HARDWARE && (rc == -ENOENT || rc == -EOPNOTSUPP || rc == -ENODEV))
		return attach__unsupported(r, "event", "this machine has no hardware PMU that counts %s (perf_event_open: "
					   "%s); use a software event such as cpu-clock", ev->name, strerror(-rc));
	if (rc == -ESRCH)
		return attach__bad(r, "pid", ERR_NO_SUCH_PROCESS, "no process %lld exists", (long long)pid);
	if (rc == -EINVAL && tool__arg(r->ctx, "frequency") >= 0 &&
	    !sysfs__read_int("/proc/sys/kernel/perf_event_max_sample_rate", &max_rate) &&
	    tool__arg_int(r->ctx, "frequency", 0) > max_rate)
		return attach__bad(r, "frequency", ERR_FREQUENCY_TOO_HIGH, "the kernel allows at most %lld samples "
				   "per second (kernel.perf_event_max_sample_rate)", (long long)max_rate);
	return attach__kernel(r, rc, cpu >= 0 ? "cpu" : "pid", "opening perf event %s", ev->name);
}

int attach__perf_event(struct attach_req *r)
{
	const struct perf_ev *ev = find_perf_event(tool__arg_str(r->ctx, "event"));
	if (!ev)
		return attach__missing(r, "event", "the perf event to sample (e.g. \"cpu-clock\")");
	int64_t pid = tool__arg_int(r->ctx, "pid", -1);
	int cpu = (int)tool__arg_int(r->ctx, "cpu", -1), ncpu = libbpf_num_possible_cpus();
	if (pid < 0 && cpu < 0)
		return attach__missing(r, "cpu", "the CPU to sample, or `pid` for one task");
	if (cpu >= 0 && ncpu > 0 && cpu >= ncpu)
		return attach__bad(r, "cpu", ERR_NO_SUCH_CPU, "cpu %d does not exist (this machine has %d possible "
				   "CPUs: 0-%d)", cpu, ncpu, ncpu - 1);
	jw__kstr(&r->det, "event", ev->name);
	struct perf_event_attr a = { .size = sizeof(a), .type = ev->type, .config = ev->config };
	if (perf_sampling(r, ev, &a))
		return -1;
	int pfd = (int)syscall(__NR_perf_event_open, &a, (pid_t)pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return fail_perf_open(r, -errno, ev, pid, cpu);
	r->link = bpf_program__attach_perf_event(r->prog, pfd);
	if (!r->link) {
		int rc = -errno;
		close(pfd);
		return attach__kernel(r, rc, "event", "attaching to perf event %s", ev->name);
	}
	if (cpu >= 0)
		jw__kint(&r->det, "cpu", cpu);
	if (pid > 0)
		jw__kint(&r->det, "pid", pid);
	return 0;
}
