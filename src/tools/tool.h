/* The tool interface: what a handler gets, how it answers, how it fails.
 *
 * A handler reads its (already schema-checked) arguments from ctx->doc at
 * ctx->args, writes the structuredContent object into ctx->out, and returns
 * 0; or calls tool__fail*() and returns its result (-1). The server wraps
 * either into a CallToolResult. Handlers never write to stdout.
 */
#ifndef EBPF_MCP_TOOL_H
#define EBPF_MCP_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "../config.h"
#include "../errors.h"
#include "../json/json.h"
#include "../mem/arena.h"
#include "schemas_gen.h"

struct tool_err {
	bool set;
	enum err_code id;
	enum err_cat cat;              /* err_defs[id].cat */
	const char *code;              /* err_defs[id].name */
	char msg[LIMIT_ERROR_MSG_BYTES];
	bool recoverable;              /* err_defs[id].recoverable */
	struct jw ctx;                 /* members of the context object */
	char ctx_buf[LIMIT_ERROR_CTX_BYTES];
};

/* What a call may know about where it runs: the options in force, this
 * session's profile and caller, and the reply budget. */
struct tool_env {
	const struct config *cfg;      /* server-wide options: dirs, policy, tool lists */
	enum profile profile;          /* this session's (its access rule, or --profile) */
	bool allow_foreign;            /* may act on objects other sessions made */
	struct identity who;           /* the caller */
	size_t reply_bytes;            /* one reply line at most (response_bytes + 1) */
};

/* What `info` reports of the server and this session, taken when the call
 * was dispatched. */
struct tool_facts {
	const char *mode;              /* "stdio", "daemon", "cli", "init" */
	const char *protocol;          /* negotiated revision, "" before initialize */
	uint64_t session_id, started_ns;
	uint64_t requests, tool_calls, errors;   /* this session's */
	unsigned sessions;             /* live sessions in this process */
	unsigned workers;
	const char *owner;             /* who holds what this call creates: "session" or "identity" */
	uint64_t owner_id;             /* the session's id, or the identity's registry id */
	uint64_t lease_ms;             /* "identity": released after this long without a call */
};

struct tool_ctx;
struct job_ops;

/* The server's side of a call, given to every handler (tools never see the
 * server itself). */
struct tool_host {
	int (*defer)(struct tool_ctx *ctx, const struct job_ops *ops, void *st, const int *fds, unsigned n_fds,
		     uint64_t duration_ms);
	void (*progress)(struct tool_ctx *ctx, uint64_t progress, uint64_t total, const char *message);
	/* Background traces (trace_jobs.c): answers trace_read (stop false)
	 * or trace_stop for `handle`; 0 or -1 (failed). */
	int (*trace_read)(struct tool_ctx *ctx, const char *handle, bool stop);
	/* The caller's background traces as an array value (inspect_state). */
	void (*trace_list)(struct tool_ctx *ctx, struct jw *w);
	/* Whether the caller may start one more: 0, or -1 (the jobs limit). */
	int (*trace_room)(struct tool_ctx *ctx);
};

/* trace_start's view of the tracer it runs: while ctx->bg is set, the
 * tracer's tool__defer() starts a background trace instead of a job, and
 * returns TOOL_PENDING with these filled in. */
#define TOOL_TRACE_HANDLE_BYTES 32
struct tool_bg {
	char handle[TOOL_TRACE_HANDLE_BYTES];
	uint64_t duration_ms;          /* when it ends by itself */
	uint64_t started_real_ns;      /* CLOCK_REALTIME */
};

struct owned;

struct tool_ctx {
	const struct tool_env *env;
	const struct tool_host *host;
	void *host_data;               /* the call or job the host answers for */
	const struct tool_facts *facts;
	struct owned *objs;            /* this session's kernel objects */
	const struct jdoc *doc;
	int args;                      /* token of the arguments object, or -1 */
	struct jw *out;                /* structuredContent goes here */
	struct arena *scratch;         /* per-request memory */
	struct tool_err *err;
	uint64_t deadline_ns;          /* CLOCK_MONOTONIC; call_ms from the start */
	bool is_job;                   /* a step of a call running over time */
	const struct tool *tool;
	const char *req_id;            /* raw JSON of the request id */
	size_t req_id_len;
	uint64_t t0_ns;                /* when the request arrived */
	const char *progress_token;    /* raw JSON of _meta.progressToken, or NULL */
	size_t progress_token_len;
	struct tool_bg *bg;            /* trace_start: the call's job runs in the background */
	uint64_t heap_refused0;        /* this thread's heap refusals when the context began (tool__ctx_begin) */
};

/* Notes what a call starts from (the heap cap's refusal count), so that an
 * ENOMEM it fails with can be told apart: the heap_bytes cap, or the kernel. */
void tool__ctx_begin(struct tool_ctx *ctx);

