/* Streamable HTTP: MCP on /mcp for both eras, /healthz and /metrics.
 *
 * Each connection reads one request at a time into its own buffer (the
 * head up to HTTP_HEAD_BYTES, a Content-Length body up to request_bytes),
 * answers it, then reads the next: pipelined requests wait in the buffer
 * and are answered in order. A POST to /mcp becomes an exchange with a
 * session, which answers it in the session's order like a line on a
 * socket; its reply comes back as a routed record (session__drain) and
 * goes out as one JSON body, or as a stream of server-sent events when a
 * notification (progress, a log line) or a job comes first.
 *
 * Sessions: a legacy (2025-11-25) client's initialize makes one, named by
 * a random Mcp-Session-Id, that lives until DELETE, http_session_idle_ms
 * without traffic, or the server stops; its GET stream carries what no
 * request is waiting for. A modern (2026-07-28) request is stateless: it
 * runs in a session of its connection's own, made on first use and ended
 * with the connection (what its calls create belongs to the caller's
 * identity anyway: owner.c). A connection closing mid-exchange cancels
 * that request.
 *
 * Who may call: a bearer token from --token-file (compared in constant
 * time) names an identity and its profile; without tokens only a loopback
 * bind is allowed and every client is "anonymous" with --profile. Host
 * must name this server and Origin, when sent, must be its own (DNS
 * rebinding).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcp.h"
#include "web.h"

#include "../assert.h"
#include "../core/clock.h"
#include "../http/http.h"
#include "../json/base64.h"
#include "../kern/owned.h"
#include "../mem/heap.h"
#include "../sys/audit.h"
#include "../sys/metrics.h"

#define WEB_IN_FIRST      4096          /* a connection's first input buffer (it grows for a head or a body) */
#define WEB_KEEPALIVE_MS  15000         /* an SSE comment on a quiet stream, for proxies and client timeouts */
#define WEB_TICK_MS       250           /* how often deadlines are looked at */
#define WEB_TOKENS_MAX    64            /* lines in --token-file */
#define WEB_TOKEN_MIN     16            /* a shorter token is refused: too easy to guess */
#define WEB_TOKEN_MAX     256
#define WEB_TOKEN_FILE_MAX (64 * 1024)
#define WEB_SID_BYTES     16            /* Mcp-Session-Id: 128 random bits, in hex */
#define WEB_PEER_BYTES    64
#define WEB_HOST_BYTES    80
#define WEB_ERR_BYTES     768           /* an error body we write */
#define WEB_ACCEPTS_PER_WAKE 64
#define WEB_NAME_HEADER_MAX 1024        /* Mcp-Name decoded */

#define MCP_HEADER_MISMATCH (-32020)    /* 2026-07-28: headers disagree with the body */
#define MCP_NO_SESSION      (-32001)    /* 2025-11-25 servers' "session not found" */

struct token {
	char name[CONFIG_NAME_BYTES];
	char secret[WEB_TOKEN_MAX];
	size_t len;
	enum profile profile;
	bool foreign;
};

enum conn_state {
	C_IDLE,       /* between requests: http_idle_ms */
	C_HEAD,       /* a head is arriving: http_request_ms from its first byte */
	C_BODY,       /* its body is arriving, within the same deadline */
	C_EXCHANGE,   /* answered by a session (or a stream is open) */
	C_REPLY,      /* a response is queued: written, then the next request */
};

struct item;
struct wsess;

struct conn {
	struct web *web;
	struct conn *prev, *next;          /* every connection */
	struct conn *xprev, *xnext;        /* its session's exchanges */
	struct conn *lprev, *lnext;        /* the "later" list */
	bool on_later;
	int fd;
	enum conn_state state;
	uint64_t deadline_ns;
	char peer[WEB_PEER_BYTES];
	char *in;
	size_t in_len, in_cap;
	size_t req_len;                    /* head + body of the request being answered */
	uint64_t body_len;
	int token;                         /* the request's token index, -1 anonymous */
	/* the exchange */
	struct wsess *ws;                  /* its session, NULL when none */
	struct wsess *own;                 /* this connection's modern-era session */
	uint64_t route;
	char id[LIMIT_ID_BYTES];
	size_t id_len;
	bool queued;                       /* its item waits in ws's queue */
	bool modern;                       /* the request's era (status mapping) */
	bool init;                         /* a legacy initialize: the reply names the session */
	bool sse, chunked;                 /* a stream's head is out */
	bool stream;                       /* the legacy GET stream */
	bool in_flight;                    /* counted in web->in_flight */
	bool close_after;                  /* Connection: close */
	bool http10;                       /* an HTTP/1.0 request: no chunked coding, keep-alive said out loud */
	bool head_only;
	bool dead;                         /* the peer is gone or a write failed */
	bool body_read;                    /* the request's body was consumed (else a refusal closes) */
	/* output */
	char *out;
	size_t out_off, out_len, out_cap;
	uint64_t wrote_ns;
	uint64_t stalled_ns;               /* since when output waits on a client that does not read, or 0 */
};

struct item {
	struct item *next;
	struct conn *c;                    /* the exchange, NULL for a notification (answered 202) */
	uint64_t route;
	bool scanned;
	size_t len;
	char line[];
};

struct wsess {
	struct web *web;
	struct session *s;
	char sid[2 * WEB_SID_BYTES + 1];   /* legacy: its Mcp-Session-Id; "" for a connection's own */
	int token;
	struct item *head, *tail;
	unsigned n_items;
	struct item *cur;                  /* the request being answered */
	struct conn *xs;                   /* exchanges in progress */
	struct conn *stream;               /* legacy: the GET stream */
	struct conn *owner;                /* a connection's own session: that connection */
	uint64_t idle_ns;                  /* 0, or since when nothing was in progress */
	bool init_failed;                  /* its initialize was refused: it ends */
};

struct web {
	struct server *srv;
	int fd;
	uint16_t port;
	char host[WEB_HOST_BYTES];         /* the bind address as a Host names it, without the port */
	bool loopback, wildcard;
	struct token tokens[WEB_TOKENS_MAX];
	unsigned n_tokens;
	struct conn *conns;
	unsigned n_conns, n_sessions;
	unsigned in_flight;
	uint64_t next_route;
	struct loop_timer tick, soon;
	bool tick_armed;
	struct conn *later;
	struct conn *dirty[64];            /* touched while a session's output is drained */
	unsigned n_dirty;
	bool dirty_overflow;
	uint64_t responses;
};

static const struct sink_ops web_sink;
static void conn_close(struct conn *c);
static void conn_advance(struct conn *c);
static void arm_tick(struct web *w);

/* ---- output ------------------------------------------------------------------------ */

static bool out_room(struct conn *c, size_t n)
{
	if (c->out_len + n <= c->out_cap)
		return true;
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off, c->out_off = 0;
		if (c->out_len + n <= c->out_cap)
			return true;
	}
	size_t cap = c->out_cap * 2 > c->out_len + n ? c->out_cap * 2 : c->out_len + n + 1024;
	char *p = realloc(c->out, cap);
	if (!p)
		return false;
	c->out = p, c->out_cap = cap;
	return true;
}

static void out_put(struct conn *c, const char *p, size_t n)
{
	if (!out_room(c, n)) {
		c->dead = true;   /* no heap for the response: the client sees the connection close */
		return;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct conn *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ASSERT(n >= 0 && (size_t)n < sizeof(buf));
	out_put(c, buf, (size_t)n);
}

static size_t out_pending(const struct conn *c)
{
	return c->out_len - c->out_off;
}

static void conn_write(struct conn *c)
{
	while (!c->dead && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n, c->wrote_ns = now_ns(), c->stalled_ns = 0;
		} else if (n < 0 && errno == EAGAIN) {
			if (!c->stalled_ns)
				c->stalled_ns = now_ns();   /* the client does not read: see on_tick */
			break;
		} else if (!(n < 0 && errno == EINTR)) {
			c->dead = true;
		}
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->out_cap > SESSION_OUT_KEEP) {
			free(c->out);
			c->out = NULL, c->out_cap = 0;
		}
	}
}

/* Reading between and within requests; while a request is answered only
 * the peer's leaving (its cancellation); while a reply is written, only
 * that (a client may half-close once it has sent its request). */
