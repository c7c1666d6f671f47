/* The names in the SIGKILL warning: dock_tree_parse_comm on any /proc stat
 * line (the command chooses its name, bytes and all) and the formatter
 * around it. The output must stay in its buffer, be terminated, and hold
 * nothing but printable ASCII. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_named.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

static void printable_only(const char *s)
{
	for (; *s; s++)
		ASSERT((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dock_tree_named named[DOCK_TREE_NAMED];
	char *copy = malloc(size ? size : 1);
	char out[256];
	size_t cap, n = 0, i;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);	/* exactly size bytes: ASan sees any overread */
	/* The first byte picks the output size, so short buffers are cut too. */
	cap = size ? (size_t)data[0] % sizeof(named[0].comm) + 1 : sizeof(named[0].comm);
	for (i = 0; i < DOCK_TREE_NAMED; i++) {
		if (dock_tree_parse_comm(copy, size, named[n].comm, cap) == 0) {
			ASSERT(strlen(named[n].comm) < cap);
			printable_only(named[n].comm);
			named[n].pid = (pid_t)(i + 1);
			n++;
		}
	}
	dock_tree_format_named(named, n, n + (size ? data[size - 1] : 0), out, 1 + (size % sizeof(out)));
	ASSERT(strlen(out) < sizeof(out));
	printable_only(out);
	free(copy);
	return 0;
}
