/* search: substring, glob or exact name matching for the list tools, and
 * suggestions for a search that matched nothing.
 *
 * Suggestions are ranked by edit distance to matching: the fewest byte
 * insertions, deletions or substitutions (Levenshtein, ASCII case ignored)
 * that would make the pattern match the name, with '*' free and '?' or a
 * class taking any byte they would take. A substring pattern is the glob
 * "*pattern*", so a typo inside a long name counts only its own edits
 * ("opneat" is two edits from sys_enter_openat). The distance comes from a
 * bit-parallel Levenshtein automaton (one 64-bit state word per edit count,
 * as in agrep): a few word operations per byte of a name, so a pass over the
 * ~64k kallsyms functions or ~70k named BTF types here takes about 10 ms.
 */
#include <stdio.h>
#include <string.h>

#include "search.h"

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static unsigned char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

/* ---- compiling a pattern into the ranker ------------------------------ */

static bool elem_star(struct search *s)
{
	if (s->elems && (s->star >> (s->elems - 1) & 1))
		return true;   /* "**" is "*": keeps one star step per closure */
	if (s->elems == SEARCH_ELEMS_MAX)
		return false;
	s->star |= 1ull << s->elems++;
	return true;
}

/* A new element's bit, or 0 when the pattern is too long to rank. */
static uint64_t elem_new(struct search *s)
{
	return s->elems == SEARCH_ELEMS_MAX ? 0 : 1ull << s->elems++;
}

static bool elem_byte(struct search *s, unsigned char b)
{
	uint64_t bit = elem_new(s);
	s->accepts[b] |= bit;
	s->accepts[lower(b)] |= bit;
	s->accepts[upper(b)] |= bit;
	return bit;
}

static bool elem_any(struct search *s)
{
	uint64_t bit = elem_new(s);
	for (unsigned c = 1; c < 256; c++)
		s->accepts[c] |= bit;
	return bit;
}

/* A class with case folded: [a-c] takes 'B', and [!a] refuses 'A' as well
 * as 'a'. It is copied out on its own so each membership test reads only it
 * (json__glob_class looks for the pattern's last ']'). */
static bool elem_class(struct search *s, const char *p, const char *end)
{
	char cls[SEARCH_NAME_BYTES];
	size_t n = (size_t)(end - p);
	uint64_t bit = n < sizeof(cls) ? elem_new(s) : 0;
	if (!bit)
		return false;
	memcpy(cls, p, n);
	cls[n] = 0;
	bool neg = cls[1] == '!' || cls[1] == '^';
	for (unsigned c = 1; c < 256; c++) {
		bool lo = false, up = false;
		json__glob_class(cls, lower((unsigned char)c), &lo);
		json__glob_class(cls, upper((unsigned char)c), &up);
		if (neg ? lo && up : lo || up)
			s->accepts[c] |= bit;
	}
	return true;
}

/* Keeps the longest run of literal bytes [from, to) seen so far. */
static void note_run(struct search *s, const char *from, const char *to)
{
	size_t n = (size_t)(to - from);
	if (n <= strlen(s->run) || n >= sizeof(s->run))
		return;
	for (size_t i = 0; i < n; i++)
		s->run[i] = (char)lower((unsigned char)from[i]);
	s->run[n] = 0;
}

static bool compile_glob(struct search *s)
{
	bool ok = true, in;
	const char *run = s->pattern;
	for (const char *p = s->pattern; *p && ok;) {
		const char *end = *p == '[' ? json__glob_class(p, 0, &in) : NULL;
		if (*p != '*' && *p != '?' && !end) {
			ok = elem_byte(s, (unsigned char)*p++);   /* a literal (an unterminated '[' too) */
			continue;
		}
		note_run(s, run, p);
		ok = *p == '*' ? elem_star(s) : *p == '?' ? elem_any(s) : elem_class(s, p, end);
		p = end ? end : p + 1;
		run = p;
	}
	if (ok)
		note_run(s, run, run + strlen(run));
	return ok;
}

static bool compile_literal(struct search *s)
{
	bool ok = s->mode == SEARCH_EXACT || elem_star(s);
	for (const char *p = s->pattern; *p && ok; p++)
		ok = elem_byte(s, (unsigned char)*p);
	note_run(s, s->pattern, s->pattern + strlen(s->pattern));
	return ok && (s->mode == SEARCH_EXACT || elem_star(s));
}

