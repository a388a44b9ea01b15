/* The command line for people (see cli.h).
 *
 * The requests (initialize, then tools/list or tools/call) are written to
 * an in-memory file that the server reads as its stdin, so a call that runs
 * as a job (a tracer, a stream) runs to its end exactly as it would for an
 * MCP client; the replies land in a second in-memory file and the one that
 * answers our request is printed: its structuredContent as JSON, as tables
 * (histograms as text bars) with --format table, or as an SVG flame graph
 * with --format svg (draw.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "draw.h"
#include "json/json.h"
#include "json/schema.h"
#include "mcp/server.h"

#define CLI_REQ_ID        2                 /* the request whose reply we print */
#define CLI_CELL_BYTES    (64 * 1024)       /* one table cell, unescaped */
#define CLI_COLUMNS       32                /* table columns at most */
#define CLI_KEY_BYTES     256               /* one key=value key */
#define CLI_REQUEST_BYTES (1024 * 1024)     /* the tools/call line */

/* A key=value word as a member: JSON values (numbers, true, [..], {..},
 * "..") as they are, anything else as a string. */
static int add_kv(struct jw *w, const char *word)
{
	const char *eq = strchr(word, '=');
	char key[CLI_KEY_BYTES];
	struct json_perr perr;
	if (!eq || eq == word || (size_t)(eq - word) >= sizeof(key)) {
		fprintf(stderr, "ebpf-mcp: argument '%s' is not key=value (key under %d bytes) or a JSON object\n",
			word, CLI_KEY_BYTES);
		return -1;
	}
	memcpy(key, word, (size_t)(eq - word));
	key[eq - word] = 0;
	const char *v = eq + 1;
	jw__key(w, key);
	if (*v && strchr("-0123456789[{\"tfn", *v) && !json__validate(v, strlen(v), (unsigned)limits[LIM_JSON_DEPTH], &perr))
		jw__raw(w, v, strlen(v));
	else
		jw__str(w, v);
	return 0;
}

/* The arguments object from the words after the tool name. */
static int build_args(struct jw *w, int n, char **words)
{
	struct json_perr perr;
	if (n == 1 && words[0][0] == '{') {
		if (json__validate(words[0], strlen(words[0]), (unsigned)limits[LIM_JSON_DEPTH], &perr)) {
			fprintf(stderr, "ebpf-mcp: arguments are not JSON: %s at byte %zu\n", perr.what, perr.offset);
			return -1;
		}
		jw__raw(w, words[0], strlen(words[0]));
		return 0;
	}
	jw__obj(w);
	for (int i = 0; i < n; i++)
		if (add_kv(w, words[i]))
			return -1;
	jw__obj_end(w);
	return 0;
}