static void conn_mask(struct conn *c)
{
	uint32_t m = 0;
	if (c->state == C_IDLE || c->state == C_HEAD || c->state == C_BODY)
		m = EPOLLIN | EPOLLRDHUP;
	else if (c->state == C_EXCHANGE)
		m = EPOLLRDHUP;
	if (out_pending(c))
		m |= EPOLLOUT;
	loop__mask(&c->web->srv->loop, c->fd, m);
}

/* Work that must not run inside a session's drain or pump: it runs from
 * a timer due at once. */
static void on_soon(void *data);
static void later(struct conn *c)
{
	struct web *w = c->web;
	if (c->on_later)
		return;
	c->on_later = true;
	c->lprev = NULL, c->lnext = w->later;
	if (w->later)
		w->later->lprev = c;
	w->later = c;
	loop__timer_at(&w->srv->loop, &w->soon, 0, on_soon, w);
}

static void unlater(struct conn *c)
{
	if (!c->on_later)
		return;
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		c->web->later = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	c->on_later = false;
}

/* ---- responses --------------------------------------------------------------------- */

static void log_status(struct conn *c, int status, const char *why)
{
	/* at warning: an operator sees each refusal at the default --log-level */
	session__log(NULL, LOG_WARNING, "http %s: %d %s: %s", c->peer, status, http__reason(status), why);
}

/* What a response says about the connection: close, or for an HTTP/1.0
 * client that asked to keep it, that it is kept (RFC 9112 appendix C.2.2:
 * such a client reads the response as closing without it). */
static const char *conn_persist(const struct conn *c)
{
	return c->close_after ? "Connection: close\r\n" : c->http10 ? "Connection: keep-alive\r\n" : "";
}

/* A whole response (head and body); the connection reads its next request
 * once it is written, or closes (close). */
static void respond(struct conn *c, int status, const char *ctype, const char *body, size_t len, const char *extra,
		    bool close)
{
	c->close_after |= close || (c->body_len && !c->body_read);   /* an unread body cannot be skipped safely */
	metrics__http(status);
	c->web->responses++;
	out_printf(c, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n%s%s%s%s%s\r\n", status,
		   http__reason(status), len, ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
		   conn_persist(c), extra ? extra : "");
	if (!c->head_only)
		out_put(c, body, len);
	c->state = C_REPLY;
	conn_write(c);
	later(c);
}

/* A JSON-RPC error as the body (id from the exchange when known). */
static void respond_rpc(struct conn *c, int status, int code, const char *msg, const char *extra, bool close)
{
	char buf[WEB_ERR_BYTES];
	struct jw w;
	jw__init(&w, buf, sizeof(buf));
	rpc__error(&w, c->id_len ? c->id : NULL, c->id_len, code, msg, NULL, 0);
	ASSERT(!w.overflow);
	if (status >= 400)
		log_status(c, status, msg);
	respond(c, status, "application/json", buf, w.len, extra, close);
}

/* An HTTP-level refusal: a small JSON body saying why. */
static void refuse(struct conn *c, int status, const char *why, const char *extra, bool close)
{
	char buf[WEB_ERR_BYTES];
	struct jw w;
	jw__init(&w, buf, sizeof(buf));
	jw__obj(&w);
	jw__kint(&w, "status", status);
	jw__kstr(&w, "error", why);
	jw__obj_end(&w);
	ASSERT(!w.overflow);
	log_status(c, status, why);
	respond(c, status, "application/json", buf, w.len, extra, close);
}

/* The limit-named refusal of a cap. */
static void refuse_cap(struct conn *c, enum limit_id lim, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: the %s cap (%llu) is reached; try again later (its operator can raise --limit "
		 "%s=N, max %llu)", what, limit_defs[lim].name, (unsigned long long)limits[lim], limit_defs[lim].name,
		 (unsigned long long)limit_defs[lim].max);
	metrics__cap(lim);
	respond_rpc(c, 503, MCP_ACCESS_DENIED, msg, "Retry-After: 1\r\n", false);
}

static void sse_head(struct conn *c, const char *sid)
{
	c->sse = true;
	c->close_after |= c->http10;   /* no chunked coding on 1.0 (RFC 9112 6.1): the stream ends with the connection */
	c->chunked = !c->close_after;
	metrics__http(200);
	out_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
		   "X-Accel-Buffering: no\r\n%s%s%s%s\r\n", c->chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n",
		   sid ? "Mcp-Session-Id: " : "", sid ? sid : "", sid ? "\r\n" : "");
}

/* One SSE event (or comment) as one chunk. */
static void sse_event(struct conn *c, const char *data, size_t n, bool comment)
{
	static const char ev[] = "event: message\ndata: ", end[] = "\n\n";
	size_t len = comment ? 3 : sizeof(ev) - 1 + n + sizeof(end) - 1;
	if (c->chunked)
		out_printf(c, "%zx\r\n", len);
	if (comment) {
		out_put(c, ":\n\n", 3);
	} else {
		out_put(c, ev, sizeof(ev) - 1);
		out_put(c, data, n);
		out_put(c, end, sizeof(end) - 1);
	}
	if (c->chunked)
		out_put(c, "\r\n", 2);
}

static void sse_end(struct conn *c)
{
	if (c->chunked)
		out_put(c, "0\r\n\r\n", 5);
	else
		c->close_after = true;
	c->state = C_REPLY;
}

/* ---- exchanges ------------------------------------------------------------------------ */

static void exchange_link(struct conn *c, struct wsess *ws)
{
	c->ws = ws;
	c->xprev = NULL, c->xnext = ws->xs;
	if (ws->xs)
		ws->xs->xprev = c;
	ws->xs = c;
	ws->idle_ns = 0;
}

static void exchange_unlink(struct conn *c)
{
	struct wsess *ws = c->ws;
	if (!ws)
		return;
	if (c->stream) {
		ws->stream = NULL;
	} else {
		if (c->xprev)
			c->xprev->xnext = c->xnext;
		else
			ws->xs = c->xnext;
		if (c->xnext)
			c->xnext->xprev = c->xprev;
	}
	if (c->in_flight)
		c->web->in_flight--;
	c->in_flight = false;
	c->ws = NULL;
	c->xprev = c->xnext = NULL;
}

static struct conn *exchange_of(struct wsess *ws, uint64_t route)
{
	if (!route)
		return ws->stream;
	for (struct conn *c = ws->xs; c; c = c->xnext)
		if (c->route == route)
			return c;
	return NULL;
}

/* The error code of a reply, when it is a JSON-RPC error (our writer puts
 * "error" right after the id). */
static bool reply_error(const struct conn *c, const char *line, size_t n, int *code)
{
	char pre[64 + LIMIT_ID_BYTES];
	int k = snprintf(pre, sizeof(pre), "{\"jsonrpc\":\"2.0\",\"id\":%.*s,\"error\":{\"code\":",
			 c->id_len ? (int)c->id_len : 4, c->id_len ? c->id : "null");
	if ((size_t)k >= n || memcmp(line, pre, (size_t)k))
		return false;
	*code = (int)strtol(line + k, NULL, 10);
	return true;
}

/* The status a JSON reply goes out with: the transport's errors are HTTP
 * errors too (2026-07-28 asks for 404 and 400; a parse error is a bad
 * request in either era). */
static int reply_status(const struct conn *c, const char *line, size_t n)
{
	int code;
	if (!reply_error(c, line, n, &code))
		return 200;
	if (code == MCP_PARSE_ERROR || code == MCP_INVALID_REQUEST)
		return 400;
	if (c->modern && code == MCP_METHOD_NOT_FOUND)
		return 404;
	if (c->modern && (code == MCP_UNSUPPORTED_VERSION || code == MCP_HEADER_MISMATCH))
		return 400;
	return 200;
}

static void mark_dirty(struct web *w, struct conn *c)
{
	for (unsigned i = 0; i < w->n_dirty; i++)
		if (w->dirty[i] == c)
			return;
	if (w->n_dirty < sizeof(w->dirty) / sizeof(w->dirty[0]))
		w->dirty[w->n_dirty++] = c;
	else
		w->dirty_overflow = true;   /* every exchange of the session is written after */
}

/* One record of a session's output (under its output lock: no session
 * calls here). */
