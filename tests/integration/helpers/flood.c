/* flood: writes LINES numbered 100-byte lines to stdout as fast as it can.
 *
 *   flood LINES [RECORD [DELAY_MS]]
 *
 * Line i (from 0) is "%09d " followed by 89 copies of 'a' + i % 26 and '\n',
 * so a reader can rebuild the exact expected bytes. Writes go out in 64 KiB
 * chunks. With RECORD, every SIGUSR1 appends "USR1\n" to that file from the
 * handler itself (open/write/close are async-signal-safe), so a test sees the
 * signal arrive while the writer is blocked in write(2); SA_RESTART resumes
 * the write afterwards. DELAY_MS: sleep that long before the first write.
 * Exits 0 once everything is written, 1 on a write error. */
#include "common.h"

static const char *record;

static void on_usr1(int sig)
{
	(void)sig;
	int saved = errno;
	int fd = open(record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		ssize_t w = write(fd, "USR1\n", 5);
		(void)w;
		close(fd);
	}
	errno = saved;
}

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(1, p, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) { out("flood: usage: flood LINES [RECORD [DELAY_MS]]\n"); return 98; }
	long lines = atol(argv[1]);
	if (argc > 2) {
		record = argv[2];
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_usr1;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGUSR1, &sa, NULL);
	}
	if (argc > 3) sleep_ms(atol(argv[3]));

	static char buf[65536];
	size_t used = 0;
	for (long i = 0; i < lines; i++) {
		if (used + 100 > sizeof buf) {
			if (write_all(buf, used) < 0) return 1;
			used = 0;
		}
		char *l = buf + used;
		long v = i;
		for (int k = 8; k >= 0; k--) { l[k] = (char)('0' + v % 10); v /= 10; }
		l[9] = ' ';
		memset(l + 10, 'a' + (int)(i % 26), 89);
		l[99] = '\n';
		used += 100;
	}
	if (used && write_all(buf, used) < 0) return 1;
	return 0;
}
