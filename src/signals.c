#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"
#include "status.h"

/* Masks as the kernel sees them (64 bits). musl's sigprocmask() and
 * sigfillset() leave out signals 32-34, which it reserves for threads and
 * timers that dock never uses; through the raw syscall dock can block, read
 * and forward those too, and give the command its exact original mask. */
static uint64_t original_mask;
static sigset_t handled;

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS };

static volatile sig_atomic_t forward_target;	/* 0: nowhere */
static const unsigned char *forward_rewrite;
static bool forward_thug;

/* Signals dock's parent left ignored: the child resets exactly these. */
static uint64_t inherited_ignored;

/* /proc/self/status says it in one read; without /proc, ask per signal. */
static void find_inherited_ignored(void)
{
	struct dock_proc_sigmasks m;
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} old;
	char buf[4096];
	ssize_t n = -1;
	int fd, sig;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n > 0 && dock_procfs_parse_sigmasks(buf, (size_t)n, &m) == 0) {
		inherited_ignored = m.ignored;
		return;
	}
	for (sig = 1; sig < _NSIG && sig < 65; sig++)
		if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(uint64_t)) == 0 &&
		    old.handler == SIG_IGN)
			inherited_ignored |= 1ULL << (sig - 1);
}

static int raw_sigmask(int how, const uint64_t *set, uint64_t *old)
{
	return (int)syscall(SYS_rt_sigprocmask, how, set, old, sizeof(uint64_t));
}

/* A fault signal is either a real fault of dock (the kernel sends it: the
 * code is positive) or a plain signal someone sent (kill, sigqueue: code
 * <= 0) that belongs to the command like any other. Blocking these would
 * make a real fault spin on the faulting instruction, so they stay
 * deliverable and this handler tells the two apart. Only async-signal-safe
 * calls here. */
static void on_fault_signal(int sig, siginfo_t *si, void *uc)
{
	pid_t target = (pid_t)forward_target;
	int out;

	(void)uc;
	if (si->si_code <= 0 && si->si_pid != getpid() && target != 0 && forward_rewrite != NULL) {
		out = forward_rewrite[sig];
		if (out != 0)
			kill(target, out);
		return;
	}
	/* A fault of dock's own: die of it, with the default action. */
	signal(sig, SIG_DFL);
	if (si->si_code <= 0)
		raise(sig);
}

