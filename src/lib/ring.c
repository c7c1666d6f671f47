/* The byte ring of fanout.c's queues; see ring.h. */
#include "ring.h"

#include <stdint.h>
#include <string.h>

static size_t tail_of(const struct dock_ring *r)
{
	size_t t = r->head + r->len;

	return t >= r->cap ? t - r->cap : t;
}

void dock_ring_put(struct dock_ring *r, const char *d, size_t n)
{
	size_t tail = tail_of(r), first = r->cap - tail;

	if (first > n)
		first = n;
	memcpy(r->buf + tail, d, first);
	memcpy(r->buf, d + first, n - first);
	r->len += n;
}

char *dock_ring_tail(const struct dock_ring *r, size_t *flat)
{
	size_t tail = tail_of(r);

	/* Up to head when the data wraps (or fills the buffer), else up to the
	 * buffer's end. */
	if (tail < r->head || r->len == r->cap)
		*flat = r->cap - r->len;
	else
		*flat = r->cap - tail;
	return r->buf + tail;
}

void dock_ring_commit(struct dock_ring *r, size_t n)
{
	r->len += n;
}

const char *dock_ring_head(const struct dock_ring *r, size_t *n)
{
	*n = r->cap - r->head < r->len ? r->cap - r->head : r->len;
	return r->buf + r->head;
}

void dock_ring_skip(struct dock_ring *r, size_t n)
{
	r->head += n;
	if (r->head >= r->cap)
		r->head -= r->cap;
	r->len -= n;
	/* Empty: start over at the buffer's start, so the next data is in one
	 * piece as long as possible. */
	if (r->len == 0)
		r->head = 0;
}

size_t dock_ring_find(const struct dock_ring *r, char c, size_t max)
{
	size_t first = r->cap - r->head;
	const char *hit;

	if (max > r->len)
		max = r->len;
	if (first > max)
		first = max;
	hit = memchr(r->buf + r->head, c, first);
	if (hit != NULL)
		return (size_t)(hit - (r->buf + r->head));
	hit = memchr(r->buf, c, max - first);
	return hit != NULL ? first + (size_t)(hit - r->buf) : SIZE_MAX;
}

const char *dock_ring_linear(const struct dock_ring *r, size_t n, char *scratch)
{
	size_t first = r->cap - r->head;

	if (n <= first)
		return r->buf + r->head;
	memcpy(scratch, r->buf + r->head, first);
	memcpy(scratch + first, r->buf, n - first);
	return scratch;
}
