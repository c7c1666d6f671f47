/* sigrec: records every signal it receives, one line each: "TAG SIG N NAME".
 *
 *   sigrec [-t TAG] [-x SIG[:CODE]]... [-i SIG]... [-b SIG]... [-f] [-T SECS]
 *
 * -x: exit with CODE (default 0) right after recording SIG
 * -i: ignore SIG (SIG_IGN), -b: keep SIG blocked (handler installed)
 * -f: fork a child first ("TAG.child", same process group) that records too
 *     and exits on TERM and on every -x signal
 * -T: give up after SECS seconds (exit 99), default 60
 * Prints "TAG ready pid=P ppid=PP pgid=G" once every handler is in place. */
#include "common.h"

static const char *tag = "main";
static int exit_code[NSIG_ALL];	/* -1: keep running */

static void on_signal(int sig)
{
	char nb[8];
	out("%s SIG %d %s\n", tag, sig, sig_name(sig, nb));
	if (exit_code[sig] >= 0) _exit(exit_code[sig]);
}

int main(int argc, char **argv)
{
	int ignored[NSIG_ALL] = {0}, blocked[NSIG_ALL] = {0}, forkchild = 0, secs = 60;
	for (int i = 0; i < NSIG_ALL; i++) exit_code[i] = -1;
	int opt;
	while ((opt = getopt(argc, argv, "t:x:i:b:fT:")) != -1) {
		switch (opt) {
		case 't': tag = optarg; break;
		case 'x': {
			char *colon = strchr(optarg, ':');
			int code = colon ? atoi(colon + 1) : 0;
			if (colon) *colon = 0;
			exit_code[parse_sig(optarg)] = code;
			break;
		}
		case 'i': ignored[parse_sig(optarg)] = 1; break;
		case 'b': blocked[parse_sig(optarg)] = 1; break;
		case 'f': forkchild = 1; break;
		case 'T': secs = atoi(optarg); break;
		default: out("sigrec: usage\n"); return 98;
		}
	}

	sigset_t mask;
	sigemptyset(&mask);
	for (int s = 1; s < NSIG_ALL; s++) {
		if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD) continue;
		if (s >= 32 && s < 35) continue;	/* musl's internal signals */
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sigfillset(&sa.sa_mask);	/* no nesting: a handler that exits finishes first */
		sa.sa_handler = ignored[s] ? SIG_IGN : on_signal;
		sa.sa_flags = SA_RESTART;
		if (sigaction(s, &sa, NULL) < 0) { out("sigrec: sigaction %d failed\n", s); return 98; }
		if (blocked[s]) sigaddset(&mask, s);
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);

	if (forkchild) {
		int p[2];
		if (pipe(p) < 0) return 98;
		pid_t c = fork();
		if (c < 0) return 98;
		if (c == 0) {
			static char ctag[64];
			snprintf(ctag, sizeof ctag, "%s.child", tag);
			tag = ctag;
			if (exit_code[SIGTERM] < 0) exit_code[SIGTERM] = 0;
			out("%s ready pid=%d ppid=%d pgid=%d\n", tag, (int)getpid(), (int)getppid(), (int)getpgrp());
			close(p[0]);
			close(p[1]);
			idle_until_killed(tag, secs);
		}
		close(p[1]);
		char b;
		while (read(p[0], &b, 1) < 0 && errno == EINTR) ;
		close(p[0]);
	}
	out("%s ready pid=%d ppid=%d pgid=%d\n", tag, (int)getpid(), (int)getppid(), (int)getpgrp());
	idle_until_killed(tag, secs);
}
