/* Registry of the kernel objects this session created (see session.h). */
#include "session.h"

#include <errno.h>
#include <string.h>

struct owned_set {
	uint32_t ids[SESSION_MAX_OBJECTS];   /* ascending, no duplicates */
	unsigned n;
};

static struct owned_set owned[SESSION__KINDS];

/* First index whose id is >= id (n when none). */
static unsigned lower_bound(const struct owned_set *s, uint32_t id)
{
	unsigned lo = 0, hi = s->n;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (s->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool kind_ok(enum session_kind k)
{
	return (unsigned)k < SESSION__KINDS;
}

int session__own(enum session_kind k, uint32_t id)
{
	if (!kind_ok(k) || !id)
		return -EINVAL;    /* the kernel never hands out id 0 */
	struct owned_set *s = &owned[k];
	unsigned at = lower_bound(s, id);
	if (at < s->n && s->ids[at] == id)
		return -EEXIST;
	if (s->n == SESSION_MAX_OBJECTS)
		return -ENOSPC;
	memmove(&s->ids[at + 1], &s->ids[at], (s->n - at) * sizeof(s->ids[0]));
	s->ids[at] = id;
	s->n++;
	return 0;
}

int session__disown(enum session_kind k, uint32_t id)
{
	if (!kind_ok(k))
		return -EINVAL;
	struct owned_set *s = &owned[k];
	unsigned at = lower_bound(s, id);
	if (at == s->n || s->ids[at] != id)
		return -ENOENT;
	memmove(&s->ids[at], &s->ids[at + 1], (s->n - at - 1) * sizeof(s->ids[0]));
	s->n--;
	return 0;
}

bool session__owns(enum session_kind k, uint32_t id)
{
	if (!kind_ok(k))
		return false;
	const struct owned_set *s = &owned[k];
	unsigned at = lower_bound(s, id);
	return at < s->n && s->ids[at] == id;
}

unsigned session__count(enum session_kind k)
{
	return kind_ok(k) ? owned[k].n : 0;
}

uint32_t session__id_at(enum session_kind k, unsigned idx)
{
	return kind_ok(k) && idx < owned[k].n ? owned[k].ids[idx] : 0;
}

const char *session__kind_name(enum session_kind k)
{
	static const char *const names[SESSION__KINDS] = { "program", "map", "link", "btf" };
	return kind_ok(k) ? names[k] : "unknown";
}

void session__reset(void)
{
	memset(owned, 0, sizeof(owned));
}