static void on_record(void *data, struct session *s, uint64_t route, enum out_kind kind, const char *line, size_t n)
{
	struct wsess *ws = data;
	struct conn *c = exchange_of(ws, route);
	if (!c || c->state != C_EXCHANGE) {
		if (kind == OUT_NOTE)
			s->notes_dropped++;   /* no one waits for it: a legacy session without its GET stream */
		return;
	}
	mark_dirty(ws->web, c);
	if (kind != OUT_REPLY) {
		if (kind == OUT_NOTE && out_pending(c) > SESSION_OUT_SOFT) {
			s->notes_dropped++;
			return;
		}
		if (!c->sse)
			sse_head(c, NULL);
		sse_event(c, line, n, false);
		return;
	}
	if (c->sse) {
		sse_event(c, line, n, false);
		sse_end(c);
	} else {
		char extra[64 + 2 * WEB_SID_BYTES];
		int code;
		bool failed = reply_error(c, line, n, &code);
		if (c->init && !failed)
			snprintf(extra, sizeof(extra), "Mcp-Session-Id: %s\r\n", ws->sid);
		else
			extra[0] = 0;
		ws->init_failed |= c->init && failed;
		int st = reply_status(c, line, n);
		metrics__http(st);
		ws->web->responses++;
		out_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			   "Cache-Control: no-store\r\n%s%s\r\n", st, http__reason(st), n, conn_persist(c), extra);
		out_put(c, line, n);
		c->state = C_REPLY;
	}
	exchange_unlink(c);
}

static void deliver(struct session *s)
{
	struct wsess *ws = s->sink_data;
	struct web *w = ws->web;
	w->n_dirty = 0, w->dirty_overflow = false;
	session__drain(s, on_record, ws);
	for (unsigned i = 0; i < w->n_dirty; i++) {
		conn_write(w->dirty[i]);
		later(w->dirty[i]);
	}
	if (w->dirty_overflow)
		for (struct conn *c = w->conns; c; c = c->next)
			if (out_pending(c) || c->state == C_REPLY)
				conn_write(c), later(c);
	w->n_dirty = 0;
	if (ws->init_failed && s->state == SESS_OPEN)
		session__close(s, "its initialize was refused");
}

/* ---- the sink: a session's requests come from its exchanges ----------------------------- */

static bool sink_next(struct session *s, char **line, size_t *len, uint64_t *route)
{
	struct wsess *ws = s->sink_data;
	free(ws->cur);
	ws->cur = NULL;
	struct item *it = ws->head;
	if (!it)
		return false;
	ws->head = it->next;
	if (!ws->head)
		ws->tail = NULL;
	ws->n_items--;
	if (it->c)
		it->c->queued = false;
	ws->cur = it;
	*line = it->line, *len = it->len, *route = it->route;
	return true;
}

/* While a call runs, a waiting notifications/cancelled takes effect now. */
static void sink_scan(struct session *s)
{
	struct wsess *ws = s->sink_data;
	for (struct item **pp = &ws->head, *it; (it = *pp);) {
		if (!it->c && !it->scanned && (it->scanned = true, methods__line(s, it->line, it->len, true))) {
			*pp = it->next;
			if (ws->tail == it)
				ws->tail = NULL;
			ws->n_items--;
			free(it);
			continue;
		}
		pp = &it->next;
	}
	if (!ws->tail)
		for (struct item *it = ws->head; it; it = it->next)
			ws->tail = it;
}

/* The session job hook: a call turned into a job answers over time, so
 * its exchange becomes a stream now (the client sees headers at once). */
static void sink_job(struct session *s, uint64_t route)
{
	struct wsess *ws = s->sink_data;
	struct conn *c = exchange_of(ws, route);
	if (!c || c->sse || c->state != C_EXCHANGE || !route)
		return;
	sse_head(c, NULL);
	conn_write(c);
	later(c);
}

/* What the session's end leaves: exchanges still open are ended (a stream
 * closes; a request not answered is told the session is gone). */
static void end_exchange(struct conn *c, bool stopping)
{
	if (c->sse) {
		sse_end(c);
	} else {
		c->state = C_REPLY;   /* respond_rpc sets it too; keeps exchange_unlink's view consistent */
		respond_rpc(c, stopping ? 503 : 404, MCP_NO_SESSION,
			    stopping ? "the server is shutting down" : "the session ended (DELETE, idle or closed) before "
			    "this request was answered", NULL, false);
	}
	exchange_unlink(c);
	conn_write(c);
	later(c);
}

static void sink_gone(struct session *s)
{
	struct wsess *ws = s->sink_data;
	struct web *w = ws->web;
	bool stopping = s->srv->stopping;
	while (ws->head) {
		struct item *it = ws->head;
		ws->head = it->next;
		if (it->c) {
			it->c->queued = false;
			end_exchange(it->c, stopping);
		}
		free(it);
	}
	while (ws->xs)
		end_exchange(ws->xs, stopping);
	if (ws->stream)
		end_exchange(ws->stream, stopping);
	if (ws->owner) {
		ws->owner->own = NULL;
		s->srv->n_transient--;
	}
	if (ws->sid[0])
		w->n_sessions--;
	free(ws->cur);
	free(ws);
	s->sink_data = NULL;
}

static const struct sink_ops web_sink = { .next = sink_next, .scan = sink_scan, .deliver = deliver, .gone = sink_gone,
					  .job = sink_job };

static struct wsess *wsess_new(struct web *w, int token, bool legacy)
{
	struct wsess *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return NULL;
	struct identity who = { .kind = token >= 0 ? IDENT_TOKEN : IDENT_ANONYMOUS };
	snprintf(who.user, sizeof(who.user), "%s", token >= 0 ? w->tokens[token].name : "anonymous");
	enum profile p = token >= 0 ? w->tokens[token].profile : w->srv->cfg->profile;
	bool foreign = token >= 0 ? w->tokens[token].foreign : w->srv->cfg->allow_foreign;
	ws->web = w, ws->token = token;
	if (legacy) {
		uint8_t rnd[WEB_SID_BYTES];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			free(ws);
			return NULL;
		}
		for (unsigned i = 0; i < sizeof(rnd); i++)
			snprintf(ws->sid + 2 * i, 3, "%02x", rnd[i]);
	}
	ws->s = session__new_sink(w->srv, &web_sink, ws, &who, p, foreign);
	if (!ws->s) {
		free(ws);
		return NULL;
	}
	if (legacy)
		w->n_sessions++;
	char detail[128];
	snprintf(detail, sizeof(detail), "http %s, profile %s%s", legacy ? "session" : "stateless", config__profile_name(p),
		 foreign ? "+foreign" : "");
	audit__event(ws->s->id, &who, "session_start", detail);
	arm_tick(w);
	return ws;
}

static struct wsess *find_session(struct web *w, const char *sid, size_t n)
{
	if (n != 2 * WEB_SID_BYTES)
		return NULL;
	for (struct session *s = w->srv->sessions; s; s = s->next) {
		struct wsess *ws = s->sink == &web_sink ? s->sink_data : NULL;
		if (ws && ws->sid[0] && s->state == SESS_OPEN && !memcmp(ws->sid, sid, n))
			return ws;
	}
	return NULL;
}

/* Hands the body to ws as a request (c waits for its answer) or a
 * notification (c is answered 202 now). */
static void submit(struct conn *c, struct wsess *ws, const char *body, size_t len, bool request)
{
	struct web *w = c->web;
	if (request && w->in_flight >= limits[LIM_HTTP_REQUESTS])
		return refuse_cap(c, LIM_HTTP_REQUESTS, "too many requests in flight");
	struct item *it = malloc(sizeof(*it) + len);
	if (!it)
		return respond_rpc(c, 503, MCP_INTERNAL_ERROR, "no heap left to hold the request; raise --limit heap_bytes=N",
				   NULL, false);
	*it = (struct item){ .c = request ? c : NULL, .route = request ? ++w->next_route : 0, .len = len };
	memcpy(it->line, body, len);
	if (ws->tail)
		ws->tail->next = it;
	else
		ws->head = it;
	ws->tail = it;
	ws->n_items++;
	ws->idle_ns = 0;
	if (request) {
		c->route = it->route;
		c->queued = true;
		c->in_flight = true;
		w->in_flight++;
		c->state = C_EXCHANGE;
		exchange_link(c, ws);
	} else {
		respond(c, 202, NULL, "", 0, NULL, false);
	}
	session__pump(ws->s);
}

/* The client went away while its request was waiting or running: it is
 * cancelled (a modern connection's own session ends with the connection). */
