#include <stdlib.h>

#include "unit.h"

int unit_checks, unit_failures;

#define MAX_SUITES 128
struct suite {
	const char *name;
	unit_suite run;
};
static struct suite suites[MAX_SUITES];
static int nsuites;

void unit_register(const char *name, unit_suite fn)
{
	if (nsuites == MAX_SUITES) {
		fprintf(stderr, "unit: more than %d suites\n", MAX_SUITES);
		exit(2);
	}
	suites[nsuites].name = name;
	suites[nsuites].run = fn;
	nsuites++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct suite *)a)->name, ((const struct suite *)b)->name);
}

int main(void)
{
	int i, passed = 0, failed = 0;

	qsort(suites, (size_t)nsuites, sizeof(suites[0]), by_name);
	for (i = 0; i < nsuites; i++) {
		int before = unit_failures;

		suites[i].run();
		if (unit_failures == before)
			passed++;
		else
			failed++;
		printf("%-28s %s\n", suites[i].name, unit_failures == before ? "ok" : "FAILED");
	}
	printf("unit: %d checks, %d failed checks\n", unit_checks, unit_failures);
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
