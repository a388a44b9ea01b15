/* Unit tests for name search (src/tools/search.c): which mode a pattern
 * selects, matching in each mode, the edit distance the suggestions are
 * ranked by (checked against a plain dynamic-programming Levenshtein), the
 * ranking and its bounds, and the `searched` / `suggestions` JSON. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json/json.h"
#include "tools/search.h"
#include "unit.h"

static struct search S;   /* ~7 KiB: kept off the stack of each case */

static void modes(void)
{
	search__init(&S, NULL, false);
	CHECK_INT(S.mode, SEARCH_ANY);
	CHECK(search__match(&S, "anything"));
	search__init(&S, "openat", false);
	CHECK_INT(S.mode, SEARCH_SUBSTRING);
	CHECK(search__match(&S, "sys_enter_openat"));
	CHECK(search__match(&S, "openat"));
	CHECK(search__match(&S, "sys_exit_openat2"));
	CHECK(!search__match(&S, "sys_enter_OPENAT"));   /* case-sensitive */
	CHECK(!search__match(&S, "opena"));
	search__init(&S, "sched/sched_sw", false);       /* '/' is no glob character */
	CHECK_INT(S.mode, SEARCH_SUBSTRING);
	CHECK(search__match(&S, "sched/sched_switch"));
	for (const char *g = "*?["; *g; g++) {
		char p[8] = "ab";
		p[2] = *g;
		search__init(&S, p, false);
		CHECK_INT(S.mode, SEARCH_GLOB);
	}
	search__init(&S, "vfs_re?d", false);
	CHECK(search__match(&S, "vfs_read"));
	CHECK(!search__match(&S, "vfs_readv"));          /* anchored at both ends */
	CHECK(!search__match(&S, "do_vfs_read"));
	search__init(&S, "sys_enter_open[a]t*", false);
	CHECK(search__match(&S, "sys_enter_openat2"));
	search__init(&S, "task", false);
	CHECK(search__match(&S, "task_struct"));
	search__init(&S, "task", true);
	CHECK_INT(S.mode, SEARCH_EXACT);
	CHECK(search__match(&S, "task"));
	CHECK(!search__match(&S, "task_struct"));
	search__init(&S, "a*", true);                    /* exact: no glob */
	CHECK(search__match(&S, "a*"));
	CHECK(!search__match(&S, "ab"));
}

/* Anchored Levenshtein distance, case folded: the reference. */
static unsigned lev(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned row[64], prev;
	for (size_t j = 0; j <= m; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= m; j++) {
			unsigned cur = row[j];
			unsigned sub = prev + (((a[i - 1] | 32) == (b[j - 1] | 32)) ? 0 : 1);
			unsigned best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			prev = cur;
		}
	}
	return row[m];
}

/* Optimal string alignment: Levenshtein plus a swap of neighbours as one
 * edit (no edit inside a swapped pair), case folded: the reference. */
