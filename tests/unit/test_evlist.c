/* Unit tests for the bounded event list (src/tools/evlist.c): the count and
 * byte bounds, what is counted instead of kept, and reset, which starts the
 * next window of a list read in turns (a background trace's reads): empty,
 * open again, the counts back at zero, the bounds as they were. */
#include <string.h>

#include "json/json.h"
#include "tools/evlist.h"
#include "unit.h"

static char out[64 * 1024];

/* Adds the event {"n":i}; whether it was kept. */
static bool add(struct evlist *l, int i)
{
	uint64_t before = l->count;
	struct jw *w = evlist__begin(l);
	if (!w)
		return false;
	jw__obj(w);
	jw__kint(w, "n", i);
	jw__obj_end(w);
	evlist__commit(l);
	return l->count == before + 1;
}

static const char *written(const struct evlist *l)
{
	struct jw w;
	jw__init(&w, out, sizeof(out) - 1);
	evlist__write(l, &w);
	out[w.len] = 0;
	return out;
}

static void max_events_then_reset(void)
{
	struct evlist l;
	unit_case = "max_events";
	CHECK_INT(evlist__init(&l, 4096, 3), 0);
	for (int i = 0; i < 5; i++)
		CHECK(add(&l, i) == (i < 3));
	CHECK_U64(l.count, 3);
	CHECK_U64(l.drop_full, 2);
	CHECK_STR(l.stop, "max_events");
	CHECK_STR(written(&l), "[{\"n\":0},{\"n\":1},{\"n\":2}]");

	unit_case = "reset";
	evlist__reset(&l);
	CHECK_U64(l.count, 0);
	CHECK_U64(l.drop_full, 0);
	CHECK_U64(l.drop_big, 0);
	CHECK(l.stop == NULL);
	CHECK_STR(written(&l), "[]");
	/* the next window: the same bound, nothing of the last one */
	for (int i = 10; i < 14; i++)
		CHECK(add(&l, i) == (i < 13));
	CHECK_STR(written(&l), "[{\"n\":10},{\"n\":11},{\"n\":12}]");
	CHECK_U64(l.drop_full, 1);
	evlist__free(&l);
}

static void bytes_then_reset(void)
{
	struct evlist l;
	unit_case = "response_bytes";
	/* each {"n":k} is 7 bytes, 9 in the escaped text copy: two fit in 2 * 20 */
	CHECK_INT(evlist__init(&l, 20, 100), 0);
	int kept = 0;
	for (int i = 0; i < 4; i++)
		kept += add(&l, i);
	CHECK_INT(kept, 2);
	CHECK_STR(l.stop, "response_bytes");
	CHECK_U64(l.drop_full, 2);
	evlist__reset(&l);
	CHECK(l.len == 0 && l.text_len == 0);
	kept = 0;
	for (int i = 0; i < 4; i++)
		kept += add(&l, i);
	CHECK_INT(kept, 2);   /* the byte bound of every window is the same */
	evlist__free(&l);
}

int main(void)
{
	TEST(max_events_then_reset);
	TEST(bytes_then_reset);
	return UNIT_DONE();
}
