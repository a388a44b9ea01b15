/* The built-in tracers' common run: skeleton lifecycle, filters, the ring
 * buffer feeding a bounded event list, and the job that ends them.
 *
 * A tracer tool opens its skeleton (tracer__begin), writes its .rodata
 * (the filters with TRACER_SET_FILTERS, then its own), and hands it to
 * tracer__start, which loads, attaches, opens the ring buffer if the
 * tracer has one and defers to the event loop. When the duration, the call
 * deadline or a full event list ends the run, the programs are detached
 * first (so the maps stop changing), the ring is drained, and the tool's
 * report() writes its result from the maps. Cancel and EOF skip report();
 * the skeleton is destroyed either way, so nothing stays in the kernel.
 *
 * Every tracer built this way also runs in the background (trace_start):
 * the same run, deferred as a background trace, with no call deadline;
 * each trace_read takes the events since the last one (max_events bounds
 * each read, not the run) and report() computed from the live maps, and
 * trace_stop or the duration ends it as above.
 */
#ifndef EBPF_MCP_TRACER_RUN_H
#define EBPF_MCP_TRACER_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../tools/evlist.h"
#include "../tools/tool.h"
#include "tracer.h"   /* bpf/tracer.h (-Ibpf): TRACER_COMM_BYTES, TRACER_HIST_SLOTS */

#define TRACER_DURATION_DEFAULT_MS 5000

/* Arguments every tracer reads the same way (those it offers). */
struct tracer_opts {
	uint32_t pid, tid;
	uint64_t cgroup_id;               /* from `cgroup` (a cgroup v2 path) */
	char comm[TRACER_COMM_BYTES];
	uint64_t duration_ms;
	uint64_t max_events;              /* event tracers */
	uint64_t limit;                   /* rows of aggregated output */
};

struct tracer;
struct cgpath;

struct tracer_ops {
	/* max_events when the call gives none (its inputSchema's default); 0: 1000 */
	uint64_t max_events_default;
	/* One ring record: write it as an event object on w (never NULL), or
	 * return 1 to leave it out (it is counted as skipped). */
	int (*event)(struct tracer *t, struct jw *w, const void *data, size_t size);
	/* Writes the tracer's members of the result object; 0 or -1 (failed). */
	int (*report)(struct tracer *t, struct jw *w, struct tool_ctx *ctx);
	/* Frees t->priv (may be NULL). */
	void (*free_priv)(void *priv);
	/* Records the kernel could not put in the ring buffer (its .bss counter). */
	uint64_t (*ring_dropped)(struct tracer *t);
};

struct tracer {
	const char *name;
	const struct tracer_ops *ops;
	void *skel;                       /* <name>_bpf, from <name>_bpf__open() */
	struct bpf_object_skeleton *sk;   /* its ->skeleton */
	struct bpf_map *ring;             /* its ring buffer map, or NULL */
	struct ring_buffer *rb;
	struct tracer_opts o;
	struct evlist ev;
	uint64_t skipped;                 /* ring records event() left out */
	uint64_t t0_ns;
	uint64_t heap_mark;               /* tool__heap_mark() once begun: the open's refusals */
	bool needs_tracefs;               /* attaches classic tracepoints */
	bool samples_only;                /* events are samples: a full list does not end the run */
	bool background;                  /* trace_start: read in turns, ended by trace_stop or the duration */
	uint64_t events_before;           /* background: events of the windows already read */
	uint64_t kernel_seen;             /* background: ring_dropped() at the last read */
	void *priv;                       /* the tool's own state */
	struct cgpath *cg;                /* cgroup paths of this run's events, made on first use */
	/* A second ring buffer, of records for `notice` rather than events
	 * (the stack tracers' process announcements); set both before
	 * tracer__start. Drained with the event ring, also when the run ends. */
	struct bpf_map *notices;
	int (*notice)(struct tracer *t, const void *data, size_t size);
	/* instead of loading and attaching the skeleton as it is: a tracer
	 * that chooses between program pairs (trace_function); it may open the
	 * object again, setting skel, sk and ring. 0, or -1 with the call failed. */
	int (*load_attach)(struct tracer *t, struct tool_ctx *ctx);
	/* extra attachments the skeleton does not make (profile_cpu's perf events) */
	int (*attach_extra)(struct tracer *t, struct tool_ctx *ctx);
	void (*detach_extra)(struct tracer *t);
};

