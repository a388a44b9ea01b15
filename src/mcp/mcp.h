/* The server's parts, shared by the files of src/mcp (not a public
 * interface: main, the CLI and init use server.h).
 *
 * Threads: the loop thread owns sessions, their input, jobs' watches and
 * timers, and answers what needs no kernel work (initialize, ping,
 * tools/list, logging/setLevel, cancellation). tools/call and every step of
 * a call running over time (a job) run on a worker (core/bio.h). A session
 * runs one call at a time and answers its requests in order (a job's reply
 * comes when it ends); each job runs one step at a time. Output from either
 * thread goes through the session's output buffer, which only the loop
 * writes to the descriptor.
 */
#ifndef EBPF_MCP_MCP_H
#define EBPF_MCP_MCP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../config.h"
#include "../core/bio.h"
#include "../core/loop.h"
#include "../json/json.h"
#include "../mem/arena.h"
#include "../sys/sandbox.h"
#include "../tools/tool.h"

enum {
	MCP_PARSE_ERROR = -32700,
	MCP_INVALID_REQUEST = -32600,
	MCP_METHOD_NOT_FOUND = -32601,
	MCP_INVALID_PARAMS = -32602,
	MCP_INTERNAL_ERROR = -32603,
	MCP_ACCESS_DENIED = -32003,      /* the daemon refuses this peer (no access rule, sessions cap) */
	MCP_UNSUPPORTED_VERSION = -32022, /* 2026-07-28: a request's protocol version the server does not speak */
};

/* The protocol eras (MCP 2026-07-28, "Versioning"): a request whose _meta
 * names io.modelcontextprotocol/protocolVersion is modern (stateless: no
 * initialize, its own log level, resultType and serverInfo on its result);
 * any other is legacy (the initialize handshake of 2025-11-25 and older). */
#define MCP_MODERN_VERSION "2026-07-28"
#define MCP_META_VERSION   "io.modelcontextprotocol/protocolVersion"
#define MCP_META_LOG_LEVEL "io.modelcontextprotocol/logLevel"
#define MCP_META_CLIENT    "io.modelcontextprotocol/clientInfo"
#define MCP_META_CAPS      "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_SERVER    "io.modelcontextprotocol/serverInfo"
#define MCP_META_SUB_ID    "io.modelcontextprotocol/subscriptionId"
#define MCP_TTL_NONE       (-1)       /* a result that is not cacheable */
#define MCP_TTL_STATIC_MS  3600000    /* what does not change while the server runs (tools, prompts, templates) */

#define SESSION_OUT_SOFT  (256 * 1024)  /* pending output over which a session reads and starts nothing
					   more and drops notifications (a client that does not read) */
#define SESSION_OUT_KEEP  (64 * 1024)   /* an output buffer bigger than this is freed once written */
#define SESSION_OUT_DIRECT (64 * 1024)  /* a line this big, with nothing pending, is written where it was built */
#define JOB_SLOTS         16            /* the jobs limit's hard maximum */
/* The listen backlog of the daemon's sockets: the kernel clamps it to
 * net.core.somaxconn (4096 since Linux 5.4). musl's SOMAXCONN is 128: a
 * burst of more clients than that overflowed the queue, and with SYN
 * cookies the overflow was left neither served nor refused (the client
 * thinks it is connected). */
#define LISTEN_BACKLOG    65535
#define JOB_TICK_MS       100           /* progress / tick period */

_Static_assert(JOB_SLOTS >= 16, "the jobs limit allows up to 16");

/* The request being answered: its id as raw JSON text (echoed verbatim). */
struct mcp_req {
	const struct jdoc *doc;
	int params;                 /* token, or -1 */
	const char *id;             /* raw JSON of the id; NULL for a notification */
	size_t id_len;
	uint64_t t0_ns;
	bool modern;                /* 2026-07-28, per request */
	int log_level;              /* modern: _meta logLevel, or -1 (no notifications/message) */
	uint64_t route;             /* the transport's tag for its answer (HTTP: the exchange), 0 none */
	uint8_t method;             /* index in the method table (metrics), METHOD_OTHER when unknown */
};

#define METHOD_OTHER 255

struct session;

