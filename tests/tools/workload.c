/* Test fixture: known workloads for the tracer tests, one per mode.
 *
 *   workload [-w] MODE ARGS...
 *     open PATH N        open(PATH, O_RDONLY|O_CLOEXEC) N times (musl: the open syscall)
 *     openat PATH N      openat(AT_FDCWD, PATH, O_RDONLY|O_CLOEXEC) N times
 *     openat2 PATH N     openat2(AT_FDCWD, PATH, {O_RDONLY|O_CLOEXEC}) N times
 *     fail PATH N        N failing open(PATH) and 2N failing close(-1) (EBADF)
 *     getppid N          the getppid syscall N times
 *     spin MS            a user-space busy loop in workload_spin() for MS ms
 *     sysloop MS         getppid in a loop for MS ms (time spent in the kernel)
 *     sleep N MS         N nanosleeps of MS ms in workload_sleep(); prints "slept US",
 *                        the time they took by its own clock (CLOCK_MONOTONIC)
 *     pingpong N         N round trips over two pipes with a child process
 *     dio DEV READS WRITES   O_DIRECT 4 KiB reads, then writes, on DEV
 *     udp ADDR PORT N [ERRNO]  N one-byte UDP datagrams to ADDR:PORT (IPv4), after
 *                        bringing lo up (a fresh network namespace has it down);
 *                        succeeds when every send did, or with ERRNO every send
 *                        failed with that errno number
 *     udpsink N          N one-byte UDP datagrams to a socket of its own on
 *                        127.0.0.1 whose receive buffer is the smallest there is
 *                        and which never reads (kept open until exit)
 *     alloc MB           allocates and touches MB MiB, 1 MiB at a time
 *     exit CODE ARGS...  exit with CODE (ARGS are only there to be traced)
 *
 * With -w it prints "ready PID", waits for a line on stdin before working,
 * prints "done" and waits for stdin to close before exiting, so a test can
 * read /proc for this process before and after the work. Built with frame
 * pointers so that sampled user stacks unwind past workload_spin(). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIO_BLOCK_BYTES 4096
#define ALLOC_STEP_BYTES (1024 * 1024)
#define SPIN_CHECK_EVERY 100000   /* loop iterations between clock reads */

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int do_opens(const char *how, const char *path, long n)
{
	for (long i = 0; i < n; i++) {
		int fd;
		if (!strcmp(how, "open")) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
		} else if (!strcmp(how, "openat")) {
			fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
		} else {
			struct open_how oh = { .flags = O_RDONLY | O_CLOEXEC };
			fd = syscall(SYS_openat2, AT_FDCWD, path, &oh, sizeof(oh));
		}
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

__attribute__((noinline)) long workload_spin(long ms)
{
	volatile unsigned long acc = 0;
	long end = now_ms() + ms;
	do {
		for (long i = 0; i < SPIN_CHECK_EVERY; i++)
			acc += i * 7;
	} while (now_ms() < end);
	return acc;
}

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* nanosleep(2) made right here rather than through libc: musl is built
 * without frame pointers, so a user stack taken inside its nanosleep()
 * unwinds from libc straight to our caller's frame and loses the function
 * that slept. */
static inline void nap(const struct timespec *ts)
{
#if defined(__x86_64__)
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_nanosleep), "D"(ts), "S"(0L) : "rcx", "r11", "memory");
	(void)ret;
#else
	nanosleep(ts, NULL);
#endif
}

/* Returns the microseconds the n sleeps took, each measured around its call. */
__attribute__((noinline)) long workload_sleep(long n, long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };
	long total = 0;
	for (long i = 0; i < n; i++) {
		long t0 = now_us();
		nap(&ts);
		total += now_us() - t0;
	}
	return total;
}

