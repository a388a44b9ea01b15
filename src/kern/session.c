/* Registry of the kernel objects this session created (see session.h). */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../limits.h"

struct owned_set {
	uint32_t ids[SESSION_MAX_OBJECTS];   /* ascending, no duplicates */
	unsigned n;
};

static struct owned_set owned[SESSION__KINDS];

static struct {
	struct session_event ev[SESSION_JOURNAL_MAX];
	unsigned n, dropped;
} journal;

static void journal_add(enum session_kind k, uint32_t id, bool created)
{
	if (journal.n == SESSION_JOURNAL_MAX) {
		journal.dropped++;
		return;
	}
	journal.ev[journal.n++] = (struct session_event){ .kind = k, .id = id, .created = created };
}

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
	journal_add(k, id, true);
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
	journal_add(k, id, false);
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
	memset(&journal, 0, sizeof(journal));
}

void session__journal_reset(void)
{
	journal.n = journal.dropped = 0;
}

unsigned session__journal(const struct session_event **ev, unsigned *dropped)
{
	*ev = journal.ev;
	*dropped = journal.dropped;
	return journal.n;
}

/* ---- open objects, links, pins ------------------------------------------ */

struct held_object {
	uint32_t handle;          /* 0: free slot */
	struct bpf_object *obj;
	uint64_t map_bytes;
};

enum held_kind { HELD_FREE, HELD_LIBBPF, HELD_FD, HELD_TC };

struct held_link {
	enum held_kind kind;
	struct bpf_link *link;    /* HELD_LIBBPF */
	int fd;                   /* HELD_FD */
	struct session_tc tc;     /* HELD_TC */
	uint32_t link_id, prog_id;
};

struct held_pin {
	char path[LIMIT_PATH_BYTES];
	enum session_kind kind;
	uint32_t id;
};

static struct held_object objects[SESSION_MAX_HANDLES];
static struct held_link links[SESSION_MAX_OBJECTS];
static struct held_pin *pins[SESSION_MAX_PINS];   /* allocated on first pin */
static uint32_t next_handle = 1;
static uint32_t next_local_link = SESSION_LOCAL_LINK_MIN;
static uint64_t map_bytes_total;

static uint32_t fd_id(int fd, bool is_map)
{
	if (fd < 0)
		return 0;
	if (is_map) {
		struct bpf_map_info mi = { 0 };
		__u32 len = sizeof(mi);
		return bpf_map_get_info_by_fd(fd, &mi, &len) ? 0 : mi.id;
	}
	struct bpf_prog_info pi = { 0 };
	__u32 len = sizeof(pi);
	return bpf_prog_get_info_by_fd(fd, &pi, &len) ? 0 : pi.id;
}

static struct held_object *find_object(uint32_t handle)
{
	for (unsigned i = 0; handle && i < SESSION_MAX_HANDLES; i++)
		if (objects[i].handle == handle)
			return &objects[i];
	return NULL;
}

int session__add_object(struct bpf_object *obj, uint64_t map_bytes, uint32_t *handle)
{
	struct held_object *slot = NULL;
	for (unsigned i = 0; !slot && i < SESSION_MAX_HANDLES; i++)
		if (!objects[i].handle)
			slot = &objects[i];
	if (!slot)
		return -ENOSPC;
	struct bpf_program *p;
	struct bpf_map *m;
	bpf_object__for_each_program(p, obj)
		session__own(SESSION_PROG, fd_id(bpf_program__fd(p), false));
	bpf_object__for_each_map(m, obj)
		session__own(SESSION_MAP, fd_id(bpf_map__fd(m), true));
	*slot = (struct held_object){ .handle = next_handle++, .obj = obj, .map_bytes = map_bytes };
	map_bytes_total += map_bytes;
	*handle = slot->handle;
	return 0;
}

struct bpf_object *session__object(uint32_t handle)
{
	struct held_object *o = find_object(handle);
	return o ? o->obj : NULL;
}