static unsigned osa(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned d[32][32];
	for (size_t i = 0; i <= n; i++)
		for (size_t j = 0; j <= m; j++) {
			if (!i || !j) {
				d[i][j] = (unsigned)(i + j);
				continue;
			}
			unsigned best = d[i - 1][j - 1] + ((a[i - 1] | 32) != (b[j - 1] | 32));
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && (a[i - 1] | 32) == (b[j - 2] | 32) && (a[i - 2] | 32) == (b[j - 1] | 32) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[n][m];
}

/* The least dist(pattern, t) over every substring t of name. */
static unsigned least_sub(unsigned (*dist)(const char *, const char *), const char *p, const char *name)
{
	char t[64];
	unsigned best = (unsigned)strlen(p);
	size_t n = strlen(name);
	for (size_t i = 0; i <= n; i++)
		for (size_t j = i; j <= n; j++) {
			memcpy(t, name + i, j - i);
			t[j - i] = 0;
			unsigned d = dist(p, t);
			if (d < best)
				best = d;
		}
	return best;
}

static void edits_match_reference(void)
{
	/* letters only: the reference folds case with | 32 */
	static const char *const words[] = { "openat", "opneat", "open", "task", "tsak", "taskstruct",
		"struct", "vfsread", "read", "a", "ab", "ba", "xyz", "opnat", "operate", "sysenteropenat" };
	unsigned n = sizeof(words) / sizeof(words[0]);
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < n; j++) {
			unit_case = words[j];
			search__init(&S, words[i], true);
			unsigned want = lev(words[i], words[j]);
			CHECK_INT(search__edits(&S, words[j], 3, false), want > 3 ? 4 : want);
			want = osa(words[i], words[j]);
			CHECK_INT(search__edits(&S, words[j], 3, true), want > 3 ? 4 : want);
			search__init(&S, words[i], false);
			want = least_sub(lev, words[i], words[j]);
			CHECK_INT(search__edits(&S, words[j], 3, false), want > 3 ? 4 : want);
			want = least_sub(osa, words[i], words[j]);
			CHECK_INT(search__edits(&S, words[j], 3, true), want > 3 ? 4 : want);
		}
	unit_case = "";
	search__init(&S, "OpenAt", true);
	CHECK_INT(search__edits(&S, "openat", 3, false), 0);    /* ranking ignores case */
	search__init(&S, "opneat", false);
	CHECK_INT(search__edits(&S, "sys_enter_openat", 3, false), 2);
	CHECK_INT(search__edits(&S, "sys_enter_openat", 1, false), 2);   /* past max: max + 1 */
	CHECK_INT(search__edits(&S, "sys_enter_openat", 3, true), 1);    /* "ne" swapped */
	search__init(&S, "ab", true);
	CHECK_INT(search__edits(&S, "ba", 3, false), 2);
	CHECK_INT(search__edits(&S, "ba", 3, true), 1);
	search__init(&S, "abc?*", false);                /* swaps among wildcards too */
	CHECK_INT(search__edits(&S, "bacde", 3, true), 1);
	CHECK_INT(search__edits(&S, "bacde", 3, false), 2);
}

static void edits_of_globs(void)
{
	search__init(&S, "vfs_re?d", false);
	CHECK_INT(search__edits(&S, "vfs_read", 3, false), 0);
	CHECK_INT(search__edits(&S, "vfs_readv", 3, false), 1);   /* one extra byte */
	CHECK_INT(search__edits(&S, "vfs_rd", 3, false), 2);
	search__init(&S, "sys_enter_opn*", false);
	CHECK_INT(search__edits(&S, "sys_enter_openat2", 3, false), 1);
	CHECK_INT(search__edits(&S, "sys_entr_open", 3, false), 2);
	CHECK_INT(search__edits(&S, "sys_exit_open", 3, false), 4);   /* five: past the max */
	search__init(&S, "*_[0-9]x", false);
	CHECK_INT(search__edits(&S, "a_7x", 3, false), 0);
	CHECK_INT(search__edits(&S, "a_Ax", 3, false), 1);
	CHECK_INT(search__edits(&S, "a_7X", 3, false), 0);        /* case folded */
	search__init(&S, "[!a]b", false);
	CHECK_INT(search__edits(&S, "xb", 3, false), 0);
	CHECK_INT(search__edits(&S, "ab", 3, false), 1);
	CHECK_INT(search__edits(&S, "Ab", 3, false), 1);          /* 'A' folds to 'a', which [!a] refuses */
	search__init(&S, "[b-c]x", false);
	CHECK_INT(search__edits(&S, "Cx", 3, false), 0);
	search__init(&S, "a**b", false);
	CHECK_INT(search__edits(&S, "ab", 3, false), 0);
	CHECK_INT(search__edits(&S, "axxxb", 3, false), 0);
	CHECK_INT(search__edits(&S, "axxx", 3, false), 1);
	search__init(&S, "[abc", false);                   /* literal '[' */
	CHECK_INT(search__edits(&S, "[abc", 3, false), 0);
	CHECK_INT(search__edits(&S, "abc", 3, false), 1);
}

