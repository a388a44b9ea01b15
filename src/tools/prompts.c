/* Investigation playbooks (see surface.h): what an operator asks an agent
 * to find out, as steps that name the tools to call and what to look at.
 * {arg} in a text is replaced by the argument's value (or its default);
 * values are checked for what they are (a pid is digits, a comm at most 15
 * bytes of what a comm holds) so a prompt never carries injected text. */
#include <stdio.h>
#include <string.h>

#include "surface.h"


const struct prompt prompts[] = {
	{ "process_failing", "Why is a process failing?",
	  "Find out why a process fails: the syscalls it gets errors from, the files it cannot open, what it "
	  "executes and how its children end.",
	  { { "comm", "The process name (its comm, up to 15 bytes).", true },
	    { "duration_ms", "How long to watch, in milliseconds (default 10000).", false } },
	  2,
	  "Investigate why the process `{comm}` is failing on this host, using the ebpf-mcp tools.\n"
	  "1. Call `trace_errors` with comm=\"{comm}\" and duration_ms={duration_ms}, while the failure happens: "
	  "which syscalls fail, with which errno, how often.\n"
	  "2. Call `trace_open` with comm=\"{comm}\" and duration_ms={duration_ms}: which paths it opens, which "
	  "opens fail (ENOENT, EACCES) and with which flags.\n"
	  "3. Call `trace_exec` with duration_ms={duration_ms}: what it runs, and the exit status or signal of "
	  "each child.\n"
	  "4. Relate the errors to the paths and programs: a missing file, a permission, a child that dies. "
	  "Quote the exact syscall, path and errno for each finding, and say what to change.",
	  { NULL, "10000" } },
	{ "cpu_hot_spots", "Where does CPU time go?",
	  "Find the hottest code on the CPUs (kernel and user stacks), the syscalls that cost most, and whether "
	  "tasks wait to run.",
	  { { "pid", "Only this process (digits); all when absent.", false },
	    { "duration_ms", "How long to sample, in milliseconds (default 10000).", false } },
	  2,
	  "Find where CPU time goes on this host{pid_clause}, using the ebpf-mcp tools.\n"
	  "1. Call `profile_cpu` with duration_ms={duration_ms}{pid_arg}: the hottest functions and stacks "
	  "(kernel and user, folded).\n"
	  "2. Call `syscall_stats` with duration_ms={duration_ms}{pid_arg}: which syscalls are called most and "
	  "take longest.\n"
	  "3. Call `runq_latency` with duration_ms={duration_ms}: whether tasks wait long to run (p99 in the "
	  "milliseconds means CPU contention).\n"
	  "4. Report the top functions with their share of samples, the costly syscalls, and whether the "
	  "problem is work on the CPU or waiting for it.",
	  { NULL, "10000" } },
	{ "disk_latency", "Is the disk slow?",
	  "Measure block I/O latency per operation and disk, and find who issues the slow I/O.",
	  { { "duration_ms", "How long to measure, in milliseconds (default 10000).", false } },
	  1,
	  "Find out whether disk I/O is slow on this host, using the ebpf-mcp tools.\n"
	  "1. Call `block_io_latency` with duration_ms={duration_ms} and per_disk=true: the latency histogram "
	  "per operation (read, write, flush) and per disk, with p50/p90/p99.\n"
	  "2. Call `syscall_stats` with duration_ms={duration_ms}: which processes spend time in read, write, "
	  "fsync and the like.\n"
	  "3. Call `trace_open` with duration_ms={duration_ms} to see which files the busiest processes open.\n"
	  "4. Report the p99 latency per disk and operation, the processes behind the I/O, and whether the "
	  "latency points to the device (all I/O slow) or to a workload (one process, one file).",
	  { "10000" } },
	{ "tcp_trouble", "What is wrong with TCP?",
	  "Follow a process's TCP connections: connects, accepts, state changes, and the errors its network "
	  "syscalls return.",
	  { { "comm", "The process name (its comm, up to 15 bytes).", true },
	    { "duration_ms", "How long to watch, in milliseconds (default 10000).", false } },
	  2,
	  "Investigate TCP trouble of the process `{comm}` on this host, using the ebpf-mcp tools.\n"
	  "1. Call `trace_tcp` with comm=\"{comm}\" and duration_ms={duration_ms}: its connects and accepts, the "
	  "addresses and ports, and every state change (SYN_SENT that never reaches ESTABLISHED, resets, "
	  "closes).\n"
	  "2. Call `trace_errors` with comm=\"{comm}\" and duration_ms={duration_ms}: ECONNREFUSED, "
	  "ETIMEDOUT, EHOSTUNREACH and the like from connect, send and recv.\n"
	  "3. Call `syscall_stats` with comm=\"{comm}\" and duration_ms={duration_ms} to see where its network "
	  "syscalls spend time.\n"
	  "4. Report each failing peer (address:port), how the connection failed, and what it points to "
	  "(nothing listening, a firewall, a slow peer).",
	  { NULL, "10000" } },
	{ "bpf_inventory", "What BPF is loaded here, and what does it do?",
	  "Inventory every BPF program, map, link and pin in the kernel and explain what each does.",
	  { { "name", "Only objects whose name matches this glob; all when absent.", false } },
	  1,
	  "Explain what BPF is loaded on this host{name_clause}, using the ebpf-mcp tools and resources.\n"
	  "1. Call `inspect_state`{name_arg}: every program (type, attach target, load time, run count), map, "
	  "link and pin.\n"
	  "2. For each program, read the resource bpf://prog/{{id}} and its links (bpf://link/{{id}}): where it "
	  "is attached (tracepoint, kprobe, XDP, tc, cgroup) and how often it runs.\n"
	  "3. For the maps each program uses, read bpf://map/{{id}} (or call `map_dump`): the key and value "
	  "types show what it tracks; `get_btf_types` explains a struct.\n"
	  "4. Group the programs by the tool or service that loaded them, say what each group observes or "
	  "changes, and flag anything that writes to packets, to user memory or to the network.",
	  { NULL } },
};
const unsigned prompt_count = sizeof(prompts) / sizeof(prompts[0]);

