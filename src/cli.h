/* The command line for people: `ebpf-mcp tools` and `ebpf-mcp call TOOL
 * [JSON | key=value ...] [--format table|svg|json]`, run through the same
 * request path an MCP client uses. */
#ifndef EBPF_MCP_CLI_H
#define EBPF_MCP_CLI_H

#include "config.h"

/* Exit statuses of the CLI. */
enum cli_status {
	CLI_OK = 0,
	CLI_INTERNAL = 1,   /* the server failed, or an internal tool error */
	CLI_USAGE = 2,      /* bad command line, unknown tool */
	CLI_TOOL = 3,       /* the tool refused: validation, permission, resource */
	CLI_KERNEL = 4,     /* the kernel refused */
};

/* Runs c->mode (MODE_TOOLS or MODE_CALL) with the words after the command
 * (for call: the tool name, then its arguments) and prints the result.
 * Returns an exit status. */
int cli__run(const struct config *c, int n, char **words);

#endif
