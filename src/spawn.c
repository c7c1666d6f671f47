#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "signals.h"

/* The child's stack while it shares dock's memory, up to its exec: execvp
 * needs a PATH entry plus the name on it (PATH_MAX + NAME_MAX), the rest is
 * a few small frames. A mapping of its own, unmapped once the child has
 * exec'd, rather than an array on dock's stack: that would push dock's own
 * calls a stack's depth further down and leave those pages resident. */
#define CHILD_STACK (32 * 1024)

struct child_args {
	char **argv;
	const struct dock_spawn_io *io;
	int errfd;
	int take_terminal;
};

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

/* Runs in dock's memory (CLONE_VM) while dock waits, so it writes only its
 * own stack and calls nothing that keeps state in libc: system calls and
 * execvp, which works on the stack alone. In the AddressSanitizer build
 * (make check-asan) it is left uninstrumented: ASan's hook before _exit
 * does not know this stack and reports a false alarm about it. */
#if defined(__SANITIZE_ADDRESS__)
__attribute__((no_sanitize_address))
#endif
static int child(void *arg)
{
	const struct child_args *a = arg;
	const struct dock_spawn_io *io = a->io;
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
	if (a->take_terminal)
		tcsetpgrp(STDIN_FILENO, getpid());
	dock_signals_restore_for_exec();
	dock_cloexec_from_3();
	execvp(a->argv[0], a->argv);
	err = errno;
	while (write(a->errfd, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(127);
}

pid_t dock_spawn(char **argv, const struct dock_spawn_io *io, int *exit_code)
{
	struct child_args a = { .argv = argv, .io = io };
	char *stack;
	int pfd[2], err = 0;
	ssize_t n;
	pid_t pid;

	/* Only a dock in the terminal's foreground hands it on: one started in
	 * the background must not steal the terminal from the shell. */
	a.take_terminal = !io->ctty && io->fd[0] < 0 && isatty(STDIN_FILENO) &&
			  tcgetpgrp(STDIN_FILENO) == getpgrp();
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		dock_warn("pipe");
		*exit_code = 1;
		return -1;
	}
	a.errfd = pfd[1];
	stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		dock_warn("mmap");
		close(pfd[0]);
		close(pfd[1]);
		*exit_code = 1;
		return -1;
	}
	/* vfork-style: the child borrows dock's memory instead of a copy of
	 * it, and dock sleeps until the child has exec'd or exited. No page
	 * tables to copy, no copy-on-write faults on either side afterwards,
	 * and the child has its process group (or session) before dock goes
	 * on, so a signal forwarded at once reaches the group. */
	pid = clone(child, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (pid < 0)
		dock_warn("clone");
	munmap(stack, CHILD_STACK);
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		*exit_code = 1;
		return -1;
	}
	/* EOF means exec succeeded; four bytes are the errno it failed with.
	 * Usually they are there, or the pipe closed, by the time dock runs
	 * again; but the exec point that wakes dock comes a moment before the
	 * kernel closes the child's copy of the pipe, and an emulator (qemu's
	 * user mode, valgrind) may turn the clone into a plain fork, so the
	 * read blocks until the pipe says which. Signals are blocked, so it
	 * cannot be interrupted. */
	do
		n = read(pfd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n != (ssize_t)sizeof(err))
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
