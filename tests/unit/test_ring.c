#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "ring.h"
#include "unit.h"

/* What the ring holds, read through its own head piece and linear copy. */
static int same_as(const struct dock_ring *r, const char *model, size_t len)
{
	static char scratch[256];
	size_t n;
	const char *head = dock_ring_head(r, &n);

	if (r->len != len || n > len || memcmp(head, model, n) != 0)
		return 0;
	return memcmp(dock_ring_linear(r, len, scratch), model, len) == 0;
}

UNIT_SUITE(test_ring)
{
	static char buf[97], model[97], data[97];
	struct dock_ring r = { .buf = buf, .cap = sizeof(buf) };
	unsigned seed = 99;
	size_t mlen = 0, n, flat, i;
	int round;
	bool ok = true;

	/* Wrapping by hand: put 90, skip 80, put 50 (wraps), all in order. */
	for (i = 0; i < 90; i++)
		data[i] = (char)('a' + i % 26);
	dock_ring_put(&r, data, 90);
	dock_ring_skip(&r, 80);
	CHECK_EQ_INT(r.len, 10);
	CHECK_EQ_INT(dock_ring_free(&r), 87);
	dock_ring_tail(&r, &flat);
	CHECK_EQ_INT(flat, 7);			/* up to the buffer's end */
	dock_ring_put(&r, "0123456789012345678901234567890123456789\n123456789", 50);
	dock_ring_tail(&r, &flat);
	CHECK_EQ_INT(flat, 37);			/* up to head, the data wrapping */
	CHECK_EQ_INT(dock_ring_find(&r, '\n', 60), 50);
	CHECK_EQ_INT(dock_ring_find(&r, '\n', 50), SIZE_MAX);
	CHECK_EQ_INT(dock_ring_find(&r, 'e', 60), 2);	/* "cdefghijkl" first */
	dock_ring_skip(&r, 60);
	CHECK_EQ_INT(r.len, 0);
	CHECK_EQ_INT(r.head, 0);		/* empty: back to the start */

	/* Random puts, direct writes, skips and finds against a flat model. */
	r.len = 0;
	r.head = 0;
	for (round = 0; round < 200000 && ok; round++) {
		switch (rand_r(&seed) % 4) {
		case 0:
			n = (size_t)rand_r(&seed) % (dock_ring_free(&r) + 1);
			for (i = 0; i < n; i++)
				data[i] = rand_r(&seed) % 8 == 0 ? '\n' : (char)('a' + rand_r(&seed) % 26);
			dock_ring_put(&r, data, n);
			memcpy(model + mlen, data, n);
			mlen += n;
			break;
		case 1: {
			char *t = dock_ring_tail(&r, &flat);

			ok = ok && flat <= dock_ring_free(&r) && (flat > 0 || r.len == r.cap);
			n = flat ? (size_t)rand_r(&seed) % (flat + 1) : 0;
			for (i = 0; i < n; i++)
				t[i] = model[mlen + i] = (char)('A' + rand_r(&seed) % 26);
			dock_ring_commit(&r, n);
			mlen += n;
			break;
		}
		case 2:
			n = (size_t)rand_r(&seed) % (r.len + 1);
			dock_ring_skip(&r, n);
			memmove(model, model + n, mlen - n);
			mlen -= n;
			break;
		default: {
			size_t max = (size_t)rand_r(&seed) % 120, want = SIZE_MAX;
			const char *hit = memchr(model, '\n', max < mlen ? max : mlen);

			if (hit != NULL)
				want = (size_t)(hit - model);
			ok = ok && dock_ring_find(&r, '\n', max) == want;
		}
		}
		ok = ok && r.head < r.cap && same_as(&r, model, mlen);
	}
	CHECK(ok);
}
