/* Inside the log file module, shared by its three parts:
 *   logfile.c  the live file: open, write, splice, the rotation itself, the
 *              timer, the public API;
 *   logarch.c  archive jobs: the queue of rotated content and the helper
 *              process that compresses one job at a time;
 *   logkeep.c  the directory: names, hostile-file checks, disk full,
 *              retention, and recovery of what an earlier run left.
 * Nothing outside these three files includes this header. */
#ifndef DOCK_LOGFILE_INT_H
#define DOCK_LOGFILE_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "logfile.h"
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
/* After the SIGKILL of a compressor still running at DRAIN_MS: how long
 * dock waits for it to be gone (its pipe closes) before it renames what the
 * compressor was working on. One stuck in the kernel (a sync on a hung
 * disk) leaves the content under its hidden name for the next start. */
#define KILL_GRACE_MS 200
/* A rotation that failed (directory gone, read-only) is retried at the next
 * period, or after this long when only --log-max-size triggers it. */
#define RETRY_MS 10000
/* Deleting a big file frees its blocks and cached pages inside unlink or
 * the last close: ~300 ms for 500 MB on ext4. dock unlinks while it holds
 * an fd and then shrinks the file by this much per step between events
 * (~1 ms each), closing it once empty; the queue bounds the fds held. */
#define SHRED_STEP (1024 * 1024)
#define MAX_SHRED 16
#define SCRATCH_SIZE (16 * 1024)
/* An archive is data to read, never a program: the live file's read and
 * write bits only. */
#define ARCHIVE_MODE(lf) ((lf)->mode & 0666)

enum job_source {
	SRC_RAW,	/* .BASE_STAMP.raw */
	SRC_PLAIN,	/* BASE_STAMP, left uncompressed by an earlier run */
	SRC_UNLINKED,	/* the live file was removed under dock: only the fd */
};

/* One rotated content to compress. fd is dock's fd of it, or -1 while a
 * compressor works on it (dock closes its copy then, so the compressor's
 * exit, not dock's loop, frees a big file's blocks; the content is found
 * again by name if it must be retried). A content with no name keeps its
 * fd, its only reference. */
struct job {
	int fd;
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
	 * name without '/' (see logkeep.c). */
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
	/* The compressor of jobs[0] while it runs (see logarch.c). */
	pid_t helper;			/* 0: none */
	int helper_pidfd;		/* -1 where the kernel has no pidfd */
	struct dock_watcher helper_w;	/* its report pipe */
	bool helper_killed;		/* dock sent it SIGKILL at exit */
	bool helper_doomed;		/* killed: its job is beyond --log-keep */
	int64_t kill_grace_until;
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
	char scratch[SCRATCH_SIZE];	/* the read half of read + write */
};

/* logfile.c */
void dock_logfile_schedule(struct dock_logfile *lf);

/* logkeep.c: the directory. Archive paths are built into a caller's
 * buffer of PATH_MAX bytes; NULL (ENAMETOOLONG) when one does not fit. */
const char *dock_logkeep_path(const struct dock_logfile *lf, char *buf,
			      const struct dock_archive_key *key, enum dock_archive_kind kind);
/* The name inside the directory of a path built above. */
static inline const char *dock_logkeep_name(const struct dock_logfile *lf, const char *path)
{
	return path + lf->dirlen;
}
const char *dock_logkeep_check_file(const struct dock_logfile *lf, const struct stat *st, char *buf,
				    size_t len);
int dock_logkeep_open_existing(struct dock_logfile *lf, const char *name, int flags, const char **why,
			       char *why_buf);
int dock_logkeep_remove_planted(struct dock_logfile *lf, const char *name);
void dock_logkeep_refresh_dir(struct dock_logfile *lf);
bool dock_logkeep_exists(struct dock_logfile *lf, const struct dock_archive_key *key);
void dock_logkeep_release_fd(struct dock_logfile *lf, int fd);
void dock_logkeep_shred_step(struct dock_logfile *lf);
bool dock_logkeep_unlink(struct dock_logfile *lf, const struct dock_archive_key *key,
			 enum dock_archive_kind kind);
void dock_logkeep_report_full(struct dock_logfile *lf);
void dock_logkeep_end_full(struct dock_logfile *lf);
void dock_logkeep_count_lost(struct dock_logfile *lf, uint64_t n, int err);
bool dock_logkeep_make_room(struct dock_logfile *lf, int err);
void dock_logkeep_retention(struct dock_logfile *lf);
void dock_logkeep_recover(struct dock_logfile *lf);

/* logrotate.c: rotation of the live file and the timer. */
bool dock_logrotate_wanted(struct dock_logfile *lf);
bool dock_logrotate_at_line_end(struct dock_logfile *lf);
/* Renames the live file aside and opens the path anew, now. */
void dock_logrotate_now(struct dock_logfile *lf);
/* Rotates when one is due and the current line has ended. */
void dock_logrotate_try(struct dock_logfile *lf);
/* The timer's callback: rotation, compression and shredding when due. */
void dock_logrotate_on_timer(struct dock_timer *t);
/* At exit: live content that the live name no longer shows is queued for
 * archiving from the fd dock holds. */
void dock_logrotate_archive_orphaned(struct dock_logfile *lf);

/* logarch.c: the archive jobs. */
void dock_logarch_enqueue(struct dock_logfile *lf, int fd, const struct dock_archive_key *key,
			  enum job_source src);
void dock_logarch_forget(struct dock_logfile *lf, const struct dock_archive_key *key);
void dock_logarch_drop_doomed(struct dock_logfile *lf);
/* Runs what is due: starts the compressor of the first job, and at exit
 * enforces the drain bound. Called from the timer. */
void dock_logarch_step(struct dock_logfile *lf, int64_t now);
/* When dock_logarch_step wants to run next (-1: never; a running
 * compressor wakes the loop through its pipe). */
int64_t dock_logarch_next(const struct dock_logfile *lf, int64_t now);
/* At exit: the running compressor gets back a normal priority. */
void dock_logarch_finish(struct dock_logfile *lf);
/* Gives up every job: the queued ones are kept uncompressed, a running
 * compressor is killed and its content left for the next start. */
void dock_logarch_close(struct dock_logfile *lf);

#endif
