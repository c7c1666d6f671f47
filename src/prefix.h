/* The line prefixer: a pure function over caller buffers. */
#ifndef DOCK_PREFIX_H
#define DOCK_PREFIX_H

#include <stdbool.h>
#include <stddef.h>

#define DOCK_PREFIX_MAX 256	/* bytes of the rendered prefix, escapes included */

struct dock_prefix {
	/* Rendered and NUL-terminated: "web :green" gives ESC[32;1m "web " ESC[0m,
	 * "web " alone gives "web ". */
	char text[DOCK_PREFIX_MAX];
	size_t len;			/* < DOCK_PREFIX_MAX */
};

/* Parses PREFIX[:COLOR]. COLOR is white, green, blue, magenta, yellow, cyan
 * or red (any case), rendered as ESC[n;1m PREFIX ESC[0m with n = 37, 32, 34,
 * 35, 33, 36, 31 and no byte added between them: a user who wants a space
 * before the line puts it in PREFIX ("web :green"). A trailing ":word"
 * (letters only, after the last ':') that is no colour is an error naming
 * the word, while ':' followed by anything else stays part of the prefix:
 * "a:b c", "12:30" and "web:" are prefixes as written. An empty PREFIX, one
 * holding CR or LF, or one whose rendering would not fit is an error.
 * no_color (NO_COLOR set and not empty, as no-color.org says) drops the
 * escape codes. Returns 0, or -1 with a reason in err. */
int dock_prefix_parse(const char *spec, bool no_color, struct dock_prefix *out, char *err,
		      size_t errlen);

/* One stream's position: whether the next byte starts a line. */
struct dock_prefix_state {
	bool mid_line;
};

/* Copies in[0..inlen) to out, writing the prefix before the first byte of
 * every line (never after a final newline: it waits for the next byte, in
 * this call or a later one). A partial line is copied at once and its rest,
 * in later calls, gets no second prefix. Stops when out cannot take the next
 * piece; *consumed tells how much of in was used, and the caller offers the
 * rest again. Returns the bytes written to out. Progress is guaranteed when
 * outcap > p->len, so outcap >= DOCK_PREFIX_MAX always suffices. */
size_t dock_prefix_apply(const struct dock_prefix *p, struct dock_prefix_state *st,
			 const char *in, size_t inlen, char *out, size_t outcap, size_t *consumed);

#endif
