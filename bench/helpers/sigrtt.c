/* sigrtt N CMD [ARG...]: starts CMD with its stdout on a pipe, waits for the
 * ready byte, then N times: sends SIGUSR1 to CMD's pid and waits for one byte
 * back. Prints each round trip in nanoseconds, one per line. Finally sends
 * SIGTERM and reaps CMD, which must exit 0.
 * CMD is either sigecho itself (direct) or INIT -- sigecho (through the init):
 * the signal goes to the pid we forked in both cases. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int read_byte(int fd)
{
	char c;
	ssize_t r;
	while ((r = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	return r == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sigrtt N CMD [ARG...]\n");
		return 2;
	}
	long n = strtol(argv[1], NULL, 10);
	long long *samples = calloc((size_t)n, sizeof *samples);
	int p[2];
	if (!samples || pipe(p) < 0) {
		perror("sigrtt");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("sigrtt: fork");
		return 1;
	}
	if (pid == 0) {
		/* stderr to /dev/null: tini's "not PID 1" warning is noise here. */
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull > 2) {
			dup2(devnull, 2);
			close(devnull);
		}
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[2], argv + 2);
		_exit(127);
	}
	close(p[1]);
	if (read_byte(p[0]) < 0) {
		fprintf(stderr, "sigrtt: %s never became ready\n", argv[2]);
		kill(pid, SIGKILL);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		long long t0 = now_ns();
		kill(pid, SIGUSR1);
		if (read_byte(p[0]) < 0) {
			fprintf(stderr, "sigrtt: no reply after %ld round trips\n", i);
			kill(pid, SIGKILL);
			return 1;
		}
		samples[i] = now_ns() - t0;
	}
	kill(pid, SIGTERM);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	for (long i = 0; i < n; i++)
		printf("%lld\n", samples[i]);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "sigrtt: %s ended with status 0x%x\n", argv[2], st);
		return 1;
	}
	return 0;
}
