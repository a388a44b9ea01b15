/* The YAML subset reader (see yaml.h).
 *
 * A cursor walks the text line by line; every value lives on one line, so
 * every error is on the line the cursor is at. Block collections are read
 * by recursive descent on indentation: a mapping or sequence owns the lines
 * indented exactly as its first entry, and ends at the first line indented
 * less. `col` is where the collection being read starts on the current
 * line: its indentation, or further right after "- " (`- key: v`).
 * Recursion is bounded by YAML_MAX_DEPTH, nodes by YAML_MAX_NODES, and the
 * pool cannot overflow (yaml.h says why; ASSERTed).
 */
#include "yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "assert.h"

struct yp {
	const char *s;
	size_t len;
	size_t ls, le;        /* the current line: its first byte, its end (before \r\n) */
	size_t next;          /* where the line after it starts */
	uint32_t lineno;      /* 1-based */
	uint32_t indent;      /* leading spaces of the current line */
	uint32_t col;         /* where the collection being read starts on it (0-based) */
	uint32_t depth;
	bool eof;
	bool begun;           /* content seen: a later `---` starts a second document */
	struct yaml_doc *d;
	struct yaml_error *e;
};

struct key {
	const char *text;
	uint32_t line, col;
};

/* ---- errors and the current line ------------------------------------------ */

static int32_t vfail(struct yp *p, uint32_t line, uint32_t col, const char *fmt, va_list ap)
{
	p->e->line = line, p->e->col = col;
	vsnprintf(p->e->why, sizeof(p->e->why), fmt, ap);
	return YAML_NONE;
}

static int32_t fail(struct yp *p, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(p, line, col, fmt, ap);
	va_end(ap);
	return YAML_NONE;
}

static uint32_t col_of(const struct yp *p, const char *c)
{
	return (uint32_t)(c - (p->s + p->ls)) + 1;
}

/* An error at byte `at` of the current line. */
static int32_t fail_at(struct yp *p, const char *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(p, p->lineno, col_of(p, at), fmt, ap);
	va_end(ap);
	return YAML_NONE;
}

static const char *line_end(const struct yp *p)
{
	return p->s + p->le;
}

static const char *at_col(const struct yp *p)
{
	return p->s + p->ls + p->col;
}

static const char *skip_ws(const char *c, const char *end)
{
	while (c < end && (*c == ' ' || *c == '\t'))
		c++;
	return c;
}

/* "- " or a lone "-": a block sequence entry. */
static bool is_entry(const struct yp *p, const char *c)
{
	return *c == '-' && (c + 1 == line_end(p) || c[1] == ' ');
}

/* ---- the line cursor ---------------------------------------------------------- */