/* What a message is, for a transport that routes them (HTTP): a reply ends
 * its request's exchange; a note may be dropped when its reader lags; an
 * event is a notification that must not be (a listen's acknowledgement). */
enum out_kind { OUT_REPLY, OUT_NOTE, OUT_EVENT };

/* A session without a descriptor (HTTP): its transport hands it requests
 * and takes its output as routed records. Every hook runs on the loop. */
struct sink_ops {
	/* The next request to answer, or false: line (len bytes) stays valid
	 * until the next call; route tags what answers it. */
	bool (*next)(struct session *s, char **line, size_t *len, uint64_t *route);
	/* While a call runs: what waits is looked at for cancellations. */
	void (*scan)(struct session *s);
	/* Output is pending: take it with session__drain. */
	void (*deliver)(struct session *s);
	/* The session is about to be freed. */
	void (*gone)(struct session *s);
	/* The request with route now runs over time (a job). */
	void (*job)(struct session *s, uint64_t route);
};

struct session;
struct call;
struct job;

/* What a worker's tool_ctx.host_data points to, in a call and in a job. */
struct host_ref {
	bool cancelled;                  /* under the session's out_lock: the reply is not sent */
	struct call *call;               /* the call being run, NULL in a job's step */
};

struct server {
	const struct config *cfg;
	struct loop loop;
	const char *mode;                /* "stdio", "cli", "init", "daemon" */
	struct session *sessions;        /* live ones */
	unsigned n_sessions;
	uint64_t next_session;
	uint64_t started_ns;
	/* the loop thread's own buffers: parsing a line, answering on the loop */
	jsmntok_t *tok;
	unsigned tok_cap;
	int *tok_scratch;   /* tok_cap ints: jdoc__strict's key sort */
	char *resp;
	size_t resp_cap;
	/* the daemon */
	int listen_fd;
	bool unlink_socket;              /* we made the socket file (not systemd) */
	bool stopping;
	const char *stop_reason;
	bool stop_when_idle;             /* stdio: the last session's end ends the loop */
	/* modern-era owners (owner.c) */
	struct owner *owners;
	unsigned n_owners;
	struct loop_timer lease_timer;
	/* background traces (bgtrace.c; under its lock) */
	struct bgtrace *bgtraces;
	uint64_t next_trace;
	/* HTTP (web.c) */
	struct web *web;
	unsigned n_transient;            /* sessions of HTTP connections (modern era): outside the sessions cap */
};

/* A worker thread's buffers: a call or job step writes its result here. */
struct worker {
	char *sc;                        /* structuredContent */
	char *resp;                      /* the reply line */
	size_t cap;                      /* response_bytes + 1 each */
	struct arena scratch;
	struct tool_err *err;
	jsmntok_t *vtok;                 /* --validate-output */
	unsigned vtok_cap;
};

enum session_state {
	SESS_OPEN,       /* reading and answering */
	SESS_DRAINING,   /* input ended: what was read is answered, then it ends */
	SESS_CLOSING,    /* the peer is gone or the server stops: nothing more is answered */
};

struct session {
	struct server *srv;
	struct session *prev, *next;
	uint64_t id;
	int in_fd, out_fd;               /* equal for a socket; -1 for a sink */
	const struct sink_ops *sink;     /* HTTP: no descriptor (sink_data is the transport's) */
	void *sink_data;
	bool own_fds;                    /* close them at the end */
	bool socket;                     /* one descriptor both ways (the daemon's sessions) */
	bool file_input;                 /* regular-file input (the CLI): jobs run to their end */
	enum session_state state;
	const char *end_reason;
	struct tool_env env;
	/* input: complete lines are answered in order, one call at a time */
	char *req;
	size_t req_cap, req_start, req_end;
	size_t scan;                     /* lines before this were looked at for cancellations */
	bool discarding;                 /* skipping the rest of an over-long line */
	bool eof;
	/* protocol */
	bool initialized;
	char protocol[32];
	char client_name[64];
	int log_level;                   /* atomic: workers read it */
	/* output: appended by the loop and workers, written by the loop */
	pthread_mutex_t out_lock;
	char *out;
	size_t out_off, out_len, out_cap;
	uint64_t notes_dropped;
	bool out_broken;
	/* work */
	struct call *running;            /* the tools/call on a worker */
	struct job *jobs[JOB_SLOTS];
	unsigned n_jobs;                 /* atomic: a worker's defer reads it */
	struct owned *objs;
	struct watchset *watches;        /* subscriptions (surface.c), made on first use */
	bool releasing;
	/* counters (info) */
	uint64_t n_requests, n_errors, n_tool_calls, started_ns;
};

