/* prog_stats: what each BPF program in the kernel costs over an interval
 * (bpftop's view): runs, run time, average time per run, and the share of
 * one CPU and of all CPUs it took.
 *
 * The kernel counts run_cnt/run_time_ns only while BPF run statistics are
 * on. BPF_ENABLE_STATS turns them on for as long as the fd it returns stays
 * open, as a reference of its own beside the kernel.bpf_stats_enabled
 * sysctl, which is never written (a host that had it at 1 keeps it at 1;
 * one at 0 stays at 0). The fd is closed when the job ends, is cancelled or
 * its client leaves, so the overhead of counting lasts only as long as the
 * call. Every program is read at the start and at the end; the differences
 * are the runs inside the interval. Programs loaded or unloaded meanwhile
 * are reported as such: an unloaded one's last counts are gone with it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../core/clock.h"
#include "../sys/sysfs.h"
#include "tool.h"

#define PROG_STATS_IDS_MAX 1024            /* program_ids (its inputSchema's maxItems) */
#define PROG_STATS_DURATION_DEFAULT_MS 1000
#define PROG_STATS_LIMIT_DEFAULT 50
#define STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

/* One program's counters at one moment. */
struct prog_sample {
	uint32_t id, type;
	uint64_t load_time;            /* tells an id given to a new program apart */
	uint64_t run_cnt, run_time_ns, recursion_misses;
	char name[BPF_OBJ_NAME_LEN];
	uint8_t tag[BPF_TAG_SIZE];
};

/* Every program (or the ones asked for) at one moment, in ascending id. */
struct sample_set {
	struct prog_sample *v;
	size_t n, cap;
	uint64_t at_ns;
};

enum row_status { ROW_PRESENT, ROW_APPEARED, ROW_VANISHED };

struct row {
	const struct prog_sample *s;   /* the end sample, or the start one of a vanished program */
	enum row_status status;
	uint64_t runs, ns, misses;     /* within the interval */
};

struct prog_stats {
	int stats_fd;
	bool was_enabled;              /* kernel.bpf_stats_enabled was 1 at the start */
	uint64_t limit;
	uint32_t ids[PROG_STATS_IDS_MAX];
	unsigned n_ids;                /* 0: every program */
	struct sample_set start, end;
};

/* ---- sampling ------------------------------------------------------------ */

static int set_push(struct sample_set *s, const struct prog_sample *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct prog_sample *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v, s->cap = cap;
	}
	s->v[s->n++] = *p;
	return 0;
}

/* 1 with *p filled, 0 when the program is gone, -errno. */
static int sample_one(uint32_t id, struct prog_sample *p)
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int r = bpf_prog_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (r)
		return r == -ENOENT ? 0 : r;
	*p = (struct prog_sample){ .id = info.id, .type = info.type, .load_time = info.load_time,
				   .run_cnt = info.run_cnt, .run_time_ns = info.run_time_ns,
				   .recursion_misses = info.recursion_misses };
	memcpy(p->name, info.name, sizeof(p->name));
	memcpy(p->tag, info.tag, sizeof(p->tag));
	return 1;
}

/* The next id to read: the kernel's walk, or the next one asked for. */
static int next_id(const struct prog_stats *st, unsigned *k, uint32_t cur, uint32_t *next)
{
	if (st->n_ids) {
		if (*k >= st->n_ids)
			return -ENOENT;
		*next = st->ids[(*k)++];
		return 0;
	}
	return bpf_prog_get_next_id(cur, next) ? -errno : 0;
}

/* Reads every program into s. 0, or -1 after failing the call. */
static int sample_all(struct tool_ctx *ctx, const struct prog_stats *st, struct sample_set *s)
{
	uint32_t id = 0;
	unsigned k = 0;
	s->n = 0;
	s->at_ns = now_ns();
	for (uint64_t scanned = 0;;) {
		int r = next_id(st, &k, id, &id);
		if (r == -ENOENT)
			return 0;
		if (r == -EPERM)
			return tool__need_cap(ctx, CAP_SYS_ADMIN, "listing programs by id");
		if (r)
			return tool__fail_errno(ctx, r, "listing programs");
		if (++scanned > limits[LIM_SCAN_ITEMS])
			return tool__fail_limit(ctx, LIM_SCAN_ITEMS, "more than scan_items (%llu) programs",
						(unsigned long long)limits[LIM_SCAN_ITEMS]);
		struct prog_sample p;
		r = sample_one(id, &p);
		if (r < 0)
			return tool__fail_errno(ctx, r, "reading program %u", id);
		if (r && (r = set_push(s, &p)))
			return tool__fail_errno(ctx, r, "program samples");
	}
}

