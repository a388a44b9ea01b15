/* Every resource cap of the server in one place.
 *
 * Each cap has a default, a floor and a hard maximum; `--limit NAME=VALUE`
 * moves it within [min, max]. The X-macro keeps the enum, the names shown in
 * errors and `info`, and the reasons in one table so they cannot drift.
 */
#ifndef EBPF_MCP_LIMITS_H
#define EBPF_MCP_LIMITS_H

#include <stdint.h>

#define KIB (1024ull)
#define MIB (1024ull * 1024ull)

/*        id,                 name,               default,      min,        max,          why */
#define LIMITS_TABLE(X) \
	X(REQUEST_BYTES,    "request_bytes",    1 * MIB,      4 * KIB,    64 * MIB,     "one JSON-RPC line; longer lines are refused and skipped") \
	X(JSON_TOKENS,      "json_tokens",      32768,        64,         1048576,      "jsmn tokens per request (16 bytes each)") \
	X(JSON_DEPTH,       "json_depth",       64,           4,          1024,         "nesting of arrays/objects in a request") \
	X(RESPONSE_BYTES,   "response_bytes",   4 * MIB,      64 * KIB,   64 * MIB,     "one reply line; a bigger result is an error, never cut") \
	X(SCRATCH_BYTES,    "scratch_bytes",    4 * MIB,      64 * KIB,   64 * MIB,     "per-request working memory, reset after each request") \
	X(HEAP_BYTES,       "heap_bytes",       128 * MIB,    1 * MIB,    1024 * MIB,   "malloc heap incl. libbpf/libelf: a CO-RE load parses vmlinux BTF (~12 MiB) on each of the workers at once") \
	X(LIST_ITEMS,       "list_items",       1000,         1,          100000,       "items one list call may return (its `limit` maximum)") \
	X(SCAN_ITEMS,       "scan_items",       2000000,      1000,       50000000,     "entries one call may walk (kallsyms, BTF types, tracefs)") \
	X(STRING_BYTES,     "string_bytes",     4096,         64,         65536,        "one string argument after unescaping") \
	X(CALL_MS,          "call_ms",          30000,        100,        600000,       "wall time one tool call may take") \
	X(PIN_WALK_DEPTH,   "pin_walk_depth",   8,            1,          64,           "directory depth walked under bpffs by inspect_state") \
	X(LOG_LINE_BYTES,   "log_line_bytes",   1024,         128,        65536,        "one notifications/message text") \
	X(TOOLS_PAGE,       "tools_page",       100,          1,          1000,         "tools per tools/list page (cursor for the rest)") \
	X(PROGRAMS,         "programs",         64,           1,          1024,         "BPF programs one session may hold loaded at once") \
	X(MAPS,             "maps",             64,           1,          1024,         "BPF maps one session may hold at once") \
	X(LINKS,            "links",            64,           1,          1024,         "attachments (links) one session may hold at once") \
	X(MAP_MEMORY_BYTES, "map_memory_bytes", 256 * MIB,    64 * KIB,   16384 * MIB,  "sum of (key+value) x max_entries over one session's maps") \
	X(VERIFIER_LOG_BYTES, "verifier_log_bytes", 64 * KIB, 4 * KIB,    16 * MIB,     "verifier log kept per program; its tail is kept when cut") \
	X(OBJECT_BYTES,     "object_bytes",     16 * MIB,     4 * KIB,    256 * MIB,    "one ELF object file or inline base64 object, decoded") \
	X(PROG_INSNS,       "prog_insns",       131072,       1,          1000000,      "instructions one program may have (checked before load)") \
	X(JITED_BYTES,      "jited_bytes",      64 * KIB,     16,         16 * MIB,     "JIT image bytes one prog_dump call returns as hex (jited_hex); page with jited_offset") \
	X(MAP_ENTRIES,      "map_entries",      1000,         1,          100000,       "entries per map_dump page; keys per lookup/update/delete call") \
	X(AUDIT_ARG_BYTES,  "audit_arg_bytes",  1024,         64,         65536,        "arguments copied into one audit line (cut, and marked so)") \
	X(JOBS,             "jobs",             4,            1,          16,           "calls running over time at once (streams, tracers)") \
	X(STREAM_EVENTS,    "stream_events",    100000,       1,          10000000,     "events one stream_events call may return (its max_events maximum)") \
	X(TRACE_MS,         "trace_ms",         600000,       100,        600000,       "duration_ms a stream_events or tracer call may ask for (a lower cap lowers their default too); call_ms still ends them earlier") \
	X(EVENTS_PER_SECOND, "events_per_second", 1000000,    100,        10000000,     "events a stream decodes per second; more are consumed and counted as dropped") \
	X(PROGRAMS_TOTAL,   "programs_total",   256,          1,          16384,        "BPF programs all sessions together may hold loaded") \
	X(MAPS_TOTAL,       "maps_total",       256,          1,          16384,        "BPF maps all sessions together may hold") \
	X(LINKS_TOTAL,      "links_total",      256,          1,          16384,        "attachments all sessions together may hold") \
	X(MAP_MEMORY_BYTES_TOTAL, "map_memory_bytes_total", 1024 * MIB, 64 * KIB, 65536 * MIB, "map memory (as map_memory_bytes counts it) of all sessions together") \
	X(SESSIONS,         "sessions",         64,           1,          4096,         "clients a daemon serves at once (serve); one more is told so and closed") \
	X(WORKERS,          "workers",          4,            1,          32,           "threads that run tool calls and slow kernel work off the event loop") \
	X(LEASE_MS,         "lease_ms",         300000,       1000,       86400000,     "idle time after which what a caller's modern-era (stateless) calls made is released, pins aside") \
	X(WATCHES,          "watches",          16,           1,          256,          "resources one session may subscribe to (resources/subscribe, subscriptions/listen)") \
	X(HTTP_CONNECTIONS, "http_connections", 1024,         1,          16384,        "HTTP connections open at once (serve --http); one more is answered 503 and closed") \
	X(HTTP_REQUESTS,    "http_requests",    256,          1,          16384,        "HTTP requests being answered or waiting their turn at once; one more is answered 503") \
	X(HTTP_REQUEST_MS,  "http_request_ms",  10000,        100,        600000,       "time a request's head and body may take to arrive once begun; a slower client gets 408") \
	X(HTTP_IDLE_MS,     "http_idle_ms",     60000,        100,        3600000,      "an HTTP connection with no request in progress closes after this") \
	X(HTTP_SESSION_IDLE_MS, "http_session_idle_ms", 600000, 1000,     86400000,     "a legacy-era HTTP session with no request and no stream for this long ends, releasing what it holds")