/* Reads the common arguments and makes the run; NULL after failing. */
struct tracer *tracer__begin(struct tool_ctx *ctx, const char *name, const struct tracer_ops *ops);
/* The skeleton failed to open: fails the call and frees t. */
int tracer__open_failed(struct tool_ctx *ctx, struct tracer *t);
/* The call already failed (the tool's own arguments): frees t, returns -1. */
int tracer__abandon(struct tracer *t);
/* Loads and attaches skel (its ->skeleton is sk), opens `ring` (may be
 * NULL), and defers. On failure everything is released. With t->load_attach
 * set, skel, sk and ring may be NULL: the hook opens the object. */
int tracer__start(struct tool_ctx *ctx, struct tracer *t, void *skel, struct bpf_object_skeleton *sk,
		  struct bpf_map *ring);

/* Open, then set the shared filters in a skeleton's .rodata. */
#define TRACER_SET_FILTERS(rodata, o)                                                       \
	do {                                                                                \
		(rodata)->targ_tgid = (o)->pid;                                             \
		(rodata)->targ_tid = (o)->tid;                                              \
		(rodata)->targ_cgroup_id = (o)->cgroup_id;                                  \
		memcpy((void *)(rodata)->targ_comm, (o)->comm, sizeof((rodata)->targ_comm)); \
	} while (0)

/* ---- output helpers shared by the tracers -------------------------------- */

/* A comm (at most TRACER_COMM_BYTES, NUL-terminated or not) as a string. */
void tracer__kcomm(struct jw *w, const char *key, const char *comm);
/* Syscall and errno names (x86_64 ABI); NULL when unknown. */
const char *tracer__syscall_name(long nr);
const char *tracer__errno_name(long err);
/* An Ethernet protocol id's ETH_P_ name without the prefix ("IP", "IPV6");
 * NULL when the UAPI headers name none. */
const char *tracer__eth_protocol(unsigned value);
/* "syscall": name, or "syscall_<nr>" when the table has none. */
void tracer__ksyscall(struct jw *w, const char *key, long nr);
/* "errno": its name (E<n> when unknown), "errno_value": the number. */
void tracer__kerrno(struct jw *w, int err);
/* A TCP state (enum tcp_state_id) by name: "ESTABLISHED", ...; STATE_<n>
 * for one the table does not know. */
void tracer__ktcp_state(struct jw *w, const char *key, unsigned state);
/* An address of family af (AF_INET: 4 bytes, AF_INET6: 16) as text. */
void tracer__kaddr(struct jw *w, const char *key, int af, const uint8_t *addr);
/* open(2) flags as names: the access mode first, then each flag bit, then
 * any bits the table does not know as one hex string. */
void tracer__kopen_flags(struct jw *w, const char *key, uint64_t flags);
/* A log2 histogram's members: count, avg_ns, max_ns, p50/p90/p99_ns and
 * the non-empty buckets. count is the sum of the slots. */
void tracer__hist(struct jw *w, const __u64 *slots, uint64_t sum_ns, uint64_t max_ns);
/* Every entry of a hash map, as rows: the key at 0, the value at
 * TRACER_ROW_VAL(key size). A per-CPU map's value is each CPU's in turn
 * (value size rounded up to 8). At most the map's max_entries rows; NULL
 * with *n 0 on failure or when empty. The caller frees. */
void *tracer__read_map(struct bpf_map *map, size_t *n, size_t *row_size, size_t *val_stride);
#define TRACER_ROW_VAL(key_size) (((key_size) + 7) & ~(size_t)7)
/* Sorts rows by the u64 at byte `off` of each row, largest first. */
void tracer__sort_rows(void *rows, size_t n, size_t row_size, size_t off);
/* A cgroup v2 directory's id (its inode), for `cgroup` arguments: an
 * absolute path to the directory, or a path relative to the cgroup2 mount
 * (with or without a leading '/', as /proc/<pid>/cgroup and the events'
 * `cgroup` show it). */
int tracer__cgroup_id(struct tool_ctx *ctx, const char *path, uint64_t *id);
/* An event's cgroup members, for a task in cgroup v2 `id` (nothing when
 * id is 0: not known): cgroup_id, then cgroup (its path under the mount)
 * or cgroup_unresolved (why not), and container_id and pod_uid when the
 * path names them. pid: a task that was in it, or 0. Each distinct id is
 * resolved once per run (src/tracers/cgpath.h). */
void tracer__kcgroup(struct tracer *t, struct jw *w, uint64_t id, uint32_t pid);

#endif
