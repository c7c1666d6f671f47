#include "duration.h"
#include "unit.h"

static uint64_t dur(const char *s, uint64_t unit)
{
	uint64_t v = 12345;

	return dock_duration_parse(s, unit, &v) == 0 ? v : (uint64_t)-1;
}

static uint64_t size(const char *s)
{
	uint64_t v = 0;

	return dock_size_parse(s, &v) == 0 ? v : (uint64_t)-1;
}

UNIT_SUITE(test_duration)
{
	CHECK_EQ_INT(dur("5", DOCK_MS_PER_SECOND), 5000);
	CHECK_EQ_INT(dur("5s", DOCK_MS_PER_SECOND), 5000);
	CHECK_EQ_INT(dur("500ms", DOCK_MS_PER_SECOND), 500);
	CHECK_EQ_INT(dur("0", DOCK_MS_PER_SECOND), 0);
	CHECK_EQ_INT(dur("1.5s", DOCK_MS_PER_SECOND), 1500);
	CHECK_EQ_INT(dur("0.25", DOCK_MS_PER_SECOND), 250);
	CHECK_EQ_INT(dur("90s", DOCK_MS_PER_HOUR), 90000);
	CHECK_EQ_INT(dur("30m", DOCK_MS_PER_HOUR), 1800000);
	CHECK_EQ_INT(dur("6h", DOCK_MS_PER_HOUR), 21600000);
	CHECK_EQ_INT(dur("1d", DOCK_MS_PER_HOUR), 86400000);
	CHECK_EQ_INT(dur("2", DOCK_MS_PER_HOUR), 7200000);
	CHECK_EQ_INT(dur("", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur("s", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur(".", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur("-1", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur("5x", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur("5 s", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur("5sec", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur("99999999999999999999", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur("4000d", DOCK_MS_PER_SECOND), -1);
	CHECK_EQ_INT(dur("3650d", DOCK_MS_PER_SECOND), 3650ULL * 86400000);
	CHECK(dock_duration_parse(NULL, 1, &(uint64_t){ 0 }) < 0);

	CHECK_EQ_INT(size("10M"), 10ULL << 20);
	CHECK_EQ_INT(size("1G"), 1ULL << 30);
	CHECK_EQ_INT(size("1GiB"), 1ULL << 30);
	CHECK_EQ_INT(size("512k"), 512ULL << 10);
	CHECK_EQ_INT(size("100"), 100);
	CHECK_EQ_INT(size("100B"), 100);
	CHECK_EQ_INT(size("1.5M"), 3ULL << 19);
	CHECK_EQ_INT(size("0"), -1);
	CHECK_EQ_INT(size("10Q"), -1);
	CHECK_EQ_INT(size("M"), -1);
	CHECK_EQ_INT(size("99999999999T"), -1);
}