/* ---- session.c ------------------------------------------------------------- */

/* A session on in_fd/out_fd for who with profile; NULL (and nothing
 * watched) when out of memory or descriptors. */
struct session *session__new(struct server *srv, int in_fd, int out_fd, bool own_fds, const struct identity *who,
			     enum profile profile, bool allow_foreign);
/* A session whose transport is a sink (HTTP); NULL when out of memory. */
struct session *session__new_sink(struct server *srv, const struct sink_ops *ops, void *data,
				  const struct identity *who, enum profile profile, bool allow_foreign);
/* Appends one message (any thread), tagged with route for a sink. A note
 * is dropped and counted while output is backed up past SESSION_OUT_SOFT. */
void session__send(struct session *s, uint64_t route, const char *line, size_t n, enum out_kind kind);
/* r's reply (any thread): counted by method and outcome, then sent. */
void session__reply(struct session *s, const struct mcp_req *r, const char *line, size_t n);
/* A sink's transport takes the pending messages, in order (loop thread).
 * fn runs under the output lock: it must not call back into the session. */
typedef void (*session_drain_fn)(void *data, struct session *s, uint64_t route, enum out_kind kind, const char *line,
				 size_t n);
void session__drain(struct session *s, session_drain_fn fn, void *data);
/* Writes what is pending (loop thread). */
void session__flush(struct session *s);
/* Answers what is buffered as far as it may, adjusts what it watches, and
 * ends the session when it is done (loop thread; after every change). */
void session__pump(struct session *s);
/* Ends the session without answering more: the peer is gone, or the server
 * stops. */
void session__close(struct session *s, const char *why);
/* A log line: stderr by --log-level, the client by logging/setLevel (any
 * thread; s may be NULL). */