enum limit_id {
#define X(id, name, def, min, max, why) LIM_##id,
	LIMITS_TABLE(X)
#undef X
	LIM__COUNT
};

struct limit_def {
	const char *name;
	uint64_t def, min, max;
	const char *why;
};

extern const struct limit_def limit_defs[LIM__COUNT];

/* The values in force; written once at start-up, read everywhere. */
extern uint64_t limits[LIM__COUNT];

/* Parses "name=value" (value may end in K or M). Returns 0, or -EINVAL with a
 * message in err (bounded by err_len) naming the limit and its range. */
int limits__set(const char *spec, char *err, unsigned err_len);
void limits__reset(void);

/* Fixed sizes that are not runtime tunables. */
#define LIMIT_ERROR_MSG_BYTES   512   /* a tool error's message */
#define LIMIT_ERROR_CTX_BYTES   (72 * 1024)  /* a tool error's context: a 64 KiB verifier log tail + the rest */
#define LIMIT_ID_BYTES          256   /* a JSON-RPC id echoed back verbatim */
#define LIMIT_TOOL_NAME_BYTES   64
#define LIMIT_WRITER_DEPTH      64    /* nesting our own writer emits */
#define LIMIT_PATH_BYTES        4096  /* PATH_MAX */

_Static_assert(LIMIT_WRITER_DEPTH <= 64, "writer keeps separators in a 64-bit mask");

#endif
