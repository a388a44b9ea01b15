/* schemac: compiles schemas/<tool>.json into C tables (build time, host).
 *
 * usage: schemac OUT.c OUT.h ERROR.json TOOL.json...
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
 * --errors-md writes the same codes as a markdown table.
 */
#include "../src/errors.h"
#include "../src/json/json.h"
#include "../src/json/schema.h"

#include <errno.h>
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

struct tool_out {
	char *name, *desc;
	const char *profile;    /* PROFILE_* of config.h */
	size_t desc_len;
	unsigned in, out;
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
		fprintf(stderr, "usage: schemac OUT.c OUT.h ERROR.json TOOL.json...\n"
			"       schemac --errors-md OUT.md\n");
		return 2;
	}
	parse(&ed, argv[3]);
	extra_error_node = (int)compile(&ed, 0, false);
	code_enum((unsigned)extra_error_node);
	unsigned nt = 0;
	for (int a = 4; a < argc; a++) {
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
		fprintf(c, ",\n\t%zu, %u, %u, %s },\n", tools[i].desc_len, tools[i].in, tools[i].out,
			tools[i].profile);
	}
	fprintf(c, "};\nconst unsigned sch_tool_count = %u;\n\n", nt);
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
