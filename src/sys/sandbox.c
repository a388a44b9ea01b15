/* The sandbox: what the process may still do once start-up is over.
 *
 * Start-up (options, the audit log, listening sockets, the workers, init's
 * mounts and modules) runs unconfined; then, before the first request is
 * read: no core dumps and RLIMIT_NOFILE pinned (soft = hard), no_new_privs,
 * and a seccomp filter built from one table for the mode. The filter
 *   1. kills the process on a foreign architecture (and x32 numbers),
 *   2. allows the calls the mode's list names, some only with arguments
 *      checked (socket families, clone for threads only, no PROT_EXEC,
 *      prlimit64 reading or RLIMIT_MEMLOCK),
 *   3. kills the process on the calls that only an attacker makes here
 *      (execve, ptrace, process_vm_*, module loading, kexec, mount, ...):
 *      the kernel logs those (audit type 1326, "SECCOMP ... syscall=N"),
 *   4. traps anything else: SIGSYS, whose handler writes a line naming the
 *      call to stderr and makes it return EPERM, so an unforeseen call on
 *      a rare path fails one request rather than the whole server.
 * The table is the one place to look: one row per call with the modes
 * that allow it. Only x86_64 and aarch64 have their numbers checked here;
 * elsewhere the sandbox says it is off and why.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#define SANDBOX_RET_REG(uc) ((uc)->uc_mcontext.gregs[REG_RAX])
#define SANDBOX_ARG0(uc) ((uc)->uc_mcontext.gregs[REG_RDI])
#elif defined(__aarch64__)
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#define SANDBOX_RET_REG(uc) ((uc)->uc_mcontext.regs[0])
#define SANDBOX_ARG0(uc) ((uc)->uc_mcontext.regs[0])
#endif

#define SANDBOX_MAX_INSNS 600   /* the longest mode's filter is about 260 */

#define M(x) (1u << SANDBOX_##x)
#define ALL_SERVING (M(STDIO) | M(DAEMON) | M(INIT) | M(CLI))
#define EVERY (ALL_SERVING | M(CONNECT))

enum arg_check {
	ANY,          /* allowed as is */
	FAMILY,       /* socket: only the families in family_ok() */
	THREADS,      /* clone: CLONE_THREAD set (threads, never a new process) */
	NO_EXEC,      /* mmap, mprotect: PROT_EXEC clear (nothing new runs) */
	RLIMIT_READ,  /* prlimit64: reading, or setting RLIMIT_MEMLOCK (libbpf) */
	NOSYS,        /* answered ENOSYS so callers fall back (clone3) */
};

struct rule {
	int nr;
	const char *name;
	unsigned modes;         /* where allowed */
	enum arg_check check;
};

#define R(call, modes, check) { SYS_##call, #call, modes, check },

/* What each mode does after start-up, by call. Serving modes run tools on
 * worker threads: files under /proc, /sys and bpffs, the bpf and
 * perf_event_open calls, netlink for XDP/tc, memory, futexes, the loop's
 * epoll/eventfd/signalfd. The daemon adds accepting (unix and TCP). The
 * bridge only moves bytes. */
