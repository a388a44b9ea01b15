/* schemac: compiles schemas/<tool>.json into C tables (build time, host).
 *
 * usage: schemac OUT.c OUT.h ERROR.json [APP.html...] TOOL.json...
 *        schemac --errors-md OUT.md
 *
 * Each tool file holds {name, profile, title, description, annotations,
 * inputSchema, outputSchema}. profile (readonly, observe or full: the least
 * --profile that offers the tool) goes into the tool table, not into the
 * descriptor clients see. The compiler refuses a file without both schemas, a keyword
 * the runtime validator does not implement, an input object without an
 * explicit additionalProperties, and annotations missing any hint. Output
 * schemas get the shared error object added (ERROR.json), so an isError
 * result validates against the same outputSchema clients see. The error
 * object's `code` is checked against the codes of src/errors.h: the
 * validator's node gets them as an enum, the served text does not (a
 * hundred names in every tool's descriptor would cost every client).
 *
 * A tool file may also hold _meta {ui: {resourceUri}} naming one of the
 * MCP Apps given as APP.html (src/apps/): the compiler refuses a URI that
 * names no app, and writes the descriptor's _meta as the extension's own
 * server helper does (ui.resourceUri and the older flat "ui/resourceUri").
 * Each app is embedded with the shared script and style it includes
 * (a comment naming src/apps/NAME.js or .css), after checks: at most
 * SCH_APP_BYTES_MAX bytes in all, small enough once escaped to fit the smallest reply a server may
 * be configured with, UTF-8 text with a <title> and a description, and
 * nothing in it that would fetch from the network.
 *
 * --errors-md writes the same codes as a markdown table.
 */
#include "../src/errors.h"
#include "../src/json/json.h"
#include "../src/json/schema.h"
#include "../src/limits.h"

#include <errno.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES   8192
#define MAX_PROPS   16384
#define MAX_ENUMS   8192
#define MAX_TOOLS   128
#define MAX_TOKENS  65536
#define FILE_MAX    (1 << 20)
#define DESC_MAX    (256 << 10)

static struct sch_node nodes[MAX_NODES];
static struct { char *name; unsigned node; bool req; } props[MAX_PROPS];
static char *enums[MAX_ENUMS];
static unsigned n_nodes, n_props, n_enums;
static const char *cur_file;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "schemac: %s: ", cur_file ? cur_file : "-");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open: %s", strerror(errno));
	char *buf = malloc(FILE_MAX);
	*len = fread(buf, 1, FILE_MAX, f);
	if (*len == FILE_MAX)
		die("larger than %d bytes", FILE_MAX);
	fclose(f);
	return buf;
}

static void parse(struct jdoc *d, const char *path)
{
	size_t len;
	char *js = slurp(path, &len);
	struct json_perr e;
	jsmntok_t *t = malloc(sizeof(*t) * MAX_TOKENS);
	cur_file = path;
	if (jdoc__parse(d, js, len, t, MAX_TOKENS, 256, &e))
		die("invalid JSON at byte %zu: %s", e.offset, e.what);
}

static char *dupstr(const struct jdoc *d, int i)
{
	char *s = malloc(4096);
	if (jdoc__str(d, i, s, 4096, NULL))
		die("expected a short string at byte %d", d->t[i].start);
	return s;
}

static uint8_t type_bit(const char *s)
{
	static const struct { const char *n; uint8_t b; } tab[] = {
		{ "null", SCH_NULL }, { "boolean", SCH_BOOL }, { "integer", SCH_INT },
		{ "number", SCH_INT | SCH_NUM }, { "string", SCH_STR }, { "array", SCH_ARR },
		{ "object", SCH_OBJ },
	};
	for (unsigned k = 0; k < sizeof(tab) / sizeof(tab[0]); k++)
		if (!strcmp(tab[k].n, s))
			return tab[k].b;
	die("unknown type '%s'", s);
	return 0;
}

