/* exitwith N: exit with status N.  exitwith sig:SIG: die by signal SIG
 * (default disposition, unblocked, no core file). */
#include "common.h"

int main(int argc, char **argv)
{
	if (argc != 2) return 98;
	if (!strncmp(argv[1], "sig:", 4)) {
		int sig = parse_sig(argv[1] + 4);
		struct rlimit rl = { 0, 0 };
		setrlimit(RLIMIT_CORE, &rl);
		signal(sig, SIG_DFL);
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, sig);
		sigprocmask(SIG_UNBLOCK, &m, NULL);
		raise(sig);
		kill(getpid(), sig);
		sleep_ms(5000);
		return 97;
	}
	return atoi(argv[1]);
}
