/* Archive jobs: the rotated contents waiting to be compressed, oldest
 * first, and the helper process that compresses them one at a time.
 *
 * Compression runs in a process of its own, made by dock_child_fork(), and
 * never in dock's loop: deflate of a 500 MB log takes seconds of CPU, and
 * even in slices of a millisecond it stole the writer's time at every
 * rotation (docs/benchmarks.md). The helper gets the log directory's fd
 * and the content's fd, writes BASE_STAMP.gz.tmp under the same rules as
 * dock (logkeep.c: openat on the directory's fd, O_EXCL|O_NOFOLLOW, the
 * rename only while the name is still the file it wrote), makes it
 * durable, renames it to BASE_STAMP.gz, removes the raw copy and writes
 * one report into a pipe that dock's loop watches. Only its report is
 * read in the loop; the deflate, the fdatasync and the freeing of the big
 * raw file all happen in the helper.
 *
 * What can go wrong is decided in dock, from the report: a full disk makes
 * room and runs the job again, a directory refusing new files parks the
 * queue for a while, anything else keeps the content uncompressed under
 * BASE_STAMP. A helper that dies without a report (killed from outside)
 * is the same: one warning, the content kept, and the next start of dock
 * compresses it. */
#include "logfile_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "gzip.h"
#include "log.h"
#include "sys.h"
#include "tree.h"

/* The compressor's nice value while the command runs: the command's
 * writes and dock's loop preempt it, so a rotation adds no stall to a
 * writer that keeps the CPUs busy (docs/benchmarks.md), and it still gets
 * about a tenth of a CPU against a nice-0 process that never sleeps (at
 * 19, 1.5 %: too little for a busy logger's archives, and the queue
 * would overflow into uncompressed ones). At exit it gets 0 back. */
#define ARCH_NICE 10

/* How a helper's work ended. */
enum arch_step {
	ARCH_OK,
	ARCH_NAME,		/* a name does not fit in PATH_MAX */
	ARCH_CREATE,		/* the .gz.tmp cannot be created */
	ARCH_TMP_DIR,		/* a directory holding something has its name */
	ARCH_MEM,		/* no memory for the compressor */
	ARCH_READ,		/* reading the content failed */
	ARCH_WRITE,		/* writing the archive failed */
	ARCH_SYNC,		/* fdatasync failed */
	ARCH_RENAME,		/* renaming TMP to GZ failed */
};

/* One write, far below PIPE_BUF: it arrives whole or not at all. */
struct arch_report {
	int step;
	int err;
	uint64_t in, out;
};

/* ------------------------------------------------------------ the queue */

void dock_logarch_enqueue(struct dock_logfile *lf, int fd, const struct dock_archive_key *key,
			  enum job_source src)
{
	struct job *j = &lf->jobs[lf->njobs++];

	j->fd = fd;
	j->key = *key;
	j->src = src;
}

static void drop_job(struct dock_logfile *lf, unsigned i)
{
	dock_logkeep_release_fd(lf, lf->jobs[i].fd);
	memmove(&lf->jobs[i], &lf->jobs[i + 1], (lf->njobs - i - 1) * sizeof(lf->jobs[0]));
	lf->njobs--;
	if (lf->njobs == 0) {
		lf->compress_failing = false;
		lf->overflow_warned = false;
	}
}

/* Retention deleted an archive that a job was still to (re)compress. A job
 * whose helper runs is left to it: killing it would race its renames, and
 * the archive it makes is the oldest, so the next retention takes it. */
void dock_logarch_forget(struct dock_logfile *lf, const struct dock_archive_key *key)
{
	unsigned i = lf->helper ? 1 : 0;

	while (i < lf->njobs) {
		if (dock_rotate_key_cmp(&lf->jobs[i].key, key) == 0) {
			if (lf->jobs[i].src == SRC_RAW)
				dock_logkeep_unlink(lf, key, DOCK_ARCHIVE_RAW);
			drop_job(lf, i);
		} else {
			i++;
		}
	}
}

/* Pending content is newer than every archive, so when more is pending
 * than --log-keep allows, the oldest pending would be deleted as soon as it
 * became an archive: drop it now, and spare the compression. */
static void kill_helper(struct dock_logfile *lf);