/* Writes the session's requests into fd. */
static int write_requests(int fd, bool list, int n, char **words)
{
	static char buf[CLI_REQUEST_BYTES];
	size_t head = (size_t)snprintf(buf, sizeof(buf), "%s\n%s\n",
				 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\""
				 MCP_LATEST_VERSION "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"ebpf-mcp-cli\",\"version\":\""
				 EBPF_MCP_VERSION "\"}}}",
				 "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	struct jw r;
	jw__init(&r, buf + head, sizeof(buf) - head - 1);
	jw__obj(&r);
	jw__kstr(&r, "jsonrpc", "2.0");
	jw__kint(&r, "id", CLI_REQ_ID);
	if (list) {
		jw__kstr(&r, "method", "tools/list");
	} else {
		jw__kstr(&r, "method", "tools/call");
		jw__key(&r, "params");
		jw__obj(&r);
		jw__kstr(&r, "name", words[0]);
		jw__key(&r, "arguments");
		if (build_args(&r, n - 1, words + 1))
			return -1;
		jw__obj_end(&r);
	}
	jw__obj_end(&r);
	if (r.overflow) {
		fprintf(stderr, "ebpf-mcp: the request is over %d bytes\n", CLI_REQUEST_BYTES);
		return -1;
	}
	size_t len = head + r.len;
	buf[len++] = '\n';
	return write(fd, buf, len) == (ssize_t)len && !lseek(fd, 0, SEEK_SET) ? 0 : -1;
}

/* ---- the reply ------------------------------------------------------------ */

/* Prints token i as text: strings unescaped, everything else as JSON. */
static void put_value(const struct jdoc *d, int i, FILE *f)
{
	static char cell[CLI_CELL_BYTES];
	size_t len;
	const jsmntok_t *t = &d->t[i];
	if (t->type == JSMN_STRING && !jdoc__str(d, i, cell, sizeof(cell), &len))
		fwrite(cell, 1, len, f);
	else
		fwrite(d->js + t->start, 1, (size_t)(t->end - t->start), f);
}

static int value_width(const struct jdoc *d, int i)
{
	return d->t[i].end - d->t[i].start;   /* escaped length: an upper bound */
}

/* An array of objects as a table: the first object's keys are the columns. */
static void put_table(const struct jdoc *d, int arr, FILE *f)
{
	int first = jdoc__elem(d, arr, 0), cols[CLI_COLUMNS], width[CLI_COLUMNS], nc = 0;
	if (!jdoc__is_obj(d, first))
		return;
	for (int k = first + 1; k < jdoc__skip(d, first) && nc < CLI_COLUMNS; k = jdoc__skip(d, k + 1)) {
		cols[nc] = k;
		width[nc++] = value_width(d, k);
	}
	for (int r = 0, e; (e = jdoc__elem(d, arr, r)) >= 0; r++)
		for (int c = 0; c < nc; c++) {
			char key[CLI_KEY_BYTES];
			size_t kl;
			int v = jdoc__str(d, cols[c], key, sizeof(key), &kl) ? -1 : jdoc__get(d, e, key);
			if (v >= 0 && value_width(d, v) > width[c])
				width[c] = value_width(d, v);
		}
	for (int c = 0; c < nc; c++) {
		put_value(d, cols[c], f);
		fprintf(f, "%*s", c + 1 < nc ? width[c] - value_width(d, cols[c]) + 2 : 0, "");
	}
	fputc('\n', f);
	for (int r = 0, e; (e = jdoc__elem(d, arr, r)) >= 0; r++) {
		for (int c = 0; c < nc; c++) {
			char key[CLI_KEY_BYTES];
			size_t kl;
			int v = jdoc__str(d, cols[c], key, sizeof(key), &kl) ? -1 : jdoc__get(d, e, key);
			if (v >= 0)
				put_value(d, v, f);
			fprintf(f, "%*s", c + 1 < nc ? width[c] - (v >= 0 ? value_width(d, v) : 0) + 2 : 0, "");
		}
		fputc('\n', f);
	}
}

/* Histograms (alone, or an array of them) as text bars. */
static void put_hists(const struct jdoc *d, int k, int v, FILE *f)
{
	char key[CLI_KEY_BYTES], label[CLI_KEY_BYTES + 16];
	if (jdoc__str(d, k, key, sizeof(key), NULL))
		strcpy(key, "histogram");
	fputc('\n', f);
	if (draw__is_hist(d, v))
		return draw__hist(d, v, key, f);
	for (int i = 0, e = v + 1; i < d->t[v].size; i++, e = jdoc__skip(d, e)) {
		snprintf(label, sizeof(label), "%s %d", key, i + 1);
		draw__hist(d, e, label, f);
	}
}

/* structuredContent as "key: value" lines, a table per array of objects,
 * and histograms as text bars. */
static void put_readable(const struct jdoc *d, int obj, FILE *f)
{
	for (int k = obj + 1; k < jdoc__skip(d, obj); k = jdoc__skip(d, k + 1)) {
		int v = k + 1;
		if (draw__is_hist(d, v) || (jdoc__is_arr(d, v) && draw__is_hist(d, jdoc__elem(d, v, 0)))) {
			put_hists(d, k, v, f);
			continue;
		}
		if (jdoc__is_arr(d, v) && jdoc__is_obj(d, jdoc__elem(d, v, 0))) {
			fputc('\n', f);
			put_value(d, k, f);
			fputs(":\n", f);
			put_table(d, v, f);
			fputc('\n', f);
			continue;
		}
		put_value(d, k, f);
		fputs(": ", f);
		put_value(d, v, f);
		fputc('\n', f);
	}
}

static void put_tools(const struct jdoc *d, int tools, FILE *f)
{
	for (int r = 0, e; (e = jdoc__elem(d, tools, r)) >= 0; r++) {
		int name = jdoc__get(d, e, "name"), title = jdoc__get(d, e, "title");
		if (name < 0)
			continue;
		put_value(d, name, f);
		fprintf(f, "%*s", 26 - value_width(d, name) > 1 ? 26 - value_width(d, name) : 1, "");
		if (title >= 0)
			put_value(d, title, f);
		fputc('\n', f);
	}
}

static int tool_error(const struct jdoc *d, int sc, const char *tool)
{
	int e = jdoc__get(d, sc, "error"), cat = jdoc__get(d, e, "category");
	fprintf(stderr, "ebpf-mcp: %s: ", tool);
	if (cat >= 0) {
		put_value(d, cat, stderr);
		fputc('/', stderr);
		put_value(d, jdoc__get(d, e, "code"), stderr);
		fputs(": ", stderr);
		put_value(d, jdoc__get(d, e, "message"), stderr);
		int ctx = jdoc__get(d, e, "context");
		if (ctx >= 0 && d->t[ctx].size > 0) {
			fputs("\n  context: ", stderr);
			put_value(d, ctx, stderr);
		}
	} else {
		fputs("the tool failed without an error object", stderr);
	}
	fputc('\n', stderr);
	if (jdoc__str_eq(d, cat, "kernel"))
		return CLI_KERNEL;
	return jdoc__str_eq(d, cat, "internal") ? CLI_INTERNAL : CLI_TOOL;
}

/* Acts on our request's reply (one JSON line). */
static int print_reply(const struct jdoc *d, bool list, const char *tool, enum cli_format format)
{
	bool table = format == FORMAT_TABLE;
	int err = jdoc__get(d, 0, "error"), res = jdoc__get(d, 0, "result");
	if (err >= 0) {
		int64_t code = 0;
		jdoc__int(d, jdoc__get(d, err, "code"), &code);
		fputs("ebpf-mcp: ", stderr);
		put_value(d, jdoc__get(d, err, "message"), stderr);
		fputc('\n', stderr);
		return code == -32602 || code == -32601 ? CLI_USAGE : CLI_INTERNAL;
	}
	if (list) {
		if (table)
			put_tools(d, jdoc__get(d, res, "tools"), stdout);
		else
			put_value(d, res, stdout), putchar('\n');
		return CLI_OK;
	}
	int sc = jdoc__get(d, res, "structuredContent");
	if (jdoc__is_true(d, jdoc__get(d, res, "isError")))
		return tool_error(d, sc, tool);
	if (sc < 0)
		return fprintf(stderr, "ebpf-mcp: %s: the reply has no structuredContent\n", tool), CLI_INTERNAL;
	if (format == FORMAT_SVG)
		return draw__svg(d, sc, tool, stdout) ? CLI_INTERNAL : CLI_OK;
	if (table)
		put_readable(d, sc, stdout);
	else
		put_value(d, sc, stdout), putchar('\n');
	return CLI_OK;
}

/* The reply line with our id among the server's output lines. */
static int find_reply(char *out, size_t len, bool list, const char *tool, enum cli_format format)
{
	char want[32];
	int wl = snprintf(want, sizeof(want), "{\"jsonrpc\":\"2.0\",\"id\":%d,", CLI_REQ_ID);
	for (char *line = out, *nl; line < out + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(out + len - line));
		if (!nl)
			nl = out + len;
		if (strncmp(line, want, (size_t)wl))
			continue;   /* the initialize reply, notifications */
		jsmn_parser p;
		jsmn_init(&p);
		int n = jsmn_parse(&p, line, (size_t)(nl - line), NULL, 0);
		jsmntok_t *toks = n > 0 ? malloc((size_t)n * sizeof(*toks)) : NULL;
		struct jdoc d;
		struct json_perr perr;
		int rc = CLI_INTERNAL;
		if (toks && !jdoc__parse(&d, line, (size_t)(nl - line), toks, (unsigned)n, 4096, &perr))
			rc = print_reply(&d, list, tool, format);
		else
			fprintf(stderr, "ebpf-mcp: cannot read the server's reply\n");
		free(toks);
		return rc;
	}
	fprintf(stderr, "ebpf-mcp: the server sent no reply (see the messages above)\n");
	return CLI_INTERNAL;
}

