/* Calls that run over time (streams, tracers): the loop watches their
 * descriptors and clocks, a worker runs each step.
 *
 * A job runs one step at a time; a step that ends the job (done, failed,
 * its duration or the call deadline) answers from the worker.
 *
 * Its descriptors stay watched, edge-triggered, for the job's whole life:
 * libbpf's perf buffer is an epoll set of perf events, and a perf event's
 * poll clears its readiness, so taking the set out of the loop's epoll and
 * back in (once per step) polls it twice and loses the wake-up: with the
 * buffer full no new one comes, and the stream would stall for good. An
 * event that arrives during a step is remembered, and after every step
 * the descriptors are polled once more, so data left behind is never
 * stranded. Cancellation and the
 * session's end drop the reply; whatever the job holds is released on a
 * worker (a tracer's detach waits for RCU grace periods: ~500 ms for
 * trace_open's six tracepoints, which the loop must not wait out).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

#include "../assert.h"
#include "../core/clock.h"
#include "../sys/audit.h"
#include "../sys/metrics.h"

struct job {
	struct host_ref ref;
	struct bio_task task;
	struct session *s;
	unsigned slot;
	const struct tool *tool;
	const struct job_ops *ops;
	void *st;
	char id[LIMIT_ID_BYTES];          /* raw JSON of the request id */
	size_t id_len;
	char token[LIMIT_ID_BYTES];       /* raw JSON of _meta.progressToken */
	size_t token_len;
	char *args;                       /* first audit_arg_bytes of the arguments (heap) */
	size_t args_len;                  /* their full length */
	int fds[JOB_MAX_FDS];
	unsigned n_fds;
	uint64_t t0_ns, end_ns, deadline_ns, tick_ns;
	bool modern;                      /* the request's era (its reply's shape) */
	uint64_t route;                   /* where its notifications and reply go (HTTP) */
	uint8_t method;                   /* the request's method (metrics) */
	int log_level;                    /* the request's log level (modern) */
	struct loop_timer timer;
	bool busy;                        /* a step is on a worker */
	bool more;                        /* an event came during the step */
	int step_fd;                      /* the step: ready(fd), or -1 */
	bool step_end;                    /* the step: finish(why) */
	enum job_stop why;
	bool ended;                       /* answered: the job is over */
	bool audited;                     /* by whichever thread owns the job at the time */
	const char *cancel_code;          /* why it was cancelled while a step ran */
};

static void audit_end(struct job *j, const char *code)
{
	if (j->audited)
		return;
	j->audited = true;
	struct audit_call ac = { .session = j->s->id, .who = &j->s->env.who, .objs = NULL, .tool = j->tool->name,
				 .ok = !code, .code = code, .duration_ns = now_ns() - j->t0_ns, .args = j->args,
				 .args_len = j->args ? j->args_len : 0 };
	metrics__tool(j->tool->schema, code, ac.duration_ns);
	audit__call(&ac);
}

/* ---- release ------------------------------------------------------------------ */

struct release {
	struct bio_task task;
	struct server *srv;
	const struct job_ops *ops;
	void *st;
};

static void release_run(struct bio_task *t, void *w)
{
	(void)w;
	struct release *r = (struct release *)t;
	r->ops->release(r->st);
}

static void release_done(struct bio_task *t)
{
	struct release *r = (struct release *)t;
	struct server *srv = r->srv;
	free(r);
	server__maybe_stop(srv);
}

void job__release_later(struct server *srv, const struct job_ops *ops, void *st)
{
	struct release *r = malloc(sizeof(*r));
	if (!r) {
		ops->release(st);   /* no memory for the task: here rather than leak */
		return;
	}
	*r = (struct release){ .task = { .run = release_run, .done = release_done }, .srv = srv, .ops = ops, .st = st };
	bio__submit(&r->task);
}

/* Forgets j on the loop and hands what it holds to a worker. */
static void remove_job(struct job *j, const char *code)
{
	struct session *s = j->s;
	struct loop *l = &s->srv->loop;
	ASSERT(!j->busy && s->jobs[j->slot] == j);
	audit_end(j, code);
	for (unsigned i = 0; i < j->n_fds; i++)
		loop__unwatch(l, j->fds[i]);
	loop__timer_stop(l, &j->timer);
	s->jobs[j->slot] = NULL;
	__atomic_store_n(&s->n_jobs, s->n_jobs - 1, __ATOMIC_RELAXED);
	job__release_later(s->srv, j->ops, j->st);
	free(j->args);
	free(j);
}

/* ---- steps ---------------------------------------------------------------------- */

