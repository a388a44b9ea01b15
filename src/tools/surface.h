/* What the server offers besides tools: resources (views of what is loaded,
 * of kernel types and tracepoint formats, and of this server's limits and
 * policy), prompts (investigation playbooks) and argument completion.
 *
 * A resource is computed by the same code a tool runs (bpf://prog/{id} is
 * inspect_state's view of one program, bpf://map/{id} map_dump's first
 * page), so the two never disagree. Everything here runs in a tool context
 * on a worker; the protocol side (src/mcp/surface.c) frames the replies.
 */
#ifndef EBPF_MCP_SURFACE_H
#define EBPF_MCP_SURFACE_H

#include <stdbool.h>
#include <stdint.h>

#include "tool.h"

#define RESOURCE_MAP_PAGE      100          /* entries bpf://map/{id} shows (map_dump's first page) */
#define RESOURCE_TEXT_BYTES    (1024 * 1024)/* one resource's text: a bigger one is refused, never cut */
#define COMPLETION_VALUES      100          /* MCP's cap on completion values */
#define PROMPT_ARGS_MAX        4
#define PROMPT_TEXT_BYTES      (8 * 1024)   /* one rendered prompt */
#define URI_BYTES              512          /* a resource URI we accept */

struct resource_template {
	const char *uri_template, *name, *title, *description, *mime;
	const char *args[2];               /* the template's variables, in order */
};
extern const struct resource_template resource_templates[];
extern const unsigned resource_template_count;

/* resources/list: Resource objects for what exists now, as array items on
 * w, from cursor (NULL: the start; else what *next gave). At most
 * list_items per page; *next gets the cursor of the next page ("" when this
 * one is the last). 0, or -1 (ctx->err set; a bad cursor is BAD_CURSOR). */
int resources__list(struct tool_ctx *ctx, struct jw *w, const char *cursor, char *next, size_t next_cap);

/* resources/read: the text of uri (not escaped) and its MIME type. 0; 1 when
 * no resource has that URI (ctx->err says why); -1 on another failure
 * (ctx->err). *text lives in ctx->scratch or ctx->out's buffer. */
int resources__read(struct tool_ctx *ctx, const char *uri, const char **text, size_t *len, const char **mime);

/* completion/complete: up to COMPLETION_VALUES values (strings, on w as
 * array items) for argument arg of a template (ref_uri) or a prompt
 * (prompt), that start with value; context_args: other arguments already
 * chosen (a JSON object token in ctx->doc, or -1). *total counts every
 * match. 0, or -1 (ctx->err: an unknown template, prompt or argument). */
int resources__complete(struct tool_ctx *ctx, const char *ref_uri, const char *prompt, const char *arg,
			const char *value, int context_args, struct jw *w, uint64_t *total);

/* ---- prompts ------------------------------------------------------------------ */

struct prompt_arg {
	const char *name, *description;
	bool required;
};

struct prompt {
	const char *name, *title, *description;
	struct prompt_arg args[PROMPT_ARGS_MAX];
	unsigned n_args;
	const char *text;                  /* {name} is replaced by the argument's value */
	const char *defaults[PROMPT_ARGS_MAX]; /* used when an optional argument is absent */
};
extern const struct prompt prompts[];
extern const unsigned prompt_count;

const struct prompt *prompts__find(const char *name);
/* Renders p with the arguments (get(name) returns the value or NULL) into
 * out. 0, or -1 with why (a missing required argument, a value that is not
 * what the argument takes, or out too small). */
int prompts__render(const struct prompt *p, const char *(*get)(void *arg, const char *name), void *arg,
		    char *out, size_t cap, char *why, size_t why_cap);

/* A comm as the prompts take it (TASK_COMM_LEN - 1 bytes): /proc shows
 * longer ones for kernel workers ("kworker/0:1-events"), which completion
 * must not offer. */
#define PROMPT_COMM_MAX 15

#endif
