/* Every error code a tool answers with, listed once.
 *
 * A tool error is {category, code, message, recoverable, context}. The code
 * fixes the category and whether a caller may succeed by retrying (with
 * other arguments, after fixing the host, or later), so call sites name the
 * code only and cannot drift. The LIMIT_<NAME> codes come from LIMITS_TABLE
 * (a new limit brings its code); the errno codes are what
 * tool__fail_errno() answers for a kernel or libbpf errno.
 *
 * Self-contained and host-compilable: schemas/schemac reads the names to
 * make the error schema's `code` an enum and to write build/gen/errors.md.
 */
#ifndef EBPF_MCP_ERRORS_H
#define EBPF_MCP_ERRORS_H

#include <stdbool.h>

#include "limits.h"

enum err_cat { CAT_VALIDATION, CAT_PERMISSION, CAT_RESOURCE, CAT_KERNEL, CAT_INTERNAL, CAT__COUNT };

/*        code,                  category,   recoverable, meaning */
#define ERRORS(X) \
	/* ---- the arguments: fix them and call again ---- */ \
	X(SCHEMA,                   VALIDATION, true,  "the arguments do not match the tool's inputSchema (context.pointer names the bad one)") \
	X(CONFLICTING_ARGS,         VALIDATION, true,  "arguments that exclude each other were given together") \
	X(CONFLICTING_TARGET,       VALIDATION, true,  "attach_program: target fields that exclude each other were given together") \
	X(MISSING_TARGET,           VALIDATION, true,  "attach_program: the attach type needs a target field that was not given") \
	X(MAP_REQUIRED,             VALIDATION, true,  "the call needs a map, named by exactly one of its ways to name one") \
	X(TYPE_REQUIRED,            VALIDATION, true,  "list_bpf_program_types: helpers needs one program `type`") \
	X(BAD_TARGET,               VALIDATION, true,  "attach_program, trace_function: a target name is malformed or names no such attach type") \
	X(BAD_MODE,                 VALIDATION, true,  "attach_program: an xdp or tc mode that does not exist") \
	X(BAD_BASE64,               VALIDATION, true,  "load_program: data is not standard padded base64") \
	X(BAD_OBJECT,               VALIDATION, true,  "load_program: not a BPF ELF object the server can open and the policy can follow") \
	X(BAD_PIN_PATH,             VALIDATION, true,  "pin_object: the pin path has no file name, or a name bpffs refuses") \
	X(BAD_CURSOR,               VALIDATION, true,  "map_dump: the cursor is not one map_dump returned for this map") \
	X(BAD_KEY,                  VALIDATION, true,  "a map key does not fit the map's key type or size") \
	X(BAD_VALUE,                VALIDATION, true,  "a map value does not fit the map's value type or size") \
	X(BAD_MODULE_NAME,          VALIDATION, true,  "get_btf_types: module is not a kernel module name") \
	X(ATTACH_TYPE_MISMATCH,     VALIDATION, true,  "attach_program: the program was loaded for another attach type") \
	X(TARGET_MISMATCH,          VALIDATION, true,  "attach_program: the program was loaded for another target than the one given") \
	X(WRONG_PROGRAM_TYPE,       VALIDATION, true,  "attach_program: the program's type does not fit the attach type") \
	X(FREQUENCY_TOO_HIGH,       VALIDATION, true,  "a sampling frequency over kernel.perf_event_max_sample_rate") \
	X(PERIOD_TOO_SMALL,         VALIDATION, true,  "attach_program: a sample_period too small for the event's clock") \
	X(TOO_MANY_PROGRAMS,        VALIDATION, true,  "load_program: the object holds more programs than one load takes") \
	X(FILTER_NEEDS_STRUCT,      VALIDATION, true,  "stream_events: a field filter needs `struct` for the record's layout") \
	X(FILTER_FIELD_MISSING,     VALIDATION, true,  "stream_events: the struct has no member of that name and kind to filter on") \
	X(CPU_FILTER_NEEDS_PERF,    VALIDATION, true,  "stream_events: a cpu filter needs a perf event array (a ring buffer does not say the CPU)") \
	X(NO_ENTRIES,               VALIDATION, true,  "map_dump: the map's kind has no keys or values to list") \
	X(NOT_A_MAP,                VALIDATION, true,  "the pin holds something other than a BPF map") \
	X(NOT_A_TRACER,             VALIDATION, true,  "trace_start: the tool named is not a built-in tracer (context.tracers lists them)") \
	X(NOT_A_STREAM_MAP,         VALIDATION, true,  "stream_events: the map is not a ring buffer or perf event array") \
	X(NOT_A_PIN,                VALIDATION, true,  "unpin_object: the path is not a pin (a symlink, directory or other file)") \
	X(NOT_A_CGROUP,             VALIDATION, true,  "the path is not a cgroup v2 directory") \
	X(NOT_A_NETNS,              VALIDATION, true,  "skb_drops: the netns path is not a network namespace file (/proc/<pid>/ns/net, /run/netns/<name>)") \
	X(NOT_BPFFS,                VALIDATION, true,  "the path is not on bpffs") \
	X(NOT_PINNABLE,             VALIDATION, true,  "pin_object: the object has no kernel object to pin (a tc clsact filter)") \
	X(NOT_REGULAR_FILE,         VALIDATION, true,  "the path is not a regular file") \
	X(NO_MODULE_BTF,            VALIDATION, true,  "get_btf_types: no BTF for that module (not loaded, built in, or built without BTF)") \
	X(NO_SUCH_BTF,              VALIDATION, true,  "no BTF object with that id is loaded") \
	X(NO_SUCH_CGROUP,           VALIDATION, true,  "no cgroup directory at that path") \
	X(NO_SUCH_CPU,              VALIDATION, true,  "no possible CPU with that number") \
	X(NO_SUCH_DIRECTORY,        VALIDATION, true,  "pin_object: the pin's directory does not exist") \
	X(NO_SUCH_DISK,             VALIDATION, true,  "block_io_latency: no disk of that name or MAJOR:MINOR") \
	X(NO_SUCH_FILE,             VALIDATION, true,  "no file at that path") \
	X(NO_SUCH_FUNCTION,         VALIDATION, true,  "attach_program, trace_function: no kernel function of that name to attach to (none, or inlined everywhere)") \
	X(FUNCTION_NOT_TRACEABLE,   VALIDATION, true,  "trace_function: the function is not in available_filter_functions (notrace)") \
	X(NOT_IN_BTF,               VALIDATION, true,  "trace_function: the function has no BTF prototype (vmlinux's or its module's)") \
	X(NO_SUCH_HANDLE,           VALIDATION, true,  "no object is loaded under that handle in this session") \
	X(NO_SUCH_INTERFACE,        VALIDATION, true,  "no network interface of that name or ifindex") \
	X(NO_SUCH_LINK,             VALIDATION, true,  "no link with that id exists") \
	X(NO_SUCH_MAP,              VALIDATION, true,  "no map with that id or name exists") \
	X(NO_SUCH_OBJECT,           VALIDATION, true,  "pin_object: no program, map or link with that id exists") \
	X(NO_SUCH_PIN,              VALIDATION, true,  "nothing is pinned at that path") \
	X(NO_SUCH_PROCESS,          VALIDATION, true,  "no process with that pid exists") \
	X(NO_SUCH_PROGRAM,          VALIDATION, true,  "no program with that id, or of that name in the object") \
	X(NO_SUCH_RESOURCE,         VALIDATION, true,  "resources/read: no resource has that URI (resources/list, resources/templates/list)") \
	X(NO_SUCH_ARGUMENT,         VALIDATION, true,  "completion/complete: the template or prompt has no argument of that name") \
	X(NOT_OFFERED,              PERMISSION, false, "what was asked goes through a tool this server does not offer this caller") \
	X(NO_SUCH_STRUCT,           VALIDATION, true,  "stream_events: no decodable struct of that name in the BTF it reads") \
	X(NO_SUCH_SYMBOL,           VALIDATION, true,  "attach_program: the binary has no function symbol of that name") \
	X(NO_SUCH_TRACE,            VALIDATION, true,  "trace_read/trace_stop: no background trace has that handle (never started, or already stopped or read to its end)") \
	X(NO_SUCH_TRACEPOINT,       VALIDATION, true,  "the kernel has no tracepoint of that name") \
	X(NO_SUCH_TYPE,             VALIDATION, true,  "get_btf_types: the type id is outside the BTF") \
	X(PATH_EXISTS,              VALIDATION, true,  "pin_object: something already exists at the pin path") \
	X(UNKNOWN_CATEGORY,         VALIDATION, true,  "list_tracepoints: no tracepoint category of that name") \
	X(UNKNOWN_DROP_REASON,      VALIDATION, true,  "skb_drops: the running kernel's enum skb_drop_reason has no reason of that name") \
	X(UNKNOWN_HELPER,           VALIDATION, true,  "load_program: a program calls a helper this kernel's BTF does not name") \
	X(UNKNOWN_MAP_TYPE,         VALIDATION, true,  "list_bpf_map_types: no map type of that name") \
	X(UNKNOWN_PROGRAM_TYPE,     VALIDATION, true,  "list_bpf_program_types: no program type of that name") \
	/* ---- what this server or process may do ---- */ \
	X(MISSING_CAPABILITY,       PERMISSION, false, "the server lacks a capability the call needs (context.capability)") \
	X(NOT_OWNED,                PERMISSION, false, "the object was not made by this session; only --allow-foreign lets the server touch it") \
	X(PATH_NOT_ALLOWED,         PERMISSION, false, "the path is outside the directories the server was started with (--object-dir, --pin-dir)") \
	X(PROG_TYPE_NOT_ALLOWED,    PERMISSION, true,  "load_program: the policy does not load programs of that type (leave them out)") \
	X(HELPER_BLOCKED,           PERMISSION, true,  "load_program: a program calls a helper or kfunc the policy blocks (leave it out)") \
	X(FUNCTION_TRACING_DENIED,  PERMISSION, false, "trace_function: the policy refuses both fentry (tracing) and kprobe programs, or a helper they call") \
	X(PERF_EVENT_DENIED,        PERMISSION, false, "perf_event_open was refused (CAP_PERFMON, perf_event_paranoid)") \
	X(TRACEFS_DENIED,           PERMISSION, false, "tracefs is mounted but this process may not read it (uid 0 or CAP_DAC_READ_SEARCH)") \
	/* ---- what the host lacks or holds: fix the host, or wait ---- */ \
	X(BTF_MISSING,              RESOURCE,   true,  "the kernel's BTF cannot be read because sysfs is not mounted at /sys (context.fix)") \
	X(SYSFS_MISSING,            RESOURCE,   true,  "sysfs is not mounted at /sys (context.fix mounts it)") \
	X(PROC_MISSING,             RESOURCE,   true,  "proc is not mounted at /proc (context.fix mounts it)") \
	X(TRACEFS_MISSING,          RESOURCE,   true,  "tracefs is not mounted at /sys/kernel/tracing or under debugfs") \
	X(DEBUGFS_MISSING,          RESOURCE,   true,  "debugfs is not mounted at /sys/kernel/debug (context.fix mounts it)") \
	X(BPF_MISSING,              RESOURCE,   true,  "bpffs is not mounted at /sys/fs/bpf (context.fix mounts it)") \
	X(CGROUP2_MISSING,          RESOURCE,   true,  "cgroup2 is not mounted at /sys/fs/cgroup (context.fix mounts it)") \
	X(HOOK_BUSY,                RESOURCE,   true,  "attach_program: the network hook already holds a program it will not replace") \
	X(OBJECT_TOO_COMPLEX,       RESOURCE,   true,  "load_program: more functions, sections or relocations than the policy reads") \
	X(PROGRAM_TOO_LARGE,        RESOURCE,   false, "prog_dump: the program's instructions and info are larger than the server reads") \
	X(TOO_MANY_CPUS,            RESOURCE,   false, "profile_cpu: more possible CPUs than it samples") \
	/* ---- what this kernel does or lacks ---- */ \
	X(ATTACH_UNSUPPORTED,       KERNEL,     false, "attach_program: this kernel cannot make this kind of attachment") \
	X(BAD_BTF,                  KERNEL,     false, "get_btf_types: the BTF holds a type that is not what it must be") \
	X(BTF_DECODE,               KERNEL,     true,  "a map's BTF type cannot be decoded to JSON (read it with encoding \"hex\")") \
	X(FORMAT_UNPARSED,          KERNEL,     false, "list_tracepoints: a tracepoint format line this server cannot parse") \
	X(HELPER_PROBE_UNAVAILABLE, KERNEL,     false, "list_bpf_program_types: helpers of this program type cannot be probed") \
	X(INSNS_WITHHELD,           KERNEL,     false, "prog_dump: the kernel gave no instructions (a constant-blinded program while kernel addresses are hidden)") \
	X(KERNEL_REFUSED,           KERNEL,     false, "load_program: the kernel refused with EPERM although the capabilities are held") \
	X(LINK_NOT_DETACHABLE,      KERNEL,     false, "detach_link: the kernel cannot force this kind of link off its hook") \
	X(NO_BATCH_OPS,             KERNEL,     true,  "map_dump: this kernel has no batch reads for the map's type (use read \"auto\" or \"iterate\")") \
	X(NO_CGROUP2,               KERNEL,     false, "no cgroup v2 hierarchy is mounted") \
	X(NO_FUNCTION_TRACING,      KERNEL,     false, "trace_function: neither fentry/fexit nor kprobes work on this kernel (context says why for each)") \
	X(NO_CPU_CLOCK,             KERNEL,     false, "profile_cpu: this kernel has no cpu-clock software perf event") \
	X(NO_DROP_REASONS,          KERNEL,     false, "skb_drops: the kernel's BTF has no enum skb_drop_reason (drop reasons came with 5.17)") \
	X(NO_VMLINUX_BTF,           KERNEL,     false, "the kernel has no BTF (built without CONFIG_DEBUG_INFO_BTF)") \
	X(POLICY_NO_BTF,            KERNEL,     false, "load_program: the kernel's BTF names no helpers, so the policy cannot check programs") \
	X(PROGRAM_TYPE_UNSUPPORTED, KERNEL,     false, "list_bpf_program_types: this kernel does not support that program type") \
	X(SHORT_READ,               KERNEL,     true,  "load_program: the file changed while being read") \
	X(TRACEFS_NOT_MOUNTED,      KERNEL,     true,  "list_tracepoints: tracefs is not mounted (the error names the mount command)") \
	X(VERIFIER_REJECTED,        KERNEL,     true,  "load_program: the verifier rejected a program (context holds its log's tail)") \
	/* ---- a bug or a limit of this server ---- */ \
	X(INTERNAL,                 INTERNAL,   false, "the server failed without a more specific reason (a bug: report it)") \
	X(NO_EVENT_LOOP,            INTERNAL,   false, "a call that runs over time needs the event loop (stdin as a pipe or socket)") \
	X(POLICY_UNMAPPED,          INTERNAL,   false, "load_program: the object as libbpf opened it is not the code the policy read") \
	X(TYPE_STRING,              INTERNAL,   false, "get_btf_types: a C type string is too long or nests too deep to print") \
	X(FORMAT_TOO_LARGE,         INTERNAL,   false, "list_tracepoints: a tracepoint format file is larger than the server reads") \
	/* ---- errno from the kernel or libbpf (tool__fail_errno; context.errno) ---- */ \
	X(EPERM,                    PERMISSION, false, "operation not permitted (a capability, lockdown, or a kernel refusal)") \
	X(EACCES,                   PERMISSION, false, "permission denied (often the verifier, or file modes)") \
	X(ENOMEM,                   RESOURCE,   true,  "out of memory (the heap_bytes cap, RLIMIT_MEMLOCK or the kernel's)") \
	X(E2BIG,                    RESOURCE,   false, "too big for the kernel (a map is full, an argument too large)") \
	X(ENOSPC,                   RESOURCE,   false, "no space left (a map or the kernel's table is full)") \
	X(EAGAIN,                   RESOURCE,   true,  "try again later") \
	X(EBUSY,                    KERNEL,     true,  "the resource is busy") \
	X(ENOENT,                   KERNEL,     false, "no such file or object") \
	X(EINVAL,                   KERNEL,     false, "the kernel found an argument invalid") \
	X(EEXIST,                   KERNEL,     false, "it exists already") \
	X(EOPNOTSUPP,               KERNEL,     false, "not supported by this kernel or object") \
	X(ENOTSUPP,                 KERNEL,     false, "not supported (the kernel-internal errno 524 leaking out of bpf())") \
	X(ENODEV,                   KERNEL,     false, "no such device") \
	X(ENOTDIR,                  KERNEL,     false, "not a directory") \
	X(EISDIR,                   KERNEL,     false, "is a directory") \
	X(ENAMETOOLONG,             KERNEL,     false, "a name is too long") \
	X(ELOOP,                    KERNEL,     false, "too many symbolic links") \
	X(EBADF,                    KERNEL,     false, "bad file descriptor") \
	X(EFAULT,                   KERNEL,     false, "bad address") \
	X(ENOSYS,                   KERNEL,     false, "the kernel does not implement the call") \
	X(ESRCH,                    KERNEL,     false, "no such process") \
	X(ENXIO,                    KERNEL,     false, "no such device or address") \
	X(ETIMEDOUT,                KERNEL,     false, "timed out") \
	X(ERANGE,                   KERNEL,     false, "a value is out of range") \
	X(EROFS,                    KERNEL,     false, "read-only file system") \
	X(EKERNEL,                  KERNEL,     false, "another errno (context.errno holds it)")

enum err_code {
#define X(code, cat, rec, meaning) ERR_##code,
	ERRORS(X)
#undef X
	/* LIMIT_<NAME>: a cap was hit (tool__fail_limit); last, in limit order. */
#define X(id, name, def, min, max, why) ERR_LIMIT_##id,
	LIMITS_TABLE(X)
#undef X
	ERR__COUNT
};

_Static_assert(ERR__COUNT < 256, "codes are small numbers");

struct err_def {
	const char *name;          /* the code as clients see it */
	enum err_cat cat;
	bool recoverable;
	const char *meaning;
};

extern const struct err_def err_defs[ERR__COUNT];
/* "validation", "permission", "resource", "kernel", "internal" */
extern const char *const err_cat_names[CAT__COUNT];

/* The code of a limit: LIMIT_<NAME>. */
static inline enum err_code err__limit(enum limit_id lim)
{
	return (enum err_code)(ERR__COUNT - LIM__COUNT + (int)lim);
}

/* The code named name, or ERR__COUNT. */
enum err_code err__find(const char *name);

#endif
