/* Helper processes: the short-lived children dock forks for work that must
 * not run in its loop (the log finisher's fsync and unlink). */
#ifndef DOCK_CHILD_H
#define DOCK_CHILD_H

#include <sys/types.h>

/* Closes every fd from 3 up except the n in keep (any order; -1 entries are
 * ignored). close_range where the kernel has it (5.9), else close() over
 * every number below the fd limit. Returns 0, or -1 if some fd could not be
 * closed. */
int dock_close_fds_except(const int *keep, unsigned n);

#endif
