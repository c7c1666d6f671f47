#include "procfs.h"
#include "unit.h"

UNIT_SUITE(test_procfs)
{
	struct dock_proc_stat st;
	struct dock_proc_sigmasks m;
	const char *stat1 = "1234 (sleep) S 1 1234 1234 0 -1 4194560 100 0";
	const char *stat2 = "77 (a) b) (c) Z 76 75 1 0";
	const char *status =
		"Name:\tsh\nState:\tS (sleeping)\nSigQ:\t0/63704\nSigPnd:\t0000000000000000\n"
		"ShdPnd:\t0000000000000000\nSigBlk:\t0000000000010000\nSigIgn:\t0000000000004006\n"
		"SigCgt:\t0000000180000000\nCapInh:\t0000000000000000\n";

	CHECK_EQ_INT(dock_procfs_parse_stat(stat1, strlen(stat1), &st), 0);
	CHECK_EQ_INT(st.pid, 1234);
	CHECK_EQ_INT(st.state, 'S');
	CHECK_EQ_INT(st.ppid, 1);
	CHECK_EQ_INT(st.pgrp, 1234);
	CHECK_EQ_INT(dock_procfs_parse_stat(stat2, strlen(stat2), &st), 0);
	CHECK_EQ_INT(st.pid, 77);
	CHECK_EQ_INT(st.state, 'Z');
	CHECK_EQ_INT(st.ppid, 76);
	CHECK_EQ_INT(dock_procfs_parse_stat("", 0, &st), -1);
	CHECK_EQ_INT(dock_procfs_parse_stat("12 (x", 5, &st), -1);
	CHECK_EQ_INT(dock_procfs_parse_stat("12 (x) S", 8, &st), -1);
	CHECK_EQ_INT(dock_procfs_parse_stat("x (x) S 1 1", 11, &st), -1);
	/* Not NUL-terminated: the length bounds the parse. */
	CHECK_EQ_INT(dock_procfs_parse_stat(stat1, 16, &st), -1);

	CHECK_EQ_INT(dock_procfs_parse_sigmasks(status, strlen(status), &m), 0);
	CHECK_EQ_INT(m.blocked, 0x10000);
	CHECK_EQ_INT(m.ignored, 0x4006);
	CHECK_EQ_INT(m.caught, 0x180000000ULL);
	CHECK_EQ_INT(dock_procfs_parse_sigmasks("SigBlk:\t0\n", 10, &m), -1);
	CHECK_EQ_INT(dock_procfs_parse_sigmasks("SigBlk:\tzz\nSigIgn:\t0\nSigCgt:\t0\n", 31, &m), -1);
	CHECK_EQ_INT(dock_procfs_sigbit(1), 1);
	CHECK_EQ_INT(dock_procfs_sigbit(15), 0x4000);
	CHECK_EQ_INT(dock_procfs_sigbit(0), 0);
	CHECK_EQ_INT(dock_procfs_sigbit(65), 0);
}
