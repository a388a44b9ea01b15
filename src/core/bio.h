/* Background work: slow kernel calls run on worker threads, never on the
 * loop (redis bio.c).
 *
 * A task's run() executes on one of the workers; its done() then runs on
 * the loop thread, woken through an eventfd, in the order tasks finished.
 * Tasks are caller-owned nodes (no allocation here). A task with no done()
 * is fire-and-forget (its run() frees it): releases nobody waits for.
 * Each worker has its own data (the reply buffers of mcp/), made once by
 * the init callback when the pool starts.
 */
#ifndef EBPF_MCP_BIO_H
#define EBPF_MCP_BIO_H

#include <stdint.h>

#include "loop.h"

#define BIO_THREADS_MAX   32                  /* the workers limit's hard maximum */
#define BIO_STACK_BYTES   (4u * 1024 * 1024)  /* libbpf and libelf recurse; reserved, touched lazily */

struct bio_task {
	void (*run)(struct bio_task *t, void *worker);
	void (*done)(struct bio_task *t);
	struct bio_task *next;
};

/* Starts n workers (1..BIO_THREADS_MAX) whose completions wake loop l.
 * worker_init(i) returns worker i's data (NULL: failure). Signals must be
 * blocked before (loop__signals) so no worker takes them. 0 or -errno. */
int bio__start(struct loop *l, unsigned n, void *(*worker_init)(unsigned i));
/* Queues t (any thread). */
void bio__submit(struct bio_task *t);
/* Tasks queued or running, plus finished ones whose done() has not run. */
unsigned bio__in_flight(void);
/* Waits for the queue to empty, then joins the workers. */
void bio__stop(void);
/* Workers started (0 before bio__start). */
unsigned bio__threads(void);

#endif