static bool is_annotation(const struct jdoc *d, int key)
{
	static const char *const ok[] = { "description", "title", "default", "examples", "$schema", "format" };
	for (unsigned k = 0; k < sizeof(ok) / sizeof(ok[0]); k++)
		if (jdoc__str_eq(d, key, ok[k]))
			return true;
	return false;
}

static unsigned compile(const struct jdoc *d, int tok, bool input);

/* >= 0 while compiling an output root: the node of the shared error object,
 * added as one more property so error results validate too. */
static int extra_error_node = -1;
static int extra_props_tok = -1;    /* the output root's "properties" token */

static void compile_props(const struct jdoc *d, int obj, struct sch_node *n, bool input)
{
	/* Properties of one node must be contiguous: reserve, then fill. */
	unsigned first = n_props, cnt = (unsigned)d->t[obj].size;
	int extra = obj == extra_props_tok ? extra_error_node : -1;
	if (n_props + cnt + 1 > MAX_PROPS)
		die("too many properties");
	n_props += cnt + (extra >= 0);
	if (extra >= 0) {
		props[first + cnt].name = "error";
		props[first + cnt].node = (unsigned)extra;
		props[first + cnt].req = false;
	}
	int j = obj + 1;
	for (unsigned k = 0; k < cnt; k++) {
		props[first + k].name = dupstr(d, j);
		props[first + k].req = false;
		props[first + k].node = compile(d, j + 1, input);
		j = jdoc__skip(d, j + 1);
	}
	n->prop_first = (uint16_t)first;
	n->prop_count = (uint16_t)(cnt + (extra >= 0));
}

static void compile_required(const struct jdoc *d, int arr, struct sch_node *n)
{
	for (int k = 0; k < d->t[arr].size; k++) {
		int e = jdoc__elem(d, arr, k);
		char *name = dupstr(d, e);
		unsigned p;
		for (p = 0; p < n->prop_count; p++)
			if (!strcmp(props[n->prop_first + p].name, name))
				break;
		if (p == n->prop_count)
			die("required '%s' is not among the properties", name);
		props[n->prop_first + p].req = true;
	}
}

static void compile_enum(const struct jdoc *d, int arr, struct sch_node *n)
{
	n->enum_first = (uint16_t)n_enums;
	n->enum_count = (uint16_t)d->t[arr].size;
	for (int k = 0; k < d->t[arr].size; k++) {
		int e = jdoc__elem(d, arr, k);
		if (!jdoc__is_str(d, e))
			die("enum values must be strings");
		if (n_enums >= MAX_ENUMS)
			die("too many enum values");
		enums[n_enums++] = dupstr(d, e);
	}
}

static void compile_type(const struct jdoc *d, int v, struct sch_node *n)
{
	char buf[32];
	if (jdoc__is_str(d, v)) {
		jdoc__str(d, v, buf, sizeof(buf), NULL);
		n->types = type_bit(buf);
		return;
	}
	if (!jdoc__is_arr(d, v))
		die("type must be a string or an array");
	n->types = 0;
	for (int k = 0; k < d->t[v].size; k++) {
		jdoc__str(d, jdoc__elem(d, v, k), buf, sizeof(buf), NULL);
		n->types |= type_bit(buf);
	}
}

static uint32_t get_u32(const struct jdoc *d, int v)
{
	int64_t x;
	if (jdoc__int(d, v, &x) || x < 0 || x > UINT32_MAX)
		die("expected a non-negative integer at byte %d", d->t[v].start);
	return (uint32_t)x;
}

