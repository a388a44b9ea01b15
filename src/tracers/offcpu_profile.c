/* offcpu_profile: where threads wait. Blocked time from sched_switch is
 * summed per (thread, kernel stack, user stack) in the kernel; at the end
 * the rows are merged per process, the stacks symbolized as profile_cpu's
 * are (stackprof.h), and returned most blocked time first, each with a
 * folded line weighted in microseconds for flame graph tools.
 *
 * Processes are announced by the kernel as they block for the first time,
 * and their memory maps read then, so one that exits before the end keeps
 * its user frames' names. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "offcpu_profile.h"
#include "offcpu_profile.skel.h"
#include "stackprof.h"
#include "tracer_run.h"

#define OFFCPU_MIN_BLOCK_US_DEFAULT 1

/* ---- rows: the kernel's sums (blocked ns) ------------------------------------------ */

static uint64_t add_blocked(struct stackprof_row *row, const void *value)
{
	struct offcpu_profile_val v;
	memcpy(&v, value, sizeof(v));
	row->weight += v.total_ns;
	row->count += v.count;
	if (v.max_ns > row->max)
		row->max = v.max_ns;
	row->states |= v.states;
	return v.total_ns;
}

/* ---- the report ---------------------------------------------------------------------- */

static void write_states(struct jw *w, uint32_t states)
{
	static const char *const names[] = { "S", "D", "I", "T", "t", "P", "other" };
	jw__key(w, "states");
	jw__arr(w);
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (states & (1u << i))
			jw__str(w, names[i]);
	jw__arr_end(w);
}
_Static_assert(OFFCPU_STATE_OTHER == 1u << 6, "names[] follows the OFFCPU_STATE_* bits");

static void write_counters(struct jw *w, const struct tracer *t, const struct stackprof *st, uint64_t total_ns)
{
	const struct offcpu_profile_bpf *s = t->skel;
	jw__kuint(w, "total_us", total_ns / 1000);
	jw__kuint(w, "switches", s->bss->switches);
	jw__kuint(w, "blocked", s->bss->blocked);
	jw__kuint(w, "blocked_filtered", s->bss->blocked_filtered);
	jw__kuint(w, "blocks", s->bss->blocks);
	jw__kuint(w, "blocks_short", s->bss->blocks_short);
	jw__kuint(w, "starts_dropped", s->bss->starts_dropped);
	jw__kuint(w, "keys_dropped", s->bss->keys_dropped);
	jw__kuint(w, "stacks_lost", s->bss->stack_collisions + s->bss->stacks_full);
	jw__kuint(w, "procs_mapped", st->pinned);
	jw__kuint(w, "procs_gone", st->pin_failed);
	jw__kuint(w, "notices_lost", s->bss->notices_lost);
	jw__kuint(w, "min_block_us", s->rodata->targ_min_block_ns / 1000);
}

/* Threads that blocked during the run and were still off the CPU when it
 * ended: their time is not in any row. */
static uint64_t still_blocked(const struct offcpu_profile_bpf *s)
{
	int fd = bpf_map__fd(s->maps.starts);
	uint64_t n = 0;
	__u32 key, next, *prev = NULL;
	for (; n < OFFCPU_PROFILE_TASKS_MAX && !bpf_map_get_next_key(fd, prev, &next); n++)
		key = next, prev = &key;
	return n;
}

static void write_stack(struct jw *w, struct stackprof *st, const struct stackprof_row *r, struct sbuf *b)
{
	jw__obj(w);
	jw__kuint(w, "total_us", r->weight / 1000);
	jw__kuint(w, "count", r->count);
	jw__kuint(w, "max_us", r->max / 1000);
	write_states(w, r->states);
	stackprof__write_row(w, st, r, r->weight / 1000, b);
	jw__obj_end(w);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct offcpu_profile_bpf *s = t->skel;
	struct stackprof *st = t->priv;
	size_t n;
	uint64_t total;
	int err;
	struct stackprof_row *rows = stackprof__rows(s->maps.sums, add_blocked, &n, &total, &err);
	struct sbuf b = { 0 };
	if (err)
		return tool__fail_errno(ctx, err, "reading the blocked times");
	st->fd = bpf_map__fd(s->maps.stacks);
	jw__key(w, "stacks");
	jw__arr(w);
	for (size_t i = 0; i < n && i < t->o.limit; i++)
		write_stack(w, st, &rows[i], &b);
	jw__arr_end(w);
	jw__kuint(w, "rows", n);
	jw__kbool(w, "truncated", n > t->o.limit);
	write_counters(w, t, st, total);
	jw__kuint(w, "blocked_at_end", still_blocked(s));
	err = b.oom ? -ENOMEM : 0;
	free(b.p);
	free(rows);
	return err ? tool__fail_errno(ctx, err, "symbolizing the blocked stacks") : 0;
}

/* ---- the call ---------------------------------------------------------------------------- */

static int on_notice(struct tracer *t, const void *data, size_t size)
{
	return stackprof__notice(t->priv, data, size);
}

static void free_stackprof(void *priv)
{
	if (priv)
		stackprof__fini(priv);
	free(priv);
}

static const struct tracer_ops ops = { .report = report, .free_priv = free_stackprof };

static int run_offcpu_profile(struct tool_ctx *ctx)
{
	uint64_t min_us = (uint64_t)tool__arg_int(ctx, "min_block_us", OFFCPU_MIN_BLOCK_US_DEFAULT);
	bool kstack = tool__arg_bool(ctx, "kernel_stack", true), ustack = tool__arg_bool(ctx, "user_stack", true);
	struct tracer *t = tracer__begin(ctx, "offcpu_profile", &ops);
	if (!t)
		return -1;
	struct stackprof *st = calloc(1, sizeof(*st));
	if (!st || stackprof__init(st)) {
		free_stackprof(st);
		errno = ENOMEM;
		return tracer__open_failed(ctx, t);
	}
	st->trim_tracing = true;
	t->priv = st;
	struct offcpu_profile_bpf *s = offcpu_profile_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	s->rodata->targ_min_block_ns = min_us * 1000;
	s->rodata->targ_kernel_stack = kstack;
	s->rodata->targ_user_stack = ustack;
	t->notices = s->maps.procs_ring;
	t->notice = on_notice;
	return tracer__start(ctx, t, s, s->skeleton, NULL);
}

const struct tool tool_offcpu_profile = {
	.name = "offcpu_profile",
	.schema = SCHEMA_offcpu_profile,
	.run = run_offcpu_profile,
};