void search__init(struct search *s, const char *pattern, bool exact)
{
	*s = (struct search){ .pattern = pattern, .mode = SEARCH_ANY };
	if (!pattern)
		return;
	s->mode = exact ? SEARCH_EXACT : strpbrk(pattern, "*?[") ? SEARCH_GLOB : SEARCH_SUBSTRING;
	s->ranks = s->mode == SEARCH_GLOB ? compile_glob(s) : compile_literal(s);
	unsigned stars = (unsigned)__builtin_popcountll(s->star);
	/* Short patterns allow fewer edits: one edit of "ab" reaches half the
	 * names there are. */
	s->edits_max = 1 + (s->elems - stars) / 4;
	if (s->edits_max > SEARCH_EDITS_MAX)
		s->edits_max = SEARCH_EDITS_MAX;
	s->live = (2ull << s->elems) - 1;   /* elems <= 63: at most all 64 bits */
}

bool search__match(const struct search *s, const char *name)
{
	switch (s->mode) {
	case SEARCH_EXACT: return !strcmp(name, s->pattern);
	case SEARCH_SUBSTRING: return strstr(name, s->pattern) != NULL;
	case SEARCH_GLOB: return json__glob(s->pattern, name);
	default: return true;
	}
}

/* ---- ranking ------------------------------------------------------------ */

_Static_assert(SEARCH_EDITS_MAX == 3, "search__edits keeps one state word per edit count, 0 to 3");

/* One byte's step for the states reached with d edits (old: before the
 * byte; below_old, below: d - 1 edits before and after it): match or stay
 * on a '*', substitute, insert (an extra byte), delete (skip an element),
 * and what `more` adds; then what is reached for free past a '*' (stars
 * never follow stars). */
static inline __attribute__((always_inline)) uint64_t step(uint64_t old, uint64_t below_old, uint64_t below,
							   uint64_t more, uint64_t take, uint64_t star, uint64_t live)
{
	uint64_t x = (old & take) << 1 | (old & star) | below_old << 1 | below_old | below << 1 | more;
	return (x | (x & star) << 1) & live;
}

/* Two elements matched by the last two bytes swapped, for one edit: from
 * the states q held before the byte before (with one edit fewer). */
static inline __attribute__((always_inline)) uint64_t swap(uint64_t q, uint64_t take, uint64_t take_before)
{
	return (((q & take) << 1) & take_before) << 1;
}

/* Every edit count is stepped whatever max is: four words in registers cost
 * less than a loop over them. swaps is a constant where this is inlined. */
static inline __attribute__((always_inline)) unsigned edits(const struct search *s, const char *key, unsigned max,
							    const bool swaps)
{
	if (!s->ranks)
		return max + 1;
	if (max > SEARCH_EDITS_MAX)
		max = SEARCH_EDITS_MAX;
	const uint64_t star = s->star, live = s->live;
	/* r<d>: the states reached with at most d edits; before any byte, the
	 * start (and past a leading '*'), and d elements deleted. q<d>: the
	 * same before the byte before, for swaps. */
	uint64_t r0 = (1 | (star & 1) << 1) & live;
	uint64_t r1 = step(0, r0, r0, 0, 0, star, live);
	uint64_t r2 = step(0, r1, r1, 0, 0, star, live);
	uint64_t r3 = step(0, r2, r2, 0, 0, star, live);
	uint64_t q0 = 0, q1 = 0, q2 = 0, take_before = 0;
	for (const unsigned char *c = (const unsigned char *)key; *c; c++) {
		uint64_t take = s->accepts[*c], o0 = r0, o1 = r1, o2 = r2;
		r0 = step(r0, 0, 0, 0, take, star, live);
		r1 = step(r1, o0, r0, swaps ? swap(q0, take, take_before) : 0, take, star, live);
		r2 = step(r2, o1, r1, swaps ? swap(q1, take, take_before) : 0, take, star, live);
		r3 = step(r3, o2, r2, swaps ? swap(q2, take, take_before) : 0, take, star, live);
		if (!(max == 0 ? r0 : max == 1 ? r1 : max == 2 ? r2 : r3))
			return max + 1;   /* r<d> grows with d: no state is left at all */
		q0 = o0, q1 = o1, q2 = o2, take_before = take;
	}
	const uint64_t r[] = { r0, r1, r2, r3 };
	for (unsigned d = 0; d <= max; d++)
		if (r[d] >> s->elems & 1)
			return d;
	return max + 1;
}

