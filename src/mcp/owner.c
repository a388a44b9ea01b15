/* What modern-era calls create: owned by the caller's identity, under
 * leases.
 *
 * MCP 2026-07-28 is stateless: a request may come on any connection, so
 * what it creates (a loaded object and its handle, a link, a pin) cannot
 * belong to the connection. It belongs to the caller's identity (its uid on
 * the daemon's socket or on stdio): every modern call of that identity
 * sees the same registry and handles, from any session. The registry is
 * leased: each modern call renews it, and once no call has come for
 * lease_ms everything it holds is released on a worker (pins stay in
 * bpffs, as always). Calls of one identity run one at a time (its lock);
 * calls of different identities and legacy sessions run in parallel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcp.h"

#include "../assert.h"
#include "../core/clock.h"
#include "../kern/owned.h"
#include "../sys/audit.h"

#define OWNERS_MAX 4096   /* identities with a registry at once (the sessions cap's maximum) */

struct owner {
	struct owner *next;
	struct server *srv;
	struct identity who;
	struct owned *objs;
	pthread_mutex_t lock;      /* held by the worker running this identity's call */
	uint64_t idle_since_ns;    /* the end of its last call */
	unsigned busy;             /* calls in flight (loop thread) */
	bool releasing;
	struct bio_task task;
	uint64_t id;               /* for the audit log */
};

static bool same(const struct identity *a, const struct identity *b)
{
	if (a->kind != b->kind)
		return false;
	return a->kind == IDENT_PEER ? a->uid == b->uid : !strcmp(a->user, b->user);
}

static void arm(struct server *srv);

static void released(struct bio_task *t)
{
	struct owner *o = (struct owner *)((char *)t - offsetof(struct owner, task));
	struct server *srv = o->srv;
	struct owner **at = &srv->owners;
	while (*at && *at != o)
		at = &(*at)->next;
	ASSERT(*at == o);
	*at = o->next;
	srv->n_owners--;
	pthread_mutex_destroy(&o->lock);
	free(o);
	arm(srv);
	server__maybe_stop(srv);
}

static void release_run(struct bio_task *t, void *w)
{
	(void)w;
	struct owner *o = (struct owner *)((char *)t - offsetof(struct owner, task));
	unsigned progs = owned__count(o->objs, OBJ_PROG), maps = owned__count(o->objs, OBJ_MAP);
	unsigned links = owned__count(o->objs, OBJ_LINK);
	pthread_mutex_lock(&o->lock);
	owned__release_all(o->objs);
	pthread_mutex_unlock(&o->lock);
	const char *why = o->srv->stopping ? "server stops" : "lease expired";
	audit__shutdown(o->id, &o->who, why, progs, maps, links, o->objs);
	if (progs || maps || links)
		session__log(NULL, LOG_NOTICE, "uid %u's modern-era objects released (%s): %u programs, %u maps, %u links",
			     o->who.uid, why, progs, maps, links);
	owned__free(o->objs);
}

static void release(struct owner *o)
{
	ASSERT(!o->busy && !o->releasing);
	o->releasing = true;
	bgtrace__end_owner(o->srv, o->id, o->srv->stopping ? "server stops" : "lease expired");
	o->task = (struct bio_task){ .run = release_run, .done = released };
	bio__submit(&o->task);
}

/* The loop's lease timer: releases every idle owner whose lease ran out. */
static void on_lease(void *data)
{
	struct server *srv = data;
	uint64_t now = now_ns(), lease = limits[LIM_LEASE_MS] * NS_PER_MS;
	for (struct owner *o = srv->owners; o; o = o->next)
		if (!o->busy && !o->releasing && now - o->idle_since_ns >= lease)
			release(o);
	arm(srv);
}

static void arm(struct server *srv)
{
	uint64_t next = UINT64_MAX, lease = limits[LIM_LEASE_MS] * NS_PER_MS;
	for (struct owner *o = srv->owners; o; o = o->next)
		if (!o->busy && !o->releasing && o->idle_since_ns + lease < next)
			next = o->idle_since_ns + lease;
	if (next == UINT64_MAX)
		loop__timer_stop(&srv->loop, &srv->lease_timer);
	else
		loop__timer_at(&srv->loop, &srv->lease_timer, next, on_lease, srv);
}

struct owner *owner__enter(struct server *srv, const struct identity *who)
{
	struct owner *o = srv->owners;
	while (o && (o->releasing || !same(&o->who, who)))
		o = o->next;
	if (!o && srv->n_owners < OWNERS_MAX && (o = calloc(1, sizeof(*o)))) {
		if (!(o->objs = owned__new())) {
			free(o);
			return NULL;
		}
		pthread_mutex_init(&o->lock, NULL);
		o->srv = srv, o->who = *who;
		o->id = ((uint64_t)getpid() << 32) | (0x80000000u | ++srv->next_session);
		o->next = srv->owners;
		srv->owners = o;
		srv->n_owners++;
	}
	if (o)
		o->busy++;
	return o;
}

void owner__leave(struct owner *o)
{
	ASSERT(o->busy > 0);
	o->busy--;
	o->idle_since_ns = now_ns();
	if (!o->busy && o->srv->stopping)
		release(o);
	else
		arm(o->srv);
}

struct owned *owner__lock(struct owner *o)
{
	pthread_mutex_lock(&o->lock);
	return o->objs;
}

void owner__unlock(struct owner *o)
{
	pthread_mutex_unlock(&o->lock);
}

uint64_t owner__id(const struct owner *o)
{
	return o->id;
}

void owner__stop_all(struct server *srv)
{
	for (struct owner *o = srv->owners; o; o = o->next)
		if (!o->busy && !o->releasing)
			release(o);
}