void dock_logarch_drop_doomed(struct dock_logfile *lf)
{
	unsigned first = lf->helper ? 1 : 0;

	/* The job a helper is compressing is the oldest: when more jobs
	 * than --log-keep wait, it goes first, or the kept history would
	 * have a hole (it kept, a newer one dropped). Its helper is killed
	 * and its names removed once the helper is gone (on_report). */
	if (lf->helper && !lf->helper_doomed && !lf->helper_killed && lf->njobs > lf->keep) {
		dock_debug("%s: dropping the rotation being compressed: beyond --log-keep", lf->path);
		kill_helper(lf);
		lf->helper_killed = false;	/* not the exit's kill */
		lf->helper_doomed = true;
	}

	while (lf->njobs - first > lf->keep && first < lf->njobs) {
		struct dock_archive_key key = lf->jobs[first].key;

		dock_debug("%s: dropping pending rotation beyond --log-keep", lf->path);
		if (lf->jobs[first].src == SRC_RAW)
			dock_logkeep_unlink(lf, &key, DOCK_ARCHIVE_RAW);
		else if (lf->jobs[first].src == SRC_PLAIN)
			dock_logkeep_unlink(lf, &key, DOCK_ARCHIVE_PLAIN);
		drop_job(lf, first);
	}
}

/* Gives up compressing job i (no helper works on it), keeping its content
 * uncompressed under the archive name BASE_STAMP when it has a name. */
static void abandon_job(struct dock_logfile *lf, unsigned i, const char *why)
{
	char raw_buf[PATH_MAX], plain_buf[PATH_MAX];
	struct job *j = &lf->jobs[i];
	const char *raw, *plain;

	/* What a helper may have left of the archive. */
	dock_logkeep_unlink(lf, &j->key, DOCK_ARCHIVE_TMP);
	switch (j->src) {
	case SRC_RAW:
		raw = dock_logkeep_path(lf, raw_buf, &j->key, DOCK_ARCHIVE_RAW);
		plain = dock_logkeep_path(lf, plain_buf, &j->key, DOCK_ARCHIVE_PLAIN);
		if (raw && plain && renameat(lf->dirfd, dock_logkeep_name(lf, raw), lf->dirfd,
					     dock_logkeep_name(lf, plain)) == 0)
			dock_warnx("%s: %s; kept %s uncompressed", lf->path, why, plain);
		else
			dock_warn("%s: %s; content left in %s", lf->path, why, raw ? raw : "(name too long)");
		break;
	case SRC_PLAIN:
		dock_warnx("%s: %s; %s stays uncompressed", lf->path, why,
			   dock_logkeep_path(lf, plain_buf, &j->key, DOCK_ARCHIVE_PLAIN));
		break;
	case SRC_UNLINKED:
		dock_warnx("%s: %s; the content of the removed log file is lost", lf->path, why);
		break;
	}
	drop_job(lf, i);
	dock_logkeep_retention(lf);
}

/* ----------------------------------------------------------- the helper */

/* Creates the archive's temporary name. The name is predictable and the
 * directory may be writable by the command: never follow or reuse what is
 * there, replace it. */
static int open_tmp(int dirfd, const char *tmp, mode_t mode, struct arch_report *r)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	int fd = openat(dirfd, tmp, flags, mode);

	if (fd < 0 && errno == EEXIST) {
		struct stat st;
		bool dir = fstatat(dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);

		if (unlinkat(dirfd, tmp, dir ? AT_REMOVEDIR : 0) == 0 || errno == ENOENT) {
			fd = openat(dirfd, tmp, flags, mode);
		} else if (dir) {
			r->step = ARCH_TMP_DIR;
			return -1;
		}
	}
	if (fd < 0) {
		r->step = ARCH_CREATE;
		r->err = errno;
		return -1;
	}
	/* The umask may have narrowed the mode. */
	(void)fchmod(fd, mode);
	return fd;
}

/* The helper's whole work, in order: the archive is written, made durable
 * (without that, a crash soon after could leave an empty archive and no
 * raw copy), given its final name (only while tmp still names the file
 * written), and the raw copy is removed. */