static void step_run(struct bio_task *t, void *wd)
{
	struct job *j = (struct job *)((char *)t - offsetof(struct job, task));
	struct worker *w = wd;
	struct session *s = j->s;
	struct jw out;
	struct tool_ctx ctx;
	session__current = s;
	session__request_log = j->modern ? j->log_level : SESSION_LOG_LEGACY;
	session__route = j->route;
	call__ctx(&ctx, s, w, &out);
	ctx.host_data = &j->ref;
	ctx.is_job = true, ctx.tool = j->tool, ctx.deadline_ns = j->deadline_ns, ctx.t0_ns = j->t0_ns;
	ctx.req_id = j->id, ctx.req_id_len = j->id_len;
	ctx.progress_token = j->token_len ? j->token : NULL, ctx.progress_token_len = j->token_len;
	int rc = 0;
	enum job_stop why = j->why;
	if (!j->step_end) {
		rc = j->step_fd >= 0 ? j->ops->ready(j->st, j->step_fd, &ctx) : j->ops->tick(j->st, &ctx);
		why = JOB_STOP_DONE;
	}
	bool answer = j->step_end || rc != 0;
	if (j->step_end || rc > 0) {
		/* the finish writes the whole result: a fresh context */
		call__ctx(&ctx, s, w, &out);
		ctx.host_data = &j->ref, ctx.is_job = true, ctx.tool = j->tool;
		ctx.req_id = j->id, ctx.req_id_len = j->id_len, ctx.t0_ns = j->t0_ns;
		rc = j->ops->finish(j->st, &ctx, why);
		if (rc < 0 && !ctx.err->set)
			tool__fail(&ctx, ERR_INTERNAL, "%s failed without a reason", j->tool->name);
	}
	if (answer) {
		struct mcp_req r = { .params = -1, .id = j->id, .id_len = j->id_len, .t0_ns = j->t0_ns, .modern = j->modern,
				     .route = j->route, .method = j->method };
		audit_end(j, call__answer(s, w, &r, &ctx, &out, rc < 0 ? -1 : 0));
		j->ended = true;
	}
	arena__reset(&w->scratch);
	session__current = NULL;
	session__request_log = SESSION_LOG_LEGACY;
	session__route = 0;
}

static void arm(struct job *j);
static bool due(struct job *j);
static void step_done(struct bio_task *t);

/* A descriptor with data after a step, or -1. */
static int readable(const struct job *j)
{
	struct pollfd p[JOB_MAX_FDS];
	for (unsigned i = 0; i < j->n_fds; i++)
		p[i] = (struct pollfd){ .fd = j->fds[i], .events = POLLIN };
	if (poll(p, j->n_fds, 0) <= 0)
		return -1;
	for (unsigned i = 0; i < j->n_fds; i++)
		if (p[i].revents)
			return j->fds[i];
	return -1;
}

static void submit(struct job *j, int fd, bool end, enum job_stop why)
{
	ASSERT(!j->busy);
	j->busy = true;
	/* an event noticed during a step is owed a ready step: a tick or the
	 * end does not pay it (the end consumes what is left itself) */
	if (fd >= 0)
		j->more = false;
	j->step_fd = fd, j->step_end = end, j->why = why;
	loop__timer_stop(&j->s->srv->loop, &j->timer);
	j->task = (struct bio_task){ .run = step_run, .done = step_done };
	bio__submit(&j->task);
}

static void step_done(struct bio_task *t)
{
	struct job *j = (struct job *)((char *)t - offsetof(struct job, task));
	struct session *s = j->s;
	j->busy = false;
	int fd;
	if (j->ended || j->ref.cancelled)
		remove_job(j, j->cancel_code ? j->cancel_code : "CANCELLED");
	else if (!due(j) && ((fd = readable(j)) >= 0 || (j->more && (fd = j->fds[0]) >= 0)))
		submit(j, fd, false, JOB_STOP_DONE);   /* timers first: a flat-out producer must not starve them */
	else if (!j->busy)
		arm(j);
	session__pump(s);
}

static void on_fd(void *data, int fd, uint32_t events)
{
	(void)events;
	struct job *j = data;
	if (j->busy)
		j->more = true;
	else
		submit(j, fd, false, JOB_STOP_DONE);
}

/* Submits what its clocks ask for: the end, or a tick. */
static bool due(struct job *j)
{
	uint64_t now = now_ns();
	if (now >= j->end_ns)
		submit(j, -1, true, JOB_STOP_DURATION);
	else if (now >= j->deadline_ns)
		submit(j, -1, true, JOB_STOP_DEADLINE);
	else if (now >= j->tick_ns) {
		j->tick_ns = now + JOB_TICK_MS * NS_PER_MS;
		submit(j, -1, false, JOB_STOP_DONE);
	} else
		return false;
	return true;
}

