/* dock_prefix_parse on any spec, and dock_prefix_apply on any stream cut
 * into any chunks through any output size: the output must be the input
 * with the head (the stamp of the chunk that brought the line's first byte,
 * when stamps are on, then the prefix) before the first byte of every line
 * and nowhere else. Also dock_stamp_format on any time against the libc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

/* Any time: a fixed length, and the libc's rendering within range. */
static void check_stamp(const uint8_t *data, size_t size)
{
	char got[DOCK_STAMP_LEN], want[64];
	int64_t sec = 0;
	long nsec;
	size_t i;

	for (i = 0; i < 8 && i < size; i++)
		sec = (int64_t)((uint64_t)sec << 8 | data[i]);
	nsec = size > 8 ? (long)(data[8] * 3906250L + (size > 9 ? data[9] : 0)) : 0;
	dock_stamp_format(sec, nsec, got);
	ASSERT(got[4] == '-' && got[7] == '-' && got[10] == 'T' && got[13] == ':' &&
	       got[16] == ':' && got[19] == '.' && got[23] == 'Z' && got[24] == ' ');
	if (sec >= 0 && sec <= 253402300799LL) {
		time_t t = (time_t)sec;
		struct tm tm;
		size_t n;

		gmtime_r(&t, &tm);
		n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + n, sizeof(want) - n, ".%03ldZ ", nsec / 1000000);
		ASSERT(memcmp(got, want, DOCK_STAMP_LEN) == 0);
	}
}

/* Input layout: [spec length][flags][chunk seed][spec bytes][stream bytes].
 * spec length bit 7: each chunk (a read) gets a new stamp; flags bit 0:
 * no_color; bits 1-7: how much room past the least that progresses the
 * output buffer has. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dock_prefix p;
	struct dock_prefix_state st = { false };
	char spec[64], err[128], *out, *buf, *stripped, (*stamps)[DOCK_STAMP_LEN];
	size_t speclen, n, pos = 0, o = 0, outcap, i, s, head, nchunks = 0, *chunk_end, c;
	const char *in;
	uint32_t rng;
	int64_t now = 1796506790;
	bool mid, stamped;

	check_stamp(data, size);
	if (size < 3)
		return 0;
	stamped = data[0] & 0x80;
	speclen = (data[0] & 0x7f) % sizeof(spec);
	if (speclen > size - 3)
		speclen = size - 3;
	memcpy(spec, data + 3, speclen);
	spec[speclen] = '\0';
	if (dock_prefix_parse(spec, data[1] & 1, &p, err, sizeof(err)) < 0) {
		ASSERT(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		/* Still exercise the stream with a prefix of its own. */
		ASSERT(dock_prefix_parse("> :red", false, &p, err, sizeof(err)) == 0);
	} else {
		ASSERT(p.len > 0 && p.len < DOCK_PREFIX_MAX && p.text[p.len] == '\0');
		ASSERT(strlen(p.text) == p.len);
		ASSERT(memchr(p.text, '\n', p.len) == NULL);
		/* Without colour, an escape in the output is one the user wrote. */
		ASSERT(!(data[1] & 1) ||
		       (memchr(p.text, '\033', p.len) != NULL) == (strchr(spec, '\033') != NULL));
	}

	in = (const char *)data + 3 + speclen;
	n = size - 3 - speclen;
	head = p.len + (stamped ? DOCK_STAMP_LEN : 0);
	outcap = head + 1 + (size_t)(data[1] >> 1);
	/* An exact-size heap buffer, so ASan sees any write past outcap. */
	buf = malloc(outcap);
	out = malloc(n * (head + 1) + 1);
	stamps = malloc((n + 1) * sizeof(*stamps));
	chunk_end = malloc((n + 1) * sizeof(*chunk_end));
	rng = data[2] * 2654435761u + 1;

	while (pos < n) {
		size_t len, consumed, w, off = 0;

		rng = rng * 1103515245u + 12345u;
		len = 1 + (rng >> 16) % (rng & 0x100 ? 8 : 512);
		if (len > n - pos)
			len = n - pos;
		if (stamped) {
			/* A read: the clock moves on by 0 to ~2 s. */
			now += rng >> 31;
			dock_prefix_stamp(&st, now, (long)(rng % 1000) * 1000000L);
			memcpy(stamps[nchunks], st.stamp, DOCK_STAMP_LEN);
		}
		chunk_end[nchunks++] = pos + len;
		while (off < len) {
			w = dock_prefix_apply(&p, &st, in + pos + off, len - off, buf, outcap, &consumed);
			ASSERT(w <= outcap && consumed <= len - off);
			ASSERT(w > 0 && consumed > 0);
			memcpy(out + o, buf, w);
			o += w;
			off += consumed;
		}
		pos += len;
	}

	/* Take the heads out again, walking the output as a reader of lines
	 * would: at a line start the head must be there, and nowhere else; its
	 * stamp is that of the chunk holding the line's first byte. */
	stripped = malloc(n + 1);
	mid = false;
	for (i = 0, s = 0, c = 0; i < o;) {
		if (!mid) {
			ASSERT(o - i > head);	/* never a head without a byte after it */
			while (chunk_end[c] <= s)
				c++;
			if (stamped) {
				ASSERT(memcmp(out + i, stamps[c], DOCK_STAMP_LEN) == 0);
				i += DOCK_STAMP_LEN;
			}
			ASSERT(memcmp(out + i, p.text, p.len) == 0);
			i += p.len;
			mid = true;
		}
		ASSERT(s < n);
		stripped[s] = out[i++];
		if (stripped[s++] == '\n')
			mid = false;
	}
	ASSERT(s == n && memcmp(stripped, in, n) == 0);
	ASSERT(st.mid_line == (n > 0 && in[n - 1] != '\n'));
	free(stripped);
	free(stamps);
	free(chunk_end);
	free(out);
	free(buf);
	return 0;
}