void session__log(struct session *s, enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The session a worker is running work for (libbpf's messages go there). */
extern __thread struct session *session__current;
/* The log level of the request being handled on this thread: SESSION_LOG_LEGACY
 * (the session's, set by logging/setLevel), -1 (none: a modern request that
 * named no level), or the level a modern request asked for. */
#define SESSION_LOG_LEGACY (-2)
extern __thread int session__request_log;
/* The route of the request being handled on this thread (its
 * notifications go there); 0 outside one. */
extern __thread uint64_t session__route;
/* --log-level: what goes to stderr. */
extern enum log_level session__stderr_level;
/* Whether calls running over time go on after the input ends: for the
 * CLI's file and for a socket's half-close (`ebpf-mcp connect` passes its
 * client's end of input on so, and still reads the replies); stdin's end
 * on stdio means the client left. */
bool session__jobs_outlive_input(const struct session *s);
/* Fills the facts `info` shows. */
void session__facts(const struct session *s, struct tool_facts *f);

/* Replies built on the loop thread (in srv->resp). */
void session__error(struct session *s, const struct mcp_req *r, int code, const char *msg, const char *limit_name,
		    uint64_t limit_value);
void session__result_begin(struct session *s, struct jw *w, const struct mcp_req *r);
void session__result_end(struct session *s, struct jw *w, const struct mcp_req *r);
/* Closes a result object begun after session__result_begin (a modern
 * request's gets resultType, serverInfo and, ttl_ms >= 0, ttlMs and
 * cacheScope), then sends. */
void session__result_close(struct session *s, struct jw *w, const struct mcp_req *r, int64_t ttl_ms, bool public_scope);

/* ---- rpc.c: JSON-RPC text, no I/O ---------------------------------------------- */

void rpc__error(struct jw *w, const char *id, size_t id_len, int code, const char *msg, const char *limit_name,
		uint64_t limit_value);
void rpc__result_begin(struct jw *w, const char *id, size_t id_len);
/* Whether a reply line our writer made for an id of id_len bytes (0: none)
 * is a JSON-RPC error. */
bool rpc__is_error(const char *line, size_t n, size_t id_len);
/* A modern result's members: resultType, _meta.serverInfo, and (ttl_ms >= 0)
 * ttlMs and cacheScope. Nothing for a legacy one. */
void rpc__result_extras(struct jw *w, bool modern, int64_t ttl_ms, bool public_scope);
/* The raw JSON of token tok (strings with their quotes). */
void rpc__raw(const struct jdoc *d, int tok, const char **p, size_t *n);

/* ---- methods.c ----------------------------------------------------------------- */

/* One request line (parsed on the loop). While a call runs, only
 * cancellations are taken (scan_only): true when the line was one. Its
 * answer goes to session__route. */
bool methods__line(struct session *s, char *line, size_t len, bool scan_only);
/* 2026-07-28 requires clientCapabilities (an object; {} declares none) in
 * every request's _meta: false when the _meta object at token meta lacks it.
 * The answer is -32602 with MCP_CAPS_MISSING (HTTP adds 400). */
bool methods__caps_ok(const struct jdoc *d, int meta);
#define MCP_CAPS_MISSING "Invalid params: a " MCP_MODERN_VERSION " request's params._meta must carry " \
	MCP_META_CAPS " (an object; {} declares none)"

/* Stops the call, job or listen answering request id; false when none. */
bool methods__cancel(struct session *s, const char *id, size_t len);
/* The method table's names, for metrics: name of index i, or NULL past the end. */
const char *methods__name(unsigned i);

/* ---- surface.c: resources, prompts, completion, subscriptions ------------------------ */

void surface__resources_list(struct session *s, const struct mcp_req *r);
void surface__templates_list(struct session *s, const struct mcp_req *r);
void surface__resources_read(struct session *s, const struct mcp_req *r);
void surface__subscribe(struct session *s, const struct mcp_req *r);
void surface__unsubscribe(struct session *s, const struct mcp_req *r);
void surface__listen(struct session *s, const struct mcp_req *r);
void surface__prompts_list(struct session *s, const struct mcp_req *r);
void surface__prompts_get(struct session *s, const struct mcp_req *r);
void surface__complete(struct session *s, const struct mcp_req *r);
/* notifications/cancelled for a subscriptions/listen: it ends, no reply. */
bool surface__cancel(struct session *s, const char *id, size_t id_len);
/* The session ends (graceful: the server stops): each listen gets its
 * closing result. */
void surface__end(struct session *s, bool graceful);
/* A poll of its subscriptions is on a worker (the session must wait). */
bool surface__busy(const struct session *s);

/* ---- call.c: tools/call on a worker ----------------------------------------------- */

void call__start(struct session *s, const struct mcp_req *r);
/* Work a request other than tools/call does on a worker (resources,
 * completion): fn builds the whole reply line in w->resp and sends it with
 * call__reply (or answers with an error the same way). ctx has the
 * session's or the caller's registry, the worker's buffers and the facts. */
typedef void (*call_fn)(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_ctx *ctx);
void call__start_fn(struct session *s, const struct mcp_req *r, call_fn fn);
/* Sends w->resp[0..len) as r's reply, unless r was cancelled. */
void call__reply(struct session *s, struct worker *w, const struct mcp_req *r, size_t len);
/* notifications/cancelled for the running call: its reply is not sent. */
bool call__cancel(struct session *s, const char *id, size_t id_len);
void *call__worker_init(unsigned i);
/* The tools/call result for a call or job step, sent to s; returns NULL on
 * success or the error code answered (for the audit line). */
const char *call__answer(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_ctx *ctx,
			 struct jw *out, int rc);
/* The context a call or job step runs in, on worker w. */
void call__ctx(struct tool_ctx *ctx, struct session *s, struct worker *w, struct jw *out);
extern const struct tool_host call__host;
/* --validate-output: the workers reserve token arrays (before they start). */
void call__set_validate(bool on);
/* A fresh error record on w. */
struct tool_err *call__err(struct worker *w);

/* ---- job.c: calls running over time ------------------------------------------------ */

struct job_spec {
	const struct job_ops *ops;
	void *st;
	int fds[JOB_MAX_FDS];
	unsigned n_fds;
	uint64_t duration_ms;
};

/* A call's handler deferred: the job starts (loop thread). On failure it is
 * released and the call answered with an error. */
void job__install(struct session *s, const struct job_spec *spec, const struct tool *t, const struct mcp_req *r,
		  const char *token, size_t token_len, uint64_t deadline_ns, const char *js, const jsmntok_t *args);
bool job__cancel(struct session *s, const char *id, size_t id_len, const char *code);
/* Stops every job without a reply (the session ends). */
void job__cancel_all(struct session *s, const char *code);
unsigned job__busy(const struct session *s);
/* Releases a job's state on a worker (a tracer's teardown takes hundreds of
 * milliseconds: never on the loop). */
void job__release_later(struct server *srv, const struct job_ops *ops, void *st);

/* ---- bgtrace.c: traces that outlive their call (trace_start/read/stop) ---------------- */

struct bgtrace;
/* trace_start's tracer deferred (worker): the trace, listed under a new
 * handle (written to ctx->bg) and owned by the call's owner (ctx->facts),
 * unless the owner's traces plus session_jobs reach the jobs limit. 0 and
 * *out (the call holds a reference: bgtrace__install or bgtrace__discard
 * takes it), or -1 after failing (spec->st is the caller's to release). */
int bgtrace__create(struct server *srv, struct tool_ctx *ctx, unsigned session_jobs, const struct job_spec *spec,
		    struct bgtrace **out);
/* Whether the call's owner may start one more (any thread): 0, or -1 with
 * the jobs limit's error. bgtrace__create checks again, atomically. */
int bgtrace__room(struct server *srv, struct tool_ctx *ctx, unsigned session_jobs);
/* Its call has answered: the loop starts watching it (loop thread). */
void bgtrace__install(struct bgtrace *b);
/* Its call was cancelled or failed: it goes, unseen (loop thread). */
void bgtrace__discard(struct bgtrace *b);
/* trace_read or trace_stop (worker): answers for handle into ctx->out. A
 * trace whose handle this spends is left in *spent, for the call's end. */
int bgtrace__read(struct server *srv, struct tool_ctx *ctx, const char *handle, bool stop, struct bgtrace **spent);
/* The call that spent b has ended: the loop lets go of it (loop thread). */
void bgtrace__call_done(struct bgtrace *b);
/* The traces of an owner (a session's id, an identity's registry id), as an
 * array value (worker), and how many it holds (any thread). */
void bgtrace__list(struct server *srv, struct tool_ctx *ctx, struct jw *w);
unsigned bgtrace__count(struct server *srv, uint64_t owner_id);
/* Its owner ended (the session, the lease), or the server stops: its
 * traces end without a report, and are released (loop thread). */
void bgtrace__end_owner(struct server *srv, uint64_t owner_id, const char *why);
void bgtrace__stop_all(struct server *srv, const char *why);

/* ---- owner.c: what modern-era calls of one identity hold, under a lease ------------------ */

struct owner;
/* The caller's owner (made on first use), counted busy until owner__leave;
 * NULL when out of memory. Loop thread. */
struct owner *owner__enter(struct server *srv, const struct identity *who);
/* A call of it has ended: its lease runs from now. Loop thread. */
void owner__leave(struct owner *o);
/* Its registry, for the duration of one call on a worker. */
struct owned *owner__lock(struct owner *o);
void owner__unlock(struct owner *o);
uint64_t owner__id(const struct owner *o);
/* The server stops: every owner not in a call is released now, the others
 * when their call ends. */
void owner__stop_all(struct server *srv);

/* ---- server.c ------------------------------------------------------------------------ */

int server__init(struct server *srv, const struct config *c, const char *mode);
void server__fini(struct server *srv);
/* Start-up is over: the sandbox for mode m (sys/sandbox.h); -errno when it
 * cannot be entered, said on stderr. */
int server__enter_sandbox(struct server *srv, enum sandbox_mode m);
/* A session has ended: the server stops when it should. */
void server__session_gone(struct server *srv);
/* Checks whether the loop can stop (no session, no background work). */
void server__maybe_stop(struct server *srv);
/* Stops accepting, ends every session (their objects are released), and
 * ends the loop once nothing is left on the workers. */
void server__stop(struct server *srv, const char *why);
/* daemon.c: closes the listening socket (and removes its file if made here). */
void server__stop_listening(struct server *srv);

#endif
