#include <signal.h>

#include "hook.h"
#include "statusfile.h"
#include "unit.h"

/* The hook's body and the status file, from the same fixed input: the
 * status file is the body's "ps" object without net_interfaces. */
UNIT_SUITE(test_hook_body)
{
	static const struct dock_hook_iface ifs[] = {
		{ .name = "lo", .ipv4 = "127.0.0.1", .ipv6 = "::1" },
		{ .name = "eth0", .ipv4 = "10.0.0.5", .ipv6 = "fe80::1", .ipv6_link_local = true },
		{ .name = "tun\"0" },
	};
	struct dock_status st = { .state = DOCK_STATE_STARTING, .since_ms = 1738324800123LL };
	char buf[1024], doc[DOCK_STATUSFILE_DOC_MAX], inner[DOCK_STATUSFILE_DOC_MAX];
	ssize_t n;

	n = dock_hook_format_body(&st, ifs, 3, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_EQ_INT(n, (long long)strlen(buf));
	CHECK_EQ_STR(buf, "{\"ps\":{\"status\":\"starting\",\"pid\":null,\"exit_code\":null,\"signal\":null,"
			  "\"time\":\"2025-01-31T12:00:00.123Z\",\"net_interfaces\":["
			  "{\"name\":\"lo\",\"ipv4\":\"127.0.0.1\",\"ipv6\":\"::1\"},"
			  "{\"name\":\"eth0\",\"ipv4\":\"10.0.0.5\",\"ipv6\":\"fe80::1\"},"
			  "{\"name\":\"tun\\\"0\",\"ipv4\":null,\"ipv6\":null}]}}");

	st.state = DOCK_STATE_RUNNING;
	st.pid = 7;
	CHECK(dock_hook_format_body(&st, ifs, 1, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"ps\":{\"status\":\"running\",\"pid\":7,\"exit_code\":null,\"signal\":null,"
			  "\"time\":\"2025-01-31T12:00:00.123Z\",\"net_interfaces\":["
			  "{\"name\":\"lo\",\"ipv4\":\"127.0.0.1\",\"ipv6\":\"::1\"}]}}");

	st.state = DOCK_STATE_STOPPED;
	st.exit_code = 143;
	st.signal = SIGTERM;
	CHECK(dock_hook_format_body(&st, ifs, 0, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"ps\":{\"status\":\"stopped\",\"pid\":7,\"exit_code\":143,\"signal\":\"TERM\","
			  "\"time\":\"2025-01-31T12:00:00.123Z\",\"net_interfaces\":[]}}");

	st.state = DOCK_STATE_CRASHED;
	st.exit_code = 137;
	st.signal = SIGKILL;
	CHECK(dock_hook_format_body(&st, ifs, 0, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"ps\":{\"status\":\"crashed\",\"pid\":7,\"exit_code\":137,\"signal\":\"KILL\","
			  "\"time\":\"2025-01-31T12:00:00.123Z\",\"net_interfaces\":[]}}");

	/* the same names and meanings in the status file, for every state */
	for (st.state = DOCK_STATE_STARTING; st.state <= DOCK_STATE_CRASHED; st.state++) {
		CHECK(dock_hook_format_body(&st, ifs, 0, buf, sizeof(buf)) > 0);
		CHECK(dock_statusfile_format(&st, doc, sizeof(doc)) > 0);
		/* {"ps":{FIELDS,"net_interfaces":[]}} against {FIELDS}\n */
		n = (ssize_t)strlen(buf) - (ssize_t)strlen("{\"ps\":") - (ssize_t)strlen(",\"net_interfaces\":[]}}");
		CHECK(n > 0 && (size_t)n < sizeof(inner));
		memcpy(inner, buf + strlen("{\"ps\":"), (size_t)n);
		inner[n] = '\0';
		CHECK_EQ_INT(strlen(doc), (size_t)n + 2);	/* the closing brace and the newline */
		CHECK(strncmp(doc, inner, (size_t)n) == 0 && strcmp(doc + n, "}\n") == 0);
	}

	/* too small: refused, never truncated */
	st.state = DOCK_STATE_RUNNING;
	n = dock_hook_format_body(&st, ifs, 3, buf, sizeof(buf));
	CHECK_EQ_INT(dock_hook_format_body(&st, ifs, 3, buf, (size_t)n), -1);
	CHECK_EQ_INT(dock_hook_format_body(&st, ifs, 3, buf, (size_t)n + 1), n);
}
