/* The audit log: one JSON line per tool call, and one when a session
 * starts, is refused or ends.
 *
 * Every line names the session and its peer (uid, gid, pid). A call's line
 * says which tool, its arguments (bounded by
 * audit_arg_bytes; a longer set is kept as a marked prefix), the outcome and
 * error code, how long it took, and which kernel objects it created and
 * destroyed. Written with one write(2) per line to a file opened O_APPEND,
 * or to stderr, so concurrent servers' lines do not interleave; a lock
 * keeps this process's threads from sharing the line buffer.
 */
#ifndef EBPF_MCP_AUDIT_H
#define EBPF_MCP_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_LINE_BYTES (80 * 1024)   /* holds 64 KiB of arguments + the rest */

/* path "-" is stderr. 0 or -errno. Without a call, nothing is logged. */
int audit__open(const char *path);
bool audit__enabled(void);
void audit__close(void);

struct identity;
struct owned;

struct audit_call {
	uint64_t session;
	const struct identity *who;
	const struct owned *objs;  /* the session's journal: what the call created/destroyed */
	const char *tool;
	const char *args;          /* raw JSON text of the arguments, or NULL */
	size_t args_len;
	bool ok;
	const char *code;          /* error code when !ok */
	uint64_t duration_ns;
};

struct jw;
/* Writes key: [{kind, id}] of the objects the current call created (or
 * destroyed), from the session journal. */
void audit__write_objects(struct jw *w, const struct owned *objs, const char *key, bool created);

/* Logs a call; created/destroyed objects come from the session journal. */
void audit__call(const struct audit_call *c);
/* Logs a session's start ("session_start", detail: its profile) or a
 * refused connection ("refused", detail: why). */
void audit__event(uint64_t session, const struct identity *who, const char *event, const char *detail);
/* Logs a session's end: why, what was released, which pins remain (objs
 * may be NULL: nothing held). */
void audit__shutdown(uint64_t session, const struct identity *who, const char *why, unsigned programs,
		     unsigned maps, unsigned links, const struct owned *objs);

#endif
