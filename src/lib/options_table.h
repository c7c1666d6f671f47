/* The option table, shared by the parser and the usage text. */
#ifndef DOCK_OPTIONS_TABLE_H
#define DOCK_OPTIONS_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/* How one option's value is taken. A handler returns 0, or -1 after writing
 * the reason (without the option's name) into err. */
typedef int (*dock_option_fn)(struct dock_config *cfg, const char *value, char *err, size_t errlen);

struct dock_option_spec {
	const char *name;	/* long name, without "--" */
	char shortname;		/* 0 when none */
	const char *meta;	/* value placeholder, NULL for a flag */
	bool repeatable;
	bool no_env;		/* -h/-v make no sense in the environment */
	dock_option_fn apply;
	const char *help;
};

#define DOCK_OPTIONS_COUNT 26
extern const struct dock_option_spec dock_options_table[DOCK_OPTIONS_COUNT];

/* --web-hook-header: its DOCK_* variable holds one header a line (a value
 * may hold commas and spaces), not a comma-separated list. */
int dock_options_set_web_hook_header(struct dock_config *cfg, const char *v, char *err, size_t errlen);

#endif
