#include "statusfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"

static struct {
	const char *path;
	char tmp[PATH_MAX + 8];
	bool started;		/* setup is over: failures only warn */
	int setup_errno;	/* the first write's failure, for setup */
} sf;

ssize_t dock_statusfile_format(const struct dock_status *st, char *buf, size_t len)
{
	struct dock_json j;
	ssize_t n;

	/* One byte is kept for the newline that ends the line. */
	if (len < 2)
		return -1;
	dock_json_init(&j, buf, len - 1);
	dock_json_begin_object(&j);
	if (dock_lifecycle_json_fields(&j, st) < 0)
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
 * errno set and the temporary file removed. No fsync: the file describes a
 * running process, so after a crash of the machine it is stale whatever
 * its content, and a sync could stall the loop on a busy disk. */
static int replace_file(const char *doc, size_t n)
{
	size_t off = 0;
	int fd, saved;

	/* O_NOFOLLOW: a symlink planted at PATH.tmp must not redirect the
	 * write elsewhere (dock often runs as root). */
	fd = open(sf.tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
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
	if (rename(sf.tmp, sf.path) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(sf.tmp);
	errno = saved;
	return -1;
}

static void on_status(const struct dock_status *st, void *ctx)
{
	char doc[DOCK_STATUSFILE_DOC_MAX];
	ssize_t n;

	(void)ctx;
	n = dock_statusfile_format(st, doc, sizeof(doc));
	if (n < 0) {
		/* The buffer is sized for the largest document: a broken
		 * invariant, but not one worth stopping the command for. */
		dock_warnx("--status-file %s: cannot format status '%s'", sf.path,
			   dock_state_name(st->state));
		return;
	}
	if (replace_file(doc, (size_t)n) == 0) {
		dock_debug("status file %s: %s", sf.path, dock_state_name(st->state));
		return;
	}
	if (!sf.started)
		sf.setup_errno = errno;
	else
		dock_warn("--status-file %s: cannot write status '%s'", sf.path,
			  dock_state_name(st->state));
}

int dock_statusfile_setup(const struct dock_config *cfg)
{
	if (cfg->status_file == NULL)
		return 0;
	sf.path = cfg->status_file;
	if ((size_t)snprintf(sf.tmp, sizeof(sf.tmp), "%s.tmp", sf.path) >= sizeof(sf.tmp)) {
		dock_warnx("--status-file %.64s...: path too long", sf.path);
		return -1;
	}
	/* The subscription writes "starting" at once: a path that cannot be
	 * written (missing directory, read-only file system) stops dock here,
	 * before the command starts, with exit status 1. */
	if (dock_lifecycle_subscribe(on_status, NULL) < 0) {
		dock_warnx("--status-file: too many status reporters");
		return -1;
	}
	sf.started = true;
	if (sf.setup_errno != 0) {
		errno = sf.setup_errno;
		dock_warn("--status-file %s: cannot write %s", sf.path, sf.tmp);
		return -1;
	}
	return 0;
}
