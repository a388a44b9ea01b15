/* The event loop: file descriptors, timers and signals, nothing else.
 *
 * One thread runs it. A descriptor is watched with a callback and a mask
 * (EPOLLIN/EPOLLOUT); its slot is indexed by the descriptor number (redis
 * ae.c: slots allocated once, at start-up), so an event still pending for a
 * descriptor unwatched earlier in the same pass is dropped, never delivered
 * to freed state. A descriptor epoll cannot watch (a regular file, such as
 * the CLI's in-memory stdin) counts as always ready for the mask it is
 * watched with. Timers are caller-owned nodes on a list sorted by time.
 * SIGINT, SIGTERM and SIGHUP arrive through a signalfd.
 */
#ifndef EBPF_MCP_LOOP_H
#define EBPF_MCP_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#define LOOP_EVENTS_PER_WAKE 64     /* epoll events taken per wake-up */

typedef void (*loop_io_fn)(void *data, int fd, uint32_t events);
typedef void (*loop_timer_fn)(void *data);
typedef void (*loop_signal_fn)(void *data, int signo);

struct loop_timer {
	uint64_t when_ns;
	loop_timer_fn fn;
	void *data;
	struct loop_timer *prev, *next;
	bool armed;
};

struct loop_slot {
	loop_io_fn fn;
	void *data;
	uint32_t mask;        /* what the caller wants now (0: paused) */
	bool used;
	bool always_ready;    /* not pollable: ready for any mask */
};

struct loop {
	int ep;
	unsigned max_fds;
	struct loop_slot *slots;   /* max_fds of them */
	unsigned n_always;         /* always-ready slots with a mask set */
	struct loop_timer *timers; /* sorted by when_ns */
	int sig_fd;
	loop_signal_fn sig_fn;
	void *sig_data;
	bool stop;
	uint64_t wakeups;
};

/* max_fds: descriptors numbered below it can be watched. 0 or -errno. */
int loop__init(struct loop *l, unsigned max_fds);
void loop__fini(struct loop *l);
/* Watches fd with mask (may be 0: registered, paused). 0, -EMFILE (fd over
 * max_fds), -EEXIST, or epoll's error. */
int loop__watch(struct loop *l, int fd, uint32_t mask, loop_io_fn fn, void *data);
/* Changes what fd is watched for. */
void loop__mask(struct loop *l, int fd, uint32_t mask);
uint32_t loop__get_mask(const struct loop *l, int fd);
void loop__unwatch(struct loop *l, int fd);
/* Arms (or re-arms) t to call fn(data) at when_ns (CLOCK_MONOTONIC). */
void loop__timer_at(struct loop *l, struct loop_timer *t, uint64_t when_ns, loop_timer_fn fn, void *data);
void loop__timer_stop(struct loop *l, struct loop_timer *t);
/* Blocks SIGINT, SIGTERM, SIGHUP (and ignores SIGPIPE) and delivers them to
 * fn. 0 or -errno. */
int loop__signals(struct loop *l, loop_signal_fn fn, void *data);
/* Runs until loop__stop. */
void loop__run(struct loop *l);
void loop__stop(struct loop *l);

#endif
