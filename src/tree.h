/* The rest of the process tree once the main command has ended. */
#ifndef DOCK_TREE_H
#define DOCK_TREE_H

#include <stdbool.h>
#include <sys/types.h>

/* Sends sig to every process of dock's tree: as PID 1 every process of the
 * namespace, otherwise every descendant found in /proc (falling back to the
 * main command's process group when /proc cannot be read). Returns how many
 * processes were signalled, as far as known, or -1. */
int dock_tree_signal(int sig, bool pid1, pid_t fallback_pgrp);

#endif