static void suggestions_rank(void)
{
	static const char *const names[] = {
		"sys_enter_open", "sys_enter_openat", "sys_exit_openat", "sys_enter_openat2", "sys_exit_openat2",
		"sys_enter_read", "sched_switch", "sys_enter_openat", "sys_enter_operate",
	};
	search__init(&S, "opneat", false);
	CHECK_INT(S.edits_max, 2);
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		{
		char full[64];
		snprintf(full, sizeof(full), "syscalls/%s", names[i]);
		search__offer(&S, full, strlen("syscalls/"));
	}
	CHECK_U64(S.candidates, 9);
	/* two edits each ("operat" too); the duplicate is kept once; a swap
	 * ("ne") is one edit for the order; then shorter first */
	CHECK_INT(S.n_hits, 5);
	CHECK_STR(S.hits[0].shown, "syscalls/sys_exit_openat");
	CHECK_STR(S.hits[1].shown, "syscalls/sys_enter_openat");
	CHECK_STR(S.hits[2].shown, "syscalls/sys_exit_openat2");
	CHECK_STR(S.hits[3].shown, "syscalls/sys_enter_openat2");
	CHECK_STR(S.hits[4].shown, "syscalls/sys_enter_operate");
	CHECK_INT(S.hits[0].edits, 2);
	CHECK_INT(S.hits[0].swapped, 1);
	CHECK_INT(S.hits[4].swapped, 2);
	/* a shorter name two substitutions away comes after every swap, and
	 * before a longer one two substitutions away */
	search__offer(&S, "xdp/mem_connect", 4);
	CHECK_STR(S.hits[3].shown, "syscalls/sys_enter_openat2");
	CHECK_STR(S.hits[4].shown, "xdp/mem_connect");

	/* at equal edits, names holding the longest literal run come first */
	search__init(&S, "vfs_rea?dx", false);
	search__offer(&S, "vfs_rexadx", 0);              /* 1 edit, no "vfs_rea" */
	search__offer(&S, "vfs_reaxd", 0);               /* 1 edit, holds it */
	CHECK_INT(S.n_hits, 2);
	CHECK_STR(S.hits[0].shown, "vfs_reaxd");
	CHECK_STR(S.run, "vfs_rea");

	/* at most SEARCH_SUGGEST_MAX, the closest ones */
	search__init(&S, "abcdefgh", true);
	const char *const many[] = { "abcdefgx", "abcdefxx", "abcdexxx", "abcdefgh_", "xbcdefgh", "abcdefhg",
		"abcdefgy", "zzzzzzzz" };
	for (unsigned i = 0; i < 8; i++)
		search__offer(&S, many[i], 0);
	CHECK_INT(S.n_hits, SEARCH_SUGGEST_MAX);
	CHECK_U64(S.candidates, 8);
	for (unsigned i = 0; i < S.n_hits; i++)
		CHECK(S.hits[i].edits <= 1 || !strcmp(S.hits[i].shown, "abcdefhg"));
	for (unsigned i = 1; i < S.n_hits; i++)
		CHECK(S.hits[i - 1].edits <= S.hits[i].edits);

	/* nothing past the cutoff */
	search__init(&S, "task", false);
	search__offer(&S, "zzzzzz", 0);
	CHECK_INT(S.n_hits, 0);
	CHECK_U64(S.candidates, 1);
	search__init(&S, NULL, false);                     /* no pattern: counted, not ranked */
	search__offer(&S, "task", 0);
	CHECK_INT(S.n_hits, 0);
	CHECK_U64(S.candidates, 1);
}

static void bounds(void)
{
	char p[600], name[600];
	/* 61 bytes of substring (+2 stars) rank; 62 do not */
	memset(p, 'a', 61);
	p[61] = 0;
	search__init(&S, p, false);
	CHECK(S.ranks);
	CHECK_INT(S.edits_max, SEARCH_EDITS_MAX);
	CHECK_INT(search__edits(&S, p, 3, false), 0);
	p[61] = 'a', p[62] = 0;
	search__init(&S, p, false);
	CHECK(!S.ranks);
	search__offer(&S, "aaaa", 0);
	CHECK_INT(S.n_hits, 0);
	CHECK_U64(S.candidates, 1);
	/* names of SEARCH_NAME_BYTES and more are not kept */
	search__init(&S, "ab", false);
	memset(name, 'a', SEARCH_NAME_BYTES - 1);
	name[SEARCH_NAME_BYTES - 1] = 0;
	search__offer(&S, name, 0);
	CHECK_INT(S.n_hits, 1);
	name[SEARCH_NAME_BYTES - 1] = 'b';
	name[SEARCH_NAME_BYTES] = 0;
	search__offer(&S, name, 0);
	CHECK_INT(S.n_hits, 1);
	/* cutoff by pattern length */
	search__init(&S, "ab", false);
	CHECK_INT(S.edits_max, 1);
	search__init(&S, "abcd", false);
	CHECK_INT(S.edits_max, 2);
	/* a pattern of 63 classes: compiling reads each class on its own */
	for (unsigned i = 0; i < 63; i++)
		memcpy(p + 5 * i, "[a-z]", 5);
	p[315] = 0;
	search__init(&S, p, false);
	CHECK(S.ranks);
	CHECK_INT(S.elems, 63);
}

