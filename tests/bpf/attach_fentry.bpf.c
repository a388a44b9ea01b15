/* An fentry program for the attach_program tests (kernels that refuse
 * fentry refuse to load it). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fentry/do_unlinkat")
int count_fentry(void *ctx)
{
	return 0;
}
