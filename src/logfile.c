/* The --io log file. Without rotation the command writes into the file
 * itself. With rotation dock is the file's only writer: the command writes
 * into a pipe, and the pump moves its bytes here, so dock knows where every
 * line ends and can rotate between two lines.
 *
 * A rotation renames the live file to a hidden name beside it and opens the
 * path anew: two system calls, nothing copied, so the command's output never
 * waits on it. The renamed content is then gzipped into BASE_STAMP.gz.tmp in
 * slices of about a millisecond from the loop's timer. A short-lived child
 * process syncs the archive, renames it to BASE_STAMP.gz and removes the raw
 * copy: the two steps that can block for tens of milliseconds. Big files
 * that dock deletes itself (retention, dropped rotations) are shrunk a step
 * at a time before their last close. All names are in rotate.h.
 *
 * Every wait in here is bounded, and nothing stops the command's output: a
 * full disk drops output (counted, one warning), a failed compression keeps
 * the content uncompressed, a failed rotation keeps writing and retries. */
#include "logfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "gzip.h"
#include "log.h"
#include "loop.h"
#include "rotate.h"

/* Rotated files awaiting compression. A rotation that finds the queue full
 * (the command logs faster than level-1 gzip runs, ~100-200 MB/s) renames
 * the content straight to its uncompressed archive name BASE_STAMP: nothing
 * is lost, the rotation is not delayed, the disk holds more, and the next
 * start of dock compresses it. */
#define MAX_PENDING 4
/* One more slot, used only at exit: the live file's content when its name
 * is no longer the live file's (removed, or taken by something dock would
 * not write through), archived from the fd dock holds. */
#define MAX_JOBS (MAX_PENDING + 1)
/* How long dock_logfile_finish lets compression run at exit. Beyond it the
 * remaining content is left uncompressed under its archive name. Docker
 * gives a container 10 s to stop, and the tree's shutdown comes first. */
#define DRAIN_MS 3000
/* A rotation that failed (directory gone, read-only) is retried at the next
 * period, or after this long when only --log-max-size triggers it. */
#define RETRY_MS 10000
/* A due rotation waits for the end of the current line, but not without
 * bound: a stream without newlines would otherwise never rotate. */
#define LINE_WAIT_MAX (1024 * 1024)
/* During a disk-full episode: one warning when it ends, or this often while
 * it lasts. */
#define DISK_FULL_REPORT_MS 60000
/* After finding no archive to delete, look again only this much later: a
 * full disk otherwise costs a directory scan per write. */
#define VICTIM_RESCAN_MS 1000
/* Deleting a big file frees its blocks and cached pages inside unlink or
 * the last close: ~300 ms for 500 MB on ext4. dock unlinks while it holds
 * an fd and then shrinks the file by this much per step between events
 * (~1 ms each), closing it once empty; the queue bounds the fds held. */
#define SHRED_STEP (1024 * 1024)
#define MAX_SHRED 16
/* Compression and shredding run from the timer for about this long per
 * loop turn (at least one step), then the pipes get their turn. A fixed
 * step per turn would fall behind a writer that the pump serves many
 * steps per turn. */
#define SLICE_BUDGET_US 1000
/* Bounds one retention scan of a directory with very many archives. */
#define SCAN_MAX_KEYS 65536
/* An archive is data to read, never a program: the live file's read and
 * write bits only. */
#define ARCHIVE_MODE(lf) ((lf)->mode & 0666)
#define SCRATCH_SIZE (16 * 1024)

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)	/* linux/fs.h; musl's headers lack it */
#endif

enum job_source {
	SRC_RAW,	/* .BASE_STAMP.raw */
	SRC_PLAIN,	/* BASE_STAMP, left uncompressed by an earlier run */
	SRC_UNLINKED,	/* the live file was removed under dock: only the fd */
};

struct job {
	int fd;			/* the content, read from offset 0 */
	int tmp_fd;		/* BASE_STAMP.gz.tmp once started, else -1 */
	struct dock_archive_key key;
	enum job_source src;
};

struct dock_logfile {
	bool direct;
	int fd;
	mode_t mode;			/* of the live file, for its successors */
	char path[PATH_MAX];		/* for messages only: dock's cwd may change */
	size_t dirlen;			/* path[0..dirlen) is the directory, with '/' */
	const char *base;		/* the file's name, inside path */

	/* Every file operation after start goes through these fds, by a
	 * name without '/': see "Files in a directory the command can write"
	 * below. */
	int dirfd;			/* the log's directory */
	int parentfd;			/* its parent, or -1 (see refresh_dir) */
	char dirname[NAME_MAX + 1];	/* the directory's name in the parent */
	uid_t dir_uid;			/* the directory's owner at start */
	uid_t owner;			/* the live file's owner at start */
	/* The live content is under the RAW name of aside_key, not under
	 * base: a rotation renamed it and could neither open a successor nor
	 * put it back (something dock will not remove took the name). */
	bool aside;
	struct dock_archive_key aside_key;

	/* dock is the only writer, so its offset is the file's size. */
	uint64_t size;
	int last;			/* last byte written, -1 unknown (after splice) */
	bool cut;			/* output was dropped since the last write */

	uint64_t period_ms, max_size;
	unsigned keep;
	int64_t next_period;		/* absolute, dock_now_ms() */
	bool due;			/* the period asks for a rotation */
	uint64_t waited;		/* bytes written while due, mid-line */
	int64_t blocked_until;		/* after a failed rotation */
	bool rotate_failing;		/* warned once for this run of failures */
	struct dock_archive_key last_key;

	struct job jobs[MAX_JOBS];
	unsigned njobs;
	struct dock_gzip *gz;		/* only while jobs exist */
	/* The first job's archive is complete and a child process is
	 * finishing it (see start_finish); its pipe reports the outcome. */
	bool syncing;
	struct dock_watcher sync_w;
	int64_t parked_until;		/* compression cannot go on before */
	bool compress_failing;
	bool overflow_warned;
	bool leftovers;			/* uncompressed content beyond the queue */
	bool finishing;
	int64_t drain_deadline;

	/* One disk-full (or write error) episode. */
	bool full;
	int full_errno;
	uint64_t lost;
	unsigned dropped_archives;
	int64_t full_report_at;
	int64_t victims_rescan_at;

	int shred[MAX_SHRED];		/* unlinked files to shrink, oldest first */
	unsigned nshred;

	struct dock_timer timer;
	char name[PATH_MAX], name2[PATH_MAX], name3[PATH_MAX];
	char scratch[SCRATCH_SIZE];
};

static void schedule(struct dock_logfile *lf);
static void retention(struct dock_logfile *lf);
static void recover(struct dock_logfile *lf);

/* ----------------------------------- files in a directory the command can write

   The command may own the log's directory and put anything at any name
   there, at any moment: a symlink to a file only root may read or write,
   a hard link to one, a FIFO (an open of it blocks), a device node, a
   directory. Once the command runs, dock therefore works only through the
   directory's fd taken at start (openat, renameat, unlinkat, fstatat with
   a name without '/'), opens with O_NOFOLLOW|O_NONBLOCK, and opens an
   existing name only after fstatat showed a regular file, then checks with
   fstat that it opened that same file: regular, a single link, owned by
   dock's user or by the live file's owner at start. Anything else is left
   alone with a warning (or, where only a name is lost, removed), and dock
   writes on into the file it holds. */

