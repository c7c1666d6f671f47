#include "unit.h"

int unit_checks, unit_failures;

#define SUITE(name) void name(void);
#include "suites.h"
#undef SUITE

static const struct {
	const char *name;
	unit_suite run;
} suites[] = {
#define SUITE(name) { #name, name },
#include "suites.h"
#undef SUITE
};

int main(void)
{
	size_t i;
	int passed = 0, failed = 0;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		int before = unit_failures;

		suites[i].run();
		if (unit_failures == before)
			passed++;
		else
			failed++;
		printf("%-24s %s\n", suites[i].name, unit_failures == before ? "ok" : "FAILED");
	}
	printf("unit: %d checks, %d failed checks\n", unit_checks, unit_failures);
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
