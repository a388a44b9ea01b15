/* The bridge (see connect.h). No server code runs here: it only moves
 * bytes, so an unprivileged user's stdio client reaches the root daemon. */
#define _GNU_SOURCE
#include "connect.h"
#include "sys/sandbox.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONNECT_BUF_BYTES (64 * 1024)   /* per read; each chunk is written whole before the next read */
/* The daemon's refusal line starts so (mcp.h MCP_ACCESS_DENIED). */
#define REFUSAL_PREFIX "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32003,\"message\":\""

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w, n -= (size_t)w;
	}
	return 0;
}

static int open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ebpf-mcp connect: socket path over %zu bytes: %s\n", sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (err == ENOENT)
		fprintf(stderr, "ebpf-mcp connect: no socket at %s: is the daemon running? (`ebpf-mcp serve`, or systemd's "
			"ebpf-mcp.socket; another path: ebpf-mcp connect PATH)\n", path);
	else if (err == ECONNREFUSED)
		fprintf(stderr, "ebpf-mcp connect: nothing answers on %s (the daemon has stopped and left its socket)\n",
			path);
	else if (err == EACCES && !stat(path, &st))
		fprintf(stderr, "ebpf-mcp connect: %s (mode %04o, owner %u:%u) is not open to uid %u: the daemon's "
			"--socket-mode and --socket-group decide who may connect\n", path, st.st_mode & 07777,
			(unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)getuid());
	else
		fprintf(stderr, "ebpf-mcp connect: %s: %s\n", path, strerror(err));
	return -1;
}

/* Whether the server's first bytes are its refusal line; if so, says why. */
static bool refused(const char *buf, size_t n)
{
	size_t k = sizeof(REFUSAL_PREFIX) - 1;
	if (n < k || memcmp(buf, REFUSAL_PREFIX, k))
		return false;
	const char *end = memchr(buf + k, '"', n - k);
	fprintf(stderr, "ebpf-mcp connect: refused: %.*s\n", end ? (int)(end - buf - (ptrdiff_t)k) : 0, buf + k);
	return true;
}

int connect__run(const char *path, bool no_sandbox)
{
	static char buf[CONNECT_BUF_BYTES];
	int sock = open_socket(path);
	if (sock < 0)
		return 1;
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigaction(SIGPIPE, &ign, NULL);   /* a reader gone is an EPIPE, handled */
	int rc = sandbox__enter(SANDBOX_CONNECT, no_sandbox);
	if (rc) {
		fprintf(stderr, "ebpf-mcp connect: cannot enter the sandbox: %s\n", strerror(-rc));
		close(sock);
		return 1;
	}
	struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = sock, .events = POLLIN } };
	bool first = true, was_refused = false;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			ssize_t r = read(sock, buf, sizeof(buf));
			if (r <= 0 && !(r < 0 && errno == EINTR))
				break;   /* the server closed: done */
			if (r > 0 && first)
				was_refused = refused(buf, (size_t)r);
			first = false;
			if (r > 0 && write_all(STDOUT_FILENO, buf, (size_t)r))
				break;   /* the client stopped reading: done */
		}
		if (p[0].revents) {
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				/* the client's end: the server answers what it has, then closes */
				shutdown(sock, SHUT_WR);
				p[0].fd = -1;
			} else if (write_all(sock, buf, (size_t)r)) {
				p[0].fd = -1;   /* the server is gone; what it said is still read */
			}
		}
	}
	close(sock);
	return was_refused ? 3 : 0;
}
