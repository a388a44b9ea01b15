/* The per-session registry of kernel objects and the shared totals (see
 * owned.h). */
#include "owned.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../assert.h"

struct id_set {
	uint32_t *ids;            /* ascending, no duplicates */
	unsigned n, cap;
};

struct held_object {
	uint32_t handle;
	struct bpf_object *obj;
	uint64_t map_bytes;
};

enum held_kind { HELD_LIBBPF, HELD_FD, HELD_TC };

struct held_link {
	enum held_kind kind;
	struct bpf_link *link;    /* HELD_LIBBPF */
	int fd;                   /* HELD_FD */
	struct owned_tc tc;       /* HELD_TC */
	uint32_t link_id, prog_id;
};

struct held_pin {
	char *path;
	enum obj_kind kind;
	uint32_t id;
};

struct owned {
	struct id_set ids[OBJ__KINDS];
	struct held_object *objects;
	unsigned n_objects, cap_objects;
	struct held_link *links;
	unsigned n_links, cap_links;
	struct held_pin *pins;
	unsigned n_pins, cap_pins;
	uint32_t next_handle, next_local_link;
	uint64_t map_bytes;
	struct owned_event *journal;   /* OWNED_JOURNAL_MAX, on first use */
	unsigned n_journal, journal_dropped;
};

/* ---- totals over every session ------------------------------------------ */

static struct {
	pthread_mutex_t lock;
	unsigned held[OBJ__KINDS], reserved[OBJ__KINDS];
	uint64_t map_bytes, map_bytes_reserved;
} totals = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void total_add(enum obj_kind k, int d)
{
	pthread_mutex_lock(&totals.lock);
	totals.held[k] += (unsigned)d;
	pthread_mutex_unlock(&totals.lock);
}

static void total_bytes(uint64_t add, uint64_t sub)
{
	pthread_mutex_lock(&totals.lock);
	totals.map_bytes = totals.map_bytes + add - sub;
	pthread_mutex_unlock(&totals.lock);
}

void owned__totals(struct owned_totals *t)
{
	pthread_mutex_lock(&totals.lock);
	*t = (struct owned_totals){ .programs = totals.held[OBJ_PROG], .maps = totals.held[OBJ_MAP],
				    .links = totals.held[OBJ_LINK], .map_bytes = totals.map_bytes };
	pthread_mutex_unlock(&totals.lock);
}

/* One cap check: held + want over the cap sets *hit. */
static bool over(uint64_t held, uint64_t want, enum limit_id lim, enum limit_id *hit, uint64_t *held_out)
{
	if (!want || held + want <= limits[lim])
		return false;
	*hit = lim, *held_out = held;
	return true;
}

int owned__admit(const struct owned *o, const struct owned_need *n, enum limit_id *hit, uint64_t *held)
{
	if (over(o->ids[OBJ_PROG].n, n->programs, LIM_PROGRAMS, hit, held) ||
	    over(o->ids[OBJ_MAP].n, n->maps, LIM_MAPS, hit, held) ||
	    over(o->ids[OBJ_LINK].n, n->links, LIM_LINKS, hit, held) ||
	    over(o->map_bytes, n->map_bytes, LIM_MAP_MEMORY_BYTES, hit, held))
		return -ENOSPC;
	pthread_mutex_lock(&totals.lock);
	bool refused = over(totals.held[OBJ_PROG] + totals.reserved[OBJ_PROG], n->programs, LIM_PROGRAMS_TOTAL, hit, held) ||
		       over(totals.held[OBJ_MAP] + totals.reserved[OBJ_MAP], n->maps, LIM_MAPS_TOTAL, hit, held) ||
		       over(totals.held[OBJ_LINK] + totals.reserved[OBJ_LINK], n->links, LIM_LINKS_TOTAL, hit, held) ||
		       over(totals.map_bytes + totals.map_bytes_reserved, n->map_bytes, LIM_MAP_MEMORY_BYTES_TOTAL, hit,
			    held);
	if (!refused) {
		totals.reserved[OBJ_PROG] += n->programs;
		totals.reserved[OBJ_MAP] += n->maps;
		totals.reserved[OBJ_LINK] += n->links;
		totals.map_bytes_reserved += n->map_bytes;
	}
	pthread_mutex_unlock(&totals.lock);
	return refused ? -ENOSPC : 0;
}

