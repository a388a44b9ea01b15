/* MCP over stdio: framing, the JSON-RPC envelope and the method table.
 *
 * One line in, at most one line out. Every reply is built in a fixed buffer;
 * a reply that does not fit becomes an error that says so. Protocol faults
 * are JSON-RPC errors; faults while running a tool are isError results.
 */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../kern/session.h"
#include "../sys/audit.h"
#include "mcp.h"

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *map_buf(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static struct server *libbpf_srv;   /* where libbpf's messages go */

/* libbpf explains its failures in prose: keep it off raw stderr and give it
 * to the log (a client that set logging/setLevel info sees why a load or
 * attach failed; tool errors already carry the essentials). */
static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char msg[LIMIT_ERROR_MSG_BYTES];
	if (!libbpf_srv)
		return 0;
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n <= 0)
		return 0;
	size_t len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = 0;
	server__log(libbpf_srv, lvl == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG, "%s%s", msg,
		    (size_t)n >= sizeof(msg) ? " [cut]" : "");
	return n;
}

int server__init(struct server *s, const struct server_opts *o, int in_fd, int out_fd)
{
	memset(s, 0, sizeof(*s));
	s->opt = *o;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->req_cap = limits[LIM_REQUEST_BYTES] + 1;   /* + the newline */
	s->tok_cap = (unsigned)limits[LIM_JSON_TOKENS];
	s->resp_cap = limits[LIM_RESPONSE_BYTES] + 1;
	s->req = map_buf(s->req_cap);
	s->tok = map_buf(sizeof(jsmntok_t) * s->tok_cap);
	s->sc = map_buf(s->resp_cap);
	s->resp = map_buf(s->resp_cap);
	if (!s->req || !s->tok || !s->sc || !s->resp || arena__init(&s->scratch, limits[LIM_SCRATCH_BYTES]))
		return -ENOMEM;
	if (o->validate_output) {
		/* every JSON token takes at least 2 bytes ("0,"); reserved, not touched */
		s->vtok_cap = (unsigned)(s->resp_cap / 2);
		s->vtok = map_buf(sizeof(jsmntok_t) * s->vtok_cap);
		if (!s->vtok)
			return -ENOMEM;
	}
	s->log_level = LOG_WARNING;
	s->ep = -1;
	libbpf_srv = s;
	libbpf_set_print(libbpf_print);
	s->started_ns = now_ns();
	s->session_id = s->started_ns ^ ((uint64_t)getpid() << 32);
	return 0;
}

void server__fini(struct server *s)
{
	munmap(s->req, s->req_cap);
	munmap(s->tok, sizeof(jsmntok_t) * s->tok_cap);
	munmap(s->sc, s->resp_cap);
	munmap(s->resp, s->resp_cap);
	arena__fini(&s->scratch);
	if (s->vtok)
		munmap(s->vtok, sizeof(jsmntok_t) * s->vtok_cap);
}

const char *server__profile_name(enum profile p)
{
	static const char *const n[] = { "readonly", "observe", "full" };
	return n[p];
}

/* ---- output ------------------------------------------------------------ */

/* Writes all of buf plus a newline; a client that went away ends the loop. */
void mcp__write_line(struct server *s, const char *buf, size_t n)
{
	const char *parts[2] = { buf, "\n" };
	size_t lens[2] = { n, 1 };
	for (int k = 0; k < 2; k++) {
		const char *p = parts[k];
		size_t left = lens[k];
		while (left) {
			ssize_t w = write(s->out_fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				s->quit = true;
				return;
			}
			p += w, left -= (size_t)w;
		}
	}
}

static const char *const level_names[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
};

int mcp__level_of(const struct jdoc *d, int tok)
{
	for (int k = 0; k < 8; k++)
		if (jdoc__str_eq(d, tok, level_names[k]))
			return k;
	return -1;
}

void server__log(struct server *s, enum log_level lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lvl >= s->opt.stderr_level)
		dprintf(2, "ebpf-mcp: %s: %s\n", level_names[lvl], msg);
	if (!s->initialized || lvl < s->log_level)
		return;
	/* Built in its own small buffer: a log line may be sent while a reply
	 * is being assembled in s->resp. */
	char line[LIMIT_ERROR_MSG_BYTES * 4];
	struct jw w;
	jw__init(&w, line, sizeof(line));
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__kstr(&w, "method", "notifications/message");
	jw__key(&w, "params");
	jw__obj(&w);
	jw__kstr(&w, "level", level_names[lvl]);
	jw__kstr(&w, "logger", "ebpf-mcp");
	size_t n = strlen(msg);
	if (n > limits[LIM_LOG_LINE_BYTES])
		n = limits[LIM_LOG_LINE_BYTES];
	jw__key(&w, "data");
	jw__strn(&w, msg, n);
	jw__obj_end(&w);
	jw__obj_end(&w);
	if (!w.overflow)
		mcp__write_line(s, line, w.len);
}

/* ---- framing ----------------------------------------------------------- */

