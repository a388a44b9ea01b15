/* The MCP server, as the rest of the program starts it: on stdin/stdout (or
 * any pair of descriptors: the CLI's in-memory files, init's port), or as a
 * daemon on a unix socket with one session per connection. */
#ifndef EBPF_MCP_SERVER_H
#define EBPF_MCP_SERVER_H

#include "../config.h"

/* Serves one session on in_fd/out_fd until its input ends (every request
 * read is answered; calls running over time stop, unless in_fd is a regular
 * file: then they run to their end), out_fd closes, or a terminating
 * signal; then frees what the session holds. mode names it in `info`
 * ("stdio", "cli", "init"). Returns the exit status. */
int server__run_stdio(const struct config *c, int in_fd, int out_fd, const char *mode);
/* Serves the unix socket (c->socket_path, or the one systemd passed in
 * LISTEN_FDS) until SIGTERM, SIGINT or SIGHUP; then frees every session's
 * objects. Returns the exit status. */
int server__run_daemon(const struct config *c);

#endif
