/* One MCP client: framing, ordering, output and the end of a session.
 *
 * Input is read into a fixed buffer (request_bytes) and answered a line at a
 * time, in order; a tools/call takes the line to a worker and the next lines
 * wait in the buffer until it is answered (backpressure: nothing more is
 * read once the buffer is full), except cancellations, which are looked for
 * in the waiting lines at once. Output from the loop and the workers is
 * appended to one buffer that only the loop writes out; past
 * SESSION_OUT_SOFT pending bytes the session answers and reads nothing more
 * until the client has read, and notifications are dropped and counted.
 */
#define _GNU_SOURCE
#include "mcp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../assert.h"
#include "../core/clock.h"
#include "../kern/owned.h"
#include "../sys/audit.h"
#include "../sys/metrics.h"

__thread struct session *session__current;
__thread int session__request_log = SESSION_LOG_LEGACY;
__thread uint64_t session__route;
enum log_level session__stderr_level = LOG_WARNING;

static void *map_buf(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void on_io(void *data, int fd, uint32_t events);

static void free_session(struct session *s)
{
	if (s->req)
		munmap(s->req, s->req_cap);
	owned__free(s->objs);
	free(s->out);
	pthread_mutex_destroy(&s->out_lock);
	free(s);
}

static struct session *alloc_session(struct server *srv, const struct identity *who, enum profile profile,
				     bool allow_foreign)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->out_lock, NULL);
	s->srv = srv;
	s->in_fd = s->out_fd = -1;
	s->objs = owned__new();
	s->env = (struct tool_env){ .cfg = srv->cfg, .profile = profile, .allow_foreign = allow_foreign, .who = *who,
				    .reply_bytes = limits[LIM_RESPONSE_BYTES] + 1 };
	s->log_level = LOG_WARNING;
	s->started_ns = now_ns();
	s->id = ((uint64_t)getpid() << 32) | ++srv->next_session;
	if (!s->objs) {
		free_session(s);
		return NULL;
	}
	return s;
}

static void link_session(struct session *s)
{
	struct server *srv = s->srv;
	s->next = srv->sessions;
	if (s->next)
		s->next->prev = s;
	srv->sessions = s;
	srv->n_sessions++;
	metrics__add(&metrics.sessions_started, 1);
}

struct session *session__new(struct server *srv, int in_fd, int out_fd, bool own_fds, const struct identity *who,
			     enum profile profile, bool allow_foreign)
{
	struct session *s = alloc_session(srv, who, profile, allow_foreign);
	if (!s)
		return NULL;
	s->in_fd = in_fd, s->out_fd = out_fd, s->own_fds = own_fds;
	s->req_cap = limits[LIM_REQUEST_BYTES] + 1;   /* + the newline */
	s->req = map_buf(s->req_cap);
	if (!s->req || loop__watch(&srv->loop, in_fd, 0, on_io, s) ||
	    (out_fd != in_fd && loop__watch(&srv->loop, out_fd, 0, on_io, s))) {
		if (s->req)
			loop__unwatch(&srv->loop, in_fd);
		free_session(s);
		return NULL;
	}
	struct loop_slot *sl = &srv->loop.slots[in_fd];
	s->file_input = sl->always_ready;
	s->socket = in_fd == out_fd;
	link_session(s);
	return s;
}

struct session *session__new_sink(struct server *srv, const struct sink_ops *ops, void *data,
				  const struct identity *who, enum profile profile, bool allow_foreign)
{
	struct session *s = alloc_session(srv, who, profile, allow_foreign);
	if (!s)
		return NULL;
	s->sink = ops, s->sink_data = data;
	link_session(s);
	return s;
}

/* ---- output ------------------------------------------------------------------ */

static size_t out_pending(struct session *s)
{
	pthread_mutex_lock(&s->out_lock);
	size_t n = s->out_len - s->out_off;
	pthread_mutex_unlock(&s->out_lock);
	return n;
}