void owned__unadmit(const struct owned_need *n)
{
	pthread_mutex_lock(&totals.lock);
	ASSERT(totals.reserved[OBJ_PROG] >= n->programs && totals.reserved[OBJ_MAP] >= n->maps &&
	       totals.reserved[OBJ_LINK] >= n->links && totals.map_bytes_reserved >= n->map_bytes);
	totals.reserved[OBJ_PROG] -= n->programs;
	totals.reserved[OBJ_MAP] -= n->maps;
	totals.reserved[OBJ_LINK] -= n->links;
	totals.map_bytes_reserved -= n->map_bytes;
	pthread_mutex_unlock(&totals.lock);
}

/* ---- ids ------------------------------------------------------------------- */

struct owned *owned__new(void)
{
	struct owned *o = calloc(1, sizeof(*o));
	if (o) {
		o->next_handle = 1;
		o->next_local_link = OWNED_LOCAL_LINK_MIN;
	}
	return o;
}

void owned__free(struct owned *o)
{
	if (!o)
		return;
	for (unsigned k = 0; k < OBJ__KINDS; k++) {
		/* whatever is still listed leaves the totals with the registry */
		if (o->ids[k].n)
			total_add((enum obj_kind)k, -(int)o->ids[k].n);
		free(o->ids[k].ids);
	}
	total_bytes(0, o->map_bytes);
	for (unsigned i = 0; i < o->n_pins; i++)
		free(o->pins[i].path);
	free(o->objects);
	free(o->links);
	free(o->pins);
	free(o->journal);
	free(o);
}

static void journal_add(struct owned *o, enum obj_kind k, uint32_t id, bool created)
{
	if (!o->journal && !(o->journal = malloc(OWNED_JOURNAL_MAX * sizeof(*o->journal)))) {
		o->journal_dropped++;
		return;
	}
	if (o->n_journal == OWNED_JOURNAL_MAX) {
		o->journal_dropped++;
		return;
	}
	o->journal[o->n_journal++] = (struct owned_event){ .kind = k, .id = id, .created = created };
}

/* Grows *arr (of *cap elements of size sz) to hold n + 1, up to max. */
static int grow(void **arr, unsigned *cap, unsigned n, size_t sz, unsigned max)
{
	if (n < *cap)
		return 0;
	if (n >= max)
		return -ENOSPC;
	unsigned c = *cap ? *cap * 2 : 8;
	if (c > max)
		c = max;
	void *p = realloc(*arr, (size_t)c * sz);
	if (!p)
		return -ENOMEM;
	*arr = p, *cap = c;
	return 0;
}

/* First index whose id is >= id (n when none). */
static unsigned lower_bound(const struct id_set *s, uint32_t id)
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

static bool kind_ok(enum obj_kind k)
{
	return (unsigned)k < OBJ__KINDS;
}

int owned__own(struct owned *o, enum obj_kind k, uint32_t id)
{
	if (!kind_ok(k) || !id)
		return -EINVAL;    /* the kernel never hands out id 0 */
	struct id_set *s = &o->ids[k];
	unsigned at = lower_bound(s, id);
	if (at < s->n && s->ids[at] == id)
		return -EEXIST;
	int rc = grow((void **)&s->ids, &s->cap, s->n, sizeof(s->ids[0]), OWNED_MAX_OBJECTS);
	if (rc)
		return rc;
	memmove(&s->ids[at + 1], &s->ids[at], (s->n - at) * sizeof(s->ids[0]));
	s->ids[at] = id;
	s->n++;
	total_add(k, 1);
	journal_add(o, k, id, true);
	return 0;
}

