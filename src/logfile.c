/* The --io log file. Without rotation the command writes into the file
 * itself. With rotation dock is the file's only writer: the command writes
 * into a pipe, and the pump moves its bytes here, so dock knows where every
 * line ends and can rotate between two lines.
 *
 * A rotation renames the live file to a hidden name beside it and opens the
 * path anew: two system calls, nothing copied, so the command's output never
 * waits on it. A helper process then gzips the renamed content into
 * BASE_STAMP.gz (logarch.c), off dock's loop. Big files that dock deletes
 * itself (retention, dropped rotations) are shrunk a step at a time before
 * their last close. All names are in rotate.h; the rotation itself and the
 * timer are in logrotate.c, the directory work in logkeep.c.
 *
 * Every wait in here is bounded, and nothing stops the command's output: a
 * full disk drops output (counted, one warning), a failed compression keeps
 * the content uncompressed, a failed rotation keeps writing and retries. */
#include "logfile_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "options.h"

/* A due rotation waits for the end of the current line, but not without
 * bound: a stream without newlines would otherwise never rotate. */
#define LINE_WAIT_MAX (1024 * 1024)
/* -------------------------------------------------------------- writing */

/* Writes all of p, or drops what cannot be written (after deleting old
 * archives for room) and counts it: the command must never block on a
 * full disk. */
static void put(struct dock_logfile *lf, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(lf->fd, p, n);

		if (w > 0) {
			lf->size += (uint64_t)w;
			lf->last = (unsigned char)p[w - 1];
			lf->cut = false;
			p += w;
			n -= (size_t)w;
			dock_logkeep_end_full(lf);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && dock_logkeep_make_room(lf, errno))
			continue;
		dock_logkeep_count_lost(lf, n, w < 0 ? errno : ENOSPC);
		return;
	}
}

/* ------------------------------------------------------------ public API */

/* Splits path into directory and name. A symlink is resolved first, so
 * that rotation renames the file it points to, next to it, and not the
 * link. */
