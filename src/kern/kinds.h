/* The four kinds of BPF kernel object, one enum for every table that
 * indexes by kind (the session registry, object info, inspect_state). */
#ifndef EBPF_MCP_KINDS_H
#define EBPF_MCP_KINDS_H

enum obj_kind { OBJ_PROG, OBJ_MAP, OBJ_LINK, OBJ_BTF, OBJ__KINDS };

#endif
