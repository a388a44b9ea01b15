/* Unit tests for the session ownership registry (src/kern/session.c). */
#include <errno.h>

#include "kern/session.h"
#include "unit.h"

static void own_and_query(void)
{
	session__reset();
	CHECK(!session__owns(SESSION_PROG, 7));
	CHECK(session__own(SESSION_PROG, 7) == 0);
	CHECK(session__owns(SESSION_PROG, 7));
	/* kinds are separate id spaces: program 7 is not map 7 */
	CHECK(!session__owns(SESSION_MAP, 7));
	CHECK(session__count(SESSION_PROG) == 1);
	CHECK(session__count(SESSION_MAP) == 0);
}

static void rejects_bad_input(void)
{
	session__reset();
	CHECK(session__own(SESSION_LINK, 0) == -EINVAL);
	CHECK(session__own((enum session_kind)SESSION__KINDS, 1) == -EINVAL);
	CHECK(session__own(SESSION_LINK, 5) == 0);
	CHECK(session__own(SESSION_LINK, 5) == -EEXIST);
	CHECK(session__count(SESSION_LINK) == 1);
	CHECK(session__disown(SESSION_LINK, 6) == -ENOENT);
	CHECK(!session__owns((enum session_kind)99, 5));
	CHECK(session__count((enum session_kind)99) == 0);
}

static void keeps_ids_sorted(void)
{
	static const uint32_t in[] = { 40, 3, 900, 17, 4000000000u, 1, 250 };
	static const uint32_t sorted[] = { 1, 3, 17, 40, 250, 900, 4000000000u };
	session__reset();
	for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		CHECK(session__own(SESSION_MAP, in[i]) == 0);
	for (unsigned i = 0; i < sizeof(sorted) / sizeof(sorted[0]); i++)
		CHECK(session__id_at(SESSION_MAP, i) == sorted[i]);
	CHECK(session__id_at(SESSION_MAP, 7) == 0);
	CHECK(session__disown(SESSION_MAP, 17) == 0);
	CHECK(!session__owns(SESSION_MAP, 17));
	CHECK(session__id_at(SESSION_MAP, 2) == 40);
	CHECK(session__owns(SESSION_MAP, 4000000000u));
	CHECK(session__count(SESSION_MAP) == 6);
}

static void capacity_limit(void)
{
	session__reset();
	/* descending inserts exercise the shifting path at every step */
	for (uint32_t id = SESSION_MAX_OBJECTS; id >= 1; id--)
		CHECK(session__own(SESSION_BTF, id * 2) == 0);
	CHECK(session__count(SESSION_BTF) == SESSION_MAX_OBJECTS);
	CHECK(session__own(SESSION_BTF, 3) == -ENOSPC);
	CHECK(session__owns(SESSION_BTF, 2) && session__owns(SESSION_BTF, SESSION_MAX_OBJECTS * 2));
	CHECK(!session__owns(SESSION_BTF, 3));
	CHECK(session__disown(SESSION_BTF, 2) == 0);
	CHECK(session__own(SESSION_BTF, 3) == 0);
	CHECK(session__id_at(SESSION_BTF, 0) == 3);
	for (unsigned i = 1; i < SESSION_MAX_OBJECTS; i++)
		CHECK(session__id_at(SESSION_BTF, i) > session__id_at(SESSION_BTF, i - 1));
}

static void names(void)
{
	CHECK(session__kind_name(SESSION_PROG)[0] == 'p');
	CHECK(session__kind_name((enum session_kind)42)[0] == 'u');
}

int main(void)
{
	TEST(own_and_query);
	TEST(rejects_bad_input);
	TEST(keeps_ids_sorted);
	TEST(capacity_limit);
	TEST(names);
	return UNIT_DONE();
}
