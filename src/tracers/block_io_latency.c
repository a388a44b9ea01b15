/* block_io_latency: block request latency (issue to completion) as log2
 * histograms per operation, and per disk when asked, aggregated in the
 * kernel. Disks are named through /sys/block and /sys/dev/block. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../sys/sysfs.h"
#include "block_io_latency.h"
#include "block_io_latency.skel.h"
#include "tracer_run.h"

#define ROW_VAL TRACER_ROW_VAL(sizeof(struct block_io_latency_key))
#define SYSFS_LINK_BYTES 512   /* ../../devices/virtual/block/loop0 and the like */
#define MINOR_MASK ((1u << BLOCK_IO_LATENCY_MINOR_BITS) - 1)

static const struct block_io_latency_hist *hist_of(const char *row)
{
	return (const void *)(row + ROW_VAL);
}

static void kop(struct jw *w, uint32_t op)
{
	static const char *const ops[] = {
		[BLOCK_IO_OP_READ] = "read", [BLOCK_IO_OP_WRITE] = "write", [BLOCK_IO_OP_FLUSH] = "flush",
		[BLOCK_IO_OP_DISCARD] = "discard", [BLOCK_IO_OP_SECURE_ERASE] = "secure_erase",
		[BLOCK_IO_OP_ZONE_APPEND] = "zone_append", [BLOCK_IO_OP_WRITE_ZEROES] = "write_zeroes",
	};
	jw__key(w, "op");
	if (op < sizeof(ops) / sizeof(ops[0]) && ops[op])
		jw__str(w, ops[op]);
	else
		jw__strf(w, "op_%u", op);
}

/* The disk's name: the target of /sys/dev/block/MAJ:MIN, last component. */
static void kdisk(struct jw *w, uint32_t dev)
{
	char link[64], target[SYSFS_LINK_BYTES];
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", dev >> BLOCK_IO_LATENCY_MINOR_BITS, dev & MINOR_MASK);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		const char *base = strrchr(target, '/');
		jw__kstr(w, "disk", base ? base + 1 : target);
	}
	jw__key(w, "dev");
	jw__strf(w, "%u:%u", dev >> BLOCK_IO_LATENCY_MINOR_BITS, dev & MINOR_MASK);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct block_io_latency_bpf *s = t->skel;
	size_t n, row, stride;
	char *rows = tracer__read_map(s->maps.hists, &n, &row, &stride);
	if (!rows && n)
		return tool__fail_errno(ctx, -ENOMEM, "reading the histograms");
	tracer__sort_rows(rows, n, row, ROW_VAL + offsetof(struct block_io_latency_hist, count));
	jw__key(w, "histograms");
	jw__arr(w);
	/* at most BLOCK_IO_LATENCY_HISTS_MAX rows: (disk, op) pairs */
	for (size_t i = 0; i < n; i++) {
		const struct block_io_latency_key *k = (const void *)(rows + i * row);
		const struct block_io_latency_hist *h = hist_of(rows + i * row);
		jw__obj(w);
		if (s->rodata->targ_per_disk)
			kdisk(w, k->dev);
		kop(w, k->op);
		jw__kuint(w, "bytes", h->bytes);
		tracer__hist(w, h->slots, h->sum_ns, h->max_ns);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__kuint(w, "hists_dropped", s->bss->hists_dropped);
	jw__kuint(w, "unmatched", s->bss->unmatched);
	free(rows);
	return 0;
}

static int bad_disk(struct tool_ctx *ctx, const char *disk, const char *why)
{
	tool__fail(ctx, ERR_NO_SUCH_DISK, "disk '%s' %s; name one listed in /sys/block (sda, loop0) or its MAJOR:MINOR",
		   disk, why);
	jw__kstr(&ctx->err->ctx, "pointer", "/disk");
	return -1;
}

/* `disk` as the kernel's dev_t of a whole disk. */
static int disk_dev(struct tool_ctx *ctx, const char *disk, uint32_t *dev)
{
	char path[320], buf[32];
	unsigned maj, min;
	int used = 0;
	if (sscanf(disk, "%u:%u%n", &maj, &min, &used) == 2 && !disk[used]) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dev", maj, min);
	} else if (strchr(disk, '/') || !strcmp(disk, ".") || !strcmp(disk, "..")) {
		return bad_disk(ctx, disk, "is not a disk name");
	} else {
		snprintf(path, sizeof(path), "/sys/block/%s/dev", disk);
	}
	size_t len;
	if (sysfs__read(path, buf, sizeof(buf), &len) || sscanf(buf, "%u:%u", &maj, &min) != 2)
		return bad_disk(ctx, disk, "is not in /sys/block");
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", maj, min);
	if (!access(path, F_OK))
		return bad_disk(ctx, disk, "is a partition (latency is counted per whole disk)");
	if (maj >= 1u << (32 - BLOCK_IO_LATENCY_MINOR_BITS) || min > MINOR_MASK)
		return bad_disk(ctx, disk, "has a device number out of range");
	*dev = maj << BLOCK_IO_LATENCY_MINOR_BITS | min;
	return 0;
}

static const struct tracer_ops ops = { .report = report };

static int run_block_io_latency(struct tool_ctx *ctx)
{
	const char *disk = tool__arg_str(ctx, "disk");
	uint32_t dev = 0;
	if (disk && disk_dev(ctx, disk, &dev))
		return -1;
	struct tracer *t = tracer__begin(ctx, "block_io_latency", &ops);
	if (!t)
		return -1;
	struct block_io_latency_bpf *s = block_io_latency_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	s->rodata->targ_dev = dev;
	s->rodata->targ_per_disk = disk || tool__arg_bool(ctx, "per_disk", false);
	return tracer__start(ctx, t, s, s->skeleton, NULL);
}

const struct tool tool_block_io_latency = {
	.name = "block_io_latency",
	.schema = SCHEMA_block_io_latency,
	.run = run_block_io_latency,
};