static void compile_keyword(const struct jdoc *d, int key, int v, unsigned idx, bool input)
{
	struct sch_node *n = &nodes[idx];
	if (jdoc__str_eq(d, key, "type")) {
		compile_type(d, v, n);
	} else if (jdoc__str_eq(d, key, "properties")) {
		compile_props(d, v, &nodes[idx], input);
	} else if (jdoc__str_eq(d, key, "required") || is_annotation(d, key)) {
		/* required: after properties, below */
	} else if (jdoc__str_eq(d, key, "additionalProperties")) {
		if (jdoc__is_bool(d, v))
			n->flags |= jdoc__is_true(d, v) ? 0 : SCH_F_NO_ADDL;
		else
			nodes[idx].addl = (int16_t)compile(d, v, input);
	} else if (jdoc__str_eq(d, key, "items")) {
		nodes[idx].items = (int16_t)compile(d, v, input);
	} else if (jdoc__str_eq(d, key, "enum")) {
		compile_enum(d, v, n);
	} else if (jdoc__str_eq(d, key, "minimum")) {
		jdoc__num(d, v, &n->minimum), n->flags |= SCH_F_MIN;
	} else if (jdoc__str_eq(d, key, "maximum")) {
		jdoc__num(d, v, &n->maximum), n->flags |= SCH_F_MAX;
	} else if (jdoc__str_eq(d, key, "minLength") || jdoc__str_eq(d, key, "minItems")) {
		n->min_len = get_u32(d, v);
	} else if (jdoc__str_eq(d, key, "maxLength") || jdoc__str_eq(d, key, "maxItems")) {
		n->max_len = get_u32(d, v);
	} else {
		die("keyword at byte %d is not supported by the runtime validator", d->t[key].start);
	}
}

static unsigned compile(const struct jdoc *d, int tok, bool input)
{
	if (!jdoc__is_obj(d, tok))
		die("a schema must be an object (byte %d)", d->t[tok].start);
	if (n_nodes >= MAX_NODES)
		die("too many schema nodes");
	unsigned idx = n_nodes++;
	nodes[idx] = (struct sch_node){ .types = SCH_ANY, .items = -1, .addl = -1, .max_len = UINT32_MAX };
	int j = tok + 1;
	for (int k = 0; k < d->t[tok].size; k++) {
		compile_keyword(d, j, j + 1, idx, input);
		j = jdoc__skip(d, j + 1);
	}
	int req = jdoc__get(d, tok, "required");
	if (req >= 0)
		compile_required(d, req, &nodes[idx]);
	if (input && (nodes[idx].types & SCH_OBJ) && jdoc__get(d, tok, "additionalProperties") < 0 &&
	    nodes[idx].types == SCH_OBJ)
		die("input object at byte %d must say additionalProperties", d->t[tok].start);
	return idx;
}

/* ---- minified re-emission -------------------------------------------- */

static void emit(const struct jdoc *d, int i, struct jw *w)
{
	const jsmntok_t *t = &d->t[i];
	if (t->type == JSMN_STRING) {
		jw__raw(w, d->js + t->start - 1, (size_t)(t->end - t->start + 2));
	} else if (t->type == JSMN_PRIMITIVE) {
		jw__raw(w, d->js + t->start, (size_t)(t->end - t->start));
	} else if (t->type == JSMN_ARRAY) {
		jw__arr(w);
		for (int k = 0; k < t->size; k++)
			emit(d, jdoc__elem(d, i, k), w);
		jw__arr_end(w);
	} else {
		jw__obj(w);
		int j = i + 1;
		for (int k = 0; k < t->size; k++) {
			char key[256];
			jdoc__str(d, j, key, sizeof(key), NULL);
			jw__key(w, key);
			emit(d, j + 1, w);
			j = jdoc__skip(d, j + 1);
		}
		jw__obj_end(w);
	}
}

/* The output root: success properties plus "error"; either all required
 * success fields, or just the error (see SCH_F_OR_ERROR). */
static void emit_output(const struct jdoc *d, int root, const struct jdoc *ed, struct jw *w)
{
	jw__obj(w);
	int j = root + 1;
	for (int k = 0; k < d->t[root].size; k++, j = jdoc__skip(d, j + 1)) {
		char key[64];
		jdoc__str(d, j, key, sizeof(key), NULL);
		if (!strcmp(key, "required"))
			continue;
		jw__key(w, key);
		if (strcmp(key, "properties")) {
			emit(d, j + 1, w);
			continue;
		}
		int p = j + 1, q = p + 1;
		jw__obj(w);
		for (int m = 0; m < d->t[p].size; m++, q = jdoc__skip(d, q + 1)) {
			char pk[256];
			jdoc__str(d, q, pk, sizeof(pk), NULL);
			jw__key(w, pk);
			emit(d, q + 1, w);
		}
		jw__key(w, "error");
		emit(ed, 0, w);
		jw__obj_end(w);
	}
	int req = jdoc__get(d, root, "required");
	jw__key(w, "anyOf");
	jw__arr(w);
	jw__obj(w);
	jw__key(w, "required");
	if (req >= 0)
		emit(d, req, w);
	else
		jw__raw(w, "[]", 2);
	jw__obj_end(w);
	jw__raw(w, "{\"required\":[\"error\"]}", 22);
	jw__arr_end(w);
	jw__obj_end(w);
}