static const struct rule allow[] = {
	R(read, EVERY, ANY) R(write, EVERY, ANY) R(readv, EVERY, ANY) R(writev, EVERY, ANY)
	R(pread64, ALL_SERVING, ANY) R(pwrite64, ALL_SERVING, ANY) R(lseek, ALL_SERVING, ANY)
	R(close, EVERY, ANY) R(openat, ALL_SERVING, ANY)
#ifdef SYS_open
	R(open, ALL_SERVING, ANY) R(stat, ALL_SERVING, ANY) R(lstat, ALL_SERVING, ANY)
	R(readlink, ALL_SERVING, ANY) R(access, ALL_SERVING, ANY) R(unlink, ALL_SERVING, ANY)
	R(poll, EVERY, ANY) R(epoll_wait, EVERY, ANY) R(dup2, ALL_SERVING, ANY)
	R(time, EVERY, ANY)
#endif
	R(fstat, EVERY, ANY) R(newfstatat, ALL_SERVING, ANY) R(statx, ALL_SERVING, ANY)
	R(fstatfs, ALL_SERVING, ANY) R(statfs, ALL_SERVING, ANY) R(getdents64, ALL_SERVING, ANY)
	R(readlinkat, ALL_SERVING, ANY) R(faccessat, ALL_SERVING, ANY) R(faccessat2, ALL_SERVING, ANY)
	R(unlinkat, ALL_SERVING, ANY) R(ftruncate, ALL_SERVING, ANY) R(fsync, ALL_SERVING, ANY)
	R(fdatasync, ALL_SERVING, ANY) R(getcwd, ALL_SERVING, ANY)
	R(fcntl, EVERY, ANY) R(dup, ALL_SERVING, ANY) R(dup3, ALL_SERVING, ANY) R(pipe2, ALL_SERVING, ANY)
	R(ioctl, EVERY, ANY) R(memfd_create, ALL_SERVING, ANY)
	R(mmap, EVERY, NO_EXEC) R(mprotect, EVERY, NO_EXEC) R(munmap, EVERY, ANY)
	R(mremap, EVERY, ANY) R(madvise, EVERY, ANY) R(brk, EVERY, ANY)
	R(rt_sigaction, EVERY, ANY) R(rt_sigprocmask, EVERY, ANY) R(rt_sigreturn, EVERY, ANY)
	R(sigaltstack, EVERY, ANY) R(rt_sigtimedwait, ALL_SERVING, ANY)
	R(futex, EVERY, ANY) R(set_robust_list, EVERY, ANY) R(set_tid_address, EVERY, ANY)
	R(clone, ALL_SERVING, THREADS) R(clone3, ALL_SERVING, NOSYS)
	R(exit, EVERY, ANY) R(exit_group, EVERY, ANY) R(tgkill, EVERY, ANY) R(tkill, EVERY, ANY)
	R(getpid, EVERY, ANY) R(gettid, EVERY, ANY) R(getppid, ALL_SERVING, ANY)
	R(getuid, ALL_SERVING, ANY) R(geteuid, ALL_SERVING, ANY) R(getgid, ALL_SERVING, ANY)
	R(getegid, ALL_SERVING, ANY) R(getgroups, ALL_SERVING, ANY) R(getresuid, ALL_SERVING, ANY)
	R(getresgid, ALL_SERVING, ANY) R(capget, ALL_SERVING, ANY) R(uname, ALL_SERVING, ANY)
	R(sysinfo, ALL_SERVING, ANY) R(prlimit64, ALL_SERVING, RLIMIT_READ)
	R(clock_gettime, EVERY, ANY) R(clock_getres, EVERY, ANY) R(gettimeofday, EVERY, ANY)
	R(clock_nanosleep, EVERY, ANY) R(nanosleep, EVERY, ANY) R(getrandom, EVERY, ANY)
	R(sched_yield, EVERY, ANY) R(sched_getaffinity, ALL_SERVING, ANY) R(getcpu, ALL_SERVING, ANY)
	R(epoll_create1, EVERY, ANY) R(epoll_ctl, EVERY, ANY) R(epoll_pwait, EVERY, ANY)
	R(epoll_pwait2, EVERY, ANY) R(ppoll, EVERY, ANY) R(pselect6, EVERY, ANY)
	R(eventfd2, ALL_SERVING, ANY) R(signalfd4, ALL_SERVING, ANY)
	R(timerfd_create, ALL_SERVING, ANY) R(timerfd_settime, ALL_SERVING, ANY)
	R(bpf, ALL_SERVING, ANY) R(perf_event_open, ALL_SERVING, ANY)
	R(socket, ALL_SERVING, FAMILY) R(connect, ALL_SERVING, ANY) R(bind, ALL_SERVING, ANY)
	R(sendto, EVERY, ANY) R(recvfrom, EVERY, ANY) R(sendmsg, EVERY, ANY) R(recvmsg, EVERY, ANY)
	R(getsockopt, ALL_SERVING, ANY) R(setsockopt, ALL_SERVING, ANY)
	R(getsockname, ALL_SERVING, ANY) R(getpeername, ALL_SERVING, ANY) R(shutdown, EVERY, ANY)
	R(accept4, M(DAEMON), ANY) R(accept, M(DAEMON), ANY)
	/* oom_kills: a memory cgroup's id to its path (the cgroup file system's handles) */
	R(open_by_handle_at, ALL_SERVING, ANY)
	R(sync, M(INIT), ANY) R(reboot, M(INIT), ANY) R(wait4, M(INIT), ANY) R(waitid, M(INIT), ANY)
};