/* Room for n more bytes (under the lock). */
static bool out_room(struct session *s, size_t n)
{
	size_t pend = s->out_len - s->out_off;
	if (s->out_len + n <= s->out_cap)
		return true;
	if (s->out_off) {
		memmove(s->out, s->out + s->out_off, pend);
		s->out_off = 0, s->out_len = pend;
		if (pend + n <= s->out_cap)
			return true;
	}
	size_t cap = s->out_cap * 2 > pend + n ? s->out_cap * 2 : pend + n + 4096;
	char *p = realloc(s->out, cap);
	if (!p)
		return false;
	s->out = p, s->out_cap = cap;
	return true;
}

/* A sink's record: its header, then the message. */
struct record {
	uint64_t route;
	uint32_t len;
	uint8_t kind;
} __attribute__((packed));

static void append(struct session *s, uint64_t route, const char *line, size_t n, enum out_kind kind)
{
	if (s->sink) {
		struct record h = { .route = route, .len = (uint32_t)n, .kind = (uint8_t)kind };
		memcpy(s->out + s->out_len, &h, sizeof(h));
		memcpy(s->out + s->out_len + sizeof(h), line, n);
		s->out_len += sizeof(h) + n;
	} else {
		memcpy(s->out + s->out_len, line, n);
		s->out[s->out_len + n] = '\n';
		s->out_len += n + 1;
	}
}

/* A big line with nothing pending before it goes out from where it was
 * built, instead of through a copy in the session's buffer (a 1M-entry
 * dump spent a sixth of its time copying its pages there and faulting the
 * buffer in). Under the lock, so lines stay in order; a blocking fd (stdio)
 * waits here as the loop's flush would. Returns the bytes of line + '\n'
 * written; what is left is appended. */
static size_t write_direct(struct session *s, const char *line, size_t n)
{
	size_t done = 0;
	if (s->sink || n < SESSION_OUT_DIRECT || s->out_off != s->out_len)
		return 0;
	while (done < n + 1 && !s->out_broken) {
		struct iovec v[2] = { { (char *)line + done, done < n ? n - done : 0 }, { (char *)"\n", 1 } };
		ssize_t w = done < n ? writev(s->out_fd, v, 2) : write(s->out_fd, "\n", 1);
		if (w > 0)
			done += (size_t)w;
		else if (w < 0 && errno == EAGAIN)
			break;
		else if (!(w < 0 && errno == EINTR))
			s->out_broken = true;   /* the loop's next flush ends the session */
	}
	return done;
}

void session__send(struct session *s, uint64_t route, const char *line, size_t n, enum out_kind kind)
{
	bool droppable = kind == OUT_NOTE;
	size_t need = n + (s->sink ? sizeof(struct record) : 1);
	ASSERT(n <= UINT32_MAX);
	pthread_mutex_lock(&s->out_lock);
	bool dropped = false, lost = false;
	size_t direct = s->out_broken ? 0 : write_direct(s, line, n);
	if (s->out_broken || (droppable && s->out_len - s->out_off > SESSION_OUT_SOFT)) {
		dropped = droppable && !s->out_broken;
	} else if (direct == n + 1) {
		/* written whole */
	} else if (!out_room(s, need - direct)) {
		/* the heap cap refuses: a reply that cannot be kept would leave
		 * the client waiting forever, so the session ends instead */
		dropped = droppable;
		lost = !droppable;
		s->out_broken |= lost;
	} else {
		append(s, route, line + direct, n - direct, kind);   /* the rest the loop writes */
	}
	s->notes_dropped += dropped;
	pthread_mutex_unlock(&s->out_lock);
	if (lost)
		session__log(NULL, LOG_ERROR, "session %llu: a %zu-byte reply does not fit the heap (heap_bytes); ending "
			     "the session", (unsigned long long)s->id, n);
}

void session__reply(struct session *s, const struct mcp_req *r, const char *line, size_t n)
{
	metrics__request(r->method, rpc__is_error(line, n, r->id ? r->id_len : 0));
	session__send(s, r->route, line, n, OUT_REPLY);
}

