/* The line prefixer: a pure function over caller buffers. */
#ifndef DOCK_PREFIX_H
#define DOCK_PREFIX_H

#include <stdbool.h>
#include <stddef.h>

#define DOCK_PREFIX_MAX 256	/* bytes of the rendered prefix, escapes included */

struct dock_prefix {
	char text[DOCK_PREFIX_MAX];	/* rendered: "ESC[32;1mweb ESC[0m" or "web " */
	size_t len;
};

/* Parses PREFIX[:COLOR]. COLOR is white, green, blue, magenta, yellow, cyan
 * or red; a trailing ":word" (letters only) that is no colour is an error,
 * while ':' followed by anything else stays part of the prefix. no_color
 * (NO_COLOR set) drops the escape codes. Returns 0, or -1 with a reason. */
int dock_prefix_parse(const char *spec, bool no_color, struct dock_prefix *out, char *err,
		      size_t errlen);

/* One stream's position: whether the next byte starts a line. */
struct dock_prefix_state {
	bool mid_line;
};

/* Copies in[0..inlen) to out, writing the prefix before the first byte of
 * every line (never after a final newline: it waits for the next byte).
 * Stops when out is full; *consumed tells how much of in was used. Returns
 * the bytes written to out. Needs outcap > DOCK_PREFIX_MAX to progress. */
size_t dock_prefix_apply(const struct dock_prefix *p, struct dock_prefix_state *st,
			 const char *in, size_t inlen, char *out, size_t outcap, size_t *consumed);

#endif
