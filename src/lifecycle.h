/* The main command's status as the platform sees it: starting, running, and
 * at the end stopped or crashed. Every transition happens in this file;
 * reporters (web hook, status file) subscribe, and readiness conditions hold
 * "running" back as gates. */
#ifndef DOCK_LIFECYCLE_H
#define DOCK_LIFECYCLE_H

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

typedef void (*dock_lifecycle_fn)(const struct dock_status *st, void *ctx);

const char *dock_state_name(enum dock_state s);

/* True for the states the command's end leads to: stopped, crashed. */
bool dock_state_is_final(enum dock_state s);

/* Adds a reporter; it is told of the current state at once, then of every
 * change. At most DOCK_LIFECYCLE_MAX_SUBSCRIBERS. */
#define DOCK_LIFECYCLE_MAX_SUBSCRIBERS 4
int dock_lifecycle_subscribe(dock_lifecycle_fn fn, void *ctx);

/* A readiness condition: "running" waits until every gate added before the
 * command started has been opened. Returns the gate's id. */
int dock_lifecycle_add_gate(const char *name);
void dock_lifecycle_open_gate(int gate);

void dock_lifecycle_started(pid_t pid);		/* exec succeeded */
/* The command has ended (or could not be started): stopped says which of
 * the two final states it is (see dock_status_stopped). */
void dock_lifecycle_ended(int exit_code, int signal, bool stopped);
const struct dock_status *dock_lifecycle_current(void);

/* Pure: the fields the web hook and the status file share, written into
 * the JSON object j has open, in this order:
 *   "status": "starting" | "running" | "stopped" | "crashed"
 *   "pid":       the main command's pid, null before it exists
 *   "exit_code": dock's code for the command's end, null until final
 *   "signal":    the name of the signal that ended it ("TERM"), null when
 *                it exited or is not final
 *   "time":      when the status began, RFC 3339 UTC with milliseconds
 * Returns 0, or -1 when st->since_ms cannot be written as a date. */
int dock_lifecycle_json_fields(struct dock_json *j, const struct dock_status *st);

#endif
