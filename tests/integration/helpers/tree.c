/* tree: a main command with a tree of descendants, for shutdown tests.
 *
 *   tree [-m obey|ignore|sigign] [-d DELAY_MS] [-x CODE] [-w] [-T SECS]
 *
 * Descendants (tag, where):
 *   c1  direct child, same process group
 *   c2  direct child in a new session (setsid); c3 is c2's own child
 *   o1  orphan (its parent exits), reparented to the init
 *   o2  orphan in its own process group
 * On SIGTERM a descendant prints "TAG got TERM"; with -m obey (default) it
 * then waits DELAY_MS, prints "TAG exit" and exits 0; with -m ignore it
 * carries on; with -m sigign TERM is SIG_IGN (nothing printed).
 * Once all are in place the main command prints
 * "tree ready c1=P c2=P c3=P o1=P o2=P main=P" and exits CODE (default 0),
 * or with -w waits for SIGTERM (prints "main got TERM") and then exits CODE. */
#include "common.h"

static const char *tag = "main";
static int mode_obey = 1, mode_sigign = 0, delay_ms = 0, is_main = 1, code = 0;

static void on_term(int sig)
{
	(void)sig;
	out("%s got TERM\n", tag);
	if (is_main) _exit(code);
	if (mode_obey) {
		sleep_ms(delay_ms);
		out("%s exit\n", tag);
		_exit(0);
	}
}

static int ready_w;

static void become(const char *t, int secs)
{
	tag = t;
	is_main = 0;
	if (mode_sigign) signal(SIGTERM, SIG_IGN);
	char pidbuf[16];
	snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
	if (write(ready_w, pidbuf, sizeof pidbuf) != sizeof pidbuf) _exit(98);
	close(ready_w);
	idle_until_killed(tag, secs);
}

int main(int argc, char **argv)
{
	int wait_term = 0, secs = 60, opt;
	while ((opt = getopt(argc, argv, "m:d:x:wT:")) != -1) {
		switch (opt) {
		case 'm':
			mode_obey = !strcmp(optarg, "obey");
			mode_sigign = !strcmp(optarg, "sigign");
			break;
		case 'd': delay_ms = atoi(optarg); break;
		case 'x': code = atoi(optarg); break;
		case 'w': wait_term = 1; break;
		case 'T': secs = atoi(optarg); break;
		default: return 98;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigfillset(&sa.sa_mask);	/* no nesting: a handler that exits finishes first */
	sigaction(SIGTERM, &sa, NULL);

	int p[2];
	if (pipe(p) < 0) return 98;
	ready_w = p[1];
	/* each descendant writes its pid (16 bytes) once its handler is set */
	if (fork() == 0) { close(p[0]); become("c1", secs); }
	if (fork() == 0) {
		close(p[0]);
		setsid();
		if (fork() == 0) become("c3", secs);
		become("c2", secs);
	}
	pid_t mid = fork();
	if (mid == 0) {
		close(p[0]);
		if (fork() == 0) become("o1", secs);
		if (fork() == 0) { setpgid(0, 0); become("o2", secs); }
		_exit(0);
	}
	close(p[1]);
	/* order of arrival is not the order of the tags: collect pids by tag via
	 * a second pass is overkill; report them in arrival order instead */
	char pids[5][16];
	for (int i = 0; i < 5; i++) {
		size_t got = 0;
		while (got < 16) {
			ssize_t r = read(p[0], pids[i] + got, 16 - got);
			if (r < 0 && errno == EINTR) continue;
			if (r <= 0) { out("tree: descendant missing\n"); return 98; }
			got += (size_t)r;
		}
	}
	close(p[0]);
	int st;
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR) ;
	out("tree ready pids=%s,%s,%s,%s,%s main=%d\n", pids[0], pids[1], pids[2], pids[3], pids[4],
	    (int)getpid());
	if (wait_term) idle_until_killed("main", secs);
	return code;
}
