/* info: what this host offers for eBPF, and this server's own state. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../mem/heap.h"
#include "../sys/caps.h"
#include "../sys/sysfs.h"
#include "tool.h"
#include "../sys/sandbox.h"

#define INFO_STATUS_BYTES 8192   /* /proc/self/status is ~1.5 KiB */
#define INFO_MAX_MODULES  4096   /* entries walked in /sys/kernel/btf */

/* A "Key:\tvalue" line of /proc/self/status. */
static const char *status_field(const char *status, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return p + kl + 1;
	return NULL;
}

/* A "Key: N kB" line of /proc/self/status in bytes; null without /proc. */
static void kstatus_kib(struct jw *w, const char *name, const char *status, const char *key)
{
	const char *v = status ? status_field(status, key) : NULL;
	jw__key(w, name);
	if (v)
		jw__uint(w, strtoull(v, NULL, 10) * 1024);
	else
		jw__null(w);
}

static void write_caller(struct jw *w, const struct tool_env *env)
{
	jw__key(w, "caller");
	jw__obj(w);
	bool peer = env->who.kind == IDENT_PEER;
	jw__kstr(w, "auth", peer ? "peer" : env->who.kind == IDENT_TOKEN ? "token" : "none");
	jw__key(w, "uid");
	peer ? jw__uint(w, env->who.uid) : jw__null(w);
	jw__key(w, "gid");
	peer ? jw__uint(w, env->who.gid) : jw__null(w);
	jw__key(w, "pid");
	if (env->who.pid > 0)
		jw__int(w, env->who.pid);
	else
		jw__null(w);
	jw__kstr(w, "user", env->who.user);
	jw__kstr(w, "profile", config__profile_name(env->profile));
	jw__kbool(w, "allow_foreign", env->allow_foreign);
	jw__obj_end(w);
}

static void write_server(struct tool_ctx *ctx)
{
	const struct tool_facts *f = ctx->facts;
	struct jw *w = ctx->out;
	jw__key(w, "server");
	jw__obj(w);
	jw__kstr(w, "name", "ebpf-mcp");
	jw__kstr(w, "version", EBPF_MCP_VERSION);
	jw__kstr(w, "mode", f->mode);
	jw__kstr(w, "protocol_version", f->protocol);
	jw__kstr(w, "profile", config__profile_name(ctx->env->profile));
	jw__key(w, "tools");
	jw__arr(w);
	for (unsigned k = 0; k < tool_count; k++)
		if (tool__allowed(ctx->env, tool_table[k]))
			jw__str(w, tool_table[k]->name);
	jw__arr_end(w);
	jw__kint(w, "pid", getpid());
	jw__kuint(w, "uptime_ms", (now_ns() - f->started_ns) / 1000000);
	jw__kuint(w, "session", f->session_id);
	jw__kuint(w, "sessions", f->sessions);
	jw__kuint(w, "workers", f->workers);
	jw__kuint(w, "requests", f->requests);
	jw__kuint(w, "tool_calls", f->tool_calls);
	jw__kuint(w, "errors", f->errors);
	write_caller(w, ctx->env);
	jw__obj_end(w);
}

static void write_kernel(struct jw *w)
{
	struct utsname u;
	uname(&u);
	jw__key(w, "kernel");
	jw__obj(w);
	jw__kstr(w, "release", u.release);
	jw__kstr(w, "version", u.version);
	jw__kstr(w, "machine", u.machine);
	jw__kstr(w, "hostname", u.nodename);
	jw__obj_end(w);
}

/* Why vmlinux BTF is absent and what to do, for the btf.hint member. */
static const char *btf_hint(void)
{
	if (!sysfs__mounted_at("sysfs", "/sys"))
		return "sysfs is not mounted at /sys, so /sys/kernel/btf/vmlinux is absent: mount it "
		       "(mount -t sysfs sysfs /sys; in a container: -v /sys:/sys:ro); get_btf_types and the "
		       "CO-RE tracers need it";
	return "this kernel exposes no /sys/kernel/btf/vmlinux (built without CONFIG_DEBUG_INFO_BTF): "
	       "get_btf_types and the CO-RE tracers cannot run on it";
}

