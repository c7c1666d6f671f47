/* dock_prefix_parse on any spec, and dock_prefix_apply on any stream cut
 * into any chunks through any output size: the output must be the input
 * with the prefix before the first byte of every line and nowhere else. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

/* Input layout: [spec length][flags][chunk seed][spec bytes][stream bytes].
 * flags bit 0: no_color; bits 1-7: how much room past the least that
 * progresses the output buffer has. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dock_prefix p;
	struct dock_prefix_state st = { false };
	char spec[64], err[128], *out, *buf, *stripped;
	size_t speclen, n, pos = 0, o = 0, outcap, i, s;
	const char *in;
	uint32_t rng;
	bool mid;

	if (size < 3)
		return 0;
	speclen = data[0] % sizeof(spec);
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
	outcap = p.len + 1 + (size_t)(data[1] >> 1);
	/* An exact-size heap buffer, so ASan sees any write past outcap. */
	buf = malloc(outcap);
	out = malloc(n * (p.len + 1) + 1);
	rng = data[2] * 2654435761u + 1;

	while (pos < n) {
		size_t len, consumed, w, off = 0;

		rng = rng * 1103515245u + 12345u;
		len = 1 + (rng >> 16) % (rng & 0x100 ? 8 : 512);
		if (len > n - pos)
			len = n - pos;
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

	/* Take the prefixes out again, walking the output as a reader of lines
	 * would: at a line start the prefix must be there, and nowhere else. */
	stripped = malloc(n + 1);
	mid = false;
	for (i = 0, s = 0; i < o;) {
		if (!mid) {
			ASSERT(o - i > p.len);	/* never a prefix without a byte after it */
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
	free(out);
	free(buf);
	return 0;
}