static void need_hints(const struct jdoc *d, int ann)
{
	static const char *const hints[] = { "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint" };
	if (!jdoc__is_obj(d, ann))
		die("annotations missing");
	for (unsigned k = 0; k < 4; k++)
		if (!jdoc__is_bool(d, jdoc__get(d, ann, hints[k])))
			die("annotations.%s must be a boolean", hints[k]);
}

static int need(const struct jdoc *d, const char *key)
{
	int v = jdoc__get(d, 0, key);
	if (v < 0)
		die("missing '%s'", key);
	return v;
}

/* ---- MCP Apps ---------------------------------------------------------- */

struct app_out {
	char name[64], uri[96];
	char *title, *desc, *html;
	size_t len;
};
static struct app_out apps[SCH_APPS_MAX];
static unsigned n_apps;

/* The smallest reply a server may be configured with (--limit
 * response_bytes): resources/read of an app must fit even that one. */
#define X(id, name, def, min, max, why) [LIM_##id] = (min),
static const uint64_t limit_min[] = { LIMITS_TABLE(X) };
#undef X

/* What would make an app load or send something: hosts show it under a
 * CSP that allows nothing beyond the document itself, so each of these is
 * a bug (matched without regard to case). */
static const char *const fetchers[] = {
	"<link", "<script src", "<iframe", "<object", "<embed", "<img", "<base", "<form", "@import", "url(",
	"src=", "href=", "fetch(", "xmlhttprequest", "websocket", "eventsource", "sendbeacon", "import(",
	"window.open", "serviceworker", "worker(",
};

static const char *find_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(s + i, needle, k))
			return s + i;
	return NULL;
}

static unsigned line_of(const char *s, const char *at)
{
	unsigned line = 1;
	for (; s < at; s++)
		line += *s == '\n';
	return line;
}

/* UTF-8 text: whole sequences, no control bytes but tab, CR and LF. */
static void check_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		unsigned more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			die("control byte 0x%02x on line %u", c, line_of(s, s + i));
		if (more == 9 || i + more >= n + (more == 0))
			die("not UTF-8 on line %u", line_of(s, s + i));
		for (unsigned k = 1; k <= more; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				die("not UTF-8 on line %u", line_of(s, s + i));
		i += 1 + more;
	}
}

/* The text between open and close, as a new string without '"' or '<'. */
static char *between(const char *s, size_t n, const char *open, const char *close, const char *what)
{
	const char *a = find_ci(s, n, open);
	a = a ? a + strlen(open) : NULL;
	const char *b = a ? find_ci(a, n - (size_t)(a - s), close) : NULL;
	if (!a || !b)
		die("no %s (%s...%s)", what, open, close);
	if (b == a || memchr(a, '<', (size_t)(b - a)))
		die("%s is empty or holds markup", what);
	return strndup(a, (size_t)(b - a));
}

/* Appends the file at path to buf (holding *len of SCH_APP_BYTES_MAX + 1). */
static void append_file(const char *path, char *buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	*len += fread(buf + *len, 1, SCH_APP_BYTES_MAX + 1 - *len, f);
	fclose(f);
	if (*len > SCH_APP_BYTES_MAX)
		die("an app is at most %d bytes (SCH_APP_BYTES_MAX) with what it includes: this one is larger",
		    SCH_APP_BYTES_MAX);
}

#define INCLUDE_OPEN "/*@include "

