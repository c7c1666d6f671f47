/* chatter: a command that talks a lot and still obeys signals, for the
 * chaos suite.
 *
 *   chatter [-n LINES] [-r RECORD] [-x CODE] [-w] [-p LINE] [-R RATE]
 *
 * Writes LINES numbered 100-byte lines to stdout as fast as it can (as
 * flood does: "%09d " then 89 copies of 'a' + i % 26 and '\n'; 0: without
 * end), ignoring write errors (a full disk, a closed peer), then with -w
 * waits for a signal. Every USR1 appends "USR1\n" to RECORD from the handler
 * itself, so the test sees it even while a write(2) is blocked. TERM exits
 * CODE (default 0) at once; so does the end of the lines without -w. At
 * exit it prints "chatter wrote N lines" to stderr (not with TERM). With -p,
 * it stops before line LINE until a USR1 has come (10 s at most), so a test
 * can be sure a signal sent during the run arrives during the run. -R: at
 * most RATE lines a second (paced per 64 KiB chunk). */
#include "common.h"

static const char *record;
static int code;
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	int saved = errno;
	got_usr1 = 1;
	if (record) {
		int fd = open(record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			ssize_t w = write(fd, "USR1\n", 5);
			(void)w;
			close(fd);
		}
	}
	errno = saved;
}

static void on_term(int sig)
{
	(void)sig;
	_exit(code);
}

int main(int argc, char **argv)
{
	long lines = 0, pause_at = -1, rate = 0;
	int wait_sig = 0, opt;
	while ((opt = getopt(argc, argv, "n:r:x:wp:R:")) != -1) {
		switch (opt) {
		case 'n': lines = atol(optarg); break;
		case 'r': record = optarg; break;
		case 'x': code = atoi(optarg); break;
		case 'w': wait_sig = 1; break;
		case 'p': pause_at = atol(optarg); break;
		case 'R': rate = atol(optarg); break;
		default: out("chatter: usage\n"); return 98;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	static char buf[65536];
	long i = 0;
	double start = now_ms();
	while (lines == 0 || i < lines) {
		size_t used = 0;
		if (rate > 0) {
			double due = start + (double)i * 1000.0 / (double)rate;
			if (due > now_ms())
				sleep_ms((long)(due - now_ms()) + 1);
		}
		if (pause_at >= 0 && i >= pause_at) {
			double end = now_ms() + 10000;
			while (!got_usr1 && now_ms() < end)
				sleep_ms(1);
			pause_at = -1;
		}
		for (; (lines == 0 || i < lines) && used + 100 <= sizeof buf; i++) {
			char *l = buf + used;
			long v = i;
			for (int k = 8; k >= 0; k--) { l[k] = (char)('0' + v % 10); v /= 10; }
			l[9] = ' ';
			memset(l + 10, 'a' + (int)(i % 26), 89);
			l[99] = '\n';
			used += 100;
		}
		size_t off = 0;
		while (off < used) {
			ssize_t w = write(1, buf + off, used - off);
			if (w < 0 && errno == EINTR) continue;
			if (w <= 0) { sleep_ms(1); break; }	/* dropped: this chunk is lost */
			off += (size_t)w;
		}
	}
	char msg[64];
	int n = snprintf(msg, sizeof msg, "chatter wrote %ld lines\n", i);
	ssize_t w = write(2, msg, (size_t)n);
	(void)w;
	if (wait_sig)
		for (;;) pause();
	return code;
}
