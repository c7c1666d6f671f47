/* The main command's status as the platform sees it (starting, running,
 * stopped, crashed) and how it is written for the web hook and the status
 * file. Pure; src/lifecycle.c holds the one status that changes. */
#ifndef DOCK_STATE_H
#define DOCK_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "json.h"

enum dock_state {
	DOCK_STATE_STARTING,
	DOCK_STATE_RUNNING,
	DOCK_STATE_STOPPED,	/* final: exit 0, or ended after a stop signal from outside */
	DOCK_STATE_CRASHED,	/* final: anything else, exec failure included */
};

struct dock_status {
	enum dock_state state;
	pid_t pid;		/* the main command, 0 before it exists */
	int exit_code;		/* when final: dock's code for it (128+N if signalled) */
	int signal;		/* when final: the signal that ended it, or 0 */
	int64_t since_ms;	/* wall-clock milliseconds (Unix epoch) when the state began */
};

const char *dock_state_name(enum dock_state s);

/* True for the states the command's end leads to: stopped, crashed. */
bool dock_state_is_final(enum dock_state s);

/* The fields the web hook and the status file share, written into
 * the JSON object j has open, in this order:
 *   "status": "starting" | "running" | "stopped" | "crashed"
 *   "pid":       the main command's pid, null before it exists
 *   "exit_code": dock's code for the command's end, null until final
 *   "signal":    the name of the signal that ended it ("TERM"), null when
 *                it exited or is not final
 *   "time":      when the status began, RFC 3339 UTC with milliseconds
 * Returns 0, or -1 when st->since_ms cannot be written as a date. */
int dock_state_json_fields(struct dock_json *j, const struct dock_status *st);

#endif