int owned__disown(struct owned *o, enum obj_kind k, uint32_t id)
{
	if (!kind_ok(k))
		return -EINVAL;
	struct id_set *s = &o->ids[k];
	unsigned at = lower_bound(s, id);
	if (at == s->n || s->ids[at] != id)
		return -ENOENT;
	ASSERT(s->n <= s->cap && at < s->n);
	memmove(&s->ids[at], &s->ids[at + 1], (s->n - at - 1) * sizeof(s->ids[0]));
	s->n--;
	total_add(k, -1);
	journal_add(o, k, id, false);
	return 0;
}

bool owned__owns(const struct owned *o, enum obj_kind k, uint32_t id)
{
	if (!kind_ok(k))
		return false;
	const struct id_set *s = &o->ids[k];
	unsigned at = lower_bound(s, id);
	return at < s->n && s->ids[at] == id;
}

unsigned owned__count(const struct owned *o, enum obj_kind k)
{
	return kind_ok(k) ? o->ids[k].n : 0;
}

uint32_t owned__id_at(const struct owned *o, enum obj_kind k, unsigned idx)
{
	return kind_ok(k) && idx < o->ids[k].n ? o->ids[k].ids[idx] : 0;
}

const char *owned__kind_name(enum obj_kind k)
{
	static const char *const names[OBJ__KINDS] = { "program", "map", "link", "btf" };
	return kind_ok(k) ? names[k] : "unknown";
}

void owned__journal_reset(struct owned *o)
{
	o->n_journal = o->journal_dropped = 0;
}

unsigned owned__journal(const struct owned *o, const struct owned_event **ev, unsigned *dropped)
{
	*ev = o->journal;
	*dropped = o->journal_dropped;
	return o->n_journal;
}

/* ---- open objects ------------------------------------------------------------ */

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

static struct held_object *find_object(const struct owned *o, uint32_t handle)
{
	for (unsigned i = 0; handle && i < o->n_objects; i++)
		if (o->objects[i].handle == handle)
			return &o->objects[i];
	return NULL;
}

int owned__add_object(struct owned *o, struct bpf_object *obj, uint64_t map_bytes, uint32_t *handle)
{
	int rc = grow((void **)&o->objects, &o->cap_objects, o->n_objects, sizeof(*o->objects), OWNED_MAX_HANDLES);
	if (rc)
		return rc;
	struct bpf_program *p;
	struct bpf_map *m;
	bpf_object__for_each_program(p, obj)
		owned__own(o, OBJ_PROG, fd_id(bpf_program__fd(p), false));
	bpf_object__for_each_map(m, obj)
		owned__own(o, OBJ_MAP, fd_id(bpf_map__fd(m), true));
	o->objects[o->n_objects++] = (struct held_object){ .handle = o->next_handle++, .obj = obj,
							   .map_bytes = map_bytes };
	o->map_bytes += map_bytes;
	total_bytes(map_bytes, 0);
	*handle = o->objects[o->n_objects - 1].handle;
	return 0;
}

struct bpf_object *owned__object(const struct owned *o, uint32_t handle)
{
	struct held_object *h = find_object(o, handle);
	return h ? h->obj : NULL;
}

struct bpf_program *owned__program(const struct owned *o, uint32_t prog_id, uint32_t *handle)
{
	if (!owned__owns(o, OBJ_PROG, prog_id))
		return NULL;
	for (unsigned i = 0; i < o->n_objects; i++) {
		struct bpf_program *p;
		bpf_object__for_each_program(p, o->objects[i].obj)
			if (fd_id(bpf_program__fd(p), false) == prog_id) {
				if (handle)
					*handle = o->objects[i].handle;
				return p;
			}
	}
	return NULL;
}

/* Deletes a clsact filter only while it still runs our program: the
 * (handle, priority) pair may have been reused after someone removed it. */
