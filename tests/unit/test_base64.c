/* Unit tests for base64 decoding (src/json/base64.c): RFC 4648 vectors,
 * and refusal of every non-canonical form: bad padding, padding in the
 * middle, non-zero bits before the padding, characters outside the
 * alphabet, and output that does not fit. */
#include <errno.h>
#include <string.h>

#include "json/base64.h"
#include "unit.h"

static int dec(const char *s, char *out, size_t cap, size_t *len, size_t *bad)
{
	*len = 0, *bad = (size_t)-1;
	return base64__decode(s, strlen(s), (uint8_t *)out, cap, len, bad);
}

static void vectors(void)
{
	static const char *const pairs[][2] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" }, { "Zm9vYg==", "foob" },
		{ "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" }, { "+/+/", "\xfb\xff\xbf" },
	};
	for (unsigned k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
		char out[16];
		size_t len, bad;
		unit_case = pairs[k][0];
		CHECK_INT(dec(pairs[k][0], out, sizeof(out), &len, &bad), 0);
		CHECK_MEM(out, len, pairs[k][1]);
	}
}

static void refused(void)
{
	static const struct { const char *s; size_t bad; } cases[] = {
		{ "Zh==", 1 },      /* "f" with non-zero bits in the dropped half-sextet */
		{ "Zg9=", 2 },      /* non-zero bits before one '=' */
		{ "Zm9=", 2 },      /* "fo" needs its last sextet's low 2 bits zero */
		{ "Z===", 1 },      /* three pads */
		{ "====", 0 },
		{ "Zg=a", 2 },      /* '=' not at the end */
		{ "Zg==Zg==", 2 },  /* padding in the middle */
		{ "Zm9", 3 },       /* not a quad */
		{ "Zm9vY", 5 },
		{ "Zm 9", 2 },      /* whitespace */
		{ "Zm9-", 3 },      /* base64url is another alphabet */
		{ "Zm9_", 3 },
		{ "Zm9\x80", 3 },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char out[16];
		size_t len, bad;
		unit_case = cases[k].s;
		CHECK_INT(dec(cases[k].s, out, sizeof(out), &len, &bad), -EINVAL);
		CHECK_U64(bad, cases[k].bad);
	}
}

static void capacity(void)
{
	char out[3];
	size_t len, bad;
	unit_case = "fits exactly";
	CHECK_INT(dec("Zm9v", out, 3, &len, &bad), 0);
	CHECK_INT(len, 3);
	unit_case = "one byte short";
	CHECK_INT(dec("Zm9vYg==", out, 3, &len, &bad), -ENOSPC);
	CHECK_INT(dec("Zm9v", out, 2, &len, &bad), -ENOSPC);
}

int main(void)
{
	TEST(vectors);
	TEST(refused);
	TEST(capacity);
	return UNIT_DONE();
}
