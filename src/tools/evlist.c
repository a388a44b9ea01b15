/* The bounded event list (see evlist.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "evlist.h"

int evlist__init(struct evlist *l, size_t cap, uint64_t max)
{
	*l = (struct evlist){ .cap = cap, .max = max };
	l->buf = malloc(cap);
	l->one = malloc(EVLIST_EVENT_BYTES);
	return l->buf && l->one ? 0 : -ENOMEM;
}

void evlist__free(struct evlist *l)
{
	free(l->buf);
	free(l->one);
	l->buf = l->one = NULL;
}

struct jw *evlist__begin(struct evlist *l)
{
	if (l->stop) {
		l->drop_full++;
		return NULL;
	}
	jw__init(&l->w, l->one, EVLIST_EVENT_BYTES);
	return &l->w;
}

/* Bytes the text copy adds: the events are JSON already, so escaping them
 * again doubles their quotes and backslashes. */
static size_t escapes(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '"' || s[i] == '\\';
	return k;
}

void evlist__commit(struct evlist *l)
{
	if (l->w.overflow) {
		l->drop_big++;
		return;
	}
	size_t text = l->w.len + escapes(l->one, l->w.len);
	/* text >= raw, so the raw list alone stays under cap */
	if (l->len + l->w.len + l->text_len + text + 2 > 2 * l->cap) {
		l->stop = "response_bytes";
		l->drop_full++;
		return;
	}
	if (l->len)
		l->buf[l->len++] = ',';
	memcpy(l->buf + l->len, l->one, l->w.len);
	l->len += l->w.len;
	l->text_len += text + (l->text_len > 0);
	if (++l->count == l->max)
		l->stop = "max_events";
}

void evlist__reset(struct evlist *l)
{
	l->len = l->text_len = 0;
	l->count = l->drop_full = l->drop_big = 0;
	l->stop = NULL;
}

void evlist__write(const struct evlist *l, struct jw *w)
{
	jw__arr(w);
	if (l->len)
		jw__raw(w, l->buf, l->len);   /* already comma-joined objects */
	jw__arr_end(w);
}
