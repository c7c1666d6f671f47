#include <signal.h>

#include "statusfile.h"
#include "unit.h"

UNIT_SUITE(test_statusfile)
{
	char buf[DOCK_STATUSFILE_DOC_MAX];
	struct dock_status st = { .state = DOCK_STATE_STARTING, .since = 0 };
	ssize_t n;

	n = dock_statusfile_format(&st, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"starting\",\"pid\":null,\"exit_code\":null,\"signal\":null,"
			  "\"time\":\"1970-01-01T00:00:00Z\"}\n");
	CHECK_EQ_INT(n, (long long)strlen(buf));

	st.state = DOCK_STATE_RUNNING;
	st.pid = 42;
	st.since = 1738324800;	/* 2025-01-31T12:00:00Z */
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"running\",\"pid\":42,\"exit_code\":null,\"signal\":null,"
			  "\"time\":\"2025-01-31T12:00:00Z\"}\n");

	st.state = DOCK_STATE_CRASHED;
	st.exit_code = 143;
	st.signal = SIGTERM;
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"crashed\",\"pid\":42,\"exit_code\":143,\"signal\":\"TERM\","
			  "\"time\":\"2025-01-31T12:00:00Z\"}\n");

	st.exit_code = 3;
	st.signal = 0;
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"crashed\",\"pid\":42,\"exit_code\":3,\"signal\":null,"
			  "\"time\":\"2025-01-31T12:00:00Z\"}\n");

	/* the largest document fits the documented bound */
	st.pid = 2147483647;
	st.exit_code = 255;
	st.signal = SIGRTMAX;
	st.since = 253402300799LL;	/* 9999-12-31T23:59:59Z */
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);

	/* too small: refused, not truncated */
	n = dock_statusfile_format(&st, buf, sizeof(buf));
	CHECK_EQ_INT(dock_statusfile_format(&st, buf, (size_t)n), -1);
	CHECK_EQ_INT(dock_statusfile_format(&st, buf, (size_t)n + 1), n);
	CHECK_EQ_INT(dock_statusfile_format(&st, buf, 1), -1);
}
