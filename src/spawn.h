/* fork/exec of the main command, with exec failure reported through a
 * close-on-exec pipe rather than guessed from an exit code. */
#ifndef DOCK_SPAWN_H
#define DOCK_SPAWN_H

#include <sys/types.h>

/* Starts argv[0] (PATH lookup as execvp) in its own process group, made the
 * terminal's foreground group when stdin is dock's controlling terminal.
 * The child gets the original signal mask, default dispositions and only
 * fds 0, 1, 2. Returns the pid; on failure returns -1 with *exit_code set to
 * 127 (not found) or 126 (cannot be executed), after one message. */
pid_t dock_spawn(char **argv, int *exit_code);

#endif
