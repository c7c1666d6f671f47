#include "status.h"

#include <signal.h>
#include <sys/wait.h>	/* the W* macros only */

#include "procfs.h"

int dock_status_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

int dock_status_signal(int wstatus)
{
	return WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
}

int dock_status_remap(const int16_t remap[DOCK_STATUS_CODES], int code)
{
	if (code < 0 || code > 255)
		code &= 0xff;
	return remap[code] >= 0 ? remap[code] : code;
}

bool dock_status_is_stop_signal(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGQUIT;
}

bool dock_status_stopped(const int16_t remap[DOCK_STATUS_CODES], int wstatus, bool stop_forwarded)
{
	return stop_forwarded || dock_status_remap(remap, dock_status_exit_code(wstatus)) == 0;
}

int dock_status_thug(int sig, uint64_t blocked, uint64_t ignored)
{
	if (!dock_status_is_stop_signal(sig))
		return sig;
	if ((blocked | ignored) & dock_procfs_sigbit(sig))
		return SIGKILL;
	return sig;
}