static void tc_detach(const struct owned_tc *tc, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tc->ifindex,
		    .attach_point = tc->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = tc->handle, .priority = tc->priority);
	if (bpf_tc_query(&hook, &q) || q.prog_id != prog_id)
		return;
	LIBBPF_OPTS(bpf_tc_opts, d, .handle = tc->handle, .priority = tc->priority);
	bpf_tc_detach(&hook, &d);
}

/* Closes link i and removes it from the table (the last one moves in). */
static void drop_link(struct owned *o, unsigned i)
{
	ASSERT(i < o->n_links);
	struct held_link *l = &o->links[i];
	if (l->kind == HELD_LIBBPF)
		bpf_link__destroy(l->link);
	else if (l->kind == HELD_FD)
		close(l->fd);
	else
		tc_detach(&l->tc, l->prog_id);
	owned__disown(o, OBJ_LINK, l->link_id);
	o->links[i] = o->links[--o->n_links];
}

int owned__close_object(struct owned *o, uint32_t handle)
{
	struct held_object *h = find_object(o, handle);
	if (!h)
		return -ENOENT;
	struct bpf_program *p;
	struct bpf_map *m;
	bpf_object__for_each_program(p, h->obj) {
		uint32_t id = fd_id(bpf_program__fd(p), false);
		for (unsigned i = o->n_links; i-- > 0;)
			if (o->links[i].prog_id == id)
				drop_link(o, i);
		owned__disown(o, OBJ_PROG, id);
	}
	bpf_object__for_each_map(m, h->obj)
		owned__disown(o, OBJ_MAP, fd_id(bpf_map__fd(m), true));
	bpf_object__close(h->obj);
	o->map_bytes -= h->map_bytes;
	total_bytes(0, h->map_bytes);
	*h = o->objects[--o->n_objects];
	return 0;
}

uint32_t owned__handle_at(const struct owned *o, unsigned idx)
{
	uint32_t best = 0, floor = 0;
	/* handles are few and unsorted: select the idx-th smallest */
	for (unsigned k = 0; k <= idx; k++) {
		best = 0;
		for (unsigned i = 0; i < o->n_objects; i++)
			if (o->objects[i].handle > floor && (!best || o->objects[i].handle < best))
				best = o->objects[i].handle;
		if (!best)
			return 0;
		floor = best;
	}
	return best;
}

uint64_t owned__map_bytes(const struct owned *o)
{
	return o->map_bytes;
}

/* ---- links ------------------------------------------------------------------ */

/* Takes a table entry for an attachment with this id; NULL with *rc. */
static struct held_link *claim_link(struct owned *o, uint32_t link_id, uint32_t prog_id, int *rc)
{
	if ((*rc = grow((void **)&o->links, &o->cap_links, o->n_links, sizeof(*o->links), OWNED_MAX_OBJECTS)))
		return NULL;
	if ((*rc = owned__own(o, OBJ_LINK, link_id)))
		return NULL;
	struct held_link *h = &o->links[o->n_links++];
	*h = (struct held_link){ .link_id = link_id, .prog_id = prog_id, .fd = -1 };
	return h;
}

static uint32_t link_fd_id(int fd)
{
	struct bpf_link_info li = { 0 };
	__u32 len = sizeof(li);
	return fd < 0 || bpf_link_get_info_by_fd(fd, &li, &len) ? 0 : li.id;
}

int owned__add_link(struct owned *o, struct bpf_link *l, uint32_t prog_id, uint32_t *link_id)
{
	uint32_t id = link_fd_id(bpf_link__fd(l));
	int rc;
	if (!id)
		return -EOPNOTSUPP;   /* an attachment without a kernel link object */
	struct held_link *h = claim_link(o, id, prog_id, &rc);
	if (!h)
		return rc;
	h->kind = HELD_LIBBPF, h->link = l;
	*link_id = id;
	return 0;
}

