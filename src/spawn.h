/* Spawn (vfork-style) and exec of the main command, with exec failure
 * reported through a close-on-exec pipe rather than guessed from an exit
 * code. */
#ifndef DOCK_SPAWN_H
#define DOCK_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* What the command's fds 0, 1, 2 become: -1 keeps dock's own. With ctty,
 * the command starts a session of its own with fd 0 (a pty slave) as its
 * controlling terminal. */
struct dock_spawn_io {
	int fd[3];
	bool ctty;
};

/* Starts argv[0] (PATH lookup as execvp) in its own process group, made the
 * terminal's foreground group when stdin is dock's controlling terminal.
 * The child gets the signal mask dock started with, default dispositions and only
 * fds 0, 1, 2. Returns the pid; on failure returns -1 with *exit_code set to
 * 127 (not found) or 126 (cannot be executed), after one message. */
pid_t dock_spawn(char **argv, const struct dock_spawn_io *io, int *exit_code);

#endif
