/* The main command's status as the platform sees it: starting, running,
 * crashed. Every transition happens in this file; reporters (web hook, status
 * file) subscribe, and readiness conditions hold "running" back as gates. */
#ifndef DOCK_LIFECYCLE_H
#define DOCK_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

enum dock_state {
	DOCK_STATE_STARTING,
	DOCK_STATE_RUNNING,
	DOCK_STATE_CRASHED,
};

struct dock_status {
	enum dock_state state;
	pid_t pid;		/* the main command, 0 before it exists */
	int exit_code;		/* with CRASHED: dock's code for it (128+N if signalled) */
	int signal;		/* with CRASHED: the signal that ended it, or 0 */
	long long since;	/* wall-clock seconds when the state began */
};

typedef void (*dock_lifecycle_fn)(const struct dock_status *st, void *ctx);

const char *dock_state_name(enum dock_state s);

/* Adds a reporter; it is told of the current state at once, then of every
 * change. At most DOCK_LIFECYCLE_MAX_SUBSCRIBERS. */
#define DOCK_LIFECYCLE_MAX_SUBSCRIBERS 4
int dock_lifecycle_subscribe(dock_lifecycle_fn fn, void *ctx);

/* A readiness condition: "running" waits until every gate added before the
 * command started has been opened. Returns the gate's id. */
int dock_lifecycle_add_gate(const char *name);
void dock_lifecycle_open_gate(int gate);

void dock_lifecycle_started(pid_t pid);		/* exec succeeded */
void dock_lifecycle_ended(int exit_code, int signal);
const struct dock_status *dock_lifecycle_current(void);

#endif
