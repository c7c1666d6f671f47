/* dock_signame_parse and dock_signame_name: any text, any number, and names
 * that come back as the signal they name. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

static void round_trip(int sig, size_t len)
{
	char *buf = malloc(len ? len : 1);
	const char *name = dock_signame_name(sig, buf, len);

	if (name != NULL) {
		ASSERT(name == buf && strlen(name) < len);
		/* A truncated name need not parse; a whole one must. */
		if (strlen(name) + 1 < len)
			ASSERT(dock_signame_parse(name, 0) == sig);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int sig, num = 0;

	memcpy(text, data, size);
	text[size] = '\0';
	sig = dock_signame_parse(text, 0);
	ASSERT(sig == -1 || (sig >= 1 && sig < _NSIG));
	if (sig > 0)
		round_trip(sig, 32);
	sig = dock_signame_parse(text, 1);
	ASSERT(sig >= -1 && sig < _NSIG);

	/* The first bytes as a number, and as a buffer size. */
	if (size >= 4)
		memcpy(&num, data, 4);
	round_trip(num, size > 4 ? data[4] % 40 : 32);
	round_trip(num & 0x7f, size > 5 ? data[5] % 40 : 32);
	free(text);
	return 0;
}
