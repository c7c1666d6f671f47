/* The log file of a file --io: appending, and (with --log-rotate or
 * --log-max-size) rotation at line boundaries with gzip archives. */
#ifndef DOCK_LOGFILE_H
#define DOCK_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "options.h"

struct dock_logfile;

/* Opens (creating 0600, appending) path. Returns NULL with a message in err
 * when it cannot be opened: an exit-1 error before the command starts. */
struct dock_logfile *dock_logfile_open(const char *path, const struct dock_config *cfg,
				       char *err, size_t errlen);

/* True when nothing needs dock between the command and the file (no
 * rotation): the command then gets the file's fd itself, and no byte is
 * copied at all. */
bool dock_logfile_direct(const struct dock_logfile *lf);
int dock_logfile_fd(const struct dock_logfile *lf);

/* Appends buf. Returns the bytes taken (all of them, unless the disk is
 * full: then what fit, after one warning), or -1. */
ssize_t dock_logfile_write(struct dock_logfile *lf, const char *buf, size_t len);

/* Moves up to max bytes from a pipe into the file without copying through
 * user space. Returns bytes moved, 0 at EOF, -1 with errno (EAGAIN: the
 * pipe is empty; EINVAL: splice unsupported, use read + write). */
ssize_t dock_logfile_splice(struct dock_logfile *lf, int pipefd, size_t max);

/* Called once the command's streams are closed: finishes what must be
 * finished (pending archives) within the deadline. Returns true while
 * work remains. */
bool dock_logfile_busy(const struct dock_logfile *lf);

#endif
