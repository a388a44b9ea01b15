/* A tiny unit-test harness: CHECK macros that count, one summary line.
 *
 * A test file writes its cases as plain `static void` functions, runs each
 * with TEST(fn) from main() and returns UNIT_DONE(), which prints
 *     unit <file>: N passed, N failed
 * on stdout, with exit status 1 when anything failed. A failed check prints
 * its file:line and the expression, then the test goes on (no aborts), so
 * one run shows every broken case. tests/run.sh sums the summary lines.
 */
#ifndef EBPF_MCP_UNIT_H
#define EBPF_MCP_UNIT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned unit_passed, unit_failed;
static const char *unit_case = "";

/* "FAIL file:line [case] " with the case name's unprintable bytes as \xNN
 * (case names are often the hostile input itself). */
static inline void unit_fail_head(const char *file, int line)
{
	unit_failed++;
	printf("FAIL %s:%d [", file, line);
	for (const unsigned char *c = (const unsigned char *)unit_case; *c && c - (const unsigned char *)unit_case < 80; c++)
		printf(*c >= 0x20 && *c < 0x7f ? "%c" : "\\x%02x", *c);
	printf("] ");
}

static inline void unit_fail_at(const char *file, int line, const char *what)
{
	unit_fail_head(file, line);
	printf("%s\n", what);
}

#define CHECK(cond) do {                                                    \
	if (cond) unit_passed++;                                            \
	else unit_fail_at(__FILE__, __LINE__, #cond);                       \
} while (0)

#define CHECK_INT(got, want) do {                                           \
	long long g_ = (long long)(got), w_ = (long long)(want);            \
	if (g_ == w_) { unit_passed++; break; }                             \
	unit_fail_head(__FILE__, __LINE__);                                 \
	printf("%s == %lld, want %lld\n", #got, g_, w_);                    \
} while (0)

#define CHECK_U64(got, want) do {                                           \
	uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);               \
	if (g_ == w_) { unit_passed++; break; }                             \
	unit_fail_head(__FILE__, __LINE__);                                 \
	printf("%s == %" PRIu64 ", want %" PRIu64 "\n", #got, g_, w_);      \
} while (0)

#define CHECK_STR(got, want) do {                                           \
	const char *g_ = (got), *w_ = (want);                               \
	if (g_ && w_ && !strcmp(g_, w_)) { unit_passed++; break; }          \
	unit_fail_head(__FILE__, __LINE__);                                 \
	printf("%s == \"%.200s\", want \"%.200s\"\n", #got,                 \
	       g_ ? g_ : "(null)", w_ ? w_ : "(null)");                     \
} while (0)

/* Compares a byte range with a C string (the writer's output is not
 * NUL-terminated). */
#define CHECK_MEM(ptr, len, want) do {                                      \
	const char *w_ = (want);                                            \
	size_t l_ = (len);                                                  \
	if (l_ == strlen(w_) && !memcmp((ptr), w_, l_)) { unit_passed++; break; } \
	unit_fail_head(__FILE__, __LINE__);                                 \
	printf("%s == \"%.*s\", want \"%.200s\"\n", #ptr,                   \
	       (int)(l_ > 200 ? 200 : l_), (const char *)(ptr), w_);        \
} while (0)

#define TEST(fn) do { unit_case = #fn; fn(); } while (0)

static inline int unit_finish(const char *file)
{
	const char *base = strrchr(file, '/');
	printf("unit %s: %u passed, %u failed\n", base ? base + 1 : file, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#define UNIT_DONE() unit_finish(__FILE__)

#endif
