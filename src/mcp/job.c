/* The job table: calls that run over time, driven by the event loop. */
#include "job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "../kern/session.h"
#include "../sys/audit.h"
#include "mcp.h"

static uint64_t ms_ns(uint64_t ms)
{
	return ms * 1000000ull;
}

unsigned job__count(const struct server *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < JOB_SLOTS; i++)
		n += s->jobs[i].used;
	return n;
}

int tool__defer(struct tool_ctx *ctx, const struct job_ops *ops, void *st, const int *fds, unsigned n_fds,
		uint64_t duration_ms)
{
	struct server *s = ctx->srv;
	struct job *j = NULL;
	for (unsigned i = 0; i < JOB_SLOTS && !j; i++)
		if (!s->jobs[i].used)
			j = &s->jobs[i];
	int fail = 0;
	if (job__count(s) >= limits[LIM_JOBS] || !j)
		fail = tool__fail_limit(ctx, LIM_JOBS, "%u calls are already running over time (streams, tracers); "
					"wait for one to end or cancel it", job__count(s));
	else if (n_fds > JOB_MAX_FDS || ctx->req_id_len > sizeof(j->id) || ctx->progress_token_len > sizeof(j->token))
		fail = tool__fail(ctx, ERR_INTERNAL, "job descriptors or ids over their bounds");
	else if (s->ep < 0)
		fail = tool__fail(ctx, ERR_NO_EVENT_LOOP,
				  "this call runs over time and needs the event loop (stdin as a pipe or socket)");
	if (fail) {
		ops->release(st);
		return -1;
	}
	unsigned slot = (unsigned)(j - s->jobs);
	*j = (struct job){ .used = true, .tool = ctx->tool, .ops = ops, .st = st, .id_len = ctx->req_id_len,
			   .token_len = ctx->progress_token_len, .n_fds = n_fds, .t0_ns = ctx->t0_ns };
	memcpy(j->id, ctx->req_id, ctx->req_id_len);
	if (ctx->progress_token)
		memcpy(j->token, ctx->progress_token, ctx->progress_token_len);
	uint64_t now = now_ns();
	j->deadline_ns = ctx->deadline_ns;
	j->end_ns = duration_ms ? now + ms_ns(duration_ms) : UINT64_MAX;
	j->tick_ns = ops->tick ? now + ms_ns(JOB_TICK_MS) : UINT64_MAX;
	if (ctx->doc && ctx->args >= 0) {
		const jsmntok_t *a = &ctx->doc->t[ctx->args];
		j->args_len = (size_t)(a->end - a->start);
		size_t keep = j->args_len < limits[LIM_AUDIT_ARG_BYTES] + 1 ? j->args_len : limits[LIM_AUDIT_ARG_BYTES] + 1;
		if ((j->args = malloc(keep + 1)))
			memcpy(j->args, ctx->doc->js + a->start, keep);
	}
	for (unsigned i = 0; i < n_fds; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = JOB_TAG(slot, i) };
		j->fds[i] = fds[i];
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fds[i], &ev)) {
			int err = -errno;
			while (i--)
				epoll_ctl(s->ep, EPOLL_CTL_DEL, j->fds[i], NULL);
			free(j->args);
			*j = (struct job){ 0 };
			ops->release(st);
			return tool__fail_errno(ctx, err, "watching the call's events");
		}
	}
	return TOOL_PENDING;
}

bool tool__is_job(const struct tool_ctx *ctx)
{
	return ctx->job >= 0;
}

/* The context a job step runs in: no arguments, the shared reply buffers. */
static struct tool_ctx step_ctx(struct server *s, struct job *j, struct jw *out)
{
	jw__init(out, s->sc, s->resp_cap - 1);
	return (struct tool_ctx){
		.srv = s, .doc = NULL, .args = -1, .out = out, .scratch = &s->scratch, .err = mcp__tool_err(),
		.deadline_ns = j->deadline_ns, .job = (int)(j - s->jobs), .tool = j->tool,
		.req_id = j->id, .req_id_len = j->id_len, .t0_ns = j->t0_ns,
		.progress_token = j->token_len ? j->token : NULL, .progress_token_len = j->token_len,
	};
}

static void release(struct server *s, struct job *j)
{
	for (unsigned i = 0; i < j->n_fds; i++)
		epoll_ctl(s->ep, EPOLL_CTL_DEL, j->fds[i], NULL);
	session__journal_reset();
	j->ops->release(j->st);
	free(j->args);
	*j = (struct job){ 0 };
	arena__reset(&s->scratch);
}

static void audit_end(struct server *s, struct job *j, const char *code)
{
	struct audit_call ac = {
		.session = s->session_id, .tool = j->tool->name, .ok = !code, .code = code,
		.duration_ns = now_ns() - j->t0_ns, .args = j->args, .args_len = j->args ? j->args_len : 0,
	};
	audit__call(&ac);
}

