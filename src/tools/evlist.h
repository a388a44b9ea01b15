/* A bounded list of events as JSON, built while a job runs.
 *
 * Events are written one at a time into a small buffer, then appended
 * comma-joined to the list if they fit. The list's size is chosen so that
 * the reply that carries it (structuredContent + its escaped text copy)
 * stays under response_bytes: once full it stops and every later event is counted, not
 * kept. Nothing is cut: an event is whole in the list or counted out.
 */
#ifndef EBPF_MCP_EVLIST_H
#define EBPF_MCP_EVLIST_H

#include <stdint.h>

#include "../json/json.h"

#define EVLIST_EVENT_BYTES (64 * 1024)   /* one event's JSON; bigger ones are counted too_big */

struct evlist {
	char *buf;                /* comma-joined event objects */
	size_t len, cap;          /* cap: half the reply bytes the list may take */
	size_t text_len;          /* the same in the reply's text copy, escaped */
	char *one;                /* EVLIST_EVENT_BYTES: the event being written */
	struct jw w;              /* writer on `one` */
	uint64_t count, max;      /* kept, and how many may be */
	uint64_t drop_full;       /* arrived after the list stopped */
	uint64_t drop_big;        /* one event over EVLIST_EVENT_BYTES */
	const char *stop;         /* "max_events" or "response_bytes" once stopped */
};

/* cap: bytes of the list in one copy (both copies stay under 2 * cap);
 * max: events. -ENOMEM or 0. */
int evlist__init(struct evlist *l, size_t cap, uint64_t max);
void evlist__free(struct evlist *l);
/* A writer for the next event, or NULL when the list has stopped (the event
 * is counted in drop_full). */
struct jw *evlist__begin(struct evlist *l);
/* Appends the event written since evlist__begin. */
void evlist__commit(struct evlist *l);
/* Empties the list and its counts, keeping its buffers and bounds: the
 * next window of a list read in turns (a background trace). */
void evlist__reset(struct evlist *l);
/* The list as a JSON array value. */
void evlist__write(const struct evlist *l, struct jw *w);

#endif
