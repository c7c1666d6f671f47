/* spawnloop N CMD [ARG...]: runs CMD N times, one after the other, and prints
 * the wall time of each run (fork to reaped) in nanoseconds, one per line,
 * then "cpu NS": the CPU time (user + system) of all N runs and everything
 * they started, from RUSAGE_CHILDREN: steadier than wall time on a loaded
 * machine. Timing in C keeps the harness's own overhead (Python) out of the
 * numbers. The runs' stderr goes to /dev/null. Exits 1 if any run does not
 * exit 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawnloop N CMD [ARG...]\n");
		return 2;
	}
	long n = strtol(argv[1], NULL, 10);
	int bad = 0;
	/* The runs' stderr goes to /dev/null (tini warns on every start when it
	 * is neither PID 1 nor a subreaper); opened once, outside the timing. */
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	for (long i = 0; i < n; i++) {
		long long t0 = now_ns();
		pid_t pid = fork();
		if (pid < 0) {
			perror("spawnloop: fork");
			return 1;
		}
		if (pid == 0) {
			if (devnull >= 0)
				dup2(devnull, 2);
			execv(argv[2], argv + 2);
			_exit(127);
		}
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		long long t1 = now_ns();
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			if (!bad)
				fprintf(stderr, "run %ld: %s %d\n", i,
					WIFEXITED(st) ? "exit status" : "killed by signal",
					WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			bad = 1;
		}
		printf("%lld\n", t1 - t0);
	}
	struct rusage ru;
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
		printf("cpu %lld\n", (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
		       (long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL);
	return bad;
}
