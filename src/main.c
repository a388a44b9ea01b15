/* ebpf-mcp: the eBPF workflow over the Model Context Protocol.
 *
 * Start-up: options -> limits -> heap cap -> the mode: MCP on stdin/stdout
 * (the default; init mode on the port it opens), a daemon on a unix socket
 * (serve), the bridge to one (connect), or the CLI (tools, call). Nothing
 * but protocol goes to stdout while serving.
 */
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assert.h"
#include "cli.h"
#include "connect.h"
#include "limits.h"
#include "mcp/server.h"
#include "mem/heap.h"
#include "opts.h"
#include "sandbox_cli.h"
#include "sys/audit.h"
#include "sys/init.h"

static int serve(const struct config *c, int n_words, char **words, bool init)
{
	if (n_words && c->mode != MODE_CALL)
		return fprintf(stderr, "ebpf-mcp: unexpected argument '%s' (see --help)\n", words[0]), 2;
	if (c->audit_log) {
		int rc = audit__open(c->audit_log);
		if (rc)
			return fprintf(stderr, "ebpf-mcp: --audit-log %s: %s\n", c->audit_log, strerror(-rc)), 1;
	}
	int rc;
	switch (c->mode) {
	case MODE_SERVE:
		rc = server__run_daemon(c);
		break;
	case MODE_TOOLS:
	case MODE_CALL:
		rc = cli__run(c, n_words, words);
		break;
	default:
		rc = server__run_stdio(c, STDIN_FILENO, STDOUT_FILENO, init ? "init" : "stdio");
		break;
	}
	audit__close();
	return rc;
}

/* Descriptors 0-2 closed by whoever started us would be taken by the
 * first socket or file we open, and a protocol written to "stdout" would
 * land in it (connect with stdin closed read its own socket): they are
 * held open on /dev/null instead. */
static void standard_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			return;   /* nothing to be done without /dev/null; init makes its own */
}

int main(int argc, char **argv)
{
	static struct config c;
	struct opts_out o;
	bool init = init__is_init(argv[0]);
	if (!init)
		standard_fds();
	if (init) {
		/* every way out of main, --help included, then powers off */
		atexit(init__poweroff);
		assert__fail = init__poweroff;
		if (init__setup())
			return 1;
	}
	int rc = opts__parse(argc, argv, &c, &o);
	if (rc || o.done)
		return rc;
	heap__set_cap(limits[LIM_HEAP_BYTES]);
	if (c.mode == MODE_SANDBOX)
		return sandbox_cli__run(o.n_words, o.words, c.no_sandbox);
	if (c.mode == MODE_CONNECT) {
		if (o.n_words > 1)
			return fprintf(stderr, "ebpf-mcp: connect takes one socket path at most (see --help)\n"), 2;
		return connect__run(o.n_words ? o.words[0] : c.socket_path, c.no_sandbox);
	}
	return serve(&c, o.n_words, o.words, init);
}
