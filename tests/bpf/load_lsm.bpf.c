/* An LSM program: a type the default policy refuses (it can deny any
 * operation system-wide), allowed with --allow-prog-type lsm. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("lsm/file_open")
int lsm_open(void *ctx)
{
	return 0;
}
