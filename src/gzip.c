#include "gzip.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

/* 15 bits of window, plus 16: zlib writes a gzip header and trailer
 * instead of a zlib one, so the archive is what gzip(1) reads. */
#define GZIP_WINDOW_BITS (15 + 16)
#define OUT_SIZE (32 * 1024)

struct dock_gzip {
	z_stream z;
	int in_fd, out_fd;
	bool input_ended;
	bool stream_ended;
	uint64_t in_total, out_total;
	size_t out_off, out_len;	/* output produced, not yet written */
	unsigned char in[DOCK_GZIP_SLICE];
	unsigned char out[OUT_SIZE];
};

struct dock_gzip *dock_gzip_new(void)
{
	struct dock_gzip *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	if (deflateInit2(&g->z, DOCK_GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, DOCK_GZIP_MEMLEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		errno = ENOMEM;
		return NULL;
	}
	g->in_fd = g->out_fd = -1;
	return g;
}

void dock_gzip_free(struct dock_gzip *g)
{
	if (g == NULL)
		return;
	deflateEnd(&g->z);
	free(g);
}

void dock_gzip_start(struct dock_gzip *g, int in_fd, int out_fd)
{
	/* deflateReset keeps the allocated window and tables: one allocation
	 * serves every archive of a run. */
	deflateReset(&g->z);
	g->z.next_in = NULL;
	g->z.avail_in = 0;
	g->in_fd = in_fd;
	g->out_fd = out_fd;
	g->input_ended = g->stream_ended = false;
	g->in_total = g->out_total = 0;
	g->out_off = g->out_len = 0;
}

static int flush_output(struct dock_gzip *g)
{
	while (g->out_off < g->out_len) {
		ssize_t n = write(g->out_fd, g->out + g->out_off, g->out_len - g->out_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		g->out_off += (size_t)n;
		g->out_total += (uint64_t)n;
	}
	g->out_off = g->out_len = 0;
	return 0;
}

enum dock_gzip_result dock_gzip_step(struct dock_gzip *g, size_t max_in)
{
	int r;

	if (flush_output(g) < 0)
		return DOCK_GZIP_EWRITE;
	if (g->stream_ended)
		return DOCK_GZIP_DONE;
	/* Input left in the stream from a slice cut short by a failed write
	 * is still in g->in: deflate it before reading more over it. */
	if (g->z.avail_in == 0 && !g->input_ended) {
		ssize_t n;

		if (max_in > sizeof(g->in))
			max_in = sizeof(g->in);
		do
			n = pread(g->in_fd, g->in, max_in, (off_t)g->in_total);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return DOCK_GZIP_EREAD;
		if (n == 0)
			g->input_ended = true;
		g->in_total += (uint64_t)n;
		g->z.next_in = g->in;
		g->z.avail_in = (uInt)n;
	}
	for (;;) {
		g->z.next_out = g->out;
		g->z.avail_out = sizeof(g->out);
		r = deflate(&g->z, g->input_ended ? Z_FINISH : Z_NO_FLUSH);
		if (r == Z_STREAM_ERROR) {
			/* Only a corrupted state gives this: a broken invariant. */
			errno = EINVAL;
			return DOCK_GZIP_EREAD;
		}
		g->out_len = sizeof(g->out) - g->z.avail_out;
		g->out_off = 0;
		if (r == Z_STREAM_END)
			g->stream_ended = true;
		if (flush_output(g) < 0)
			return DOCK_GZIP_EWRITE;
		if (g->stream_ended)
			return DOCK_GZIP_DONE;
		/* Room left in the output buffer means deflate took all the
		 * input it was given and wants more. */
		if (g->z.avail_out != 0)
			return DOCK_GZIP_MORE;
	}
}

uint64_t dock_gzip_in_bytes(const struct dock_gzip *g)
{
	return g->in_total;
}

uint64_t dock_gzip_out_bytes(const struct dock_gzip *g)
{
	return g->out_total + g->out_len - g->out_off;
}
