/* Fuzzes the JSON reader: the validator and jsmn, then every accessor on
 * every token, strict reading and JSON pointers. Oracles: an accepted
 * document's strings unescape to exactly jdoc__str_len bytes of valid
 * UTF-8 that the writer escapes back into a string the reader accepts and
 * unescapes to the same bytes; a pointer is always a terminated string. */
#include <errno.h>
#include <string.h>

#include "json/json.h"
#include "fuzz.h"

#define TOKS 4096

static jsmntok_t toks[TOKS], toks2[8];
static int scratch[TOKS];

static void check_string(const struct jdoc *d, int i)
{
	size_t n = jdoc__str_len(d, i), got = 0;
	char *s = malloc(n + 1), *esc = malloc(6 * n + 3);
	FUZZ_CHECK(jdoc__str(d, i, s, n + 1, &got) == 0 && got == n);
	if (n)
		FUZZ_CHECK(jdoc__str(d, i, s, n, &got) == -ENOSPC);   /* one byte short */
	for (size_t k = 0; k < n; k += json__utf8_len((unsigned char *)s + k, n - k))
		FUZZ_CHECK(json__utf8_len((unsigned char *)s + k, n - k) > 0);
	struct jw w;
	jw__init(&w, esc, 6 * n + 3);
	jw__strn(&w, s, n);
	FUZZ_CHECK(!w.overflow);
	struct jdoc d2;
	struct json_perr e;
	FUZZ_CHECK(jdoc__parse(&d2, esc, w.len, toks2, 8, 4, &e) == 0);
	char *back = malloc(n + 1);
	FUZZ_CHECK(jdoc__str(&d2, 0, back, n + 1, &got) == 0 && got == n && !memcmp(back, s, n));
	free(back);
	free(esc);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jdoc d;
	struct json_perr e;
	if (jdoc__parse(&d, (const char *)data, size, toks, TOKS, 64, &e)) {
		FUZZ_CHECK(e.kind != JSON_OK && e.offset <= size && e.what);
		return 0;
	}
	for (int i = 0; i < d.n; i++) {
		int64_t iv;
		double dv;
		char ptr[96];
		(void)jdoc__int(&d, i, &iv);
		(void)jdoc__num(&d, i, &dv);
		FUZZ_CHECK(jdoc__skip(&d, i) > i && jdoc__skip(&d, i) <= d.n);
		if (jdoc__is_str(&d, i))
			check_string(&d, i);
		if (jdoc__is_obj(&d, i))
			(void)jdoc__get(&d, i, "id");
		if (jdoc__is_arr(&d, i))
			(void)jdoc__elem(&d, i, d.t[i].size - 1);
		jdoc__pointer(&d, i, ptr, sizeof(ptr));
		FUZZ_CHECK(memchr(ptr, 0, sizeof(ptr)));
	}
	enum jdoc_strict_kind kind;
	int bad = jdoc__strict(&d, scratch, -1, &kind);
	FUZZ_CHECK((bad < 0) == (kind == JDOC_STRICT_OK) && bad < d.n);
	return 0;
}