static void handle_overlong(struct server *s)
{
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "request line longer than request_bytes (%llu bytes); the rest of the line is skipped. "
		 "Send smaller requests or raise --limit request_bytes=N (max %llu)",
		 (unsigned long long)limits[LIM_REQUEST_BYTES],
		 (unsigned long long)limit_defs[LIM_REQUEST_BYTES].max);
	mcp__error(s, NULL, 0, MCP_INVALID_REQUEST, msg, "request_bytes", limits[LIM_REQUEST_BYTES]);
}

/* Handles every complete line in the buffer, compacting what is left. */
static void drain_lines(struct server *s)
{
	while (!s->quit) {
		char *base = s->req + s->req_start;
		size_t avail = s->req_end - s->req_start;
		char *nl = memchr(base, '\n', avail);
		if (!nl)
			break;
		size_t len = (size_t)(nl - base);
		s->req_start += len + 1;
		if (s->discarding) {
			s->discarding = false;   /* the tail of an over-long line */
			continue;
		}
		server__handle_line(s, base, len);
	}
	if (s->req_start == s->req_end) {
		s->req_start = s->req_end = 0;
	} else if (s->req_start > 0) {
		memmove(s->req, s->req + s->req_start, s->req_end - s->req_start);
		s->req_end -= s->req_start;
		s->req_start = 0;
	}
	if (s->req_end == s->req_cap) {
		/* a full buffer with no newline: refuse once, skip to the newline */
		if (!s->discarding)
			handle_overlong(s);
		s->discarding = true;
		s->req_start = s->req_end = 0;
	}
}

/* Reads what stdin has; returns 0 at EOF, -1 on error, else bytes read. */
static ssize_t read_input(struct server *s)
{
	ssize_t r;
	do
		r = read(s->in_fd, s->req + s->req_end, s->req_cap - s->req_end);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		s->req_end += (size_t)r;
		drain_lines(s);
	}
	return r;
}

static void finish_input(struct server *s)
{
	/* A last line without a newline still counts (tolerant framing). */
	if (s->req_end > s->req_start && !s->discarding)
		server__handle_line(s, s->req + s->req_start, s->req_end - s->req_start);
	s->req_start = s->req_end = 0;
}

static const char *signal_name(uint32_t sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "signal";
	}
}

static int setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void on_signal(struct server *s, int sfd)
{
	struct signalfd_siginfo si;
	s->quit_reason = "signal";
	if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		s->quit_reason = signal_name(si.ssi_signo);
		server__log(s, LOG_NOTICE, "%s: shutting down", s->quit_reason);
	}
	s->quit = true;
}

/* Serves events until quit; with jobs_only, until no job is left (stdin is
 * then a regular file read straight, not watched). */
static void loop(struct server *s, int sfd, bool jobs_only)
{
	while (!s->quit && (!jobs_only || job__count(s))) {
		struct epoll_event evs[8];
		int n = epoll_wait(s->ep, evs, 8, job__timeout_ms(s));
		if (n < 0 && errno != EINTR)
			break;
		for (int k = 0; k < n && !s->quit; k++) {
			uint64_t tag = evs[k].data.u64;
			if (tag == JOB_TAG_SIGNAL) {
				on_signal(s, sfd);
			} else if (tag == JOB_TAG_STDIN) {
				if (read_input(s) > 0)
					continue;
				finish_input(s);
				s->quit = true;
				s->quit_reason = "eof";
			} else {
				job__ready(s, tag);
			}
		}
		if (!s->quit)
			job__timers(s);
	}
}

int server__run(struct server *s)
{
	int sfd = setup_signals();
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = JOB_TAG_SIGNAL };
	if (s->ep >= 0 && sfd >= 0)
		epoll_ctl(s->ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.u64 = JOB_TAG_STDIN;
	if (s->ep >= 0 && !epoll_ctl(s->ep, EPOLL_CTL_ADD, s->in_fd, &ev)) {
		loop(s, sfd, false);
	} else {
		/* stdin not pollable (a regular file): read it straight; the jobs a
		 * chunk of lines started run to their end before the next chunk */
		while (!s->quit && read_input(s) > 0)
			if (s->ep >= 0)
				loop(s, sfd, true);
		finish_input(s);
		if (s->ep >= 0)
			loop(s, sfd, true);
	}
	if (!s->quit_reason)
		s->quit_reason = "eof";
	job__cancel_all(s, s->quit_reason);
	if (s->ep >= 0)
		close(s->ep);
	s->ep = -1;
	if (sfd >= 0)
		close(sfd);
	return 0;
}

void server__release(struct server *s)
{
	unsigned progs = session__count(SESSION_PROG), maps = session__count(SESSION_MAP);
	unsigned links = session__count(SESSION_LINK);
	session__release_all();
	audit__shutdown(s->session_id, s->quit_reason ? s->quit_reason : "exit", progs, maps, links);
	enum session_kind k;
	uint32_t id;
	const char *p;
	for (unsigned i = 0; (p = session__pin_at(i, &k, &id)); i++)
		server__log(s, LOG_WARNING, "left pinned: %s %u at %s", session__kind_name(k), id, p);
	if (progs || maps || links)
		server__log(s, LOG_NOTICE, "released %u programs, %u maps, %u links", progs, maps, links);
}