/* NULL when st is a file dock may write, read back or compress; else what
 * it is, for a message (in buf when it needs a number). */
static const char *check_file(const struct dock_logfile *lf, const struct stat *st, char *buf,
			      size_t len)
{
	if (!S_ISREG(st->st_mode))
		return dock_log_file_kind(st->st_mode);
	if (st->st_nlink != 1) {
		snprintf(buf, len, "a file with %lu links", (unsigned long)st->st_nlink);
		return buf;
	}
	if (st->st_uid != geteuid() && st->st_uid != lf->owner) {
		snprintf(buf, len, "a file owned by uid %lu", (unsigned long)st->st_uid);
		return buf;
	}
	return NULL;
}

/* The name inside the directory of a path built by archive_path. */
static const char *name_of(const struct dock_logfile *lf, const char *path)
{
	return path + lf->dirlen;
}

/* Opens an existing name of the directory (flags: O_RDONLY, O_WRONLY or
 * O_RDWR) if it passes check_file. Returns the fd, or -1 with errno set
 * and *why saying what was found there when that is the reason (a buffer
 * of 48 bytes in why_buf). fstatat comes first so that nothing but a
 * regular file is opened at all (a device's driver sees no open); the
 * fstat after makes sure the file opened is the one checked. */
static int open_existing(struct dock_logfile *lf, const char *name, int flags, const char **why,
			 char *why_buf)
{
	struct stat before, st;
	int fd;

	*why = NULL;
	if (fstatat(lf->dirfd, name, &before, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if ((*why = check_file(lf, &before, why_buf, 48)) != NULL) {
		errno = EPERM;
		return -1;
	}
	fd = openat(lf->dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (*why = check_file(lf, &st, why_buf, 48)) != NULL ||
	    st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
		if (*why == NULL)
			*why = "a file swapped while it was opened";
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* Removes whatever is at name when that loses nothing but a name: not a
 * regular file with a single link (its content would go), nor a
 * directory that is not empty. unlinkat never follows or opens it. */
static int remove_planted(struct dock_logfile *lf, const char *name)
{
	struct stat st;

	if (fstatat(lf->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
		errno = EEXIST;
		return -1;
	}
	return unlinkat(lf->dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
}

/* A renamed or recreated log directory: the fd taken at start refers to a
 * directory that no longer has a name. The directory made anew under the
 * same name in the same parent is taken instead, if it is a directory (no
 * symlink is followed) owned by the same user as the first or by dock's. */
static void refresh_dir(struct dock_logfile *lf)
{
	struct stat st;
	int fd;

	if (lf->parentfd < 0 || fstat(lf->dirfd, &st) < 0 || st.st_nlink > 0)
		return;
	fd = openat(lf->parentfd, lf->dirname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_uid != lf->dir_uid && st.st_uid != geteuid())) {
		close(fd);
		return;
	}
	dock_debug("%s: its directory was made anew", lf->path);
	close(lf->dirfd);
	lf->dirfd = fd;
}

/* ------------------------------------------------------------------ names */

/* The path of an archive name in the log's directory, built in buf. NULL
 * (errno ENAMETOOLONG) when it does not fit. */
static const char *archive_path(struct dock_logfile *lf, char *buf, const struct dock_archive_key *key,
				enum dock_archive_kind kind)
{
	int n;

	if (lf->dirlen >= PATH_MAX)
		goto toolong;
	memcpy(buf, lf->path, lf->dirlen);
	n = dock_rotate_name(buf + lf->dirlen, PATH_MAX - lf->dirlen, lf->base, key, kind);
	if (n < 0)
		goto toolong;
	return buf;
toolong:
	errno = ENAMETOOLONG;
	return NULL;
}

static bool archive_exists(struct dock_logfile *lf, const struct dock_archive_key *key)
{
	static const enum dock_archive_kind kinds[] = { DOCK_ARCHIVE_GZ, DOCK_ARCHIVE_PLAIN,
							DOCK_ARCHIVE_RAW, DOCK_ARCHIVE_TMP };
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *p = archive_path(lf, lf->name2, key, kinds[i]);

		if (p && fstatat(lf->dirfd, name_of(lf, p), &st, AT_SYMLINK_NOFOLLOW) == 0)
			return true;
	}
	return false;
}

/* Lets go of an fd: a big file that has no name any more is queued for
 * shrinking instead, so that its freeing never lands on the loop at once. */
static void release_fd(struct dock_logfile *lf, int fd)
{
	struct stat st;

	if (fd < 0)
		return;
	if (lf->nshred < MAX_SHRED && fstat(fd, &st) == 0 && st.st_nlink == 0 &&
	    S_ISREG(st.st_mode) && st.st_size > SHRED_STEP && (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY) {
		lf->shred[lf->nshred++] = fd;
		return;
	}
	close(fd);
}

/* Shrinks the oldest queued file by one step; closes it once empty. */
static void shred_step(struct dock_logfile *lf)
{
	int fd = lf->shred[0];
	struct stat st;

	if (fstat(fd, &st) == 0 && st.st_size > SHRED_STEP &&
	    ftruncate(fd, st.st_size - SHRED_STEP) == 0)
		return;
	close(fd);
	memmove(&lf->shred[0], &lf->shred[1], (lf->nshred - 1) * sizeof(lf->shred[0]));
	lf->nshred--;
}

/* Removes one name of an archive. now: free the space at once (the disk
 * is full), else through the shredder. Returns true when the name existed
 * and is gone. */
static bool remove_name(struct dock_logfile *lf, const struct dock_archive_key *key,
			enum dock_archive_kind kind, bool now)
{
	const char *p = archive_path(lf, lf->name2, key, kind), *why;
	char why_buf[48];
	struct stat st;
	int fd = -1;

	if (p == NULL || fstatat(lf->dirfd, name_of(lf, p), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (S_ISDIR(st.st_mode)) {
		dock_debug("%s: %s is a directory, not an archive: left alone", lf->path, p);
		return false;
	}
	/* Only a big file that is really ours is worth an fd to shrink it. */
	if (!now && S_ISREG(st.st_mode) && st.st_size > SHRED_STEP)
		fd = open_existing(lf, name_of(lf, p), O_WRONLY, &why, why_buf);
	if (unlinkat(lf->dirfd, name_of(lf, p), 0) == 0) {
		release_fd(lf, fd);
		return true;
	}
	if (errno != ENOENT)
		dock_warn("%s: cannot remove %s", lf->path, p);
	if (fd >= 0)
		close(fd);
	return false;
}

static bool unlink_kind(struct dock_logfile *lf, const struct dock_archive_key *key, enum dock_archive_kind kind)
{
	return remove_name(lf, key, kind, false);
}

/* Calls fn for every entry of the log's directory that is one of our
 * archive names. Returns -1 when the directory cannot be read. */
static int scan_dir(struct dock_logfile *lf,
		    void (*fn)(struct dock_logfile *lf, const struct dock_archive_key *key,
			       enum dock_archive_kind kind, void *arg),
		    void *arg)
{
	struct dock_archive_key key;
	enum dock_archive_kind kind;
	struct dirent *de;
	DIR *d;
	int fd;

	/* A description of its own: readdir moves its offset. */
	fd = openat(lf->dirfd, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (dock_rotate_parse(lf->base, de->d_name, &key, &kind) == 0)
			fn(lf, &key, kind, arg);
	closedir(d);
	return 0;
}

/* True when name is a regular file: only those count as archives (for
 * retention, room on a full disk, and the newest name). */
static bool is_regular(struct dock_logfile *lf, const struct dock_archive_key *key,
		       enum dock_archive_kind kind)
{
	char buf[PATH_MAX];
	const char *p = archive_path(lf, buf, key, kind);
	struct stat st;

	return p != NULL && fstatat(lf->dirfd, name_of(lf, p), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

/* ------------------------------------------------------------- disk full */

static void report_disk_full(struct dock_logfile *lf)
{
	char deleted[96] = "";

	if (!lf->full)
		return;
	if (lf->dropped_archives)
		snprintf(deleted, sizeof(deleted), "; deleted %u oldest archive(s) to make room",
			 lf->dropped_archives);
	if (lf->lost)
		dock_warnx("%s: %s: %llu bytes of output lost%s", lf->path, strerror(lf->full_errno),
			   (unsigned long long)lf->lost, deleted);
	else
		dock_warnx("%s: %s%s", lf->path, strerror(lf->full_errno), deleted);
	lf->lost = 0;
	lf->dropped_archives = 0;
	lf->full_report_at = dock_now_ms() + DISK_FULL_REPORT_MS;
}

static void begin_full(struct dock_logfile *lf, int err)
{
	if (!lf->full) {
		lf->full = true;
		lf->full_errno = err;
		lf->full_report_at = dock_now_ms() + DISK_FULL_REPORT_MS;
	}
}

/* A write went through: a disk-full episode, if any, is over. */
static void end_full(struct dock_logfile *lf)
{
	if (lf->full) {
		report_disk_full(lf);
		lf->full = false;
	}
}

static void count_lost(struct dock_logfile *lf, uint64_t n, int err)
{
	begin_full(lf, err);
	lf->cut = true;
	lf->lost += n;
	if (dock_now_ms() >= lf->full_report_at)
		report_disk_full(lf);
}

static void find_oldest(struct dock_logfile *lf, const struct dock_archive_key *key,
			enum dock_archive_kind kind, void *arg)
{
	struct dock_archive_key *oldest = arg;

	if ((kind == DOCK_ARCHIVE_GZ || kind == DOCK_ARCHIVE_PLAIN) &&
	    (oldest->stamp == 0 || dock_rotate_key_cmp(key, oldest) < 0) && is_regular(lf, key, kind))
		*oldest = *key;
}

static void forget_jobs_of(struct dock_logfile *lf, const struct dock_archive_key *key);

/* Deletes the oldest archive of this log to make room on a full disk.
 * Returns false when there is none. */
static bool make_room(struct dock_logfile *lf, int err)
{
	struct dock_archive_key oldest = { 0, 0 };
	int64_t now = dock_now_ms();

	if (err != ENOSPC && err != EDQUOT)
		return false;
	if (now < lf->victims_rescan_at)
		return false;
	if (scan_dir(lf, find_oldest, &oldest) < 0 || oldest.stamp == 0) {
		lf->victims_rescan_at = now + VICTIM_RESCAN_MS;
		return false;
	}
	forget_jobs_of(lf, &oldest);
	/* Both forms, and "made room" only if one went: an undeletable
	 * archive (read-only directory) must not make the caller retry
	 * for ever. */
	if (!(remove_name(lf, &oldest, DOCK_ARCHIVE_GZ, true) |
	      remove_name(lf, &oldest, DOCK_ARCHIVE_PLAIN, true))) {
		lf->victims_rescan_at = now + VICTIM_RESCAN_MS;
		return false;
	}
	begin_full(lf, err);
	lf->dropped_archives++;
	return true;
}

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
			end_full(lf);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && make_room(lf, errno))
			continue;
		count_lost(lf, n, w < 0 ? errno : ENOSPC);
		return;
	}
}

/* --------------------------------------------------------------- rotation */

static bool rotation_wanted(struct dock_logfile *lf)
{
	if (lf->direct || lf->finishing)
		return false;
	if (!lf->due && !(lf->max_size && lf->size >= lf->max_size))
		return false;
	if (lf->blocked_until && dock_now_ms() < lf->blocked_until)
		return false;
	return true;
}

/* True when the file ends with a complete line (or is empty). After a
 * splice dock has not seen the bytes, so it reads back the last one. */
static bool at_line_end(struct dock_logfile *lf)
{
	unsigned char c;

	/* The rest of a line cut by a full disk will never come: waiting for
	 * its end would hold the rotation (which frees room) for good. */
	if (lf->size == 0 || lf->cut)
		return true;
	if (lf->last < 0) {
		if (pread(lf->fd, &c, 1, (off_t)(lf->size - 1)) != 1)
			return true;	/* unreadable: do not hold the rotation forever */
		lf->last = c;
	}
	return lf->last == '\n';
}

static void rotation_failed(struct dock_logfile *lf, const char *what)
{
	if (!lf->rotate_failing)
		dock_warn("%s: cannot rotate (%s); writing on, will retry", lf->path, what);
	else
		dock_debug("%s: rotation failed again (%s): %s", lf->path, what, strerror(errno));
	lf->rotate_failing = true;
	lf->blocked_until = dock_now_ms() + RETRY_MS;
}

/* Opens the live name for a new file. O_APPEND is left out on purpose:
 * splice(2) refuses a file opened with it (EINVAL), and dock is the only
 * writer, so its offset is the end anyway. */
static int open_live(struct dock_logfile *lf)
{
	const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	const char *why;
	char why_buf[48];
	int fd = openat(lf->dirfd, lf->base, flags | O_CREAT | O_EXCL, lf->mode);

	if (fd >= 0) {
		/* The umask may have narrowed the mode; the successor gets the
		 * mode the file had (a shipper may need to read it). */
		(void)fchmod(fd, lf->mode);
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	/* Someone made the file between the rename and now: append to it,
	 * if it is one dock may write. */
	fd = open_existing(lf, lf->base, O_RDWR, &why, why_buf);
	if (fd >= 0) {
		if (lseek(fd, 0, SEEK_END) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if (why == NULL)
		return -1;
	/* Something planted at the live name: a symlink, FIFO, device, hard
	 * link or empty directory loses only its name; the file is made anew. */
	if (remove_planted(lf, lf->base) == 0) {
		dock_warnx("%s: found %s at the log file's name: removed it", lf->path, why);
		fd = openat(lf->dirfd, lf->base, flags | O_CREAT | O_EXCL, lf->mode);
		if (fd >= 0)
			(void)fchmod(fd, lf->mode);
		return fd;
	}
	dock_warnx("%s: found %s at the log file's name: left alone; writing on to the file dock has open",
		   lf->path, why);
	errno = EEXIST;
	return -1;
}

/* Gives the live name back to the file just renamed from it (RENAME_NOREPLACE:
 * whatever took the name meanwhile is neither replaced nor followed). */
static int put_back(struct dock_logfile *lf, const char *raw)
{
	struct stat st;

	if (syscall(SYS_renameat2, lf->dirfd, name_of(lf, raw), lf->dirfd, lf->base, RENAME_NOREPLACE) == 0)
		return 0;
	/* A file system without RENAME_NOREPLACE: a plain rename, only while
	 * the name is free (what could take it in between loses its name). */
	if ((errno == EINVAL || errno == ENOSYS) &&
	    fstatat(lf->dirfd, lf->base, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return renameat(lf->dirfd, name_of(lf, raw), lf->dirfd, lf->base);
	return -1;
}

/* Where the file dock writes is now. */
enum live_at { LIVE_AT_BASE, LIVE_ASIDE, LIVE_ELSEWHERE };

static enum live_at live_state(struct dock_logfile *lf)
{
	struct stat fst, pst;
	const char *p = lf->base;

	if (fstat(lf->fd, &fst) < 0 || fst.st_nlink == 0)
		return LIVE_ELSEWHERE;
	if (lf->aside && (p = archive_path(lf, lf->name3, &lf->aside_key, DOCK_ARCHIVE_RAW)) != NULL)
		p = name_of(lf, p);
	if (p != NULL && fstatat(lf->dirfd, p, &pst, AT_SYMLINK_NOFOLLOW) == 0 && pst.st_dev == fst.st_dev &&
	    pst.st_ino == fst.st_ino)
		return lf->aside ? LIVE_ASIDE : LIVE_AT_BASE;
	return LIVE_ELSEWHERE;
}

static bool next_key(struct dock_logfile *lf, struct dock_archive_key *key)
{
	time_t t = time(NULL);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return false;
	if (!dock_rotate_next_key(&lf->last_key, dock_rotate_stamp(&tm), key))
		return false;
	/* A name left by an earlier run of dock in the same second. */
	while (archive_exists(lf, key)) {
		if (key->seq == DOCK_ROTATE_SEQ_MAX)
			return false;
		key->seq++;
	}
	return true;
}

static void enqueue(struct dock_logfile *lf, int fd, const struct dock_archive_key *key, enum job_source src)
{
	struct job *j = &lf->jobs[lf->njobs++];

	j->fd = fd;
	j->tmp_fd = -1;
	j->key = *key;
	j->src = src;
}

static void stop_sync(struct dock_logfile *lf);

static void drop_job(struct dock_logfile *lf, unsigned i)
{
	struct job *j = &lf->jobs[i];
	/* A finishing child renames the archive by itself. */
	bool child_owns = i == 0 && lf->syncing;

	if (i == 0)
		stop_sync(lf);
	if (j->tmp_fd >= 0) {
		close(j->tmp_fd);
		if (!child_owns)
			unlink_kind(lf, &j->key, DOCK_ARCHIVE_TMP);
	}
	release_fd(lf, j->fd);
	memmove(&lf->jobs[i], &lf->jobs[i + 1], (lf->njobs - i - 1) * sizeof(lf->jobs[0]));
	lf->njobs--;
	if (lf->njobs == 0) {
		/* Give the compressor's ~360 KiB back while idle. */
		dock_gzip_free(lf->gz);
		lf->gz = NULL;
		lf->compress_failing = false;
		lf->overflow_warned = false;
	}
}

/* Retention deleted an archive that a job was still to (re)compress. */
static void forget_jobs_of(struct dock_logfile *lf, const struct dock_archive_key *key)
{
	unsigned i = 0;

	while (i < lf->njobs) {
		if (dock_rotate_key_cmp(&lf->jobs[i].key, key) == 0) {
			if (lf->jobs[i].src == SRC_RAW)
				unlink_kind(lf, key, DOCK_ARCHIVE_RAW);
			drop_job(lf, i);
		} else {
			i++;
		}
	}
}

/* Pending content is newer than every archive, so when more is pending
 * than --log-keep allows, the oldest pending would be deleted as soon as it
 * became an archive: drop it now, and spare the compression. */
static void drop_doomed_jobs(struct dock_logfile *lf)
{
	/* A job being finished is left to its child: it is as good as an
	 * archive, and retention will see it as one, and delete it first as
	 * the oldest. So it does not count here: only the pending jobs beyond
	 * --log-keep go, or a newer rotation would be lost for an older. */
	unsigned first = lf->syncing ? 1 : 0;

	while (lf->njobs - first > lf->keep && first < lf->njobs) {
		struct dock_archive_key key = lf->jobs[first].key;

		dock_debug("%s: dropping pending rotation beyond --log-keep", lf->path);
		if (lf->jobs[first].src == SRC_RAW)
			unlink_kind(lf, &key, DOCK_ARCHIVE_RAW);
		else if (lf->jobs[first].src == SRC_PLAIN)
			unlink_kind(lf, &key, DOCK_ARCHIVE_PLAIN);
		drop_job(lf, first);
	}
}

static void rotate(struct dock_logfile *lf)
{
	struct dock_archive_key key;
	enum job_source src;
	const char *dest = NULL;
	int nfd, old;

	lf->due = false;
	lf->waited = 0;
	if (lf->size == 0)
		return;		/* nothing to archive: no empty archives */
	refresh_dir(lf);
	if (!next_key(lf, &key)) {
		/* 99 rotations in this second already: wait for the next. */
		lf->blocked_until = dock_now_ms() + 1000;
		return;
	}
	switch (live_state(lf)) {
	case LIVE_AT_BASE:
		/* Always to the hidden name first: the only name a rotation
		 * that cannot finish leaves the content under (see aside). */
		dest = archive_path(lf, lf->name, &key, DOCK_ARCHIVE_RAW);
		if (dest == NULL || renameat(lf->dirfd, lf->base, lf->dirfd, name_of(lf, dest)) < 0) {
			rotation_failed(lf, "rename");
			return;
		}
		nfd = open_live(lf);
		if (nfd < 0) {
			int saved = errno;

			/* Put the file back so the path keeps growing. */
			if (put_back(lf, dest) < 0) {
				/* The name is taken by what open_live would not
				 * remove: dock writes on into the file it holds,
				 * under its hidden name, and the next rotation (or
				 * the exit) archives it from there. */
				lf->aside = true;
				lf->aside_key = key;
				lf->last_key = key;
			}
			errno = saved;
			rotation_failed(lf, "reopen");
			return;
		}
		src = SRC_RAW;
		break;
	case LIVE_ASIDE:
		nfd = open_live(lf);
		if (nfd < 0) {
			rotation_failed(lf, "reopen");
			return;
		}
		key = lf->aside_key;
		dest = archive_path(lf, lf->name, &key, DOCK_ARCHIVE_RAW);
		lf->aside = false;
		src = SRC_RAW;
		break;
	default:
		/* The file was removed or replaced under dock (its directory
		 * deleted, an outside rotation): the content lives on only in
		 * the fd, so it is archived from there. */
		if (lf->njobs >= MAX_PENDING) {
			errno = EBUSY;
			rotation_failed(lf, "compression queue full");
			return;
		}
		nfd = open_live(lf);
		if (nfd < 0) {
			rotation_failed(lf, "reopen");
			return;
		}
		lf->aside = false;
		src = SRC_UNLINKED;
		break;
	}
	if (lf->rotate_failing)
		dock_warnx("%s: rotation works again", lf->path);
	lf->rotate_failing = false;
	lf->blocked_until = 0;
	old = lf->fd;
	lf->fd = nfd;
	{
		off_t end = lseek(nfd, 0, SEEK_END);

		lf->size = end > 0 ? (uint64_t)end : 0;
	}
	lf->last = -1;
	lf->cut = false;
	if (dock_rotate_key_cmp(&key, &lf->last_key) > 0)
		lf->last_key = key;
	dock_debug("%s: rotated (%s)", lf->path, dest ? dest : "content of a removed file");
	if (src == SRC_RAW && lf->njobs >= MAX_PENDING) {
		const char *plain = archive_path(lf, lf->name2, &key, DOCK_ARCHIVE_PLAIN);

		close(old);
		/* Not a warning: nothing is lost, and it is compressed once
		 * the queue drains (or at the next start). */
		if (plain == NULL || renameat(lf->dirfd, name_of(lf, dest), lf->dirfd, name_of(lf, plain)) < 0)
			dock_debug("%s: cannot rename %s: %s", lf->path, dest, strerror(errno));
		else if (!lf->overflow_warned)
			dock_debug("%s: compression falls behind; %s waits uncompressed", lf->path, plain);
		lf->overflow_warned = true;
		lf->leftovers = true;
		retention(lf);
	} else {
		enqueue(lf, old, &key, src);
		drop_doomed_jobs(lf);
	}
	schedule(lf);
}

static void try_rotate(struct dock_logfile *lf)
{
	if (rotation_wanted(lf) && at_line_end(lf))
		rotate(lf);
}

/* ------------------------------------------------------------- retention */

struct key_list {
	struct dock_archive_key *keys;
	size_t n, cap;
	bool truncated;
};

static void collect_key(struct dock_logfile *lf, const struct dock_archive_key *key,
			enum dock_archive_kind kind, void *arg)
{
	struct key_list *kl = arg;

	if ((kind != DOCK_ARCHIVE_GZ && kind != DOCK_ARCHIVE_PLAIN) || !is_regular(lf, key, kind))
		return;
	if (kl->n == kl->cap) {
		size_t cap = kl->cap ? kl->cap * 2 : 64;
		struct dock_archive_key *k;

		if (cap > SCAN_MAX_KEYS || (k = realloc(kl->keys, cap * sizeof(*k))) == NULL) {
			kl->truncated = true;
			return;
		}
		kl->keys = k;
		kl->cap = cap;
	}
	kl->keys[kl->n++] = *key;
}

/* Keeps the newest --log-keep archives of this file (compressed or not)
 * and deletes the rest, oldest first. Other files' archives never match
 * dock_rotate_parse for this base. */
static void retention(struct dock_logfile *lf)
{
	struct key_list kl = { NULL, 0, 0, false };
	size_t i, doomed;

	if (scan_dir(lf, collect_key, &kl) < 0) {
		dock_debug("%s: cannot read the directory for retention: %s", lf->path, strerror(errno));
		return;
	}
	if (kl.truncated)
		dock_debug("%s: too many archives to consider at once; pruning the first %zu",
			   lf->path, kl.n);
	doomed = dock_rotate_select(kl.keys, &kl.n, lf->keep);
	for (i = 0; i < doomed; i++) {
		dock_debug("%s: retention removes archive %014llu_%02u", lf->path,
			   (unsigned long long)kl.keys[i].stamp, kl.keys[i].seq);
		forget_jobs_of(lf, &kl.keys[i]);
		unlink_kind(lf, &kl.keys[i], DOCK_ARCHIVE_GZ);
		unlink_kind(lf, &kl.keys[i], DOCK_ARCHIVE_PLAIN);
	}
	free(kl.keys);
}

/* ----------------------------------------------------------- compression */

/* Gives up compressing the first job, keeping its content uncompressed
 * under the archive name BASE_STAMP when it has a name at all. */
static void abandon_job(struct dock_logfile *lf, const char *why)
{
	struct job *j = &lf->jobs[0];
	const char *raw, *plain;

	/* By name: after start_finish dock no longer holds the archive's fd. */
	unlink_kind(lf, &j->key, DOCK_ARCHIVE_TMP);
	switch (j->src) {
	case SRC_RAW:
		raw = archive_path(lf, lf->name, &j->key, DOCK_ARCHIVE_RAW);
		plain = archive_path(lf, lf->name2, &j->key, DOCK_ARCHIVE_PLAIN);
		if (raw && plain && renameat(lf->dirfd, name_of(lf, raw), lf->dirfd, name_of(lf, plain)) == 0)
			dock_warnx("%s: %s; kept %s uncompressed", lf->path, why, plain);
		else
			dock_warn("%s: %s; content left in %s", lf->path, why, raw ? raw : "(name too long)");
		break;
	case SRC_PLAIN:
		dock_warnx("%s: %s; %s stays uncompressed", lf->path, why,
			   archive_path(lf, lf->name, &j->key, DOCK_ARCHIVE_PLAIN));
		break;
	case SRC_UNLINKED:
		dock_warnx("%s: %s; the content of the removed log file is lost", lf->path, why);
		break;
	}
	drop_job(lf, 0);
	retention(lf);
}

/* The archive is complete: what the finishing child reports. */
enum finish_step {
	FINISH_OK,
	FINISH_SYNC,		/* fdatasync failed */
	FINISH_RENAME,		/* renaming TMP to GZ failed */
};

struct finish_report {
	unsigned char step, err;
};

static const char *source_name(struct dock_logfile *lf, const struct job *j, char *buf)
{
	if (j->src == SRC_RAW)
		return archive_path(lf, buf, &j->key, DOCK_ARCHIVE_RAW);
	if (j->src == SRC_PLAIN)
		return archive_path(lf, buf, &j->key, DOCK_ARCHIVE_PLAIN);
	return NULL;
}

/* The steps after compression, in order: the archive is made durable
 * (without that, a crash soon after could leave an empty archive and no
 * raw copy), given its final name, and the raw copy is removed. Runs in
 * the finishing child, or inline when no child can be made. The names are
 * in the directory dirfd; tmp_fd is the archive, and the rename happens
 * only while tmp still names it. */
static struct finish_report finish_steps(int dirfd, int tmp_fd, const char *tmp, const char *gz,
					 const char *src, bool sync)
{
	struct finish_report r = { FINISH_OK, 0 };
	struct stat a, b;

	if (sync && fdatasync(tmp_fd) < 0) {
		r.step = FINISH_SYNC;
		r.err = (unsigned char)errno;
		return r;
	}
	if (fstat(tmp_fd, &a) < 0 || fstatat(dirfd, tmp, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		r.step = FINISH_RENAME;
		r.err = ENOENT;
		return r;
	}
	if (renameat(dirfd, tmp, dirfd, gz) < 0) {
		r.step = FINISH_RENAME;
		r.err = (unsigned char)errno;
		return r;
	}
	if (src)
		(void)unlinkat(dirfd, src, 0);
	return r;
}

static void stop_sync(struct dock_logfile *lf)
{
	if (!lf->syncing)
		return;
	dock_loop_del(&lf->sync_w);
	close(lf->sync_w.fd);
	lf->sync_w.fd = -1;
	lf->syncing = false;
}

/* The first job's archive is finished, well or not. */
static void finished(struct dock_logfile *lf, struct finish_report r)
{
	switch (r.step) {
	case FINISH_OK:
		dock_debug("%s: archived %llu bytes into %llu", lf->path,
			   (unsigned long long)dock_gzip_in_bytes(lf->gz),
			   (unsigned long long)dock_gzip_out_bytes(lf->gz));
		lf->compress_failing = false;
		/* Its name is the archive's now: nothing to remove. */
		close(lf->jobs[0].tmp_fd);
		lf->jobs[0].tmp_fd = -1;
		drop_job(lf, 0);
		retention(lf);
		/* Caught up: now the content kept uncompressed meanwhile. */
		if (lf->njobs == 0 && lf->leftovers)
			recover(lf);
		break;
	case FINISH_SYNC:
		errno = r.err;
		if (r.err == ENOSPC || r.err == EDQUOT) {
			/* Delayed allocation: a full disk may show only at the
			 * sync. The archive is incomplete, the raw copy is not. */
			make_room(lf, r.err);
			abandon_job(lf, "disk full while writing the archive");
		} else {
			dock_warn("%s: cannot sync the archive", lf->path);
			abandon_job(lf, "archive not written");
		}
		break;
	default:
		errno = r.err;
		dock_warn("%s: cannot rename the finished archive", lf->path);
		abandon_job(lf, "archive not renamed");
		break;
	}
}

/* The finishing child answered, or died without an answer (then its
 * work is done here, unsynced, if it did not get that far). */
static void on_finish_report(struct dock_watcher *w, uint32_t events)
{
	struct dock_logfile *lf = w->data;
	struct finish_report r;
	struct job *j = &lf->jobs[0];
	const char *tmp, *gz;
	ssize_t n;

	(void)events;
	n = read(w->fd, &r, sizeof(r));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	stop_sync(lf);
	if (n != (ssize_t)sizeof(r)) {
		const char *src = source_name(lf, j, lf->name3);

		struct stat st;

		tmp = archive_path(lf, lf->name, &j->key, DOCK_ARCHIVE_TMP);
		gz = archive_path(lf, lf->name2, &j->key, DOCK_ARCHIVE_GZ);
		r.step = FINISH_OK;
		r.err = 0;
		if (tmp == NULL || gz == NULL)
			r.step = FINISH_RENAME, r.err = ENAMETOOLONG;
		else if (fstatat(lf->dirfd, name_of(lf, tmp), &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = finish_steps(lf->dirfd, j->tmp_fd, name_of(lf, tmp), name_of(lf, gz),
					 src ? name_of(lf, src) : NULL, false);
		else if (src)
			(void)unlinkat(lf->dirfd, name_of(lf, src), 0);
	}
	finished(lf, r);
	schedule(lf);
}

/* Finishes the first job's archive in a child process. Both of its steps
 * can take far longer than a slice, and the child takes them off dock's
 * loop: fdatasync (tens of milliseconds: on ext4 a journal commit waits
 * for other files' writeback too), and unlinking a big raw file, which
 * frees its blocks and page cache (~50 ms for 500 MB) in the process that
 * drops the last reference. dock closes its own fds of both files first,
 * so that process is the child. dock's reaper reaps it like any other
 * child; at exit dock does not wait for it. */
static void start_finish(struct dock_logfile *lf)
{
	struct job *j = &lf->jobs[0];
	const char *tmp, *gz, *src;
	int p[2] = { -1, -1 };
	pid_t pid = -1;

	tmp = archive_path(lf, lf->name, &j->key, DOCK_ARCHIVE_TMP);
	gz = archive_path(lf, lf->name2, &j->key, DOCK_ARCHIVE_GZ);
	src = source_name(lf, j, lf->name3);
	/* dock keeps its fd of the archive (small: its last close costs
	 * nothing) until the child reports; the child syncs through it. */
	/* A raw file with no name (removed under dock) lives only in this fd:
	 * it stays open until the job is dropped. */
	if (j->src != SRC_UNLINKED) {
		close(j->fd);
		j->fd = -1;
	}
	if (pipe2(p, O_CLOEXEC) == 0) {
		int keep[3] = { p[1], j->tmp_fd, lf->dirfd };

		pid = dock_child_fork(keep, 3, NULL);
	}
	if (pid == 0) {
		struct finish_report r = { FINISH_RENAME, ENAMETOOLONG };

		if (tmp != NULL && gz != NULL)
			r = finish_steps(lf->dirfd, j->tmp_fd, name_of(lf, tmp), name_of(lf, gz),
					 src ? name_of(lf, src) : NULL, true);

		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	if (pid > 0) {
		close(p[1]);
		lf->sync_w.fd = p[0];
		lf->sync_w.cb = on_finish_report;
		lf->sync_w.data = lf;
		if (fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 && dock_loop_add(&lf->sync_w, EPOLLIN) == 0) {
			lf->syncing = true;
			return;
		}
		/* Not watchable: the child finishes alone; dock moves on. */
		close(p[0]);
		lf->sync_w.fd = -1;
		finished(lf, (struct finish_report){ FINISH_OK, 0 });
		return;
	}
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	/* No process to spare: finish here, without a sync of its own (like
	 * the live log, the kernel writes it back within its usual delay). */
	dock_debug("%s: finishing the archive inline: %s", lf->path, strerror(errno));
	if (tmp == NULL || gz == NULL) {
		finished(lf, (struct finish_report){ FINISH_RENAME, ENAMETOOLONG });
		return;
	}
	finished(lf, finish_steps(lf->dirfd, j->tmp_fd, name_of(lf, tmp), name_of(lf, gz),
				  src ? name_of(lf, src) : NULL, false));
}

/* The directory refuses new files (read-only, gone): try again later
 * rather than every slice. */
static void park(struct dock_logfile *lf, const char *what)
{
	if (!lf->compress_failing)
		dock_warn("%s: cannot %s; compression will retry", lf->path, what);
	lf->compress_failing = true;
	lf->parked_until = dock_now_ms() + RETRY_MS;
}

/* One bounded slice: at most DOCK_GZIP_SLICE bytes of input, so the loop
 * gets back to the pipes within about a millisecond. */
static void compress_slice(struct dock_logfile *lf)
{
	struct job *j = &lf->jobs[0];
	enum dock_gzip_result r;
	const char *tmp;

	if (lf->gz == NULL && (lf->gz = dock_gzip_new()) == NULL) {
		abandon_job(lf, "no memory to compress");
		return;
	}
	if (j->tmp_fd < 0) {
		tmp = archive_path(lf, lf->name, &j->key, DOCK_ARCHIVE_TMP);
		if (tmp == NULL) {
			abandon_job(lf, "archive name too long");
			return;
		}
		/* The name is predictable and the directory may be writable by
		 * the command: never follow or reuse what is there, replace it. */
		j->tmp_fd = openat(lf->dirfd, name_of(lf, tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				   O_NONBLOCK | O_CLOEXEC | O_NOCTTY, ARCHIVE_MODE(lf));
		if (j->tmp_fd < 0 && errno == EEXIST) {
			struct stat st;
			bool dir = fstatat(lf->dirfd, name_of(lf, tmp), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				   S_ISDIR(st.st_mode);

			if (unlinkat(lf->dirfd, name_of(lf, tmp), dir ? AT_REMOVEDIR : 0) == 0 || errno == ENOENT) {
				j->tmp_fd = openat(lf->dirfd, name_of(lf, tmp), O_WRONLY | O_CREAT | O_EXCL |
						   O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, ARCHIVE_MODE(lf));
			} else if (dir) {
				/* A directory with something in it: this archive
				 * cannot be made; its content stays uncompressed. */
				abandon_job(lf, "the archive's temporary name is taken by a directory");
				return;
			}
		}
		if (j->tmp_fd < 0) {
			int saved = errno;

			if (make_room(lf, saved))
				return;
			errno = saved;
			if (saved == ENOSPC || saved == EDQUOT)
				abandon_job(lf, "disk full");
			else
				park(lf, "create an archive");
			return;
		}
		(void)fchmod(j->tmp_fd, ARCHIVE_MODE(lf));
		dock_gzip_start(lf->gz, j->fd, j->tmp_fd);
	}
	r = dock_gzip_step(lf->gz, DOCK_GZIP_SLICE);
	switch (r) {
	case DOCK_GZIP_MORE:
		break;
	case DOCK_GZIP_DONE:
		start_finish(lf);
		break;
	case DOCK_GZIP_EWRITE: {
		int saved = errno;

		/* The unwritten output stays in the compressor: after room
		 * is made the next slice writes it. */
		if (make_room(lf, saved))
			break;
		abandon_job(lf, saved == ENOSPC || saved == EDQUOT ? "disk full while compressing"
								  : "cannot write the archive");
		break;
	}
	case DOCK_GZIP_EREAD:
		abandon_job(lf, "cannot read the rotated log");
		break;
	}
}

static void abandon_all(struct dock_logfile *lf, const char *why)
{
	if (lf->syncing) {
		/* Complete already, and the child finishes it without dock;
		 * dock removes none of its names. */
		stop_sync(lf);
		close(lf->jobs[0].tmp_fd);
		lf->jobs[0].tmp_fd = -1;
		drop_job(lf, 0);
	}
	while (lf->njobs > 0)
		abandon_job(lf, why);
}

/* ------------------------------------------------------------------ timer */

/* The one timer of a log file: the next period, or right away while there
 * is compression to do. Idle without a period, nothing is armed. */
static void schedule(struct dock_logfile *lf)
{
	int64_t at = -1, now;

	if (lf->direct)
		return;
	if (lf->period_ms && !lf->finishing)
		at = lf->next_period;
	if (lf->njobs > 0 && (!lf->syncing || lf->finishing)) {
		int64_t w;

		now = dock_now_ms();
		w = lf->parked_until > now ? lf->parked_until : now;
		if (lf->syncing)
			w = lf->drain_deadline;	/* the sync's pipe wakes the loop */
		if (lf->finishing && lf->drain_deadline < w)
			w = lf->drain_deadline;
		if (at < 0 || w < at)
			at = w;
	}
	if (lf->nshred > 0)
		at = dock_now_ms();
	if (at < 0)
		dock_timer_cancel(&lf->timer);
	else
		dock_timer_arm(&lf->timer, at);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_timer(struct dock_timer *t)
{
	struct dock_logfile *lf = t->data;
	int64_t now = dock_now_ms(), end;

	if (lf->period_ms && !lf->finishing && now >= lf->next_period) {
		/* Absolute deadlines: a late wake-up does not shift later
		 * periods; missed ones (a suspended host) collapse into one. */
		while (lf->next_period <= now)
			lf->next_period += (int64_t)lf->period_ms;
		lf->due = true;
		lf->blocked_until = 0;
		try_rotate(lf);
	}
	if (lf->njobs > 0 && lf->finishing && now >= lf->drain_deadline)
		abandon_all(lf, "compression cut short at exit");
	end = now_us() + SLICE_BUDGET_US;
	do {
		if (lf->njobs > 0 && now >= lf->parked_until && !lf->syncing)
			compress_slice(lf);
		else if (lf->nshred > 0)
			shred_step(lf);
		else
			break;
	} while (now_us() < end);
	schedule(lf);
}

/* -------------------------------------------------------------- recovery */

struct leftovers {
	struct dock_archive_key keys[MAX_PENDING * 4];
	enum dock_archive_kind kinds[MAX_PENDING * 4];
	size_t n;
	bool more;		/* some did not fit */
};

static void find_leftover(struct dock_logfile *lf, const struct dock_archive_key *key,
			  enum dock_archive_kind kind, void *arg)
{
	struct leftovers *lo = arg;
	size_t i;

	/* Only files count: names planted by someone else (a symlink with a
	 * far future stamp) must not use up the sequence numbers. */
	if (dock_rotate_key_cmp(key, &lf->last_key) > 0 && is_regular(lf, key, kind))
		lf->last_key = *key;
	if (kind == DOCK_ARCHIVE_TMP) {
		/* An archive an earlier run did not finish: its source is
		 * still there under its RAW or PLAIN name. */
		unlink_kind(lf, key, DOCK_ARCHIVE_TMP);
		return;
	}
	if (kind == DOCK_ARCHIVE_GZ)
		return;
	if (lo->n < sizeof(lo->keys) / sizeof(lo->keys[0])) {
		lo->keys[lo->n] = *key;
		lo->kinds[lo->n++] = kind;
		return;
	}
	/* More than we track: keep the oldest ones, which are compressed first. */
	lo->more = true;
	for (i = 0; i < lo->n; i++) {
		if (dock_rotate_key_cmp(key, &lo->keys[i]) < 0) {
			struct dock_archive_key k = lo->keys[i];
			enum dock_archive_kind kd = lo->kinds[i];

			lo->keys[i] = *key;
			lo->kinds[i] = kind;
			key = &k;
			kind = kd;
			find_leftover(lf, key, kind, arg);
			return;
		}
	}
}

/* Content an earlier run left behind (killed mid-compression, cut short at
 * exit, or past the queue) is compressed now, oldest first. */
static void recover(struct dock_logfile *lf)
{
	struct leftovers lo;
	struct stat st;
	size_t i, j;

	/* What retention would delete is not worth compressing. */
	retention(lf);
	lo.n = 0;
	lo.more = false;
	lf->leftovers = false;
	if (scan_dir(lf, find_leftover, &lo) < 0)
		return;
	/* Insertion sort: a handful of entries. */
	for (i = 1; i < lo.n; i++)
		for (j = i; j > 0 && dock_rotate_key_cmp(&lo.keys[j], &lo.keys[j - 1]) < 0; j--) {
			struct dock_archive_key k = lo.keys[j];
			enum dock_archive_kind kd = lo.kinds[j];

			lo.keys[j] = lo.keys[j - 1];
			lo.kinds[j] = lo.kinds[j - 1];
			lo.keys[j - 1] = k;
			lo.kinds[j - 1] = kd;
		}
	for (i = 0; i < lo.n; i++) {
		const char *src = archive_path(lf, lf->name, &lo.keys[i], lo.kinds[i]);
		const char *gz = archive_path(lf, lf->name2, &lo.keys[i], DOCK_ARCHIVE_GZ);
		const char *why;
		char why_buf[48];
		int fd;

		if (src == NULL || gz == NULL)
			continue;
		/* Only a regular file with a single link owned by dock (or the
		 * live file's owner) is taken: a symlink or hard link named like
		 * a leftover would have dock copy a file it can read into an
		 * archive others can, a FIFO or device would block or never end. */
		if (fstatat(lf->dirfd, name_of(lf, src), &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((why = check_file(lf, &st, why_buf, sizeof(why_buf))) != NULL) {
			dock_warnx("%s: %s is %s, not content dock left: left alone", lf->path, src, why);
			continue;
		}
		if (fstatat(lf->dirfd, name_of(lf, gz), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    check_file(lf, &st, why_buf, sizeof(why_buf)) == NULL) {
			/* Killed between the archive's rename and the unlink. */
			unlink_kind(lf, &lo.keys[i], lo.kinds[i]);
			continue;
		}
		if (lf->njobs >= MAX_PENDING) {
			/* No room in the queue now (the rest is compressed once
			 * it empties): at least make hidden content visible
			 * under its archive name. */
			lf->leftovers = true;
			if (lo.kinds[i] == DOCK_ARCHIVE_RAW) {
				const char *plain = archive_path(lf, lf->name2, &lo.keys[i], DOCK_ARCHIVE_PLAIN);

				if (plain && renameat(lf->dirfd, name_of(lf, src), lf->dirfd, name_of(lf, plain)) < 0)
					dock_warn("%s: cannot rename %s", lf->path, src);
			}
			continue;
		}
		fd = open_existing(lf, name_of(lf, src), O_RDWR, &why, why_buf);
		if (fd < 0) {
			if (why != NULL)
				dock_warnx("%s: %s is %s, not content dock left: left alone", lf->path, src, why);
			continue;
		}
		dock_debug("%s: compressing %s left by an earlier run", lf->path, src);
		enqueue(lf, fd, &lo.keys[i], lo.kinds[i] == DOCK_ARCHIVE_RAW ? SRC_RAW : SRC_PLAIN);
	}
	if (lo.more)
		lf->leftovers = true;
	drop_doomed_jobs(lf);
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

struct dock_logfile *dock_logfile_open(const char *path, const struct dock_config *cfg,
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
	lf->sync_w.fd = -1;
	if (path[0] == '\0') {
		snprintf(err, errlen, "--io: not a file path");
		goto fail;
	}
	lf->direct = cfg->log_rotate_ms == 0 && cfg->log_max_size == 0;
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
	lf->period_ms = cfg->log_rotate_ms;
	lf->max_size = cfg->log_max_size;
	lf->keep = cfg->log_keep ? cfg->log_keep : DOCK_DEFAULT_LOG_KEEP;
	lf->next_period = dock_now_ms() + (int64_t)lf->period_ms;
	lf->timer.cb = on_timer;
	lf->timer.data = lf;
	recover(lf);
	schedule(lf);
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

	try_rotate(lf);
	while (taken < len) {
		size_t n = len - taken;

		if (rotation_wanted(lf) && !at_line_end(lf)) {
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
		if (rotation_wanted(lf)) {
			if (at_line_end(lf)) {
				rotate(lf);
			} else if (lf->waited >= LINE_WAIT_MAX) {
				dock_debug("%s: no line end in %d bytes; rotating mid-line", lf->path,
					   LINE_WAIT_MAX);
				rotate(lf);
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
	try_rotate(lf);
	if (rotation_wanted(lf)) {
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
			end_full(lf);
			try_rotate(lf);
			return n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EINVAL || errno == EBADF)
			return -1;
		if (make_room(lf, errno))
			continue;
		/* The file takes nothing (disk full, I/O error): drop what the
		 * pipe holds, so the command does not block for good. */
		{
			int saved = errno;

			n = read_pipe(lf, pipefd, max);
			if (n > 0)
				count_lost(lf, (uint64_t)n, saved);
			return n;
		}
	}
}

bool dock_logfile_busy(const struct dock_logfile *lf)
{
	return !lf->direct && lf->njobs > 0;
}

/* At exit: live content that the live name no longer shows (the file was
 * removed, or a rotation had to leave it under its hidden name) is
 * archived from the fd dock holds, in the queue's spare slot. */
static void archive_orphaned_live(struct dock_logfile *lf)
{
	struct dock_archive_key key;
	enum job_source src;
	struct stat st;
	int fd;

	if (lf->size == 0 || lf->njobs >= MAX_JOBS)
		return;
	refresh_dir(lf);
	switch (live_state(lf)) {
	case LIVE_AT_BASE:
		return;
	case LIVE_ASIDE:
		key = lf->aside_key;
		src = SRC_RAW;
		break;
	default:
		/* Renamed by someone else: its content is still there. */
		if (fstat(lf->fd, &st) < 0 || st.st_nlink > 0 || !next_key(lf, &key))
			return;
		src = SRC_UNLINKED;
		break;
	}
	fd = fcntl(lf->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return;
	dock_debug("%s: archiving the live content its name no longer shows", lf->path);
	enqueue(lf, fd, &key, src);
	lf->aside = false;
	if (dock_rotate_key_cmp(&key, &lf->last_key) > 0)
		lf->last_key = key;
}

void dock_logfile_finish(struct dock_logfile *lf)
{
	if (lf->direct || lf->finishing)
		return;
	lf->finishing = true;
	lf->due = false;
	lf->drain_deadline = dock_now_ms() + DRAIN_MS;
	archive_orphaned_live(lf);
	schedule(lf);
}

void dock_logfile_close(struct dock_logfile *lf)
{
	if (lf == NULL)
		return;
	if (!lf->direct) {
		abandon_all(lf, "compression cut short at exit");
		dock_timer_cancel(&lf->timer);
	}
	report_disk_full(lf);
	/* What is left to shrink is freed by these closes: dock is done. */
	while (lf->nshred > 0)
		close(lf->shred[--lf->nshred]);
	if (lf->fd >= 0)
		close(lf->fd);
	if (lf->dirfd >= 0)
		close(lf->dirfd);
	if (lf->parentfd >= 0)
		close(lf->parentfd);
	dock_gzip_free(lf->gz);
	free(lf);
}
