/* The main command's status as the platform sees it: starting, running, and
 * at the end stopped or crashed. Every transition happens in this file;
 * reporters (web hook, status file) subscribe, and readiness conditions hold
 * "running" back as gates. */
#ifndef DOCK_LIFECYCLE_H
#define DOCK_LIFECYCLE_H

#include <stdbool.h>

#include "state.h"

typedef void (*dock_lifecycle_fn)(const struct dock_status *st, void *ctx);

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

#endif
