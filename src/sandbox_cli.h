/* `ebpf-mcp sandbox`: the seccomp lists, and probes of them (sandbox_cli.c). */
#ifndef EBPF_MCP_SANDBOX_CLI_H
#define EBPF_MCP_SANDBOX_CLI_H

#include <stdbool.h>

int sandbox_cli__run(int n, char **words, bool off);

#endif
