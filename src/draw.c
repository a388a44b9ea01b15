/* Pictures of a tool's result for the command line (see draw.h).
 *
 * The flame graph merges the stacks into a tree (children in name order,
 * as flamegraph.pl places them), then writes one <g> per frame wide enough
 * to see: a <title> tooltip, a <rect> whose width is its share of the
 * weight, and its name when it fits. Colours come from the same hash of the
 * name as the flame graph app's, so the two pictures match. Frames too
 * narrow to draw, and any past the caps, are counted in the subtitle.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"

#define SVG_WIDTH    1200     /* flamegraph.pl's default */
#define SVG_PAD      10       /* left and right of the frames */
#define SVG_ROW      16       /* one frame's height */
#define SVG_TOP      48       /* title and subtitle */
#define SVG_FONT     11
#define SVG_CHAR_PX  (SVG_FONT * 0.6)   /* a monospace character */
#define SVG_MIN_PX   0.1      /* narrower frames are not drawn (and said so) */
#define BAR_CHARS    40       /* bcc's histogram bars */
#define NOTE_BYTES   512

static const char *const weight_keys[] = { "total_ns", "value", "samples", "count" };
static const char *const label_keys[] = { "disk", "op", "syscall", "function", "comm", "pid" };

struct frame {
	char *name;
	double w, self;
	uint32_t kid, next;       /* first child, next sibling; 0 for none (0 is the root) */
	uint32_t size;            /* frames in its subtree, itself included */
	uint16_t depth;
	bool kern;
};

struct flame {
	struct frame *f;
	uint32_t n, cap;
	uint64_t frames_dropped;  /* frames not kept: over DRAW_FRAMES_MAX or DRAW_PATH_MAX */
	uint64_t narrow;          /* frames too narrow to draw */
	unsigned depth, stacks;
	bool ns;                  /* weights are ns, not samples */
};

/* ---- the tree ---------------------------------------------------------------- */

