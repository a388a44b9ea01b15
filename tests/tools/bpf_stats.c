/* Test fixture: turn on BPF run-time statistics for as long as it runs.
 *
 * BPF_ENABLE_STATS keeps run_cnt/run_time_ns counting while its fd is open,
 * without touching the global kernel.bpf_stats_enabled sysctl that other
 * tests may read. Prints "ready" once stats are on, then waits for stdin to
 * close and exits (which turns them off again). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

int main(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		fprintf(stderr, "BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return 0;
}
