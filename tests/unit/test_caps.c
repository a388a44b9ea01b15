/* Unit tests for the capability table (src/sys/caps.c): a name for every
 * capability the kernel numbers, both forms agreeing, and nothing past it. */
#include <stdio.h>
#include <string.h>

#include "sys/caps.h"
#include "unit.h"

static void every_cap_named(void)
{
	for (unsigned c = 0; c < CAPS_COUNT; c++) {
		const char *n = caps__name(c), *s = caps__short_name(c);
		char want[64];
		unit_case = n;
		CHECK(s && s[0]);
		if (!s)
			continue;
		size_t k = (size_t)snprintf(want, sizeof(want), "CAP_%s", s);
		for (size_t i = 4; i < k; i++)
			want[i] = (char)(want[i] >= 'a' && want[i] <= 'z' ? want[i] - 32 : want[i]);
		CHECK_STR(n, want);
		for (unsigned d = 0; d < c; d++)
			CHECK(strcmp(s, caps__short_name(d)) != 0);
	}
	unit_case = "every_cap_named";
	CHECK_STR(caps__name(0), "CAP_CHOWN");
	CHECK_STR(caps__name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
	CHECK_STR(caps__short_name(CAP_NET_ADMIN), "net_admin");
	CHECK_STR(caps__short_name(CAP_PERFMON), "perfmon");
	CHECK_STR(caps__name(CAP_BPF), "CAP_BPF");
	CHECK_STR(caps__short_name(40), "checkpoint_restore");
	CHECK_STR(caps__name(CAPS_COUNT), "CAP_?");
	CHECK(caps__short_name(CAPS_COUNT) == NULL);
	CHECK(caps__short_name(63) == NULL);
}

int main(void)
{
	TEST(every_cap_named);
	return UNIT_DONE();
}