/* ---- the interval ---------------------------------------------------------- */

static bool same_program(const struct prog_sample *a, const struct prog_sample *b)
{
	return a->id == b->id && a->load_time == b->load_time;
}

static struct row diff(const struct prog_sample *a, const struct prog_sample *b)
{
	/* a counter only grows while the program lives: a smaller end is not possible,
	 * but a wrong row must not read as 2^64 runs */
	return (struct row){ .s = b, .status = ROW_PRESENT,
			     .runs = b->run_cnt >= a->run_cnt ? b->run_cnt - a->run_cnt : 0,
			     .ns = b->run_time_ns >= a->run_time_ns ? b->run_time_ns - a->run_time_ns : 0,
			     .misses = b->recursion_misses >= a->recursion_misses
					       ? b->recursion_misses - a->recursion_misses : 0 };
}

/* Both sets are in ascending id: one merge pass. A program loaded during
 * the interval ran only inside it, so its counts are all it has. */
static size_t merge(const struct sample_set *a, const struct sample_set *b, struct row *out)
{
	size_t i = 0, j = 0, n = 0;
	while (i < a->n || j < b->n) {
		const struct prog_sample *x = i < a->n ? &a->v[i] : NULL, *y = j < b->n ? &b->v[j] : NULL;
		if (x && y && same_program(x, y)) {
			out[n++] = diff(x, y);
			i++, j++;
		} else if (x && (!y || x->id <= y->id)) {
			out[n++] = (struct row){ .s = x, .status = ROW_VANISHED };
			i++;
		} else {
			out[n++] = (struct row){ .s = y, .status = ROW_APPEARED, .runs = y->run_cnt,
						 .ns = y->run_time_ns, .misses = y->recursion_misses };
			j++;
		}
	}
	return n;
}

/* Most run time first, then most runs, then by id; vanished programs (no
 * counts to compare) last. */
static int by_cost(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	if ((a->status == ROW_VANISHED) != (b->status == ROW_VANISHED))
		return a->status == ROW_VANISHED ? 1 : -1;
	if (a->ns != b->ns)
		return a->ns < b->ns ? 1 : -1;
	if (a->runs != b->runs)
		return a->runs < b->runs ? 1 : -1;
	return a->s->id < b->s->id ? -1 : a->s->id > b->s->id;
}

/* ---- the report ------------------------------------------------------------ */

/* A share as a percentage with 4 decimals (a double in %.17g reads badly). */
static void kpercent(struct jw *w, const char *key, uint64_t part, uint64_t whole)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%.4f", whole ? 100.0 * (double)part / (double)whole : 0.0);
	jw__key(w, key);
	jw__raw(w, b, (size_t)n);
}

static void write_row(struct jw *w, const struct row *r, uint64_t interval_ns, unsigned cpus)
{
	static const char *const status[] = { "present", "appeared", "vanished" };
	const struct prog_sample *s = r->s;
	const char *type = libbpf_bpf_prog_type_str((enum bpf_prog_type)s->type);
	jw__obj(w);
	jw__kuint(w, "id", s->id);
	jw__key(w, "name");
	jw__strn(w, s->name, strnlen(s->name, sizeof(s->name)));
	jw__key(w, "type");
	if (type)
		jw__str(w, type);
	else
		jw__strf(w, "type_%u", s->type);   /* newer than libbpf */
	jw__key(w, "tag");
	jw__strf(w, "%02x%02x%02x%02x%02x%02x%02x%02x", s->tag[0], s->tag[1], s->tag[2], s->tag[3], s->tag[4],
		 s->tag[5], s->tag[6], s->tag[7]);
	jw__kstr(w, "status", status[r->status]);
	if (r->status != ROW_VANISHED) {
		jw__kuint(w, "run_cnt", r->runs);
		jw__kuint(w, "run_time_ns", r->ns);
		jw__kuint(w, "avg_ns", r->runs ? r->ns / r->runs : 0);
		kpercent(w, "cpu_percent", r->ns, interval_ns);
		kpercent(w, "cpu_percent_all", r->ns, interval_ns * cpus);
		jw__kuint(w, "recursion_misses", r->misses);
	}
	jw__obj_end(w);
}

