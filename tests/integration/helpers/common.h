/* Shared bits of the integration-test helpers. Built static with musl-gcc so
 * the same binaries run on the host and inside the busybox container rootfs.
 * Output goes through write(2) only: lines are atomic on a pipe and the
 * helpers may print from signal handlers. */
#ifndef HELPERS_COMMON_H
#define HELPERS_COMMON_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const sig_names[] = {
	[SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
	[SIGTRAP] = "TRAP", [SIGABRT] = "ABRT", [SIGBUS] = "BUS", [SIGFPE] = "FPE",
	[SIGKILL] = "KILL", [SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
	[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
	[SIGCHLD] = "CHLD", [SIGCONT] = "CONT", [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
	[SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU", [SIGURG] = "URG", [SIGXCPU] = "XCPU",
	[SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
	[SIGIO] = "IO", [SIGPWR] = "PWR", [SIGSYS] = "SYS",
};
#define NSIG_STD 32
#define NSIG_ALL 65

/* async-signal-safe formatting: %s %d only */
static __attribute__((unused)) size_t fmt(char *buf, size_t cap, const char *f, va_list ap)
{
	size_t n = 0;
	for (; *f && n + 1 < cap; f++) {
		if (*f != '%') { buf[n++] = *f; continue; }
		f++;
		if (*f == 's') {
			const char *s = va_arg(ap, const char *);
			while (s && *s && n + 1 < cap) buf[n++] = *s++;
		} else if (*f == 'd') {
			long v = va_arg(ap, int);
			char tmp[24]; int k = 0;
			unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
			do { tmp[k++] = (char)('0' + u % 10); u /= 10; } while (u);
			if (v < 0 && n + 1 < cap) buf[n++] = '-';
			while (k && n + 1 < cap) buf[n++] = tmp[--k];
		} else if (*f == '%') {
			buf[n++] = '%';
		}
	}
	return n;
}

static __attribute__((unused)) void out(const char *f, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, f);
	size_t n = fmt(buf, sizeof buf, f, ap);
	va_end(ap);
	int saved = errno;
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(1, buf + off, n - off);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) break;
		off += (size_t)w;
	}
	errno = saved;
}

static __attribute__((unused)) const char *sig_name(int sig, char *buf)
{
	if (sig > 0 && sig < NSIG_STD && sig_names[sig]) return sig_names[sig];
	/* real-time and unknown signals: by number */
	buf[0] = 'S'; buf[1] = 'I'; buf[2] = 'G';
	buf[3] = (char)('0' + sig / 10); buf[4] = (char)('0' + sig % 10); buf[5] = 0;
	return buf;
}

static __attribute__((unused)) int parse_sig(const char *s)
{
	if (isdigit((unsigned char)*s)) return atoi(s);
	if (!strncmp(s, "SIG", 3)) s += 3;
	for (int i = 1; i < NSIG_STD; i++)
		if (sig_names[i] && !strcmp(s, sig_names[i])) return i;
	out("helper: bad signal %s\n", s);
	_exit(98);
}

static __attribute__((unused)) double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* sleeps ms milliseconds, resuming after signal handlers */
static __attribute__((unused)) void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L }, rem;
	while (nanosleep(&ts, &rem) < 0 && errno == EINTR) ts = rem;
}

/* sleeps until a handler _exit()s the process; after `secs` gives up with 99,
 * so a broken init never leaves a helper behind for long */
static __attribute__((unused)) void idle_until_killed(const char *tag, int secs)
{
	double end = now_ms() + secs * 1000.0;
	for (;;) {
		double left = end - now_ms();
		if (left <= 0) break;
		sleep_ms((long)left);
	}
	out("%s timeout\n", tag);
	_exit(99);
}

/* ppid of pid and its state letter from /proc/PID/stat; -1 if gone */
static __attribute__((unused)) int proc_ppid(const char *pid, char *state)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p || p[1] == 0) return -1;
	if (state) *state = p[2];
	return atoi(p + 4);
}

/* counts processes whose parent is ppid (except `self`); zombies separately */
static __attribute__((unused)) int count_children_of(int ppid, int self, int *zombies)
{
	DIR *d = opendir("/proc");
	int n = 0, z = 0;
	struct dirent *e;
	if (!d) return -1;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0])) continue;
		if (atoi(e->d_name) == self) continue;
		char st = 0;
		if (proc_ppid(e->d_name, &st) != ppid) continue;
		n++;
		if (st == 'Z') z++;
	}
	closedir(d);
	if (zombies) *zombies = z;
	return n;
}

#endif
