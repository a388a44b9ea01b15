/* The daemon: a unix socket, one session per connection, access by the
 * peer's credentials (SO_PEERCRED, SO_PEERGROUPS).
 *
 * The socket comes from systemd (LISTEN_FDS/LISTEN_PID: socket activation)
 * or is made at --socket: a stale socket file nobody answers on is replaced,
 * a live one is not. Each accepted peer is matched against the --access
 * rules in order (uid, or primary or supplementary gid); the first match
 * gives its profile. A peer no rule admits, or one past the sessions cap,
 * gets one JSON-RPC error line saying why and is disconnected.
 */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../sys/audit.h"
#include "mcp.h"
#include "web.h"

#define DAEMON_ACCEPTS_PER_WAKE 64    /* connections taken per wake-up; the loop serves the rest after */
#define DAEMON_PEER_GROUPS      256   /* supplementary groups read per peer (NGROUPS_MAX is 65536) */
#define SD_LISTEN_FDS_START     3

/* ---- the socket ------------------------------------------------------------------- */

static int systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (!pid || !fds || strtol(pid, NULL, 10) != getpid() || strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	int fd = SD_LISTEN_FDS_START, listening = 0, domain = 0;
	socklen_t len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) || !listening ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) || domain != AF_UNIX) {
		fprintf(stderr, "ebpf-mcp: LISTEN_FDS: descriptor 3 is not a listening unix socket (ListenStream= a path)\n");
		return -2;
	}
	if (strtol(fds, NULL, 10) > 1)
		fprintf(stderr, "ebpf-mcp: LISTEN_FDS=%s: serving the first socket only\n", fds);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Whether a listening socket is bound at path: /proc/net/unix lists it
 * (flag __SO_ACCEPTCON) without disturbing its server; without /proc, a
 * connect() tells (the server sees a connection come and go). */
static bool listening_at(const char *path, const struct sockaddr_un *sa)
{
	FILE *f = fopen("/proc/net/unix", "re");
	if (!f) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = fd >= 0 && !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
		if (fd >= 0)
			close(fd);
		return live;
	}
	char line[256 + sizeof(sa->sun_path)];
	bool live = false;
	size_t n = strlen(path);
	while (!live && fgets(line, sizeof(line), f)) {
		unsigned long flags;
		char *p = strchr(line, ':');
		size_t len = strcspn(line, "\n");
		line[len] = 0;
		if (p && sscanf(p + 1, "%*x %*x %lx", &flags) == 1 && (flags & 0x10000) && len > n &&
		    line[len - n - 1] == ' ' && !strcmp(line + len - n, path))
			live = true;
	}
	fclose(f);
	return live;
}

/* A socket file at path: -1 when another daemon answers there or it is
 * not a socket; stale ones are removed. */
static int clear_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : (fprintf(stderr, "ebpf-mcp: %s: %s\n", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode))
		return fprintf(stderr, "ebpf-mcp: %s exists and is not a socket; remove it or choose --socket\n", path), -1;
	if (listening_at(path, sa))
		return fprintf(stderr, "ebpf-mcp: another server answers on %s; stop it or choose --socket\n", path), -1;
	return unlink(path) && errno != ENOENT ? (fprintf(stderr, "ebpf-mcp: %s: %s\n", path, strerror(errno)), -1) : 0;
}

static int make_socket(const struct config *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->socket_path);
	if (clear_path(c->socket_path, &sa))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fprintf(stderr, "ebpf-mcp: socket: %s\n", strerror(errno)), -1;
	/* created owner-only, then opened up: never reachable with a wider mode */
	mode_t old = umask(0177);
	int rc = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	const char *step = "bind";
	if (!rc && c->socket_group_set && (step = "chown", rc = chown(c->socket_path, (uid_t)-1, c->socket_group)))
		;
	else if (!rc && (step = "chmod", rc = chmod(c->socket_path, c->socket_mode)))
		;
	else if (!rc)
		step = "listen", rc = listen(fd, LISTEN_BACKLOG);
	if (rc) {
		fprintf(stderr, "ebpf-mcp: %s %s: %s\n", step, c->socket_path, strerror(errno));
		close(fd);
		unlink(c->socket_path);
		return -1;
	}
	return fd;
}