struct bpf_program *session__program(uint32_t prog_id, uint32_t *handle)
{
	if (!session__owns(SESSION_PROG, prog_id))
		return NULL;
	for (unsigned i = 0; i < SESSION_MAX_HANDLES; i++) {
		struct bpf_program *p;
		if (!objects[i].handle)
			continue;
		bpf_object__for_each_program(p, objects[i].obj)
			if (fd_id(bpf_program__fd(p), false) == prog_id) {
				if (handle)
					*handle = objects[i].handle;
				return p;
			}
	}
	return NULL;
}

/* Deletes a clsact filter only while it still runs our program: the
 * (handle, priority) pair may have been reused after someone removed it. */
static void tc_detach(const struct session_tc *tc, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tc->ifindex,
		    .attach_point = tc->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = tc->handle, .priority = tc->priority);
	if (bpf_tc_query(&hook, &q) || q.prog_id != prog_id)
		return;
	LIBBPF_OPTS(bpf_tc_opts, d, .handle = tc->handle, .priority = tc->priority);
	bpf_tc_detach(&hook, &d);
}

static void drop_link(struct held_link *l)
{
	if (l->kind == HELD_LIBBPF)
		bpf_link__destroy(l->link);
	else if (l->kind == HELD_FD)
		close(l->fd);
	else if (l->kind == HELD_TC)
		tc_detach(&l->tc, l->prog_id);
	session__disown(SESSION_LINK, l->link_id);
	*l = (struct held_link){ 0 };
}

int session__close_object(uint32_t handle)
{
	struct held_object *o = find_object(handle);
	if (!o)
		return -ENOENT;
	struct bpf_program *p;
	struct bpf_map *m;
	bpf_object__for_each_program(p, o->obj) {
		uint32_t id = fd_id(bpf_program__fd(p), false);
		for (unsigned i = 0; i < SESSION_MAX_OBJECTS; i++)
			if (links[i].kind != HELD_FREE && links[i].prog_id == id)
				drop_link(&links[i]);
		session__disown(SESSION_PROG, id);
	}
	bpf_object__for_each_map(m, o->obj)
		session__disown(SESSION_MAP, fd_id(bpf_map__fd(m), true));
	bpf_object__close(o->obj);
	map_bytes_total -= o->map_bytes;
	*o = (struct held_object){ 0 };
	return 0;
}

uint32_t session__handle_at(unsigned idx)
{
	uint32_t best = 0, floor = 0;
	/* handles are few and unsorted in the slots: select the idx-th smallest */
	for (unsigned k = 0; k <= idx; k++) {
		best = 0;
		for (unsigned i = 0; i < SESSION_MAX_HANDLES; i++)
			if (objects[i].handle > floor && (!best || objects[i].handle < best))
				best = objects[i].handle;
		if (!best)
			return 0;
		floor = best;
	}
	return best;
}

uint64_t session__map_bytes(void)
{
	return map_bytes_total;
}

/* Takes a free slot for an attachment with this id; -ENOSPC, -EEXIST. */
static struct held_link *claim_link(uint32_t link_id, uint32_t prog_id, int *rc)
{
	for (unsigned i = 0; i < SESSION_MAX_OBJECTS; i++) {
		if (links[i].kind != HELD_FREE)
			continue;
		if ((*rc = session__own(SESSION_LINK, link_id)))
			return NULL;
		links[i] = (struct held_link){ .link_id = link_id, .prog_id = prog_id, .fd = -1 };
		return &links[i];
	}
	*rc = -ENOSPC;
	return NULL;
}

static uint32_t link_fd_id(int fd)
{
	struct bpf_link_info li = { 0 };
	__u32 len = sizeof(li);
	return fd < 0 || bpf_link_get_info_by_fd(fd, &li, &len) ? 0 : li.id;
}

int session__add_link(struct bpf_link *l, uint32_t prog_id, uint32_t *link_id)
{
	uint32_t id = link_fd_id(bpf_link__fd(l));
	int rc;
	if (!id)
		return -EOPNOTSUPP;   /* an attachment without a kernel link object */
	struct held_link *h = claim_link(id, prog_id, &rc);
	if (!h)
		return rc;
	h->kind = HELD_LIBBPF, h->link = l;
	*link_id = id;
	return 0;
}