static void exchange_abandon(struct conn *c)
{
	struct wsess *ws = c->ws;
	if (!ws)
		return;
	if (c->queued) {
		for (struct item **pp = &ws->head, *it; (it = *pp); pp = &it->next)
			if (it->c == c) {
				*pp = it->next;
				ws->n_items--;
				free(it);
				break;
			}
		ws->tail = NULL;
		for (struct item *it = ws->head; it; it = it->next)
			ws->tail = it;
		c->queued = false;
	}
	bool cancel = !c->stream && ws != c->own && c->id_len;
	exchange_unlink(c);
	if (cancel && methods__cancel(ws->s, c->id, c->id_len))
		session__log(ws->s, LOG_INFO, "http %s: the client closed its connection: request %.*s cancelled", c->peer,
			     (int)c->id_len, c->id);
	session__pump(ws->s);
}

/* ---- who is calling ------------------------------------------------------------------- */

/* Constant time in the token's content: every byte of every token is
 * compared, whatever matches. */
static int token_of(const struct web *w, const char *v, size_t n)
{
	int found = -1;
	for (unsigned i = 0; i < w->n_tokens; i++) {
		const struct token *t = &w->tokens[i];
		unsigned diff = (unsigned)(n ^ t->len);
		for (size_t k = 0; k < WEB_TOKEN_MAX; k++) {
			unsigned char a = k < n ? (unsigned char)v[k] : 0, b = (unsigned char)t->secret[k];
			diff |= a ^ b;
		}
		found = diff ? found : (int)i;
	}
	return found;
}

/* The caller's token index, -1 anonymous; -2 when refused (answered 401). */
static int authenticate(struct conn *c, const struct http_req *r)
{
	struct web *w = c->web;
	if (!w->n_tokens)
		return -1;
	size_t n = 0;
	int count;
	const char *v = http__field(r, "authorization", &n, &count);
	int t = -2;
	if (v && count == 1 && n > 7 && !strncasecmp(v, "Bearer ", 7)) {
		size_t k = 7;
		while (k < n && v[k] == ' ')
			k++;   /* 1*SP (RFC 6750 2.1) */
		if (n - k <= WEB_TOKEN_MAX)
			t = token_of(w, v + k, n - k);
	}
	if (t >= 0)
		return t;
	struct identity who = { .kind = IDENT_ANONYMOUS };
	snprintf(who.user, sizeof(who.user), "%s", c->peer);
	audit__event(0, &who, "refused", v ? "http: unknown bearer token" : "http: no bearer token");
	metrics__add(&metrics.auth_failures, 1);
	refuse(c, 401, v ? "the bearer token is not one of this server's (--token-file)" : "a bearer token is required "
	       "(Authorization: Bearer TOKEN; tokens come from this server's --token-file)",
	       v ? "WWW-Authenticate: Bearer realm=\"ebpf-mcp\", error=\"invalid_token\"\r\n"
		 : "WWW-Authenticate: Bearer realm=\"ebpf-mcp\"\r\n", false);
	return -2;
}

/* host[:port] split; false when malformed. */
static bool split_host(const char *v, size_t n, const char **h, size_t *hn, unsigned *port)
{
	*port = 80;
	if (n && v[0] == '[') {
		const char *rb = memchr(v, ']', n);
		if (!rb)
			return false;
		*h = v, *hn = (size_t)(rb - v) + 1;
	} else {
		const char *colon = memchr(v, ':', n);
		*h = v, *hn = colon ? (size_t)(colon - v) : n;
	}
	if (*hn == n)
		return *hn > 0;
	if (v[*hn] != ':' || *hn + 1 == n || n - *hn - 1 > 5)
		return false;
	unsigned p = 0;
	for (size_t i = *hn + 1; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		p = p * 10 + (unsigned)(v[i] - '0');
	}
	*port = p;
	return *hn > 0 && p <= 65535;
}

static bool name_eq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && !strncasecmp(a, b, n);
}

/* Whether a Host (or an Origin's host) names this server. */
static bool host_ok(const struct web *w, const char *v, size_t n)
{
	const struct config *cfg = w->srv->cfg;
	for (unsigned i = 0; i < cfg->n_allow_hosts; i++) {
		const char *a = cfg->allow_hosts[i];
		if (name_eq(v, n, a))
			return true;
		const char *h;
		size_t hn;
		unsigned port;
		if (!strchr(a, ':') && split_host(v, n, &h, &hn, &port) && name_eq(h, hn, a))
			return true;   /* an allowed name without a port: any port */
	}
	const char *h;
	size_t hn;
	unsigned port;
	if (!split_host(v, n, &h, &hn, &port) || port != w->port)
		return false;
	/* a wildcard bind has no name of its own: any, unless --allow-host names them */
	return (w->wildcard && !cfg->n_allow_hosts) || name_eq(h, hn, w->host) ||
	       (w->loopback && name_eq(h, hn, "localhost"));
}

/* This server's own origin: http, or https through a TLS proxy in front
 * (whose name --allow-host gives). */
static bool origin_ok(const struct web *w, const char *v, size_t n)
{
	if (n > 7 && !strncasecmp(v, "http://", 7))
		return host_ok(w, v + 7, n - 7);
	if (n > 8 && !strncasecmp(v, "https://", 8))
		return host_ok(w, v + 8, n - 8);
	return false;
}

/* ---- /mcp ------------------------------------------------------------------------------- */

struct body {
	struct jdoc d;
	int method, id, params, meta, version;
};

/* The Mcp-Name value: plain, or the =?base64?...?= sentinel decoded. */
static bool header_value(const char *v, size_t n, char *out, size_t cap, size_t *len)
{
	if (n >= 11 && !memcmp(v, "=?base64?", 9) && !memcmp(v + n - 2, "?=", 2)) {
		size_t bad;
		return !base64__decode(v + 9, n - 11, (uint8_t *)out, cap, len, &bad);
	}
	if (n > cap)
		return false;
	memcpy(out, v, n);
	*len = n;
	return true;
}

/* 2026-07-28's request metadata headers against the body; false after
 * answering 400 HeaderMismatch. A header that is sent must agree with the
 * body. A request must send them; a notification may leave them out: the
 * reference SDK requires them of requests only, and its client cancels
 * subscriptions/listen with a notifications/cancelled that has no Mcp-Method
 * (refusing it only answers a message we ignore with an error). */
static bool modern_headers(struct conn *c, const struct http_req *r, const struct body *b)
{
	const struct jdoc *d = &b->d;
	bool required = b->id >= 0;
	char msg[256], want[WEB_NAME_HEADER_MAX], got[WEB_NAME_HEADER_MAX];
	size_t n = 0, wn, gn;
	const char *pv = http__field(r, "mcp-protocol-version", &n, NULL);
	if (pv ? jdoc__str(d, b->version, want, sizeof(want), &wn) || wn != n || memcmp(pv, want, n) : required) {
		snprintf(msg, sizeof(msg), "Header mismatch: MCP-Protocol-Version %s the body's _meta %s", pv ? "differs from" :
			 "is missing; it must repeat", MCP_META_VERSION);
		respond_rpc(c, 400, MCP_HEADER_MISMATCH, msg, NULL, false);
		return false;
	}
	const char *mm = http__field(r, "mcp-method", &n, NULL);
	jdoc__str(d, b->method, want, sizeof(want), &wn);
	if (mm ? wn != n || memcmp(mm, want, n) : required) {
		snprintf(msg, sizeof(msg), "Header mismatch: Mcp-Method %s the body's method '%.64s'",
			 mm ? "differs from" : "is missing; it must name", want);
		respond_rpc(c, 400, MCP_HEADER_MISMATCH, msg, NULL, false);
		return false;
	}
	const char *key = !strcmp(want, "resources/read") ? "uri"
			  : !strcmp(want, "tools/call") || !strcmp(want, "prompts/get") ? "name" : NULL;
	int nt = key && b->params >= 0 ? jdoc__get(d, b->params, key) : -1;
	if (!key || !jdoc__is_str(d, nt))
		return true;   /* the method layer says what is wrong with the body */
	const char *mn = http__field(r, "mcp-name", &n, NULL);
	if (jdoc__str(d, nt, want, sizeof(want), &wn))
		return true;
	if (mn ? !header_value(mn, n, got, sizeof(got), &gn) || gn != wn || memcmp(got, want, wn) : required) {
		snprintf(msg, sizeof(msg), "Header mismatch: Mcp-Name %s the body's params.%s '%.128s'",
			 mn ? "differs from" : "is missing; it must repeat", key, want);
		respond_rpc(c, 400, MCP_HEADER_MISMATCH, msg, NULL, false);
		return false;
	}
	return true;
}

