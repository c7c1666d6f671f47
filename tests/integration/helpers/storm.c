/* storm N [HOLD_MS [CODE]]: an orphan storm under the init.
 *
 * An intermediate process forks N grandchildren and exits, so all N are
 * orphaned at once and reparented to the init (PID 1 or the subreaper, which
 * is our parent). It prints "orphans K init=P" with K the number of processes
 * whose parent is now the init. Then every orphan is released together (they
 * block reading a pipe until its last writer closes) and the helper watches
 * /proc until no child of the init but itself is left, zombie or not:
 * "reaped ms=T left=L zombies=Z". It then holds HOLD_MS milliseconds
 * (default 0) and exits CODE (default 0); 1 if something was left over.
 * A SIGTERM is recorded ("storm got TERM"), not obeyed. */
#include "common.h"

static void on_term(int sig)
{
	(void)sig;
	out("storm got TERM\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) return 98;
	int n = atoi(argv[1]);
	long hold = argc > 2 ? atol(argv[2]) : 0;
	int code = argc > 3 ? atoi(argv[3]) : 0;
	int init = (int)getppid(), self = (int)getpid();
	signal(SIGTERM, on_term);

	int p[2];
	if (pipe(p) < 0) return 98;
	double t0 = now_ms();
	pid_t mid = fork();
	if (mid < 0) return 98;
	if (mid == 0) {
		for (int i = 0; i < n; i++) {
			pid_t g = fork();
			if (g < 0) { out("storm: fork %d failed: %s\n", i, strerror(errno)); _exit(1); }
			if (g == 0) {
				char b;
				close(p[1]);
				while (read(p[0], &b, 1) < 0 && errno == EINTR) ;
				_exit(0);
			}
		}
		_exit(0);
	}
	int st;
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR) ;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { out("storm: forking failed\n"); return 1; }
	int z = 0;
	int orphans = count_children_of(init, self, &z);
	out("orphans %d init=%d forked_ms=%d\n", orphans, init, (int)(now_ms() - t0));

	close(p[0]);
	close(p[1]);	/* the last writer: every orphan wakes up and exits */
	t0 = now_ms();
	int left;
	for (;;) {
		left = count_children_of(init, self, &z);
		if (left == 0 || now_ms() - t0 > 20000) break;
		sleep_ms(5);
	}
	out("reaped ms=%d left=%d zombies=%d\n", (int)(now_ms() - t0), left, z);
	sleep_ms(hold);
	out("storm exit %d\n", left ? 1 : code);
	return left ? 1 : code;
}