int owned__add_link_fd(struct owned *o, int fd, uint32_t prog_id, uint32_t *link_id)
{
	uint32_t id = link_fd_id(fd);
	int rc;
	if (!id)
		return -EOPNOTSUPP;
	struct held_link *h = claim_link(o, id, prog_id, &rc);
	if (!h)
		return rc;
	h->kind = HELD_FD, h->fd = fd;
	*link_id = id;
	return 0;
}

int owned__add_tc(struct owned *o, const struct owned_tc *tc, uint32_t prog_id, uint32_t *link_id)
{
	int rc;
	if (o->next_local_link < OWNED_LOCAL_LINK_MIN)
		return -ENOSPC;       /* 2^31 local ids used up (wrapped) */
	struct held_link *h = claim_link(o, o->next_local_link, prog_id, &rc);
	if (!h)
		return rc;
	h->kind = HELD_TC, h->tc = *tc;
	*link_id = o->next_local_link++;
	return 0;
}

static int find_link(const struct owned *o, uint32_t link_id)
{
	for (unsigned i = 0; link_id && i < o->n_links; i++)
		if (o->links[i].link_id == link_id)
			return (int)i;
	return -1;
}

int owned__link(const struct owned *o, uint32_t link_id, int *fd, uint32_t *prog_id)
{
	int i = find_link(o, link_id);
	if (i < 0)
		return -ENOENT;
	const struct held_link *h = &o->links[i];
	*fd = h->kind == HELD_LIBBPF ? bpf_link__fd(h->link) : h->fd;
	*prog_id = h->prog_id;
	return 0;
}

int owned__link_tc(const struct owned *o, uint32_t link_id, struct owned_tc *tc)
{
	int i = find_link(o, link_id);
	if (i < 0 || o->links[i].kind != HELD_TC)
		return -ENOENT;
	*tc = o->links[i].tc;
	return 0;
}

int owned__destroy_link(struct owned *o, uint32_t link_id)
{
	int i = find_link(o, link_id);
	if (i < 0)
		return -ENOENT;
	drop_link(o, (unsigned)i);
	return 0;
}

/* ---- pins ------------------------------------------------------------------- */

static int find_pin(const struct owned *o, const char *path)
{
	for (unsigned i = 0; i < o->n_pins; i++)
		if (!strcmp(o->pins[i].path, path))
			return (int)i;
	return -1;
}

int owned__add_pin(struct owned *o, enum obj_kind k, uint32_t id, const char *path)
{
	size_t n = strlen(path);
	if (n >= LIMIT_PATH_BYTES)
		return -ENAMETOOLONG;
	int rc = grow((void **)&o->pins, &o->cap_pins, o->n_pins, sizeof(*o->pins), OWNED_MAX_PINS);
	if (rc)
		return rc;
	char *p = malloc(n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, path, n + 1);
	o->pins[o->n_pins++] = (struct held_pin){ .path = p, .kind = k, .id = id };
	return 0;
}

int owned__remove_pin(struct owned *o, const char *path)
{
	int i = find_pin(o, path);
	if (i < 0)
		return -ENOENT;
	free(o->pins[i].path);
	/* keep the order: the end-of-session report lists pins as they were made */
	memmove(&o->pins[i], &o->pins[i + 1], (o->n_pins - (unsigned)i - 1) * sizeof(*o->pins));
	o->n_pins--;
	return 0;
}

int owned__find_pin(const struct owned *o, const char *path, enum obj_kind *k, uint32_t *id)
{
	int i = find_pin(o, path);
	if (i < 0)
		return -ENOENT;
	*k = o->pins[i].kind, *id = o->pins[i].id;
	return 0;
}

const char *owned__pin_at(const struct owned *o, unsigned idx, enum obj_kind *k, uint32_t *id)
{
	if (idx >= o->n_pins)
		return NULL;
	*k = o->pins[idx].kind, *id = o->pins[idx].id;
	return o->pins[idx].path;
}

void owned__release_all(struct owned *o)
{
	while (o->n_links)
		drop_link(o, o->n_links - 1);
	while (o->n_objects)
		owned__close_object(o, o->objects[o->n_objects - 1].handle);
}
