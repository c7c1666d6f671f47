/* The /proc parsers on any bytes, given exactly as read: not terminated,
 * so that ASan sees any read past the length. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct dock_proc_stat st;
	struct dock_proc_sigmasks m;

	memcpy(buf, data, size);
	/* Any state byte is taken, as the kernel's set of them grows; but no
	 * id may come out negative, since kill() reads a negative pid as a
	 * process group. */
	if (dock_procfs_parse_stat(buf, size, &st) == 0)
		ASSERT(st.pid > 0 && st.ppid >= 0 && st.pgrp >= 0);
	(void)dock_procfs_parse_sigmasks(buf, size, &m);
	free(buf);
	return 0;
}