int dock_signals_block(void)
{
	uint64_t all = ~0ULL;
	struct sigaction sa = { .sa_sigaction = on_fault_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
	size_t i;

	sigfillset(&handled);
	sigfillset(&sa.sa_mask);
	for (i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++) {
		sigdelset(&handled, fault_signals[i]);
		all &= ~(1ULL << (fault_signals[i] - 1));
	}
	for (i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
		sigaction(fault_signals[i], &sa, NULL);
	find_inherited_ignored();
	/* The signalfd mask is handed to the kernel as is, so the reserved
	 * signals 32-34 can be added to it by their bits. */
	((unsigned long *)(void *)&handled)[0] |= 7UL << 31;
	if (raw_sigmask(SIG_BLOCK, &all, &original_mask) < 0) {
		dock_warn("sigprocmask");
		return -1;
	}
	return 0;
}

void dock_signals_configure(const unsigned char *rewrite, bool thug)
{
	forward_rewrite = rewrite;
	forward_thug = thug;
}

void dock_signals_set_target(pid_t target)
{
	forward_target = target;
}

int dock_signals_wait(struct signalfd_siginfo *out)
{
	siginfo_t si;
	int sig;

	/* The raw syscall, with the same kernel mask as the signalfd, so the
	 * signals musl reserves (32-34) are waited for too. */
	sig = (int)syscall(SYS_rt_sigtimedwait, &handled, &si, NULL, sizeof(uint64_t));
	if (sig <= 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->ssi_signo = (uint32_t)sig;
	out->ssi_code = si.si_code;
	out->ssi_pid = (uint32_t)si.si_pid;
	return 0;
}

int dock_signals_open(void)
{
	return signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
}

void dock_signals_restore_for_exec(void)
{
	/* The kernel's own struct: musl's sigaction() refuses signals 32-34,
	 * which a parent may still have left ignored. */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} dfl = { .handler = SIG_DFL };
	size_t i;
	int sig;

	/* The child runs in dock's memory until it execs: a fault signal sent
	 * to it meanwhile must not run dock's handler there (it would act on
	 * dock's state and could signal dock itself). */
	for (i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
		syscall(SYS_rt_sigaction, fault_signals[i], &dfl, NULL, sizeof(uint64_t));
	/* exec resets caught signals to the default by itself, but SIG_IGN
	 * survives it; dock's parent may have ignored signals that the command
	 * must see (a SIGHUP ignored by nohup, a SIGPIPE ignored by a language
	 * runtime). Only those need a call here, which keeps the start cheap. */
	for (sig = 1; sig < 65; sig++)
		if (inherited_ignored & (1ULL << (sig - 1)))
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
	raw_sigmask(SIG_SETMASK, &original_mask, NULL);
}

bool dock_signals_is_terminal_stop(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* As dumb-init: the shell waits for dock, so dock must stop for the shell
 * to report the job stopped and give its prompt back. */
static struct {
	pid_t command;		/* 0: no job control (PID 1, or not started) */
	bool tty;		/* dock's stdin is its controlling terminal, shared */
	bool stopped;		/* dock stopped itself with the command */
} job;

void dock_signals_job_setup(pid_t command, bool shares_terminal)
{
	job.command = command;
	job.tty = shares_terminal && isatty(STDIN_FILENO) &&
		  tcgetsid(STDIN_FILENO) == getsid(0);
}

static void stop_self(const char *why)
{
	sigset_t pending;

	job.stopped = true;
	/* A SIGCONT already pending would not continue a stop that comes
	 * after it; the next read of the signalfd handles it instead. */
	if (sigpending(&pending) == 0 && sigismember(&pending, SIGCONT)) {
		dock_debug("%s; a SIGCONT is pending: not stopping", why);
		return;
	}
	dock_debug("%s: stopping dock too (job control)", why);
	kill(getpid(), SIGSTOP);
	dock_debug("continued");
}

void dock_signals_job_forwarded(int sig)
{
	/* Whoever sent dock a terminal stop meant dock's job to stop. */
	if (job.command > 0 && dock_signals_is_terminal_stop(sig))
		stop_self("forwarded a stop signal");
}

void dock_signals_job_check_command(void)
{
	siginfo_t si;

	/* Without a terminal no shell continues dock: a supervisor that
	 * stops the command for its own reasons must not stop dock too. */
	if (job.command <= 0 || !job.tty)
		return;
	/* Only stops are asked for (no WEXITED): nothing is reaped here. Any
	 * stop counts: vim and less re-raise SIGTSTP, bash's `suspend` uses
	 * SIGSTOP, and a shell shows the job stopped for either. */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)job.command, &si, WSTOPPED | WNOHANG) == 0 &&
	    si.si_pid == job.command && si.si_code == CLD_STOPPED)
		stop_self("the command stopped");
}

bool dock_signals_job_continue(void)
{
	bool was_stopped = job.stopped;

	if (job.command <= 0)
		return false;
	job.stopped = false;
	/* `fg` made dock's group the foreground: the command's group gets the
	 * terminal, or its next read would stop it again. SIGTTOU is blocked,
	 * which is what allows this from the background. */
	if (job.tty && tcgetpgrp(STDIN_FILENO) == getpgrp() &&
	    tcsetpgrp(STDIN_FILENO, job.command) < 0)
		dock_debug("cannot hand the terminal to the command: %s", strerror(errno));
	if (!was_stopped)
		return false;
	/* The whole group: a ^Z stopped every process of it. */
	dock_debug("continuing the command's process group %d", (int)job.command);
	if (kill(-job.command, SIGCONT) < 0 && errno != ESRCH)
		dock_warn("kill(%d, SIGCONT)", -(int)job.command);
	return true;
}

static int thug(int sig, pid_t target)
{
	char path[64], buf[4096];
	struct dock_proc_sigmasks m;
	ssize_t n;
	int fd;

	/* Only the stop signals are ever turned into KILL: the others need no
	 * open and read of /proc for each one forwarded. */
	if (!dock_status_is_stop_signal(sig))
		return sig;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)target);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* The command may just have exited; but with no /proc at all
		 * (a runtime that mounts none) --thug can never decide, and the
		 * user should know why a blocked TERM did not become KILL. */
		static bool warned;

		if (!warned && access("/proc/self/status", R_OK) < 0) {
			dock_warn("--thug: cannot read %s (is /proc mounted?); forwarding signal %d as is",
				  path, sig);
			warned = true;
		}
		return sig;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || dock_procfs_parse_sigmasks(buf, (size_t)n, &m) < 0)
		return sig;
	return dock_status_thug(sig, m.blocked, m.ignored);
}

int dock_signals_translate(int sig, pid_t target)
{
	if (sig <= 0 || sig >= _NSIG)
		return 0;
	if (forward_rewrite != NULL)
		sig = forward_rewrite[sig];
	if (sig != 0 && forward_thug)
		sig = thug(sig, target);
	return sig;
}
