#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sys.h"

/* The highest fd number that could be open: the soft limit on open files,
 * capped so a huge limit does not make the fallback loops crawl. */
static int fd_ceiling(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536)
		return 65536;
	return (int)rl.rlim_cur;
}

static bool kept(int fd, const int *keep, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

void dock_cloexec_from_3(void)
{
	int fd, ceiling;

	if (dock_sys_close_range(3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	ceiling = fd_ceiling();
	for (fd = 3; fd < ceiling; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags >= 0 && !(flags & FD_CLOEXEC))
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
}

int dock_close_fds_except(const int *keep, unsigned n)
{
	int fd, ceiling, lo = 3, rc = 0;

	/* close_range over the gaps between the kept fds, lowest first. */
	for (;;) {
		int next = -1;
		unsigned i;

		for (i = 0; i < n; i++)
			if (keep[i] >= lo && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0)
			break;
		if (next > lo && dock_sys_close_range((unsigned)lo, (unsigned)next - 1, 0) < 0)
			goto fallback;
		lo = next + 1;
	}
	if (dock_sys_close_range((unsigned)lo, ~0U, 0) == 0)
		return 0;
fallback:
	/* Kernels before 5.9. */
	ceiling = fd_ceiling();
	for (fd = 3; fd < ceiling; fd++)
		if (!kept(fd, keep, n) && close(fd) < 0 && errno != EBADF)
			rc = -1;
	return rc;
}

pid_t dock_child_fork(const int *keep, unsigned n, int *pidfd)
{
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		if (dock_close_fds_except(keep, n) < 0)
			_exit(1);
		return 0;
	}
	if (pidfd != NULL)
		*pidfd = dock_sys_pidfd_open(pid);
	return pid;
}
