/* The line prefixer: a pure function over caller buffers. Each line starts
 * with an optional time stamp, then the prefix. */
#ifndef DOCK_PREFIX_H
#define DOCK_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOCK_PREFIX_MAX 256	/* bytes of the rendered prefix, escapes included */
/* "2026-12-05T21:39:50.123Z ": RFC 3339, UTC, milliseconds, one space. */
#define DOCK_STAMP_LEN 25
/* Room that always fits a line's head (stamp and prefix) and one byte. */
#define DOCK_LINE_HEAD_MAX (DOCK_STAMP_LEN + DOCK_PREFIX_MAX)

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

/* One stream's position: whether the next byte starts a line, and the time
 * stamp that starts the lines begun from now on (stamp_len 0: none). A
 * zeroed state is at a line start without stamps. */
struct dock_prefix_state {
	bool mid_line;
	size_t stamp_len;
	int64_t stamp_sec;		/* the second stamp holds, so a new read in
					 * the same second rewrites only the ms */
	char stamp[DOCK_STAMP_LEN];
};

/* Writes the time sec.nsec (since the epoch, as CLOCK_REALTIME) into out as
 * RFC 3339 UTC with milliseconds and a trailing space, always exactly
 * DOCK_STAMP_LEN bytes and no NUL: "2026-12-05T21:39:50.123Z ". A time
 * before 1970 is written as 1970-01-01T00:00:00.000Z and one past the year
 * 9999 as 9999-12-31T23:59:59.999Z, so the length never changes. */
void dock_stamp_format(int64_t sec, long nsec, char *out);

/* From now on, every line st starts begins with the stamp of sec.nsec. The
 * caller reads its clock once per read from the stream and calls this
 * before rendering what it read: a line then carries the time its first
 * byte arrived, however many calls render it. */
void dock_prefix_stamp(struct dock_prefix_state *st, int64_t sec, long nsec);

/* Copies in[0..inlen) to out, writing the stamp (when set) and the prefix
 * before the first byte of every line (never after a final newline: they
 * wait for the next byte, in this call or a later one). A partial line is
 * copied at once and its rest, in later calls, gets no second head. Stops
 * when out cannot take the next piece; *consumed tells how much of in was
 * used, and the caller offers the rest again. Returns the bytes written to
 * out. Progress is guaranteed when outcap > st->stamp_len + p->len, so
 * outcap >= DOCK_LINE_HEAD_MAX always suffices. p->len may be 0 (stamps
 * only). */
size_t dock_prefix_apply(const struct dock_prefix *p, struct dock_prefix_state *st,
			 const char *in, size_t inlen, char *out, size_t outcap, size_t *consumed);

#endif
