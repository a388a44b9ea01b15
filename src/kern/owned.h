/* The kernel objects one session created, and the totals over all of them.
 *
 * Each MCP session has its own registry (struct owned): the ids of the
 * programs, maps, links and BTF objects it created (so inspect_state can
 * say "owned" and detach/unload/unpin/map writes can refuse another
 * session's objects), the libbpf objects it holds open (closing them is what
 * frees the kernel's objects), the pins it made (reported when it ends) and
 * a journal of what the current call created and destroyed (audit log).
 * One session's calls run one at a time, so a registry needs no lock; its
 * memory grows with what it holds, so an idle session costs almost nothing.
 *
 * The totals over every live registry (programs_total, maps_total,
 * links_total, map_memory_bytes_total) are shared and locked. A call that
 * is about to create objects admits them first (owned__admit): the session
 * caps and the totals are checked and the numbers reserved until the call
 * has registered what it made, so two sessions loading at once cannot both
 * pass a check that only one of them fits.
 */
#ifndef EBPF_MCP_OWNED_H
#define EBPF_MCP_OWNED_H

#include <stdbool.h>
#include <stdint.h>

#include "../limits.h"

#include "kinds.h"

/* Hard ceiling of ids per kind in one session; the caps sit below it. */
#define OWNED_MAX_OBJECTS 1024
#define OWNED_MAX_HANDLES 256    /* loaded objects open at once */
#define OWNED_MAX_PINS    256    /* pins remembered for the end-of-session report */
#define OWNED_JOURNAL_MAX 256    /* created/destroyed events of one call */

struct owned;

struct owned *owned__new(void);
/* Frees the registry itself (release_all first: it does not close objects). */
void owned__free(struct owned *o);

/* Records id as ours. 0; -EINVAL for id 0 or a bad kind; -EEXIST when it is
 * already recorded; -ENOSPC at OWNED_MAX_OBJECTS; -ENOMEM. */
int owned__own(struct owned *o, enum obj_kind k, uint32_t id);
/* Forgets id (the object was destroyed or handed over). 0 or -ENOENT. */
int owned__disown(struct owned *o, enum obj_kind k, uint32_t id);
bool owned__owns(const struct owned *o, enum obj_kind k, uint32_t id);
unsigned owned__count(const struct owned *o, enum obj_kind k);
/* The idx-th owned id of kind k in ascending order, or 0 past the end. */
uint32_t owned__id_at(const struct owned *o, enum obj_kind k, unsigned idx);
const char *owned__kind_name(enum obj_kind k);

/* ---- admission: session caps and totals, checked and reserved --------- */

struct owned_need {
	unsigned programs, maps, links;
	uint64_t map_bytes;
};

/* Checks that this session and all sessions together can hold need more:
 * 0 with the numbers reserved, or -ENOSPC with *hit the cap that refuses
 * (and *held what is held against it). Every successful admit is followed
 * by exactly one owned__unadmit(need) once the call has registered (or
 * failed to make) its objects. */
int owned__admit(const struct owned *o, const struct owned_need *need, enum limit_id *hit, uint64_t *held);
void owned__unadmit(const struct owned_need *need);

struct owned_totals {
	unsigned programs, maps, links;
	uint64_t map_bytes;
};
/* What every session holds, together. */
void owned__totals(struct owned_totals *t);

/* ---- what this session holds open -------------------------------------
 *
 * load_program keeps each bpf_object under a handle (its programs and maps
 * are owned while it is open); attach_program keeps each bpf_link; pin_object
 * remembers what it pinned. Closing what these tables hold is what releases
 * the kernel's objects, so nothing else may close them.
 */
struct bpf_object;
struct bpf_program;
struct bpf_link;

/* Registers a loaded object: owns its programs' and maps' ids. map_bytes is
 * what it counts against the map memory caps. 0 and *handle (>= 1), -ENOSPC,
 * -ENOMEM. */
int owned__add_object(struct owned *o, struct bpf_object *obj, uint64_t map_bytes, uint32_t *handle);
struct bpf_object *owned__object(const struct owned *o, uint32_t handle);
/* The owned program with this id and the handle of its object, or NULL. */
struct bpf_program *owned__program(const struct owned *o, uint32_t prog_id, uint32_t *handle);
/* Destroys the links of its programs, closes the object, disowns its ids.
 * 0 or -ENOENT. */
int owned__close_object(struct owned *o, uint32_t handle);
/* Handle of the idx-th open object (ascending), 0 past the end. */
uint32_t owned__handle_at(const struct owned *o, unsigned idx);
uint64_t owned__map_bytes(const struct owned *o);

/* Registers a link this session created on program prog_id. The link id is
 * read from the kernel: -EOPNOTSUPP when the attachment has no link object
 * (the caller still owns l then and must destroy it). */
int owned__add_link(struct owned *o, struct bpf_link *l, uint32_t prog_id, uint32_t *link_id);
/* The same for a link fd from bpf_link_create() (libbpf cannot wrap an fd
 * in a struct bpf_link): on success the session owns fd and closes it. */
int owned__add_link_fd(struct owned *o, int fd, uint32_t prog_id, uint32_t *link_id);

/* A tc filter on a clsact qdisc: an attachment with no kernel link object.
 * It gets a session-local id at or above OWNED_LOCAL_LINK_MIN, which no
 * kernel link id reaches (the kernel allocates them in [1, INT_MAX]). */
#define OWNED_LOCAL_LINK_MIN 0x80000000u
struct owned_tc {
	int ifindex;
	bool egress;
	uint32_t handle, priority;  /* what bpf_tc_attach() chose */
};
int owned__add_tc(struct owned *o, const struct owned_tc *tc, uint32_t prog_id, uint32_t *link_id);

/* An owned link: its fd (-1 for a tc filter) and program. 0 or -ENOENT. */
int owned__link(const struct owned *o, uint32_t link_id, int *fd, uint32_t *prog_id);
/* The interface, direction and filter of an owned clsact filter. 0, or
 * -ENOENT when link_id is not one. */
int owned__link_tc(const struct owned *o, uint32_t link_id, struct owned_tc *tc);
/* Detaches an owned link: closes it (a tc filter is deleted only while it
 * still runs prog_id). 0, -ENOENT. */
int owned__destroy_link(struct owned *o, uint32_t link_id);

/* A pin this session made (kept for the end-of-session report). */
int owned__add_pin(struct owned *o, enum obj_kind k, uint32_t id, const char *path);
/* Forgets a pin (unpinned). 0 or -ENOENT. */
int owned__remove_pin(struct owned *o, const char *path);
/* The remembered pin at path: 0 with *k, *id, or -ENOENT. */
int owned__find_pin(const struct owned *o, const char *path, enum obj_kind *k, uint32_t *id);
/* idx-th remembered pin, or NULL past the end. */
const char *owned__pin_at(const struct owned *o, unsigned idx, enum obj_kind *k, uint32_t *id);

/* Detaches every link, closes every object (the session's end). */
void owned__release_all(struct owned *o);

/* ---- journal: what one tool call created and destroyed (audit log) ---- */

struct owned_event {
	enum obj_kind kind;
	uint32_t id;
	bool created;             /* false: destroyed */
};

void owned__journal_reset(struct owned *o);
/* Events since the last reset; *dropped counts those past the journal. */
unsigned owned__journal(const struct owned *o, const struct owned_event **ev, unsigned *dropped);

#endif
