/* tcp_retransmits: TCP segments and SYN-ACKs sent again, as events (both
 * addresses and ports, the socket's state and owner, the segments and
 * flags of what was resent) and counted in the kernel per (local address,
 * remote address, remote port). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../sys/sysfs.h"
#include "tcp_retransmits.h"
#include "tcp_retransmits.skel.h"
#include "tracer_run.h"

#define FORMAT_BYTES 4096   /* a tracepoint's format file (~1.5 KiB for this one) */

static void kflags(struct jw *w, uint8_t flags)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	jw__key(w, "flags");
	jw__arr(w);
	for (unsigned b = 0; b < 8; b++)
		if (flags & (1u << b))
			jw__str(w, names[b]);
	jw__arr_end(w);
}

static int event(struct tracer *t, struct jw *w, const void *data, size_t size)
{
	const struct tcp_retransmits_event *e = data;
	if (size < sizeof(*e) || (e->family != AF_INET && e->family != AF_INET6) || e->kind > 1)
		return 1;
	jw__obj(w);
	jw__kuint(w, "ts_ns", e->ts_ns);
	jw__kstr(w, "kind", e->kind == TCP_RETRANSMITS_KIND_SYNACK ? "synack" : "segment");
	jw__kuint(w, "pid", e->pid);
	jw__kuint(w, "tid", e->tid);
	tracer__kcomm(w, "comm", e->comm);
	tracer__kcgroup(t, w, e->cgroup_id, e->pid);
	jw__kstr(w, "family", e->family == AF_INET ? "ipv4" : "ipv6");
	tracer__kaddr(w, "saddr", e->family, e->saddr);
	jw__kuint(w, "sport", e->sport);
	tracer__kaddr(w, "daddr", e->family, e->daddr);
	jw__kuint(w, "dport", e->dport);
	tracer__ktcp_state(w, "state", e->state);
	jw__kuint(w, "segments", e->segments);
	kflags(w, e->flags);
	jw__kbool(w, "sent", !e->err);
	if (e->err)
		tracer__kerrno(w, e->err < 0 ? -e->err : e->err);
	jw__key(w, "sock");
	jw__strf(w, "%llx", (unsigned long long)e->skaddr);
	jw__obj_end(w);
	return 0;
}

static uint64_t ring_dropped(struct tracer *t)
{
	return ((struct tcp_retransmits_bpf *)t->skel)->bss->events_dropped;
}

static void write_counts(struct jw *w, const struct tcp_retransmits_count *c)
{
	jw__kuint(w, "retransmits", c->retransmits);
	jw__kuint(w, "segments", c->segments);
	jw__kuint(w, "synacks", c->synacks);
	jw__kuint(w, "failed", c->failed);
}

/* Whether this kernel's tcp_retransmit_skb reports attempts that sent
 * nothing (its record has `err`), read from the tracepoint's format. */
static bool failed_visible(void)
{
	char dir[256], path[320], fmt[FORMAT_BYTES];
	if (sysfs__tracefs_dir(dir, sizeof(dir)))
		return false;
	snprintf(path, sizeof(path), "%s/events/tcp/tcp_retransmit_skb/format", dir);
	int r = sysfs__read(path, fmt, sizeof(fmt), NULL);
	return (!r || r == -EFBIG) && strstr(fmt, "field:int err;");
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct tcp_retransmits_bpf *s = t->skel;
	size_t n, row, stride, voff = TRACER_ROW_VAL(sizeof(struct tcp_retransmits_key));
	char *rows = tracer__read_map(s->maps.flows, &n, &row, &stride);
	if (!rows && bpf_map__max_entries(s->maps.flows))
		return tool__fail_errno(ctx, -ENOMEM, "reading the retransmit counts");
	tracer__sort_rows(rows, n, row, voff + offsetof(struct tcp_retransmits_count, retransmits));
	jw__key(w, "flows");
	jw__arr(w);
	for (size_t i = 0; i < n && i < t->o.limit; i++) {
		const struct tcp_retransmits_key *k = (const void *)(rows + i * row);
		jw__obj(w);
		jw__kstr(w, "family", k->family == AF_INET ? "ipv4" : "ipv6");
		tracer__kaddr(w, "saddr", k->family, k->saddr);
		tracer__kaddr(w, "daddr", k->family, k->daddr);
		jw__kuint(w, "dport", k->dport);
		write_counts(w, (const void *)(rows + i * row + voff));
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__kuint(w, "flows_total", n);
	jw__kbool(w, "truncated", n > t->o.limit);
	jw__kuint(w, "flows_dropped", s->bss->flows_dropped);
	jw__key(w, "totals");
	jw__obj(w);
	write_counts(w, &s->bss->totals);
	jw__obj_end(w);
	jw__kbool(w, "failed_visible", failed_visible());
	free(rows);
	return 0;
}

static const struct tracer_ops ops = { .event = event, .report = report, .ring_dropped = ring_dropped };

static int run_tcp_retransmits(struct tool_ctx *ctx)
{
	struct tracer *t = tracer__begin(ctx, "tcp_retransmits", &ops);
	if (!t)
		return -1;
	struct tcp_retransmits_bpf *s = tcp_retransmits_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	s->rodata->targ_port = (uint16_t)tool__arg_int(ctx, "port", 0);
	t->needs_tracefs = true;
	return tracer__start(ctx, t, s, s->skeleton, s->maps.events);
}

const struct tool tool_tcp_retransmits = {
	.name = "tcp_retransmits",
	.schema = SCHEMA_tcp_retransmits,
	.run = run_tcp_retransmits,
};