/* CPUs online now (/sys/devices/system/cpu/online, "0-3,8-11"); the
 * possible CPUs when sysfs does not tell. */
static unsigned cpus_online(void)
{
	char buf[256];
	unsigned n = 0;
	if (!sysfs__read("/sys/devices/system/cpu/online", buf, sizeof(buf), NULL)) {
		for (char *p = buf; *p >= '0' && *p <= '9';) {
			unsigned long lo = strtoul(p, &p, 10), hi = lo;
			if (*p == '-')
				hi = strtoul(p + 1, &p, 10);
			n += hi >= lo ? (unsigned)(hi - lo + 1) : 0;
			if (*p == ',')
				p++;
		}
	}
	int possible = libbpf_num_possible_cpus();
	return n ? n : possible > 0 ? (unsigned)possible : 1;
}

static void write_totals(struct jw *w, const struct row *rows, size_t n, uint64_t interval_ns, unsigned cpus)
{
	uint64_t runs = 0, ns = 0, appeared = 0, vanished = 0;
	for (size_t i = 0; i < n; i++) {
		runs += rows[i].runs, ns += rows[i].ns;
		appeared += rows[i].status == ROW_APPEARED;
		vanished += rows[i].status == ROW_VANISHED;
	}
	jw__kuint(w, "appeared", appeared);
	jw__kuint(w, "vanished", vanished);
	jw__key(w, "totals");
	jw__obj(w);
	jw__kuint(w, "run_cnt", runs);
	jw__kuint(w, "run_time_ns", ns);
	kpercent(w, "cpu_percent", ns, interval_ns);
	kpercent(w, "cpu_percent_all", ns, interval_ns * cpus);
	jw__obj_end(w);
}

static int finish(void *p, struct tool_ctx *ctx, enum job_stop why)
{
	struct prog_stats *st = p;
	if (sample_all(ctx, st, &st->end))
		return -1;
	struct row *rows = malloc((st->start.n + st->end.n + 1) * sizeof(*rows));
	if (!rows)
		return tool__fail_errno(ctx, -ENOMEM, "program rows");
	size_t n = merge(&st->start, &st->end, rows);
	qsort(rows, n, sizeof(*rows), by_cost);
	uint64_t interval_ns = st->end.at_ns - st->start.at_ns;
	unsigned cpus = cpus_online();
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__key(w, "programs");
	jw__arr(w);
	for (size_t i = 0; i < n && i < st->limit; i++)
		write_row(w, &rows[i], interval_ns, cpus);
	jw__arr_end(w);
	jw__kuint(w, "total", n);
	jw__kuint(w, "returned", n < st->limit ? n : st->limit);
	jw__kuint(w, "limit", st->limit);
	jw__kbool(w, "truncated", n > st->limit);
	write_totals(w, rows, n, interval_ns, cpus);
	jw__kuint(w, "interval_ns", interval_ns);
	jw__kuint(w, "duration_ms", interval_ns / 1000000);
	jw__kuint(w, "cpus", cpus);
	jw__kbool(w, "stats_were_enabled", st->was_enabled);
	jw__kstr(w, "stopped_by", why == JOB_STOP_DEADLINE ? "deadline" : "duration");
	jw__obj_end(w);
	free(rows);
	return 0;
}

static void release(void *p)
{
	struct prog_stats *st = p;
	if (st->stats_fd >= 0)
		close(st->stats_fd);   /* run statistics stop here unless someone else holds them on */
	free(st->start.v);
	free(st->end.v);
	free(st);
}

