/* dock_notify_ready on any datagram: the sd_notify socket is open to
 * every process of dock's network namespace, so its bytes are anyone's.
 * READY=1 counts only as a whole line. Links src/lib/notify.c alone. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

/* The definition: some line, split on '\n', is exactly READY=1. */
static bool has_ready_line(const char *buf, size_t len)
{
	size_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i == len || buf[i] == '\n') {
			if (i - start == 7 && memcmp(buf + start, "READY=1", 7) == 0)
				return true;
			start = i + 1;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	ASSERT(dock_notify_ready(buf, size) == has_ready_line(buf, size));
	free(buf);
	return 0;
}
