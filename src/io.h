/* Where the command's streams go (--io, --stdout-prefix): sets up the fds
 * the command gets, and the pumps that move its bytes while it runs. */
#ifndef DOCK_IO_H
#define DOCK_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "logfile.h"
#include "options.h"
#include "prefix.h"
#include "spawn.h"
#include "url.h"

/* What this module takes of the configuration. Everything pointed to must
 * outlive dock's use of the module. */
struct dock_io_settings {
	const struct dock_io_target *targets;	/* --io, in the order given */
	const char *const *texts;		/* each as given (redacted for messages) */
	size_t n;				/* 0: the command inherits dock's streams */
	const struct dock_prefix *stdout_prefix;	/* len 0: none */
	const struct dock_prefix *stderr_prefix;
	bool timestamps;			/* --log-timestamps */
	bool tls_insecure;
	uint64_t connect_timeout_ms;		/* --io-connect-timeout */
	/* With rotation, the option that asks for it ("--log-rotate" or
	 * "--log-max-size"), else NULL; log holds the rotation settings of
	 * every file --io. */
	const char *rotation;
	struct dock_logfile_settings log;
};

/* Usage errors only the file system can tell, checked before anything is
 * opened: rotation renames and recreates its file, so a file --io that is
 * a directory, FIFO, device or socket cannot be rotated. Returns 0, or -1
 * after a message (dock then exits 2). */
int dock_io_check_targets(const struct dock_io_settings *s);

/* Opens the file or connects the peer, makes the pipes or the pty, and
 * fills sio. Returns 0, or -1 after a message (an exit-1 failure before
 * the command starts). */
int dock_io_setup(const struct dock_io_settings *s, struct dock_spawn_io *sio);

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