/* Calls that end the process where the mode does not allow them: nothing
 * here ever makes them, so one is taken as a sign of compromise. */
static const struct rule killing[] = {
	R(execve, 0, ANY) R(execveat, 0, ANY) R(ptrace, 0, ANY)
	R(process_vm_readv, 0, ANY) R(process_vm_writev, 0, ANY)
	R(init_module, 0, ANY) R(finit_module, 0, ANY) R(delete_module, 0, ANY)
	R(kexec_load, 0, ANY) R(kexec_file_load, 0, ANY) R(reboot, 0, ANY)
	R(mount, 0, ANY) R(umount2, 0, ANY) R(pivot_root, 0, ANY) R(chroot, 0, ANY)
	R(setns, 0, ANY) R(unshare, 0, ANY) R(swapon, 0, ANY) R(swapoff, 0, ANY)
	R(userfaultfd, 0, ANY)
	R(keyctl, 0, ANY) R(add_key, 0, ANY) R(request_key, 0, ANY)
#ifdef SYS_iopl
	R(iopl, 0, ANY) R(ioperm, 0, ANY)
#endif
};

#define N_ALLOW (sizeof(allow) / sizeof(allow[0]))
#define N_KILLING (sizeof(killing) / sizeof(killing[0]))
_Static_assert(N_ALLOW <= SANDBOX_MAX_NAMES && N_KILLING <= SANDBOX_MAX_NAMES, "every row has a name slot");

static const char *const mode_names[SANDBOX__MODES] = { "stdio", "daemon", "init", "cli", "connect" };

static struct {
	struct sandbox_state st;
	atomic_uint_fast64_t refused;
	char killing_text[SANDBOX__MODES][512];
} sbx;

const char *sandbox__mode_name(enum sandbox_mode m)
{
	return m < SANDBOX__MODES ? mode_names[m] : "?";
}

static bool allowed_in(const struct rule *r, enum sandbox_mode m)
{
	return r->modes & (1u << m);
}

/* A call on the killing list is allowed where the allow list says so
 * (reboot in init mode). */
static bool kills_in(const struct rule *k, enum sandbox_mode m)
{
	for (unsigned i = 0; i < N_ALLOW; i++)
		if (allow[i].nr == k->nr && allowed_in(&allow[i], m))
			return false;
	return true;
}

const char *sandbox__killing_names(enum sandbox_mode m)
{
	char *t = sbx.killing_text[m];
	if (!*t) {
		size_t len = 0;
		for (unsigned i = 0; i < N_KILLING; i++)
			if (kills_in(&killing[i], m))
				len += (size_t)snprintf(t + len, sizeof(sbx.killing_text[m]) - len, "%s%s",
							len ? ", " : "", killing[i].name);
	}
	return t;
}

/* ---- the filter ---------------------------------------------------------- */

struct prog {
	struct sock_filter insn[SANDBOX_MAX_INSNS];
	unsigned n;
	bool full;
};

static void emit(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n == SANDBOX_MAX_INSNS) {
		p->full = true;
		return;
	}
	p->insn[p->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

#define LD_ARG(p, i, hi) emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, \
	(uint32_t)(offsetof(struct seccomp_data, args[i]) + ((hi) ? 4 : 0)))
#define RET(p, v) emit(p, BPF_RET | BPF_K, 0, 0, v)

static const int inet_families[] = { AF_UNIX, AF_NETLINK, AF_INET, AF_INET6 };

/* Unix sockets (nscd, ifindex ioctls, connect) and netlink (XDP and tc
 * attach) everywhere; TCP only for the daemon (--http). */