static int tick(void *p, struct tool_ctx *ctx)
{
	struct prog_stats *st = p;
	char msg[96];
	snprintf(msg, sizeof(msg), "prog_stats: counting the runs of %zu programs", st->start.n);
	tool__progress(ctx, (now_ns() - st->start.at_ns) / 1000000 + 1, 0, msg);
	return 0;
}

static const struct job_ops prog_stats_job = { .tick = tick, .finish = finish, .release = release };

/* ---- starting ---------------------------------------------------------------- */

static int by_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* program_ids, sorted and without repeats (the merge walks ascending ids). */
static void read_ids(struct tool_ctx *ctx, struct prog_stats *st)
{
	int arr = tool__arg(ctx, "program_ids");
	if (arr < 0)
		return;
	int n = ctx->doc->t[arr].size;
	for (int i = 0; i < n && st->n_ids < PROG_STATS_IDS_MAX; i++) {
		int64_t v;
		if (!jdoc__int(ctx->doc, jdoc__elem(ctx->doc, arr, i), &v))
			st->ids[st->n_ids++] = (uint32_t)v;
	}
	qsort(st->ids, st->n_ids, sizeof(st->ids[0]), by_u32);
	unsigned m = 0;
	for (unsigned i = 0; i < st->n_ids; i++)
		if (!m || st->ids[m - 1] != st->ids[i])
			st->ids[m++] = st->ids[i];
	st->n_ids = m;
}

/* An id asked for that is not loaded now: said before anything runs. */
static int check_ids(struct tool_ctx *ctx, const struct prog_stats *st)
{
	for (unsigned i = 0, j = 0; i < st->n_ids; i++) {
		while (j < st->start.n && st->start.v[j].id < st->ids[i])
			j++;
		if (j < st->start.n && st->start.v[j].id == st->ids[i])
			continue;
		tool__fail(ctx, ERR_NO_SUCH_PROGRAM, "no BPF program with id %u is loaded (inspect_state lists them)",
			   st->ids[i]);
		jw__kstr(&ctx->err->ctx, "pointer", "/program_ids");
		jw__kuint(&ctx->err->ctx, "id", st->ids[i]);
		return -1;
	}
	return 0;
}

static int enable_stats(struct tool_ctx *ctx, struct prog_stats *st)
{
	int64_t v = 0;
	st->was_enabled = !sysfs__read_int(STATS_SYSCTL, &v) && v;
	st->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (st->stats_fd >= 0)
		return 0;
	int err = -errno;
	if (err == -EPERM)
		return tool__need_cap(ctx, CAP_SYS_ADMIN, "turning BPF run statistics on (BPF_ENABLE_STATS)");
	return tool__fail_errno(ctx, err, "turning BPF run statistics on (BPF_ENABLE_STATS, Linux 5.8+)");
}

static int run_prog_stats(struct tool_ctx *ctx)
{
	uint64_t duration_ms;
	if (tool__need_cap(ctx, CAP_SYS_ADMIN, "prog_stats (BPF_ENABLE_STATS and the program id walk)") ||
	    tool__duration_ms(ctx, PROG_STATS_DURATION_DEFAULT_MS, &duration_ms))
		return -1;
	uint64_t limit = (uint64_t)tool__arg_int(ctx, "limit", PROG_STATS_LIMIT_DEFAULT);
	if (limit > limits[LIM_LIST_ITEMS])
		return tool__fail_limit(ctx, LIM_LIST_ITEMS, "limit %llu is over the list_items cap",
					(unsigned long long)limit);
	struct prog_stats *st = calloc(1, sizeof(*st));
	if (!st)
		return tool__fail_errno(ctx, -ENOMEM, "prog_stats state");
	st->stats_fd = -1;
	st->limit = limit;
	read_ids(ctx, st);
	/* on first: runs between the first reading and the switch would be missed */
	if (enable_stats(ctx, st) || sample_all(ctx, st, &st->start) || check_ids(ctx, st)) {
		release(st);
		return -1;
	}
	return tool__defer(ctx, &prog_stats_job, st, NULL, 0, duration_ms);
}

const struct tool tool_prog_stats = {
	.name = "prog_stats",
	.schema = SCHEMA_prog_stats,
	.run = run_prog_stats,
};
