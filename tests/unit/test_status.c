#include <signal.h>

#include "options.h"
#include "status.h"
#include "unit.h"

UNIT_SUITE(test_status)
{
	struct dock_config cfg;
	char err[256];
	char *argv[] = { "dock", "--remap-exit", "143", "--remap-exit", "3:7", "true", NULL };
	char *env[] = { NULL };

	/* Wait statuses as the kernel encodes them. */
	CHECK_EQ_INT(dock_status_exit_code(0), 0);
	CHECK_EQ_INT(dock_status_exit_code(3 << 8), 3);
	CHECK_EQ_INT(dock_status_exit_code(255 << 8), 255);
	CHECK_EQ_INT(dock_status_exit_code(15), 143);
	CHECK_EQ_INT(dock_status_exit_code(9), 137);
	CHECK_EQ_INT(dock_status_exit_code(9 | 0x80), 137);	/* core dumped */
	CHECK_EQ_INT(dock_status_signal(15), 15);
	CHECK_EQ_INT(dock_status_signal(3 << 8), 0);

	CHECK_EQ_INT(dock_options_parse(&cfg, 6, argv, env, err, sizeof(err)), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(dock_status_remap(cfg.remap_exit, 143), 0);
	CHECK_EQ_INT(dock_status_remap(cfg.remap_exit, 3), 7);
	CHECK_EQ_INT(dock_status_remap(cfg.remap_exit, 4), 4);
	CHECK_EQ_INT(dock_status_remap(cfg.remap_exit, 0), 0);

	/* stopped or crashed */
	CHECK(dock_status_is_stop_signal(SIGTERM));
	CHECK(dock_status_is_stop_signal(SIGINT));
	CHECK(dock_status_is_stop_signal(SIGQUIT));
	CHECK(!dock_status_is_stop_signal(SIGHUP));
	CHECK(!dock_status_is_stop_signal(SIGKILL));
	CHECK(!dock_status_is_stop_signal(SIGUSR1));
	CHECK(dock_status_stopped(cfg.remap_exit, 0, false));		/* exit 0 */
	CHECK(!dock_status_stopped(cfg.remap_exit, 1 << 8, false));	/* exit 1 */
	CHECK(!dock_status_stopped(cfg.remap_exit, 3 << 8, false));	/* exit 3, remapped to 7 */
	CHECK(dock_status_stopped(cfg.remap_exit, 3 << 8, true));		/* after a stop signal: any code */
	CHECK(dock_status_stopped(cfg.remap_exit, SIGTERM, false));	/* 143 remapped to 0 */
	CHECK(!dock_status_stopped(cfg.remap_exit, SIGKILL, false));	/* an OOM kill, say */
	CHECK(dock_status_stopped(cfg.remap_exit, SIGKILL, true));	/* --thug made the stop a KILL */
	CHECK(!dock_status_stopped(cfg.remap_exit, SIGSEGV | 0x80, false));
}
