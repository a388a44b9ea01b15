/* What the server has done since it started, for /metrics (Prometheus).
 *
 * Fixed tables of relaxed atomic counters: any thread adds, the loop reads
 * when a scrape comes. Indexes are the method table's (src/mcp/methods.c)
 * and the tool schemas' (one per tool); anything past the tables counts in
 * a last "other" row, so a counter is never lost.
 */
#ifndef EBPF_MCP_METRICS_H
#define EBPF_MCP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "../limits.h"

#define METRICS_METHODS   32   /* rows for methods; the last one is "other" */
#define METRICS_TOOLS     64   /* rows for tools; the last one is "other" */
#define METRICS_BUCKETS   12   /* tool duration histogram buckets, +Inf aside */
#define METRICS_STATUSES  24   /* HTTP statuses counted by code; the last row is "other" */

/* Upper bounds of the duration buckets, in seconds (Prometheus `le`). */
extern const double metrics_bucket_le[METRICS_BUCKETS];

enum metrics_tool_outcome { MET_TOOL_OK, MET_TOOL_ERROR, MET_TOOL_CANCELLED, MET_TOOL__COUNT };

struct metrics {
	uint64_t requests[METRICS_METHODS][2];            /* [method][0 ok, 1 error] */
	uint64_t tools[METRICS_TOOLS][MET_TOOL__COUNT];
	uint64_t tool_bucket[METRICS_TOOLS][METRICS_BUCKETS + 1];   /* + the +Inf bucket */
	uint64_t tool_ns[METRICS_TOOLS];                  /* sum of durations */
	uint64_t caps[LIM__COUNT];
	uint64_t events_delivered, events_dropped;
	uint64_t http[METRICS_STATUSES];
	uint64_t notes_dropped;
	uint64_t auth_failures;
	uint64_t sessions_started;
};

extern struct metrics metrics;
/* The HTTP statuses with their own row (http[i] counts metrics_statuses[i];
 * the last row everything else). */
extern const int metrics_statuses[METRICS_STATUSES - 1];

void metrics__request(unsigned method, bool error);
/* A tool call ended: code NULL (a result), "CANCELLED"/"SHUTDOWN"/"EOF"
 * (stopped), or an error code. */
void metrics__tool(unsigned tool, const char *code, uint64_t ns);
void metrics__cap(enum limit_id lim);
/* A cap named by its limit name (protocol errors carry the name). */
void metrics__cap_named(const char *name);
void metrics__events(uint64_t delivered, uint64_t dropped);
void metrics__http(int status);
void metrics__add(uint64_t *counter, uint64_t n);
uint64_t metrics__get(const uint64_t *counter);

#endif