static const char *const legacy_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26" };

static bool legacy_version_ok(const char *v, size_t n)
{
	for (unsigned i = 0; i < sizeof(legacy_versions) / sizeof(legacy_versions[0]); i++)
		if (name_eq(v, n, legacy_versions[i]))
			return true;
	return false;
}

/* A legacy request's session from Mcp-Session-Id; NULL after answering. */
static struct wsess *legacy_session(struct conn *c, const struct http_req *r)
{
	size_t n = 0;
	const char *sid = http__field(r, "mcp-session-id", &n, NULL);
	if (!sid) {
		respond_rpc(c, 400, MCP_INVALID_REQUEST, "Bad Request: the Mcp-Session-Id header is required: send initialize "
			    "first (MCP 2025-11-25), or name the protocol version in params._meta (2026-07-28)", NULL, false);
		return NULL;
	}
	struct wsess *ws = find_session(c->web, sid, n);
	if (!ws || ws->token != c->token) {
		respond_rpc(c, 404, MCP_NO_SESSION, "Session not found: it ended (DELETE, http_session_idle_ms, a restart) "
			    "or was never made; send initialize again", NULL, false);
		return NULL;
	}
	return ws;
}

static void post_legacy(struct conn *c, const struct http_req *r, struct body *b, const char *body, size_t len)
{
	struct web *w = c->web;
	size_t n = 0;
	const char *pv = http__field(r, "mcp-protocol-version", &n, NULL);
	/* a 2026-07-28 request without the version in its _meta is malformed
	 * (-32602, 400: "Per-request protocol fields"), not a mismatch: there
	 * is no body value to disagree with; one that is there but not a
	 * string does disagree */
	if (pv && name_eq(pv, n, MCP_MODERN_VERSION) && b->version < 0)
		return respond_rpc(c, 400, MCP_INVALID_PARAMS, "Invalid params: MCP-Protocol-Version is " MCP_MODERN_VERSION
				   " but params._meta lacks " MCP_META_VERSION ", which every such request must carry",
				   NULL, false);
	if (pv && name_eq(pv, n, MCP_MODERN_VERSION))
		return respond_rpc(c, 400, MCP_HEADER_MISMATCH, "Header mismatch: MCP-Protocol-Version is " MCP_MODERN_VERSION
				   " but the body's params._meta " MCP_META_VERSION " is not that string", NULL, false);
	if (pv && !legacy_version_ok(pv, n))
		return respond_rpc(c, 400, MCP_INVALID_REQUEST, "Bad Request: unsupported MCP-Protocol-Version; this server "
				   "speaks " MCP_MODERN_VERSION ", 2025-11-25, 2025-06-18 and 2025-03-26", NULL, false);
	bool request = b->id >= 0 && b->method >= 0;
	if (b->method >= 0 && jdoc__str_eq(&b->d, b->method, "initialize") && request) {
		if (http__field(r, "mcp-session-id", NULL, NULL))
			return respond_rpc(c, 400, MCP_INVALID_REQUEST, "Bad Request: initialize starts a session: send it "
					   "without Mcp-Session-Id", NULL, false);
		if (w->srv->n_sessions - w->srv->n_transient >= limits[LIM_SESSIONS])
			return refuse_cap(c, LIM_SESSIONS, "this server serves as many sessions as it may");
		struct wsess *ws = wsess_new(w, c->token, true);
		if (!ws)
			return respond_rpc(c, 503, MCP_INTERNAL_ERROR, "cannot make a session now (heap exhausted)", NULL,
					   false);
		c->init = true;
		return submit(c, ws, body, len, true);
	}
	if (b->method < 0 && b->id >= 0)
		return respond(c, 202, NULL, "", 0, NULL, false);   /* a response to us: we ask nothing */
	struct wsess *ws = legacy_session(c, r);
	if (ws)
		submit(c, ws, body, len, request);
}

static void post_modern(struct conn *c, const struct http_req *r, struct body *b, const char *body, size_t len)
{
	if (!modern_headers(c, r, b))
		return;
	if (b->id < 0)
		return respond(c, 202, NULL, "", 0, NULL, false);   /* cancellation is the connection closing */
	/* malformed: 400 beside methods.c's -32602; a version we do not speak
	 * is methods.c's -32022 first (what it requires is not ours to say) */
	if (jdoc__str_eq(&b->d, b->version, MCP_MODERN_VERSION) && !methods__caps_ok(&b->d, b->meta))
		return respond_rpc(c, 400, MCP_INVALID_PARAMS, MCP_CAPS_MISSING, NULL, false);
	struct wsess *ws = c->own;
	if (ws && ws->token != c->token) {
		/* another token on the same connection: not the same caller */
		c->own = NULL, ws->owner = NULL;
		c->web->srv->n_transient--;
		session__close(ws->s, "the connection changed identity");
		session__pump(ws->s);
		ws = NULL;
	}
	if (!ws) {
		if (!(ws = wsess_new(c->web, c->token, false)))
			return respond_rpc(c, 503, MCP_INTERNAL_ERROR, "cannot make a session now (heap exhausted)", NULL,
					   false);
		c->own = ws, ws->owner = c;
		c->web->srv->n_transient++;
	}
	submit(c, ws, body, len, true);
}

/* A POST body is in: which era, which session. */
static void on_post(struct conn *c, const struct http_req *r, const char *body, size_t len)
{
	struct server *srv = c->web->srv;
	struct body b = { .method = -1, .id = -1, .params = -1, .meta = -1, .version = -1 };
	c->body_read = true;
	struct json_perr e;
	char msg[192];
	if (jdoc__parse(&b.d, body, len, srv->tok, srv->tok_cap, (unsigned)limits[LIM_JSON_DEPTH], &e)) {
		snprintf(msg, sizeof(msg), e.kind == JSON_E_TOKENS ? "request has more than json_tokens JSON tokens"
				   : e.kind == JSON_E_DEPTH ? "request nests deeper than json_depth"
				   : "Parse error at byte %zu: %s", e.offset, e.what);
		if (e.kind == JSON_E_TOKENS || e.kind == JSON_E_DEPTH)
			metrics__cap(e.kind == JSON_E_TOKENS ? LIM_JSON_TOKENS : LIM_JSON_DEPTH);
		return respond_rpc(c, 400, e.kind == JSON_E_SYNTAX ? MCP_PARSE_ERROR : MCP_INVALID_REQUEST, msg, NULL, false);
	}
	if (!jdoc__is_obj(&b.d, 0))
		return respond_rpc(c, 400, MCP_INVALID_REQUEST, jdoc__is_arr(&b.d, 0) ? "batches are not supported: send one "
				   "JSON-RPC message per POST" : "the body must be a JSON-RPC object", NULL, false);
	b.method = jdoc__get(&b.d, 0, "method");
	b.id = jdoc__get(&b.d, 0, "id");
	b.params = jdoc__get(&b.d, 0, "params");
	if (b.params >= 0 && jdoc__is_obj(&b.d, b.params))
		b.meta = jdoc__get(&b.d, b.params, "_meta");
	if (b.meta >= 0 && jdoc__is_obj(&b.d, b.meta))
		b.version = jdoc__get(&b.d, b.meta, MCP_META_VERSION);
	if (b.id >= 0 && (jdoc__is_str(&b.d, b.id) || jdoc__is_num(&b.d, b.id)) &&
	    (size_t)(b.d.t[b.id].end - b.d.t[b.id].start) + 2 <= LIMIT_ID_BYTES) {
		const char *p;
		rpc__raw(&b.d, b.id, &p, &c->id_len);
		memcpy(c->id, p, c->id_len);
	}
	c->modern = b.version >= 0 && jdoc__is_str(&b.d, b.version);
	if (c->modern)
		post_modern(c, r, &b, body, len);
	else
		post_legacy(c, r, &b, body, len);
}