static struct arch_report compress_job(int dirfd, int src_fd, const char *tmp, const char *gz,
				       const char *src, mode_t mode)
{
	struct arch_report r = { ARCH_OK, 0, 0, 0 };
	enum dock_gzip_result g;
	struct dock_gzip *z;
	struct stat a, b;
	int fd;

	fd = open_tmp(dirfd, tmp, mode, &r);
	if (fd < 0)
		return r;
	z = dock_gzip_new();
	if (z == NULL) {
		r.step = ARCH_MEM;
		return r;
	}
	dock_gzip_start(z, src_fd, fd);
	while ((g = dock_gzip_step(z, DOCK_GZIP_SLICE)) == DOCK_GZIP_MORE)
		;
	r.in = dock_gzip_in_bytes(z);
	r.out = dock_gzip_out_bytes(z);
	if (g != DOCK_GZIP_DONE) {
		r.step = g == DOCK_GZIP_EREAD ? ARCH_READ : ARCH_WRITE;
		r.err = errno;
		return r;
	}
	if (fdatasync(fd) < 0) {
		r.step = ARCH_SYNC;
		r.err = errno;
		return r;
	}
	if (fstat(fd, &a) < 0 || fstatat(dirfd, tmp, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		r.step = ARCH_RENAME;
		r.err = ENOENT;
		return r;
	}
	if (renameat(dirfd, tmp, dirfd, gz) < 0) {
		r.step = ARCH_RENAME;
		r.err = errno;
		return r;
	}
	if (src != NULL)
		(void)unlinkat(dirfd, src, 0);
	return r;
}

/* The directory refuses new files (read-only, gone): try again later
 * rather than at once. */
static void park(struct dock_logfile *lf, const char *what)
{
	if (!lf->compress_failing)
		dock_warn("%s: cannot %s; compression will retry", lf->path, what);
	lf->compress_failing = true;
	lf->parked_until = dock_now_ms() + RETRY_MS;
}

/* Lets go of the helper: its pipe, its pidfd, and its place among the
 * processes the tree shutdown spares. The process itself is reaped by
 * dock's reaper like any other child. */
static void stop_helper(struct dock_logfile *lf)
{
	if (lf->helper == 0)
		return;
	dock_loop_del(&lf->helper_w);
	close(lf->helper_w.fd);
	lf->helper_w.fd = -1;
	if (lf->helper_pidfd >= 0)
		close(lf->helper_pidfd);
	lf->helper_pidfd = -1;
	dock_tree_spare(lf->helper, false);
	lf->helper = 0;
	lf->helper_killed = false;
	lf->helper_doomed = false;
}

/* SIGKILL through the pidfd, which names the helper even if it was reaped
 * meanwhile; by pid only where the kernel has no pidfd (the report pipe
 * still open says the process has not exited). */
static void kill_helper(struct dock_logfile *lf)
{
	if (lf->helper_pidfd >= 0)
		(void)dock_sys_pidfd_send_signal(lf->helper_pidfd, SIGKILL);
	else
		(void)kill(lf->helper, SIGKILL);
	lf->helper_killed = true;
	lf->kill_grace_until = dock_now_ms() + KILL_GRACE_MS;
}

/* The helper died without a report (killed from outside). If it got as far
 * as the archive's rename, the archive is complete. */
static struct arch_report after_crash(struct dock_logfile *lf, const struct job *j)
{
	char tmp_buf[PATH_MAX], gz_buf[PATH_MAX], src_buf[PATH_MAX];
	struct arch_report r = { ARCH_OK, 0, 0, 0 };
	const char *tmp = dock_logkeep_path(lf, tmp_buf, &j->key, DOCK_ARCHIVE_TMP);
	const char *gz = dock_logkeep_path(lf, gz_buf, &j->key, DOCK_ARCHIVE_GZ);
	const char *src = NULL;
	struct stat st;

	if (j->src != SRC_UNLINKED)
		src = dock_logkeep_path(lf, src_buf, &j->key,
					j->src == SRC_RAW ? DOCK_ARCHIVE_RAW : DOCK_ARCHIVE_PLAIN);
	r.step = -1;
	if (tmp == NULL || gz == NULL || fstatat(lf->dirfd, dock_logkeep_name(lf, tmp), &st,
						  AT_SYMLINK_NOFOLLOW) == 0)
		return r;
	if (fstatat(lf->dirfd, dock_logkeep_name(lf, gz), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return r;
	if (src != NULL)
		(void)unlinkat(lf->dirfd, dock_logkeep_name(lf, src), 0);
	r.step = ARCH_OK;
	return r;
}

static void archived(struct dock_logfile *lf, const struct arch_report *r)
{
	dock_debug("%s: archived %llu bytes into %llu", lf->path, (unsigned long long)r->in,
		   (unsigned long long)r->out);
	lf->compress_failing = false;
	drop_job(lf, 0);
	dock_logkeep_retention(lf);
	/* Caught up: now the content kept uncompressed meanwhile. */
	if (lf->njobs == 0 && lf->leftovers)
		dock_logkeep_recover(lf);
}

/* What dock does with the first job after its helper's report. */
static void judge(struct dock_logfile *lf, const struct arch_report *r)
{
	errno = r->err;
	switch (r->step) {
	case ARCH_OK:
		archived(lf, r);
		break;
	case ARCH_NAME:
		abandon_job(lf, 0, "archive name too long");
		break;
	case ARCH_TMP_DIR:
		abandon_job(lf, 0, "the archive's temporary name is taken by a directory");
		break;
	case ARCH_MEM:
		abandon_job(lf, 0, "no memory to compress");
		break;
	case ARCH_READ:
		abandon_job(lf, 0, "cannot read the rotated log");
		break;
	case ARCH_CREATE:
	case ARCH_WRITE:
		/* A full disk: delete the oldest archive and run the job
		 * again (the helper replaces its own partial .gz.tmp). */
		if (dock_logkeep_make_room(lf, r->err))
			break;
		errno = r->err;
		if (r->err == ENOSPC || r->err == EDQUOT)
			abandon_job(lf, 0, r->step == ARCH_CREATE ? "disk full" : "disk full while compressing");
		else if (r->step == ARCH_CREATE)
			park(lf, "create an archive");
		else
			abandon_job(lf, 0, "cannot write the archive");
		break;
	case ARCH_SYNC:
		if (r->err == ENOSPC || r->err == EDQUOT) {
			/* Delayed allocation: a full disk may show only at the
			 * sync. The archive is incomplete, the raw copy is not. */
			dock_logkeep_make_room(lf, r->err);
			abandon_job(lf, 0, "disk full while writing the archive");
		} else {
			dock_warn("%s: cannot sync the archive", lf->path);
			abandon_job(lf, 0, "archive not written");
		}
		break;
	case ARCH_RENAME:
		dock_warn("%s: cannot rename the finished archive", lf->path);
		abandon_job(lf, 0, "archive not renamed");
		break;
	default:
		abandon_job(lf, 0, "the compressor process ended without finishing");
		break;
	}
}

/* The first job was dropped beyond --log-keep while its helper ran; the
 * helper is gone now, so its names can go. */
static void forget_running(struct dock_logfile *lf)
{
	struct job *j = &lf->jobs[0];

	dock_logkeep_unlink(lf, &j->key, DOCK_ARCHIVE_TMP);
	if (j->src == SRC_RAW)
		dock_logkeep_unlink(lf, &j->key, DOCK_ARCHIVE_RAW);
	else if (j->src == SRC_PLAIN)
		dock_logkeep_unlink(lf, &j->key, DOCK_ARCHIVE_PLAIN);
	drop_job(lf, 0);
}

static void on_report(struct dock_watcher *w, uint32_t events)
{
	struct dock_logfile *lf = w->data;
	struct arch_report r;
	bool killed = lf->helper_killed, doomed = lf->helper_doomed;
	ssize_t n;

	(void)events;
	n = read(w->fd, &r, sizeof(r));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	stop_helper(lf);
	if (n == (ssize_t)sizeof(r) && r.step == ARCH_OK)
		archived(lf, &r);	/* finished before the kill: retention decides */
	else if (doomed)
		forget_running(lf);
	else if (n == (ssize_t)sizeof(r))
		judge(lf, &r);
	else if (killed)
		abandon_job(lf, 0, "compression cut short at exit");
	else {
		r = after_crash(lf, &lf->jobs[0]);
		judge(lf, &r);
	}
	dock_logfile_schedule(lf);
}

/* Starts the helper for the first job. */
static void start_helper(struct dock_logfile *lf)
{
	char tmp_buf[PATH_MAX], gz_buf[PATH_MAX], src_buf[PATH_MAX];
	struct job *j = &lf->jobs[0];
	const char *tmp, *gz, *src = NULL, *why;
	char why_buf[48];
	int p[2], pidfd = -1;
	pid_t pid;

	tmp = dock_logkeep_path(lf, tmp_buf, &j->key, DOCK_ARCHIVE_TMP);
	gz = dock_logkeep_path(lf, gz_buf, &j->key, DOCK_ARCHIVE_GZ);
	if (j->src != SRC_UNLINKED)
		src = dock_logkeep_path(lf, src_buf, &j->key,
					j->src == SRC_RAW ? DOCK_ARCHIVE_RAW : DOCK_ARCHIVE_PLAIN);
	if (tmp == NULL || gz == NULL || (j->src != SRC_UNLINKED && src == NULL)) {
		abandon_job(lf, 0, "archive name too long");
		return;
	}
	/* A job run again (after room was made, or a park) finds its content
	 * by name, with the checks of any name of the directory. */
	if (j->fd < 0) {
		j->fd = dock_logkeep_open_existing(lf, dock_logkeep_name(lf, src), O_RDONLY, &why, why_buf);
		if (j->fd < 0) {
			if (why != NULL)
				dock_warnx("%s: %s is %s, not content dock left: left alone", lf->path, src, why);
			else
				dock_warn("%s: cannot open %s to compress it", lf->path, src);
			drop_job(lf, 0);
			return;
		}
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		park(lf, "make a pipe for the compressor");
		return;
	}
	{
		int keep[3] = { p[1], j->fd, lf->dirfd };

		pid = dock_child_fork(keep, 3, &pidfd);
	}
	if (pid == 0) {
		struct arch_report r;

		(void)setpriority(PRIO_PROCESS, 0, lf->finishing ? 0 : ARCH_NICE);
		r = compress_job(lf->dirfd, j->fd, dock_logkeep_name(lf, tmp),
						    dock_logkeep_name(lf, gz),
						    src ? dock_logkeep_name(lf, src) : NULL, ARCHIVE_MODE(lf));

		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		park(lf, "start a compressor process");
		return;
	}
	lf->helper = pid;
	lf->helper_pidfd = pidfd;
	lf->helper_killed = false;
	lf->helper_w.fd = p[0];
	lf->helper_w.cb = on_report;
	lf->helper_w.data = lf;
	dock_tree_spare(pid, true);
	if (dock_loop_add(&lf->helper_w, EPOLLIN) < 0) {
		/* Unwatchable: the report could never be read. */
		kill_helper(lf);
		stop_helper(lf);
		park(lf, "watch the compressor");
		return;
	}
	/* The helper holds the content now, and its exit (not dock's loop)
	 * frees a big file's blocks. Content with no name keeps dock's fd:
	 * it is its only copy if the job must run again. */
	if (j->src != SRC_UNLINKED) {
		close(j->fd);
		j->fd = -1;
	}
	dock_debug("%s: compressing %s (pid %d)", lf->path, src ? src : "the removed log file",
		   (int)pid);
}

/* --------------------------------------------------------- the schedule */

int64_t dock_logarch_next(const struct dock_logfile *lf, int64_t now)
{
	int64_t w;

	if (lf->njobs == 0)
		return -1;
	if (lf->helper)
		return lf->helper_killed ? lf->kill_grace_until : lf->finishing ? lf->drain_deadline : -1;
	w = lf->parked_until > now ? lf->parked_until : now;
	if (lf->finishing && lf->drain_deadline < w)
		w = lf->drain_deadline;
	return w;
}

/* The running job's helper was killed at exit and is not gone after
 * KILL_GRACE_MS (stuck in the kernel): its content stays under its hidden
 * name, which the next start compresses; no name is touched while the
 * helper might still act on it. */
static void leave_running(struct dock_logfile *lf, const char *why)
{
	char raw_buf[PATH_MAX];
	struct job *j = &lf->jobs[0];

	stop_helper(lf);
	if (j->src == SRC_UNLINKED)
		dock_warnx("%s: %s; the content of the removed log file is lost", lf->path, why);
	else
		dock_warnx("%s: %s; %s is compressed at the next start", lf->path, why,
			   dock_logkeep_path(lf, raw_buf, &j->key, j->src == SRC_RAW ? DOCK_ARCHIVE_RAW
										 : DOCK_ARCHIVE_PLAIN));
	drop_job(lf, 0);
}

void dock_logarch_step(struct dock_logfile *lf, int64_t now)
{
	if (lf->njobs == 0)
		return;
	if (lf->helper && lf->helper_killed && now >= lf->kill_grace_until)
		leave_running(lf, "compression cut short at exit");
	if (lf->finishing && now >= lf->drain_deadline) {
		unsigned first = 0;

		if (lf->helper) {
			if (!lf->helper_killed)
				kill_helper(lf);
			first = 1;
		}
		while (lf->njobs > first)
			abandon_job(lf, first, "compression cut short at exit");
		return;
	}
	if (!lf->helper && now >= lf->parked_until)
		start_helper(lf);
}

void dock_logarch_finish(struct dock_logfile *lf)
{
	/* The command is gone: the compressor no longer yields to it, and
	 * gets the CPU the drain's budget assumes. Raising a priority needs
	 * CAP_SYS_NICE; without it, it stays as it was. The pipe still open
	 * says the pid is still the helper's. */
	if (lf->helper && !lf->helper_killed)
		(void)setpriority(PRIO_PROCESS, lf->helper, 0);
}

void dock_logarch_close(struct dock_logfile *lf)
{
	if (lf->helper) {
		if (!lf->helper_killed)
			kill_helper(lf);
		leave_running(lf, "compression cut short at exit");
	}
	while (lf->njobs > 0)
		abandon_job(lf, 0, "compression cut short at exit");
}