static unsigned n_families(enum sandbox_mode m)
{
	return m == SANDBOX_DAEMON ? 4 : 2;
}

/* Argument arg's bit decides: set returns if_set, clear returns if_clear. */
static void bit_decides(struct prog *p, int arg, uint32_t bit, uint32_t if_set, uint32_t if_clear)
{
	LD_ARG(p, arg, 0);
	emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, bit);
	RET(p, if_set);
	RET(p, if_clear);
}

/* The block that follows "this is call nr": it always returns, so the
 * accumulator may be reused. */
static void emit_check(struct prog *p, enum arg_check c, enum sandbox_mode m)
{
	switch (c) {
	case ANY:
		RET(p, SECCOMP_RET_ALLOW);
		break;
	case NOSYS:
		RET(p, SECCOMP_RET_ERRNO | ENOSYS);
		break;
	case THREADS:
		bit_decides(p, 0, CLONE_THREAD, SECCOMP_RET_ALLOW, SECCOMP_RET_TRAP);
		break;
	case NO_EXEC:
		bit_decides(p, 2, PROT_EXEC, SECCOMP_RET_TRAP, SECCOMP_RET_ALLOW);
		break;
	case RLIMIT_READ:
		LD_ARG(p, 1, 0);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 5, 0, RLIMIT_MEMLOCK);
		LD_ARG(p, 2, 0);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0);
		LD_ARG(p, 2, 1);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
		RET(p, SECCOMP_RET_TRAP);
		RET(p, SECCOMP_RET_ALLOW);
		break;
	case FAMILY: {
		unsigned n = n_families(m);
		LD_ARG(p, 0, 0);
		for (unsigned i = 0; i < n; i++)   /* a match jumps over the rest and the trap */
			emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(n - i), 0, (uint32_t)inet_families[i]);
		RET(p, SECCOMP_RET_TRAP);
		RET(p, SECCOMP_RET_ALLOW);
		break;
	}
	}
}

static unsigned check_len(enum arg_check c, enum sandbox_mode m)
{
	static const unsigned len[] = { [ANY] = 1, [NOSYS] = 1, [THREADS] = 4, [NO_EXEC] = 4, [RLIMIT_READ] = 8 };
	return c == FAMILY ? n_families(m) + 3 : len[c];
}

struct counts {
	unsigned allowed, killing;
};

static void build(struct prog *p, enum sandbox_mode m, struct counts *n)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SANDBOX_ARCH);
	RET(p, SECCOMP_RET_KILL_PROCESS);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);   /* the x32 ABI's numbers */
	RET(p, SECCOMP_RET_KILL_PROCESS);
#endif
	for (unsigned i = 0; i < N_ALLOW; i++) {
		if (!allowed_in(&allow[i], m))
			continue;
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)check_len(allow[i].check, m), (uint32_t)allow[i].nr);
		emit_check(p, allow[i].check, m);
		n->allowed++;
	}
	for (unsigned i = 0; i < N_KILLING; i++) {
		if (!kills_in(&killing[i], m))
			continue;
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)killing[i].nr);
		RET(p, SECCOMP_RET_KILL_PROCESS);
		n->killing++;
	}
	RET(p, SECCOMP_RET_TRAP);
}

/* ---- refusals ------------------------------------------------------------- */

static const char *call_name(int nr)
{
	for (unsigned i = 0; i < N_ALLOW; i++)
		if (allow[i].nr == nr)
			return allow[i].name;
	return NULL;
}

/* Async-signal-safe: a fixed buffer, hand-made numbers, one write(2). */
static size_t put(char *b, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		b[at++] = *s++;
	return at;
}

