/* memhog MIB [DELAY_MS]: waits DELAY_MS (default 0), then allocates MIB mebibytes, 1 MiB at a time, and writes every page
 * so that the memory is really charged (to the container's cgroup). Prints
 * "hog start pid=P" first, "hog N" after every 4 MiB, and "hog done" when all
 * of it was allocated; then exits 0. Under a smaller memory limit the OOM
 * killer ends it with SIGKILL before "hog done". Exits 1 if malloc fails
 * (an address-space limit rather than a cgroup's). */
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) return 98;
	long mib = atol(argv[1]);
	long delay_ms = argc > 2 ? atol(argv[2]) : 0;
	long page = sysconf(_SC_PAGESIZE);
	out("hog start pid=%d\n", (int)getpid());
	struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	for (long i = 1; i <= mib; i++) {
		volatile char *p = malloc(1 << 20);
		if (!p) {
			out("hog malloc failed at %d MiB\n", (int)i);
			return 1;
		}
		for (long off = 0; off < (1 << 20); off += page)
			p[off] = (char)(i + off);
		if (i % 4 == 0) out("hog %d\n", (int)i);
	}
	out("hog done\n");
	return 0;
}
