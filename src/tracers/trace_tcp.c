/* trace_tcp: TCP connects, accepts and state changes with addresses, ports
 * and the owning process, as events. */
#include <sys/socket.h>

#include "trace_tcp.h"
#include "trace_tcp.skel.h"
#include "tracer_run.h"

static int event(struct tracer *t, struct jw *w, const void *data, size_t size)
{
	static const char *const kinds[] = { "state", "connect", "accept" };
	const struct trace_tcp_event *e = data;
	if (size < sizeof(*e) || (e->family != AF_INET && e->family != AF_INET6) || e->kind > 2)
		return 1;
	int af = e->family;
	jw__obj(w);
	jw__kuint(w, "ts_ns", e->ts_ns);
	jw__kstr(w, "kind", kinds[e->kind]);
	jw__kuint(w, "pid", e->pid);
	jw__kuint(w, "tid", e->tid);
	tracer__kcomm(w, "comm", e->comm);
	tracer__kcgroup(t, w, e->cgroup_id, e->pid);
	jw__kstr(w, "family", af == AF_INET ? "ipv4" : "ipv6");
	tracer__kaddr(w, "saddr", af, e->saddr);
	jw__kuint(w, "sport", e->sport);
	tracer__kaddr(w, "daddr", af, e->daddr);
	jw__kuint(w, "dport", e->dport);
	tracer__ktcp_state(w, "oldstate", e->oldstate);
	tracer__ktcp_state(w, "newstate", e->newstate);
	jw__key(w, "sock");
	jw__strf(w, "%llx", (unsigned long long)e->skaddr);
	jw__obj_end(w);
	return 0;
}

static uint64_t ring_dropped(struct tracer *t)
{
	return ((struct trace_tcp_bpf *)t->skel)->bss->events_dropped;
}

static const struct tracer_ops ops = { .event = event, .ring_dropped = ring_dropped };

static int run_trace_tcp(struct tool_ctx *ctx)
{
	struct tracer *t = tracer__begin(ctx, "trace_tcp", &ops);
	if (!t)
		return -1;
	struct trace_tcp_bpf *s = trace_tcp_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	s->rodata->targ_port = (uint16_t)tool__arg_int(ctx, "port", 0);
	t->needs_tracefs = true;
	return tracer__start(ctx, t, s, s->skeleton, s->maps.events);
}

const struct tool tool_trace_tcp = {
	.name = "trace_tcp",
	.schema = SCHEMA_trace_tcp,
	.run = run_trace_tcp,
};