/* Loads the line starting at off: its end, its indentation, its bytes checked. */
static int load_line(struct yp *p, size_t off)
{
	const char *nl = memchr(p->s + off, '\n', p->len - off);
	size_t end = nl ? (size_t)(nl - p->s) : p->len;
	p->ls = off, p->next = nl ? end + 1 : p->len;
	p->lineno++;
	if (end > off && p->s[end - 1] == '\r')
		end--;
	p->le = end;
	if (end - off > YAML_MAX_LINE_BYTES)
		return fail_at(p, p->s + off + YAML_MAX_LINE_BYTES, "line longer than %u bytes (YAML_MAX_LINE_BYTES)",
			       YAML_MAX_LINE_BYTES);
	for (const char *c = p->s + off; c < p->s + end; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return fail_at(p, c, "control byte 0x%02x (only tabs and UTF-8 text may appear)", (unsigned char)*c);
	p->indent = 0;
	while (off + p->indent < end && p->s[off + p->indent] == ' ')
		p->indent++;
	return 0;
}

/* 1: the current line holds content; 0: blank or a comment; -1: a tab in
 * its indentation. */
static int significant(struct yp *p)
{
	const char *c = p->s + p->ls + p->indent, *end = line_end(p);
	if (c == end || *c == '#')
		return 0;
	if (*c != '\t')
		return 1;
	const char *w = skip_ws(c, end);
	if (w == end || *w == '#')
		return 0;
	fail_at(p, c, "a tab in indentation: indent with spaces");
	return -1;
}

/* `---`, `...` and `%` directives at the start of a line. 1: skip the line. */
static int marker(struct yp *p)
{
	const char *c = p->s + p->ls, *end = line_end(p);
	bool dashes = end - c >= 3 && !memcmp(c, "---", 3) && (end - c == 3 || c[3] == ' ' || c[3] == '\t');
	bool dots = end - c >= 3 && !memcmp(c, "...", 3) && (end - c == 3 || c[3] == ' ' || c[3] == '\t');
	if (*c == '%')
		return fail_at(p, c, "directives (%%YAML, %%TAG) are not supported");
	if (dots)
		return fail_at(p, c, "a document end marker ('...') is not supported");
	if (!dashes)
		return 0;
	if (p->begun)
		return fail_at(p, c, "a second document ('---'): one document per file");
	const char *w = skip_ws(c + 3, end);
	if (w != end && *w != '#')
		return fail_at(p, w, "content after '---' on its line is not supported");
	return 1;
}

/* Moves to the next line that holds content; p->eof past the last. */
static int next_line(struct yp *p)
{
	for (;;) {
		if (p->next >= p->len) {
			p->eof = true, p->indent = 0, p->col = 0;
			return 0;
		}
		if (load_line(p, p->next) < 0)
			return -1;
		int sig = significant(p);
		if (sig <= 0) {
			if (sig < 0)
				return -1;
			continue;
		}
		int m = p->indent ? 0 : marker(p);
		if (m < 0)
			return -1;
		if (m)
			continue;
		p->begun = true;
		p->col = p->indent;
		return 0;
	}
}

/* ---- nodes and the pool ---------------------------------------------------------- */

static int32_t node_new(struct yp *p, enum yaml_kind kind, int32_t parent, uint32_t line, uint32_t col)
{
	struct yaml_doc *d = p->d;
	if (d->n_nodes == YAML_MAX_NODES)
		return fail(p, line, col, "more than %u keys and items (YAML_MAX_NODES)", YAML_MAX_NODES);
	int32_t i = (int32_t)d->n_nodes++;
	d->nodes[i] = (struct yaml_node){ .kind = kind, .line = line, .col = col, .parent = parent,
					  .first = YAML_NONE, .next = YAML_NONE };
	if (parent == YAML_NONE)
		return i;
	struct yaml_node *up = &d->nodes[parent];
	int32_t *link = &up->first;
	while (*link != YAML_NONE)   /* at most YAML_MAX_NODES steps */
		link = &d->nodes[*link].next;
	*link = i;
	up->n_children++;
	return i;
}

static int32_t node_at(struct yp *p, enum yaml_kind kind, int32_t parent, const char *at)
{
	return node_new(p, kind, parent, p->lineno, col_of(p, at));
}

/* Room for a string decoded from the source bytes [c, end). */
static char *pool_room(struct yp *p, const char *c, const char *end)
{
	ASSERT(p->d->pool_used + (size_t)(end - c) + 1 <= YAML_POOL_BYTES);
	return p->d->pool + p->d->pool_used;
}

static const char *pool_done(struct yp *p, char *start, char *o)
{
	*o = 0;
	p->d->pool_used += (size_t)(o - start) + 1;
	return start;
}

/* ---- scalars ------------------------------------------------------------------------ */

static int hex_digits(const char *c, const char *end, unsigned n, uint32_t *v)
{
	*v = 0;
	for (unsigned k = 0; k < n; k++, c++) {
		if (c == end)
			return -1;
		int h = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
			: *c >= 'A' && *c <= 'F' ? *c - 'A' + 10 : -1;
		if (h < 0)
			return -1;
		*v = *v << 4 | (uint32_t)h;
	}
	return 0;
}

static unsigned utf8_put(uint32_t cp, char *o)
{
	if (cp < 0x80)
		return o[0] = (char)cp, 1;
	if (cp < 0x800)
		return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000)
		return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
		       o[2] = (char)(0x80 | (cp & 0x3f)), 3;
	return o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
	       o[2] = (char)(0x80 | (cp >> 6 & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f)), 4;
}

/* \xHH, \uHHHH, \UHHHHHHHH at *cp (the letter): the UTF-8 bytes into o.
 * Never more bytes out than in (4 in, 2 out; 6, 3; 10, 4). */