static int do_pingpong(long n)
{
	int ab[2], ba[2];
	char c = 'x';
	if (pipe(ab) || pipe(ba))
		return perror("pipe"), 1;
	pid_t child = fork();
	if (child < 0)
		return perror("fork"), 1;
	if (child == 0) {
		close(ab[1]);   /* so that read() sees EOF when the parent closes its end */
		close(ba[0]);
		while (read(ab[0], &c, 1) == 1 && write(ba[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	for (long i = 0; i < n; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return perror("pingpong"), 1;
	close(ab[1]);
	waitpid(child, NULL, 0);
	return 0;
}

static int do_dio(const char *dev, long reads, long writes)
{
	void *buf;
	int fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || posix_memalign(&buf, DIO_BLOCK_BYTES, DIO_BLOCK_BYTES))
		return perror(dev), 1;
	memset(buf, 0xab, DIO_BLOCK_BYTES);
	for (long i = 0; i < reads; i++)
		if (pread(fd, buf, DIO_BLOCK_BYTES, i * DIO_BLOCK_BYTES) != DIO_BLOCK_BYTES)
			return perror("pread"), 1;
	for (long i = 0; i < writes; i++)
		if (pwrite(fd, buf, DIO_BLOCK_BYTES, i * DIO_BLOCK_BYTES) != DIO_BLOCK_BYTES)
			return perror("pwrite"), 1;
	free(buf);
	return close(fd);
}

/* lo up, as `ip link set lo up` does: a new network namespace has it down. */
static int lo_up(int fd)
{
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		return perror("SIOCGIFFLAGS lo"), 1;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(fd, SIOCSIFFLAGS, &ifr) ? (perror("SIOCSIFFLAGS lo"), 1) : 0;
}

/* n datagrams to `to`: 0 when every send did what was wanted (succeed,
 * or fail with want_errno). */
static int send_udp(const struct sockaddr_in *to, long n, int want_errno)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return perror("udp socket"), 1;
	long as_wanted = 0;
	for (long i = 0; i < n; i++) {
		ssize_t r = sendto(fd, "x", 1, 0, (const struct sockaddr *)to, sizeof(*to));
		as_wanted += want_errno ? r < 0 && errno == want_errno : r == 1;
	}
	close(fd);
	return as_wanted == n ? 0 : 3;
}

static int do_udp(const char *addr, int port, long n, int want_errno)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || inet_pton(AF_INET, addr, &to.sin_addr) != 1)
		return perror("udp"), 1;
	int err = lo_up(fd);
	close(fd);
	return err ? 1 : send_udp(&to, n, want_errno);
}

static int do_udpsink(long n)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(at);
	int zero = 0;   /* the kernel raises it to its minimum */
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (rx < 0 || lo_up(rx) || setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero)) ||
	    bind(rx, (struct sockaddr *)&at, sizeof(at)) || getsockname(rx, (struct sockaddr *)&at, &len))
		return perror("udpsink"), 1;
	/* rx stays open: closing it would free what it queued (as drops too) */
	return send_udp(&at, n, 0);
}

static int do_alloc(long mb)
{
	for (long i = 0; i < mb; i++) {
		char *p = malloc(ALLOC_STEP_BYTES);
		if (!p)
			return perror("malloc"), 1;
		memset(p, 0xa5, ALLOC_STEP_BYTES);   /* touched: resident and charged, kept until exit */
	}
	return 0;
}

static int run(int argc, char **argv)
{
	const char *mode = argv[0];
	if (!strcmp(mode, "open") || !strcmp(mode, "openat") || !strcmp(mode, "openat2"))
		return argc == 3 ? do_opens(mode, argv[1], atol(argv[2])) : 2;
	if (!strcmp(mode, "fail") && argc == 3) {
		for (long i = 0, n = atol(argv[2]); i < n; i++) {
			open(argv[1], O_RDONLY | O_CLOEXEC);
			close(-1);
			close(-1);
		}
		return 0;
	}
	if (!strcmp(mode, "getppid") && argc == 2) {
		for (long i = 0, n = atol(argv[1]); i < n; i++)
			syscall(SYS_getppid);
		return 0;
	}
	if (!strcmp(mode, "spin") && argc == 2)
		return workload_spin(atol(argv[1])) == 1;   /* never 1: keeps the result used */
	if (!strcmp(mode, "sysloop") && argc == 2) {
		for (long end = now_ms() + atol(argv[1]); now_ms() < end;)
			for (int i = 0; i < 1000; i++)
				syscall(SYS_getppid);
		return 0;
	}
	if (!strcmp(mode, "sleep") && argc == 3) {
		printf("slept %ld\n", workload_sleep(atol(argv[1]), atol(argv[2])));
		return fflush(stdout) != 0;
	}
	if (!strcmp(mode, "pingpong") && argc == 2)
		return do_pingpong(atol(argv[1]));
	if (!strcmp(mode, "dio") && argc == 4)
		return do_dio(argv[1], atol(argv[2]), atol(argv[3]));
	if (!strcmp(mode, "udp") && (argc == 4 || argc == 5))
		return do_udp(argv[1], atoi(argv[2]), atol(argv[3]), argc == 5 ? atoi(argv[4]) : 0);
	if (!strcmp(mode, "udpsink") && argc == 2)
		return do_udpsink(atol(argv[1]));
	if (!strcmp(mode, "alloc") && argc == 2)
		return do_alloc(atol(argv[1]));
	if (!strcmp(mode, "exit") && argc >= 2)
		return atoi(argv[1]);
	return 2;
}

int main(int argc, char **argv)
{
	int wait = argc > 1 && !strcmp(argv[1], "-w");
	char line[64];
	if (argc < 2 + wait) {
		fprintf(stderr, "usage: workload [-w] MODE ARGS...\n");
		return 2;
	}
	if (wait) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	int rc = run(argc - 1 - wait, argv + 1 + wait);
	if (rc == 2 && strcmp(argv[1 + wait], "exit"))
		fprintf(stderr, "workload: bad arguments for %s\n", argv[1 + wait]);
	if (wait) {
		printf("done %d\n", rc);
		fflush(stdout);
		while (fgets(line, sizeof(line), stdin))
			;
	}
	return rc;
}