/* rc: what a step returned (-1 failed, else finish with why). */
static void end(struct server *s, struct job *j, int rc, enum job_stop why)
{
	struct jw out;
	struct tool_ctx ctx = step_ctx(s, j, &out);
	struct mcp_req r = { .doc = NULL, .params = -1, .id = j->id, .id_len = j->id_len, .t0_ns = j->t0_ns };
	if (rc >= 0)
		rc = j->ops->finish(j->st, &ctx, why);
	else if (!ctx.err->set)
		tool__fail(&ctx, ERR_INTERNAL, "%s stopped without a reason", j->tool->name);
	if (rc < 0 && !ctx.err->set)
		tool__fail(&ctx, ERR_INTERNAL, "%s failed without a reason", j->tool->name);
	const char *code = mcp__tool_answer(s, &r, &ctx, &out, rc < 0 ? -1 : 0);
	audit_end(s, j, code);
	release(s, j);
}

/* Runs one step (ready or tick) and ends the job when it says so. */
static void step(struct server *s, struct job *j, int fd)
{
	struct jw out;
	struct tool_ctx ctx = step_ctx(s, j, &out);
	int rc = fd >= 0 ? j->ops->ready(j->st, fd, &ctx) : j->ops->tick(j->st, &ctx);
	if (rc < 0) {
		/* answer with the step's error */
		struct mcp_req r = { .doc = NULL, .params = -1, .id = j->id, .id_len = j->id_len, .t0_ns = j->t0_ns };
		const char *code = mcp__tool_answer(s, &r, &ctx, &out, -1);
		audit_end(s, j, code);
		release(s, j);
	} else if (rc > 0) {
		end(s, j, 0, JOB_STOP_DONE);
	}
	arena__reset(&s->scratch);
}

void job__ready(struct server *s, uint64_t tag)
{
	uint64_t k = tag - JOB_TAG_BASE;
	struct job *j = &s->jobs[k / JOB_MAX_FDS];
	if (k / JOB_MAX_FDS < JOB_SLOTS && j->used && k % JOB_MAX_FDS < j->n_fds)
		step(s, j, j->fds[k % JOB_MAX_FDS]);
}

int job__timeout_ms(const struct server *s)
{
	uint64_t next = UINT64_MAX, now = now_ns();
	for (unsigned i = 0; i < JOB_SLOTS; i++) {
		const struct job *j = &s->jobs[i];
		if (!j->used)
			continue;
		uint64_t t = j->end_ns < j->deadline_ns ? j->end_ns : j->deadline_ns;
		next = j->tick_ns < t ? (j->tick_ns < next ? j->tick_ns : next) : (t < next ? t : next);
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

void job__timers(struct server *s)
{
	uint64_t now = now_ns();
	for (unsigned i = 0; i < JOB_SLOTS; i++) {
		struct job *j = &s->jobs[i];
		if (j->used && now >= j->end_ns)
			end(s, j, 0, JOB_STOP_DURATION);
		else if (j->used && now >= j->deadline_ns)
			end(s, j, 0, JOB_STOP_DEADLINE);
		else if (j->used && now >= j->tick_ns) {
			j->tick_ns = now + ms_ns(JOB_TICK_MS);
			step(s, j, -1);
		}
	}
}

bool job__cancel(struct server *s, const char *id, size_t id_len)
{
	for (unsigned i = 0; i < JOB_SLOTS; i++) {
		struct job *j = &s->jobs[i];
		if (j->used && j->id_len == id_len && !memcmp(j->id, id, id_len)) {
			audit_end(s, j, "CANCELLED");
			release(s, j);
			return true;
		}
	}
	return false;
}

void job__cancel_all(struct server *s, const char *why)
{
	for (unsigned i = 0; i < JOB_SLOTS; i++)
		if (s->jobs[i].used) {
			server__log(s, LOG_NOTICE, "%s: %s stopped without a reply", why, s->jobs[i].tool->name);
			audit_end(s, &s->jobs[i], why[0] == 'e' ? "EOF" : "SHUTDOWN");
			release(s, &s->jobs[i]);
		}
}

void tool__progress(struct tool_ctx *ctx, uint64_t progress, uint64_t total, const char *message)
{
	if (!ctx->progress_token)
		return;
	char line[LIMIT_ID_BYTES + LIMIT_ERROR_MSG_BYTES + 256];
	struct jw w;
	jw__init(&w, line, sizeof(line));
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__kstr(&w, "method", "notifications/progress");
	jw__key(&w, "params");
	jw__obj(&w);
	jw__key(&w, "progressToken");
	jw__raw(&w, ctx->progress_token, ctx->progress_token_len);
	jw__kuint(&w, "progress", progress);
	if (total)
		jw__kuint(&w, "total", total);
	if (message)
		jw__kstr(&w, "message", message);
	jw__obj_end(&w);
	jw__obj_end(&w);
	if (!w.overflow)
		mcp__write_line(ctx->srv, line, w.len);
}