/* The app at path with each include comment (INCLUDE_OPEN, then NAME.js or
 * NAME.css, then the comment's end) replaced by that file of its
 * directory: code and style the apps share, such as the host bridge. */
static size_t assemble(const char *path, char *out)
{
	static char raw[SCH_APP_BYTES_MAX + 1];
	size_t rlen = 0, len = 0;
	append_file(path, raw, &rlen);
	raw[rlen] = 0;   /* strstr below stops here */
	for (const char *p = raw, *end = raw + rlen, *inc; p < end; p = inc) {
		inc = find_ci(p, (size_t)(end - p), INCLUDE_OPEN);
		const char *name = inc ? inc + strlen(INCLUDE_OPEN) : NULL, *close = name ? strstr(name, "*/") : NULL;
		size_t chunk = (size_t)((inc ? inc : end) - p);
		memcpy(out + len, p, chunk);
		len += chunk;
		if (!inc)
			break;
		size_t nl = close ? (size_t)(close - name) : 0;
		size_t ext = nl > 4 && !strncmp(close - 4, ".css", 4) ? 4 : nl > 3 && !strncmp(close - 3, ".js", 3) ? 3 : 0;
		if (!ext || nl > 60 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != nl - ext)
			die("line %u: an include is " INCLUDE_OPEN "NAME.js*/ or NAME.css ([a-z0-9-]+)", line_of(raw, inc));
		char dir[4096];
		const char *slash = strrchr(path, '/');
		snprintf(dir, sizeof(dir), "%.*s%.*s", slash ? (int)(slash - path + 1) : 0, path, (int)nl, name);
		append_file(dir, out, &len);
		inc = close + 2;
	}
	return len;
}

static void load_app(const char *path)
{
	struct app_out *a = &apps[n_apps];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t nl = strlen(base) - strlen(".html");
	cur_file = path;
	if (n_apps == SCH_APPS_MAX)
		die("more than %d apps", SCH_APPS_MAX);
	if (nl == 0 || nl >= sizeof(a->name) || strspn(base, "abcdefghijklmnopqrstuvwxyz0123456789-") != nl)
		die("an app's file name is [a-z0-9-]+.html (it becomes %sNAME)", SCH_APP_URI_PREFIX);
	a->html = malloc(SCH_APP_BYTES_MAX + 1);
	a->len = assemble(path, a->html);
	check_text(a->html, a->len);
	if (strncasecmp(a->html, "<!DOCTYPE html>", 15))
		die("an app is an HTML5 document: it starts with <!DOCTYPE html>");
	for (unsigned k = 0; k < sizeof(fetchers) / sizeof(fetchers[0]); k++) {
		const char *at = find_ci(a->html, a->len, fetchers[k]);
		if (at)
			die("line %u: '%s' would load or send something; an app is self-contained (inline script "
			    "and style, no network)", line_of(a->html, at), fetchers[k]);
	}
	a->title = between(a->html, a->len, "<title>", "</title>", "<title>");
	a->desc = between(a->html, a->len, "<meta name=\"description\" content=\"", "\"", "description meta");
	memcpy(a->name, base, nl);
	_Static_assert(sizeof(SCH_APP_URI_PREFIX) + sizeof(a->name) <= sizeof(a->uri), "an app's URI fits");
	strcat(strcpy(a->uri, SCH_APP_URI_PREFIX), a->name);
	/* resources/read sends it JSON-escaped, in one reply line */
	static char esc[8 * SCH_APP_BYTES_MAX];
	struct jw w;
	jw__init(&w, esc, sizeof(esc));
	jw__strn(&w, a->html, a->len);
	if (w.overflow || w.len + LIMIT_ID_BYTES + SCH_APP_REPLY_SLACK > limit_min[LIM_RESPONSE_BYTES])
		die("escaped for JSON it takes %zu bytes: resources/read's reply would not fit response_bytes at its "
		    "minimum (%llu)", w.len, (unsigned long long)limit_min[LIM_RESPONSE_BYTES]);
	for (unsigned i = 0; i < n_apps; i++)
		if (!strcmp(apps[i].name, a->name))
			die("app '%s' given twice", a->name);
	n_apps++;
	cur_file = NULL;
}

