/* The unit runner:
 *     build/unit              every suite
 *     build/unit NAME...      the suites NAME names (see matches())
 *     build/unit -l           lists the suites
 * Exit status: 0 all passed, 1 a check failed, 2 usage (an unknown NAME). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

int unit_checks, unit_failures;

#define MAX_SUITES 128
struct suite {
	const char *name;
	unit_suite run;
	unsigned flags;
	bool selected;
};
static struct suite suites[MAX_SUITES];
static int nsuites;

void unit_register(const char *name, unit_suite fn, unsigned flags)
{
	if (nsuites == MAX_SUITES) {
		fprintf(stderr, "unit: more than %d suites\n", MAX_SUITES);
		exit(2);
	}
	suites[nsuites].name = name;
	suites[nsuites].run = fn;
	suites[nsuites].flags = flags;
	nsuites++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct suite *)a)->name, ((const struct suite *)b)->name);
}

/* NAME selects the suite of that name, with or without its "test_", and
 * every suite whose name continues it after an underscore: "rotate" runs
 * test_rotate_names, test_rotate_parse, ...; "rotate_names" only the one. */
static bool matches(const char *suite, const char *name)
{
	size_t n;

	if (strncmp(name, "test_", 5) != 0 && strncmp(suite, "test_", 5) == 0)
		suite += 5;
	n = strlen(name);
	return strncmp(suite, name, n) == 0 && (suite[n] == '\0' || suite[n] == '_');
}

/* Runs a suite in a child process, so the static state of the modules it
 * drives (the loop's timer list, the lifecycle's gates and subscribers)
 * starts fresh and is thrown away after it. The child sends its counts
 * back through a pipe; a child that dies counts as one failed check. */
static void run_isolated(const struct suite *s)
{
	int p[2], status, counts[2] = { 0, 0 };
	ssize_t n;
	pid_t pid;

	fflush(NULL);
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		fprintf(stderr, "unit: %s: cannot start a child: %s\n", s->name, strerror(errno));
		unit_checks++;
		unit_failures++;
		return;
	}
	if (pid == 0) {
		close(p[0]);
		unit_checks = unit_failures = 0;
		s->run();
		counts[0] = unit_checks;
		counts[1] = unit_failures;
		fflush(NULL);
		_exit(write(p[1], counts, sizeof(counts)) == (ssize_t)sizeof(counts) ? 0 : 1);
	}
	close(p[1]);
	do
		n = read(p[0], counts, sizeof(counts));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(counts) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			fprintf(stderr, "unit: %s: killed by signal %d\n", s->name, WTERMSIG(status));
		else
			fprintf(stderr, "unit: %s: did not report its checks\n", s->name);
		counts[0]++;
		counts[1]++;
	}
	unit_checks += counts[0];
	unit_failures += counts[1];
}

static void usage(FILE *f)
{
	fprintf(f, "usage: unit [-l] [NAME...]\n"
		   "  NAME   a suite (test_rotate_names or rotate_names) or a group of them\n"
		   "         (rotate: every test_rotate_* suite); none: every suite\n"
		   "  -l     list the suites (those NAME selects, with NAME)\n");
}

int main(int argc, char **argv)
{
	int i, j, passed = 0, failed = 0, opt;
	bool list = false;

	while ((opt = getopt(argc, argv, "hl")) != -1) {
		switch (opt) {
		case 'l':
			list = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	qsort(suites, (size_t)nsuites, sizeof(suites[0]), by_name);
	for (j = optind; j < argc; j++) {
		bool any = false;

		for (i = 0; i < nsuites; i++)
			if (matches(suites[i].name, argv[j]))
				suites[i].selected = any = true;
		if (!any) {
			fprintf(stderr, "unit: no suite matches '%s' (unit -l lists them)\n", argv[j]);
			return 2;
		}
	}
	for (i = 0; i < nsuites; i++) {
		int before = unit_failures;

		if (optind < argc && !suites[i].selected)
			continue;
		if (list) {
			printf("%s\n", suites[i].name);
			continue;
		}
		if (suites[i].flags & UNIT_ISOLATED)
			run_isolated(&suites[i]);
		else
			suites[i].run();
		if (unit_failures == before)
			passed++;
		else
			failed++;
		printf("%-36s %s\n", suites[i].name, unit_failures == before ? "ok" : "FAILED");
	}
	if (list)
		return 0;
	printf("unit: %d checks, %d failed checks\n", unit_checks, unit_failures);
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