void session__drain(struct session *s, session_drain_fn fn, void *data)
{
	ASSERT(s->sink);
	pthread_mutex_lock(&s->out_lock);
	while (s->out_off < s->out_len) {
		struct record h;
		ASSERT(s->out_len - s->out_off >= sizeof(h));
		memcpy(&h, s->out + s->out_off, sizeof(h));
		s->out_off += sizeof(h);
		ASSERT(s->out_len - s->out_off >= h.len);
		fn(data, s, h.route, (enum out_kind)h.kind, s->out + s->out_off, h.len);
		s->out_off += h.len;
	}
	s->out_off = s->out_len = 0;
	if (s->out_cap > SESSION_OUT_KEEP) {
		free(s->out);
		s->out = NULL, s->out_cap = 0;
	}
	pthread_mutex_unlock(&s->out_lock);
}

void session__flush(struct session *s)
{
	bool broken;
	if (s->sink) {
		s->sink->deliver(s);
		return;
	}
	pthread_mutex_lock(&s->out_lock);
	while (!s->out_broken && s->out_off < s->out_len) {
		ssize_t w = write(s->out_fd, s->out + s->out_off, s->out_len - s->out_off);
		if (w > 0)
			s->out_off += (size_t)w;
		else if (w < 0 && errno == EAGAIN)
			break;
		else if (!(w < 0 && errno == EINTR))
			s->out_broken = true;   /* EPIPE, ECONNRESET: the client has gone */
	}
	if (s->out_off == s->out_len) {
		s->out_off = s->out_len = 0;
		if (s->out_cap > SESSION_OUT_KEEP) {
			free(s->out);   /* an idle session keeps no big buffer */
			s->out = NULL, s->out_cap = 0;
		}
	}
	broken = s->out_broken;
	pthread_mutex_unlock(&s->out_lock);
	if (broken)
		session__close(s, "the client went away (write failed)");
}

/* ---- replies built on the loop --------------------------------------------------- */

void session__error(struct session *s, const struct mcp_req *r, int code, const char *msg, const char *limit_name,
		    uint64_t limit_value)
{
	struct jw w;
	jw__init(&w, s->srv->resp, s->srv->resp_cap - 1);
	rpc__error(&w, r ? r->id : NULL, r ? r->id_len : 0, code, msg, limit_name, limit_value);
	s->n_errors++;
	if (limit_name)
		metrics__cap_named(limit_name);
	if (r)
		return session__reply(s, r, s->srv->resp, w.len);
	metrics__request(METHOD_OTHER, true);
	session__send(s, session__route, s->srv->resp, w.len, OUT_REPLY);
}

void session__result_begin(struct session *s, struct jw *w, const struct mcp_req *r)
{
	jw__init(w, s->srv->resp, s->srv->resp_cap - 1);
	rpc__result_begin(w, r->id, r->id_len);
}

void session__result_close(struct session *s, struct jw *w, const struct mcp_req *r, int64_t ttl_ms, bool public_scope)
{
	rpc__result_extras(w, r->modern, ttl_ms, public_scope);
	jw__obj_end(w);
	session__result_end(s, w, r);
}

void session__result_end(struct session *s, struct jw *w, const struct mcp_req *r)
{
	jw__obj_end(w);
	if (w->overflow)
		session__error(s, r, MCP_INTERNAL_ERROR, "reply larger than response_bytes; raise --limit response_bytes=N",
			       "response_bytes", limits[LIM_RESPONSE_BYTES]);
	else
		session__reply(s, r, s->srv->resp, w->len);
}