/* The tool's _meta {ui: {resourceUri, ...}}: its app's index, or -1 when
 * it has none. Written to w as the descriptor's _meta. */
static int tool_app(const struct jdoc *d, struct jw *w)
{
	int meta = jdoc__get(d, 0, "_meta");
	if (meta < 0)
		return -1;
	int ui = jdoc__get(d, meta, "ui"), uri = ui >= 0 ? jdoc__get(d, ui, "resourceUri") : -1;
	if (!jdoc__is_obj(d, meta) || d->t[meta].size != 1 || !jdoc__is_obj(d, ui) || !jdoc__is_str(d, uri))
		die("_meta holds only ui: {resourceUri: \"%sNAME\", ...}", SCH_APP_URI_PREFIX);
	char u[128];
	if (jdoc__str(d, uri, u, sizeof(u), NULL))
		die("_meta.ui.resourceUri is too long");
	for (unsigned i = 0; i < n_apps; i++) {
		if (strcmp(apps[i].uri, u))
			continue;
		jw__key(w, "_meta");
		jw__obj(w);
		jw__key(w, "ui");
		emit(d, ui, w);
		jw__kstr(w, "ui/resourceUri", u);   /* hosts that predate ui.resourceUri */
		jw__obj_end(w);
		return (int)i;
	}
	die("_meta.ui.resourceUri '%s' names no app (the apps are the .html files given before the tools)", u);
	return -1;
}

struct tool_out {
	char *name, *desc;
	const char *profile;    /* PROFILE_* of config.h */
	size_t desc_len;
	unsigned in, out;
	int app;                /* index in apps, -1 for none */
};

static const char *profile_id(const struct jdoc *d, int v)
{
	static const char *const p[][2] = {
		{ "readonly", "PROFILE_READONLY" }, { "observe", "PROFILE_OBSERVE" }, { "full", "PROFILE_FULL" },
	};
	for (unsigned k = 0; k < sizeof(p) / sizeof(p[0]); k++)
		if (jdoc__str_eq(d, v, p[k][0]))
			return p[k][1];
	die("profile must be \"readonly\", \"observe\" or \"full\"");
	return NULL;
}

/* The validator node of the error object's `code`: an enum of every code in
 * the table, so a code outside it fails --validate-output. */
static void code_enum(unsigned err_node)
{
	const struct sch_node *n = &nodes[err_node];
	unsigned p;
	for (p = n->prop_first; p < n->prop_first + n->prop_count; p++)
		if (!strcmp(props[p].name, "code"))
			break;
	if (p == n->prop_first + n->prop_count)
		die("the error object has no `code` property");
	struct sch_node *c = &nodes[props[p].node];
	if (c->types != SCH_STR || c->enum_count)
		die("the error object's `code` must be a string without an enum of its own");
	if (n_enums + ERR__COUNT > MAX_ENUMS)
		die("too many enum values");
	c->enum_first = (uint16_t)n_enums;
	c->enum_count = ERR__COUNT;
	for (unsigned i = 0; i < ERR__COUNT; i++)
		enums[n_enums++] = (char *)err_defs[i].name;
}

static void compile_tool(const char *path, const struct jdoc *ed, struct tool_out *to)
{
	struct jdoc d;
	parse(&d, path);
	int in = need(&d, "inputSchema"), out = need(&d, "outputSchema");
	int ann = need(&d, "annotations");
	need_hints(&d, ann);
	to->name = dupstr(&d, need(&d, "name"));
	to->profile = profile_id(&d, need(&d, "profile"));
	to->in = compile(&d, in, true);
	if (nodes[to->in].types != SCH_OBJ)
		die("inputSchema must be of type object");
	extra_props_tok = jdoc__get(&d, out, "properties");
	if (extra_props_tok < 0)
		die("outputSchema needs properties");
	to->out = compile(&d, out, false);
	nodes[to->out].flags |= SCH_F_OR_ERROR;
	extra_props_tok = -1;
	if (nodes[to->out].types != SCH_OBJ)
		die("outputSchema must be of type object");

	char *buf = malloc(DESC_MAX);
	struct jw w;
	jw__init(&w, buf, DESC_MAX);
	jw__obj(&w);
	jw__kstr(&w, "name", to->name);
	jw__key(&w, "title"), emit(&d, need(&d, "title"), &w);
	jw__key(&w, "description"), emit(&d, need(&d, "description"), &w);
	jw__key(&w, "inputSchema"), emit(&d, in, &w);
	jw__key(&w, "outputSchema"), emit_output(&d, out, ed, &w);
	jw__key(&w, "annotations"), emit(&d, ann, &w);
	to->app = tool_app(&d, &w);
	jw__obj_end(&w);
	if (w.overflow)
		die("descriptor larger than %d bytes", DESC_MAX);
	to->desc = buf;
	to->desc_len = w.len;
}