/* POST /mcp's head: what must hold before the body is read. */
static bool post_head_ok(struct conn *c, const struct http_req *r)
{
	size_t n = 0;
	const char *ct = http__field(r, "content-type", &n, NULL);
	if (!ct || !(n >= 16 && !strncasecmp(ct, "application/json", 16) && (n == 16 || ct[16] == ';' || ct[16] == ' ')))
		return refuse(c, 415, "Content-Type must be application/json", NULL, true), false;
	if (!(http__field_has(r, "accept", "application/json") || http__field_has(r, "accept", "*/*")) ||
	    !(http__field_has(r, "accept", "text/event-stream") || http__field_has(r, "accept", "*/*")))
		return refuse(c, 406, "Accept must list both application/json and text/event-stream (MCP Streamable HTTP)",
			      NULL, true), false;
	if (!http__field(r, "content-length", NULL, NULL))
		return refuse(c, 411, "POST needs a Content-Length", NULL, true), false;
	if (r->content_length > limits[LIM_REQUEST_BYTES]) {
		char msg[192];
		snprintf(msg, sizeof(msg), "body of %llu bytes is over request_bytes (%llu); raise --limit request_bytes=N "
			 "(max %llu)", (unsigned long long)r->content_length, (unsigned long long)limits[LIM_REQUEST_BYTES],
			 (unsigned long long)limit_defs[LIM_REQUEST_BYTES].max);
		metrics__cap(LIM_REQUEST_BYTES);
		return refuse(c, 413, msg, NULL, true), false;   /* the body is not read: the connection ends */
	}
	const char *ex = http__field(r, "expect", &n, NULL);
	if (ex && !name_eq(ex, n, "100-continue"))
		return refuse(c, 417, "only Expect: 100-continue is understood", NULL, true), false;
	if (ex && r->minor >= 1)
		out_put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return true;
}

/* GET /mcp: a legacy session's stream for what no request waits for. */
static void get_stream(struct conn *c, const struct http_req *r)
{
	size_t n = 0;
	const char *pv = http__field(r, "mcp-protocol-version", &n, NULL);
	if (pv && name_eq(pv, n, MCP_MODERN_VERSION))
		return refuse(c, 405, "MCP " MCP_MODERN_VERSION " has no GET stream: use subscriptions/listen",
			      "Allow: POST\r\n", false);
	if (!http__field_has(r, "accept", "text/event-stream"))
		return refuse(c, 406, "GET /mcp opens a stream: Accept must list text/event-stream", NULL, false);
	struct wsess *ws = legacy_session(c, r);
	if (!ws)
		return;
	if (ws->stream)
		return respond_rpc(c, 409, MCP_INVALID_REQUEST, "Conflict: this session's GET stream is already open", NULL,
				   false);
	c->state = C_EXCHANGE;
	c->stream = true;
	c->ws = ws;
	ws->stream = c;
	ws->idle_ns = 0;
	sse_head(c, NULL);
	conn_write(c);
}

static void delete_session(struct conn *c, const struct http_req *r)
{
	size_t n = 0;
	const char *pv = http__field(r, "mcp-protocol-version", &n, NULL);
	if (pv && name_eq(pv, n, MCP_MODERN_VERSION))
		return refuse(c, 405, "MCP " MCP_MODERN_VERSION " has no sessions to delete", "Allow: POST\r\n", false);
	struct wsess *ws = legacy_session(c, r);
	if (!ws)
		return;
	struct session *s = ws->s;
	session__flush(s);
	session__close(s, "DELETE");
	respond(c, 200, NULL, "", 0, NULL, false);
	session__pump(s);   /* may free ws now */
}

/* ---- /healthz and /metrics ------------------------------------------------------------------ */

static void healthz(struct conn *c)
{
	struct server *srv = c->web->srv;
	struct owned_totals t;
	owned__totals(&t);
	char buf[512];
	struct jw w;
	jw__init(&w, buf, sizeof(buf));
	jw__obj(&w);
	jw__kstr(&w, "status", srv->stopping ? "stopping" : "ok");
	jw__kstr(&w, "version", EBPF_MCP_VERSION);
	jw__kuint(&w, "uptime_ms", (now_ns() - srv->started_ns) / 1000000);
	jw__kuint(&w, "sessions", srv->n_sessions);
	jw__kuint(&w, "http_connections", c->web->n_conns);
	jw__key(&w, "held");
	jw__obj(&w);
	jw__kuint(&w, "programs", t.programs);
	jw__kuint(&w, "maps", t.maps);
	jw__kuint(&w, "links", t.links);
	jw__obj_end(&w);
	jw__obj_end(&w);
	ASSERT(!w.overflow);
	respond(c, srv->stopping ? 503 : 200, "application/json", buf, w.len, NULL, false);
}

static void metrics_page(struct conn *c)
{
	char *buf = NULL;
	size_t len = web__metrics(c->web->srv, &buf);
	if (!buf)
		return refuse(c, 503, "no heap left to render the metrics", NULL, false);
	respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len, NULL, false);
	free(buf);
}

/* ---- requests ---------------------------------------------------------------------------------- */

/* Host and Origin: this server's names only (DNS rebinding). */
static bool names_ok(struct conn *c, const struct http_req *r)
{
	size_t n = 0;
	int count;
	const char *h = http__field(r, "host", &n, &count);
	if (r->authority)
		h = r->authority, n = r->authority_len;   /* absolute-form: the target names the host */
	if (h && !host_ok(c->web, h, n)) {
		char msg[192];
		snprintf(msg, sizeof(msg), "Host '%.*s' does not name this server (a DNS rebinding guard); its operator can "
			 "add it with --allow-host", (int)(n > 80 ? 80 : n), h);
		refuse(c, 403, msg, NULL, false);
		return false;
	}
	const char *o = http__field(r, "origin", &n, &count);
	if (o && (count != 1 || !origin_ok(c->web, o, n))) {
		char msg[192];
		snprintf(msg, sizeof(msg), "Origin '%.*s' is not this server's: cross-origin requests are refused",
			 (int)(n > 80 ? 80 : n), o);
		refuse(c, 403, msg, NULL, false);
		return false;
	}
	return true;
}

static bool path_is(const struct http_req *r, const char *p)
{
	return r->path_len == strlen(p) && !memcmp(r->path, p, r->path_len);
}

/* A complete head: answered now, or (POST /mcp) its body is read next. */
static void on_head(struct conn *c, const struct http_req *r)
{
	c->close_after = !r->keep_alive;
	c->http10 = r->minor == 0;
	c->head_only = r->method == HTTP_HEAD;
	c->body_len = r->content_length;
	c->req_len = r->head_len + r->content_length;
	bool post_mcp = r->method == HTTP_POST && path_is(r, "/mcp");
	if (c->web->srv->stopping && !path_is(r, "/healthz"))
		return refuse(c, 503, "the server is shutting down", NULL, true);
	if (r->method == HTTP_OTHER)   /* methods are case-sensitive: "get" is not GET */
		return refuse(c, 501, "method not implemented here (GET, HEAD, POST and DELETE are)", NULL, false);
	/* (a refusal of a request whose body is not read closes the connection: respond) */
	if (!names_ok(c, r))
		return;
	if (!path_is(r, "/mcp") && !path_is(r, "/metrics") && !path_is(r, "/healthz"))
		return refuse(c, 404, "no such path: MCP is at /mcp; /healthz and /metrics beside it", NULL, false);
	if (!post_mcp && r->content_length)
		return refuse(c, 400, "only POST /mcp takes a body", NULL, true);
	if (path_is(r, "/healthz"))
		return r->method == HTTP_GET || r->method == HTTP_HEAD ? healthz(c)
								      : refuse(c, 405, "GET /healthz", "Allow: GET, HEAD\r\n", false);
	if ((c->token = authenticate(c, r)) == -2)
		return;
	if (path_is(r, "/metrics"))
		return r->method == HTTP_GET || r->method == HTTP_HEAD ? metrics_page(c)
								      : refuse(c, 405, "GET /metrics", "Allow: GET, HEAD\r\n", false);
	switch (r->method) {
	case HTTP_POST:
		if (post_head_ok(c, r))
			c->state = C_BODY;
		return;
	case HTTP_GET:
		return get_stream(c, r);
	case HTTP_DELETE:
		return delete_session(c, r);
	default:
		return refuse(c, 405, "/mcp takes POST (and, MCP 2025-11-25, GET and DELETE)", "Allow: GET, POST, DELETE\r\n",
			      false);
	}
}

