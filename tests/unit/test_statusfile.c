#include <signal.h>

#include "statusfile.h"
#include "unit.h"

UNIT_SUITE(test_statusfile)
{
	char buf[DOCK_STATUSFILE_DOC_MAX];
	struct dock_status st = { .state = DOCK_STATE_STARTING, .since_ms = 0 };
	ssize_t n;

	n = dock_statusfile_format(&st, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"starting\",\"pid\":null,\"exit_code\":null,\"signal\":null,"
			  "\"time\":\"1970-01-01T00:00:00.000Z\"}\n");
	CHECK_EQ_INT(n, (long long)strlen(buf));

	st.state = DOCK_STATE_RUNNING;
	st.pid = 42;
	st.since_ms = 1738324800007LL;	/* 2025-01-31T12:00:00.007Z */
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"running\",\"pid\":42,\"exit_code\":null,\"signal\":null,"
			  "\"time\":\"2025-01-31T12:00:00.007Z\"}\n");

	/* exit_code and signal mean nothing before the end, whatever they hold */
	st.exit_code = 9;
	st.signal = SIGKILL;
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"running\",\"pid\":42,\"exit_code\":null,\"signal\":null,"
			  "\"time\":\"2025-01-31T12:00:00.007Z\"}\n");

	st.state = DOCK_STATE_STOPPED;
	st.exit_code = 143;
	st.signal = SIGTERM;
	st.since_ms = 1738324800999LL;
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"stopped\",\"pid\":42,\"exit_code\":143,\"signal\":\"TERM\","
			  "\"time\":\"2025-01-31T12:00:00.999Z\"}\n");

	st.state = DOCK_STATE_CRASHED;
	st.exit_code = 3;
	st.signal = 0;
	st.since_ms = 1738324801000LL;
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"crashed\",\"pid\":42,\"exit_code\":3,\"signal\":null,"
			  "\"time\":\"2025-01-31T12:00:01.000Z\"}\n");

	/* exec failure: no pid ever */
	st.pid = 0;
	st.exit_code = 127;
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"status\":\"crashed\",\"pid\":null,\"exit_code\":127,\"signal\":null,"
			  "\"time\":\"2025-01-31T12:00:01.000Z\"}\n");

	/* before 1970 the milliseconds still count forward from the second */
	st.since_ms = -1;
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"time\":\"1969-12-31T23:59:59.999Z\"") != NULL);

	/* the largest document fits the documented bound */
	st.pid = 2147483647;
	st.exit_code = 255;
	st.signal = SIGRTMAX;
	st.since_ms = 253402300799999LL;	/* 9999-12-31T23:59:59.999Z */
	CHECK(dock_statusfile_format(&st, buf, sizeof(buf)) > 0);

	/* too small: refused, not truncated */
	n = dock_statusfile_format(&st, buf, sizeof(buf));
	CHECK_EQ_INT(dock_statusfile_format(&st, buf, (size_t)n), -1);
	CHECK_EQ_INT(dock_statusfile_format(&st, buf, (size_t)n + 1), n);
	CHECK_EQ_INT(dock_statusfile_format(&st, buf, 1), -1);
}
