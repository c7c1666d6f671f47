/* Reaping: every zombie as soon as it appears, whoever its parent was. */
#ifndef DOCK_REAPER_H
#define DOCK_REAPER_H

#include <stdbool.h>
#include <sys/types.h>

struct dock_reaper {
	pid_t main_pid;
	bool main_done;
	int main_status;	/* wait status of the main command */
	unsigned long reaped;	/* every process reaped so far */
};

/* Reaps until no zombie is left. Returns 1 when dock has no child at all
 * any more (the tree is empty), 0 otherwise. */
int dock_reaper_reap(struct dock_reaper *r);

#endif
