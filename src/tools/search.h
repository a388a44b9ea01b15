/* search: how the list tools match a name `pattern`, and what an empty
 * result says instead of nothing.
 *
 * A pattern is a case-sensitive substring unless it holds a glob character
 * ('*', '?' or '['); then it is a glob anchored at both ends (json__glob).
 * get_btf_types' `name` is an exact match. When nothing matches, the result
 * carries `searched` (what was matched, over how many candidates) and
 * `suggestions`: the candidates that come closest to matching, ranked while
 * the candidates stream by (search__offer), so no list is kept and no second
 * walk is needed.
 */
#ifndef EBPF_MCP_SEARCH_H
#define EBPF_MCP_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "../json/json.h"

#define SEARCH_SUGGEST_MAX  5     /* names an empty result suggests */
#define SEARCH_EDITS_MAX    3     /* farther than this is another name, not a slip of the keyboard */
/* Pattern elements the ranker takes (one bit each, plus the start state, in
 * a 64-bit word); a longer pattern gets no suggestions. */
#define SEARCH_ELEMS_MAX    63
/* Longest name ranked (KSYM_NAME_LEN, the longest kallsyms name; tracefs
 * "category/name" and BTF names are shorter); longer ones are not suggested. */
#define SEARCH_NAME_BYTES   512
#define SEARCH_WHAT_BYTES   1024  /* searched.what: a pattern (<= 511 bytes) and a phrase */

enum search_mode {
	SEARCH_ANY,          /* no pattern: every candidate matches */
	SEARCH_EXACT,        /* the whole name, as given */
	SEARCH_SUBSTRING,    /* the pattern anywhere in the name, case-sensitive */
	SEARCH_GLOB,         /* json__glob, anchored at both ends */
};

struct search_hit {
	unsigned edits;              /* Levenshtein */
	bool shares_run;             /* holds the pattern's longest literal run */
	unsigned swapped;            /* edits when a swap of neighbours is one */
	size_t key_len;              /* bytes the pattern was matched against */
	char shown[SEARCH_NAME_BYTES];
};

struct search {
	const char *pattern;         /* NULL for SEARCH_ANY */
	enum search_mode mode;
	uint64_t candidates;         /* names offered */
	/* The ranker: a Levenshtein automaton over the pattern's elements,
	 * bit i of a state word set when the first i elements are matched. */
	bool ranks;                  /* a pattern it can rank by */
	unsigned elems, edits_max;
	uint64_t live;               /* states 0..elems */
	uint64_t star;               /* states whose next element is '*' */
	uint64_t accepts[256];       /* states whose next element takes byte c (either case) */
	char run[SEARCH_NAME_BYTES]; /* longest literal run, lower case */
	unsigned n_hits;
	struct search_hit hits[SEARCH_SUGGEST_MAX];   /* best first */
};

/* pattern NULL: SEARCH_ANY; exact: match the whole name as given; else
 * substring or glob by the rule above. */
void search__init(struct search *s, const char *pattern, bool exact);
bool search__match(const struct search *s, const char *name);

/* A candidate the pattern did not match: counted, and ranked against the
 * suggestions kept so far. shown is the name a suggestion shows; the pattern
 * was matched against shown + key_at (list_tracepoints shows
 * "category/name" but may match the name alone).
 * Cost: at most strlen(key) steps of a few word operations, and none past a
 * byte where no state is left within the edits allowed (SEARCH_EDITS_MAX at
 * most, lowered to the worst kept suggestion's once SEARCH_SUGGEST_MAX are
 * kept); a name is copied only when it is kept. */
void search__offer(struct search *s, const char *shown, size_t key_at);

/* Fewest single-byte insertions, deletions or substitutions (ASCII case
 * ignored; with swaps, two neighbouring bytes swapped count as one edit too)
 * that make key match the pattern, or max + 1 when more than max
 * (<= SEARCH_EDITS_MAX) are needed. */
unsigned search__edits(const struct search *s, const char *key, unsigned max, bool swaps);

/* The `searched` and `suggestions` members of an empty result. over names
 * the candidates, e.g. "tracepoint names"; with SEARCH_ANY it is the whole
 * phrase, e.g. "functions of module foo". */
void search__write(struct jw *w, const struct search *s, const char *over);

#endif
