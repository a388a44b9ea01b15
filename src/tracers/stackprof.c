/* The stack tracers' common userspace (see stackprof.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "stackprof.h"
#include "usyms.h"

_Static_assert(STACKS_PROCS_MAX == USYMS_PROCS_MAX, "the kernel announces as many processes as usyms keeps");

/* ---- the run ------------------------------------------------------------------- */

int stackprof__init(struct stackprof *st)
{
	*st = (struct stackprof){ .fd = -1, .max_lines = limits[LIM_SCAN_ITEMS], .u = usyms__new() };
	return st->u ? 0 : -ENOMEM;
}

void stackprof__fini(struct stackprof *st)
{
	ksyms__free(st->k);
	usyms__free(st->u);
	st->k = NULL, st->u = NULL;
}

int stackprof__notice(struct stackprof *st, const void *data, size_t size)
{
	struct stacks_notice n;
	if (size < sizeof(n))
		return -EINVAL;
	memcpy(&n, data, sizeof(n));
	int err = usyms__pin(st->u, n.tgid);
	if (err)
		st->pin_failed++;   /* read again at the end; gone by then too, most likely */
	else
		st->pinned++;
	return err;
}

/* ---- rows: the kernel's per-thread keys merged per process ------------------------ */

static int by_stack(const void *a, const void *b)
{
	const struct stacks_key *x = a, *y = b;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->kstack_id != y->kstack_id)
		return x->kstack_id < y->kstack_id ? -1 : 1;
	return x->ustack_id < y->ustack_id ? -1 : x->ustack_id > y->ustack_id;
}

static struct stacks_key key_of(const struct stackprof_row *r)
{
	return (struct stacks_key){ .tgid = r->tgid, .kstack_id = r->kid, .ustack_id = r->uid };
}

static int by_weight(const void *a, const void *b)
{
	const struct stackprof_row *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight < y->weight ? 1 : -1;
	struct stacks_key kx = key_of(x), ky = key_of(y);
	return by_stack(&kx, &ky);
}

struct stackprof_row *stackprof__rows(struct bpf_map *map, stackprof_add_fn add, size_t *n, uint64_t *total,
				      int *err)
{
	size_t rows_n, row, stride;
	char *rows = tracer__read_map(map, &rows_n, &row, &stride);
	struct stackprof_row *out = rows_n ? calloc(rows_n, sizeof(*out)) : NULL;
	*n = 0, *total = 0, *err = 0;
	if ((!rows || !out) && rows_n) {
		free(rows);
		free(out);
		*err = -ENOMEM;
		return NULL;
	}
	qsort(rows, rows_n, row, by_stack);
	for (size_t i = 0; i < rows_n; i++) {
		const struct stacks_key *k = (const void *)(rows + i * row);
		struct stackprof_row *p = *n ? &out[*n - 1] : NULL;
		struct stacks_key pk = p ? key_of(p) : (struct stacks_key){ 0 };
		if (!p || by_stack(k, &pk)) {
			p = &out[(*n)++];
			*p = (struct stackprof_row){ .tgid = k->tgid, .kid = k->kstack_id, .uid = k->ustack_id };
		}
		uint64_t w = add(p, rows + i * row + TRACER_ROW_VAL(sizeof(*k)));
		*total += w;
		if (w > p->top || !p->comm[0]) {
			p->top = w;
			memcpy(p->comm, k->comm, sizeof(p->comm));
		}
	}
	free(rows);
	qsort(out, *n, sizeof(*out), by_weight);
	return out;
}

/* ---- symbolizing ------------------------------------------------------------------ */

static void load_ksyms(struct stackprof *st)
{
	st->k_tried = true;
	int err = ksyms__load(&st->k, st->max_lines);
	if (err == -E2BIG)
		snprintf(st->k_msg, sizeof(st->k_msg), "kernel frames not symbolized: /proc/kallsyms has more "
			 "than %" PRIu64 " lines (the scan_items limit)", st->max_lines);
	else if (err)
		snprintf(st->k_msg, sizeof(st->k_msg), "kernel frames not symbolized: reading /proc/kallsyms: %s",
			 strerror(-err));
	else if (ksyms__hidden(st->k))
		snprintf(st->k_msg, sizeof(st->k_msg), "kernel frames not symbolized: /proc/kallsyms shows zero "
			 "addresses (kernel.kptr_restrict, or no CAP_SYSLOG)");
	if (err || ksyms__hidden(st->k))
		st->k_problem = st->k_msg;
}