static int hex_escape(struct yp *p, const char **cp, char **o)
{
	const char *bs = *cp - 1;
	unsigned n = **cp == 'x' ? 2 : **cp == 'u' ? 4 : 8;
	uint32_t v;
	if (hex_digits(*cp + 1, line_end(p), n, &v))
		return fail_at(p, bs, "'\\%c' needs %u hex digits", **cp, n);
	if (!v)
		return fail_at(p, bs, "a NUL byte (\\%c0...) cannot be passed to an option", **cp);
	if ((v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return fail_at(p, bs, "'\\%.*s' is not a Unicode scalar value", (int)n + 1, *cp);
	*o += utf8_put(v, *o);
	*cp += n;
	return 0;
}

/* One escape of a double-quoted scalar; *cp at the byte after the backslash,
 * left at the last byte consumed. */
static int escape(struct yp *p, const char **cp, char **o)
{
	static const char in[] = "\\\"/ntrbfave \t";
	static const char out[] = { '\\', '"', '/', '\n', '\t', '\r', '\b', '\f', '\a', '\v', 0x1b, ' ', '\t' };
	const char *hit = **cp ? strchr(in, **cp) : NULL;
	if (hit) {
		*(*o)++ = out[hit - in];
		return 0;
	}
	if (**cp == 'x' || **cp == 'u' || **cp == 'U')
		return hex_escape(p, cp, o);
	if (**cp == '0')
		return fail_at(p, *cp - 1, "'\\0' (a NUL byte) cannot be passed to an option");
	return fail_at(p, *cp - 1, "unsupported escape '\\%c' (these work: \\\\ \\\" \\/ \\n \\t \\r \\b \\f \\a \\v \\e, "
			       "\\xHH, \\uHHHH, \\UHHHHHHHH)", **cp);
}

static int32_t unterminated(struct yp *p, const char *open)
{
	return fail_at(p, open, "a %s-quoted value must end on its line (multi-line scalars are not supported)",
		       *open == '"' ? "double" : "single");
}

/* Where a quoted scalar opening at c ends (past its closing quote), or NULL
 * when it does not end on this line. */
static const char *quoted_end(const struct yp *p, const char *c)
{
	const char *end = line_end(p);
	for (const char *q = c + 1; q < end; q++) {
		if (*c == '"' && *q == '\\')
			q++;
		else if (*q == *c && *c == '\'' && q + 1 < end && q[1] == '\'')
			q++;
		else if (*q == *c)
			return q + 1;
	}
	return NULL;
}

/* Decodes the quoted scalar at c into the pool; *after past its closing quote. */
static int quoted(struct yp *p, const char *c, const char **text, const char **after)
{
	const char *end = quoted_end(p, c);
	if (!end)
		return unterminated(p, c);
	char *start = pool_room(p, c, end), *o = start;
	for (const char *q = c + 1; q < end - 1; q++) {
		if (*c == '\'' && *q == '\'')
			q++;   /* '' is one quote */
		else if (*c == '"' && *q == '\\') {
			q++;
			if (escape(p, &q, &o) < 0)
				return -1;
			continue;
		}
		*o++ = *q;
	}
	*text = pool_done(p, start, o);
	*after = end;
	return 0;
}

/* What a plain scalar may not begin with (each would mean something else). */
static int plain_start(struct yp *p, const char *c)
{
	bool spaced = c + 1 == line_end(p) || c[1] == ' ' || c[1] == '\t';
	switch (*c) {
	case '&': return fail_at(p, c, "anchors (&) are not supported");
	case '*': return fail_at(p, c, "aliases (*) are not supported");
	case '!': return fail_at(p, c, "tags (!) are not supported");
	case '|':
	case '>': return fail_at(p, c, "block scalars (| and >) are not supported: write the value on one line, quoted if need be");
	case '{': return fail_at(p, c, "flow mappings ({...}) are not supported: write one 'key: value' per line");
	case '[': return fail_at(p, c, "nested flow sequences are not supported");
	case '%': case '@': case '`': case ',': case ']': case '}': case '#':
		return fail_at(p, c, "'%c' cannot begin a plain value: quote it", *c);
	case '?': return spaced ? fail_at(p, c, "complex keys ('? ') are not supported") : 0;
	case ':': return spaced ? fail_at(p, c, "a ':' with no key before it") : 0;
	case '-': return spaced ? fail_at(p, c, "a '- ' item cannot stand here: items go on lines of their own, or in [a, b]") : 0;
	}
	return 0;
}

/* A plain scalar from c: up to a comment or the line's end (in [...]: also
 * ',' and ']'), trailing blanks dropped. */
static int plain(struct yp *p, const char *c, bool flow, const char **text, const char **after)
{
	const char *end = line_end(p), *q = c, *last = c;
	if (plain_start(p, c) < 0)
		return -1;
	for (; q < end; q++) {
		bool spaced = q + 1 == end || q[1] == ' ' || q[1] == '\t' || (flow && (q[1] == ',' || q[1] == ']'));
		if (*q == '#' && (q[-1] == ' ' || q[-1] == '\t'))
			break;
		if (*q == ':' && spaced)
			return fail_at(p, q, "': ' inside a plain value: quote the value");
		if (flow && (*q == ',' || *q == ']'))
			break;
		if (flow && (*q == '[' || *q == '{' || *q == '}'))
			return fail_at(p, q, "'%c' inside a plain value in [...]: quote the value", *q);
		if (*q != ' ' && *q != '\t')
			last = q + 1;
	}
	char *start = pool_room(p, c, last), *o = start;
	memcpy(o, c, (size_t)(last - c));
	*text = pool_done(p, start, o + (last - c));
	*after = q;
	return 0;
}

static int32_t scalar(struct yp *p, int32_t parent, const char *c, bool flow, const char **after)
{
	int32_t n = node_at(p, YAML_SCALAR, parent, c);
	if (n == YAML_NONE)
		return YAML_NONE;
	struct yaml_node *s = &p->d->nodes[n];
	s->style = *c == '"' ? YAML_DOUBLE : *c == '\'' ? YAML_SINGLE : YAML_PLAIN;
	int rc = s->style == YAML_PLAIN ? plain(p, c, flow, &s->text, after) : quoted(p, c, &s->text, after);
	return rc < 0 ? YAML_NONE : n;
}

static int32_t empty_scalar(struct yp *p, int32_t parent, uint32_t line, uint32_t col)
{
	int32_t n = node_new(p, YAML_SCALAR, parent, line, col);
	if (n != YAML_NONE)
		p->d->nodes[n].text = "";
	return n;
}

/* ---- flow sequences ------------------------------------------------------------------ */

static int32_t flow_open(struct yp *p, const char *open)
{
	return fail_at(p, open, "a [...] sequence must end on its line (']' missing; multi-line flow sequences are "
			       "not supported)");
}

/* `[a, "b", c]` at c, on one line, scalars only; *after past the ']'. */
static int32_t flow_seq(struct yp *p, int32_t parent, const char *open, const char **after)
{
	const char *end = line_end(p), *c = skip_ws(open + 1, end);
	if (p->depth == YAML_MAX_DEPTH)
		return fail_at(p, open, "nested deeper than %u mappings and sequences (YAML_MAX_DEPTH)", YAML_MAX_DEPTH);
	int32_t s = node_at(p, YAML_SEQ, parent, open);
	if (s == YAML_NONE)
		return YAML_NONE;
	if (c < end && *c == ']')
		return *after = c + 1, s;
	for (;;) {
		c = skip_ws(c, end);
		if (c == end || (*c == '#' && (c[-1] == ' ' || c[-1] == '\t')))
			return flow_open(p, open);
		if (*c == ',' || *c == ']')
			return fail_at(p, c, "an empty entry in a [...] sequence");
		if (scalar(p, s, c, true, &c) == YAML_NONE)
			return YAML_NONE;
		c = skip_ws(c, end);
		if (c < end && *c == ']')
			return *after = c + 1, s;
		if (c == end || *c == '#')
			return flow_open(p, open);
		if (*c != ',')
			return fail_at(p, c, "expected ',' or ']' here");
		c++;
	}
}

/* ---- block collections --------------------------------------------------------------------- */

static int32_t parse_block(struct yp *p, int32_t parent);

/* Nothing but blanks or a comment may follow a value on its line. */
static int end_of_value(struct yp *p, const char *c)
{
	const char *end = line_end(p), *w = skip_ws(c, end);
	if (w == end || (*w == '#' && (w[-1] == ' ' || w[-1] == '\t')))
		return 0;
	return fail_at(p, w, "unexpected text after the value (a comment needs a blank before its #)");
}

/* A value on its key's (or '-''s) line. */
static int32_t inline_value(struct yp *p, int32_t parent, const char *v)
{
	const char *after;
	int32_t n = *v == '[' ? flow_seq(p, parent, v, &after) : scalar(p, parent, v, false, &after);
	if (n == YAML_NONE || end_of_value(p, after) < 0)
		return YAML_NONE;
	return n;
}

/* The value after a key's ':' or an item's '-' at c: on this line, or a
 * block on the lines below indented past ind (for a key, a '- ' sequence
 * may also sit at ind: `key:` then `- item`), or empty. Leaves the cursor on
 * the next significant line. */
static int32_t value(struct yp *p, int32_t parent, const char *c, uint32_t ind, bool same_indent_seq)
{
	const char *v = skip_ws(c, line_end(p));
	if (v == line_end(p) || *v == '#') {
		uint32_t line = p->lineno, col = col_of(p, c);
		if (next_line(p) < 0)
			return YAML_NONE;
		bool below = !p->eof && (p->indent > ind || (same_indent_seq && p->indent == ind && is_entry(p, at_col(p))));
		return below ? parse_block(p, parent) : empty_scalar(p, parent, line, col);
	}
	int32_t n = inline_value(p, parent, v);
	if (n == YAML_NONE || next_line(p) < 0)
		return YAML_NONE;
	return n;
}

/* Whether a key begins at c: 1 with *colon at its ':' (followed by a blank
 * or the line's end), 0 not a key, -1 an unterminated quote. Decodes
 * nothing, so that looking does not spend pool. */
static int key_end(struct yp *p, const char *c, const char **colon)
{
	const char *end = line_end(p), *q = c;
	if (*c == '"' || *c == '\'') {
		q = quoted_end(p, c);
		if (!q)
			return unterminated(p, c);
		q = skip_ws(q, end);
		*colon = q;
		return q < end && *q == ':' && (q + 1 == end || q[1] == ' ' || q[1] == '\t');
	}
	for (; q < end; q++) {
		if (*q == '#' && q > c && (q[-1] == ' ' || q[-1] == '\t'))
			return 0;
		if (*q == ':' && (q + 1 == end || q[1] == ' ' || q[1] == '\t'))
			return *colon = q, 1;
	}
	return 0;
}

/* Decodes the key at c (ending at colon) into k. */
static int read_key(struct yp *p, const char *c, const char *colon, struct key *k)
{
	const char *after;
	k->line = p->lineno, k->col = col_of(p, c);
	if (*c == '"' || *c == '\'')
		return quoted(p, c, &k->text, &after);
	if (*c == '[')
		return fail_at(p, c, "a key must be a plain or quoted scalar");
	if (plain_start(p, c) < 0)
		return -1;
	const char *last = colon;
	while (last > c && (last[-1] == ' ' || last[-1] == '\t'))
		last--;
	if (last == c)
		return fail_at(p, c, "an empty key");
	char *start = pool_room(p, c, last);
	memcpy(start, c, (size_t)(last - c));
	k->text = pool_done(p, start, start + (last - c));
	return 0;
}

static int duplicate(struct yp *p, int32_t m, const struct key *k)
{
	for (int32_t i = p->d->nodes[m].first; i != YAML_NONE; i = p->d->nodes[i].next)
		if (!strcmp(p->d->nodes[i].key, k->text))
			return fail(p, k->line, k->col, "duplicate key '%.64s' (first at line %u)", k->text,
				    p->d->nodes[i].key_line);
	return 0;
}

/* One `key: value` of mapping m at the cursor's line and column. */
static int map_entry(struct yp *p, int32_t m)
{
	const char *c = at_col(p), *colon;
	uint32_t ind = p->col;
	struct key k;
	int r = key_end(p, c, &colon);
	if (r <= 0)
		return r < 0 ? -1 : fail_at(p, c, "expected 'key: value' here");
	if (read_key(p, c, colon, &k) < 0 || duplicate(p, m, &k) < 0)
		return -1;
	int32_t v = value(p, m, colon + 1, ind, true);
	if (v == YAML_NONE)
		return -1;
	struct yaml_node *n = &p->d->nodes[v];
	n->key = k.text, n->key_line = k.line, n->key_col = k.col;
	return 0;
}

static int32_t parse_map(struct yp *p, int32_t parent)
{
	uint32_t ind = p->col;
	int32_t m = node_at(p, YAML_MAP, parent, at_col(p));
	if (m == YAML_NONE)
		return YAML_NONE;
	for (;;) {
		if (map_entry(p, m) < 0)
			return YAML_NONE;
		if (p->eof || p->indent < ind)
			return m;
		if (p->indent > ind)
			return fail_at(p, at_col(p), "indented more than the key above it (multi-line values are not "
					   "supported; a nested block goes under a key with no value)");
		p->col = ind;
		if (is_entry(p, at_col(p)))
			return fail_at(p, at_col(p), "a '- ' item where a key was expected");
	}
}

/* One `- item` of sequence s: a value, or a collection that starts on the
 * same line (`- key: v`, `- - x`). */
static int32_t seq_item(struct yp *p, int32_t s, uint32_t ind)
{
	const char *c = at_col(p) + 1, *end = line_end(p), *v = skip_ws(c, end), *colon;
	int r = 0;
	if (v < end && *v != '#')
		r = is_entry(p, v) ? 1 : key_end(p, v, &colon);
	if (r < 0)
		return YAML_NONE;
	if (r) {
		p->col = col_of(p, v) - 1;
		return parse_block(p, s);
	}
	return value(p, s, c, ind, false);
}

static int32_t parse_seq(struct yp *p, int32_t parent)
{
	uint32_t ind = p->col;
	int32_t s = node_at(p, YAML_SEQ, parent, at_col(p));
	if (s == YAML_NONE)
		return YAML_NONE;
	for (;;) {
		if (seq_item(p, s, ind) == YAML_NONE)
			return YAML_NONE;
		if (p->eof || p->indent < ind)
			return s;
		if (p->indent > ind)
			return fail_at(p, at_col(p), "indented more than the '-' above it (multi-line values are not "
					   "supported)");
		p->col = ind;
		if (!is_entry(p, at_col(p)))
			return s;   /* the next key of the mapping this sequence is a value of */
	}
}

static int32_t parse_block(struct yp *p, int32_t parent)
{
	const char *c = at_col(p), *colon;
	if (p->depth == YAML_MAX_DEPTH)
		return fail_at(p, c, "nested deeper than %u mappings and sequences (YAML_MAX_DEPTH)", YAML_MAX_DEPTH);
	p->depth++;
	int32_t n;
	int r = is_entry(p, c) ? 2 : key_end(p, c, &colon);
	if (r == 2)
		n = parse_seq(p, parent);
	else if (r == 1)
		n = parse_map(p, parent);
	else if (r < 0 || plain_start(p, c) < 0)   /* `? k`, `&a`...: say which feature */
		n = YAML_NONE;
	else
		n = fail_at(p, c, "expected 'key: value' or '- item' here (a value goes on its key's line)");
	p->depth--;
	return n;
}

/* ---- the document ------------------------------------------------------------------------------- */

static int too_big(struct yp *p)
{
	uint32_t line = 1, col = 1;
	for (size_t i = 0; i < YAML_MAX_FILE_BYTES; i++)
		line += p->s[i] == '\n', col = p->s[i] == '\n' ? 1 : col + 1;
	return fail(p, line, col, "the file is over %u bytes (YAML_MAX_FILE_BYTES)", YAML_MAX_FILE_BYTES);
}

int yaml__parse(struct yaml_doc *d, const char *text, size_t len, struct yaml_error *e)
{
	struct yp p = { .s = text, .len = len, .d = d, .e = e };
	d->n_nodes = 0, d->pool_used = 0;
	*e = (struct yaml_error){ 0 };
	if (len > YAML_MAX_FILE_BYTES)
		return too_big(&p);
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		p.next = 3;   /* a UTF-8 byte order mark */
	if (next_line(&p) < 0)
		return -1;
	if (p.eof)
		return node_new(&p, YAML_MAP, YAML_NONE, 1, 1) == YAML_NONE ? -1 : 0;
	if (parse_block(&p, YAML_NONE) == YAML_NONE)
		return -1;
	if (!p.eof)
		return fail_at(&p, at_col(&p), "this line does not continue the document above it (check its indentation)");
	return 0;
}

int32_t yaml__get(const struct yaml_doc *d, int32_t m, const char *key)
{
	if (m == YAML_NONE || d->nodes[m].kind != YAML_MAP)
		return YAML_NONE;
	for (int32_t i = d->nodes[m].first; i != YAML_NONE; i = d->nodes[i].next)
		if (!strcmp(d->nodes[i].key, key))
			return i;
	return YAML_NONE;
}

bool yaml__sniff(const char *text, size_t len)
{
	const char *c = text, *end = text + len;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		c += 3;
	while (c < end) {   /* one line per turn */
		const char *nl = memchr(c, '\n', (size_t)(end - c)), *le = nl ? nl : end;
		const char *w = skip_ws(c, le);
		if (w < le && *w != '#' && *w != '\r') {
			if (le - w >= 3 && !memcmp(w, "---", 3) && (le - w == 3 || w[3] == ' ' || w[3] == '\r'))
				return true;
			const char *word = w;
			while (w < le && *w != ' ' && *w != '\t' && *w != '=' && *w != '\r')
				w++;
			return w > word && w[-1] == ':';
		}
		c = le + 1;
	}
	return false;
}
