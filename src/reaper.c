#include "reaper.h"

#include <errno.h>
#include <sys/wait.h>

#include "log.h"

int dock_reaper_reap(struct dock_reaper *r)
{
	int status;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			r->reaped++;
			if (pid == r->main_pid && !r->main_done) {
				r->main_done = true;
				r->main_status = status;
			} else if (dock_log_debug_on) {
				/* Checked here: in a storm of thousands of orphans
				 * even a call that returns at once adds up. */
				dock_debug("reaped pid %d (%s %d)", (int)pid,
					   WIFSIGNALED(status) ? "signal" : "exit",
					   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			}
			continue;
		}
		if (pid == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != ECHILD)
			dock_warn("waitpid");
		return 1;
	}
}
