/* Where the command's streams go (--io, --stdout-prefix): sets up the fds
 * the command gets, and the pumps that move its bytes while it runs. */
#ifndef DOCK_IO_H
#define DOCK_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "options.h"
#include "spawn.h"

/* Opens the file or connects the peer, makes the pipes or the pty, and
 * fills sio. Returns 0, or -1 with a message in err (an exit-1 failure
 * before the command starts). */
int dock_io_setup(const struct dock_config *cfg, struct dock_spawn_io *sio, char *err,
		  size_t errlen);

/* After the spawn: closes dock's copies of the command's ends and starts
 * the pumps. pid is the command (for SIGHUP when an interactive peer goes). */
void dock_io_started(pid_t pid);

/* At exit, once the tree is gone: true while output is still on its way
 * or the log file still compresses; the loop runs until this is false or
 * the drain deadline passes. Once the pumps are empty it closes the TLS
 * session and tells the log file to finish. */
bool dock_io_busy(void);

/* Last of all: closes the log file (reporting any loss). */
void dock_io_close(void);

#endif
