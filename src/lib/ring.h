/* A byte ring: a caller's buffer of cap bytes holding len bytes from head,
 * wrapping at its end. Pure: no I/O, no allocation, so it is tested alone. */
#ifndef DOCK_RING_H
#define DOCK_RING_H

#include <stddef.h>

struct dock_ring {
	char *buf;
	size_t cap, head, len;
};

static inline size_t dock_ring_free(const struct dock_ring *r)
{
	return r->cap - r->len;
}

/* Appends d[0..n); n must be at most dock_ring_free. */
void dock_ring_put(struct dock_ring *r, const char *d, size_t n);

/* The free space after the queued bytes that is in one piece: *flat bytes
 * at the returned address. Write there, then dock_ring_commit. */
char *dock_ring_tail(const struct dock_ring *r, size_t *flat);
void dock_ring_commit(struct dock_ring *r, size_t n);

/* The queued bytes from head up to the buffer's end (*n of them). */
const char *dock_ring_head(const struct dock_ring *r, size_t *n);

/* Drops the first n queued bytes; n must be at most len. */
void dock_ring_skip(struct dock_ring *r, size_t n);

/* Offset of the first c among the first max queued bytes, or (size_t)-1. */
size_t dock_ring_find(const struct dock_ring *r, char c, size_t max);

/* The first n queued bytes in one piece: in place, or copied into scratch
 * (which must hold n) when they wrap. */
const char *dock_ring_linear(const struct dock_ring *r, size_t n, char *scratch);

#endif
