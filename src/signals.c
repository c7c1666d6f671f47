#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"

static sigset_t original_mask;
static sigset_t handled;

int dock_signals_block(void)
{
	sigfillset(&handled);
	/* Synchronous fault signals stay unblocked: blocking them would turn a
	 * crash of dock into an endless loop on the faulting instruction. */
	sigdelset(&handled, SIGSEGV);
	sigdelset(&handled, SIGBUS);
	sigdelset(&handled, SIGFPE);
	sigdelset(&handled, SIGILL);
	sigdelset(&handled, SIGABRT);
	sigdelset(&handled, SIGTRAP);
	sigdelset(&handled, SIGSYS);
	return sigprocmask(SIG_BLOCK, &handled, &original_mask);
}

int dock_signals_open(void)
{
	return signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
}

void dock_signals_restore_for_exec(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	int sig;

	sigemptyset(&sa.sa_mask);
	/* SIG_IGN survives exec; dock's parent may have ignored signals that
	 * the command must see (a SIGHUP ignored by nohup, a SIGPIPE ignored by
	 * a language runtime), so every disposition starts from the default. */
	for (sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigprocmask(SIG_SETMASK, &original_mask, NULL);
}

int dock_signals_thug_decide(int sig, uint64_t blocked, uint64_t ignored)
{
	if (sig != SIGINT && sig != SIGTERM && sig != SIGQUIT)
		return sig;
	if ((blocked | ignored) & dock_procfs_sigbit(sig))
		return SIGKILL;
	return sig;
}

static int thug(int sig, pid_t target)
{
	char path[64], buf[4096];
	struct dock_proc_sigmasks m;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)target);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sig;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || dock_procfs_parse_sigmasks(buf, (size_t)n, &m) < 0)
		return sig;
	return dock_signals_thug_decide(sig, m.blocked, m.ignored);
}

int dock_signals_translate(const struct dock_config *cfg, int sig, pid_t target)
{
	if (sig <= 0 || sig >= _NSIG)
		return 0;
	sig = cfg->rewrite[sig];
	if (sig != 0 && cfg->thug)
		sig = thug(sig, target);
	return sig;
}
