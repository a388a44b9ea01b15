/* The sandbox entered once start-up is over (sandbox.c): rlimits,
 * no_new_privs and a seccomp allow-list per mode. */
#ifndef EBPF_MCP_SANDBOX_H
#define EBPF_MCP_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

enum sandbox_mode {
	SANDBOX_STDIO,     /* MCP on stdin/stdout */
	SANDBOX_DAEMON,    /* serve: unix socket and/or HTTP */
	SANDBOX_INIT,      /* an initramfs's /init on its console */
	SANDBOX_CLI,       /* tools / call: a server on memfds, then the printing */
	SANDBOX_CONNECT,   /* the bridge from stdio to a daemon's socket */
	SANDBOX__MODES
};

struct sandbox_state {
	bool entered;           /* sandbox__enter ran */
	bool seccomp;           /* the filter is in force */
	bool no_new_privs;
	enum sandbox_mode mode;
	const char *off_reason; /* why the filter is not in force, or NULL */
	unsigned allowed;       /* system calls the mode's list allows */
	unsigned killing;       /* calls that end the process */
	unsigned insns;         /* the filter's length */
	uint64_t refused;       /* calls refused with EPERM so far */
	uint64_t nofile;        /* RLIMIT_NOFILE (soft = hard) */
	uint64_t core;          /* RLIMIT_CORE */
};

/* Enters the sandbox for mode m (off: --no-sandbox, which is logged).
 * Every thread of the process gets the filter (TSYNC). A kernel that
 * cannot filter leaves a warning on stderr and the state saying why;
 * the server runs on. Returns 0, or -errno when the rlimits or
 * no_new_privs cannot be set. */
int sandbox__enter(enum sandbox_mode m, bool off);

void sandbox__state(struct sandbox_state *s);

#define SANDBOX_MAX_NAMES 160   /* rows of one list (the allow list has about 110) */

/* A mode's lists, as the filter would be built now (`ebpf-mcp sandbox`). */
struct sandbox_desc {
	unsigned allowed, killing, insns;
	const char *allowed_names[SANDBOX_MAX_NAMES];
	const char *killing_names[SANDBOX_MAX_NAMES];
};
int sandbox__describe(enum sandbox_mode m, struct sandbox_desc *d);
const char *sandbox__mode_name(enum sandbox_mode m);

/* The killing list as text ("execve, ptrace, ..."), for info and logs. */
const char *sandbox__killing_names(enum sandbox_mode m);

#endif
