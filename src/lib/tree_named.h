/* Processes of dock's tree as a message names them (the warning before
 * SIGKILL): the name from a /proc stat line, and the list. Pure. */
#ifndef DOCK_TREE_NAMED_H
#define DOCK_TREE_NAMED_H

#include <stddef.h>
#include <sys/types.h>

/* How many leftovers a message names; the rest are counted. */
#define DOCK_TREE_NAMED 5

/* A process as a message names it: pid and command name (printable). */
struct dock_tree_named {
	pid_t pid;
	char comm[32];
};

/* The command name of a /proc/PID/stat line, between the first '('
 * and the last ')', as printable text: bytes outside 0x20-0x7e become '?'
 * (the name is the command's to choose, and may hold a newline or escape
 * codes meant for a terminal). Returns 0, or -1 for a malformed line. */
int dock_tree_parse_comm(const char *buf, size_t len, char *out, size_t outlen);

/* ": 12 (sh), 13 (sleep) and 3 more" for n named of total processes,
 * or "" when total is 0. Always NUL-terminated, cut to len - 1 bytes. */
void dock_tree_format_named(const struct dock_tree_named *named, size_t n, size_t total,
			    char *buf, size_t len);

#endif