void server__stop_listening(struct server *srv)
{
	if (srv->listen_fd < 0)
		return;
	loop__unwatch(&srv->loop, srv->listen_fd);
	close(srv->listen_fd);
	srv->listen_fd = -1;
	if (srv->unlink_socket)
		unlink(srv->cfg->socket_path);
}

/* ---- peers ----------------------------------------------------------------------- */

static bool in_groups(uint32_t gid, const gid_t *groups, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* The first rule that admits the peer, or NULL. Without any rule, uid 0
 * is admitted with --profile. */
static const struct access_rule *admit(const struct config *c, const struct identity *who, const gid_t *groups,
				       unsigned n_groups, struct access_rule *implicit)
{
	if (!c->n_access) {
		*implicit = (struct access_rule){ .id = 0, .profile = c->profile, .allow_foreign = c->allow_foreign };
		return who->uid == 0 ? implicit : NULL;
	}
	for (unsigned i = 0; i < c->n_access; i++) {
		const struct access_rule *r = &c->access[i];
		if (r->group ? (r->id == who->gid || in_groups(r->id, groups, n_groups)) : r->id == who->uid)
			return r;
	}
	return NULL;
}

static int peer(int fd, struct identity *who, gid_t *groups, unsigned *n_groups)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return -errno;
	*who = (struct identity){ .uid = cr.uid, .gid = cr.gid, .pid = cr.pid };
	struct passwd *pw = getpwuid(cr.uid);
	if (pw)
		snprintf(who->user, sizeof(who->user), "%s", pw->pw_name);
	else
		snprintf(who->user, sizeof(who->user), "%u", cr.uid);
	len = (socklen_t)(DAEMON_PEER_GROUPS * sizeof(gid_t));
	/* ERANGE: more groups than we read; the primary gid and those read still count */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) && errno != ERANGE)
		len = 0;
	*n_groups = len / sizeof(gid_t);
	if (*n_groups > DAEMON_PEER_GROUPS)
		*n_groups = DAEMON_PEER_GROUPS;
	return 0;
}

/* One error line to a peer we will not serve, then the connection closes. */
static void refuse(int fd, const struct identity *who, const char *msg, const char *limit, uint64_t value)
{
	char buf[1024];
	struct jw w;
	jw__init(&w, buf, sizeof(buf) - 1);
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__key(&w, "id");
	jw__null(&w);
	jw__key(&w, "error");
	jw__obj(&w);
	jw__kint(&w, "code", MCP_ACCESS_DENIED);
	jw__kstr(&w, "message", msg);
	jw__key(&w, "data");
	jw__obj(&w);
	jw__kuint(&w, "uid", who->uid);
	jw__kuint(&w, "gid", who->gid);
	jw__kint(&w, "pid", who->pid);
	if (limit) {
		jw__kstr(&w, "limit", limit);
		jw__kuint(&w, "value", value);
	} else {
		jw__kstr(&w, "missing", "access rule");
	}
	jw__obj_end(&w);
	jw__obj_end(&w);
	jw__obj_end(&w);
	buf[w.len] = '\n';
	/* a fresh socket's buffer takes a line this small whole */
	ssize_t n = send(fd, buf, w.len + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)n;
	audit__event(0, who, "refused", msg);
	fprintf(stderr, "ebpf-mcp: refused uid %u gid %u pid %d: %s\n", who->uid, who->gid, who->pid, msg);
	close(fd);
}

