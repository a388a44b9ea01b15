/* The assertion report and its hook (see assert.h). */
#include "assert.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void (*assert__fail)(void) = abort;

void assert__failed(const char *expr, const char *file, int line)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "ebpf-mcp: assertion failed: %s at %s:%d\n", expr, file, line);
	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1, msg[n - 1] = '\n';
	/* one write: the line stays whole among other writers of stderr */
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
	assert__fail();
	abort();
}
