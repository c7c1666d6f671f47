#include "signame.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	int sig;
	const char *name;
} names[] = {
	{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" }, { SIGILL, "ILL" },
	{ SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" }, { SIGABRT, "IOT" }, { SIGBUS, "BUS" },
	{ SIGFPE, "FPE" }, { SIGKILL, "KILL" }, { SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" },
	{ SIGUSR2, "USR2" }, { SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
	{ SIGSTKFLT, "STKFLT" }, { SIGCHLD, "CHLD" }, { SIGCHLD, "CLD" }, { SIGCONT, "CONT" },
	{ SIGSTOP, "STOP" }, { SIGTSTP, "TSTP" }, { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" },
	{ SIGURG, "URG" }, { SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" }, { SIGVTALRM, "VTALRM" },
	{ SIGPROF, "PROF" }, { SIGWINCH, "WINCH" }, { SIGIO, "IO" }, { SIGIO, "POLL" },
	{ SIGPWR, "PWR" }, { SIGSYS, "SYS" },
};

static int parse_uint(const char *s, int *out)
{
	int v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 1000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

int dock_signame_parse(const char *text, int allow_zero)
{
	const char *s = text;
	size_t i;
	int n;

	if (text == NULL)
		return -1;
	if (parse_uint(s, &n) == 0) {
		if (n == 0)
			return allow_zero ? 0 : -1;
		return n < _NSIG ? n : -1;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].sig;
	/* Real-time signals, relative to the libc's SIGRTMIN/SIGRTMAX since the
	 * libc reserves the first few for itself. */
	if (strncasecmp(s, "RTMIN", 5) == 0) {
		if (s[5] == '\0')
			return SIGRTMIN;
		if (s[5] == '+' && parse_uint(s + 6, &n) == 0 && SIGRTMIN + n <= SIGRTMAX)
			return SIGRTMIN + n;
	} else if (strncasecmp(s, "RTMAX", 5) == 0) {
		if (s[5] == '\0')
			return SIGRTMAX;
		if (s[5] == '-' && parse_uint(s + 6, &n) == 0 && SIGRTMAX - n >= SIGRTMIN)
			return SIGRTMAX - n;
	}
	return -1;
}

const char *dock_signame_name(int sig, char *buf, size_t len)
{
	size_t i;

	if (sig <= 0 || sig >= _NSIG || len == 0)
		return NULL;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].sig == sig) {
			snprintf(buf, len, "%s", names[i].name);
			return buf;
		}
	}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMIN)
			snprintf(buf, len, "RTMIN");
		else
			snprintf(buf, len, "RTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	snprintf(buf, len, "%d", sig);
	return buf;
}