static size_t put_num(char *b, size_t at, size_t cap, unsigned long v)
{
	char d[24];
	int n = 0;
	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof(d));
	while (n && at < cap)
		b[at++] = d[--n];
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	ucontext_t *uc = uctx;
	int saved = errno;
	char b[200];
	size_t n = put(b, 0, sizeof(b), "ebpf-mcp: sandbox: refused system call ");
	const char *name = call_name(si->si_syscall);
	n = name ? put(b, n, sizeof(b), name) : put_num(b, n, sizeof(b), (unsigned long)si->si_syscall);
	if (si->si_syscall == SYS_socket) {
		n = put(b, n, sizeof(b), " (address family ");
		n = put_num(b, n, sizeof(b), (unsigned long)SANDBOX_ARG0(uc));
		n = put(b, n, sizeof(b), ")");
	}
	n = put(b, n, sizeof(b), " with EPERM (mode ");
	n = put(b, n, sizeof(b), mode_names[sbx.st.mode]);
	n = put(b, n, sizeof(b), "; --no-sandbox turns the sandbox off)\n");
	ssize_t w = write(STDERR_FILENO, b, n);
	(void)w;
	atomic_fetch_add(&sbx.refused, 1);
	SANDBOX_RET_REG(uc) = -EPERM;
	errno = saved;
}

/* ---- entering --------------------------------------------------------------- */

static int limits_down(void)
{
	struct rlimit core = { 0, 0 }, nofile;
	if (setrlimit(RLIMIT_CORE, &core) || getrlimit(RLIMIT_NOFILE, &nofile))
		return -errno;
	nofile.rlim_max = nofile.rlim_cur;   /* what start-up raised it to, for good */
	if (setrlimit(RLIMIT_NOFILE, &nofile))
		return -errno;
	sbx.st.nofile = nofile.rlim_cur;
	sbx.st.core = 0;
	return 0;
}

static const char *install(enum sandbox_mode m)
{
#ifndef SANDBOX_ARCH
	(void)m;
	return "no system call table for this architecture";
#else
	static struct prog p;
	struct counts n = { 0 };
	build(&p, m, &n);
	if (p.full)
		return "the filter outgrew SANDBOX_MAX_INSNS";
	sbx.st.insns = p.n;
	sbx.st.allowed = n.allowed;
	sbx.st.killing = n.killing;
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return "sigaction(SIGSYS) failed";
	struct sock_fprog fp = { .len = (unsigned short)p.n, .filter = p.insn };
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fp);
	if (r > 0)
		return "a thread could not take the filter (TSYNC)";
	if (r < 0)
		return errno == EINVAL ? "the kernel has no seccomp filters (CONFIG_SECCOMP_FILTER)"
				       : "seccomp(SET_MODE_FILTER) failed";
	return NULL;
#endif
}

int sandbox__enter(enum sandbox_mode m, bool off)
{
	sbx.st.entered = true;
	sbx.st.mode = m;
	if (off) {
		sbx.st.off_reason = "--no-sandbox";
		fprintf(stderr, "ebpf-mcp: sandbox off (--no-sandbox): no seccomp filter, no_new_privs or rlimits\n");
		return 0;
	}
	int rc = limits_down();
	if (rc)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	sbx.st.no_new_privs = true;
	sbx.st.off_reason = install(m);
	sbx.st.seccomp = !sbx.st.off_reason;
	if (sbx.st.off_reason)
		fprintf(stderr, "ebpf-mcp: warning: sandbox without seccomp: %s\n", sbx.st.off_reason);
	return 0;
}

int sandbox__describe(enum sandbox_mode m, struct sandbox_desc *d)
{
#ifdef SANDBOX_ARCH
	static struct prog p;
	struct counts n = { 0 };
	memset(&p, 0, sizeof(p));
	build(&p, m, &n);
	*d = (struct sandbox_desc){ .allowed = n.allowed, .killing = n.killing, .insns = p.n };
	for (unsigned i = 0, k = 0; i < N_ALLOW && k < SANDBOX_MAX_NAMES; i++)
		if (allowed_in(&allow[i], m))
			d->allowed_names[k++] = allow[i].name;
	for (unsigned i = 0, k = 0; i < N_KILLING && k < SANDBOX_MAX_NAMES; i++)
		if (kills_in(&killing[i], m))
			d->killing_names[k++] = killing[i].name;
	return p.full ? -E2BIG : 0;
#else
	(void)m, (void)d;
	return -ENOSYS;
#endif
}

void sandbox__state(struct sandbox_state *s)
{
	*s = sbx.st;
	s->refused = atomic_load(&sbx.refused);
}
