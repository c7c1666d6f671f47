#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "signals.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* dock opens its own fds close-on-exec, but fds it inherited from whoever
 * started it (a runtime's leaked socket, a shell's fd 3) would otherwise pass
 * on to the command. Marking them close-on-exec rather than closing keeps
 * the error pipe alive until exec. */
static void cloexec_from_3(void)
{
	int fd;

	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* Kernels before 5.11: walk what could be open. */
	for (fd = 3; fd < 65536; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags >= 0 && !(flags & FD_CLOEXEC))
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
}

/* Puts io's fds in place as 0, 1, 2. dup2 onto a different number clears
 * close-on-exec on the copy; a fd already in place needs it cleared. */
static void place_fds(const struct dock_spawn_io *io)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (io->fd[i] < 0)
			continue;
		if (io->fd[i] == i)
			fcntl(i, F_SETFD, 0);
		else
			dup2(io->fd[i], i);
	}
}

static void child(char **argv, const struct dock_spawn_io *io, int errfd, int take_terminal)
{
	int err;

	if (io->ctty) {
		/* A session of its own, with the pty as controlling terminal: the
		 * peer's ^C reaches the command's foreground job, and a hangup
		 * of the terminal reaches the session. */
		setsid();
		place_fds(io);
		ioctl(STDIN_FILENO, TIOCSCTTY, 0);
	} else {
		setpgid(0, 0);
		place_fds(io);
	}
	/* SIGTTOU is still blocked here (inherited from dock), which is what
	 * lets a background process take the terminal's foreground. */
	if (take_terminal)
		tcsetpgrp(STDIN_FILENO, getpid());
	dock_signals_restore_for_exec();
	cloexec_from_3();
	execvp(argv[0], argv);
	err = errno;
	while (write(errfd, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(127);
}

pid_t dock_spawn(char **argv, const struct dock_spawn_io *io, int *exit_code)
{
	int pfd[2], err = 0, take_terminal;
	ssize_t n;

	/* Only a dock in the terminal's foreground hands it on: one started in
	 * the background must not steal the terminal from the shell. */
	take_terminal = !io->ctty && io->fd[0] < 0 && isatty(STDIN_FILENO) &&
			tcgetpgrp(STDIN_FILENO) == getpgrp();
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		dock_warn("pipe");
		*exit_code = 1;
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		dock_warn("fork");
		close(pfd[0]);
		close(pfd[1]);
		*exit_code = 1;
		return -1;
	}
	if (pid == 0)
		child(argv, io, pfd[1], take_terminal);
	close(pfd[1]);
	/* Set the group from both sides: whichever runs first, the group exists
	 * before dock forwards a signal to it. */
	if (!io->ctty)
		setpgid(pid, pid);
	/* EOF means exec succeeded; four bytes are the errno it failed with.
	 * Signals are blocked, so the read cannot be interrupted. */
	do
		n = read(pfd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n <= 0)
		return pid;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = err;
	if (err == ENOENT || err == ENOTDIR) {
		dock_warnx("%s: command not found", argv[0]);
		*exit_code = 127;
	} else {
		dock_warn("%s: cannot execute", argv[0]);
		*exit_code = 126;
	}
	return -1;
}