/* ---- C output -------------------------------------------------------- */

static void c_string(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
		if (i && i % 100 == 0)
			fputs("\"\n\t\"", f);
	}
	fputc('"', f);
}

static void write_tables(FILE *f)
{
	fprintf(f, "const struct sch_node sch_nodes[] = {\n");
	for (unsigned i = 0; i < n_nodes; i++) {
		struct sch_node *n = &nodes[i];
		fprintf(f, "\t{ %u, %u, %u, %u, %u, %u, %d, %d, %.17g, %.17g, %uu, %uu },\n",
			n->types, n->flags, n->prop_first, n->prop_count, n->enum_first, n->enum_count,
			n->items, n->addl, n->minimum, n->maximum, n->min_len, n->max_len);
	}
	fprintf(f, "};\nconst struct sch_prop sch_props[] = {\n");
	for (unsigned i = 0; i < n_props; i++) {
		fprintf(f, "\t{ ");
		c_string(f, props[i].name, strlen(props[i].name));
		fprintf(f, ", %u, %s },\n", props[i].node, props[i].req ? "true" : "false");
	}
	fprintf(f, "\t{ 0, 0, false }\n};\nconst char *const sch_enums[] = {\n");
	for (unsigned i = 0; i < n_enums; i++) {
		fputc('\t', f);
		c_string(f, enums[i], strlen(enums[i]));
		fputs(",\n", f);
	}
	fprintf(f, "\t0\n};\n");
}

/* build/gen/errors.md: every code with its category, recoverable and meaning. */
static int errors_md(const char *path)
{
	FILE *f = fopen(path, "w");
	cur_file = path;
	if (!f)
		die("cannot write: %s", strerror(errno));
	fprintf(f, "<!-- Generated by schemas/schemac from src/errors.h and src/limits.h. Do not edit. -->\n"
		   "# Error codes\n\n"
		   "A failed tool call is an `isError` result with `structuredContent.error = {category, code, "
		   "message, recoverable, context}`. `code` is one of these %u.\n\n"
		   "| code | category | recoverable | meaning |\n|---|---|---|---|\n", (unsigned)ERR__COUNT);
	for (unsigned i = 0; i < ERR__COUNT; i++) {
		const struct err_def *e = &err_defs[i];
		fprintf(f, "| `%s` | %s | %s | ", e->name, err_cat_names[e->cat], e->recoverable ? "yes" : "no");
		for (const char *c = e->meaning; *c; c++) {
			if (*c == '|')
				fputc('\\', f);   /* a pipe would end the cell */
			fputc(*c, f);
		}
		fputs(" |\n", f);
	}
	if (fclose(f))
		die("write failed");
	return 0;
}

static bool is_app(const char *path)
{
	size_t n = strlen(path);
	return n > 5 && !strcmp(path + n - 5, ".html");
}

static void write_apps(FILE *c)
{
	fprintf(c, "const struct sch_app sch_apps[] = {\n");
	for (unsigned i = 0; i < n_apps; i++) {
		const struct app_out *a = &apps[i];
		fprintf(c, "\t{ \"%s\", \"%s\",\n\t", a->name, a->uri);
		c_string(c, a->title, strlen(a->title));
		fputs(",\n\t", c);
		c_string(c, a->desc, strlen(a->desc));
		fputs(",\n\t", c);
		c_string(c, a->html, a->len);
		fprintf(c, ",\n\t%zu },\n", a->len);
	}
	fprintf(c, "\t{ 0 }\n};\nconst unsigned sch_app_count = %u;\n\n", n_apps);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tool_out *)a)->name, ((const struct tool_out *)b)->name);
}