void session__log(struct session *s, enum log_level lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lvl >= session__stderr_level)
		dprintf(STDERR_FILENO, "ebpf-mcp: %s: %s\n", config__level_name(lvl), msg);
	/* a legacy session logs from logging/setLevel on, at its level; a modern
	 * request only when it named a level itself */
	int want = session__request_log;
	if (!s || (want == SESSION_LOG_LEGACY && !s->initialized))
		return;
	if (want == SESSION_LOG_LEGACY)
		want = __atomic_load_n(&s->log_level, __ATOMIC_RELAXED);
	if (want < 0 || (int)lvl < want)
		return;
	char line[LIMIT_ERROR_MSG_BYTES * 4];
	struct jw w;
	jw__init(&w, line, sizeof(line));
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__kstr(&w, "method", "notifications/message");
	jw__key(&w, "params");
	jw__obj(&w);
	jw__kstr(&w, "level", config__level_name(lvl));
	jw__kstr(&w, "logger", "ebpf-mcp");
	size_t n = strlen(msg);
	if (n > limits[LIM_LOG_LINE_BYTES])
		n = limits[LIM_LOG_LINE_BYTES];
	jw__key(&w, "data");
	jw__strn(&w, msg, n);
	jw__obj_end(&w);
	jw__obj_end(&w);
	if (!w.overflow)
		session__send(s, session__route, line, w.len, OUT_NOTE);
}

void session__facts(const struct session *s, struct tool_facts *f)
{
	*f = (struct tool_facts){ .mode = s->srv->mode, .protocol = s->protocol, .session_id = s->id,
				  .started_ns = s->srv->started_ns, .requests = s->n_requests,
				  .tool_calls = s->n_tool_calls, .errors = s->n_errors,
				  .sessions = s->srv->n_sessions, .workers = bio__threads() };
}

/* ---- input --------------------------------------------------------------------- */

bool session__jobs_outlive_input(const struct session *s)
{
	return s->file_input || s->socket;
}

/* events: what the loop saw. A socket's end of input with EPOLLHUP is a
 * peer that closed both ways (gone: nothing more is answered); without it,
 * a half-close (the peer still reads). */
static void read_input(struct session *s, uint32_t events)
{
	ssize_t r;
	do
		r = read(s->in_fd, s->req + s->req_end, s->req_cap - s->req_end);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		s->req_end += (size_t)r;
	else if (r == 0 && s->socket && (events & EPOLLHUP))
		session__close(s, "the client went away");
	else if (r == 0)
		s->eof = true;
	else if (errno != EAGAIN)
		session__close(s, "the client went away (read failed)");
}

static void refuse_overlong(struct session *s)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "request line longer than request_bytes (%llu bytes); the rest of the line is skipped. "
		 "Send smaller requests or raise --limit request_bytes=N (max %llu)",
		 (unsigned long long)limits[LIM_REQUEST_BYTES], (unsigned long long)limit_defs[LIM_REQUEST_BYTES].max);
	session__error(s, NULL, MCP_INVALID_REQUEST, msg, "request_bytes", limits[LIM_REQUEST_BYTES]);
}

/* A sink's requests, in order, while nothing holds them back. */
static void answer_sink(struct session *s)
{
	char *line;
	size_t len;
	uint64_t route;
	while (!s->running && s->state == SESS_OPEN && s->sink->next(s, &line, &len, &route)) {
		session__route = route;
		methods__line(s, line, len, false);
		session__route = 0;
	}
}

/* Answers complete lines in order while nothing holds them back. */
static void answer_lines(struct session *s)
{
	if (s->sink)
		return answer_sink(s);
	while (!s->running && s->state != SESS_CLOSING && out_pending(s) <= SESSION_OUT_SOFT) {
		char *base = s->req + s->req_start;
		char *nl = memchr(base, '\n', s->req_end - s->req_start);
		if (!nl)
			break;
		size_t len = (size_t)(nl - base);
		s->req_start += len + 1;
		if (s->scan < s->req_start)
			s->scan = s->req_start;
		if (s->discarding) {
			s->discarding = false;   /* the tail of an over-long line */
			continue;
		}
		methods__line(s, base, len, false);
	}
}

/* While a call runs, the lines behind it are only looked at for
 * cancellations; one found is blanked (blank lines are skipped later). */
static void scan_cancels(struct session *s)
{
	size_t pos = s->scan > s->req_start ? s->scan : s->req_start;
	bool tail = s->discarding && pos == s->req_start;
	char *nl;
	while ((nl = memchr(s->req + pos, '\n', s->req_end - pos))) {
		size_t len = (size_t)(nl - (s->req + pos));
		if (!tail && methods__line(s, s->req + pos, len, true))
			memset(s->req + pos, ' ', len);
		tail = false;
		pos += len + 1;
	}
	s->scan = pos;
}

