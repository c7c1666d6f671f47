/* A minimal unit-test harness: CHECK records a failure and goes on, so one
 * run reports every broken expectation. */
#ifndef DOCK_UNIT_H
#define DOCK_UNIT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern int unit_checks, unit_failures;

#define CHECK(cond)                                                               \
	do {                                                                      \
		unit_checks++;                                                    \
		if (!(cond)) {                                                    \
			unit_failures++;                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                 \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                        \
	do {                                                                      \
		long long _a = (long long)(a), _b = (long long)(b);               \
		unit_checks++;                                                    \
		if (_a != _b) {                                                   \
			unit_failures++;                                          \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, \
				#a, _a, _b);                                      \
		}                                                                 \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                        \
	do {                                                                      \
		const char *_a = (a), *_b = (b);                                  \
		unit_checks++;                                                    \
		if (_a == NULL || strcmp(_a, _b) != 0) {                          \
			unit_failures++;                                          \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, \
				__LINE__, #a, _a ? _a : "(null)", _b);            \
		}                                                                 \
	} while (0)

/* UNIT_SUITE(name) { ... } defines a suite and registers it before main()
 * runs, so a new test file needs no edit anywhere else. A file with several
 * parts registers each as its own suite, test_FILE_PART, so that
 * `build/unit FILE_PART` runs one part and `build/unit FILE` all of them.
 *
 * UNIT_SUITE_ISOLATED(name) runs the suite in a child process of its own:
 * for a module with static state (the loop, the lifecycle), which then
 * starts fresh and cannot leak into the suites after it. */
typedef void (*unit_suite)(void);
#define UNIT_ISOLATED 1u
void unit_register(const char *name, unit_suite fn, unsigned flags);

#define UNIT_SUITE_FLAGS(name, flags)                                             \
	static void name(void);                                                   \
	__attribute__((constructor)) static void name##_register(void)            \
	{                                                                         \
		unit_register(#name, name, flags);                                \
	}                                                                         \
	static void name(void)

#define UNIT_SUITE(name) UNIT_SUITE_FLAGS(name, 0)
#define UNIT_SUITE_ISOLATED(name) UNIT_SUITE_FLAGS(name, UNIT_ISOLATED)

#endif
