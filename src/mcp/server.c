/* The server: the loop, the workers, and serving stdio (see server.h). */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../core/clock.h"
#include "mcp.h"

#define SERVER_FDS_MAX 65536   /* descriptors the loop can watch (RLIMIT_NOFILE is raised toward it) */

/* libbpf explains its failures in prose: keep it off raw stderr and give it
 * to the session whose work is running (a client that set logging/setLevel
 * info sees why a load or attach failed; tool errors carry the essentials). */
static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char msg[LIMIT_ERROR_MSG_BYTES];
	struct session *s = session__current;
	if (!s)
		return 0;
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n <= 0)
		return 0;
	size_t len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = 0;
	session__log(s, lvl == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG, "%s%s", msg, (size_t)n >= sizeof(msg) ? " [cut]" : "");
	return n;
}

static void *map_buf(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* As many descriptors as the hard limit allows, up to SERVER_FDS_MAX. */
static unsigned raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	rlim_t want = rl.rlim_max < SERVER_FDS_MAX ? rl.rlim_max : SERVER_FDS_MAX;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur < SERVER_FDS_MAX ? (unsigned)rl.rlim_cur : SERVER_FDS_MAX;
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default: return "signal";
	}
}

static void on_signal(void *data, int signo)
{
	struct server *srv = data;
	session__log(NULL, LOG_NOTICE, "%s: shutting down", signal_name(signo));
	server__stop(srv, signal_name(signo));
}

int server__init(struct server *srv, const struct config *c, const char *mode)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = c;
	srv->mode = mode;
	srv->listen_fd = -1;
	srv->started_ns = now_ns();
	session__stderr_level = c->stderr_level;
	srv->tok_cap = (unsigned)limits[LIM_JSON_TOKENS];
	srv->resp_cap = limits[LIM_RESPONSE_BYTES] + 1;
	srv->tok = map_buf(sizeof(jsmntok_t) * srv->tok_cap);
	srv->tok_scratch = map_buf(sizeof(int) * srv->tok_cap);
	srv->resp = map_buf(srv->resp_cap);
	if (!srv->tok || !srv->tok_scratch || !srv->resp)
		return -ENOMEM;
	int rc = loop__init(&srv->loop, raise_nofile());
	/* signals are blocked before the workers start, so none of them takes one */
	if (!rc)
		rc = loop__signals(&srv->loop, on_signal, srv);
	call__set_validate(c->validate_output);
	if (!rc)
		rc = bio__start(&srv->loop, (unsigned)limits[LIM_WORKERS], call__worker_init);
	libbpf_set_print(libbpf_print);
	return rc;
}

void server__fini(struct server *srv)
{
	bio__stop();
	loop__fini(&srv->loop);
	if (srv->tok)
		munmap(srv->tok, sizeof(jsmntok_t) * srv->tok_cap);
	if (srv->tok_scratch)
		munmap(srv->tok_scratch, sizeof(int) * srv->tok_cap);
	if (srv->resp)
		munmap(srv->resp, srv->resp_cap);
}

void server__maybe_stop(struct server *srv)
{
	if (srv->stopping && !srv->n_sessions && !srv->n_owners && !bio__in_flight())
		loop__stop(&srv->loop);
}

void server__session_gone(struct server *srv)
{
	if (srv->stop_when_idle && !srv->n_sessions && !srv->stopping) {
		/* stdio's client has gone: what its modern calls made goes too */
		srv->stopping = true;
		owner__stop_all(srv);
		bgtrace__stop_all(srv, "server stops");
	}
	server__maybe_stop(srv);
}

void server__stop(struct server *srv, const char *why)
{
	srv->stopping = true;
	srv->stop_reason = why;
	server__stop_listening(srv);
	for (struct session *s = srv->sessions, *next; s; s = next) {
		next = s->next;
		surface__end(s, true);   /* each open subscriptions/listen gets its closing reply */
		session__flush(s);
		session__close(s, why);
		session__pump(s);   /* ends it now when nothing of it is on a worker */
	}
	owner__stop_all(srv);
	bgtrace__stop_all(srv, why);
	server__maybe_stop(srv);
}

/* This process's own credentials: the client of a stdio server. */
static void self_identity(struct identity *who)
{
	struct passwd *pw = getpwuid(getuid());
	*who = (struct identity){ .uid = getuid(), .gid = getgid(), .pid = getppid() };
	snprintf(who->user, sizeof(who->user), "%s", pw ? pw->pw_name : "");
	if (!pw)
		snprintf(who->user, sizeof(who->user), "%u", who->uid);
}

static enum sandbox_mode sandbox_mode_of(const char *mode)
{
	return !strcmp(mode, "init") ? SANDBOX_INIT : !strcmp(mode, "cli") ? SANDBOX_CLI : SANDBOX_STDIO;
}

/* Start-up is over: what is open stays, what was not done is not done. */
int server__enter_sandbox(struct server *srv, enum sandbox_mode m)
{
	int rc = sandbox__enter(m, srv->cfg->no_sandbox);
	if (rc)
		fprintf(stderr, "ebpf-mcp: cannot enter the sandbox: %s\n", strerror(-rc));
	return rc;
}

int server__run_stdio(const struct config *c, int in_fd, int out_fd, const char *mode)
{
	static struct server srv;
	struct identity who;
	int rc = server__init(&srv, c, mode);
	if (rc) {
		fprintf(stderr, "ebpf-mcp: cannot start the server: %s\n", strerror(-rc));
		server__fini(&srv);
		return 1;
	}
	self_identity(&who);
	struct session *s = session__new(&srv, in_fd, out_fd, false, &who, c->profile, c->allow_foreign);
	if (!s) {
		fprintf(stderr, "ebpf-mcp: cannot reserve the request buffer or watch descriptors %d/%d\n", in_fd, out_fd);
		server__fini(&srv);
		return 1;
	}
	srv.stop_when_idle = true;
	if (server__enter_sandbox(&srv, sandbox_mode_of(mode))) {
		server__fini(&srv);
		return 1;
	}
	session__pump(s);
	loop__run(&srv.loop);
	server__fini(&srv);
	return 0;
}
