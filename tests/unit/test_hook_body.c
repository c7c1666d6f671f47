#include <arpa/inet.h>
#include <signal.h>

#include "hookbody.h"
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

static struct sockaddr_in v4(const char *a)
{
	struct sockaddr_in s = { .sin_family = AF_INET };

	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 v6(const char *a)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, a, &s.sin6_addr);
	return s;
}

/* The interface list the body shows, built from getifaddrs-like entries
 * given here: one entry per name in the order met, the first IPv4 address,
 * a global IPv6 address preferred over a link-local one whatever the
 * order, at most max names. */
UNIT_SUITE(test_hook_body_interfaces)
{
	struct dock_hook_iface ifs[3];
	struct sockaddr_in a1 = v4("127.0.0.1"), a2 = v4("10.0.0.5"), a3 = v4("10.0.0.6");
	struct sockaddr_in6 l1 = v6("::1"), ll = v6("fe80::1"), ll2 = v6("fe80::2"), g1 = v6("2001:db8::1"),
			    g2 = v6("2001:db8::2");
	struct sockaddr other = { .sa_family = AF_PACKET };
	struct dock_status st = { .state = DOCK_STATE_RUNNING, .pid = 9, .since_ms = 0 };
	char buf[1024];
	size_t n = 0;

	dock_hook_iface_add(ifs, &n, 3, "lo", NULL);		/* no address yet: still listed */
	dock_hook_iface_add(ifs, &n, 3, "eth0", &other);	/* AF_PACKET: only the name */
	dock_hook_iface_add(ifs, &n, 3, "lo", (const struct sockaddr *)&a1);
	dock_hook_iface_add(ifs, &n, 3, "lo", (const struct sockaddr *)&l1);
	dock_hook_iface_add(ifs, &n, 3, "eth0", (const struct sockaddr *)&ll);
	dock_hook_iface_add(ifs, &n, 3, "eth0", (const struct sockaddr *)&a2);
	dock_hook_iface_add(ifs, &n, 3, "eth0", (const struct sockaddr *)&a3);	/* the first IPv4 stays */
	dock_hook_iface_add(ifs, &n, 3, "eth0", (const struct sockaddr *)&ll2);	/* link-local after link-local: first stays */
	dock_hook_iface_add(ifs, &n, 3, "eth0", (const struct sockaddr *)&g1);	/* global replaces link-local */
	dock_hook_iface_add(ifs, &n, 3, "eth0", (const struct sockaddr *)&g2);	/* the first global stays */
	dock_hook_iface_add(ifs, &n, 3, "eth1", (const struct sockaddr *)&g2);
	dock_hook_iface_add(ifs, &n, 3, "eth1", (const struct sockaddr *)&ll);	/* never over a global */
	dock_hook_iface_add(ifs, &n, 3, "eth2", (const struct sockaddr *)&a2);	/* past max: dropped */
	dock_hook_iface_add(ifs, &n, 3, NULL, (const struct sockaddr *)&a2);	/* no name: ignored */
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_STR(ifs[0].name, "lo");
	CHECK_EQ_STR(ifs[0].ipv4, "127.0.0.1");
	CHECK_EQ_STR(ifs[0].ipv6, "::1");
	CHECK_EQ_STR(ifs[1].name, "eth0");
	CHECK_EQ_STR(ifs[1].ipv4, "10.0.0.5");
	CHECK_EQ_STR(ifs[1].ipv6, "2001:db8::1");
	CHECK(!ifs[1].ipv6_link_local);
	CHECK_EQ_STR(ifs[2].name, "eth1");
	CHECK_EQ_STR(ifs[2].ipv4, "");
	CHECK_EQ_STR(ifs[2].ipv6, "2001:db8::2");

	CHECK(dock_hook_format_body(&st, ifs, n, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "{\"ps\":{\"status\":\"running\",\"pid\":9,\"exit_code\":null,\"signal\":null,"
			  "\"time\":\"1970-01-01T00:00:00.000Z\",\"net_interfaces\":["
			  "{\"name\":\"lo\",\"ipv4\":\"127.0.0.1\",\"ipv6\":\"::1\"},"
			  "{\"name\":\"eth0\",\"ipv4\":\"10.0.0.5\",\"ipv6\":\"2001:db8::1\"},"
			  "{\"name\":\"eth1\",\"ipv4\":null,\"ipv6\":\"2001:db8::2\"}]}}");

	/* only a link-local address: shown, marked */
	n = 0;
	dock_hook_iface_add(ifs, &n, 3, "veth0", (const struct sockaddr *)&ll);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(ifs[0].ipv6, "fe80::1");
	CHECK(ifs[0].ipv6_link_local);

	/* a name as long as the kernel allows is kept whole; max 0 takes nothing */
	n = 0;
	dock_hook_iface_add(ifs, &n, 3, "abcdefghijklmno", NULL);
	CHECK_EQ_STR(ifs[0].name, "abcdefghijklmno");
	n = 0;
	dock_hook_iface_add(ifs, &n, 0, "lo", NULL);
	CHECK_EQ_INT(n, 0);
}