static void write_btf(struct jw *w)
{
	struct stat st;
	bool have = stat("/sys/kernel/btf/vmlinux", &st) == 0;
	unsigned mods = 0;
	DIR *d = opendir("/sys/kernel/btf");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) && mods < INFO_MAX_MODULES)
			if (e->d_name[0] != '.' && strcmp(e->d_name, "vmlinux"))
				mods++;
		closedir(d);
	}
	jw__key(w, "btf");
	jw__obj(w);
	jw__kbool(w, "vmlinux", have);
	jw__kint(w, "vmlinux_bytes", have ? st.st_size : 0);
	jw__kuint(w, "modules_with_btf", mods);
	jw__key(w, "hint");
	if (have)
		jw__null(w);
	else
		jw__str(w, btf_hint());
	jw__obj_end(w);
}

#define INFO_FS 5

struct first_mounts {
	const char *const (*fs)[3];
	char dir[INFO_FS][256];
	bool found[INFO_FS];
};

static int first_mount(const char *type, const char *dir, void *arg)
{
	struct first_mounts *m = arg;
	for (unsigned k = 0; k < INFO_FS; k++)
		if (!m->found[k] && !strcmp(type, m->fs[k][1]) && strlen(dir) < sizeof(m->dir[k])) {
			strcpy(m->dir[k], dir);
			m->found[k] = true;
		}
	return 0;
}

static void write_fs(struct jw *w)
{
	/* key, fstype, what needs it */
	static const char *const fs[INFO_FS][3] = {
		{ "sysfs", "sysfs", "vmlinux BTF (get_btf_types, CO-RE tracers), the CPU list, the mount points below" },
		{ "proc", "proc", "kallsyms (list_kernel_functions, stack symbols), process maps, the sysctls here" },
		{ "tracefs", "tracefs", "tracepoints (list_tracepoints, trace_open, trace_tcp, tcp_retransmits, attach by name)" },
		{ "debugfs", "debugfs", "tracefs under /sys/kernel/debug/tracing (older setups)" },
		{ "bpffs", "bpf", "pins (pin_object, the pins inspect_state lists)" },
	};
	struct first_mounts mnt = { .fs = fs };
	sysfs__each_mount_all(first_mount, &mnt);   /* one pass over the mount table for all five */
	jw__key(w, "filesystems");
	jw__obj(w);
	for (unsigned k = 0; k < INFO_FS; k++) {
		bool m = mnt.found[k];
		const char *mp = mnt.dir[k];
		int sup = sysfs__fs_supported(fs[k][1]);
		jw__key(w, fs[k][0]);
		jw__obj(w);
		jw__kbool(w, "mounted", m);
		jw__key(w, "path");
		if (m)
			jw__str(w, mp);
		else
			jw__null(w);
		jw__key(w, "supported");
		if (sup < 0)
			jw__null(w);
		else
			jw__bool(w, sup);
		jw__kstr(w, "needed_for", fs[k][2]);
		jw__key(w, "fix");
		if (m)
			jw__null(w);
		else
			jw__str(w, sysfs__known_mount(fs[k][1])->command);
		jw__obj_end(w);
	}
	jw__obj_end(w);
}

static void write_caps(struct jw *w)
{
	uint64_t eff = caps__effective();
	jw__key(w, "capabilities");
	jw__obj(w);
	jw__key(w, "effective");
	jw__arr(w);
	for (unsigned b = 0; b < 64; b++)
		if (eff >> b & 1) {
			if (caps__short_name(b))
				jw__str(w, caps__short_name(b));
			else
				jw__strf(w, "cap_%u", b);
		}
	jw__arr_end(w);
	/* CAP_SYS_ADMIN implies the BPF and perf rights on every kernel. */
	bool admin = eff >> CAP_SYS_ADMIN & 1;
	jw__kbool(w, "bpf", admin || (eff >> CAP_BPF & 1));
	jw__kbool(w, "perfmon", admin || (eff >> CAP_PERFMON & 1));
	jw__kbool(w, "sys_admin", admin);
	jw__kbool(w, "net_admin", eff >> CAP_NET_ADMIN & 1);
	jw__key(w, "missing");
	jw__arr(w);
	if (!admin && !(eff >> CAP_BPF & 1))
		jw__str(w, "bpf");
	if (!admin && !(eff >> CAP_PERFMON & 1))
		jw__str(w, "perfmon");
	if (!(eff >> CAP_NET_ADMIN & 1))
		jw__str(w, "net_admin");
	jw__arr_end(w);
	jw__obj_end(w);
}

static void kint_file(struct jw *w, const char *key, const char *path)
{
	int64_t v;
	jw__key(w, key);
	if (sysfs__read_int(path, &v))
		jw__null(w);
	else
		jw__int(w, v);
}

