/* Helper processes: the children dock forks for work that must not run in
 * its loop (the web hook's name lookup, the log archive's fsync and unlink).
 * Every one is made the same way, by dock_child_fork(). */
#ifndef DOCK_CHILD_H
#define DOCK_CHILD_H

#include <sys/types.h>

/* Closes every fd from 3 up except the n in keep (any order; -1 entries are
 * ignored). close_range where the kernel has it (5.9), else close() over
 * every number below the fd limit. Returns 0, or -1 if some fd could not be
 * closed. */
int dock_close_fds_except(const int *keep, unsigned n);

/* Marks every fd from 3 up close-on-exec: fds dock inherited from whoever
 * started it (a runtime's leaked socket, a shell's fd 3) must not pass on
 * to the command, while the ones it still needs up to the exec (the exec
 * error pipe) stay open. close_range where the kernel has it (5.11 for
 * this flag), else fcntl over every number below the fd limit. Makes only
 * system calls, so it may run in the command's vfork-style child. */
void dock_cloexec_from_3(void);

/* Forks a helper. In the child, before it returns 0:
 *  - dock's signal mask stays as it is (every signal dock handles blocked):
 *    the tree shutdown's SIGTERM, sent to every process when the command
 *    ends, must not end work dock still waits for; SIGKILL (the shutdown's
 *    last step, or dock's own kill of a helper it gave up on) bounds it;
 *  - the parent-death signal is SIGKILL, and the child exits at once if dock
 *    died before that was set: no helper outlives dock;
 *  - every fd but the n in keep is closed, so copies of dock's fds (a
 *    peer's socket, the command's pipes) do not keep their peers waiting.
 * In dock it returns the child's pid and, when pidfd is not NULL, stores a
 * pidfd for it (taken before the loop runs again, so before the reaper can
 * reap the child: it surely names it), or -1 where the kernel has none.
 * Returns -1 with errno set when fork fails. */
pid_t dock_child_fork(const int *keep, unsigned n, int *pidfd);

#endif
