/* Traces that outlive their call: trace_start, trace_read, trace_stop.
 *
 * trace_start runs a tracer whose tool__defer() makes a background trace
 * here instead of a job: the call answers at once with the trace's handle,
 * and the trace runs until trace_stop, its duration, or the end of its
 * owner: the session that started it or, for a modern-era (stateless)
 * call, the caller's identity, whose lease ends it like everything else
 * the identity holds. A trace that reached its duration keeps its final
 * report (at most response_bytes) until a trace_read or trace_stop takes
 * it, or its owner ends.
 *
 * Threads. The loop watches a trace's descriptors and clock as job.c does a
 * job's (edge-triggered, one step at a time on a worker, polled once more
 * after each step) and never waits on a trace's lock. The tracer's state is
 * touched only under that lock: by the steps, and by the trace_read and
 * trace_stop calls that find the trace by handle. The handles are one
 * server-wide list under bg_lock, which is held only to look up, add,
 * remove, count and list. References keep a trace alive: the list's (while
 * its handle answers), the loop's (while it watches), and a call's (while
 * it uses one); the last one hands what is left of the tracer to a worker
 * to release. The tracer's descriptors are closed only once the loop has
 * stopped watching them, so a descriptor number is never reused under a
 * stale watch.
 *
 * Its end. At the duration the loop stops watching, and a worker writes the
 * final report and releases the kernel objects (a detach waits for RCU
 * grace periods: never on the loop). trace_stop writes the final report in
 * its own call; the loop then stops watching when the call comes back, and
 * the release follows. The end of the owner or of the server writes no
 * report.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcp.h"

#include "../assert.h"
#include "../core/clock.h"

/* A final report that failed: the error its read answers with. */
struct bg_err {
	enum err_code id;
	char msg[LIMIT_ERROR_MSG_BYTES];
	size_t ctx_len;
	char ctx[];                     /* members of its context object */
};

struct bgtrace {
	/* fixed when it is made */
	struct server *srv;
	char handle[TOOL_TRACE_HANDLE_BYTES];
	uint64_t owner_id;              /* the session's id, or the identity's registry id */
	bool identity;
	struct tool_env env;            /* the starting call's: its steps run with it */
	const struct tool *tool;        /* the tracer */
	const struct job_ops *ops;
	int fds[JOB_MAX_FDS];
	unsigned n_fds;
	uint64_t t0_ns, started_real_ns, end_ns, duration_ms;
	/* under bg_lock */
	struct bgtrace *next;
	unsigned refs;
	bool listed;                    /* its handle answers */
	/* under lock */
	pthread_mutex_t lock;
	void *st;                       /* the tracer's, until released */
	bool stopped;                   /* ended: its final report is written, or it failed */
	char *final;                    /* the final report's members, until taken */
	size_t final_len;
	struct bg_err *final_err;
	/* any thread (atomic) */
	uint64_t events;                /* ops->events() after each step */
	uint64_t ended_ns;              /* when it stopped, 0 while it runs */
	bool cancelled;                 /* over: steps do nothing */
	/* loop thread */
	struct loop_timer timer;
	struct bio_task task;
	bool installed, watching, loop_ref, busy, more, doomed;
	bool end_step;                  /* the step on a worker is the end */
	int step_fd;
	int watch_err;                  /* the descriptors could not be watched */
	bool step_failed;               /* written by a step's run, read by its done */
	struct bgtrace *dead_next;      /* end_owner's and stop_all's collection */
};

/* One server per process: the list's lock need not live in it. */
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- references ------------------------------------------------------------------ */