static int new_frame(struct flame *fl, const char *name, uint32_t parent, bool kern)
{
	if (fl->n == DRAW_FRAMES_MAX)
		return -E2BIG;
	if (fl->n == fl->cap) {
		uint32_t cap = fl->cap ? fl->cap * 2 : 1024;
		struct frame *f = realloc(fl->f, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		fl->f = f, fl->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	struct frame *p = fl->n ? &fl->f[parent] : NULL;
	fl->f[fl->n] = (struct frame){ .name = copy, .depth = p ? p->depth + 1 : 0, .kern = kern };
	if (p)
		fl->f[fl->n].next = p->kid, p->kid = fl->n;
	return (int)fl->n++;
}

/* Adds weight w along names[0..n) (outermost first; the last kern of them
 * in the kernel). */
static int add_path(struct flame *fl, char **names, unsigned n, unsigned kern, double w)
{
	uint32_t at = 0;
	fl->f[0].w += w;
	fl->stacks++;
	for (unsigned i = 0; i < n; i++) {
		uint32_t c = fl->f[at].kid;
		while (c && strcmp(fl->f[c].name, names[i]))
			c = fl->f[c].next;
		if (!c) {
			int rc = new_frame(fl, names[i], at, i + kern >= n);
			if (rc == -E2BIG) {
				fl->frames_dropped += n - i;   /* the rest stays in `at` as its own weight */
				break;
			}
			if (rc < 0)
				return rc;
			c = (uint32_t)rc;
		}
		fl->f[c].w += w;
		at = c;
	}
	if (n > fl->depth)
		fl->depth = n;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct frame *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

/* Children in name order, and each frame's own weight and subtree size. */
static int order(struct flame *fl, uint32_t at)
{
	struct frame *p = &fl->f[at];
	unsigned n = 0;
	p->self = p->w, p->size = 1;
	for (uint32_t c = p->kid; c; c = fl->f[c].next)
		n++;
	if (!n)
		return 0;
	struct frame **kids = malloc(n * sizeof(*kids));
	if (!kids)
		return -ENOMEM;
	n = 0;
	for (uint32_t c = p->kid; c; c = fl->f[c].next)
		kids[n++] = &fl->f[c];
	qsort(kids, n, sizeof(*kids), by_name);
	p->kid = (uint32_t)(kids[0] - fl->f);
	for (unsigned i = 0; i < n; i++)
		kids[i]->next = i + 1 < n ? (uint32_t)(kids[i + 1] - fl->f) : 0;
	free(kids);
	int rc = 0;
	for (uint32_t c = fl->f[at].kid; c && !rc; c = fl->f[c].next) {
		rc = order(fl, c);
		fl->f[at].self -= fl->f[c].w;
		fl->f[at].size += fl->f[c].size;
	}
	return rc;
}

/* ---- reading stacks ------------------------------------------------------------- */

/* "name+0x1f [mod]" -> "name [mod]" in place: a flame graph merges offsets. */
static void strip_offset(char *s)
{
	char *p = strstr(s, "+0x");
	if (!p)
		return;
	char *end = p + 3;
	while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f'))
		end++;
	memmove(p, end, strlen(end) + 1);
}

struct path {
	char *names[DRAW_PATH_MAX];
	unsigned n, kern;
	char buf[DRAW_PATH_MAX * 64];
	size_t used;
	uint64_t dropped;         /* frames past DRAW_PATH_MAX or the buffer */
};

static void path_push(struct path *p, const char *s, size_t len)
{
	size_t cut = len < DRAW_NAME_BYTES ? len : DRAW_NAME_BYTES;
	if (p->n == DRAW_PATH_MAX || p->used + cut + 3 > sizeof(p->buf)) {
		p->dropped++;
		return;
	}
	char *at = p->buf + p->used;
	memcpy(at, s, cut);
	strcpy(at + cut, cut < len ? ".." : "");
	p->used += cut + (cut < len ? 3 : 1);
	p->names[p->n++] = at;
}

/* folded "a;b;c": its names in order. */
static void path_folded(struct path *p, const char *s, size_t len)
{
	for (size_t i = 0, from = 0; i <= len; i++)
		if (i == len || s[i] == ';') {
			path_push(p, s + from, i - from);
			from = i + 1;
		}
}

/* A stack's folded string may end with its value ("a;b;c 42", as
 * flamegraph.pl reads it): the length of its names alone. */
static size_t folded_names_len(const char *s, size_t len)
{
	size_t i = len;
	while (i && ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.'))
		i--;
	return i < len && i && s[i - 1] == ' ' ? i - 1 : len;
}

/* String token tok unescaped, in a malloc'd buffer (any length), or NULL. */
static char *unescaped(const struct jdoc *d, int tok, size_t *len)
{
	size_t n = jdoc__str_len(d, tok);
	char *s = malloc(n + 1);
	if (s && jdoc__str(d, tok, s, n + 1, len))
		free(s), s = NULL;
	return s;
}

/* An array of frames, innermost first: pushed outermost first. */
static int path_frames(struct path *p, const struct jdoc *d, int arr)
{
	int n = jdoc__is_arr(d, arr) ? d->t[arr].size : 0, *at = n ? malloc((size_t)n * sizeof(*at)) : NULL;
	if (n && !at)
		return -ENOMEM;
	for (int i = 0, e = arr + 1; i < n; i++, e = jdoc__skip(d, e))
		at[i] = e;
	for (int i = n - 1; i >= 0; i--) {
		size_t len;
		char *name = jdoc__is_str(d, at[i]) ? unescaped(d, at[i], &len) : strdup("[not a string]");
		if (!name)
			return free(at), -ENOMEM;
		strip_offset(name);
		path_push(p, name, strlen(name));
		free(name);
	}
	free(at);
	return 0;
}

/* One `stacks` item into p: folded, frames, or user + kernel. */
static int path_of(struct path *p, const struct jdoc *d, int st)
{
	int fo = jdoc__get(d, st, "folded"), fr = jdoc__get(d, st, "frames"), k = jdoc__get(d, st, "kernel");
	size_t len;
	p->n = 0, p->used = 0, p->kern = 0;
	if (jdoc__is_str(d, fo)) {
		char *folded = unescaped(d, fo, &len);
		if (!folded)
			return -ENOMEM;
		path_folded(p, folded, folded_names_len(folded, len));
		free(folded);
	} else if (jdoc__is_arr(d, fr)) {
		if (path_frames(p, d, fr))
			return -ENOMEM;
	} else if (path_frames(p, d, jdoc__get(d, st, "user")) || path_frames(p, d, k)) {
		return -ENOMEM;
	}
	if (jdoc__is_arr(d, k))
		p->kern = (unsigned)d->t[k].size < p->n ? (unsigned)d->t[k].size : p->n;
	if (!p->n)
		path_push(p, "[no frames]", 11);
	return 0;
}

/* The weight key of a stacks array: the first of weight_keys any item has. */
static const char *weight_key(const struct jdoc *d, int arr)
{
	for (unsigned k = 0; k < sizeof(weight_keys) / sizeof(weight_keys[0]); k++)
		for (int i = 0, e = arr + 1; i < d->t[arr].size; i++, e = jdoc__skip(d, e))
			if (jdoc__is_num(d, jdoc__get(d, e, weight_keys[k])))
				return weight_keys[k];
	return NULL;
}

static int read_stacks(struct flame *fl, const struct jdoc *d, int arr, struct path *p)
{
	const char *key = jdoc__is_arr(d, arr) ? weight_key(d, arr) : NULL;
	if (!key)
		return 0;
	fl->ns = !strcmp(key, "total_ns");
	for (int i = 0, e = arr + 1; i < d->t[arr].size; i++, e = jdoc__skip(d, e)) {
		double w;
		if (jdoc__num(d, jdoc__get(d, e, key), &w) || !(w > 0))
			continue;
		int rc = path_of(p, d, e);
		if (!rc)
			rc = add_path(fl, p->names, p->n, p->kern, w);
		fl->frames_dropped += p->dropped;
		p->dropped = 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* One folded line "a;b;c N". */
static int read_line(struct flame *fl, const char *s, size_t len, struct path *p)
{
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\r'))
		len--;
	size_t sp = len;
	while (sp && s[sp - 1] != ' ')
		sp--;
	char num[32];
	if (!sp || len - sp >= sizeof(num))
		return 0;
	memcpy(num, s + sp, len - sp);
	num[len - sp] = 0;
	char *end;
	double w = strtod(num, &end);
	if (*end || !(w > 0))
		return 0;
	p->n = 0, p->used = 0;
	path_folded(p, s, sp - 1);
	int rc = add_path(fl, p->names, p->n, 0, w);
	fl->frames_dropped += p->dropped;
	p->dropped = 0;
	return rc;
}

/* Top-level `folded`: lines in one string, or an array of lines. */
static int read_folded(struct flame *fl, const struct jdoc *d, int v, struct path *p)
{
	bool one = jdoc__is_str(d, v);
	int rc = 0, n = one ? 1 : jdoc__is_arr(d, v) ? d->t[v].size : 0;
	for (int i = 0, e = one ? v : v + 1; i < n && !rc; i++, e = jdoc__skip(d, e)) {
		size_t len;
		char *text = jdoc__is_str(d, e) ? unescaped(d, e, &len) : NULL;
		if (!text && jdoc__is_str(d, e))
			return -ENOMEM;
		for (size_t k = 0, from = 0; text && k <= len && !rc; k++)
			if (k == len || text[k] == '\n')
				rc = read_line(fl, text + from, k - from, p), from = k + 1;
		free(text);
	}
	return rc;
}

/* ---- the SVG -------------------------------------------------------------------- */

/* flamegraph.pl's "red" palette for user frames and "orange" for kernel
 * ones, the shade from a hash of the name (the app's color()). */
static void colour(const char *name, bool kern, char *out, size_t cap)
{
	uint32_t h = 0;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = h * 31 + *c;
	unsigned v = h % 1000;   /* rounded as the app's Math.round(k * v / 1000) */
#define PART(k) (((k) * v + 500) / 1000)
	if (kern)
		snprintf(out, cap, "rgb(%u,%u,0)", 190 + PART(65), 90 + PART(65));
	else
		snprintf(out, cap, "rgb(%u,%u,%u)", 200 + PART(55), 50 + PART(80), 50 + PART(80));
#undef PART
}

static void xml_text(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		switch (s[i]) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(s[i], f);
		}
	}
}

static void amount(const struct flame *fl, double w, char *out, size_t cap)
{
	if (fl->ns)
		snprintf(out, cap, "%.0f ns", w);
	else
		snprintf(out, cap, "%.0f sample%s", w, w == 1 ? "" : "s");
}

static void frame_svg(const struct flame *fl, uint32_t i, double x, double w, FILE *f)
{
	const struct frame *fr = &fl->f[i];
	char col[32], amt[48];
	double y = SVG_TOP + (double)(fl->depth - fr->depth) * SVG_ROW;
	colour(fr->name, fr->kern, col, sizeof(col));
	amount(fl, fr->w, amt, sizeof(amt));
	fputs("<g class=\"frame\"><title>", f);
	xml_text(f, fr->name, SIZE_MAX);
	fprintf(f, " (%s, %.2f%%)</title><rect x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" height=\"%d\" rx=\"2\" fill=\"%s\" "
		"data-w=\"%.0f\"/>", amt, 100 * fr->w / fl->f[0].w, x, y + 0.5, w, SVG_ROW - 1, col, fr->w);
	int fit = (int)((w - 6) / SVG_CHAR_PX);
	size_t len = strlen(fr->name);
	if (fit >= 3) {
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + SVG_ROW - 4.5);
		xml_text(f, fr->name, len <= (size_t)fit ? len : (size_t)fit - 2);
		fputs(len <= (size_t)fit ? "" : "..", f);
		fputs("</text>", f);
	}
	fputs("</g>\n", f);
}

/* Frame i at x (px), and its children left to right. */
static void frames_svg(struct flame *fl, uint32_t i, double x, double scale, FILE *f)
{
	frame_svg(fl, i, x, fl->f[i].w * scale, f);
	for (uint32_t c = fl->f[i].kid; c; c = fl->f[c].next) {
		double w = fl->f[c].w * scale;
		if (w < SVG_MIN_PX)
			fl->narrow += fl->f[c].size;
		else
			frames_svg(fl, c, x, scale, f);
		x += w;
	}
}

/* What the picture leaves out, for the subtitle. */
static void notes(const struct flame *fl, const struct jdoc *d, int sc, char *out, size_t cap)
{
	size_t n = 0;
	double counted;
	out[0] = 0;
	if (jdoc__is_true(d, jdoc__get(d, sc, "truncated"))) {
		n += (size_t)snprintf(out + n, cap - n, "; only the %u largest stacks were returned", fl->stacks);
		if (!jdoc__num(d, jdoc__get(d, sc, "samples_counted"), &counted) && counted > fl->f[0].w)
			n += (size_t)snprintf(out + n, cap - n, ": %.0f samples are not drawn (ask for a larger limit)",
					      counted - fl->f[0].w);
	}
	if (fl->narrow && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "; %llu frames narrower than %.1f px not drawn",
				      (unsigned long long)fl->narrow, SVG_MIN_PX);
	if (fl->frames_dropped && n < cap)
		snprintf(out + n, cap - n, "; %llu frames past %u per graph or %u per stack not drawn",
			 (unsigned long long)fl->frames_dropped, DRAW_FRAMES_MAX, DRAW_PATH_MAX);
}

static void write_svg(struct flame *fl, const struct jdoc *d, int sc, const char *title, FILE *f)
{
	double scale = fl->f[0].w > 0 ? (SVG_WIDTH - 2 * SVG_PAD) / fl->f[0].w : 0, dur;
	int height = SVG_TOP + (int)(fl->depth + 1) * SVG_ROW + SVG_PAD;
	char amt[48], note[NOTE_BYTES], span[48] = "";
	fprintf(f, "<?xml version=\"1.0\" standalone=\"no\"?>\n<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"%d\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f8\"/>\n<text x=\"%d\" y=\"20\" text-anchor=\"middle\" "
		"font-family=\"sans-serif\" font-size=\"16\">", SVG_WIDTH, height, SVG_WIDTH, height, SVG_FONT, SVG_WIDTH / 2);
	xml_text(f, title, SIZE_MAX);
	fputs("</text>\n", f);
	if (fl->f[0].w > 0)
		frames_svg(fl, 0, SVG_PAD, scale, f);
	/* the subtitle last: it counts what the frames left out */
	amount(fl, fl->f[0].w, amt, sizeof(amt));
	if (!jdoc__num(d, jdoc__get(d, sc, "duration_ms"), &dur))
		snprintf(span, sizeof(span), " over %.0f ms", dur);
	notes(fl, d, sc, note, sizeof(note));
	fprintf(f, "<text x=\"%d\" y=\"38\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\" "
		"fill=\"#555\">%s in %u stacks%s", SVG_WIDTH / 2, amt, fl->stacks, span);
	xml_text(f, note, SIZE_MAX);
	fputs(fl->f[0].w > 0 ? "" : "; no stacks: nothing was counted", f);
	fputs("</text>\n</svg>\n", f);
}

int draw__svg(const struct jdoc *d, int sc, const char *title, FILE *f)
{
	struct flame fl = { 0 };
	struct path *p = malloc(sizeof(*p));
	int rc = p ? new_frame(&fl, "all", 0, false) : -ENOMEM;
	if (rc >= 0)
		rc = read_stacks(&fl, d, jdoc__get(d, sc, "stacks"), p);
	if (!rc)
		rc = read_folded(&fl, d, jdoc__get(d, sc, "folded"), p);
	if (!rc)
		rc = order(&fl, 0);
	if (!rc)
		write_svg(&fl, d, sc, title, f);
	else
		fprintf(stderr, "ebpf-mcp: no memory for the flame graph (--limit heap_bytes)\n");
	for (uint32_t i = 0; i < fl.n; i++)
		free(fl.f[i].name);
	free(fl.f);
	free(p);
	return rc ? -1 : 0;
}

/* ---- histograms as text ------------------------------------------------------------- */

bool draw__is_hist(const struct jdoc *d, int v)
{
	return jdoc__is_obj(d, v) && jdoc__is_arr(d, jdoc__get(d, v, "buckets"));
}

/* Its disk, op, syscall, function, comm and pid, or fallback. */
static void hist_label(const struct jdoc *d, int h, const char *fallback, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (unsigned k = 0; k < sizeof(label_keys) / sizeof(label_keys[0]) && n + 1 < cap; k++) {
		int v = jdoc__get(d, h, label_keys[k]);
		char s[256];
		int64_t x;
		if (jdoc__is_str(d, v) && !jdoc__str(d, v, s, sizeof(s), NULL) && s[0])
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", s);
		else if (!jdoc__int(d, v, &x))
			n += (size_t)snprintf(out + n, cap - n, "%s%s %lld", n ? " " : "", label_keys[k], (long long)x);
	}
	if (!out[0])
		snprintf(out, cap, "%s", fallback);
}

/* Counts per log2 slot (slot k holds [2^k, 2^(k+1)), slot 0 [0, 2)); the
 * lowest and highest slots in use, or -1 when none is. */
static int hist_slots(const struct jdoc *d, int h, uint64_t *slots, int *hi)
{
	int b = jdoc__get(d, h, "buckets"), lo = -1;
	*hi = -1;
	memset(slots, 0, DRAW_SLOTS * sizeof(*slots));
	for (int i = 0, e = b + 1; i < d->t[b].size; i++, e = jdoc__skip(d, e)) {
		double to;
		int64_t c;
		if (jdoc__num(d, jdoc__get(d, e, "to_ns"), &to) || jdoc__int(d, jdoc__get(d, e, "count"), &c) || c <= 0)
			continue;
		int k = to >= 2 ? ilogb(to) - 1 : 0;
		if (k < 0 || k >= DRAW_SLOTS)
			continue;
		slots[k] += (uint64_t)c;
		lo = lo < 0 || k < lo ? k : lo;
		*hi = k > *hi ? k : *hi;
	}
	return lo;
}

/* The slot holding the q-th quantile (q in 1/1000) of the counts. */
static int quantile_slot(const uint64_t *slots, uint64_t count, unsigned q)
{
	uint64_t rank = (count * q + 999) / 1000, seen = 0;
	for (int k = 0; k < DRAW_SLOTS; k++)
		if ((seen += slots[k]) >= rank && seen)
			return k;
	return -1;
}

static void hist_head(const struct jdoc *d, int h, const char *label, uint64_t count, FILE *f)
{
	static const char *const stats[] = { "avg_ns", "avg", "max_ns", "max", "p50_ns", "p50 <=", "p90_ns", "p90 <=",
					     "p99_ns", "p99 <=" };
	int64_t v;
	fprintf(f, "%s: count %llu", label, (unsigned long long)count);
	for (unsigned k = 0; k < sizeof(stats) / sizeof(stats[0]); k += 2)
		if (!jdoc__int(d, jdoc__get(d, h, stats[k]), &v))
			fprintf(f, ", %s %lld ns", stats[k + 1], (long long)v);
	if (!jdoc__int(d, jdoc__get(d, h, "errors"), &v) && v)
		fprintf(f, ", %lld errors", (long long)v);
	fputc('\n', f);
}

void draw__hist(const struct jdoc *d, int h, const char *fallback, FILE *f)
{
	static const unsigned pcts[] = { 500, 900, 990 };
	uint64_t slots[DRAW_SLOTS], count = 0, top = 0;
	char label[512];
	int hi, lo = hist_slots(d, h, slots, &hi), marks[3];
	hist_label(d, h, fallback, label, sizeof(label));
	for (int k = 0; k < DRAW_SLOTS; k++)
		count += slots[k], top = slots[k] > top ? slots[k] : top;
	hist_head(d, h, label, count, f);
	if (lo < 0)
		return (void)fputs("  (no events)\n\n", f);
	for (unsigned i = 0; i < 3; i++)
		marks[i] = quantile_slot(slots, count, pcts[i]);
	int width = snprintf(NULL, 0, "%llu", (unsigned long long)((2ull << hi) - 1));
	width = width < 10 ? 10 : width;
	fprintf(f, "%*s : count    distribution\n", 2 * width + 4, "nsecs");
	for (int k = lo; k <= hi; k++) {
		char bar[BAR_CHARS + 1];
		unsigned stars = (unsigned)(slots[k] * BAR_CHARS / top);
		memset(bar, '*', stars);
		bar[stars] = 0;
		fprintf(f, "%*llu -> %-*llu : %-8llu |%-*s|", width, k ? 1ull << k : 0ull, width,
			(unsigned long long)((2ull << k) - 1), (unsigned long long)slots[k], BAR_CHARS, bar);
		for (unsigned i = 0; i < 3; i++)
			if (marks[i] == k)
				fprintf(f, " p%u", pcts[i] / 10);
		fputc('\n', f);
	}
	fputc('\n', f);
}