/* Moves what is left to the front; a full buffer without a newline holds
 * an over-long line, refused once and skipped to its newline. */
static void compact(struct session *s)
{
	if (s->req_start == s->req_end) {
		s->req_start = s->req_end = s->scan = 0;
	} else if (s->req_start && (s->req_end == s->req_cap || s->req_start > s->req_cap / 2)) {
		memmove(s->req, s->req + s->req_start, s->req_end - s->req_start);
		s->req_end -= s->req_start;
		s->scan -= s->req_start;
		s->req_start = 0;
	}
	if (s->req_end == s->req_cap && !s->req_start && !memchr(s->req, '\n', s->req_end) && !s->running &&
	    s->state != SESS_CLOSING) {
		if (!s->discarding)
			refuse_overlong(s);
		s->discarding = true;
		s->req_start = s->req_end = s->scan = 0;
	}
}

/* Input has ended and every complete line is answered: a last line without
 * a newline still counts (tolerant framing), then the session drains. */
static void end_of_input(struct session *s)
{
	ASSERT(s->eof && s->state == SESS_OPEN && !s->running);
	if (s->req_end > s->req_start && !s->discarding) {
		size_t len = s->req_end - s->req_start;
		char *line = s->req + s->req_start;
		s->req_start = s->req_end;
		methods__line(s, line, len, false);
		if (s->running)
			return;   /* drains when this call is answered */
	}
	s->req_start = s->req_end = s->scan = 0;
	s->state = SESS_DRAINING;
	s->end_reason = "eof";
	if (!session__jobs_outlive_input(s))
		job__cancel_all(s, "EOF");
}

static void watch(struct session *s)
{
	struct loop *l = &s->srv->loop;
	if (s->sink)
		return;
	bool in = s->state == SESS_OPEN && !s->eof && s->req_end < s->req_cap && out_pending(s) <= SESSION_OUT_SOFT;
	pthread_mutex_lock(&s->out_lock);
	bool out = !s->out_broken && s->out_off < s->out_len;
	pthread_mutex_unlock(&s->out_lock);
	if (s->socket) {
		/* half-closed: edge-triggered on RDHUP (long since seen), so the
		 * peer's later full close (EPOLLHUP) still wakes us */
		uint32_t gone = s->eof && s->state != SESS_CLOSING ? EPOLLET | EPOLLRDHUP : 0;
		loop__mask(l, s->in_fd, (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0) | gone);
	} else {
		loop__mask(l, s->in_fd, in ? EPOLLIN : 0);
		loop__mask(l, s->out_fd, out ? EPOLLOUT : 0);
	}
}

/* ---- the end ------------------------------------------------------------------- */

struct release {
	struct bio_task task;
	struct server *srv;
	struct owned *objs;
	uint64_t id;
	struct identity who;
	const char *why;
};

static void release_run(struct bio_task *t, void *w)
{
	(void)w;
	struct release *r = (struct release *)t;
	unsigned progs = owned__count(r->objs, OBJ_PROG), maps = owned__count(r->objs, OBJ_MAP);
	unsigned links = owned__count(r->objs, OBJ_LINK);
	owned__release_all(r->objs);
	audit__shutdown(r->id, &r->who, r->why, progs, maps, links, r->objs);
	enum obj_kind k;
	uint32_t id;
	const char *p;
	for (unsigned i = 0; (p = owned__pin_at(r->objs, i, &k, &id)); i++)
		session__log(NULL, LOG_WARNING, "left pinned: %s %u at %s", owned__kind_name(k), id, p);
	if (progs || maps || links)
		session__log(NULL, LOG_NOTICE, "session %llu ended (%s): released %u programs, %u maps, %u links",
			     (unsigned long long)r->id, r->why, progs, maps, links);
	owned__free(r->objs);
}

static void release_done(struct bio_task *t)
{
	struct release *r = (struct release *)t;
	struct server *srv = r->srv;
	free(r);
	server__maybe_stop(srv);
}

