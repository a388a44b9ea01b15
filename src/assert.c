/* Assertion failures (see assert.h). */
#include "assert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void (*assert__hook)(void);

void assert__fail(const char *expr, const char *file, int line)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "ebpf-mcp: assertion failed: %s at %s:%d\n", expr, file, line);
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) < 0)
		n = 0;   /* nowhere to say it */
	if (assert__hook)
		assert__hook();
	abort();
}
