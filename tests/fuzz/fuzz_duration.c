/* dock_duration_parse and dock_size_parse on any text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	uint64_t v;

	memcpy(text, data, size);
	text[size] = '\0';
	v = 7;
	if (dock_duration_parse(text, DOCK_MS_PER_SECOND, &v) == 0)
		ASSERT(v <= DOCK_DURATION_MAX_MS);
	else
		ASSERT(v == 7);	/* a failed parse leaves the output alone */
	v = 7;
	if (dock_duration_parse(text, DOCK_MS_PER_HOUR, &v) == 0)
		ASSERT(v <= DOCK_DURATION_MAX_MS);
	v = 0;
	if (dock_size_parse(text, &v) == 0)
		ASSERT(v > 0);
	free(text);
	return 0;
}