const struct prompt *prompts__find(const char *name)
{
	for (unsigned i = 0; i < prompt_count; i++)
		if (!strcmp(prompts[i].name, name))
			return &prompts[i];
	return NULL;
}

/* Whether v is what argument name takes. */
static bool value_ok(const char *name, const char *v, char *why, size_t cap)
{
	size_t n = strlen(v);
	if (!strcmp(name, "pid") || !strcmp(name, "duration_ms")) {
		bool digits = n && n <= 10 && strspn(v, "0123456789") == n && v[0] != '0';
		if (!digits)
			snprintf(why, cap, "argument %s must be a positive decimal number, not '%.40s'", name, v);
		return digits;
	}
	if (!strcmp(name, "comm")) {
		/* what a comm may hold, without what would break out of the text */
		bool ok = n && n <= PROMPT_COMM_MAX && !strpbrk(v, "\"`\\\n\r{}");
		if (!ok)
			snprintf(why, cap, "argument comm must be 1 to 15 bytes of a process name, no quotes, "
				 "backquotes, braces or newlines");
		return ok;
	}
	bool ok = n && n <= 64 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_*?") == n;
	if (!ok)
		snprintf(why, cap, "argument %s must be 1 to 64 letters, digits, '_', '*' or '?'", name);
	return ok;
}

/* The text a placeholder stands for: an argument, or one of the clauses
 * that read differently when an optional argument is absent. */
static const char *expand(const char *key, size_t klen, const char *vals[], const struct prompt *p, char *tmp,
			  size_t cap)
{
	for (unsigned i = 0; i < p->n_args; i++)
		if (strlen(p->args[i].name) == klen && !strncmp(p->args[i].name, key, klen))
			return vals[i] ? vals[i] : "";
	const char *pid = NULL, *name = NULL;
	for (unsigned i = 0; i < p->n_args; i++) {
		if (!strcmp(p->args[i].name, "pid"))
			pid = vals[i];
		if (!strcmp(p->args[i].name, "name"))
			name = vals[i];
	}
	if (klen == 10 && !strncmp(key, "pid_clause", klen))
		return pid ? (snprintf(tmp, cap, " for process %s", pid), tmp) : "";
	if (klen == 7 && !strncmp(key, "pid_arg", klen))
		return pid ? (snprintf(tmp, cap, " and pid=%s", pid), tmp) : "";
	if (klen == 11 && !strncmp(key, "name_clause", klen))
		return name ? (snprintf(tmp, cap, " (objects named like `%s`)", name), tmp) : "";
	if (klen == 8 && !strncmp(key, "name_arg", klen))
		return name ? (snprintf(tmp, cap, " with name=\"%s\"", name), tmp) : "";
	return NULL;
}

int prompts__render(const struct prompt *p, const char *(*get)(void *arg, const char *name), void *arg,
		    char *out, size_t cap, char *why, size_t why_cap)
{
	const char *vals[PROMPT_ARGS_MAX] = { 0 };
	for (unsigned i = 0; i < p->n_args; i++) {
		const char *v = get(arg, p->args[i].name);
		if (!v && p->args[i].required)
			return snprintf(why, why_cap, "prompt %s needs argument %s (%s)", p->name, p->args[i].name,
					p->args[i].description), -1;
		if (v && !value_ok(p->args[i].name, v, why, why_cap))
			return -1;
		vals[i] = v ? v : p->defaults[i];
	}
	size_t n = 0;
	for (const char *s = p->text; *s;) {
		char tmp[96];
		const char *close = s[0] == '{' && s[1] != '{' ? strchr(s, '}') : NULL;
		const char *v = close ? expand(s + 1, (size_t)(close - s - 1), vals, p, tmp, sizeof(tmp)) : NULL;
		size_t len = v ? strlen(v) : 1;
		if (n + len + 1 > cap)
			return snprintf(why, why_cap, "prompt %s does not fit %zu bytes", p->name, cap), -1;
		memcpy(out + n, v ? v : s, len);
		n += len;
		/* "{{" stands for a literal brace */
		s = v ? close + 1 : s + (s[0] == '{' && s[1] == '{' ? 2 : s[0] == '}' && s[1] == '}' ? 2 : 1);
	}
	out[n] = 0;
	return 0;
}
