/* /metrics: the counters (sys/metrics.h) and the server's gauges in the
 * Prometheus text exposition format (version 0.0.4). Every family is
 * written with all its label values, zeros included, so a series never
 * appears or vanishes between scrapes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mcp.h"
#include "web.h"

#include "../assert.h"
#include "../core/clock.h"
#include "../kern/owned.h"
#include "../mem/heap.h"
#include "../sys/metrics.h"

#define PROM_BYTES (512 * 1024)   /* the whole page; the families below need about 60 KiB */

struct page {
	char *buf;
	size_t len;
	bool full;
};

static void put(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct page *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p->buf + p->len, PROM_BYTES - p->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= PROM_BYTES - p->len)
		p->full = true;
	else
		p->len += (size_t)n;
}

static void family(struct page *p, const char *name, const char *type, const char *help)
{
	put(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void requests(struct page *p)
{
	family(p, "ebpf_mcp_requests_total", "counter", "JSON-RPC requests answered, by method and outcome.");
	for (unsigned i = 0; i < METRICS_METHODS; i++) {
		const char *m = methods__name(i);
		if (!m && i != METRICS_METHODS - 1)
			continue;
		for (unsigned e = 0; e < 2; e++)
			put(p, "ebpf_mcp_requests_total{method=\"%s\",outcome=\"%s\"} %llu\n", m ? m : "other",
			    e ? "error" : "ok", (unsigned long long)metrics__get(&metrics.requests[i][e]));
	}
}

static const char *tool_name(unsigned schema)
{
	for (unsigned i = 0; i < tool_count; i++)
		if (tool_table[i]->schema == schema)
			return tool_table[i]->name;
	return NULL;
}

static void tools(struct page *p)
{
	static const char *const outcome[MET_TOOL__COUNT] = { "ok", "error", "cancelled" };
	family(p, "ebpf_mcp_tool_calls_total", "counter", "Tool calls ended, by tool and outcome (error: isError "
	       "results; cancelled: by the client, its leaving or shutdown).");
	for (unsigned i = 0; i < METRICS_TOOLS; i++)
		for (unsigned o = 0; tool_name(i) && o < MET_TOOL__COUNT; o++)
			put(p, "ebpf_mcp_tool_calls_total{tool=\"%s\",outcome=\"%s\"} %llu\n", tool_name(i), outcome[o],
			    (unsigned long long)metrics__get(&metrics.tools[i][o]));
	family(p, "ebpf_mcp_tool_duration_seconds", "histogram", "Wall time of tool calls, by tool.");
	for (unsigned i = 0; i < METRICS_TOOLS; i++) {
		const char *t = tool_name(i);
		if (!t)
			continue;
		uint64_t cum = 0;
		for (unsigned b = 0; b <= METRICS_BUCKETS; b++) {
			cum += metrics__get(&metrics.tool_bucket[i][b]);
			if (b < METRICS_BUCKETS)
				put(p, "ebpf_mcp_tool_duration_seconds_bucket{tool=\"%s\",le=\"%g\"} %llu\n", t,
				    metrics_bucket_le[b], (unsigned long long)cum);
			else
				put(p, "ebpf_mcp_tool_duration_seconds_bucket{tool=\"%s\",le=\"+Inf\"} %llu\n", t,
				    (unsigned long long)cum);
		}
		put(p, "ebpf_mcp_tool_duration_seconds_sum{tool=\"%s\"} %.9g\n", t,
		    (double)metrics__get(&metrics.tool_ns[i]) / 1e9);
		put(p, "ebpf_mcp_tool_duration_seconds_count{tool=\"%s\"} %llu\n", t, (unsigned long long)cum);
	}
}

static void held(struct page *p, const struct server *srv)
{
	struct owned_totals t;
	struct heap_stats h;
	owned__totals(&t);
	heap__stats(&h);
	family(p, "ebpf_mcp_sessions", "gauge", "Sessions open (socket, stdio, HTTP legacy and per-connection).");
	put(p, "ebpf_mcp_sessions %u\n", srv->n_sessions);
	family(p, "ebpf_mcp_sessions_started_total", "counter", "Sessions started.");
	put(p, "ebpf_mcp_sessions_started_total %llu\n", (unsigned long long)metrics__get(&metrics.sessions_started));
	family(p, "ebpf_mcp_kernel_objects", "gauge", "Kernel objects the server holds for its clients, by kind.");
	put(p, "ebpf_mcp_kernel_objects{kind=\"program\"} %u\nebpf_mcp_kernel_objects{kind=\"map\"} %u\n"
	    "ebpf_mcp_kernel_objects{kind=\"link\"} %u\n", t.programs, t.maps, t.links);
	family(p, "ebpf_mcp_map_memory_bytes", "gauge", "Map memory held (as the map_memory_bytes caps count it).");
	put(p, "ebpf_mcp_map_memory_bytes %llu\n", (unsigned long long)t.map_bytes);
	family(p, "ebpf_mcp_heap_bytes", "gauge", "The capped heap: bytes in use, mapped, the peak, and the cap (heap_bytes).");
	put(p, "ebpf_mcp_heap_bytes{state=\"in_use\"} %llu\nebpf_mcp_heap_bytes{state=\"mapped\"} %llu\n"
	    "ebpf_mcp_heap_bytes{state=\"peak\"} %llu\nebpf_mcp_heap_bytes{state=\"cap\"} %llu\n",
	    (unsigned long long)h.in_use, (unsigned long long)h.mapped, (unsigned long long)h.peak,
	    (unsigned long long)h.cap);
	family(p, "ebpf_mcp_heap_failures_total", "counter", "Allocations the heap cap refused.");
	put(p, "ebpf_mcp_heap_failures_total %llu\n", (unsigned long long)h.failures);
}

static void streams(struct page *p)
{
	family(p, "ebpf_mcp_events_total", "counter", "Events of streams and tracers: delivered in results, or dropped "
	       "(rate cap, full event list, too big, lost in the kernel).");
	put(p, "ebpf_mcp_events_total{outcome=\"delivered\"} %llu\nebpf_mcp_events_total{outcome=\"dropped\"} %llu\n",
	    (unsigned long long)metrics__get(&metrics.events_delivered),
	    (unsigned long long)metrics__get(&metrics.events_dropped));
	family(p, "ebpf_mcp_notifications_dropped_total", "counter", "Notifications dropped because a client did not read.");
	put(p, "ebpf_mcp_notifications_dropped_total %llu\n", (unsigned long long)metrics__get(&metrics.notes_dropped));
	family(p, "ebpf_mcp_caps_hit_total", "counter", "Requests refused or cut by a named cap (--limit NAME).");
	for (unsigned i = 0; i < LIM__COUNT; i++)
		put(p, "ebpf_mcp_caps_hit_total{limit=\"%s\"} %llu\n", limit_defs[i].name,
		    (unsigned long long)metrics__get(&metrics.caps[i]));
}

static void http(struct page *p, const struct server *srv)
{
	family(p, "ebpf_mcp_http_responses_total", "counter", "HTTP responses (and SSE streams) started, by status code.");
	for (unsigned i = 0; i < METRICS_STATUSES - 1; i++)
		put(p, "ebpf_mcp_http_responses_total{code=\"%d\"} %llu\n", metrics_statuses[i],
		    (unsigned long long)metrics__get(&metrics.http[i]));
	put(p, "ebpf_mcp_http_responses_total{code=\"other\"} %llu\n",
	    (unsigned long long)metrics__get(&metrics.http[METRICS_STATUSES - 1]));
	family(p, "ebpf_mcp_http_auth_failures_total", "counter", "HTTP requests refused 401 (no or unknown bearer token).");
	put(p, "ebpf_mcp_http_auth_failures_total %llu\n", (unsigned long long)metrics__get(&metrics.auth_failures));
	family(p, "ebpf_mcp_http_connections", "gauge", "HTTP connections open.");
	put(p, "ebpf_mcp_http_connections %u\n", web__connections(srv));
	family(p, "ebpf_mcp_http_requests_in_flight", "gauge", "HTTP requests being answered or waiting their turn.");
	put(p, "ebpf_mcp_http_requests_in_flight %u\n", web__in_flight(srv));
}

size_t web__metrics(const struct server *srv, char **buf)
{
	struct page p = { .buf = malloc(PROM_BYTES) };
	*buf = p.buf;
	if (!p.buf)
		return 0;
	family(&p, "ebpf_mcp_info", "gauge", "The server's version (always 1).");
	put(&p, "ebpf_mcp_info{version=\"%s\"} 1\n", EBPF_MCP_VERSION);
	family(&p, "ebpf_mcp_uptime_seconds", "gauge", "Seconds since the server started.");
	put(&p, "ebpf_mcp_uptime_seconds %.3f\n", (double)(now_ns() - srv->started_ns) / 1e9);
	requests(&p);
	tools(&p);
	held(&p, srv);
	streams(&p);
	http(&p, srv);
	ASSERT(!p.full);   /* PROM_BYTES is several times the page */
	return p.len;
}