int session__add_link_fd(int fd, uint32_t prog_id, uint32_t *link_id)
{
	uint32_t id = link_fd_id(fd);
	int rc;
	if (!id)
		return -EOPNOTSUPP;
	struct held_link *h = claim_link(id, prog_id, &rc);
	if (!h)
		return rc;
	h->kind = HELD_FD, h->fd = fd;
	*link_id = id;
	return 0;
}

int session__add_tc(const struct session_tc *tc, uint32_t prog_id, uint32_t *link_id)
{
	int rc;
	if (next_local_link < SESSION_LOCAL_LINK_MIN)
		return -ENOSPC;       /* 2^31 local ids used up (wrapped) */
	struct held_link *h = claim_link(next_local_link, prog_id, &rc);
	if (!h)
		return rc;
	h->kind = HELD_TC, h->tc = *tc;
	*link_id = next_local_link++;
	return 0;
}

static struct held_link *find_link(uint32_t link_id)
{
	for (unsigned i = 0; link_id && i < SESSION_MAX_OBJECTS; i++)
		if (links[i].kind != HELD_FREE && links[i].link_id == link_id)
			return &links[i];
	return NULL;
}

int session__link(uint32_t link_id, int *fd, uint32_t *prog_id)
{
	struct held_link *h = find_link(link_id);
	if (!h)
		return -ENOENT;
	*fd = h->kind == HELD_LIBBPF ? bpf_link__fd(h->link) : h->fd;
	*prog_id = h->prog_id;
	return 0;
}

int session__destroy_link(uint32_t link_id)
{
	struct held_link *h = find_link(link_id);
	if (!h)
		return -ENOENT;
	drop_link(h);
	return 0;
}

int session__add_pin(enum session_kind k, uint32_t id, const char *path)
{
	size_t n = strlen(path);
	if (n >= LIMIT_PATH_BYTES)
		return -ENAMETOOLONG;
	for (unsigned i = 0; i < SESSION_MAX_PINS; i++) {
		if (pins[i] && pins[i]->path[0])
			continue;
		if (!pins[i] && !(pins[i] = calloc(1, sizeof(*pins[i]))))
			return -ENOMEM;
		memcpy(pins[i]->path, path, n + 1);
		pins[i]->kind = k, pins[i]->id = id;
		return 0;
	}
	return -ENOSPC;
}

int session__remove_pin(const char *path)
{
	for (unsigned i = 0; i < SESSION_MAX_PINS; i++)
		if (pins[i] && pins[i]->path[0] && !strcmp(pins[i]->path, path)) {
			pins[i]->path[0] = 0;
			return 0;
		}
	return -ENOENT;
}

int session__find_pin(const char *path, enum session_kind *k, uint32_t *id)
{
	for (unsigned i = 0; i < SESSION_MAX_PINS; i++)
		if (pins[i] && pins[i]->path[0] && !strcmp(pins[i]->path, path)) {
			*k = pins[i]->kind, *id = pins[i]->id;
			return 0;
		}
	return -ENOENT;
}

const char *session__pin_at(unsigned idx, enum session_kind *k, uint32_t *id)
{
	for (unsigned i = 0; i < SESSION_MAX_PINS; i++) {
		if (!pins[i] || !pins[i]->path[0] || idx--)
			continue;
		*k = pins[i]->kind, *id = pins[i]->id;
		return pins[i]->path;
	}
	return NULL;
}

void session__release_all(void)
{
	for (unsigned i = 0; i < SESSION_MAX_OBJECTS; i++)
		if (links[i].kind != HELD_FREE)
			drop_link(&links[i]);
	for (unsigned i = 0; i < SESSION_MAX_HANDLES; i++)
		if (objects[i].handle)
			session__close_object(objects[i].handle);
}