/* Parses what the buffer holds, as far as it goes. */
static void conn_advance(struct conn *c)
{
	struct http_req r;
	const char *why;
	bool parsed = false;   /* r is c->in's head, parsed in this call (the buffer has not moved since) */
	if (c->state == C_IDLE && c->in_len) {
		c->state = C_HEAD;
		c->deadline_ns = now_ns() + limits[LIM_HTTP_REQUEST_MS] * NS_PER_MS;
	}
	if (c->state == C_HEAD) {
		int st = http__parse(c->in, c->in_len, &r, &why);
		if (st > 0)
			return refuse(c, st, why, NULL, true);
		if (st == 0)
			parsed = true, on_head(c, &r);
	}
	if (c->state == C_BODY && c->in_len >= c->req_len) {
		/* a body that came with its head (the usual case) needs no second parse */
		int st = parsed ? 0 : http__parse(c->in, c->in_len, &r, &why);
		ASSERT(st == 0);
		on_post(c, &r, c->in + r.head_len, (size_t)c->body_len);
	}
}

/* Room to read into: the head's buffer, then one sized for the body. */
static bool in_room(struct conn *c)
{
	size_t want = c->state == C_BODY ? c->req_len : c->in_len < WEB_IN_FIRST ? WEB_IN_FIRST : HTTP_HEAD_BYTES;
	if (c->state != C_BODY && c->in_cap >= HTTP_HEAD_BYTES && c->in_len == c->in_cap)
		return false;   /* a full head buffer: the parser has said 431 */
	if (c->in_len < c->in_cap)
		return true;
	if (want <= c->in_cap)
		want = c->in_cap * 2 < HTTP_HEAD_BYTES ? c->in_cap * 2 : HTTP_HEAD_BYTES;
	char *p = realloc(c->in, want);
	if (!p)
		return false;
	c->in = p, c->in_cap = want;
	return true;
}

static void conn_read(struct conn *c)
{
	if (!in_room(c)) {
		c->dead = true;   /* no heap for a buffer */
		return;
	}
	ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (n > 0) {
		c->in_len += (size_t)n;
		conn_advance(c);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->dead = true;
	}
}

/* A response is written: the next request. */
static void conn_next(struct conn *c)
{
	size_t used = c->req_len <= c->in_len ? c->req_len : c->in_len;
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->req_len = c->body_len = 0;
	c->id_len = 0, c->route = 0;
	c->modern = c->init = c->sse = c->chunked = c->stream = c->head_only = c->body_read = c->http10 = false;
	c->state = C_IDLE;
	c->deadline_ns = now_ns() + limits[LIM_HTTP_IDLE_MS] * NS_PER_MS;
	if (!c->in_len && c->in_cap > WEB_IN_FIRST) {
		free(c->in);   /* an idle connection keeps no big buffer */
		c->in = NULL, c->in_cap = 0;
	}
	conn_advance(c);
}

/* Top-level (never inside a session's pump): closes a dead connection or
 * moves a finished one on (a pipelined request answered at once comes
 * back here through later()). */
static void conn_settle(struct conn *c)
{
	if (!c->dead && c->state == C_REPLY && !out_pending(c)) {
		if (c->close_after)
			return conn_close(c);
		conn_next(c);
	}
	if (c->dead)
		return conn_close(c);
	conn_mask(c);
}

static void on_soon(void *data)
{
	struct web *w = data;
	while (w->later) {
		struct conn *c = w->later;
		unlater(c);
		conn_settle(c);
	}
}

static void on_conn(void *data, int fd, uint32_t events)
{
	(void)fd;
	struct conn *c = data;
	if (events & EPOLLOUT)
		conn_write(c);
	if ((events & EPOLLIN) && (c->state == C_IDLE || c->state == C_HEAD || c->state == C_BODY))
		conn_read(c);
	else if ((events & (EPOLLHUP | EPOLLERR)) || ((events & EPOLLRDHUP) && c->state == C_EXCHANGE))
		c->dead = true;   /* gone while its request is answered: that is its cancellation */
	conn_settle(c);
}

static void conn_close(struct conn *c)
{
	struct web *w = c->web;
	exchange_abandon(c);
	if (c->own) {
		struct session *s = c->own->s;
		c->own->owner = NULL;
		c->own = NULL;
		w->srv->n_transient--;
		session__close(s, "the client closed its connection");
		session__pump(s);
	}
	unlater(c);
	loop__unwatch(&w->srv->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->n_conns--;
	free(c->in);
	free(c->out);
	free(c);
}

/* ---- the tick: deadlines, keep-alives, idle sessions ------------------------------------------- */

static void idle_sessions(struct web *w, uint64_t now)
{
	for (struct session *s = w->srv->sessions, *next; s; s = next) {
		next = s->next;
		struct wsess *ws = s->sink == &web_sink ? s->sink_data : NULL;
		if (!ws || !ws->sid[0] || s->state != SESS_OPEN)
			continue;
		if (ws->xs || ws->head || ws->stream || s->running || s->n_jobs) {
			ws->idle_ns = 0;
		} else if (!ws->idle_ns) {
			ws->idle_ns = now;
		} else if (now - ws->idle_ns >= limits[LIM_HTTP_SESSION_IDLE_MS] * NS_PER_MS) {
			session__log(NULL, LOG_NOTICE, "http session %llu: idle for http_session_idle_ms (%llu ms): ended",
				     (unsigned long long)s->id, (unsigned long long)limits[LIM_HTTP_SESSION_IDLE_MS]);
			metrics__cap(LIM_HTTP_SESSION_IDLE_MS);
			session__close(s, "idle");
			session__pump(s);
		}
	}
}

static void on_tick(void *data)
{
	struct web *w = data;
	uint64_t now = now_ns();
	w->tick_armed = false;
	for (struct conn *c = w->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == C_IDLE && now >= c->deadline_ns) {
			metrics__cap(LIM_HTTP_IDLE_MS);
			conn_close(c);
		} else if ((c->state == C_HEAD || c->state == C_BODY) && now >= c->deadline_ns) {
			metrics__cap(LIM_HTTP_REQUEST_MS);
			refuse(c, 408, "the request did not arrive within http_request_ms", NULL, true);
		} else if (c->stalled_ns && now - c->stalled_ns >= limits[LIM_HTTP_IDLE_MS] * NS_PER_MS) {
			/* a client that stopped reading: its connection (and what
			 * waits for it) goes, as an idle one would */
			metrics__cap(LIM_HTTP_IDLE_MS);
			session__log(NULL, LOG_WARNING, "http %s: no byte read for http_idle_ms (%llu ms) with %zu bytes to "
				     "send: closed", c->peer, (unsigned long long)limits[LIM_HTTP_IDLE_MS], out_pending(c));
			conn_close(c);
		} else if (c->state == C_EXCHANGE && c->sse && now - c->wrote_ns >= WEB_KEEPALIVE_MS * NS_PER_MS) {
			sse_event(c, NULL, 0, true);
			conn_write(c);
			later(c);
		}
	}
	idle_sessions(w, now);
	arm_tick(w);
}

static void arm_tick(struct web *w)
{
	if (w->tick_armed || (!w->n_conns && !w->n_sessions))
		return;
	w->tick_armed = true;
	loop__timer_at(&w->srv->loop, &w->tick, now_ns() + WEB_TICK_MS * NS_PER_MS, on_tick, w);
}

/* ---- accepting --------------------------------------------------------------------------------- */

static void peer_name(const struct sockaddr_storage *sa, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	}
	snprintf(out, cap, sa->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void accept_one(struct web *w, int fd, const struct sockaddr_storage *sa)
{
	if (w->n_conns >= limits[LIM_HTTP_CONNECTIONS]) {
		/* said at once, in one send, with no connection state: the body's length is counted, not typed */
		char msg[256], body[WEB_ERR_BYTES], resp[WEB_ERR_BYTES + 256];
		snprintf(msg, sizeof(msg), "the http_connections cap (%llu) is reached; try again later (its operator can "
			 "raise --limit http_connections=N, max %llu)", (unsigned long long)limits[LIM_HTTP_CONNECTIONS],
			 (unsigned long long)limit_defs[LIM_HTTP_CONNECTIONS].max);
		struct jw jw;
		jw__init(&jw, body, sizeof(body));
		jw__obj(&jw);
		jw__kint(&jw, "status", 503);
		jw__kstr(&jw, "error", msg);
		jw__obj_end(&jw);
		ASSERT(!jw.overflow);
		int len = snprintf(resp, sizeof(resp), "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
				   "Content-Length: %zu\r\nCache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
				   "%.*s", jw.len, (int)jw.len, body);
		ASSERT(len > 0 && (size_t)len < sizeof(resp));
		ssize_t n = send(fd, resp, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)n;
		metrics__cap(LIM_HTTP_CONNECTIONS);
		metrics__http(503);
		close(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c || loop__watch(&w->srv->loop, fd, EPOLLIN | EPOLLRDHUP, on_conn, c)) {
		free(c);
		close(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));   /* small replies go out at once */
	c->web = w, c->fd = fd, c->token = -1;
	c->state = C_IDLE;
	c->deadline_ns = now_ns() + limits[LIM_HTTP_IDLE_MS] * NS_PER_MS;
	peer_name(sa, c->peer, sizeof(c->peer));
	c->next = w->conns;
	if (c->next)
		c->next->prev = c;
	w->conns = c;
	w->n_conns++;
	arm_tick(w);
}

static void on_accept(void *data, int lfd, uint32_t events)
{
	(void)events;
	struct web *w = data;
	for (unsigned n = 0; n < WEB_ACCEPTS_PER_WAKE; n++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "ebpf-mcp: http accept: %s\n", strerror(errno));
			return;
		}
		accept_one(w, fd, &sa);
	}
}

