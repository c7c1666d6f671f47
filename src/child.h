/* Helper processes: the short-lived children dock forks for work that must
 * not run in its loop (a name lookup, an fsync, compressing an archive).
 * One set-up for all of them, so each behaves the same at dock's exit and
 * in the tree shutdown. */
#ifndef DOCK_CHILD_H
#define DOCK_CHILD_H

#include <sys/types.h>

/* Closes every fd from 3 up except the n in keep (any order; -1 entries are
 * ignored). close_range where the kernel has it (5.9), else close() over
 * every number below the fd limit. Returns 0, or -1 if some fd could not be
 * closed. */
int dock_close_fds_except(const int *keep, unsigned n);

/* Marks every fd from 3 up close-on-exec, so a program dock execs gets 0, 1
 * and 2 only while fds it still needs until the exec (the exec-error pipe)
 * stay open. close_range (5.11), else fcntl over every number below the fd
 * limit. */
void dock_cloexec_from_3(void);

/* First thing in a helper child, before it does anything else: default
 * signal dispositions and an empty mask (so the tree shutdown's SIGTERM and
 * SIGKILL end it like any process), SIGKILL when dock dies (no one would
 * read its answer), and an exit at once if dock died before that took hold.
 * parent is dock's pid taken before the fork. Then only the fds in keep
 * stay open. */
void dock_child_setup(pid_t parent, const int *keep, unsigned n);

#endif
