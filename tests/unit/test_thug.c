#include <signal.h>

#include "procfs.h"
#include "signals.h"
#include "status.h"
#include "unit.h"

UNIT_SUITE(test_thug)
{
	uint64_t term = dock_procfs_sigbit(SIGTERM), in = dock_procfs_sigbit(SIGINT);

	CHECK(dock_signals_is_terminal_stop(SIGTSTP));
	CHECK(dock_signals_is_terminal_stop(SIGTTIN));
	CHECK(dock_signals_is_terminal_stop(SIGTTOU));
	CHECK(!dock_signals_is_terminal_stop(SIGSTOP));
	CHECK(!dock_signals_is_terminal_stop(SIGCONT));
	CHECK(!dock_signals_is_terminal_stop(SIGTERM));
	CHECK_EQ_INT(dock_status_thug(SIGTERM, 0, 0), SIGTERM);
	CHECK_EQ_INT(dock_status_thug(SIGTERM, term, 0), SIGKILL);
	CHECK_EQ_INT(dock_status_thug(SIGTERM, 0, term), SIGKILL);
	CHECK_EQ_INT(dock_status_thug(SIGTERM, in, 0), SIGTERM);
	CHECK_EQ_INT(dock_status_thug(SIGINT, 0, in), SIGKILL);
	CHECK_EQ_INT(dock_status_thug(SIGQUIT, dock_procfs_sigbit(SIGQUIT), 0), SIGKILL);
	/* Only the stop signals are turned: a blocked HUP stays a HUP. */
	CHECK_EQ_INT(dock_status_thug(SIGHUP, ~0ULL, ~0ULL), SIGHUP);
	CHECK_EQ_INT(dock_status_thug(SIGUSR1, ~0ULL, 0), SIGUSR1);
}