int main(int argc, char **argv)
{
	static struct tool_out tools[MAX_TOOLS];
	struct jdoc ed;
	if (argc == 3 && !strcmp(argv[1], "--errors-md"))
		return errors_md(argv[2]);
	if (argc < 4) {
		fprintf(stderr, "usage: schemac OUT.c OUT.h ERROR.json [APP.html...] TOOL.json...\n"
			"       schemac --errors-md OUT.md\n");
		return 2;
	}
	parse(&ed, argv[3]);
	extra_error_node = (int)compile(&ed, 0, false);
	code_enum((unsigned)extra_error_node);
	for (int a = 4; a < argc; a++)   /* the apps first: tools name them */
		if (is_app(argv[a]))
			load_app(argv[a]);
	unsigned nt = 0;
	for (int a = 4; a < argc; a++) {
		if (is_app(argv[a]))
			continue;
		if (nt >= MAX_TOOLS)
			die("more than %d tools", MAX_TOOLS);
		compile_tool(argv[a], &ed, &tools[nt++]);
	}
	cur_file = NULL;
	qsort(tools, nt, sizeof(tools[0]), by_name);
	for (unsigned i = 1; i < nt; i++)
		if (!strcmp(tools[i].name, tools[i - 1].name))
			die("tool '%s' defined twice", tools[i].name);
	if (n_nodes > INT16_MAX)
		die("too many nodes");

	FILE *h = fopen(argv[2], "w"), *c = fopen(argv[1], "w");
	if (!h || !c)
		die("cannot write outputs");
	fprintf(h, "/* Generated by schemas/schemac from schemas/<tool>.json. Do not edit. */\n"
		   "#ifndef EBPF_MCP_SCHEMAS_GEN_H\n#define EBPF_MCP_SCHEMAS_GEN_H\nenum sch_tool_id {\n");
	for (unsigned i = 0; i < nt; i++)
		fprintf(h, "\tSCHEMA_%s = %u,\n", tools[i].name, i);
	fprintf(h, "\tSCHEMA__COUNT = %u\n};\n#endif\n", nt);

	fprintf(c, "/* Generated by schemas/schemac from schemas/<tool>.json. Do not edit. */\n"
		   "#include \"json/schema.h\"\n#include \"schemas_gen.h\"\n#include \"tools/tool.h\"\n\n");
	write_tables(c);
	fprintf(c, "const struct sch_tool sch_tools[] = {\n");
	for (unsigned i = 0; i < nt; i++) {
		fprintf(c, "\t[SCHEMA_%s] = { \"%s\",\n\t", tools[i].name, tools[i].name);
		c_string(c, tools[i].desc, tools[i].desc_len);
		fprintf(c, ",\n\t%zu, %u, %u, %s, %d },\n", tools[i].desc_len, tools[i].in, tools[i].out,
			tools[i].profile, tools[i].app);
	}
	fprintf(c, "};\nconst unsigned sch_tool_count = %u;\n\n", nt);
	write_apps(c);
	/* The tool table comes from the same list: a schema whose handler is
	 * missing fails to link, and a handler needs its SCHEMA_ constant. */
	for (unsigned i = 0; i < nt; i++)
		fprintf(c, "extern const struct tool tool_%s;\n", tools[i].name);
	fprintf(c, "const struct tool *const tool_table[] = {\n");
	for (unsigned i = 0; i < nt; i++)
		fprintf(c, "\t[SCHEMA_%s] = &tool_%s,\n", tools[i].name, tools[i].name);
	fprintf(c, "};\nconst unsigned tool_count = %u;\n", nt);
	if (fclose(h) || fclose(c))
		die("write failed");
	return 0;
}
