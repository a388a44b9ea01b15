/* block_io_latency: how long block requests take from issue to the driver
 * until completion, per operation and optionally per disk.
 *
 * Hooks: tp_btf/block_rq_issue and tp_btf/block_rq_complete, matched by the
 * request's address. Requests issued before tracing started are not counted
 * (their completion finds no start); a request completed in parts counts
 * once, at its first completion. */
#include "tracer.bpf.h"
#include "block_io_latency.h"

#define REQ_OP_MASK 0xff

const volatile __u32 targ_dev = 0;            /* only this disk (kernel dev_t); 0: any */
const volatile bool targ_per_disk = false;    /* one histogram per disk */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);   /* LRU: a request that never completes ages out */
	__uint(max_entries, BLOCK_IO_LATENCY_INFLIGHT_MAX);
	__type(key, __u64);   /* struct request address */
	__type(value, struct block_io_latency_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BLOCK_IO_LATENCY_HISTS_MAX);
	__type(key, struct block_io_latency_key);
	__type(value, struct block_io_latency_hist);
} hists SEC(".maps");

__u64 hists_dropped = 0;      /* completions not counted: `hists` was full */
__u64 unmatched = 0;          /* completions with no recorded issue */

static __always_inline __u32 disk_of(struct request *rq)
{
	struct gendisk *disk = rq->q->disk;
	if (!disk)
		return 0;
	return ((__u32)disk->major << BLOCK_IO_LATENCY_MINOR_BITS) | (__u32)disk->first_minor;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_io_latency_issue, struct request *rq)
{
	__u32 dev = disk_of(rq);
	if (targ_dev && dev != targ_dev)
		return 0;
	__u64 key = (__u64)rq;
	struct block_io_latency_start s = {
		.ts_ns = bpf_ktime_get_ns(),
		.dev = dev,
		.op = rq->cmd_flags & REQ_OP_MASK,
		.bytes = rq->__data_len,
	};
	bpf_map_update_elem(&starts, &key, &s, BPF_ANY);
	return 0;
}

static __always_inline struct block_io_latency_hist *hist_of(const struct block_io_latency_key *k)
{
	struct block_io_latency_hist *h = bpf_map_lookup_elem(&hists, k);
	if (h)
		return h;
	static const struct block_io_latency_hist zero;
	bpf_map_update_elem(&hists, k, &zero, BPF_NOEXIST);
	h = bpf_map_lookup_elem(&hists, k);
	if (!h)
		__sync_fetch_and_add(&hists_dropped, 1);
	return h;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_io_latency_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq;
	struct block_io_latency_start *s = bpf_map_lookup_elem(&starts, &key);
	if (!s) {
		if (!targ_dev || disk_of(rq) == targ_dev)
			__sync_fetch_and_add(&unmatched, 1);
		return 0;
	}
	__u64 delta = bpf_ktime_get_ns() - s->ts_ns;
	struct block_io_latency_key k = { .dev = targ_per_disk ? s->dev : 0, .op = s->op };
	__u64 bytes = s->bytes;
	bpf_map_delete_elem(&starts, &key);

	struct block_io_latency_hist *h = hist_of(&k);
	if (!h)
		return 0;
	hist_add(h->slots, delta);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, delta);
	__sync_fetch_and_add(&h->bytes, bytes);
	if (delta > h->max_ns)
		h->max_ns = delta;   /* a racing larger value may be lost; count and sum are exact */
	return 0;
}
