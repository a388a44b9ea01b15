/* Unit tests for the limits table and `--limit NAME=VALUE` parsing
 * (src/limits.c): every limit just under its floor, at it, at its maximum and
 * just over; K/M suffixes; malformed values; unknown names. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "unit.h"

static char err[256];

static int set(const char *fmt, const char *name, unsigned long long v)
{
	char spec[128];
	snprintf(spec, sizeof(spec), fmt, name, v);
	err[0] = 0;
	return limits__set(spec, err, sizeof(err));
}

static void table_sane(void)
{
	for (int i = 0; i < LIM__COUNT; i++) {
		const struct limit_def *d = &limit_defs[i];
		unit_case = d->name;
		CHECK(d->name && d->name[0]);
		CHECK(d->why && strlen(d->why) > 10);
		CHECK(d->min <= d->def && d->def <= d->max);
		CHECK(d->min > 0);
		CHECK_U64(limits[i], d->def);               /* defaults in force at start */
		for (int j = 0; j < i; j++)
			CHECK(strcmp(d->name, limit_defs[j].name) != 0);
	}
	unit_case = "table_sane";
}

/* Every limit: min - 1, min, max, max + 1; a refusal leaves the value. */
static void every_limit_at_its_bounds(void)
{
	for (int i = 0; i < LIM__COUNT; i++) {
		const struct limit_def *d = &limit_defs[i];
		char range[96];
		snprintf(range, sizeof(range), "[%llu, %llu]", (unsigned long long)d->min,
			 (unsigned long long)d->max);
		unit_case = d->name;
		limits__reset();
		CHECK_INT(set("%s=%llu", d->name, d->min - 1), -EINVAL);
		CHECK_U64(limits[i], d->def);
		CHECK(strstr(err, d->name) != NULL);
		CHECK(strstr(err, range) != NULL);
		CHECK_INT(set("%s=%llu", d->name, d->min), 0);
		CHECK_U64(limits[i], d->min);
		CHECK_INT(set("%s=%llu", d->name, d->min + 1), 0);
		CHECK_U64(limits[i], d->min + 1);
		CHECK_INT(set("%s=%llu", d->name, d->max - 1), 0);
		CHECK_U64(limits[i], d->max - 1);
		CHECK_INT(set("%s=%llu", d->name, d->max), 0);
		CHECK_U64(limits[i], d->max);
		CHECK_INT(set("%s=%llu", d->name, d->max + 1), -EINVAL);
		CHECK_U64(limits[i], d->max);
		CHECK(strstr(err, range) != NULL);
		CHECK_INT(set("%s=%llu", d->name, d->def), 0);
		CHECK_U64(limits[i], d->def);
		/* setting one limit leaves every other alone */
		for (int j = 0; j < LIM__COUNT; j++)
			if (j != i)
				CHECK_U64(limits[j], limit_defs[j].def);
	}
	unit_case = "every_limit_at_its_bounds";
	limits__reset();
}

static void suffixes(void)
{
	/* request_bytes: [4K, 64M] */
	CHECK_INT(set("%s=%lluK", "request_bytes", 4), 0);
	CHECK_U64(limits[LIM_REQUEST_BYTES], 4096);
	CHECK_INT(set("%s=%lluk", "request_bytes", 5), 0);
	CHECK_U64(limits[LIM_REQUEST_BYTES], 5120);
	CHECK_INT(set("%s=%lluM", "request_bytes", 64), 0);
	CHECK_U64(limits[LIM_REQUEST_BYTES], 64 * MIB);
	CHECK_INT(set("%s=%llum", "request_bytes", 2), 0);
	CHECK_U64(limits[LIM_REQUEST_BYTES], 2 * MIB);
	CHECK_INT(set("%s=%lluK", "request_bytes", 3), -EINVAL);       /* 3K < 4K */
	CHECK_INT(set("%s=%lluK", "request_bytes", 65537), -EINVAL);   /* 64M + 1K */
	CHECK_INT(set("%s=%lluK", "request_bytes", 65536), 0);         /* exactly 64M */
	CHECK_INT(set("%s=%lluM", "request_bytes", 65), -EINVAL);
	CHECK_INT(set("%s=%lluM", "heap_bytes", 1024), 0);             /* heap max */
	CHECK_INT(set("%s=%lluM", "heap_bytes", 1025), -EINVAL);
	CHECK_INT(set("%s=%lluK", "heap_bytes", 1023), -EINVAL);       /* under 1M */
	CHECK_INT(set("%s=%lluK", "heap_bytes", 1024), 0);
	CHECK_U64(limits[LIM_HEAP_BYTES], MIB);
	/* a suffix that would overflow 64 bits is refused, not wrapped */
	CHECK_INT(set("%s=%lluM", "heap_bytes", 17592186044416ull + 1), -EINVAL);
	CHECK_INT(set("%s=%lluK", "scan_items", 18014398509481984ull + 1000), -EINVAL);
	limits__reset();
}

static void malformed(void)
{
	static const char *const bad[] = {
		"request_bytes", "request_bytes=", "request_bytes=abc", "request_bytes=-4096",
		"request_bytes=+4096", "request_bytes= 4096", "request_bytes=4096 ", "request_bytes=4KB",
		"request_bytes=4 K", "request_bytes=0x1000", "request_bytes=4096.0", "request_bytes=1e4",
		"request_bytes=99999999999999999999999", "request_bytes=4G", "request_bytes==4096",
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		unit_case = bad[k];
		limits__reset();
		err[0] = 0;
		CHECK_INT(limits__set(bad[k], err, sizeof(err)), -EINVAL);
		CHECK_U64(limits[LIM_REQUEST_BYTES], limit_defs[LIM_REQUEST_BYTES].def);
		CHECK(err[0] != 0);
	}
	unit_case = "malformed";
	CHECK_INT(limits__set("request_bytes", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "NAME=VALUE") != NULL);
}

static void unknown_names(void)
{
	static const char *const bad[] = {
		"nope=1", "=4096", "request=4096", "request_bytesx=4096", "REQUEST_BYTES=4096",
		" request_bytes=4096", "request_bytes =4096", "json=64",
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		unit_case = bad[k];
		err[0] = 0;
		CHECK_INT(limits__set(bad[k], err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "unknown limit") != NULL);
	}
	unit_case = "unknown_names";
	CHECK_INT(limits__set("nope=1", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "unknown limit 'nope' (see --help for the list)");
	/* the message is bounded by the caller's buffer and terminated */
	char small[8];
	memset(small, 'z', sizeof(small));
	CHECK_INT(limits__set("nope=1", small, sizeof(small)), -EINVAL);
	CHECK_INT(strlen(small), 7);
	for (int i = 0; i < LIM__COUNT; i++)
		CHECK_U64(limits[i], limit_defs[i].def);
}

static void reset(void)
{
	CHECK_INT(set("%s=%llu", "tools_page", 1), 0);
	CHECK_INT(set("%s=%llu", "json_depth", 4), 0);
	limits__reset();
	CHECK_U64(limits[LIM_TOOLS_PAGE], limit_defs[LIM_TOOLS_PAGE].def);
	CHECK_U64(limits[LIM_JSON_DEPTH], limit_defs[LIM_JSON_DEPTH].def);
}

int main(void)
{
	TEST(table_sane);
	TEST(every_limit_at_its_bounds);
	TEST(suffixes);
	TEST(malformed);
	TEST(unknown_names);
	TEST(reset);
	return UNIT_DONE();
}
