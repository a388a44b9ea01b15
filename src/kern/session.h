/* The kernel objects this server process created (its session's objects).
 *
 * Tools that create programs, maps, links or BTF objects register their ids
 * here; inspect_state asks whether an id is ours, and shutdown walks the
 * registry to release what is still held. Ids are kept sorted per kind so a
 * lookup is a binary search (inspect_state asks once per object it lists).
 */
#ifndef EBPF_MCP_SESSION_H
#define EBPF_MCP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

enum session_kind { SESSION_PROG, SESSION_MAP, SESSION_LINK, SESSION_BTF, SESSION__KINDS };

/* Hard ceiling per kind; the per-session caps of the profile sit below it. */
#define SESSION_MAX_OBJECTS 1024

/* Records id as ours. 0; -EINVAL for id 0 or a bad kind; -EEXIST when it is
 * already recorded; -ENOSPC when SESSION_MAX_OBJECTS of that kind are held. */
int session__own(enum session_kind k, uint32_t id);
/* Forgets id (the object was destroyed or handed over). 0 or -ENOENT. */
int session__disown(enum session_kind k, uint32_t id);
bool session__owns(enum session_kind k, uint32_t id);
unsigned session__count(enum session_kind k);
/* The idx-th owned id of kind k in ascending order, or 0 past the end. */
uint32_t session__id_at(enum session_kind k, unsigned idx);
const char *session__kind_name(enum session_kind k);
/* Forgets everything (tests; after the objects were released). */
void session__reset(void);

/* ---- what this session holds open --------------------------------------
 *
 * load_program keeps each bpf_object under a handle (its programs and maps
 * are owned while it is open); attach_program keeps each bpf_link; pin_object
 * remembers what it pinned so shutdown can report it. The tables hold the
 * libbpf objects themselves: closing them is what releases the kernel's
 * objects, so nothing else may close them.
 */
struct bpf_object;
struct bpf_program;
struct bpf_link;

#define SESSION_MAX_HANDLES 256    /* objects open at once (below the caps) */
#define SESSION_MAX_PINS    256    /* pins remembered for the shutdown report */

/* Registers a loaded object: owns its programs' and maps' ids. map_bytes is
 * what it counts against map_memory_bytes. 0 and *handle (>= 1), -ENOSPC. */
int session__add_object(struct bpf_object *obj, uint64_t map_bytes, uint32_t *handle);
struct bpf_object *session__object(uint32_t handle);
/* The owned program with this id and the handle of its object, or NULL. */
struct bpf_program *session__program(uint32_t prog_id, uint32_t *handle);
/* Destroys the links of its programs, closes the object, disowns its ids.
 * 0 or -ENOENT. */
int session__close_object(uint32_t handle);
/* Handle of the idx-th open object (ascending), 0 past the end. */
uint32_t session__handle_at(unsigned idx);
uint64_t session__map_bytes(void);

/* Registers a link this session created on program prog_id. The link id is
 * read from the kernel: -EOPNOTSUPP when the attachment has no link object
 * (the caller still owns l then and must destroy it). */
int session__add_link(struct bpf_link *l, uint32_t prog_id, uint32_t *link_id);
/* The same for a link fd from bpf_link_create() (libbpf cannot wrap an fd
 * in a struct bpf_link): on success the session owns fd and closes it. */
int session__add_link_fd(int fd, uint32_t prog_id, uint32_t *link_id);

/* A tc filter on a clsact qdisc: an attachment with no kernel link object.
 * It gets a session-local id at or above SESSION_LOCAL_LINK_MIN, which no
 * kernel link id reaches (the kernel allocates them in [1, INT_MAX]). */
#define SESSION_LOCAL_LINK_MIN 0x80000000u
struct session_tc {
	int ifindex;
	bool egress;
	uint32_t handle, priority;  /* what bpf_tc_attach() chose */
};
int session__add_tc(const struct session_tc *tc, uint32_t prog_id, uint32_t *link_id);

/* An owned link: its fd (-1 for a tc filter) and program. 0 or -ENOENT. */
int session__link(uint32_t link_id, int *fd, uint32_t *prog_id);
/* Detaches an owned link: closes it (a tc filter is deleted only while it
 * still runs prog_id). 0, -ENOENT. */
int session__destroy_link(uint32_t link_id);
/* The remembered pin at path: 0 with *k, *id, or -ENOENT. */
int session__find_pin(const char *path, enum session_kind *k, uint32_t *id);

/* A pin this session made (kept for the shutdown report). */
int session__add_pin(enum session_kind k, uint32_t id, const char *path);
/* Forgets a pin (unpinned). 0 or -ENOENT. */
int session__remove_pin(const char *path);
/* idx-th remembered pin, or NULL past the end. */
const char *session__pin_at(unsigned idx, enum session_kind *k, uint32_t *id);

/* Detaches every link, closes every object (called at shutdown). */
void session__release_all(void);

/* ---- journal: what one tool call created and destroyed (audit log) ---- */
#define SESSION_JOURNAL_MAX 256

struct session_event {
	enum session_kind kind;
	uint32_t id;
	bool created;             /* false: destroyed */
};

void session__journal_reset(void);
/* Events since the last reset; *dropped counts those past the journal. */
unsigned session__journal(const struct session_event **ev, unsigned *dropped);

#endif
