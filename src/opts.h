/* The one option table: the command line (before or after the command, as
 * `--name value` or `--name=value`), --config files (`name value` lines)
 * and the CLI all read options through it. */
#ifndef EBPF_MCP_OPTS_H
#define EBPF_MCP_OPTS_H

#include <stdio.h>

#include "config.h"

struct opts_out {
	char **words;         /* the command's words after the command name */
	int n_words;
	bool done;            /* --help or --version printed: exit 0 */
};

/* Fills c (defaults first) and out from argv. 0, or 2 after saying what is
 * wrong on stderr. out->words is allocated (argc entries). */
int opts__parse(int argc, char **argv, struct config *c, struct opts_out *out);
void opts__usage(FILE *f);

#endif
