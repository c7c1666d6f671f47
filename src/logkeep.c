/* The log's directory, which the command may own: every name dock uses
 * there, the checks that keep dock from writing, reading or following
 * something the command planted, room on a full disk, retention of the
 * newest --log-keep archives, and recovery of what an earlier run left.
 * See logfile_int.h for how the module is split. */
#include "logfile_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* After finding no archive to delete, look again only this much later: a
 * full disk otherwise costs a directory scan per write. */
#define VICTIM_RESCAN_MS 1000
/* During a disk-full episode: one warning when it ends, or this often while
 * it lasts. */
#define DISK_FULL_REPORT_MS 60000
/* Bounds one retention scan of a directory with very many archives. */
#define SCAN_MAX_KEYS 65536

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
const char *dock_logkeep_check_file(const struct dock_logfile *lf, const struct stat *st, char *buf,
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

/* Opens an existing name of the directory (flags: O_RDONLY, O_WRONLY or
 * O_RDWR) if it passes check_file. Returns the fd, or -1 with errno set
 * and *why saying what was found there when that is the reason (a buffer
 * of 48 bytes in why_buf). fstatat comes first so that nothing but a
 * regular file is opened at all (a device's driver sees no open); the
 * fstat after makes sure the file opened is the one checked. */
int dock_logkeep_open_existing(struct dock_logfile *lf, const char *name, int flags, const char **why,
			 char *why_buf)
{
	struct stat before, st;
	int fd;

	*why = NULL;
	if (fstatat(lf->dirfd, name, &before, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if ((*why = dock_logkeep_check_file(lf, &before, why_buf, 48)) != NULL) {
		errno = EPERM;
		return -1;
	}
	fd = openat(lf->dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (*why = dock_logkeep_check_file(lf, &st, why_buf, 48)) != NULL ||
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
int dock_logkeep_remove_planted(struct dock_logfile *lf, const char *name)
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
void dock_logkeep_refresh_dir(struct dock_logfile *lf)
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
const char *dock_logkeep_path(const struct dock_logfile *lf, char *buf, const struct dock_archive_key *key,
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

bool dock_logkeep_exists(struct dock_logfile *lf, const struct dock_archive_key *key)
{
	static const enum dock_archive_kind kinds[] = { DOCK_ARCHIVE_GZ, DOCK_ARCHIVE_PLAIN,
							DOCK_ARCHIVE_RAW, DOCK_ARCHIVE_TMP };
	char probe[PATH_MAX];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *p = dock_logkeep_path(lf, probe, key, kinds[i]);

		if (p && fstatat(lf->dirfd, dock_logkeep_name(lf, p), &st, AT_SYMLINK_NOFOLLOW) == 0)
			return true;
	}
	return false;
}

/* Lets go of an fd: a big file that has no name any more is queued for
 * shrinking instead, so that its freeing never lands on the loop at once. */
void dock_logkeep_release_fd(struct dock_logfile *lf, int fd)
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
void dock_logkeep_shred_step(struct dock_logfile *lf)
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
	char victim[PATH_MAX];
	const char *p = dock_logkeep_path(lf, victim, key, kind), *why;
	char why_buf[48];
	struct stat st;
	int fd = -1;

	if (p == NULL || fstatat(lf->dirfd, dock_logkeep_name(lf, p), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (S_ISDIR(st.st_mode)) {
		dock_debug("%s: %s is a directory, not an archive: left alone", lf->path, p);
		return false;
	}
	/* Only a big file that is really ours is worth an fd to shrink it. */
	if (!now && S_ISREG(st.st_mode) && st.st_size > SHRED_STEP)
		fd = dock_logkeep_open_existing(lf, dock_logkeep_name(lf, p), O_WRONLY, &why, why_buf);
	if (unlinkat(lf->dirfd, dock_logkeep_name(lf, p), 0) == 0) {
		dock_logkeep_release_fd(lf, fd);
		return true;
	}
	if (errno != ENOENT)
		dock_warn("%s: cannot remove %s", lf->path, p);
	if (fd >= 0)
		close(fd);
	return false;
}

bool dock_logkeep_unlink(struct dock_logfile *lf, const struct dock_archive_key *key,
			 enum dock_archive_kind kind)
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
	const char *p = dock_logkeep_path(lf, buf, key, kind);
	struct stat st;

	return p != NULL && fstatat(lf->dirfd, dock_logkeep_name(lf, p), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

/* ------------------------------------------------------------- disk full */

void dock_logkeep_report_full(struct dock_logfile *lf)
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
void dock_logkeep_end_full(struct dock_logfile *lf)
{
	if (lf->full) {
		dock_logkeep_report_full(lf);
		lf->full = false;
	}
}

void dock_logkeep_count_lost(struct dock_logfile *lf, uint64_t n, int err)
{
	begin_full(lf, err);
	lf->cut = true;
	lf->lost += n;
	if (dock_now_ms() >= lf->full_report_at)
		dock_logkeep_report_full(lf);
}

static void find_oldest(struct dock_logfile *lf, const struct dock_archive_key *key,
			enum dock_archive_kind kind, void *arg)
{
	struct dock_archive_key *oldest = arg;

	if ((kind == DOCK_ARCHIVE_GZ || kind == DOCK_ARCHIVE_PLAIN) &&
	    (oldest->stamp == 0 || dock_rotate_key_cmp(key, oldest) < 0) && is_regular(lf, key, kind))
		*oldest = *key;
}

/* Deletes the oldest archive of this log to make room on a full disk.
 * Returns false when there is none. */
bool dock_logkeep_make_room(struct dock_logfile *lf, int err)
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
	dock_logarch_forget(lf, &oldest);
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
void dock_logkeep_retention(struct dock_logfile *lf)
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
		dock_logarch_forget(lf, &kl.keys[i]);
		dock_logkeep_unlink(lf, &kl.keys[i], DOCK_ARCHIVE_GZ);
		dock_logkeep_unlink(lf, &kl.keys[i], DOCK_ARCHIVE_PLAIN);
	}
	free(kl.keys);
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
		dock_logkeep_unlink(lf, key, DOCK_ARCHIVE_TMP);
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
void dock_logkeep_recover(struct dock_logfile *lf)
{
	struct leftovers lo;
	struct stat st;
	size_t i, j;

	/* What retention would delete is not worth compressing. */
	dock_logkeep_retention(lf);
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
		char src_buf[PATH_MAX], gz_buf[PATH_MAX];
		const char *src = dock_logkeep_path(lf, src_buf, &lo.keys[i], lo.kinds[i]);
		const char *gz = dock_logkeep_path(lf, gz_buf, &lo.keys[i], DOCK_ARCHIVE_GZ);
		const char *why;
		char why_buf[48];
		int fd;

		if (src == NULL || gz == NULL)
			continue;
		/* Only a regular file with a single link owned by dock (or the
		 * live file's owner) is taken: a symlink or hard link named like
		 * a leftover would have dock copy a file it can read into an
		 * archive others can, a FIFO or device would block or never end. */
		if (fstatat(lf->dirfd, dock_logkeep_name(lf, src), &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((why = dock_logkeep_check_file(lf, &st, why_buf, sizeof(why_buf))) != NULL) {
			dock_warnx("%s: %s is %s, not content dock left: left alone", lf->path, src, why);
			continue;
		}
		if (fstatat(lf->dirfd, dock_logkeep_name(lf, gz), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    dock_logkeep_check_file(lf, &st, why_buf, sizeof(why_buf)) == NULL) {
			/* Killed between the archive's rename and the unlink. */
			dock_logkeep_unlink(lf, &lo.keys[i], lo.kinds[i]);
			continue;
		}
		if (lf->njobs >= MAX_PENDING) {
			/* No room in the queue now (the rest is compressed once
			 * it empties): at least make hidden content visible
			 * under its archive name. */
			lf->leftovers = true;
			if (lo.kinds[i] == DOCK_ARCHIVE_RAW) {
				/* gz_buf is free again: the archive name was checked. */
				const char *plain = dock_logkeep_path(lf, gz_buf, &lo.keys[i], DOCK_ARCHIVE_PLAIN);

				if (plain && renameat(lf->dirfd, dock_logkeep_name(lf, src), lf->dirfd, dock_logkeep_name(lf, plain)) < 0)
					dock_warn("%s: cannot rename %s", lf->path, src);
			}
			continue;
		}
		fd = dock_logkeep_open_existing(lf, dock_logkeep_name(lf, src), O_RDWR, &why, why_buf);
		if (fd < 0) {
			if (why != NULL)
				dock_warnx("%s: %s is %s, not content dock left: left alone", lf->path, src, why);
			continue;
		}
		dock_debug("%s: compressing %s left by an earlier run", lf->path, src);
		dock_logarch_enqueue(lf, fd, &lo.keys[i], lo.kinds[i] == DOCK_ARCHIVE_RAW ? SRC_RAW : SRC_PLAIN);
	}
	if (lo.more)
		lf->leftovers = true;
	dock_logarch_drop_doomed(lf);
}

