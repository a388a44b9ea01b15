/* The MCP server: stdio framing, JSON-RPC envelope, methods, tools/call. */
#ifndef EBPF_MCP_SERVER_H
#define EBPF_MCP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "../json/json.h"
#include "../kern/policy.h"
#include "../mem/arena.h"
#include "../sys/paths.h"
#include "../tools/tool.h"
#include "job.h"

#define EBPF_MCP_VERSION "0.1.0"
#define MCP_LATEST_VERSION "2025-11-25"

#define SERVER_MAX_TOOL_LIST 64   /* allow/deny list entries */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERROR, LOG_CRITICAL, LOG_ALERT, LOG_EMERGENCY };

struct server_opts {
	enum profile profile;
	const char *allow[SERVER_MAX_TOOL_LIST];
	unsigned n_allow;
	const char *deny[SERVER_MAX_TOOL_LIST];
	unsigned n_deny;
	bool validate_output;          /* check every structuredContent (tests) */
	enum log_level stderr_level;
	const char *object_dirs[PATHS_MAX_DIRS];   /* --object-dir: ELF files come only from here */
	unsigned n_object_dirs;
	const char *pin_dirs[PATHS_MAX_DIRS];      /* --pin-dir: pins go only under these */
	unsigned n_pin_dirs;
	const char *audit_log;                     /* --audit-log FILE or "-" (stderr) */
	bool allow_foreign;            /* --allow-foreign: full profile may detach, unpin and
	                                  write objects this session did not create */
	struct policy_opts policy;     /* --allow-/--block-helper, --allow-/--block-prog-type */
};

struct server {
	struct server_opts opt;
	int in_fd, out_fd;

	/* fixed buffers, sized from limits at start-up */
	char *req;                     /* request_bytes + 1 */
	size_t req_cap, req_start, req_end;
	bool discarding;               /* skipping the rest of an over-long line */
	jsmntok_t *tok;
	unsigned tok_cap;
	jsmntok_t *vtok;               /* --validate-output: enough for any reply */
	unsigned vtok_cap;
	struct arena scratch;
	char *sc;                      /* structuredContent of one tool result */
	char *resp;                    /* one reply line */
	size_t resp_cap;

	/* calls running over time, and the loop's epoll (-1 before the loop) */
	struct job jobs[JOB_SLOTS];
	int ep;

	/* session */
	bool initialized;
	char protocol[32];
	char client_name[64];
	enum log_level log_level;
	bool log_level_set;
	uint64_t session_id;
	uint64_t started_ns;

	/* counters, shown by `info` */
	uint64_t n_requests, n_errors, n_tool_calls;
	bool quit;
	const char *quit_reason;       /* "eof", "signal SIGTERM", ... for the shutdown log */
};

int server__init(struct server *s, const struct server_opts *o, int in_fd, int out_fd);
void server__fini(struct server *s);
/* Serves until stdin EOF or a terminating signal. Returns the exit status. */
int server__run(struct server *s);
/* Detaches every link and closes every object this session holds; pins
 * stay and are reported (audit log, stderr). Called once before exit. */
void server__release(struct server *s);
/* Handles one complete line (no newline). Exposed for tests and the CLI. */
void server__handle_line(struct server *s, char *line, size_t len);
/* A tool visible in this session's profile and allow/deny lists? */
bool server__tool_allowed(const struct server *s, const struct tool *t);

void server__log(struct server *s, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *server__profile_name(enum profile p);
uint64_t now_ns(void);

#endif