/* Reads stack id (or explains a negative one); 0 when there is a stack. */
static int read_ips(struct stackprof *st, int32_t id, __u64 *ips, struct stackprof_side *sd)
{
	sd->n = 0, sd->lost = false, sd->error = NULL;
	if (id == STACKS_NO_STACK)
		return -1;
	if (id < 0) {
		const char *e = tracer__errno_name(-id);
		char num[24];
		if (!e)
			snprintf(num, sizeof(num), "errno %d", -id), e = num;
		snprintf(sd->msg, sizeof(sd->msg), "stack not stored (%s%s): counted in stacks_lost", e,
			 id == -EEXIST ? ": its hash bucket held another stack" : "");
		sd->lost = true;
		sd->error = sd->msg;
		return -1;
	}
	if (bpf_map_lookup_elem(st->fd, &id, ips)) {
		snprintf(sd->msg, sizeof(sd->msg), "stack %d is not in the stack map: %s", id, strerror(errno));
		sd->lost = true;
		sd->error = sd->msg;
		return -1;
	}
	return 0;
}

static bool tracing_frame(const struct stackprof_frame *f)
{
	static const char *const prefixes[] = { "bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_" };
	for (size_t i = 0; f->name && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(f->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* Drops the innermost frames of the tracing path (see trim_tracing). */
static void trim(struct stackprof_side *sd)
{
	unsigned k = 0;
	while (k < sd->n && tracing_frame(&sd->f[k]))
		k++;
	memmove(sd->f, sd->f + k, (sd->n - k) * sizeof(sd->f[0]));
	sd->n -= k;
}

void stackprof__kernel(struct stackprof *st, int32_t id, unsigned max, struct stackprof_side *sd)
{
	stacks_ips ips;
	unsigned missing = 0;
	if (read_ips(st, id, ips, sd))
		return;
	if (!st->k_tried)
		load_ksyms(st);
	for (unsigned i = 0; i < STACKS_DEPTH && i < max && ips[i]; i++) {
		struct stackprof_frame *f = &sd->f[sd->n++];
		*f = (struct stackprof_frame){ .addr = ips[i] };
		/* Looked up as is, unlike user return addresses: past an interrupt
		 * or exception frame the unwinder gives the interrupted address,
		 * which may be a function's first byte. A call ending a function
		 * returns into the padding before the next one, which ksyms leaves
		 * to the caller. */
		if (!st->k_problem && !ksyms__find(st->k, ips[i], &f->name, &f->mod, &f->off))
			missing++;
	}
	if (st->trim_tracing)
		trim(sd);
	if (sd->n && st->k_problem) {
		sd->error = st->k_problem;
	} else if (missing) {
		snprintf(sd->msg, sizeof(sd->msg), "%u frame(s) not in /proc/kallsyms at the end of the run: code "
			 "unloaded since (a BPF program or a module)", missing);
		sd->error = sd->msg;
	}
}

void stackprof__user(struct stackprof *st, uint32_t tgid, int32_t id, unsigned max, struct stackprof_side *sd)
{
	stacks_ips ips;
	const char *problem = NULL;
	if (read_ips(st, id, ips, sd))
		return;
	struct uproc *p = usyms__proc(st->u, tgid, &problem);
	for (unsigned i = 0; i < STACKS_DEPTH && i < max && ips[i]; i++) {
		struct stackprof_frame *f = &sd->f[sd->n++];
		struct usym s = { 0 };
		const char *why = p ? usyms__find(st->u, p, ips[i], i > 0, &s) : problem;
		*f = (struct stackprof_frame){ .addr = ips[i], .name = s.name, .mod = s.module, .off = s.off };
		if (why && !sd->error)
			sd->error = why;
	}
}

/* ---- text --------------------------------------------------------------------------- */

void sbuf__put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q, b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void sbuf__str(struct sbuf *b, const char *s)
{
	sbuf__put(b, s, strlen(s));
}

static void sbuf__hex(struct sbuf *b, const char *prefix, uint64_t v)
{
	char x[24];
	sbuf__str(b, prefix);
	sbuf__put(b, x, (size_t)snprintf(x, sizeof(x), "0x%" PRIx64, v));
}

void stackprof__frame_name(struct sbuf *b, const struct stackprof_frame *f, bool kernel)
{
	if (!f->name) {
		sbuf__str(b, !kernel && f->mod ? f->mod : "[unknown]");
		return;
	}
	sbuf__str(b, f->name);
	if (kernel && f->mod) {
		sbuf__str(b, " [");
		sbuf__str(b, f->mod);
		sbuf__str(b, "]");
	}
}

/* A frame as shown in kernel[] and user[]: "func+0xoff" ("func+0xoff [mod]"
 * for a kernel module), "file+0xoff", or the bare address. */
static void write_frame(struct jw *w, struct sbuf *b, const struct stackprof_frame *f, bool kernel)
{
	b->len = 0;
	if (f->name || (!kernel && f->mod)) {
		sbuf__str(b, f->name ? f->name : f->mod);
		sbuf__hex(b, "+", f->off);
		if (kernel && f->mod) {
			sbuf__str(b, " [");
			sbuf__str(b, f->mod);
			sbuf__str(b, "]");
		}
	} else {
		sbuf__hex(b, "", f->addr);
	}
	if (!b->oom)
		jw__strn(w, b->p, b->len);
}

/* One part of a folded line from `from` on: a ';' would split a frame in
 * two and a line break would end the line, so they become '_' and ' '. */
static void fold_clean(struct sbuf *b, size_t from)
{
	for (size_t i = from; !b->oom && i < b->len; i++)
		if (b->p[i] == ';')
			b->p[i] = '_';
		else if (b->p[i] == '\n' || b->p[i] == '\r')
			b->p[i] = ' ';
}

static void fold_frame(struct sbuf *b, const struct stackprof_frame *f, bool kernel)
{
	sbuf__str(b, ";");
	size_t from = b->len;
	stackprof__frame_name(b, f, kernel);
	fold_clean(b, from);
}

/* comm;outermost user;...;innermost user;outermost kernel;...;innermost
 * kernel value, without offsets: the flame graph tools' input lines. */
static void folded(struct sbuf *b, const struct stackprof_row *r, const struct stackprof_side *k,
		   const struct stackprof_side *u, uint64_t value)
{
	char num[24];
	b->len = 0;
	sbuf__put(b, r->comm, strnlen(r->comm, sizeof(r->comm)));
	fold_clean(b, 0);
	for (unsigned i = u->n; i-- > 0;)
		fold_frame(b, &u->f[i], false);
	if (u->lost)
		sbuf__str(b, ";[user stack lost]");
	for (unsigned i = k->n; i-- > 0;)
		fold_frame(b, &k->f[i], true);
	if (k->lost)
		sbuf__str(b, ";[kernel stack lost]");
	sbuf__put(b, num, (size_t)snprintf(num, sizeof(num), " %" PRIu64, value));
}

static void write_side(struct jw *w, const char *key, const struct stackprof_side *sd, bool kernel, struct sbuf *b)
{
	jw__key(w, key);
	jw__arr(w);
	for (unsigned i = 0; i < sd->n; i++)
		write_frame(w, b, &sd->f[i], kernel);
	jw__arr_end(w);
}

void stackprof__write_row(struct jw *w, struct stackprof *st, const struct stackprof_row *row, uint64_t value,
			  struct sbuf *b)
{
	struct stackprof_side k, u;
	stackprof__kernel(st, row->kid, STACKS_DEPTH, &k);
	stackprof__user(st, row->tgid, row->uid, STACKS_DEPTH, &u);
	jw__kuint(w, "pid", row->tgid);
	tracer__kcomm(w, "comm", row->comm);
	folded(b, row, &k, &u, value);
	jw__key(w, "folded");
	if (!b->oom)
		jw__strn(w, b->p, b->len);
	write_side(w, "kernel", &k, true, b);
	write_side(w, "user", &u, false, b);
	if (k.error)
		jw__kstr(w, "kernel_error", k.error);
	if (u.error)
		jw__kstr(w, "user_error", u.error);
}
