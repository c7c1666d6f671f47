#include <errno.h>

#include "paths.h"
#include "unit.h"

UNIT_SUITE(test_paths)
{
	char out[64], tiny[8];

	CHECK_EQ_INT(dock_paths_join("/srv/app", "out.log", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/srv/app/out.log");
	CHECK_EQ_INT(dock_paths_join("/", "out.log", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/out.log");
	CHECK_EQ_INT(dock_paths_join("/srv/", "logs/a:b", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/srv/logs/a:b");
	/* "..": kept as written; the kernel resolves it as it would have. */
	CHECK_EQ_INT(dock_paths_join("/srv/app", "../x", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/srv/app/../x");
	CHECK_EQ_INT(dock_paths_join("/srv/app", "/var/log/x", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/var/log/x");
	errno = 0;
	CHECK_EQ_INT(dock_paths_join("/srv/app", "out.log", tiny, sizeof(tiny)), -1);
	CHECK_EQ_INT(errno, ENAMETOOLONG);
	/* Exactly fitting: 7 characters and the NUL. */
	CHECK_EQ_INT(dock_paths_join("/ab", "cde", tiny, sizeof(tiny)), 0);
	CHECK_EQ_STR(tiny, "/ab/cde");

	CHECK_EQ_INT(dock_paths_join_list("/w", "certs", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/w/certs");
	CHECK_EQ_INT(dock_paths_join_list("/w", "a:/etc/ssl:b", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/w/a:/etc/ssl:/w/b");
	CHECK_EQ_INT(dock_paths_join_list("/w", "a::b:", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/w/a::/w/b:");
	CHECK_EQ_INT(dock_paths_join_list("/w", ":a", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, ":/w/a");
	CHECK_EQ_INT(dock_paths_join_list("/w", "/x", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "/x");
	CHECK_EQ_INT(dock_paths_join_list("/w", "abc:def", tiny, sizeof(tiny)), -1);
	CHECK_EQ_INT(dock_paths_join_list("/w", "", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "");
}
