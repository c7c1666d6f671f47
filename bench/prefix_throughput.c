/* Throughput of dock_prefix_apply alone, as the static build runs it:
 *
 *   musl-gcc -Os -std=c11 -D_GNU_SOURCE -Isrc -static \
 *       bench/prefix_throughput.c src/prefix.c -o build/prefix_throughput
 *   build/prefix_throughput [LINE_BYTES [PREFIX[:COLOR]]]
 *
 * Feeds 64 KiB reads of LINE_BYTES-long lines (default 100) through a 72 KiB
 * output buffer, as the stream code does, and prints input and output
 * rates. Not part of `make bench`: the end-to-end figures are there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefix.h"

#define CHUNK 65536
#define ROUNDS 40000

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char in[CHUNK], out[CHUNK + 8192];
	size_t line = argc > 1 ? (size_t)atol(argv[1]) : 100, written = 0, i;
	const char *spec = argc > 2 ? argv[2] : "web :green";
	struct dock_prefix p;
	struct dock_prefix_state st = { false };
	char err[128];
	double t0, t;
	int r;

	if (line == 0 || dock_prefix_parse(spec, false, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "prefix_throughput: %s\n", line == 0 ? "bad line length" : err);
		return 2;
	}
	for (i = 0; i < CHUNK; i++)
		in[i] = i % line == line - 1 ? '\n' : 'y';
	t0 = now();
	for (r = 0; r < ROUNDS; r++) {
		size_t pos = 0, used;

		while (pos < CHUNK) {
			written += dock_prefix_apply(&p, &st, in + pos, CHUNK - pos, out, sizeof(out),
						     &used);
			pos += used;
		}
	}
	t = now() - t0;
	printf("%zu-byte lines, %zu-byte prefix: in %.2f GB/s, out %.2f GB/s, %.1f Mlines/s\n",
	       line, p.len, (double)CHUNK * ROUNDS / t / 1e9, (double)written / t / 1e9,
	       (double)CHUNK * ROUNDS / (double)line / t / 1e6);
	/* Use the output, so the copies cannot be optimised away. */
	return out[0] == 0;
}
