#include "status.h"

#include <signal.h>
#include <sys/wait.h>

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

int dock_status_remap(const struct dock_config *cfg, int code)
{
	if (code < 0 || code > 255)
		code &= 0xff;
	return cfg->remap_exit[code] >= 0 ? cfg->remap_exit[code] : code;
}

bool dock_status_is_stop_signal(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGQUIT;
}

bool dock_status_stopped(const struct dock_config *cfg, int wstatus, bool stop_forwarded)
{
	return stop_forwarded || dock_status_remap(cfg, dock_status_exit_code(wstatus)) == 0;
}