static void on_timer(void *data)
{
	struct job *j = data;
	if (!j->busy && !due(j))
		arm(j);
}

static void arm(struct job *j)
{
	uint64_t t = j->end_ns < j->deadline_ns ? j->end_ns : j->deadline_ns;
	if (j->tick_ns < t)
		t = j->tick_ns;
	loop__timer_at(&j->s->srv->loop, &j->timer, t, on_timer, j);
}

/* ---- starting and stopping ----------------------------------------------------------- */

static int watch_fds(struct job *j)
{
	for (unsigned i = 0; i < j->n_fds; i++) {
		int rc = loop__watch(&j->s->srv->loop, j->fds[i], EPOLLIN | EPOLLET, on_fd, j);
		if (rc) {
			while (i--)
				loop__unwatch(&j->s->srv->loop, j->fds[i]);
			return rc;
		}
	}
	return 0;
}

void job__install(struct session *s, const struct job_spec *spec, const struct tool *t, const struct mcp_req *r,
		  const char *token, size_t token_len, uint64_t deadline_ns, const char *js, const jsmntok_t *args)
{
	unsigned slot = 0;
	while (slot < JOB_SLOTS && s->jobs[slot])
		slot++;
	struct job *j = slot < JOB_SLOTS ? calloc(1, sizeof(*j)) : NULL;
	int rc = j ? 0 : -ENOMEM;
	if (j) {
		*j = (struct job){ .s = s, .slot = slot, .tool = t, .ops = spec->ops, .st = spec->st, .id_len = r->id_len,
				   .token_len = token_len, .n_fds = spec->n_fds, .t0_ns = r->t0_ns,
				   .deadline_ns = deadline_ns, .modern = r->modern, .log_level = r->log_level,
				   .route = r->route, .method = r->method };
		memcpy(j->id, r->id, r->id_len);
		memcpy(j->token, token, token_len);
		memcpy(j->fds, spec->fds, spec->n_fds * sizeof(int));
		if (args) {
			j->args_len = (size_t)(args->end - args->start);
			size_t keep = j->args_len < limits[LIM_AUDIT_ARG_BYTES] + 1 ? j->args_len
										     : limits[LIM_AUDIT_ARG_BYTES] + 1;
			if ((j->args = malloc(keep + 1)))
				memcpy(j->args, js + args->start, keep);
		}
		rc = watch_fds(j);
	}
	if (rc) {
		char msg[160];
		snprintf(msg, sizeof(msg), "cannot watch the call's events: %s", strerror(-rc));
		session__error(s, r, MCP_INTERNAL_ERROR, msg, NULL, 0);
		job__release_later(s->srv, spec->ops, spec->st);
		if (j)
			free(j->args);
		free(j);
		return;
	}
	uint64_t now = now_ns();
	j->end_ns = spec->duration_ms ? now + spec->duration_ms * NS_PER_MS : UINT64_MAX;
	j->tick_ns = spec->ops->tick ? now + JOB_TICK_MS * NS_PER_MS : UINT64_MAX;
	s->jobs[slot] = j;
	__atomic_store_n(&s->n_jobs, s->n_jobs + 1, __ATOMIC_RELAXED);
	arm(j);
	if (s->sink)
		s->sink->job(s, j->route);
}

static void cancel(struct job *j, const char *code)
{
	struct session *s = j->s;
	pthread_mutex_lock(&s->out_lock);
	j->ref.cancelled = true;
	pthread_mutex_unlock(&s->out_lock);
	if (!j->busy)
		remove_job(j, code);
	else
		j->cancel_code = code;   /* its step comes back to a job that is over */
}

bool job__cancel(struct session *s, const char *id, size_t id_len, const char *code)
{
	for (unsigned i = 0; i < JOB_SLOTS; i++) {
		struct job *j = s->jobs[i];
		if (j && !j->ref.cancelled && j->id_len == id_len && !memcmp(j->id, id, id_len)) {
			cancel(j, code);
			return true;
		}
	}
	return false;
}

void job__cancel_all(struct session *s, const char *code)
{
	for (unsigned i = 0; i < JOB_SLOTS; i++) {
		struct job *j = s->jobs[i];
		if (j && !j->ref.cancelled) {
			session__log(s, LOG_NOTICE, "%s: %s stopped without a reply", code, j->tool->name);
			cancel(j, code);
		}
	}
}

unsigned job__busy(const struct session *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < JOB_SLOTS; i++)
		n += s->jobs[i] && s->jobs[i]->busy;
	return n;
}