typedef int (*tool_fn)(struct tool_ctx *ctx);

/* ---- calls that run over time (streams, tracers) ------------------------
 *
 * A handler that must wait (for events, for a duration) copies what it needs
 * out of its arguments into its own state and returns tool__defer(): the
 * event loop then keeps serving stdin (ping, other calls, cancellation)
 * while it watches the job's descriptors, and the reply is sent when the
 * job ends. While a job runs its ctx has no arguments (doc NULL, args -1).
 */
#define TOOL_PENDING 1             /* run() returned tool__defer() */
#define JOB_MAX_FDS 4              /* descriptors one job may watch */

enum job_stop {
	JOB_STOP_DONE,                 /* the job said it was done (ready/tick returned 1) */
	JOB_STOP_DURATION,             /* its own duration ran out */
	JOB_STOP_DEADLINE,             /* call_ms ran out: answer with what was gathered */
	JOB_STOP_REQUEST,              /* a background trace: trace_stop ended it */
};

struct job_ops {
	/* fd is readable. 0: go on; 1: done; -1: failed (after tool__fail). */
	int (*ready)(void *st, int fd, struct tool_ctx *ctx);
	/* Every tick (JOB_TICK_MS) while it runs; may send progress. Same returns.
	 * May be NULL. */
	int (*tick)(void *st, struct tool_ctx *ctx);
	/* Writes the structuredContent (or fails). Not called on cancel or EOF. */
	int (*finish)(void *st, struct tool_ctx *ctx, enum job_stop why);
	/* Releases everything the job holds (kernel objects, memory). Always
	 * called exactly once, after finish or instead of it. */
	void (*release)(void *st);
	/* A job that can run in the background (trace_start) has these; NULL
	 * otherwise. peek writes the members of a report into the object open
	 * on ctx->out: what arrived since the last peek and the state so far.
	 * With end it stops the run first (as finish does) and says why. 0 or
	 * -1 (after tool__fail). */
	int (*peek)(void *st, struct tool_ctx *ctx, bool end, enum job_stop why);
	/* Events taken in so far (inspect_state lists it). */
	uint64_t (*events)(void *st);
};

/* Hands the rest of the call to the event loop. duration_ms 0: no duration
 * of its own (the call_ms deadline still applies). On failure st is released
 * and the call fails (jobs cap, bad fd). Returns TOOL_PENDING or -1. */
int tool__defer(struct tool_ctx *ctx, const struct job_ops *ops, void *st, const int *fds, unsigned n_fds,
		uint64_t duration_ms);
/* trace_read / trace_stop of the background trace `handle` (the host
 * checks it is the caller's); the result object goes to ctx->out. */
int tool__trace_read(struct tool_ctx *ctx, const char *handle, bool stop);
/* The caller's background traces, as an array value on w. */
void tool__trace_list(struct tool_ctx *ctx, struct jw *w);
/* Whether the caller may start one more background trace now (checked
 * again when it starts): 0, or -1 with the jobs limit's error. */
int tool__trace_room(struct tool_ctx *ctx);
/* notifications/progress for this call, when its request carried a
 * progressToken (else nothing). progress must grow from call to call;
 * total 0 means unknown. */
void tool__progress(struct tool_ctx *ctx, uint64_t progress, uint64_t total, const char *message);
/* Whether the call that owns ctx is a job (handlers shared by both paths). */
static inline bool tool__is_job(const struct tool_ctx *ctx)
{
	return ctx->is_job;
}
/* Whether what ctx's call defers runs in the background (trace_start). */
static inline bool tool__in_background(const struct tool_ctx *ctx)
{
	return ctx->bg != NULL;
}

/* Its hints (in the descriptor) and the least profile that offers it
 * (sch_tools[schema].profile) come from its schema file. */
struct tool {
	const char *name;
	enum sch_tool_id schema;       /* compile fails if the schema is missing */
	tool_fn run;
};

/* How a session gets to act on other sessions' objects, for NOT_OWNED. */
#define TOOL_FOREIGN_HINT "--allow-foreign on stdio, a +foreign --access rule on the daemon"

/* Whether env's session may see and call t (its profile, --allow-tools and
 * --deny-tools). */
bool tool__allowed(const struct tool_env *env, const struct tool *t);
/* Whether t is a tracer trace_start can run in the background: its result
 * is a tracer's report (the outputSchema requires `tracer` and `stopped_by`,
 * which the tracers' common run writes) and it takes `duration_ms`. */
bool tool__is_tracer(const struct tool *t);

/* ---- failing ---------------------------------------------------------- */

/* Sets the error (first one wins) and returns -1; its category and
 * recoverable come from the code's row in ERRORS (src/errors.h). The context
 * object starts empty; add members with jw__k*(&ctx->err->ctx, ...) after
 * the call. */
