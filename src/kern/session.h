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

#endif
