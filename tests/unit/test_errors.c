/* Unit tests for the error table (src/errors.h) and the calls that fail
 * with it (src/tools/tool.c): every code named once, a LIMIT_ code for
 * every limit, a <FSTYPE>_MISSING code for every known mount, errno codes
 * inside the table, and an error taking its category and recoverable from
 * its code. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "sys/sysfs.h"
#include "tools/tool.h"
#include "unit.h"

static bool upper_name(const char *s)
{
	if (!s || !s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static void upcase(char *out, size_t cap, const char *prefix, const char *name, const char *suffix)
{
	size_t n = (size_t)snprintf(out, cap, "%s%s%s", prefix, name, suffix);
	for (size_t i = strlen(prefix); i < n && i < cap; i++)
		if (out[i] >= 'a' && out[i] <= 'z')
			out[i] = (char)(out[i] - 32);
}

static void every_code_named_once(void)
{
	for (int i = 0; i < ERR__COUNT; i++) {
		const struct err_def *e = &err_defs[i];
		unit_case = e->name ? e->name : "(no name)";
		CHECK(upper_name(e->name));
		CHECK(e->meaning && strlen(e->meaning) > 5);
		CHECK((unsigned)e->cat < CAT__COUNT);
		CHECK_INT(err__find(e->name), i);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(e->name, err_defs[j].name) != 0);
	}
	unit_case = "every_code_named_once";
	CHECK_INT(err__find("NO_SUCH_CODE_ANYWHERE"), ERR__COUNT);
	for (int c = 0; c < CAT__COUNT; c++)
		CHECK(err_cat_names[c] && err_cat_names[c][0]);
	CHECK_STR(err_cat_names[CAT_VALIDATION], "validation");
	CHECK_STR(err_cat_names[CAT_INTERNAL], "internal");
}

static void a_limit_code_per_limit(void)
{
	char want[64];
	for (int l = 0; l < LIM__COUNT; l++) {
		unit_case = limit_defs[l].name;
		upcase(want, sizeof(want), "LIMIT_", limit_defs[l].name, "");
		enum err_code c = err__limit((enum limit_id)l);
		CHECK_STR(err_defs[c].name, want);
		CHECK_INT(err__find(want), c);
		CHECK_INT(err_defs[c].cat, CAT_RESOURCE);
		CHECK(err_defs[c].recoverable);
		CHECK(strstr(err_defs[c].meaning, limit_defs[l].name) != NULL);
	}
	unit_case = "a_limit_code_per_limit";
	CHECK_INT(err__limit(LIM__COUNT - 1), ERR__COUNT - 1);
}

static void a_missing_code_per_mount(void)
{
	static const char *const fs[] = { "sysfs", "proc", "tracefs", "debugfs", "bpf", "cgroup2" };
	char want[64];
	for (unsigned k = 0; k < sizeof(fs) / sizeof(fs[0]); k++) {
		unit_case = fs[k];
		const struct sysfs_known_mount *m = sysfs__known_mount(fs[k]);
		CHECK(m != NULL);
		if (!m)
			continue;
		upcase(want, sizeof(want), "", fs[k], "_MISSING");
		CHECK_STR(err_defs[m->missing].name, want);
		CHECK_INT(err_defs[m->missing].cat, CAT_RESOURCE);
		CHECK(err_defs[m->missing].recoverable);
	}
}

/* Every errno (and the kernel-internal 524) maps into the table, by the name
 * of its macro where the table has one. */
static void errno_codes_in_table(void)
{
	for (int e = 0; e < 4096; e++) {
		const char *n = tool__errno_code(e);
		enum err_code c = tool__errno_err(e);
		CHECK(c < ERR__COUNT);
		CHECK_STR(n, err_defs[c].name);
		CHECK_INT(err__find(n), c);
		CHECK(n[0] == 'E');
	}
	static const struct { int err; const char *name; enum err_cat cat; bool rec; } tab[] = {
		{ EPERM, "EPERM", CAT_PERMISSION, false }, { EACCES, "EACCES", CAT_PERMISSION, false },
		{ ENOMEM, "ENOMEM", CAT_RESOURCE, true }, { E2BIG, "E2BIG", CAT_RESOURCE, false },
		{ ENOSPC, "ENOSPC", CAT_RESOURCE, false }, { EAGAIN, "EAGAIN", CAT_RESOURCE, true },
		{ EBUSY, "EBUSY", CAT_KERNEL, true }, { ENOENT, "ENOENT", CAT_KERNEL, false },
		{ 524, "ENOTSUPP", CAT_KERNEL, false }, { EDOM, "EKERNEL", CAT_KERNEL, false },
	};
	for (unsigned k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
		enum err_code c = tool__errno_err(tab[k].err);
		unit_case = tab[k].name;
		CHECK_STR(err_defs[c].name, tab[k].name);
		CHECK_INT(err_defs[c].cat, tab[k].cat);
		CHECK_INT(err_defs[c].recoverable, tab[k].rec);
	}
}

static struct tool_ctx fresh(void)
{
	static struct tool_err err;
	err.set = false;
	jw__init_members(&err.ctx, err.ctx_buf, sizeof(err.ctx_buf));
	return (struct tool_ctx){ .err = &err, .args = -1 };
}

/* The code decides category and recoverable; the first failure wins. */
static void failing_takes_the_table_row(void)
{
	struct tool_ctx ctx = fresh();
	CHECK_INT(tool__fail(&ctx, ERR_NOT_OWNED, "map %u is not ours", 7u), -1);
	CHECK(ctx.err->set);
	CHECK_STR(ctx.err->code, "NOT_OWNED");
	CHECK_INT(ctx.err->cat, CAT_PERMISSION);
	CHECK(!ctx.err->recoverable);
	CHECK_STR(ctx.err->msg, "map 7 is not ours");
	CHECK_INT(tool__fail(&ctx, ERR_SCHEMA, "later"), -1);
	CHECK_STR(ctx.err->code, "NOT_OWNED");

	ctx = fresh();
	CHECK_INT(tool__fail_errno(&ctx, -EAGAIN, "reading %s", "x"), -1);
	CHECK_STR(ctx.err->code, "EAGAIN");
	CHECK_INT(ctx.err->cat, CAT_RESOURCE);
	CHECK(ctx.err->recoverable);
	CHECK_MEM(ctx.err->ctx.buf, ctx.err->ctx.len, "\"errno\":11");

	ctx = fresh();
	CHECK_INT(tool__fail_limit(&ctx, LIM_JOBS, "too many"), -1);
	CHECK_STR(ctx.err->code, "LIMIT_JOBS");
	CHECK_INT(ctx.err->id, ERR_LIMIT_JOBS);
	CHECK_INT(ctx.err->cat, CAT_RESOURCE);
	CHECK(ctx.err->recoverable);
	CHECK(ctx.err->ctx.len > 14 && !memcmp(ctx.err->ctx.buf, "\"limit\":\"jobs\",", 15));
}

int main(void)
{
	TEST(every_code_named_once);
	TEST(a_limit_code_per_limit);
	TEST(a_missing_code_per_mount);
	TEST(errno_codes_in_table);
	TEST(failing_takes_the_table_row);
	return UNIT_DONE();
}
