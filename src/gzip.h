/* Gzip compression of one file into another, a bounded slice per call.
 * The log compressor process (logarch.c) calls it until done. The only
 * file that includes zlib. */
#ifndef DOCK_GZIP_H
#define DOCK_GZIP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Level 1: on log text it is about four times as fast as level 6 for
 * archives some 15-25% larger (measured, docs/benchmarks.md). Compression
 * shares the container's CPU quota with the command, and the last archive
 * must be done within the exit drain, so speed wins. */
#define DOCK_GZIP_LEVEL 1
/* memLevel 8 (zlib's default): 128 KiB of hash tables beside the 128 KiB
 * window; 9 measured no better on log text and doubles the tables. */
#define DOCK_GZIP_MEMLEVEL 8
/* Input read per call: about 0.3-1 ms of deflate at level 1. */
#define DOCK_GZIP_SLICE (64 * 1024)

enum dock_gzip_result {
	DOCK_GZIP_MORE = 0,	/* call again */
	DOCK_GZIP_DONE = 1,	/* the whole gzip stream is in out_fd */
	DOCK_GZIP_EREAD = -1,	/* reading in_fd failed (errno) */
	DOCK_GZIP_EWRITE = -2,	/* writing out_fd failed (errno); the output
				 * is kept, so a later call retries it */
};

struct dock_gzip;

/* Allocates the compressor (about 360 KiB in all, fixed). NULL when out of
 * memory. */
struct dock_gzip *dock_gzip_new(void);
void dock_gzip_free(struct dock_gzip *g);

/* Starts compressing in_fd from offset 0 to its end into out_fd (written
 * from its current offset). Neither fd is closed by this module. */
void dock_gzip_start(struct dock_gzip *g, int in_fd, int out_fd);

/* Reads at most max_in bytes of input (at most DOCK_GZIP_SLICE) and writes
 * the output they give. The end of in_fd ends the stream. */
enum dock_gzip_result dock_gzip_step(struct dock_gzip *g, size_t max_in);

/* Bytes read and written so far in the current stream. */
uint64_t dock_gzip_in_bytes(const struct dock_gzip *g);
uint64_t dock_gzip_out_bytes(const struct dock_gzip *g);

#endif