static void write_security(struct jw *w)
{
	char buf[256];
	jw__key(w, "security");
	jw__obj(w);
	jw__key(w, "lockdown");
	char *l, *r;
	if (!sysfs__read("/sys/kernel/security/lockdown", buf, sizeof(buf), NULL) &&
	    (l = strchr(buf, '[')) && (r = strchr(l, ']')))
		jw__strn(w, l + 1, (size_t)(r - l - 1));
	else
		jw__null(w);
	kint_file(w, "unprivileged_bpf_disabled", "/proc/sys/kernel/unprivileged_bpf_disabled");
	kint_file(w, "jit_enable", "/proc/sys/net/core/bpf_jit_enable");
	kint_file(w, "jit_harden", "/proc/sys/net/core/bpf_jit_harden");
	kint_file(w, "jit_kallsyms", "/proc/sys/net/core/bpf_jit_kallsyms");
	kint_file(w, "bpf_stats_enabled", "/proc/sys/kernel/bpf_stats_enabled");
	jw__obj_end(w);
}

static void write_limits_mem(struct jw *w, const char *status)
{
	jw__key(w, "limits");
	jw__obj(w);
	for (int i = 0; i < LIM__COUNT; i++)
		jw__kuint(w, limit_defs[i].name, limits[i]);
	jw__obj_end(w);
	struct heap_stats hs;
	heap__stats(&hs);
	jw__key(w, "memory");
	jw__obj(w);
	jw__kuint(w, "heap_cap_bytes", hs.cap);
	jw__kuint(w, "heap_mapped_bytes", hs.mapped);
	jw__kuint(w, "heap_peak_bytes", hs.peak);
	jw__kuint(w, "heap_refusals", hs.failures);
	kstatus_kib(w, "rss_bytes", status, "VmRSS");
	kstatus_kib(w, "rss_peak_bytes", status, "VmHWM");
	jw__obj_end(w);
}

/* A "Key:\tN" line of /proc/self/status as an integer; null without it. */
static void kstatus_int(struct jw *w, const char *name, const char *status, const char *key)
{
	const char *v = status ? status_field(status, key) : NULL;
	jw__key(w, name);
	if (v)
		jw__int(w, strtoll(v, NULL, 10));
	else
		jw__null(w);
}

/* What the sandbox was set to, and the kernel's word on it. */
static void write_sandbox(struct jw *w, const char *status)
{
	struct sandbox_state st;
	sandbox__state(&st);
	jw__key(w, "sandbox");
	jw__obj(w);
	jw__kbool(w, "enabled", st.seccomp);
	jw__kstr(w, "mode", st.entered ? sandbox__mode_name(st.mode) : "none");
	jw__key(w, "off_reason");
	if (st.seccomp)
		jw__null(w);
	else
		jw__str(w, st.entered ? st.off_reason : "not entered");
	jw__kuint(w, "allowed_calls", st.allowed);
	jw__key(w, "killing_calls");
	jw__str(w, st.seccomp ? sandbox__killing_names(st.mode) : "");
	jw__kstr(w, "other_calls", st.seccomp ? "fail with EPERM, each logged on stderr" : "allowed");
	jw__kuint(w, "filter_instructions", st.insns);
	jw__kuint(w, "refused", st.refused);
	jw__key(w, "rlimit_nofile");
	st.no_new_privs ? jw__uint(w, st.nofile) : jw__null(w);
	jw__key(w, "rlimit_core");
	st.no_new_privs ? jw__uint(w, st.core) : jw__null(w);
	kstatus_int(w, "kernel_seccomp", status, "Seccomp");
	kstatus_int(w, "kernel_seccomp_filters", status, "Seccomp_filters");
	kstatus_int(w, "kernel_no_new_privs", status, "NoNewPrivs");
	jw__obj_end(w);
}

static int run_info(struct tool_ctx *ctx)
{
	char *status = arena__alloc(ctx->scratch, INFO_STATUS_BYTES);
	if (!status)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for /proc/self/status");
	/* Without /proc (a scratch container) info still answers: the memory
	 * figures that only /proc/self/status holds are null. */
	int r = sysfs__read("/proc/self/status", status, INFO_STATUS_BYTES, NULL);
	if (r && r != -EFBIG)
		status = NULL;
	struct jw *w = ctx->out;
	jw__obj(w);
	write_server(ctx);
	write_kernel(w);
	write_btf(w);
	write_fs(w);
	write_caps(w);
	write_security(w);
	write_sandbox(w, status);
	write_limits_mem(w, status);
	jw__obj_end(w);
	return 0;
}

const struct tool tool_info = {
	.name = "info",
	.schema = SCHEMA_info,
	.run = run_info,
};
