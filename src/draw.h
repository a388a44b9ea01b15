/* Pictures of a tool's result for a person at a shell (`ebpf-mcp call TOOL
 * ... --format svg|table`), drawn from the structuredContent an MCP client
 * gets, in the shapes the MCP Apps of src/apps/ read:
 *   - stacks: `stacks` items with a weight (total_ns, value, samples or
 *     count, the first any item has) and a `folded` string, or `frames`
 *     (innermost first), or `user` + `kernel`; or `folded` lines "a;b;c N";
 *   - histograms: an object with log2 `buckets` {from_ns, to_ns, count}
 *     and count/avg_ns/max_ns/p50_ns/p90_ns/p99_ns, alone or in an array.
 */
#ifndef EBPF_MCP_DRAW_H
#define EBPF_MCP_DRAW_H

#include <stdbool.h>
#include <stdio.h>

#include "json/json.h"

#define DRAW_FRAMES_MAX  (1u << 17)   /* distinct frames one flame graph holds (more are counted, not drawn) */
#define DRAW_PATH_MAX    1024         /* frames of one stack (more are counted, not drawn) */
#define DRAW_NAME_BYTES  1024         /* one frame's name (a longer one is cut and marked "..") */
#define DRAW_SLOTS       64           /* log2 buckets of a 64-bit value */

/* A flame graph of the stacks in result object sc, as a standalone SVG
 * (tooltips as <title>, as flamegraph.pl draws them) titled title. 0, or
 * -1 after a message on stderr (no memory). */
int draw__svg(const struct jdoc *d, int sc, const char *title, FILE *f);

/* True when token v is a histogram: an object with a `buckets` array. */
bool draw__is_hist(const struct jdoc *d, int v);

/* Histogram h as text bars with its counts and percentiles, as bcc's
 * tools print them; label names it (fallback when h has no disk, op,
 * syscall, function, comm or pid of its own). */
void draw__hist(const struct jdoc *d, int h, const char *label, FILE *f);

#endif
