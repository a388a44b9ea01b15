/* The stack tracers' common userspace (profile_cpu, offcpu_profile): their
 * kernel rows merged per process, stacks read from the stack map and
 * symbolized (kernel frames from /proc/kallsyms, user frames from the
 * processes' ELF files), folded lines for flame graphs, and the process
 * notices that read a memory map while the process still lives.
 *
 * The BPF side is bpf/stacks.bpf.h; the shared records bpf/stacks.h. */
#ifndef EBPF_MCP_STACKPROF_H
#define EBPF_MCP_STACKPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stacks.h"   /* bpf/stacks.h (-Ibpf) */
#include "tracer_run.h"

#define STACKPROF_MSG_BYTES 192

/* One run's symbolizer. usyms lives for the whole run: processes are
 * pinned into it as their notices arrive. */
struct stackprof {
	int fd;                           /* the stack map */
	uint64_t max_lines;               /* of /proc/kallsyms (the scan_items limit) */
	/* Kernel stacks were taken in a tracepoint's BPF program: their
	 * innermost frames are the tracing path itself (the program,
	 * bpf_trace_run<n>, __bpf_trace_<tp>, __traceiter_<tp>) and are left out. */
	bool trim_tracing;
	struct ksyms *k;                  /* loaded at the first kernel frame */
	bool k_tried;
	const char *k_problem;            /* why kernel frames stay addresses */
	char k_msg[STACKPROF_MSG_BYTES];
	struct usyms *u;
	uint64_t pinned;                  /* memory maps read as processes appeared */
	uint64_t pin_failed;              /* processes gone (or past the bound) before that */
};

/* A (process, kernel stack, user stack), its threads' values added up. */
struct stackprof_row {
	uint32_t tgid;
	int32_t kid, uid;                 /* stack ids, or -errno */
	uint64_t weight;                  /* what rows are sorted by: samples, blocked ns */
	uint64_t count;                   /* samples, blocks */
	uint64_t max;                     /* the tracer's own (offcpu_profile: the longest block) */
	uint32_t states;                  /* the tracer's own (offcpu_profile: OFFCPU_STATE_*) */
	uint64_t top;                     /* the heaviest thread's weight: its comm is kept */
	char comm[TRACER_COMM_BYTES];
};

/* Adds one thread's map value to row; returns that thread's weight. */
typedef uint64_t (*stackprof_add_fn)(struct stackprof_row *row, const void *value);

struct stackprof_frame {
	uint64_t addr;
	const char *name;                 /* function, or NULL */
	const char *mod;                  /* kernel module or user file, or NULL */
	uint64_t off;                     /* from name, else from mod */
};

/* The kernel or the user half of a stack. */
struct stackprof_side {
	struct stackprof_frame f[STACKS_DEPTH];
	unsigned n;
	bool lost;                        /* there was such a stack but it was not stored */
	const char *error;
	char msg[STACKPROF_MSG_BYTES];
};

/* A growing text buffer; oom once an allocation failed (then it stays). */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* 0 or -ENOMEM. */
int stackprof__init(struct stackprof *st);
void stackprof__fini(struct stackprof *st);
/* A struct stacks_notice from the ring: pins the process's memory map. */
int stackprof__notice(struct stackprof *st, const void *data, size_t size);

/* The map of struct stacks_key rows merged per process, heaviest first;
 * *total is every thread's weight. NULL with *n 0 when empty; *err -ENOMEM. */
struct stackprof_row *stackprof__rows(struct bpf_map *map, stackprof_add_fn add, size_t *n, uint64_t *total, int *err);

/* The first `max` frames of a stack, symbolized. */
void stackprof__kernel(struct stackprof *st, int32_t id, unsigned max, struct stackprof_side *sd);
void stackprof__user(struct stackprof *st, uint32_t tgid, int32_t id, unsigned max, struct stackprof_side *sd);

/* Writes pid, comm, folded ("comm;outermost;...;innermost value"),
 * kernel[], user[] and kernel_error/user_error as members of the open
 * object. */
void stackprof__write_row(struct jw *w, struct stackprof *st, const struct stackprof_row *row, uint64_t value,
		       struct sbuf *b);
/* A frame without its offset: "func", "func [module]" in the kernel, the
 * file when the function is unknown, or "[unknown]". */
void stackprof__frame_name(struct sbuf *b, const struct stackprof_frame *f, bool kernel);

void sbuf__put(struct sbuf *b, const char *s, size_t n);
void sbuf__str(struct sbuf *b, const char *s);

#endif