static void destroy(struct bgtrace *b)
{
	ASSERT(!b->listed && !b->watching);
	if (b->st)
		job__release_later(b->srv, b->ops, b->st);   /* any thread: a worker releases it */
	free(b->final);
	free(b->final_err);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static void put(struct bgtrace *b)
{
	pthread_mutex_lock(&bg_lock);
	ASSERT(b->refs > 0);
	bool last = --b->refs == 0;
	pthread_mutex_unlock(&bg_lock);
	if (last)
		destroy(b);
}

/* Takes b off the list (under bg_lock); true when it was on it (the
 * caller then holds the list's reference). */
static bool unlist_locked(struct bgtrace *b)
{
	if (!b->listed)
		return false;
	struct bgtrace **at = &b->srv->bgtraces;
	while (*at != b)
		at = &(*at)->next;
	*at = b->next;
	b->listed = false;
	return true;
}

static void unlist(struct bgtrace *b)
{
	pthread_mutex_lock(&bg_lock);
	bool was = unlist_locked(b);
	pthread_mutex_unlock(&bg_lock);
	if (was)
		put(b);
}

static bool over(const struct bgtrace *b)
{
	return __atomic_load_n(&b->cancelled, __ATOMIC_ACQUIRE);
}

/* ---- steps (workers) ------------------------------------------------------------- */

static int no_defer(struct tool_ctx *ctx, const struct job_ops *ops, void *st, const int *fds, unsigned n_fds,
		    uint64_t duration_ms)
{
	(void)fds, (void)n_fds, (void)duration_ms;
	ops->release(st);
	return tool__fail(ctx, ERR_INTERNAL, "a background trace's step cannot start another job");
}

static void no_progress(struct tool_ctx *ctx, uint64_t progress, uint64_t total, const char *message)
{
	(void)ctx, (void)progress, (void)total, (void)message;   /* no call to report to */
}

static int no_read(struct tool_ctx *ctx, const char *handle, bool stop)
{
	(void)handle, (void)stop;
	return tool__fail(ctx, ERR_INTERNAL, "a background trace's step cannot read traces");
}

static void no_list(struct tool_ctx *ctx, struct jw *w)
{
	(void)ctx;
	jw__arr(w);
	jw__arr_end(w);
}

static int no_room(struct tool_ctx *ctx)
{
	return tool__fail(ctx, ERR_INTERNAL, "a background trace's step cannot start traces");
}

static const struct tool_host step_host = { .defer = no_defer, .progress = no_progress, .trace_read = no_read,
					    .trace_list = no_list, .trace_room = no_room };

/* A step's context on worker w: the trace's environment, no call. */
static void step_ctx(struct bgtrace *b, struct worker *w, struct tool_ctx *ctx, struct jw *out)
{
	*ctx = (struct tool_ctx){ .env = &b->env, .host = &step_host, .out = out, .scratch = &w->scratch,
				  .err = call__err(w), .args = -1, .is_job = true, .tool = b->tool,
				  .deadline_ns = UINT64_MAX };
	tool__ctx_begin(ctx);
}

static void count_events(struct bgtrace *b)
{
	if (b->st && b->ops->events)
		__atomic_store_n(&b->events, b->ops->events(b->st), __ATOMIC_RELAXED);
}

/* b's ending (under its lock): no more steps, reads answer with the end. */
static void mark_stopped(struct bgtrace *b)
{
	b->stopped = true;
	__atomic_store_n(&b->ended_ns, now_ns(), __ATOMIC_RELAXED);
}

static void keep_error(struct bgtrace *b, const struct tool_err *e)
{
	size_t n = e->ctx.overflow ? 0 : e->ctx.len;
	struct bg_err *f = malloc(sizeof(*f) + n);
	if (f) {
		f->id = e->id;
		snprintf(f->msg, sizeof(f->msg), "%s", e->msg);
		f->ctx_len = n;
		memcpy(f->ctx, e->ctx.buf, n);
	}
	b->final_err = f;   /* NULL: the read says the report was lost (no memory) */
}

/* The final report (members, in out) kept for the read that takes it. */
static void keep_final(struct bgtrace *b, struct tool_ctx *ctx, struct jw *out, int rc)
{
	if (!rc && out->overflow)
		rc = tool__fail_limit(ctx, LIM_RESPONSE_BYTES, "the final report of %s (over %zu bytes) does not "
				      "fit response_bytes; read it more often or ask for fewer rows (limit, "
				      "max_events)", b->handle, out->len);
	if (!rc && (b->final = malloc(out->len ? out->len : 1))) {
		memcpy(b->final, out->buf, out->len);
		b->final_len = out->len;
	} else if (!rc) {
		rc = tool__fail_errno(ctx, -ENOMEM, "keeping the final report of %s", b->handle);
	}
	if (rc)
		keep_error(b, ctx->err);
	mark_stopped(b);
}

/* The duration ran out (or a step failed): the final report, then the
 * release. The loop no longer watches the descriptors. */
static void end_run(struct bgtrace *b, struct worker *w)
{
	if (!b->stopped && !over(b)) {   /* over: nobody will read it */
		struct jw out;
		struct tool_ctx ctx;
		jw__init_members(&out, w->sc, w->cap - 1);
		step_ctx(b, w, &ctx, &out);
		if (b->watch_err) {
			tool__fail(&ctx, ERR_INTERNAL, "cannot watch the trace's events: %s", strerror(-b->watch_err));
			keep_final(b, &ctx, &out, -1);
		} else {
			keep_final(b, &ctx, &out, b->ops->peek(b->st, &ctx, true, JOB_STOP_DURATION));
		}
	}
	count_events(b);
	b->ops->release(b->st);
	b->st = NULL;
}

static void step_run(struct bio_task *t, void *wd)
{
	struct bgtrace *b = (struct bgtrace *)((char *)t - offsetof(struct bgtrace, task));
	struct worker *w = wd;
	pthread_mutex_lock(&b->lock);
	if (b->st && b->end_step) {
		end_run(b, w);
	} else if (b->st && !b->stopped && !over(b)) {
		struct jw out;
		struct tool_ctx ctx;
		jw__init(&out, w->sc, w->cap - 1);
		step_ctx(b, w, &ctx, &out);
		/* 1 (done) does not end a background trace: only its duration and
		 * trace_stop do */
		if (b->ops->ready(b->st, b->step_fd, &ctx) < 0) {
			if (!ctx.err->set)
				tool__fail(&ctx, ERR_INTERNAL, "%s failed without a reason", b->tool->name);
			keep_error(b, ctx.err);
			mark_stopped(b);
			b->step_failed = true;
		}
		count_events(b);
	}
	pthread_mutex_unlock(&b->lock);
	arena__reset(&w->scratch);
}

/* ---- the loop's side ----------------------------------------------------------- */

static void step_done(struct bio_task *t);
static bool due(struct bgtrace *b);

static void submit(struct bgtrace *b, int fd, bool end)
{
	ASSERT(!b->busy);
	b->busy = true;
	if (fd >= 0)
		b->more = false;
	b->step_fd = fd, b->end_step = end;
	loop__timer_stop(&b->srv->loop, &b->timer);
	b->task = (struct bio_task){ .run = step_run, .done = step_done };
	bio__submit(&b->task);
}

/* Stops watching b (idempotent). */
static void unhook(struct bgtrace *b)
{
	struct loop *l = &b->srv->loop;
	if (b->watching)
		for (unsigned i = 0; i < b->n_fds; i++)
			loop__unwatch(l, b->fds[i]);
	b->watching = false;
	loop__timer_stop(l, &b->timer);
}

static void drop_loop(struct bgtrace *b)
{
	if (!b->loop_ref)
		return;
	b->loop_ref = false;
	put(b);
}

static void end_now(struct bgtrace *b)
{
	unhook(b);
	submit(b, -1, true);
}

static void on_timer(void *data)
{
	struct bgtrace *b = data;
	if (!b->busy)
		due(b);
}

static bool due(struct bgtrace *b)
{
	if (now_ns() < b->end_ns) {
		loop__timer_at(&b->srv->loop, &b->timer, b->end_ns, on_timer, b);
		return false;
	}
	end_now(b);
	return true;
}

static void on_fd(void *data, int fd, uint32_t events)
{
	(void)events;
	struct bgtrace *b = data;
	if (b->busy)
		b->more = true;
	else
		submit(b, fd, false);
}

/* A descriptor with data after a step, or -1 (job.c: an edge that came
 * during the step is not lost). */
static int readable(const struct bgtrace *b)
{
	struct pollfd p[JOB_MAX_FDS];
	for (unsigned i = 0; i < b->n_fds; i++)
		p[i] = (struct pollfd){ .fd = b->fds[i], .events = POLLIN };
	if (!b->n_fds || poll(p, b->n_fds, 0) <= 0)
		return -1;
	for (unsigned i = 0; i < b->n_fds; i++)
		if (p[i].revents)
			return b->fds[i];
	return -1;
}

static void step_done(struct bio_task *t)
{
	struct bgtrace *b = (struct bgtrace *)((char *)t - offsetof(struct bgtrace, task));
	int fd;
	b->busy = false;
	if (b->end_step) {
		drop_loop(b);   /* ended: nothing left to watch; the list keeps the report */
	} else if (b->doomed || over(b)) {
		unhook(b);
		drop_loop(b);
	} else if (b->step_failed) {
		end_now(b);     /* releases the tracer; the read answers with the error */
	} else if (!due(b) && ((fd = readable(b)) >= 0 || (b->more && (fd = b->fds[0]) >= 0))) {
		submit(b, fd, false);
	}
}

void bgtrace__install(struct bgtrace *b)
{
	ASSERT(!b->installed);
	b->installed = true;
	b->loop_ref = true;   /* the starting call's reference becomes the loop's */
	if (over(b)) {
		drop_loop(b);
		return;
	}
	struct loop *l = &b->srv->loop;
	for (unsigned i = 0; i < b->n_fds && !b->watch_err; i++) {
		b->watch_err = loop__watch(l, b->fds[i], EPOLLIN | EPOLLET, on_fd, b);
		if (b->watch_err)
			while (i--)
				loop__unwatch(l, b->fds[i]);
	}
	if (b->watch_err) {
		session__log(NULL, LOG_ERROR, "trace %s: cannot watch its events: %s", b->handle, strerror(-b->watch_err));
		end_now(b);
		return;
	}
	b->watching = true;
	if (!due(b) && readable(b) >= 0)
		submit(b, b->fds[0], false);   /* what arrived before the watch began */
}

/* Ends b on the loop: no step starts any more; the loop lets go of it. */
static void doom(struct bgtrace *b)
{
	__atomic_store_n(&b->cancelled, true, __ATOMIC_RELEASE);
	if (!b->installed || !b->loop_ref)
		return;   /* install lets go of it, or it has already ended */
	if (b->busy && !b->end_step) {
		b->doomed = true;   /* its step comes back to a trace that is over */
		return;
	}
	if (!b->busy) {
		unhook(b);
		drop_loop(b);
	}
}

void bgtrace__discard(struct bgtrace *b)
{
	__atomic_store_n(&b->cancelled, true, __ATOMIC_RELEASE);
	unlist(b);
	put(b);   /* the starting call's */
}

void bgtrace__call_done(struct bgtrace *b)
{
	doom(b);
	put(b);   /* the call's */
}

/* Ends every listed trace (all) or those of one owner (loop thread). */
static void end_where(struct server *srv, bool all, uint64_t owner_id, const char *why)
{
	struct bgtrace *dead = NULL;
	pthread_mutex_lock(&bg_lock);
	for (struct bgtrace *b = srv->bgtraces, *next; b; b = next) {
		next = b->next;
		if ((all || b->owner_id == owner_id) && unlist_locked(b)) {
			b->dead_next = dead;
			dead = b;
		}
	}
	pthread_mutex_unlock(&bg_lock);
	for (struct bgtrace *b = dead, *next; b; b = next) {
		next = b->dead_next;
		session__log(NULL, LOG_NOTICE, "trace %s (%s) ended: %s", b->handle, b->tool->name, why);
		doom(b);
		put(b);   /* the list's */
	}
}

void bgtrace__end_owner(struct server *srv, uint64_t owner_id, const char *why)
{
	end_where(srv, false, owner_id, why);
}

void bgtrace__stop_all(struct server *srv, const char *why)
{
	end_where(srv, true, 0, why);
}

/* ---- made by a call (worker) ----------------------------------------------------- */

static unsigned count_locked(const struct server *srv, uint64_t owner_id)
{
	unsigned n = 0;
	for (const struct bgtrace *b = srv->bgtraces; b; b = b->next)
		n += b->owner_id == owner_id;
	return n;
}

unsigned bgtrace__count(struct server *srv, uint64_t owner_id)
{
	pthread_mutex_lock(&bg_lock);
	unsigned n = count_locked(srv, owner_id);
	pthread_mutex_unlock(&bg_lock);
	return n;
}

static int jobs_cap(struct tool_ctx *ctx, unsigned traces, unsigned calls)
{
	tool__fail_limit(ctx, LIM_JOBS, "the jobs limit (%llu) is reached: this caller holds %u background trace%s "
			 "and runs %u call%s over time in this session; trace_stop a trace (or trace_read one that "
			 "has ended) to free its slot", (unsigned long long)limits[LIM_JOBS], traces,
			 traces == 1 ? "" : "s", calls, calls == 1 ? "" : "s");
	jw__kuint(&ctx->err->ctx, "traces", traces);
	jw__kuint(&ctx->err->ctx, "calls", calls);
	return -1;
}

int bgtrace__room(struct server *srv, struct tool_ctx *ctx, unsigned session_jobs)
{
	unsigned held = bgtrace__count(srv, ctx->facts->owner_id);
	return held + session_jobs >= limits[LIM_JOBS] ? jobs_cap(ctx, held, session_jobs) : 0;
}

static struct bgtrace *make(struct tool_ctx *ctx, const struct job_spec *spec)
{
	struct bgtrace *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	const struct tool_facts *f = ctx->facts;
	*b = (struct bgtrace){ .owner_id = f->owner_id, .identity = f->owner && !strcmp(f->owner, "identity"),
			       .env = *ctx->env, .tool = ctx->tool, .ops = spec->ops, .st = spec->st,
			       .n_fds = spec->n_fds, .t0_ns = now_ns(), .duration_ms = spec->duration_ms,
			       .started_real_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec,
			       .refs = 2 };   /* the list's and the starting call's */
	b->end_ns = b->t0_ns + spec->duration_ms * NS_PER_MS;
	memcpy(b->fds, spec->fds, spec->n_fds * sizeof(int));
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

int bgtrace__create(struct server *srv, struct tool_ctx *ctx, unsigned session_jobs, const struct job_spec *spec,
		    struct bgtrace **out)
{
	ASSERT(ctx->facts && ctx->bg && spec->n_fds <= JOB_MAX_FDS);
	struct bgtrace *b = make(ctx, spec);
	if (!b)
		return tool__fail_errno(ctx, -ENOMEM, "background trace state");
	pthread_mutex_lock(&bg_lock);
	unsigned held = count_locked(srv, b->owner_id);
	bool full = held + session_jobs >= limits[LIM_JOBS];
	if (!full) {
		b->srv = srv;
		snprintf(b->handle, sizeof(b->handle), "trace-%llu", (unsigned long long)++srv->next_trace);
		b->next = srv->bgtraces;
		srv->bgtraces = b;
		b->listed = true;
	}
	pthread_mutex_unlock(&bg_lock);
	if (full) {
		pthread_mutex_destroy(&b->lock);
		free(b);
		return jobs_cap(ctx, held, session_jobs);
	}
	memcpy(ctx->bg->handle, b->handle, sizeof(b->handle));
	ctx->bg->duration_ms = b->duration_ms;
	ctx->bg->started_real_ns = b->started_real_ns;
	*out = b;
	return 0;
}

/* ---- trace_read and trace_stop (worker) -------------------------------------------- */

/* The caller's trace with this handle, with a reference; NULL after failing. */
static struct bgtrace *find(struct server *srv, struct tool_ctx *ctx, const char *handle)
{
	struct bgtrace *b = NULL;
	bool mine = false;
	pthread_mutex_lock(&bg_lock);
	for (b = srv->bgtraces; b && strcmp(b->handle, handle); b = b->next)
		;
	if (b && ((mine = b->owner_id == ctx->facts->owner_id) || ctx->env->allow_foreign))
		b->refs++;
	pthread_mutex_unlock(&bg_lock);
	if (b && (mine || ctx->env->allow_foreign))
		return b;
	if (b)
		tool__fail(ctx, ERR_NOT_OWNED, "trace %s was started by another %s; only its owner may read or stop it "
			   "(others' need " TOOL_FOREIGN_HINT ")", handle, b->identity ? "caller" : "session");
	else
		tool__fail(ctx, ERR_NO_SUCH_TRACE, "no background trace has handle '%s': trace_start returns handles, "
			   "inspect_state lists this caller's (owned.traces); a stopped trace, or an ended one "
			   "once read, is gone", handle);
	jw__kstr(&ctx->err->ctx, "pointer", "/handle");
	return NULL;
}

/* The kept final report, its members spliced after the ones written. */
static int take_final(struct bgtrace *b, struct tool_ctx *ctx)
{
	struct jw *w = ctx->out;
	const struct bg_err *e = b->final_err;
	if (!b->final && !e)
		return tool__fail_errno(ctx, -ENOMEM, "the final report of %s was lost", b->handle);
	if (e) {
		tool__fail(ctx, e->id, "%s", e->msg);
		if (e->ctx_len)
			jw__raw(&ctx->err->ctx, e->ctx, e->ctx_len);   /* members, after the first */
		return -1;
	}
	jw__kbool(w, "running", false);
	if (b->final_len)
		jw__raw(w, b->final, b->final_len);   /* members: the writer adds the comma */
	return 0;
}

/* Under b's lock: writes the answer; *gone when the handle is spent. */
static int answer(struct bgtrace *b, struct tool_ctx *ctx, bool stop, bool *gone)
{
	struct jw *w = ctx->out;
	*gone = false;
	if (!b->stopped && (!b->st || over(b)))
		return tool__fail(ctx, ERR_NO_SUCH_TRACE, "trace %s has just ended (its owner or the server ended it)",
				  b->handle);
	jw__obj(w);
	jw__kstr(w, "handle", b->handle);
	int rc;
	if (b->stopped) {
		*gone = true;   /* ended by itself: this read takes its final report */
		rc = take_final(b, ctx);
	} else {
		jw__kbool(w, "running", !stop);
		rc = b->ops->peek(b->st, ctx, stop, JOB_STOP_REQUEST);
		count_events(b);
		if (stop) {
			mark_stopped(b);
			*gone = true;
		}
	}
	jw__obj_end(w);
	return rc;
}

int bgtrace__read(struct server *srv, struct tool_ctx *ctx, const char *handle, bool stop, struct bgtrace **spent)
{
	struct bgtrace *b = find(srv, ctx, handle);
	if (!b)
		return -1;
	bool gone;
	pthread_mutex_lock(&b->lock);
	int rc = answer(b, ctx, stop, &gone);
	pthread_mutex_unlock(&b->lock);
	if (!gone) {
		put(b);
		return rc;
	}
	unlist(b);
	*spent = b;   /* the call's reference: the loop lets go of it when the call is back */
	return rc;
}

/* ---- inspect_state (worker) ------------------------------------------------------ */

static void write_time(struct jw *w, const char *key, uint64_t real_ns)
{
	time_t s = (time_t)(real_ns / 1000000000ull);
	struct tm tm;
	char date[40];
	gmtime_r(&s, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	jw__key(w, key);
	jw__strf(w, "%s.%03uZ", date, (unsigned)(real_ns % 1000000000ull / 1000000));
}

static void write_entry(struct jw *w, const struct bgtrace *b, const struct tool_facts *f)
{
	uint64_t ended = __atomic_load_n(&b->ended_ns, __ATOMIC_RELAXED);
	jw__obj(w);
	jw__kstr(w, "handle", b->handle);
	jw__kstr(w, "tracer", b->tool->name);
	jw__kbool(w, "running", !ended);
	write_time(w, "started", b->started_real_ns);
	jw__kuint(w, "duration_ms", b->duration_ms);
	jw__kuint(w, "elapsed_ms", ((ended ? ended : now_ns()) - b->t0_ns) / NS_PER_MS);
	jw__kuint(w, "events", __atomic_load_n(&b->events, __ATOMIC_RELAXED));
	jw__kstr(w, "owner", b->identity ? "identity" : "session");
	jw__kuint(w, "owner_id", b->owner_id);
	jw__key(w, "lease_ms");
	if (b->identity && f->lease_ms)
		jw__uint(w, f->lease_ms);
	else
		jw__null(w);
	jw__obj_end(w);
}

void bgtrace__list(struct server *srv, struct tool_ctx *ctx, struct jw *w)
{
	jw__arr(w);
	pthread_mutex_lock(&bg_lock);
	for (const struct bgtrace *b = srv->bgtraces; b; b = b->next)
		if (ctx->facts && b->owner_id == ctx->facts->owner_id)
			write_entry(w, b, ctx->facts);
	pthread_mutex_unlock(&bg_lock);
	jw__arr_end(w);
}
