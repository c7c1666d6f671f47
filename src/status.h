/* Pure mapping from the main command's wait status to dock's exit code. */
#ifndef DOCK_STATUS_H
#define DOCK_STATUS_H

#include "options.h"

/* The shell convention: the exit code, or 128+N when killed by signal N. */
int dock_status_exit_code(int wstatus);

/* The signal that ended the command, or 0 when it exited. */
int dock_status_signal(int wstatus);

/* Applies --remap-exit to code, last of all. */
int dock_status_remap(const struct dock_config *cfg, int code);

#endif
