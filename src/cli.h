/* The command line for people: `ebpf-mcp tools` and `ebpf-mcp call TOOL
 * [JSON | key=value ...]`, on the same path as MCP clients (the requests go
 * through the server as JSON-RPC lines; its replies are printed). */
#ifndef EBPF_MCP_CLI_H
#define EBPF_MCP_CLI_H

#include "mcp/server.h"

/* Exit statuses, also in --help. */
#define CLI_OK        0
#define CLI_INTERNAL  1   /* the server failed (internal error, no reply) */
#define CLI_USAGE     2   /* bad command line, unknown tool, bad JSON */
#define CLI_TOOL      3   /* the tool refused: validation, permission, resource */
#define CLI_KERNEL    4   /* the kernel refused or failed */

/* Whether argv[1] names a CLI command. */
bool cli__is_command(const char *arg);
/* Runs it with server options o (already parsed from the other words);
 * words: the command and its positional words; table: --format table. */
int cli__run(const struct server_opts *o, int n, char **words, bool table);

#endif
