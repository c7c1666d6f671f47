#include "tree.h"
#include "unit.h"

UNIT_SUITE(test_tree)
{
	struct dock_tree_named named[DOCK_TREE_NAMED] = {
		{ 12, "postgres" }, { 13, "sh" }, { 15, "sleep" }, { 40, "a b" }, { 41, "x" },
	};
	char comm[32], buf[256], small[24];
	const char *odd = "77 (a) b) (c) Z 76 75 1 0";
	const char *esc = "9 (\033[31m\nred) S 1 1 1";

	CHECK_EQ_INT(dock_tree_parse_comm("1234 (sleep) S 1", 16, comm, sizeof(comm)), 0);
	CHECK_EQ_STR(comm, "sleep");
	/* The last ')' closes the name, whatever it holds. */
	CHECK_EQ_INT(dock_tree_parse_comm(odd, strlen(odd), comm, sizeof(comm)), 0);
	CHECK_EQ_STR(comm, "a) b) (c");
	/* Control bytes never reach a log line as such. */
	CHECK_EQ_INT(dock_tree_parse_comm(esc, strlen(esc), comm, sizeof(comm)), 0);
	CHECK_EQ_STR(comm, "?[31m?red");
	CHECK_EQ_INT(dock_tree_parse_comm("12 (x", 5, comm, sizeof(comm)), -1);
	CHECK_EQ_INT(dock_tree_parse_comm("12 x) S", 7, comm, sizeof(comm)), -1);
	/* Cut to the output's size. */
	CHECK_EQ_INT(dock_tree_parse_comm("1 (abcdefgh) S", 14, comm, 4), 0);
	CHECK_EQ_STR(comm, "abc");

	dock_tree_format_named(named, 0, 0, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "");
	dock_tree_format_named(named, 1, 1, buf, sizeof(buf));
	CHECK_EQ_STR(buf, ": 12 (postgres)");
	dock_tree_format_named(named, 3, 3, buf, sizeof(buf));
	CHECK_EQ_STR(buf, ": 12 (postgres), 13 (sh), 15 (sleep)");
	dock_tree_format_named(named, 5, 5, buf, sizeof(buf));
	CHECK_EQ_STR(buf, ": 12 (postgres), 13 (sh), 15 (sleep), 40 (a b), 41 (x)");
	dock_tree_format_named(named, 5, 8, buf, sizeof(buf));
	CHECK_EQ_STR(buf, ": 12 (postgres), 13 (sh), 15 (sleep), 40 (a b), 41 (x) and 3 more");
	/* None could be named (all vanished while being read), some counted. */
	dock_tree_format_named(named, 0, 2, buf, sizeof(buf));
	CHECK_EQ_STR(buf, ": and 2 more");
	/* A small buffer cuts, and stays terminated. */
	dock_tree_format_named(named, 5, 8, small, sizeof(small));
	CHECK(strlen(small) < sizeof(small));
	CHECK(strncmp(small, ": 12 (postgres)", 15) == 0);
}