unsigned search__edits(const struct search *s, const char *key, unsigned max, bool swaps)
{
	return swaps ? edits(s, key, max, true) : edits(s, key, max, false);
}

static bool has_run(const struct search *s, const char *key, size_t n)
{
	char low[SEARCH_NAME_BYTES];   /* n < SEARCH_NAME_BYTES: checked by the caller */
	if (!s->run[0])
		return false;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)lower((unsigned char)key[i]);
	return strstr(low, s->run) != NULL;
}

/* Fewer edits first; then names holding the longest literal run; then
 * fewer edits when two neighbours swapped count as one (Levenshtein counts
 * two, so "opneat" is as far from "openat" as from "onnect"); then shorter
 * names (a substring typo's closest fix is the plainest name that holds it);
 * then byte order, so the list is stable. */
static int hit_cmp(const struct search_hit *a, const struct search_hit *b)
{
	if (a->edits != b->edits)
		return a->edits < b->edits ? -1 : 1;
	if (a->shares_run != b->shares_run)
		return a->shares_run ? -1 : 1;
	if (a->swapped != b->swapped)
		return a->swapped < b->swapped ? -1 : 1;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	return strcmp(a->shown, b->shown);
}

static void keep(struct search *s, const struct search_hit *h)
{
	unsigned at = 0;
	for (unsigned i = 0; i < s->n_hits; i++) {
		int c = hit_cmp(h, &s->hits[i]);
		if (c == 0)
			return;   /* the same name again (static functions, a struct and its fwd) */
		at += c > 0;
	}
	if (at == SEARCH_SUGGEST_MAX)
		return;
	unsigned n = s->n_hits < SEARCH_SUGGEST_MAX ? s->n_hits : SEARCH_SUGGEST_MAX - 1;
	memmove(&s->hits[at + 1], &s->hits[at], (n - at) * sizeof(*h));
	s->hits[at] = *h;
	s->n_hits = n + 1;
}

void search__offer(struct search *s, const char *shown, size_t key_at)
{
	s->candidates++;
	if (!s->ranks)
		return;
	size_t n = strlen(shown);
	if (n >= SEARCH_NAME_BYTES || key_at > n)
		return;
	unsigned max = s->edits_max;
	if (s->n_hits == SEARCH_SUGGEST_MAX && s->hits[SEARCH_SUGGEST_MAX - 1].edits < max)
		max = s->hits[SEARCH_SUGGEST_MAX - 1].edits;   /* nothing farther can get in */
	const char *key = shown + key_at;
	unsigned e = edits(s, key, max, false);
	if (e > max)
		return;
	struct search_hit h;   /* not zeroed: shown is written just below */
	h.edits = e, h.shares_run = has_run(s, key, n - key_at), h.key_len = n - key_at;
	h.swapped = search__edits(s, key, e, true);
	memcpy(h.shown, shown, n + 1);
	keep(s, &h);
}

/* ---- output ------------------------------------------------------------- */

void search__write(struct jw *w, const struct search *s, const char *over)
{
	static const char *const mode_name[] = {
		[SEARCH_ANY] = "any", [SEARCH_EXACT] = "exact", [SEARCH_SUBSTRING] = "substring", [SEARCH_GLOB] = "glob",
	};
	char what[SEARCH_WHAT_BYTES];
	if (s->mode == SEARCH_ANY)
		snprintf(what, sizeof(what), "%s", over);
	else
		snprintf(what, sizeof(what), "%s '%s' in %s", s->mode == SEARCH_EXACT ? "exact name" : mode_name[s->mode],
			 s->pattern, over);
	jw__key(w, "searched");
	jw__obj(w);
	jw__kstr(w, "what", what);
	jw__kstr(w, "match", mode_name[s->mode]);
	if (s->pattern)
		jw__kstr(w, "pattern", s->pattern);
	jw__kuint(w, "candidates", s->candidates);
	jw__obj_end(w);
	jw__key(w, "suggestions");
	jw__arr(w);
	for (unsigned i = 0; i < s->n_hits; i++)
		jw__str(w, s->hits[i].shown);
	jw__arr_end(w);
}
