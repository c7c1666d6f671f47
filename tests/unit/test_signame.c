#include <signal.h>

#include "signame.h"
#include "unit.h"

UNIT_SUITE(test_signame)
{
	char buf[32];

	CHECK_EQ_INT(dock_signame_parse("TERM", 0), SIGTERM);
	CHECK_EQ_INT(dock_signame_parse("SIGTERM", 0), SIGTERM);
	CHECK_EQ_INT(dock_signame_parse("sigterm", 0), SIGTERM);
	CHECK_EQ_INT(dock_signame_parse("15", 0), SIGTERM);
	CHECK_EQ_INT(dock_signame_parse("hup", 0), SIGHUP);
	CHECK_EQ_INT(dock_signame_parse("WINCH", 0), SIGWINCH);
	CHECK_EQ_INT(dock_signame_parse("0", 0), -1);
	CHECK_EQ_INT(dock_signame_parse("0", 1), 0);
	CHECK_EQ_INT(dock_signame_parse("65", 0), -1);
	CHECK_EQ_INT(dock_signame_parse("", 0), -1);
	CHECK_EQ_INT(dock_signame_parse("SIG", 0), -1);
	CHECK_EQ_INT(dock_signame_parse("TERMX", 0), -1);
	CHECK_EQ_INT(dock_signame_parse("-1", 0), -1);
	CHECK_EQ_INT(dock_signame_parse("RTMIN", 0), SIGRTMIN);
	CHECK_EQ_INT(dock_signame_parse("RTMIN+2", 0), SIGRTMIN + 2);
	CHECK_EQ_INT(dock_signame_parse("SIGRTMAX-1", 0), SIGRTMAX - 1);
	CHECK_EQ_INT(dock_signame_parse("RTMIN+99", 0), -1);
	CHECK_EQ_INT(dock_signame_parse(NULL, 0), -1);

	CHECK_EQ_STR(dock_signame_name(SIGTERM, buf, sizeof(buf)), "TERM");
	CHECK_EQ_STR(dock_signame_name(SIGKILL, buf, sizeof(buf)), "KILL");
	CHECK_EQ_STR(dock_signame_name(SIGRTMIN + 3, buf, sizeof(buf)), "RTMIN+3");
	CHECK(dock_signame_name(0, buf, sizeof(buf)) == NULL);
	CHECK(dock_signame_name(_NSIG, buf, sizeof(buf)) == NULL);
}