/* ---- start-up ------------------------------------------------------------------------------------ */

/* ADDR:PORT: an IPv4 address, [an IPv6 one], or localhost. */
static int parse_addr(struct web *w, const char *spec, struct sockaddr_storage *sa, socklen_t *len)
{
	const char *colon = strrchr(spec, ':');
	char host[WEB_HOST_BYTES];
	size_t hn = (size_t)(colon - spec);
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || hn == 0 || hn >= sizeof(host))
		return -1;
	memcpy(host, spec, hn);
	host[hn] = 0;
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (host[0] == '[' && host[hn - 1] == ']') {
		host[hn - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6, s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		w->loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
		w->wildcard = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
		host[hn - 1] = ']';
	} else {
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET, s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		w->loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
		w->wildcard = s4->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	snprintf(w->host, sizeof(w->host), "%s", host);
	return 0;
}

static int token_line(struct web *w, char *line, unsigned lineno, const char *path)
{
	char *save, *name = strtok_r(line, " \t", &save), *tok = strtok_r(NULL, " \t", &save);
	char *prof = strtok_r(NULL, " \t", &save), *extra = strtok_r(NULL, " \t", &save);
	if (!name || name[0] == '#')
		return 0;
	const char *why = NULL;
	if (!tok || !prof || extra)
		why = "expected `name token profile` (profile readonly, observe or full, optionally +foreign)";
	else if (strlen(name) >= CONFIG_NAME_BYTES || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						       "0123456789._-") != strlen(name))
		why = "a token's name is letters, digits, '.', '_' and '-' (at most 63)";
	else if (strlen(tok) < WEB_TOKEN_MIN || strlen(tok) > WEB_TOKEN_MAX)
		why = "a token is 16 to 256 bytes (e.g. 32 random bytes in hex: head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')";
	else if (w->n_tokens == WEB_TOKENS_MAX)
		why = "more than 64 tokens";
	if (why)
		return fprintf(stderr, "ebpf-mcp: %s:%u: %s\n", path, lineno, why), -1;
	struct token *t = &w->tokens[w->n_tokens];
	*t = (struct token){ .len = strlen(tok) };
	char *plus = strchr(prof, '+');
	if (plus && !strcmp(plus, "+foreign"))
		*plus = 0, t->foreign = true;
	if (!strcmp(prof, "readonly"))
		t->profile = PROFILE_READONLY;
	else if (!strcmp(prof, "observe"))
		t->profile = PROFILE_OBSERVE;
	else if (!strcmp(prof, "full"))
		t->profile = PROFILE_FULL;
	else
		return fprintf(stderr, "ebpf-mcp: %s:%u: profile '%s': readonly, observe or full (+foreign)\n", path,
			       lineno, prof), -1;
	for (unsigned i = 0; i < w->n_tokens; i++)
		if (!strcmp(w->tokens[i].name, name) || (w->tokens[i].len == t->len && !memcmp(w->tokens[i].secret, tok, t->len)))
			return fprintf(stderr, "ebpf-mcp: %s:%u: a token's name and value appear once each\n", path, lineno), -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	memcpy(t->secret, tok, t->len);
	explicit_bzero(tok, t->len);
	w->n_tokens++;
	return 0;
}

static int load_tokens(struct web *w, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 && errno == ELOOP)
		return fprintf(stderr, "ebpf-mcp: --token-file %s is a symbolic link: refused, name the file itself (a "
			       "Kubernetes Secret: mount its key with subPath)\n", path), -1;
	if (fd < 0 || fstat(fd, &st))
		return fprintf(stderr, "ebpf-mcp: --token-file %s: %s\n", path, strerror(errno)), fd >= 0 ? close(fd) : 0, -1;
	const char *why = !S_ISREG(st.st_mode) ? "not a regular file"
			  : (st.st_mode & 0007) ? "readable or writable by others: chmod o= it (tokens are secrets)"
			  : st.st_size > WEB_TOKEN_FILE_MAX ? "larger than 64 KiB" : NULL;
	if (why) {
		close(fd);
		return fprintf(stderr, "ebpf-mcp: --token-file %s: %s\n", path, why), -1;
	}
	char *buf = calloc(1, (size_t)st.st_size + 1);
	ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return fprintf(stderr, "ebpf-mcp: --token-file %s: short read\n", path), -1;
	}
	int rc = 0;
	unsigned lineno = 0;
	for (char *save, *line = strtok_r(buf, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line[strcspn(line, "\r")] = 0;
		rc = token_line(w, line, lineno, path);
	}
	explicit_bzero(buf, (size_t)st.st_size);
	free(buf);
	if (!rc && !w->n_tokens)
		return fprintf(stderr, "ebpf-mcp: --token-file %s holds no token\n", path), -1;
	return rc;
}

int web__start(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	struct web *w = calloc(1, sizeof(*w));
	struct sockaddr_storage sa;
	socklen_t len;
	if (!w)
		return -1;
	w->srv = srv, w->fd = -1;
	srv->web = w;
	if (parse_addr(w, cfg->http_addr, &sa, &len))
		return fprintf(stderr, "ebpf-mcp: --http %s: give ADDR:PORT with an IP address or localhost "
			       "(127.0.0.1:8080, [::1]:8080)\n", cfg->http_addr), -1;
	if (cfg->token_file && load_tokens(w, cfg->token_file))
		return -1;
	if (!w->loopback && !w->n_tokens)
		return fprintf(stderr, "ebpf-mcp: --http %s is not a loopback address: give --token-file (bearer tokens), or "
			       "bind 127.0.0.1 and reach it through ssh -L or kubectl port-forward (docs/deploy)\n",
			       cfg->http_addr), -1;
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return fprintf(stderr, "ebpf-mcp: http socket: %s\n", strerror(errno)), -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, len) || listen(fd, LISTEN_BACKLOG) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) || loop__watch(&srv->loop, fd, EPOLLIN, on_accept, w)) {
		fprintf(stderr, "ebpf-mcp: --http %s: %s\n", cfg->http_addr, strerror(errno));
		close(fd);
		return -1;
	}
	w->fd = fd;
	w->port = ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
						: ((struct sockaddr_in6 *)&sa)->sin6_port);
	/* always said: with port 0 it is how a supervisor or a test learns the port */
	fprintf(stderr, "ebpf-mcp: serving MCP over HTTP on http://%s:%u/mcp (%s)\n", w->host, w->port,
		w->n_tokens ? "bearer tokens" : "loopback, no tokens");
	return 0;
}

void web__fini(struct server *srv)
{
	struct web *w = srv->web;
	if (!w)
		return;
	while (w->conns) {
		struct conn *c = w->conns;
		conn_write(c);   /* a last try: what the stop said */
		c->ws = NULL, c->own = NULL, c->queued = false, c->in_flight = false;
		conn_close(c);
	}
	if (w->fd >= 0) {
		loop__unwatch(&srv->loop, w->fd);
		close(w->fd);
	}
	loop__timer_stop(&srv->loop, &w->tick);
	loop__timer_stop(&srv->loop, &w->soon);
	explicit_bzero(w->tokens, sizeof(w->tokens));
	free(w);
	srv->web = NULL;
}

unsigned web__connections(const struct server *srv)
{
	return srv->web ? srv->web->n_conns : 0;
}

unsigned web__in_flight(const struct server *srv)
{
	return srv->web ? srv->web->in_flight : 0;
}
