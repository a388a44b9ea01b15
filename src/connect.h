/* `ebpf-mcp connect [PATH]`: a stdio MCP client's bridge to the daemon. */
#ifndef EBPF_MCP_CONNECT_H
#define EBPF_MCP_CONNECT_H

#include <stdbool.h>

/* Copies stdin to the socket at path and the socket to stdout, byte for
 * byte, until the server closes (after stdin's end is passed on). Returns
 * 0; 1 when the socket is missing or refuses the connection; 3 when the
 * server refused this user (its one error line is passed on too). */
int connect__run(const char *path, bool no_sandbox);

#endif