static int set_path(struct dock_logfile *lf, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	const char *slash;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, real) != NULL)
		path = real;
	if (strlen(path) >= sizeof(lf->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(lf->path, path);
	slash = strrchr(lf->path, '/');
	lf->dirlen = slash ? (size_t)(slash - lf->path) + 1 : 0;
	lf->base = lf->path + lf->dirlen;
	return 0;
}

/* Opens the live file's directory, which every later step goes through,
 * and its parent (to find the directory again if it is removed and made
 * anew; see refresh_dir). file is the live file as opened: the directory
 * must hold it under its name. Before the command runs. */
static int open_dirs(struct dock_logfile *lf, const struct stat *file, char *err, size_t errlen)
{
	char dir[PATH_MAX], real[PATH_MAX];
	struct stat st;
	char *slash;

	if (lf->dirlen == 0)
		strcpy(dir, ".");
	else if (lf->dirlen == 1)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(lf->dirlen - 1), lf->path);
	lf->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (lf->dirfd < 0 || fstat(lf->dirfd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot open its directory: %s", lf->path, strerror(errno));
		return -1;
	}
	lf->dir_uid = st.st_uid;
	if (fstatat(lf->dirfd, lf->base, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != file->st_dev ||
	    st.st_ino != file->st_ino) {
		snprintf(err, errlen, "%s: replaced while dock opened it", lf->path);
		return -1;
	}
	if (realpath(dir, real) == NULL || (slash = strrchr(real, '/')) == NULL || slash[1] == '\0' ||
	    strlen(slash + 1) >= sizeof(lf->dirname))
		return 0;	/* "/", or no name to look for: the fd is all */
	strcpy(lf->dirname, slash + 1);
	if (slash == real)
		slash[1] = '\0';
	else
		*slash = '\0';
	lf->parentfd = open(real, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	return 0;
}

/* Opens the --io path at start. The image may point it at a symlink
 * (/dev/stdout, a file kept elsewhere), which is followed, but only one
 * that root or dock's user made: a link the command left in a directory
 * it can write would otherwise have dock open any file on its behalf at
 * the next start. O_NONBLOCK: a FIFO without a reader fails (ENXIO)
 * instead of blocking dock's start for good. */
static int open_start(const char *path, bool direct, char *err, size_t errlen)
{
	int flags = O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (st.st_uid != 0 && st.st_uid != geteuid()) {
			snprintf(err, errlen, "%s: a symbolic link owned by uid %lu: not followed", path,
				 (unsigned long)st.st_uid);
			return -1;
		}
	} else {
		flags |= O_NOFOLLOW;	/* and none may appear there now */
	}
	if (stat(path, &st) == 0) {
		/* Rotation needs a regular file: anything else is not opened
		 * at all (a device's driver would see the open). */
		if (!direct && !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: %s, not a regular file: cannot rotate it", path,
				 dock_log_file_kind(st.st_mode));
			return -1;
		}
		/* A second name may be a hard link to a file the command could
		 * not write (or, with rotation, read): not opened either. */
		if (S_ISREG(st.st_mode) && st.st_nlink != 1) {
			snprintf(err, errlen, "%s: a file with %lu links: dock writes only a file with one name",
				 path, (unsigned long)st.st_nlink);
			return -1;
		}
	}
	/* The command gets a direct file's fd itself: O_APPEND, as every other
	 * writer of the file may expect. With rotation dock is the only
	 * writer (see open_live). A new file is 0666 less the umask, as the
	 * shell's `>` creates one: the umask is how the operator says who may
	 * read the logs. */
	fd = open(path, flags | (direct ? O_WRONLY | O_APPEND : O_RDWR), 0666);
	if (fd < 0) {
		if (errno == ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
			snprintf(err, errlen, "%s: a FIFO with no reader", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return fd;
}

struct dock_logfile *dock_logfile_open(const char *path, const struct dock_logfile_settings *set,
				       char *err, size_t errlen)
{
	struct dock_logfile *lf;
	struct stat st;
	off_t end;

	lf = calloc(1, sizeof(*lf));
	if (lf == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	lf->fd = lf->dirfd = lf->parentfd = -1;
	lf->helper_w.fd = lf->helper_pidfd = -1;
	if (path[0] == '\0') {
		snprintf(err, errlen, "--io: not a file path");
		goto fail;
	}
	lf->direct = set->period_ms == 0 && set->max_size == 0;
	lf->fd = open_start(path, lf->direct, err, errlen);
	if (lf->fd < 0)
		goto fail;
	if (set_path(lf, path) < 0 || fstat(lf->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* Permission bits only: a setuid or setgid bit on a file someone else
	 * prepared must never pass to files dock (often root) creates. */
	lf->mode = st.st_mode & 0777;
	lf->owner = st.st_uid;
	lf->last = -1;
	if (lf->direct)
		return lf;

	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s, not a regular file: cannot rotate it", lf->path,
			 dock_log_file_kind(st.st_mode));
		goto fail;
	}
	/* Checked again on what was opened (see open_start). */
	if (st.st_nlink != 1) {
		snprintf(err, errlen, "%s: a file with %lu links: dock writes only a file with one name",
			 lf->path, (unsigned long)st.st_nlink);
		goto fail;
	}
	if (open_dirs(lf, &st, err, errlen) < 0)
		goto fail;
	end = lseek(lf->fd, 0, SEEK_END);
	lf->size = end > 0 ? (uint64_t)end : 0;
	lf->period_ms = set->period_ms;
	lf->max_size = set->max_size;
	lf->keep = set->keep ? set->keep : DOCK_DEFAULT_LOG_KEEP;
	lf->next_period = dock_now_ms() + (int64_t)lf->period_ms;
	lf->timer.cb = dock_logrotate_on_timer;
	lf->timer.data = lf;
	dock_logkeep_recover(lf);
	dock_logfile_schedule(lf);
	return lf;
fail:
	if (lf) {
		if (lf->fd >= 0)
			close(lf->fd);
		if (lf->dirfd >= 0)
			close(lf->dirfd);
		if (lf->parentfd >= 0)
			close(lf->parentfd);
	}
	free(lf);
	return NULL;
}

bool dock_logfile_direct(const struct dock_logfile *lf)
{
	return lf->direct;
}

int dock_logfile_fd(const struct dock_logfile *lf)
{
	return lf->fd;
}

/* Caps a write at what the file may take before --log-max-size, so the
 * rotation comes at the first line end after the limit and not after
 * whatever the caller had in its buffer. */
static size_t up_to_limit(const struct dock_logfile *lf, size_t n)
{
	if (lf->max_size && lf->size < lf->max_size && n > lf->max_size - lf->size)
		return (size_t)(lf->max_size - lf->size);
	return n;
}

ssize_t dock_logfile_write(struct dock_logfile *lf, const char *buf, size_t len)
{
	size_t taken = 0;

	dock_logrotate_try(lf);
	while (taken < len) {
		size_t n = len - taken;

		if (dock_logrotate_wanted(lf) && !dock_logrotate_at_line_end(lf)) {
			/* Finish the current line here, rotate, then the rest. */
			const char *nl = memchr(buf + taken, '\n', n);

			if (nl)
				n = (size_t)(nl - (buf + taken)) + 1;
			lf->waited += n;
		} else {
			n = up_to_limit(lf, n);
		}
		put(lf, buf + taken, n);
		taken += n;
		if (dock_logrotate_wanted(lf)) {
			if (dock_logrotate_at_line_end(lf)) {
				dock_logrotate_now(lf);
			} else if (lf->waited >= LINE_WAIT_MAX) {
				dock_debug("%s: no line end in %d bytes; rotating mid-line", lf->path,
					   LINE_WAIT_MAX);
				dock_logrotate_now(lf);
			}
		}
	}
	return (ssize_t)len;
}

/* Reads what the pipe holds into scratch for the write path. */
static ssize_t read_pipe(struct dock_logfile *lf, int pipefd, size_t max)
{
	ssize_t n;

	if (max > sizeof(lf->scratch))
		max = sizeof(lf->scratch);
	do
		n = read(pipefd, lf->scratch, max);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t dock_logfile_splice(struct dock_logfile *lf, int pipefd, size_t max)
{
	ssize_t n;

	if (lf->direct) {
		/* The file is O_APPEND, which splice refuses. */
		errno = EINVAL;
		return -1;
	}
	dock_logrotate_try(lf);
	if (dock_logrotate_wanted(lf)) {
		/* Mid-line with a rotation due: the bytes must be seen to cut
		 * at the line's end, so this call copies through user space. */
		n = read_pipe(lf, pipefd, max);
		if (n > 0)
			dock_logfile_write(lf, lf->scratch, (size_t)n);
		return n;
	}
	max = up_to_limit(lf, max);
	for (;;) {
		n = splice(pipefd, NULL, lf->fd, NULL, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			lf->size += (uint64_t)n;
			lf->last = -1;
			lf->cut = false;
			dock_logkeep_end_full(lf);
			dock_logrotate_try(lf);
			return n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EINVAL || errno == EBADF)
			return -1;
		if (dock_logkeep_make_room(lf, errno))
			continue;
		/* The file takes nothing (disk full, I/O error): drop what the
		 * pipe holds, so the command does not block for good. */
		{
			int saved = errno;

			n = read_pipe(lf, pipefd, max);
			if (n > 0)
				dock_logkeep_count_lost(lf, (uint64_t)n, saved);
			return n;
		}
	}
}

bool dock_logfile_busy(const struct dock_logfile *lf)
{
	return !lf->direct && lf->njobs > 0;
}

void dock_logfile_finish(struct dock_logfile *lf)
{
	if (lf->direct || lf->finishing)
		return;
	lf->finishing = true;
	lf->due = false;
	lf->drain_deadline = dock_now_ms() + DRAIN_MS;
	dock_logarch_finish(lf);
	dock_logrotate_archive_orphaned(lf);
	dock_logfile_schedule(lf);
}

void dock_logfile_close(struct dock_logfile *lf)
{
	if (lf == NULL)
		return;
	if (!lf->direct) {
		dock_logarch_close(lf);
		dock_timer_cancel(&lf->timer);
	}
	dock_logkeep_report_full(lf);
	/* What is left to shrink is freed by these closes: dock is done. */
	while (lf->nshred > 0)
		close(lf->shred[--lf->nshred]);
	if (lf->fd >= 0)
		close(lf->fd);
	if (lf->dirfd >= 0)
		close(lf->dirfd);
	if (lf->parentfd >= 0)
		close(lf->parentfd);
	free(lf);
}
