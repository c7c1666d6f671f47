/* sigecho: the command under the init in the signal round-trip benchmark.
 * Writes 'R' to stdout once ready, then one byte to stdout for every SIGUSR1
 * it receives; exits 0 on SIGTERM. Signals are taken synchronously
 * (sigwaitinfo), so the reply costs one wake-up and one write. */
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (write(1, "R", 1) != 1)
		return 1;
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig == SIGTERM)
			return 0;
		if (sig == SIGUSR1 && write(1, "x", 1) != 1)
			return 1;
	}
}