int tool__fail(struct tool_ctx *ctx, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* For a negative errno from the kernel or libbpf: picks the code
 * (EPERM -> permission/EPERM, ENOMEM -> resource/ENOMEM, ...), adds
 * context.errno, and prefixes the message with `what`. */
int tool__fail_errno(struct tool_ctx *ctx, int neg_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A limit was hit: resource/LIMIT_<NAME>, context {limit, value}. */
int tool__fail_limit(struct tool_ctx *ctx, enum limit_id lim, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Library errors that hide a refused allocation: libelf answers its own
 * codes, libbpf turns them into LIBBPF_ERRNO__LIBELF or EINVAL. Take a
 * mark before the library call; after it fails, tool__fail_heap() answers
 * resource/LIMIT_HEAP_BYTES for `what` (and returns -1) when the heap
 * refused this thread an allocation since the mark, else returns 0 and
 * the caller reports the error as it would. */
uint64_t tool__heap_mark(void);
int tool__fail_heap(struct tool_ctx *ctx, uint64_t mark, const char *what);
/* The code tool__fail_errno() answers for errno err, and its name. */
enum err_code tool__errno_err(int err);
const char *tool__errno_code(int err);
const char *tool__cat_name(enum err_cat c);

struct owned_need;
/* Admits what a call is about to create against this session's caps and
 * all sessions' totals (owned__admit): 0 with it reserved (the caller
 * releases it with owned__unadmit), or -1 with resource/LIMIT_<cap> naming
 * the cap, what is held and what the call needs. */
int tool__admit(struct tool_ctx *ctx, const struct owned_need *need);

/* Needs capability `cap` (or CAP_SYS_ADMIN, which implies the BPF ones):
 * 0, or a permission/MISSING_CAPABILITY error naming it and `why`. */
int tool__need_cap(struct tool_ctx *ctx, unsigned cap, const char *why);
/* Needs fstype ("sysfs", "proc", "tracefs", "bpf", ...) mounted at its usual
 * place: 0, or a resource error "<FSTYPE>_MISSING" naming `why`, the place
 * and the mount command (context: missing, path, fix). 0 for a type
 * sysfs__known_mount does not know. */
int tool__need_mount(struct tool_ctx *ctx, const char *fstype, const char *why);
/* tracefs is mounted but this process may not read it: a permission error
 * TRACEFS_DENIED naming what helps (root, or CAP_DAC_READ_SEARCH). -1. */
int tool__tracefs_denied(struct tool_ctx *ctx, const char *why);
/* Needs the kernel's vmlinux BTF: 0; a resource BTF_MISSING error when
 * sysfs is not mounted at /sys (naming the mount command); or a kernel
 * NO_VMLINUX_BTF error when the kernel has none. */
#define BTF_VMLINUX_PATH "/sys/kernel/btf/vmlinux"
int tool__need_btf(struct tool_ctx *ctx, const char *why);

/* ---- arguments (already validated against inputSchema) ---------------- */

/* Unescaped string argument in scratch memory, or NULL when absent. */
const char *tool__arg_str(struct tool_ctx *ctx, const char *key);
int64_t tool__arg_int(struct tool_ctx *ctx, const char *key, int64_t dflt);
/* A stream's or tracer's `duration_ms`: the argument, or dflt lowered to the
 * trace_ms cap (in the background, the cap itself: a trace that outlives
 * its call runs until trace_stop or that long). Over the cap: -1, the
 * LIMIT_TRACE_MS error set. */
int tool__duration_ms(struct tool_ctx *ctx, uint64_t dflt, uint64_t *out);
bool tool__arg_bool(struct tool_ctx *ctx, const char *key, bool dflt);
/* Token of an argument, or -1. */
int tool__arg(struct tool_ctx *ctx, const char *key);
/* true once the call's deadline has passed (checked by long loops). */
bool tool__expired(struct tool_ctx *ctx);

/* Reads `limit` (default dflt, lowered to the list_items cap so an omitted
 * limit never fails) and `offset`. A limit over the cap fails naming it. */
int tool__page_args(struct tool_ctx *ctx, uint64_t dflt, uint64_t *limit, uint64_t *offset);

/* Emits "truncated"-style paging fields shared by list tools:
 * {"total":N,"offset":O,"returned":R,"truncated":bool} members. */
void tool__page_fields(struct jw *w, uint64_t total, uint64_t offset, uint64_t returned);

/* Runs tool t in ctx with the arguments in args_json (a JSON object this
 * server wrote; not schema-checked), its result in ctx->out: what a
 * resource that is a view of a tool uses. t's return (0 or -1). */
int tool__run_json(struct tool_ctx *ctx, const struct tool *t, const char *args_json);

/* ---- registry ---------------------------------------------------------- */

extern const struct tool *const tool_table[];
extern const unsigned tool_count;
const struct tool *tool__find(const char *name, size_t len);

#endif
