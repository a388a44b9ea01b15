/* `ebpf-mcp sandbox [MODE [CALL]]`: what each mode's seccomp list allows
 * and kills, and a way to see the running kernel enforce it.
 *
 * Without CALL it prints the lists (one JSON line per mode). With CALL it
 * enters MODE's sandbox exactly as that mode does after start-up and makes
 * the call with harmless arguments: a killing call ends the process by
 * SIGSYS (the shell, or any parent, sees the signal), a refused one prints
 * EPERM (and the sandbox's own line on stderr), an allowed one prints what
 * the kernel answered. With --no-sandbox the same call shows what it does
 * unconfined, which is what makes a refusal mean something.
 */
#define _GNU_SOURCE
#include "sandbox_cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "sys/sandbox.h"

static long try_execve(void)
{
	char *argv[] = { "ebpf-mcp", "--version", NULL }, *envp[] = { NULL };
	return execve("/proc/self/exe", argv, envp);
}

static long try_ptrace(void) { return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }

/* One byte of our own memory written over itself. */
static long try_vm_writev(void)
{
	static char byte = 1;
	struct iovec l = { &byte, 1 }, r = { &byte, 1 };
	return syscall(SYS_process_vm_writev, getpid(), &l, 1, &r, 1, 0);
}

/* No image: EFAULT or EPERM (no CAP_SYS_MODULE) when the call is let through. */
static long try_init_module(void) { return syscall(SYS_init_module, NULL, 0, ""); }
static long try_mount(void) { return syscall(SYS_mount, "none", "/nonexistent/ebpf-mcp", "tmpfs", 0, NULL); }

static long open_socket(int family, int type)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? -1 : 0;
}

static long try_packet(void) { return open_socket(AF_PACKET, SOCK_RAW); }
static long try_alg(void) { return open_socket(AF_ALG, SOCK_SEQPACKET); }
static long try_inet(void) { return open_socket(AF_INET, SOCK_STREAM); }
static long try_unix(void) { return open_socket(AF_UNIX, SOCK_STREAM); }

/* A new process (clone without CLONE_THREAD); the child leaves at once. */
static long try_fork(void)
{
	long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(0);
	return pid < 0 ? -1 : 0;
}

static long try_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	munmap(p, 4096);
	return 0;
}

/* RLIMIT_NOFILE read, then set to what it is: reading is allowed, setting
 * only RLIMIT_MEMLOCK (libbpf's bump on kernels without memcg accounting). */
static long try_rlimit_get(void)
{
	struct rlimit r;
	return getrlimit(RLIMIT_NOFILE, &r);
}

static long try_rlimit_set(void)
{
	struct rlimit r;
	return getrlimit(RLIMIT_NOFILE, &r) ? -1 : setrlimit(RLIMIT_NOFILE, &r);
}

/* The first program id: ENOENT when none is loaded, still an answer. */
static long try_bpf(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	return syscall(SYS_bpf, BPF_PROG_GET_NEXT_ID, &a, sizeof(a));
}

static const struct probe {
	const char *name;
	long (*fn)(void);
} probes[] = {
	{ "execve", try_execve },       { "ptrace", try_ptrace },         { "process_vm_writev", try_vm_writev },
	{ "init_module", try_init_module }, { "mount", try_mount },       { "socket_packet", try_packet },
	{ "socket_alg", try_alg },      { "socket_inet", try_inet },       { "socket_unix", try_unix },
	{ "fork", try_fork },           { "mmap_exec", try_mmap_exec },    { "bpf", try_bpf },
	{ "rlimit_get", try_rlimit_get }, { "rlimit_set", try_rlimit_set },
};
#define N_PROBES (sizeof(probes) / sizeof(probes[0]))

static void print_names(const char *key, const char *const *names, unsigned n)
{
	printf(",\"%s\":[", key);
	for (unsigned i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "", names[i]);
	printf("]");
}

static int describe(enum sandbox_mode m)
{
	static struct sandbox_desc d;
	int rc = sandbox__describe(m, &d);
	if (rc)
		return fprintf(stderr, "ebpf-mcp: sandbox %s: %s\n", sandbox__mode_name(m), strerror(-rc)), 1;
	printf("{\"mode\":\"%s\",\"allowed_calls\":%u,\"killing_calls\":%u,\"filter_instructions\":%u", sandbox__mode_name(m),
	       d.allowed, d.killing, d.insns);
	print_names("allowed", d.allowed_names, d.allowed);
	print_names("killing", d.killing_names, d.killing);
	printf(",\"other_calls\":\"EPERM\"}\n");
	return 0;
}

static int find_mode(const char *w)
{
	for (int m = 0; m < SANDBOX__MODES; m++)
		if (!strcmp(w, sandbox__mode_name((enum sandbox_mode)m)))
			return m;
	return -1;
}

static int try_call(enum sandbox_mode m, const char *name, bool off)
{
	const struct probe *p = NULL;
	for (unsigned i = 0; i < N_PROBES; i++)
		if (!strcmp(probes[i].name, name))
			p = &probes[i];
	if (!p) {
		fprintf(stderr, "ebpf-mcp: sandbox: no probe '%s'; probes:", name);
		for (unsigned i = 0; i < N_PROBES; i++)
			fprintf(stderr, " %s", probes[i].name);
		return fprintf(stderr, "\n"), 2;
	}
	fflush(stdout);
	int rc = sandbox__enter(m, off);
	if (rc)
		return fprintf(stderr, "ebpf-mcp: cannot enter the sandbox: %s\n", strerror(-rc)), 1;
	errno = 0;
	long r = p->fn();
	int e = errno;
	printf("{\"mode\":\"%s\",\"call\":\"%s\",\"sandbox\":%s,\"result\":\"%s\",\"errno\":%d,\"error\":\"%s\"}\n", sandbox__mode_name(m),
	       name, off ? "false" : "true", r < 0 ? (e == EPERM ? "EPERM" : "error") : "ok", r < 0 ? e : 0,
	       r < 0 ? strerror(e) : "");
	return 0;
}

int sandbox_cli__run(int n, char **words, bool off)
{
	int m = n ? find_mode(words[0]) : -1;
	if (n > 2 || (n && m < 0))
		return fprintf(stderr, "ebpf-mcp: usage: sandbox [stdio|daemon|init|cli|connect [PROBE]]\n"), 2;
	if (n == 2)
		return try_call((enum sandbox_mode)m, words[1], off);
	int rc = 0;
	for (int k = 0; k < SANDBOX__MODES; k++)
		if (!n || k == m)
			rc |= describe((enum sandbox_mode)k);
	return rc;
}
