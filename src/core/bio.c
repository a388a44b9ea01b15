/* Worker threads and their completion queue (see bio.h). */
#define _GNU_SOURCE
#include "bio.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../assert.h"

struct fifo {
	struct bio_task *head, *tail;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake[BIO_THREADS_MAX];   /* one per worker: the one woken is chosen */
	bool waiting[BIO_THREADS_MAX];
	unsigned idle[BIO_THREADS_MAX], n_idle; /* waiting workers, the last to go idle on top */
	struct fifo todo, done;
	unsigned in_flight;          /* submitted, until done() ran (or run() for fire-and-forget) */
	bool stopping;
	int efd;
	struct loop *loop;
	pthread_t threads[BIO_THREADS_MAX];
	void *data[BIO_THREADS_MAX];
	unsigned n;
} bio = { .lock = PTHREAD_MUTEX_INITIALIZER, .efd = -1 };

static void push(struct fifo *f, struct bio_task *t)
{
	t->next = NULL;
	if (f->tail)
		f->tail->next = t;
	else
		f->head = t;
	f->tail = t;
}

static struct bio_task *pop(struct fifo *f)
{
	struct bio_task *t = f->head;
	if (t && !(f->head = t->next))
		f->tail = NULL;
	return t;
}

static void wake_loop(void)
{
	uint64_t one = 1;
	ssize_t w = write(bio.efd, &one, sizeof(one));
	(void)w;   /* a counter at its maximum still wakes the loop */
}

/* Waits (under the lock) until bio__submit picks worker i or the pool stops. */
static void wait_for_work(unsigned i)
{
	bio.idle[bio.n_idle++] = i;
	bio.waiting[i] = true;
	while (bio.waiting[i] && !bio.stopping)
		pthread_cond_wait(&bio.wake[i], &bio.lock);
}

static void *worker(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	void *data = bio.data[i];
	pthread_mutex_lock(&bio.lock);
	for (;;) {
		struct bio_task *t;
		while (!(t = pop(&bio.todo)) && !bio.stopping)
			wait_for_work(i);
		if (!t)
			break;
		pthread_mutex_unlock(&bio.lock);
		/* done is read first: a fire-and-forget run() frees t */
		bool has_done = t->done != NULL;
		t->run(t, data);
		pthread_mutex_lock(&bio.lock);
		if (has_done)
			push(&bio.done, t);
		else
			bio.in_flight--;
		wake_loop();
	}
	pthread_mutex_unlock(&bio.lock);
	return NULL;
}

/* The loop's side: done() of every finished task, in finishing order. */
static void on_done(void *data, int fd, uint32_t events)
{
	(void)data, (void)events;
	uint64_t n;
	ssize_t r = read(fd, &n, sizeof(n));
	(void)r;
	pthread_mutex_lock(&bio.lock);
	struct fifo done = bio.done;
	bio.done = (struct fifo){ 0 };
	pthread_mutex_unlock(&bio.lock);
	for (struct bio_task *t; (t = pop(&done));) {
		/* counted out first: a done() may ask whether work is left */
		pthread_mutex_lock(&bio.lock);
		bio.in_flight--;
		pthread_mutex_unlock(&bio.lock);
		t->done(t);
	}
}

int bio__start(struct loop *l, unsigned n, void *(*worker_init)(unsigned i))
{
	ASSERT(n >= 1 && n <= BIO_THREADS_MAX && !bio.n);
	bio.loop = l;
	bio.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bio.efd < 0)
		return -errno;
	int rc = loop__watch(l, bio.efd, EPOLLIN, on_done, NULL);
	if (rc)
		return rc;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, BIO_STACK_BYTES);
	for (unsigned i = 0; i < n; i++) {
		bio.data[i] = worker_init(i);
		if (!bio.data[i]) {
			rc = -ENOMEM;
			break;
		}
		pthread_cond_init(&bio.wake[i], NULL);
		if ((rc = -pthread_create(&bio.threads[i], &attr, worker, (void *)(uintptr_t)i)))
			break;
		bio.n++;
	}
	pthread_attr_destroy(&attr);
	return rc;
}

void bio__submit(struct bio_task *t)
{
	ASSERT(t->run && bio.n);
	pthread_mutex_lock(&bio.lock);
	push(&bio.todo, t);
	bio.in_flight++;
	/* the worker that went idle last: its buffers are still in memory and
	 * in cache (one client's calls in a row kept faulting in the buffers of
	 * every worker in turn: a tenth of a 1M-entry dump's time) */
	if (bio.n_idle) {
		unsigned i = bio.idle[--bio.n_idle];
		bio.waiting[i] = false;
		pthread_cond_signal(&bio.wake[i]);
	}
	pthread_mutex_unlock(&bio.lock);
}

unsigned bio__in_flight(void)
{
	pthread_mutex_lock(&bio.lock);
	unsigned n = bio.in_flight;
	pthread_mutex_unlock(&bio.lock);
	return n;
}

unsigned bio__threads(void)
{
	return bio.n;
}

void bio__stop(void)
{
	pthread_mutex_lock(&bio.lock);
	bio.stopping = true;
	for (unsigned i = 0; i < bio.n; i++)
		pthread_cond_signal(&bio.wake[i]);
	pthread_mutex_unlock(&bio.lock);
	for (unsigned i = 0; i < bio.n; i++) {
		pthread_join(bio.threads[i], NULL);
		pthread_cond_destroy(&bio.wake[i]);
	}
	bio.n = 0;
	bio.n_idle = 0;
	bio.stopping = false;
	if (bio.loop && bio.efd >= 0)
		loop__unwatch(bio.loop, bio.efd);
	if (bio.efd >= 0)
		close(bio.efd);
	bio.efd = -1;
}