/* The cost the tools rely on: 200k names of 16 to 31 bytes, more than
 * kallsyms holds here (~120k functions of 24 bytes on average), ranked as an
 * empty search ranks them. About 40 ms here; the bound catches a blow-up,
 * not a busy machine. */
static void cost(void)
{
	enum { N = 200000 };
	static char names[N][32];
	srand(1);
	for (unsigned i = 0; i < N; i++) {
		unsigned len = 16 + (unsigned)rand() % 16;
		for (unsigned k = 0; k < len; k++)
			names[i][k] = "abcdefghijklmnopqrstuvwxyz_"[rand() % 27];
		names[i][len] = 0;
	}
	struct timespec t0, t1;
	const char *const pats[] = { "opneat", "vfs_re?d_iter", "*sched*switch", "task_strcut" };
	for (unsigned k = 0; k < 4; k++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		search__init(&S, pats[k], false);
		for (unsigned i = 0; i < N; i++)
			search__offer(&S, names[i], 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		printf("# %u names ranked against '%s': %.1f ms\n", N, pats[k], ms);
		unit_case = pats[k];
		CHECK(ms < 300);
		CHECK_U64(S.candidates, N);
	}
	unit_case = "";
}

static void json_out(void)
{
	char buf[4096];
	struct jw w;
	search__init(&S, "opneat", false);
	search__offer(&S, "syscalls/sys_enter_openat", 9);
	search__offer(&S, "sched/sched_switch", 6);
	jw__init(&w, buf, sizeof(buf));
	jw__obj(&w);
	search__write(&w, &S, "tracepoint names");
	jw__obj_end(&w);
	CHECK(!w.overflow);
	buf[w.len] = 0;
	CHECK_STR(buf, "{\"searched\":{\"what\":\"substring 'opneat' in tracepoint names\",\"match\":\"substring\","
		  "\"pattern\":\"opneat\",\"candidates\":2},\"suggestions\":[\"syscalls/sys_enter_openat\"]}");
	search__init(&S, NULL, false);
	jw__init(&w, buf, sizeof(buf));
	jw__obj(&w);
	search__write(&w, &S, "functions of module nope");
	jw__obj_end(&w);
	buf[w.len] = 0;
	CHECK_STR(buf, "{\"searched\":{\"what\":\"functions of module nope\",\"match\":\"any\",\"candidates\":0},"
		  "\"suggestions\":[]}");
	search__init(&S, "vfs_re?dd", false);
	jw__init(&w, buf, sizeof(buf));
	jw__obj(&w);
	search__write(&w, &S, "function names");
	jw__obj_end(&w);
	buf[w.len] = 0;
	CHECK(strstr(buf, "\"what\":\"glob 'vfs_re?dd' in function names\",\"match\":\"glob\""));
	search__init(&S, "task_strct", true);
	jw__init(&w, buf, sizeof(buf));
	jw__obj(&w);
	search__write(&w, &S, "type names");
	jw__obj_end(&w);
	buf[w.len] = 0;
	CHECK(strstr(buf, "\"what\":\"exact name 'task_strct' in type names\",\"match\":\"exact\""));
}

int main(void)
{
	TEST(modes);
	TEST(edits_match_reference);
	TEST(edits_of_globs);
	TEST(suggestions_rank);
	TEST(bounds);
	TEST(cost);
	TEST(json_out);
	return UNIT_DONE();
}
