/* dock_options_parse on any command line and environment. The input is
 * split on '\n'; a line "DOCK_NAME=value" goes to the environment, any
 * other to argv after "dock". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

#define MAX_WORDS 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dock_config cfg;
	char *text = malloc(size + 1), *line, *next;
	char *argv[MAX_WORDS + 2], *envp[MAX_WORDS + 1], err[256], usage[64];
	int argc = 0, envc = 0, i;
	enum dock_options_result r;

	memcpy(text, data, size);
	text[size] = '\0';
	argv[argc++] = "dock";
	for (line = text; line != NULL && argc <= MAX_WORDS && envc < MAX_WORDS; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "DOCK_", 5) == 0 && strchr(line, '=') != NULL)
			envp[envc++] = line;
		else
			argv[argc++] = line;
	}
	argv[argc] = NULL;
	envp[envc] = NULL;

	memset(err, 'E', sizeof(err));
	r = dock_options_parse(&cfg, argc, argv, envp, err, sizeof(err));
	switch (r) {
	case DOCK_OPTIONS_RUN:
		/* The command is a tail of argv, never an option's value copy. */
		ASSERT(cfg.command != NULL && cfg.command[0] != NULL);
		for (i = 1; i < argc; i++)
			if (cfg.command == &argv[i])
				break;
		ASSERT(i < argc);
		break;
	case DOCK_OPTIONS_USAGE:
		ASSERT(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		break;
	case DOCK_OPTIONS_HELP:
	case DOCK_OPTIONS_VERSION:
		break;
	default:
		ASSERT(!"result out of range");
	}
	for (i = 0; i < envc; i++)
		ASSERT(dock_options_is_own_env(envp[i]));

	/* The usage text is the same however small the buffer, as snprintf. */
	{
		size_t need = dock_options_usage(NULL, 0), cut = size % sizeof(usage);

		ASSERT(dock_options_usage(usage, cut) == need);
		ASSERT(cut == 0 || strlen(usage) == (need < cut ? need : cut - 1));
	}
	free(text);
	return 0;
}
