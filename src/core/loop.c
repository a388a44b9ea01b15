/* The event loop (see loop.h). */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../assert.h"
#include "clock.h"

#define LOOP_SIG_TAG UINT32_MAX   /* the signalfd's tag in epoll data */

int loop__init(struct loop *l, unsigned max_fds)
{
	memset(l, 0, sizeof(*l));
	l->sig_fd = -1;
	l->max_fds = max_fds;
	l->slots = calloc(max_fds, sizeof(*l->slots));
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!l->slots || l->ep < 0) {
		int err = l->slots ? -errno : -ENOMEM;
		loop__fini(l);
		return err;
	}
	return 0;
}

void loop__fini(struct loop *l)
{
	if (l->ep >= 0)
		close(l->ep);
	if (l->sig_fd >= 0)
		close(l->sig_fd);
	free(l->slots);
	l->slots = NULL;
	l->ep = l->sig_fd = -1;
}

static struct loop_slot *slot(const struct loop *l, int fd)
{
	ASSERT(fd >= 0 && (unsigned)fd < l->max_fds);
	return &l->slots[fd];
}

int loop__watch(struct loop *l, int fd, uint32_t mask, loop_io_fn fn, void *data)
{
	if (fd < 0 || (unsigned)fd >= l->max_fds)
		return -EMFILE;
	struct loop_slot *s = &l->slots[fd];
	if (s->used)
		return -EEXIST;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)fd };
	bool always = false;
	/* added once to learn whether epoll can watch it at all */
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev)) {
		if (errno != EPERM)
			return -errno;
		always = true;   /* a regular file: reads and writes never wait */
	} else {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	}
	*s = (struct loop_slot){ .fn = fn, .data = data, .used = true, .always_ready = always };
	loop__mask(l, fd, mask);
	return 0;
}

/* A paused descriptor leaves the epoll set: epoll reports EPOLLHUP and
 * EPOLLERR even for an empty mask, and level-triggered it would spin. */
void loop__mask(struct loop *l, int fd, uint32_t mask)
{
	struct loop_slot *s = slot(l, fd);
	ASSERT(s->used);
	if (s->mask == mask)
		return;
	if (s->always_ready) {
		l->n_always += !s->mask && mask;
		l->n_always -= s->mask && !mask;
	} else {
		struct epoll_event ev = { .events = mask, .data.u32 = (uint32_t)fd };
		int op = !mask ? EPOLL_CTL_DEL : s->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
		epoll_ctl(l->ep, op, fd, op == EPOLL_CTL_DEL ? NULL : &ev);
	}
	s->mask = mask;
}

uint32_t loop__get_mask(const struct loop *l, int fd)
{
	return slot(l, fd)->mask;
}

void loop__unwatch(struct loop *l, int fd)
{
	struct loop_slot *s = slot(l, fd);
	if (!s->used)
		return;
	loop__mask(l, fd, 0);
	*s = (struct loop_slot){ 0 };
}

void loop__timer_stop(struct loop *l, struct loop_timer *t)
{
	if (!t->armed)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	t->armed = false;
}

void loop__timer_at(struct loop *l, struct loop_timer *t, uint64_t when_ns, loop_timer_fn fn, void *data)
{
	loop__timer_stop(l, t);
	t->when_ns = when_ns, t->fn = fn, t->data = data, t->armed = true;
	struct loop_timer **at = &l->timers, *prev = NULL;
	while (*at && (*at)->when_ns <= when_ns)
		prev = *at, at = &(*at)->next;
	t->next = *at;
	t->prev = prev;
	if (*at)
		(*at)->prev = t;
	*at = t;
}

int loop__signals(struct loop *l, loop_signal_fn fn, void *data)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* blocked before any thread starts, so no thread takes them */
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	l->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sig_fd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LOOP_SIG_TAG };
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->sig_fd, &ev))
		return -errno;
	l->sig_fn = fn, l->sig_data = data;
	return 0;
}

void loop__stop(struct loop *l)
{
	l->stop = true;
}

static int timeout_ms(const struct loop *l)
{
	if (l->n_always)
		return 0;
	if (!l->timers)
		return -1;
	uint64_t now = now_ns(), when = l->timers->when_ns;
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void run_timers(struct loop *l)
{
	uint64_t now = now_ns();
	/* a timer armed by a callback for now or earlier runs on the next pass */
	unsigned budget = 1024;
	while (l->timers && l->timers->when_ns <= now && budget--) {
		struct loop_timer *t = l->timers;
		loop__timer_stop(l, t);
		t->fn(t->data);
	}
}

static void on_signal(struct loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->sig_fd, &si, sizeof(si)) == sizeof(si))
		if (l->sig_fn)
			l->sig_fn(l->sig_data, (int)si.ssi_signo);
}

/* Descriptors epoll cannot watch are offered every pass they are unpaused. */
static void run_always_ready(struct loop *l)
{
	for (unsigned fd = 0; fd < l->max_fds && l->n_always && !l->stop; fd++) {
		struct loop_slot *s = &l->slots[fd];
		if (s->used && s->always_ready && s->mask)
			s->fn(s->data, (int)fd, s->mask);
	}
}

void loop__run(struct loop *l)
{
	struct epoll_event evs[LOOP_EVENTS_PER_WAKE];
	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->ep, evs, LOOP_EVENTS_PER_WAKE, timeout_ms(l));
		if (n < 0 && errno != EINTR)
			break;
		l->wakeups++;
		for (int k = 0; k < n && !l->stop; k++) {
			uint32_t tag = evs[k].data.u32;
			if (tag == LOOP_SIG_TAG) {
				on_signal(l);
				continue;
			}
			struct loop_slot *s = &l->slots[tag];
			/* unwatched (or paused) earlier in this pass: dropped */
			uint32_t ev = evs[k].events & (s->mask | EPOLLERR | EPOLLHUP | EPOLLRDHUP);
			if (s->used && ev && s->mask)
				s->fn(s->data, (int)tag, ev);
		}
		if (!l->stop)
			run_always_ready(l);
		if (!l->stop)
			run_timers(l);
	}
}