/* Everything has come back from the workers: hand the kernel objects to a
 * worker to release (slow detaches stay off the loop) and free the rest. */
static void finish(struct session *s)
{
	struct server *srv = s->srv;
	ASSERT(s->state != SESS_OPEN && !s->running && !s->n_jobs && !job__busy(s) && !surface__busy(s));
	surface__end(s, false);
	bgtrace__end_owner(srv, s->id, s->end_reason ? s->end_reason : "eof");
	struct release *r = malloc(sizeof(*r));
	if (s->sink)
		s->sink->gone(s);
	else
		loop__unwatch(&srv->loop, s->in_fd);
	if (!s->sink && s->out_fd != s->in_fd)
		loop__unwatch(&srv->loop, s->out_fd);
	if (s->own_fds) {
		close(s->in_fd);
		if (s->out_fd != s->in_fd)
			close(s->out_fd);
	}
	if (r) {
		*r = (struct release){ .task = { .run = release_run, .done = release_done }, .srv = srv, .objs = s->objs,
				       .id = s->id, .who = s->env.who, .why = s->end_reason ? s->end_reason : "eof" };
		s->objs = NULL;
		bio__submit(&r->task);
	} else {
		/* no memory for the task: release here rather than leak */
		owned__release_all(s->objs);
	}
	metrics__add(&metrics.notes_dropped, s->notes_dropped);
	if (s->notes_dropped)
		session__log(NULL, LOG_NOTICE, "session %llu: %llu notifications dropped (the client did not read)",
			     (unsigned long long)s->id, (unsigned long long)s->notes_dropped);
	if (s->prev)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	srv->n_sessions--;
	free_session(s);
	server__session_gone(srv);
}

static bool maybe_end(struct session *s)
{
	if (s->state == SESS_OPEN || s->running || job__busy(s) || surface__busy(s))
		return false;
	if (s->state == SESS_DRAINING && (s->n_jobs || out_pending(s)))
		return false;   /* jobs run to their end (file input); replies go out */
	if (s->n_jobs)
		job__cancel_all(s, "SHUTDOWN");
	if (s->n_jobs)
		return false;
	finish(s);
	return true;
}

void session__close(struct session *s, const char *why)
{
	ASSERT(s->state == SESS_OPEN || s->state == SESS_DRAINING || s->state == SESS_CLOSING);
	if (s->state == SESS_CLOSING)
		return;
	s->state = SESS_CLOSING;
	s->end_reason = why;
	pthread_mutex_lock(&s->out_lock);
	s->out_broken = true;   /* nothing more is written */
	pthread_mutex_unlock(&s->out_lock);
	job__cancel_all(s, "SHUTDOWN");
	if (s->running)
		call__cancel(s, NULL, 0);
}

void session__pump(struct session *s)
{
	session__flush(s);
	/* answering stops at SESSION_OUT_SOFT pending bytes; a flush that
	 * drains them lets it go on with the lines already read */
	for (size_t before = SIZE_MAX; s->req_start != before;) {
		before = s->req_start;
		answer_lines(s);
		session__flush(s);
	}
	if (s->running && s->state != SESS_CLOSING)
		s->sink ? s->sink->scan(s) : scan_cancels(s);
	if (!s->sink)
		compact(s);
	if (s->eof && s->state == SESS_OPEN && !s->running && !memchr(s->req + s->req_start, '\n', s->req_end - s->req_start))
		end_of_input(s);
	session__flush(s);
	if (maybe_end(s))
		return;
	watch(s);
}

static void on_io(void *data, int fd, uint32_t events)
{
	struct session *s = data;
	if (events & EPOLLOUT)
		session__flush(s);
	if (fd == s->in_fd && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && s->state == SESS_OPEN && !s->eof &&
	    s->req_end < s->req_cap)
		read_input(s, events);
	else if (s->socket && s->eof && (events & (EPOLLHUP | EPOLLERR)))
		session__close(s, "the client went away");
	session__pump(s);
}