static void no_rule(int fd, const struct identity *who)
{
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "uid %u (%s, gid %u, pid %d) has no access rule on this server: its operator can add "
		 "--access uid:%s=PROFILE or --access gid:GROUP=PROFILE (PROFILE readonly, observe or full)",
		 who->uid, who->user, who->gid, who->pid, who->user);
	refuse(fd, who, msg, NULL, 0);
}

static void accept_one(struct server *srv, int fd)
{
	struct identity who;
	gid_t groups[DAEMON_PEER_GROUPS];
	unsigned n_groups = 0;
	struct access_rule implicit;
	if (peer(fd, &who, groups, &n_groups)) {
		close(fd);
		return;
	}
	const struct access_rule *r = admit(srv->cfg, &who, groups, n_groups, &implicit);
	if (!r)
		return no_rule(fd, &who);
	if (srv->n_sessions - srv->n_transient >= limits[LIM_SESSIONS]) {
		char msg[256];
		snprintf(msg, sizeof(msg), "this server already serves %u sessions, the sessions cap; try again later "
			 "(its operator can raise --limit sessions=N, max %llu)", srv->n_sessions,
			 (unsigned long long)limit_defs[LIM_SESSIONS].max);
		return refuse(fd, &who, msg, "sessions", limits[LIM_SESSIONS]);
	}
	struct session *s = session__new(srv, fd, fd, true, &who, r->profile, r->allow_foreign);
	if (!s) {
		refuse(fd, &who, "this server cannot take a session now (heap or descriptors exhausted)", NULL, 0);
		return;
	}
	char detail[96];
	snprintf(detail, sizeof(detail), "profile %s%s", config__profile_name(r->profile),
		 r->allow_foreign ? "+foreign" : "");
	audit__event(s->id, &who, "session_start", detail);
	session__log(s, LOG_INFO, "session %llu: uid %u (%s) pid %d connected, %s", (unsigned long long)s->id, who.uid,
		     who.user, who.pid, detail);
	session__pump(s);
}

static void on_accept(void *data, int lfd, uint32_t events)
{
	(void)events;
	struct server *srv = data;
	for (unsigned n = 0; n < DAEMON_ACCEPTS_PER_WAKE && !srv->stopping; n++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "ebpf-mcp: accept: %s\n", strerror(errno));
			return;
		}
		accept_one(srv, fd);
	}
}

int server__run_daemon(const struct config *c)
{
	static struct server srv;
	int rc = server__init(&srv, c, "daemon");
	if (rc) {
		fprintf(stderr, "ebpf-mcp: cannot start the server: %s\n", strerror(-rc));
		server__fini(&srv);
		return 1;
	}
	/* --http alone serves HTTP only; the unix socket also when asked for
	 * (--socket) or when systemd passes one */
	int fd = systemd_socket();
	bool activated = fd >= 0;
	if (fd == -1 && (c->socket_set || !c->http_addr))
		fd = make_socket(c);
	if (fd < -1 || (fd == -1 && !c->http_addr) || (fd >= 0 && loop__watch(&srv.loop, fd, EPOLLIN, on_accept, &srv)) ||
	    (c->http_addr && web__start(&srv))) {
		if (fd >= 0)
			close(fd);
		if (fd >= 0 && !activated)
			unlink(c->socket_path);
		web__fini(&srv);
		server__fini(&srv);
		return 1;
	}
	srv.listen_fd = fd;
	srv.unlink_socket = fd >= 0 && !activated;
	if (fd >= 0 && !c->n_access)
		fprintf(stderr, "ebpf-mcp: no --access rule: only uid 0 may connect (profile %s)\n",
			config__profile_name(c->profile));
	if (fd >= 0)
		session__log(NULL, LOG_NOTICE, "serving MCP on %s", activated ? "the socket systemd passed" : c->socket_path);
	rc = server__enter_sandbox(&srv, SANDBOX_DAEMON);
	if (!rc)
		loop__run(&srv.loop);
	server__stop_listening(&srv);
	web__fini(&srv);
	server__fini(&srv);
	return rc ? 1 : 0;
}
