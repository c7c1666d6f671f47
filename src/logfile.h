/* The log file of a file --io: appending, and (with --log-rotate or
 * --log-max-size) rotation at line boundaries with gzip archives. */
#ifndef DOCK_LOGFILE_H
#define DOCK_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dock_logfile;

/* What the log file needs of the configuration. With neither a period nor a
 * size the file is direct: no rotation. */
struct dock_logfile_settings {
	uint64_t period_ms;	/* --log-rotate; 0: no periodic rotation */
	uint64_t max_size;	/* --log-max-size; 0: no size limit */
	unsigned keep;		/* --log-keep; 0: the default, 5 */
};

/* Opens (creating 0666 less the umask, appending) path, a file system path
 * as it is (the --io URL was parsed by options.c). Returns NULL with a
 * message in err when it cannot be opened: an exit-1 error before the
 * command starts. The open never blocks: a FIFO without a reader is such
 * an error. */
struct dock_logfile *dock_logfile_open(const char *path, const struct dock_logfile_settings *set,
				       char *err, size_t errlen);

/* True when nothing needs dock between the command and the file (no
 * rotation): the command then gets the file's fd itself, and no byte is
 * copied at all. */
bool dock_logfile_direct(const struct dock_logfile *lf);
/* The file's fd, non-blocking. Stable only for a direct file: with
 * rotation each rotation opens a new file, so use the functions below to
 * write. */
int dock_logfile_fd(const struct dock_logfile *lf);

/* Appends buf, cutting a due rotation at the end of a line inside it.
 * Returns len: what the disk cannot take (full after deleting the oldest
 * archives, or another write error) is dropped and counted, with one
 * warning per episode saying how much, so the command never blocks on a
 * full disk. */
ssize_t dock_logfile_write(struct dock_logfile *lf, const char *buf, size_t len);

/* Moves up to max bytes from a pipe into the file without copying through
 * user space (while a rotation waits for a line's end, the bytes go through
 * dock_logfile_write instead). Returns bytes taken from the pipe (dropped
 * ones included, as above), 0 at EOF, -1 with errno (EAGAIN: the pipe is
 * empty; EINVAL: splice unsupported, use read + write: always so for a
 * direct file, which is O_APPEND). */
ssize_t dock_logfile_splice(struct dock_logfile *lf, int pipefd, size_t max);

/* Called once the command's streams are closed: no more rotations, and
 * compression of pending archives may run for at most 3 s more (what is
 * not done by then stays uncompressed as FILE_STAMP, or, if its compressor
 * had to be killed and did not go at once, under its hidden name; the next
 * start of dock compresses both). Run the loop while dock_logfile_busy. */
void dock_logfile_finish(struct dock_logfile *lf);

/* True while pending archives remain (the loop must keep running). */
bool dock_logfile_busy(const struct dock_logfile *lf);

/* Closes the file and frees lf; pending archives are left uncompressed as
 * above, and an unreported loss of output is reported. NULL is a no-op. */
void dock_logfile_close(struct dock_logfile *lf);

#endif
