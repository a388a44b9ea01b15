/* Test fixture: fires the hooks the attach_program tests attach to, a known
 * number of times, from one process.
 *
 *   attach_trigger getppid N          N getppid() syscalls
 *   attach_trigger func N             N calls of attach_trigger_target()
 *   attach_trigger wait-func N        the same after one line on stdin
 *   attach_trigger socket N [PROCS]   N AF_INET sockets, after writing its
 *                                     pid to PROCS (a cgroup.procs file)
 *   attach_trigger udp N ADDR         N UDP datagrams to ADDR port 9
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The uprobe target: global, not inlined, not folded away. */
__attribute__((noinline, used)) long attach_trigger_target(long i)
{
	__asm__ volatile("" : "+r"(i) : : "memory");
	return i + 1;
}

static int join_cgroup(const char *procs)
{
	FILE *f = fopen(procs, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
		return perror(procs), -1;
	return 0;
}

static long send_udp(long n, const char *addr)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	long sent = 0;
	if (fd < 0 || inet_pton(AF_INET, addr, &to.sin_addr) != 1)
		return perror(addr), -1;
	for (long i = 0; i < n; i++)
		sent += sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1;
	close(fd);
	return sent;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return fprintf(stderr, "usage: %s getppid|func|wait-func|socket N [PROCS]\n", argv[0]), 2;
	long n = strtol(argv[2], NULL, 10), sum = 0;
	const char *what = argv[1];
	if (!strcmp(what, "getppid")) {
		for (long i = 0; i < n; i++)
			sum += getppid() > 0;
	} else if (!strcmp(what, "func") || !strcmp(what, "wait-func")) {
		char line[16];
		if (what[0] == 'w' && !fgets(line, sizeof(line), stdin))
			return 1;
		for (long i = 0; i < n; i++)
			sum += attach_trigger_target(i) > 0;
	} else if (!strcmp(what, "socket")) {
		if (argc > 3 && join_cgroup(argv[3]))
			return 1;
		for (long i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM, 0);
			if (fd < 0)
				return perror("socket"), 1;
			close(fd);
			sum++;
		}
	} else if (!strcmp(what, "udp") && argc > 3) {
		sum = send_udp(n, argv[3]);
	} else {
		return fprintf(stderr, "unknown action %s\n", what), 2;
	}
	return sum == n ? 0 : 1;
}
