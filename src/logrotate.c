/* Rotation of the --io log file: when one is due (period, size, the line
 * being written), the rename of the live file to a hidden name and the
 * reopening of the path, and the timer that drives rotation, compression
 * and shredding. Writing and the public API are in logfile.c. */
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

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)	/* linux/fs.h; musl's headers lack it */
#endif

/* Shredding runs from the timer for about this long per loop turn (at
 * least one step), then the pipes get their turn. */
#define SLICE_BUDGET_US 1000

/* --------------------------------------------------------------- rotation */

bool dock_logrotate_wanted(struct dock_logfile *lf)
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
bool dock_logrotate_at_line_end(struct dock_logfile *lf)
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
	fd = dock_logkeep_open_existing(lf, lf->base, O_RDWR, &why, why_buf);
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
	if (dock_logkeep_remove_planted(lf, lf->base) == 0) {
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

	if (syscall(SYS_renameat2, lf->dirfd, dock_logkeep_name(lf, raw), lf->dirfd, lf->base,
		    RENAME_NOREPLACE) == 0)
		return 0;
	/* A file system without RENAME_NOREPLACE: a plain rename, only while
	 * the name is free (what could take it in between loses its name). */
	if ((errno == EINVAL || errno == ENOSYS) &&
	    fstatat(lf->dirfd, lf->base, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return renameat(lf->dirfd, dock_logkeep_name(lf, raw), lf->dirfd, lf->base);
	return -1;
}

/* Where the file dock writes is now. */
enum live_at { LIVE_AT_BASE, LIVE_ASIDE, LIVE_ELSEWHERE };

static enum live_at live_state(struct dock_logfile *lf)
{
	char aside_buf[PATH_MAX];
	struct stat fst, pst;
	const char *p = lf->base;

	if (fstat(lf->fd, &fst) < 0 || fst.st_nlink == 0)
		return LIVE_ELSEWHERE;
	if (lf->aside && (p = dock_logkeep_path(lf, aside_buf, &lf->aside_key, DOCK_ARCHIVE_RAW)) != NULL)
		p = dock_logkeep_name(lf, p);
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
	while (dock_logkeep_exists(lf, key)) {
		if (key->seq == DOCK_ROTATE_SEQ_MAX)
			return false;
		key->seq++;
	}
	return true;
}

void dock_logrotate_now(struct dock_logfile *lf)
{
	char raw_buf[PATH_MAX], plain_buf[PATH_MAX];
	struct dock_archive_key key;
	enum job_source src;
	const char *dest = NULL;
	int nfd, old;

	lf->due = false;
	lf->waited = 0;
	if (lf->size == 0)
		return;		/* nothing to archive: no empty archives */
	dock_logkeep_refresh_dir(lf);
	if (!next_key(lf, &key)) {
		/* 99 rotations in this second already: wait for the next. */
		lf->blocked_until = dock_now_ms() + 1000;
		return;
	}
	switch (live_state(lf)) {
	case LIVE_AT_BASE:
		/* Always to the hidden name first: the only name a rotation
		 * that cannot finish leaves the content under (see aside). */
		dest = dock_logkeep_path(lf, raw_buf, &key, DOCK_ARCHIVE_RAW);
		if (dest == NULL || renameat(lf->dirfd, lf->base, lf->dirfd, dock_logkeep_name(lf, dest)) < 0) {
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
		dest = dock_logkeep_path(lf, raw_buf, &key, DOCK_ARCHIVE_RAW);
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
		const char *plain = dock_logkeep_path(lf, plain_buf, &key, DOCK_ARCHIVE_PLAIN);

		close(old);
		/* Not a warning: nothing is lost, and it is compressed once
		 * the queue drains (or at the next start). */
		if (plain == NULL || renameat(lf->dirfd, dock_logkeep_name(lf, dest), lf->dirfd,
					      dock_logkeep_name(lf, plain)) < 0)
			dock_debug("%s: cannot rename %s: %s", lf->path, dest, strerror(errno));
		else if (!lf->overflow_warned)
			dock_debug("%s: compression falls behind; %s waits uncompressed", lf->path, plain);
		lf->overflow_warned = true;
		lf->leftovers = true;
		dock_logkeep_retention(lf);
	} else {
		dock_logarch_enqueue(lf, old, &key, src);
		dock_logarch_drop_doomed(lf);
	}
	dock_logfile_schedule(lf);
}

void dock_logrotate_try(struct dock_logfile *lf)
{
	if (dock_logrotate_wanted(lf) && dock_logrotate_at_line_end(lf))
		dock_logrotate_now(lf);
}

/* ------------------------------------------------------------------ timer */

/* The one timer of a log file: the next period, or the archive jobs' next
 * step, or right away while there is a file to shrink. Idle without a
 * period, nothing is armed. */
void dock_logfile_schedule(struct dock_logfile *lf)
{
	int64_t at = -1, now, w;

	if (lf->direct)
		return;
	if (lf->period_ms && !lf->finishing)
		at = lf->next_period;
	now = dock_now_ms();
	w = dock_logarch_next(lf, now);
	if (w >= 0 && (at < 0 || w < at))
		at = w;
	if (lf->nshred > 0)
		at = now;
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

void dock_logrotate_on_timer(struct dock_timer *t)
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
		dock_logrotate_try(lf);
	}
	dock_logarch_step(lf, now);
	end = now_us() + SLICE_BUDGET_US;
	while (lf->nshred > 0) {
		dock_logkeep_shred_step(lf);
		if (now_us() >= end)
			break;
	}
	dock_logfile_schedule(lf);
}

/* At exit: live content that the live name no longer shows (the file was
 * removed, or a rotation had to leave it under its hidden name) is
 * archived from the fd dock holds, in the queue's spare slot. */
void dock_logrotate_archive_orphaned(struct dock_logfile *lf)
{
	struct dock_archive_key key;
	enum job_source src;
	struct stat st;
	int fd;

	if (lf->size == 0 || lf->njobs >= MAX_JOBS)
		return;
	dock_logkeep_refresh_dir(lf);
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
	dock_logarch_enqueue(lf, fd, &key, src);
	lf->aside = false;
	if (dock_rotate_key_cmp(&key, &lf->last_key) > 0)
		lf->last_key = key;
}
