/* Tool calls that run over time: the job table the event loop drives.
 *
 * A job is a tools/call whose handler returned tool__defer(). It keeps the
 * request's id (to answer it), its progressToken, a bounded copy of its
 * arguments (for the audit line), the descriptors it watches and its clocks:
 * its own end (duration), the call deadline (call_ms) and the next tick.
 * The loop calls job__ready for a readable descriptor and job__timers after
 * every wake-up; a job that ends is answered and released in the same pass.
 */
#ifndef EBPF_MCP_JOB_H
#define EBPF_MCP_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../limits.h"
#include "../tools/tool.h"

#define JOB_SLOTS   16        /* the jobs limit's hard maximum */
#define JOB_TICK_MS 100       /* progress / tick period */

_Static_assert(JOB_SLOTS >= 16, "the jobs limit allows up to 16");

struct job {
	bool used;
	const struct tool *tool;
	const struct job_ops *ops;
	void *st;
	char id[LIMIT_ID_BYTES];          /* raw JSON of the request id */
	size_t id_len;
	char token[LIMIT_ID_BYTES];       /* raw JSON of _meta.progressToken */
	size_t token_len;
	char *args;                       /* first audit_arg_bytes of the arguments (heap) */
	size_t args_len;                  /* their full length */
	int fds[JOB_MAX_FDS];
	unsigned n_fds;
	uint64_t t0_ns, end_ns, deadline_ns, tick_ns;
};

struct server;

/* Epoll tags: stdin and the signalfd use these, jobs the ones above. */
#define JOB_TAG_STDIN  0ull
#define JOB_TAG_SIGNAL 1ull
#define JOB_TAG_BASE   2ull
#define JOB_TAG(slot, i) (JOB_TAG_BASE + (uint64_t)(slot) * JOB_MAX_FDS + (i))

unsigned job__count(const struct server *s);
/* Milliseconds until the next timer of any job (-1: no job). */
int job__timeout_ms(const struct server *s);
/* A job descriptor (by epoll tag) became readable. */
void job__ready(struct server *s, uint64_t tag);
/* Runs due durations, deadlines and ticks. */
void job__timers(struct server *s);
/* notifications/cancelled: ends the job answering that id, without a reply.
 * true when there was one. */
bool job__cancel(struct server *s, const char *id, size_t id_len);
/* Releases every job without answering (EOF, signal). */
void job__cancel_all(struct server *s, const char *why);

#endif