static int read_all(int fd, char **out, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	*out = end > 0 ? malloc((size_t)end + 1) : NULL;
	*len = 0;
	if (end <= 0 || !*out)
		return end == 0 ? 0 : -1;
	if (pread(fd, *out, (size_t)end, 0) != end)
		return -1;
	*len = (size_t)end;
	return 0;
}

/* --format svg draws a flame graph: only for tools whose result holds
 * stacks, those whose MCP App is the flame graph. 0, or CLI_USAGE after
 * saying which tools have something to draw. */
static int can_draw(bool list, const char *tool)
{
	const struct sch_app *fg = NULL;
	bool known = false;
	for (unsigned i = 0; i < sch_app_count; i++)
		fg = strcmp(sch_apps[i].name, "flamegraph") ? fg : &sch_apps[i];
	for (unsigned i = 0; !list && i < sch_tool_count; i++)
		if (!strcmp(sch_tools[i].name, tool)) {
			if (sch_tools[i].app >= 0 && &sch_apps[sch_tools[i].app] == fg)
				return 0;
			known = true;
		}
	if (!list && !known)
		return 0;   /* the server says it does not know the tool */
	fprintf(stderr, "ebpf-mcp: --format svg draws a flame graph of a tool's stacks, and %s%s has none to draw; "
		"tools with stacks:", list ? "a tools listing" : tool, list ? "" : "'s result");
	for (unsigned i = 0; i < sch_tool_count; i++)
		if (sch_tools[i].app >= 0 && &sch_apps[sch_tools[i].app] == fg)
			fprintf(stderr, " %s", sch_tools[i].name);
	fputs(" (--format table prints histograms as text bars)\n", stderr);
	return CLI_USAGE;
}

int cli__run(const struct config *c, int n, char **words)
{
	bool list = c->mode == MODE_TOOLS;
	if (!list && n < 1)
		return fprintf(stderr, "ebpf-mcp: call needs a tool name (ebpf-mcp tools lists them)\n"), CLI_USAGE;
	if (list && n > 0)
		return fprintf(stderr, "ebpf-mcp: tools takes no arguments\n"), CLI_USAGE;
	if (c->format == FORMAT_SVG && can_draw(list, list ? NULL : words[0]))
		return CLI_USAGE;
	int in = memfd_create("ebpf-mcp-cli-in", MFD_CLOEXEC), out = memfd_create("ebpf-mcp-cli-out", MFD_CLOEXEC);
	int rc = CLI_INTERNAL;
	if (in < 0 || out < 0) {
		fprintf(stderr, "ebpf-mcp: memfd_create: %s\n", strerror(errno));
	} else if (write_requests(in, list, n, words)) {
		rc = CLI_USAGE;
	} else if (!server__run_stdio(c, in, out, "cli")) {
		char *buf = NULL;
		size_t len;
		rc = read_all(out, &buf, &len) ? CLI_INTERNAL : find_reply(buf, len, list, list ? NULL : words[0], c->format);
		free(buf);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}
