#include "statusfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

static struct {
	const char *path;
	char tmp[PATH_MAX + 8];		/* PATH.tmp, for messages */
	int dirfd;			/* PATH's directory, opened at setup */
	char name[NAME_MAX + 1];	/* PATH's last component */
	char tmpname[NAME_MAX + 1];	/* and the temporary file's */
	bool started;		/* setup is over: failures only warn */
	int setup_errno;	/* the first write's failure, for setup */
	const char *failed;	/* the path a failed write stopped at */
	const char *found;	/* what was in the way, or NULL */
} statusfile = { .dirfd = -1 };

ssize_t dock_statusfile_format(const struct dock_status *st, char *buf, size_t len)
{
	struct dock_json j;
	ssize_t n;

	/* One byte is kept for the newline that ends the line. */
	if (len < 2)
		return -1;
	dock_json_init(&j, buf, len - 1);
	dock_json_begin_object(&j);
	if (dock_state_json_fields(&j, st) < 0)
		return -1;
	dock_json_end_object(&j);
	n = dock_json_finish(&j);
	if (n < 0)
		return -1;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* Writes doc to PATH.tmp and renames it over PATH. Returns 0, or -1 with
 * errno set, statusfile.failed naming the path that failed, and the temporary file
 * removed. No fsync: the file describes a running process, so after a
 * crash of the machine it is stale whatever its content, and a sync could
 * stall the loop on a busy disk.
 *
 * The directory may belong to the command, which can plant anything at
 * either name at any time. Everything goes through the directory's fd
 * taken at start; the temporary name is removed (never followed, opened
 * or reused: a FIFO there would block an open, a symlink redirect it) and
 * created anew with O_EXCL; and PATH is replaced only while it is a
 * regular file. What a swap between that check and the rename could put
 * at PATH loses its name only: rename(2) never writes through it. */
static int replace_file(const char *doc, size_t n)
{
	struct stat st;
	size_t off = 0;
	int fd, saved;

	statusfile.failed = statusfile.tmp;
	statusfile.found = NULL;
	if (unlinkat(statusfile.dirfd, statusfile.tmpname, 0) < 0 && errno == EISDIR)
		(void)unlinkat(statusfile.dirfd, statusfile.tmpname, AT_REMOVEDIR);	/* only if empty */
	fd = openat(statusfile.dirfd, statusfile.tmpname,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		if (errno == EEXIST && fstatat(statusfile.dirfd, statusfile.tmpname, &st, AT_SYMLINK_NOFOLLOW) == 0)
			statusfile.found = dock_log_file_kind(st.st_mode);
		return -1;	/* nothing of ours to remove */
	}
	while (off < n) {
		ssize_t w = write(fd, doc + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			goto fail;
		}
		off += (size_t)w;
	}
	/* close can report a delayed write error (NFS, quotas). */
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	statusfile.failed = statusfile.path;
	if (fstatat(statusfile.dirfd, statusfile.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
		statusfile.found = dock_log_file_kind(st.st_mode);
		errno = EEXIST;
		goto fail;
	}
	if (renameat(statusfile.dirfd, statusfile.tmpname, statusfile.dirfd, statusfile.name) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	(void)unlinkat(statusfile.dirfd, statusfile.tmpname, 0);
	errno = saved;
	return -1;
}

static void warn_failure(const char *what)
{
	if (statusfile.found != NULL)
		dock_warnx("--status-file %s: %s: %s is %s, not a regular file; left alone", statusfile.path, what,
			   statusfile.failed, statusfile.found);
	else
		dock_warn("--status-file %s: %s: %s", statusfile.path, what, statusfile.failed);
}

static void on_status(const struct dock_status *st, void *ctx)
{
	char doc[DOCK_STATUSFILE_DOC_MAX], what[64];
	ssize_t n;

	(void)ctx;
	/* The buffer holds the largest document (the unit test of the format
	 * checks it): n < 0 is not expected, and would be one more failed write. */
	n = dock_statusfile_format(st, doc, sizeof(doc));
	if (n < 0) {
		errno = EOVERFLOW;
		statusfile.failed = statusfile.path;
		statusfile.found = NULL;
	} else if (replace_file(doc, (size_t)n) == 0) {
		dock_debug("status file %s: %s", statusfile.path, dock_state_name(st->state));
		return;
	}
	if (!statusfile.started) {
		statusfile.setup_errno = errno;
		return;
	}
	snprintf(what, sizeof(what), "cannot write status '%s'", dock_state_name(st->state));
	warn_failure(what);
}

/* Splits PATH into its directory (opened here, before the command runs:
 * every later step goes through this fd, so neither a swapped directory
 * path nor dock's working directory changes where the file goes) and its
 * name, and refuses a PATH that exists and is not a regular file: dock
 * would otherwise replace a device node, FIFO or symlink by a JSON file. */
static int open_dir(void)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(statusfile.path, '/');
	const char *name = slash ? slash + 1 : statusfile.path;
	struct stat st;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == statusfile.path)
		strcpy(dir, "/");
	else if ((size_t)(slash - statusfile.path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - statusfile.path), statusfile.path);
	else
		goto toolong;
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		dock_warnx("--status-file %s: is a directory, not a regular file", statusfile.path);
		return -1;
	}
	if (strlen(name) + 5 > NAME_MAX + 1)
		goto toolong;
	strcpy(statusfile.name, name);
	snprintf(statusfile.tmpname, sizeof(statusfile.tmpname), "%s.tmp", name);
	statusfile.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (statusfile.dirfd < 0) {
		dock_warn("--status-file %s: cannot open its directory %s", statusfile.path, dir);
		return -1;
	}
	if (fstatat(statusfile.dirfd, statusfile.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
		dock_warnx("--status-file %s: is %s, not a regular file", statusfile.path, dock_log_file_kind(st.st_mode));
		return -1;
	}
	return 0;
toolong:
	dock_warnx("--status-file %.64s...: path too long", statusfile.path);
	return -1;
}

int dock_statusfile_setup(const char *path)
{
	if (path == NULL)
		return 0;
	statusfile.path = path;
	if ((size_t)snprintf(statusfile.tmp, sizeof(statusfile.tmp), "%s.tmp", statusfile.path) >= sizeof(statusfile.tmp)) {
		dock_warnx("--status-file %.64s...: path too long", statusfile.path);
		return -1;
	}
	if (open_dir() < 0)
		return -1;
	/* The subscription writes "starting" at once: a path that cannot be
	 * written (read-only file system, no room) stops dock here, before
	 * the command starts, with exit status 1. */
	if (dock_lifecycle_subscribe(on_status, NULL) < 0) {
		dock_warnx("--status-file: too many status reporters");
		return -1;
	}
	statusfile.started = true;
	if (statusfile.setup_errno != 0) {
		errno = statusfile.setup_errno;
		warn_failure("cannot write");
		return -1;
	}
	return 0;
}
