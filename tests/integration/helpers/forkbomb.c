/* forkbomb: a fork bomb for the chaos suite, to be held by a process limit.
 *
 *   forkbomb SECS CODE
 *
 * The main process records USR1 ("bomb got USR1") and forks one bomber.
 * Every bomber forks without end, and so does every process it makes; a
 * failed fork (EAGAIN: the limit) is counted and retried 5 ms later. No
 * one waits for anyone, so the zombies hold their slots too. The main
 * process prints "bomb ready pid=P", and after SECS seconds
 * "bomb done forks=N refused=R" (counted across the bomb in shared memory)
 * and exits CODE. Bombers keep the default action of every signal. */
#include "common.h"

#include <sys/mman.h>

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
	out("bomb got USR1\n");
}

int main(int argc, char **argv)
{
	if (argc < 3) { out("forkbomb: usage: forkbomb SECS CODE\n"); return 98; }
	long secs = atol(argv[1]);
	int code = atoi(argv[2]);
	long *count = mmap(NULL, 2 * sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (count == MAP_FAILED) return 98;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);

	pid_t bomber = fork();
	if (bomber < 0) return 98;
	if (bomber == 0) {
		signal(SIGUSR1, SIG_DFL);
		for (;;) {
			pid_t p = fork();
			if (p > 0)
				__atomic_add_fetch(&count[0], 1, __ATOMIC_RELAXED);
			else if (p < 0) {
				__atomic_add_fetch(&count[1], 1, __ATOMIC_RELAXED);
				sleep_ms(5);
			}
			/* p == 0: the child goes on forking too */
		}
	}
	out("bomb ready pid=%d\n", (int)getpid());
	sleep_ms(secs * 1000);
	out("bomb done forks=%d refused=%d\n", (int)__atomic_load_n(&count[0], __ATOMIC_RELAXED),
	    (int)__atomic_load_n(&count[1], __ATOMIC_RELAXED));
	return code;
}
