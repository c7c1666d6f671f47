/* orphans N: the command under the init in the orphan-reaping benchmark; run
 * it as `unshare --pid --fork --mount-proc INIT -- orphans N`.
 *
 * 1. Forks N/100 children; each forks 100 grandchildren and exits. We reap
 *    the children ourselves, so the N grandchildren are orphans reparented to
 *    PID 1 (the init) and the init has had nothing to reap yet.
 * 2. Each grandchild reports its pid on a pipe and blocks reading a "barrier"
 *    pipe whose only write end we hold.
 * 3. t0, close the barrier: all N grandchildren see EOF and exit at once,
 *    becoming N zombies of the init.
 * 4. Wait until every one of them is gone. kill(pid, 0) succeeds on a zombie
 *    and fails with ESRCH only once it is reaped, so this measures the init's
 *    reaping, not just the exits (no scan of /proc, no tasklist lock). t1.
 * Prints "reap_ns=<t1-t0> exit_ns=<until the last one exited> n=<N>" and
 * exits 0; exits 1 after 20 s. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
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
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	pid_t *gpids = calloc((size_t)n, sizeof *gpids);
	int barrier[2], ready[2], alive[2];
	if (!gpids || pipe(barrier) < 0 || pipe(ready) < 0 || pipe(alive) < 0) {
		perror("orphans");
		return 1;
	}
	if (getpid() != 2)
		fprintf(stderr, "orphans: warning: pid %d, expected 2 (init as PID 1 of a new namespace)\n",
			(int)getpid());
	/* A few parents with up to 100 grandchildren each: far fewer forks than
	 * one parent per orphan, and process creation is the slow part here. */
	for (long first = 0; first < n; first += 100) {
		long count = n - first < 100 ? n - first : 100;
		pid_t c = fork();
		if (c < 0) {
			perror("orphans: fork");
			return 1;
		}
		if (c == 0) {
			for (long k = 0; k < count; k++) {
				pid_t g = fork();
				if (g < 0)
					_exit(1);
				if (g == 0) {
					char b;
					close(barrier[1]);
					close(ready[0]);
					close(alive[0]);
					pid_t me = getpid();
					if (write(ready[1], &me, sizeof me) != sizeof me)
						_exit(1);
					close(ready[1]);
					while (read(barrier[0], &b, 1) < 0 && errno == EINTR)
						;
					_exit(0);
				}
			}
			_exit(0);
		}
		int st;
		while (waitpid(c, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "orphans: a parent failed to fork its children\n");
			return 1;
		}
	}
	close(ready[1]);
	close(barrier[0]);
	close(alive[1]);
	/* Writes of one pid are atomic (< PIPE_BUF): read them all. */
	size_t want = (size_t)n * sizeof(pid_t), got = 0;
	while (got < want) {
		ssize_t r = read(ready[0], (char *)gpids + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "orphans: only %zu of %ld grandchildren reported\n",
				got / sizeof(pid_t), n);
			return 1;
		}
		got += (size_t)r;
	}
	/* Sleeps in the wait loop below should not be rounded up by 50 us. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	struct timespec nap = { 0, 20000 };

	long long t0 = now_ns();
	close(barrier[1]);
	/* EOF on "alive" once the last grandchild has exited (its fds close in
	 * exit, before it becomes a zombie): the kernel's share of the work. */
	char b;
	while (read(alive[0], &b, 1) < 0 && errno == EINTR)
		;
	long long texit = now_ns();
	long i = 0;
	while (i < n) {
		if (kill(gpids[i], 0) < 0 && errno == ESRCH) {
			i++;
			continue;
		}
		if (now_ns() - t0 > 20000000000LL) {
			fprintf(stderr, "orphans: %ld of %ld orphans still not reaped after 20 s\n", n - i, n);
			return 1;
		}
		nanosleep(&nap, NULL);
	}
	long long t1 = now_ns();
	printf("reap_ns=%lld exit_ns=%lld n=%ld\n", t1 - t0, texit - t0, n);
	fflush(stdout);
	return 0;
}
