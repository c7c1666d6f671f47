/* The rest of the process tree once the main command has ended. */
#ifndef DOCK_TREE_H
#define DOCK_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "procfs.h"

/* Every process of /proc with its parent, sorted by pid, and which of them
 * are dock's descendants. */
struct dock_tree {
	struct dock_proc_link *tab;
	unsigned char *inside;	/* inside[i]: tab[i] descends from dock */
	size_t n;
};

/* Reads the table. Returns 0, or -1 when /proc cannot be read. Memory grows
 * with the number of processes only, and is freed by dock_tree_free. */
int dock_tree_read(struct dock_tree *t);
void dock_tree_free(struct dock_tree *t);

/* dock's own pid as the mounted /proc numbers it: in a PID namespace whose
 * /proc is the parent's, getpid() would name another process there. */
pid_t dock_tree_self(void);

/* Sends sig to every process of dock's tree: as PID 1 every process of the
 * namespace, otherwise every descendant found in /proc (falling back to the
 * main command's process group when /proc cannot be read). Returns how many
 * processes were signalled, as far as known, or -1. */
int dock_tree_signal(int sig, bool pid1, pid_t fallback_pgrp);

#endif
