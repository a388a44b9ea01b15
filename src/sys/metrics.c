/* Counters for /metrics: see metrics.h. */
#include "metrics.h"

#include <string.h>

struct metrics metrics;

const double metrics_bucket_le[METRICS_BUCKETS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
						     0.05,   0.1,   0.25,   1,     5,    30 };

const int metrics_statuses[METRICS_STATUSES - 1] = { 200, 202, 400, 401, 403, 404, 405, 406, 408, 409, 411, 413,
						      414, 415, 417, 431, 500, 501, 503, 505, 100, 204, 421 };

void metrics__add(uint64_t *counter, uint64_t n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

uint64_t metrics__get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void metrics__request(unsigned method, bool error)
{
	if (method >= METRICS_METHODS)
		method = METRICS_METHODS - 1;
	metrics__add(&metrics.requests[method][error], 1);
}

void metrics__tool(unsigned tool, const char *code, uint64_t ns)
{
	if (tool >= METRICS_TOOLS)
		tool = METRICS_TOOLS - 1;
	enum metrics_tool_outcome o = !code ? MET_TOOL_OK
				      : !strcmp(code, "CANCELLED") || !strcmp(code, "SHUTDOWN") || !strcmp(code, "EOF")
					      ? MET_TOOL_CANCELLED
					      : MET_TOOL_ERROR;
	metrics__add(&metrics.tools[tool][o], 1);
	double s = (double)ns / 1e9;
	unsigned b = 0;
	while (b < METRICS_BUCKETS && s > metrics_bucket_le[b])
		b++;
	metrics__add(&metrics.tool_bucket[tool][b], 1);   /* rendered cumulative */
	metrics__add(&metrics.tool_ns[tool], ns);
}

void metrics__cap(enum limit_id lim)
{
	if ((unsigned)lim < LIM__COUNT)
		metrics__add(&metrics.caps[lim], 1);
}

void metrics__cap_named(const char *name)
{
	for (unsigned i = 0; name && i < LIM__COUNT; i++)
		if (!strcmp(limit_defs[i].name, name))
			return metrics__cap((enum limit_id)i);
}

void metrics__events(uint64_t delivered, uint64_t dropped)
{
	metrics__add(&metrics.events_delivered, delivered);
	metrics__add(&metrics.events_dropped, dropped);
}

void metrics__http(int status)
{
	unsigned i = 0;
	while (i < METRICS_STATUSES - 1 && metrics_statuses[i] != status)
		i++;
	metrics__add(&metrics.http[i], 1);
}
