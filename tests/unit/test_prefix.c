#include <stdlib.h>
#include <time.h>

#include "prefix.h"
#include "unit.h"

static struct dock_prefix pfx;
static char err[128];

/* Parses spec and returns the rendered prefix, or "ERR" (err then holds a
 * reason). */
static const char *render(const char *spec, bool no_color)
{
	err[0] = '\0';
	if (dock_prefix_parse(spec, no_color, &pfx, err, sizeof(err)) < 0) {
		CHECK(err[0] != '\0');
		return "ERR";
	}
	CHECK_EQ_INT(pfx.len, strlen(pfx.text));
	return pfx.text;
}

UNIT_SUITE(test_prefix_parse)
{
	static const struct {
		const char *name;
		const char *code;
	} colours[] = {
		{ "white", "37" }, { "green", "32" }, { "blue", "34" }, { "magenta", "35" },
		{ "yellow", "33" }, { "cyan", "36" }, { "red", "31" },
	};
	char spec[64], want[64];
	size_t i;

	for (i = 0; i < sizeof(colours) / sizeof(colours[0]); i++) {
		snprintf(spec, sizeof(spec), "web:%s", colours[i].name);
		snprintf(want, sizeof(want), "\033[%s;1mweb\033[0m", colours[i].code);
		CHECK_EQ_STR(render(spec, false), want);
		CHECK_EQ_INT(pfx.len, 3 + 11);
		CHECK_EQ_STR(render(spec, true), "web");
	}
	/* No byte added between the escapes and the prefix: a space is the
	 * user's to put in. */
	CHECK_EQ_STR(render("web :green", false), "\033[32;1mweb \033[0m");
	CHECK_EQ_STR(render("[web] :red", false), "\033[31;1m[web] \033[0m");
	CHECK_EQ_STR(render("web:GREEN", false), "\033[32;1mweb\033[0m");
	CHECK_EQ_STR(render("web:Cyan", false), "\033[36;1mweb\033[0m");
	CHECK_EQ_STR(render("web", false), "web");
	CHECK_EQ_STR(render("web ", false), "web ");
	CHECK_EQ_STR(render("web ", true), "web ");
	CHECK_EQ_STR(render(" ", false), " ");

	/* Colons: only a final ":letters" is a colour. */
	CHECK_EQ_STR(render("a:b c", false), "a:b c");
	CHECK_EQ_STR(render("web:", false), "web:");
	CHECK_EQ_STR(render("web: ", false), "web: ");
	CHECK_EQ_STR(render("12:30", false), "12:30");
	CHECK_EQ_STR(render("web:-", false), "web:-");
	CHECK_EQ_STR(render("web:red ", false), "web:red ");
	CHECK_EQ_STR(render("web:red1", false), "web:red1");
	CHECK_EQ_STR(render(":", false), ":");
	CHECK_EQ_STR(render("::", false), "::");
	CHECK_EQ_STR(render("a:red:blue", false), "\033[34;1ma:red\033[0m");
	CHECK_EQ_STR(render("a:purple:blue", false), "\033[34;1ma:purple\033[0m");
	CHECK_EQ_STR(render("a::blue", false), "\033[34;1ma:\033[0m");
	CHECK_EQ_STR(render("a:blue:", false), "a:blue:");
	CHECK_EQ_STR(render("a:blue: ", true), "a:blue: ");
	CHECK_EQ_STR(render("http://x:8080", false), "http://x:8080");
	CHECK_EQ_STR(render("\033[1mx\033[0m ", false), "\033[1mx\033[0m ");

	/* Errors. */
	CHECK_EQ_STR(render("web:purple", false), "ERR");
	CHECK(strstr(err, "'purple'") != NULL);
	CHECK_EQ_STR(render("web:purple", true), "ERR");
	CHECK_EQ_STR(render("a:b", false), "ERR");
	CHECK(strstr(err, "'b'") != NULL);
	CHECK_EQ_STR(render("12:30am", false), "12:30am");
	CHECK_EQ_STR(render("12:am", false), "ERR");
	CHECK_EQ_STR(render("", false), "ERR");
	CHECK_EQ_STR(render(NULL, false), "ERR");
	CHECK_EQ_STR(render(":green", false), "ERR");
	CHECK(strstr(err, "empty") != NULL);
	CHECK_EQ_STR(render("a\nb", false), "ERR");
	CHECK_EQ_STR(render("a\r:red", false), "ERR");
	CHECK_EQ_STR(render("ab\n", true), "ERR");
	{
		/* The echoed word is capped, whatever its length. */
		char spec2[400];

		memcpy(spec2, "x:", 2);
		memset(spec2 + 2, 'q', 300);
		spec2[302] = '\0';
		CHECK_EQ_STR(render(spec2, false), "ERR");
		CHECK(strlen(err) < 100);
	}
	{
		/* Length: the rendering, escapes included, must fit with its NUL. */
		char spec2[DOCK_PREFIX_MAX + 16];

		memset(spec2, 'p', sizeof(spec2));
		spec2[DOCK_PREFIX_MAX - 1] = '\0';
		CHECK_EQ_INT(strlen(render(spec2, false)), DOCK_PREFIX_MAX - 1);
		spec2[DOCK_PREFIX_MAX - 1] = 'p';
		spec2[DOCK_PREFIX_MAX] = '\0';
		CHECK_EQ_STR(render(spec2, false), "ERR");
		memcpy(spec2 + DOCK_PREFIX_MAX - 1 - 11, ":red", 5);
		CHECK_EQ_INT(strlen(render(spec2, false)), DOCK_PREFIX_MAX - 1);
		memcpy(spec2 + DOCK_PREFIX_MAX - 1 - 11, "p:red", 6);
		CHECK_EQ_STR(render(spec2, false), "ERR");
		CHECK_EQ_INT(strlen(render(spec2, true)), DOCK_PREFIX_MAX - 11);
	}
}

/* What the prefixer must produce for a whole stream: the prefix before
 * every byte that starts a line, nothing after a final newline. Written
 * byte by byte, the obviously right way. */
static size_t reference(const struct dock_prefix *p, bool *mid, const char *in, size_t n,
			char *out)
{
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		if (!*mid) {
			memcpy(out + o, p->text, p->len);
			o += p->len;
			*mid = true;
		}
		out[o++] = in[i];
		if (in[i] == '\n')
			*mid = false;
	}
	return o;
}

/* Feeds in through apply in chunks of the given sizes, with an output
 * buffer of outcap bytes drained after every call, like a stream would. */
static size_t through(const struct dock_prefix *p, struct dock_prefix_state *st,
		      const char *in, size_t n, const size_t *chunks, size_t nchunks, size_t outcap,
		      char *out)
{
	static char buf[4096 + 64];
	size_t o = 0, pos = 0, k = 0;
	bool ok = true;

	while (pos < n) {
		size_t len = chunks ? chunks[k++ % nchunks] : n - pos, consumed = 0, w;
		size_t off = 0;

		if (len > n - pos)
			len = n - pos;
		while (off < len) {
			/* A canary past outcap catches a write beyond it. */
			buf[outcap] = 'C';
			w = dock_prefix_apply(p, st, in + pos + off, len - off, buf, outcap,
					      &consumed);
			/* Checked once per stream below, not per call: a failure
			 * is as visible and the check count stays meaningful. */
			ok = ok && w <= outcap && buf[outcap] == 'C' && consumed <= len - off;
			if (w == 0 && consumed == 0) {
				CHECK(!"no progress");
				return o;
			}
			memcpy(out + o, buf, w);
			o += w;
			off += consumed;
		}
		pos += len;
	}
	CHECK(ok);
	return o;
}

UNIT_SUITE(test_prefix_apply)
{
	struct dock_prefix_state st = { false };
	char out[512], want[512];
	size_t w, consumed, n, i, j;
	const char *in;
	bool mid;

	CHECK_EQ_INT(dock_prefix_parse("web :green", false, &pfx, err, sizeof(err)), 0);

	/* Byte-exact: colour, first line included, no dangling prefix. */
	st.mid_line = false;
	in = "one\ntwo\n";
	w = dock_prefix_apply(&pfx, &st, in, strlen(in), out, sizeof(out), &consumed);
	CHECK_EQ_INT(consumed, strlen(in));
	out[w] = '\0';
	CHECK_EQ_STR(out, "\033[32;1mweb \033[0mone\n\033[32;1mweb \033[0mtwo\n");
	CHECK(!st.mid_line);
	/* The next line gets its prefix with its first byte. */
	w = dock_prefix_apply(&pfx, &st, "3", 1, out, sizeof(out), &consumed);
	out[w] = '\0';
	CHECK_EQ_STR(out, "\033[32;1mweb \033[0m3");
	CHECK(st.mid_line);
	/* A partial line's rest gets no second prefix. */
	w = dock_prefix_apply(&pfx, &st, "rd\n\n", 4, out, sizeof(out), &consumed);
	out[w] = '\0';
	CHECK_EQ_STR(out, "rd\n\033[32;1mweb \033[0m\n");
	CHECK(!st.mid_line);
	/* Nothing in, nothing out, state kept. */
	CHECK_EQ_INT(dock_prefix_apply(&pfx, &st, "", 0, out, sizeof(out), &consumed), 0);
	CHECK_EQ_INT(consumed, 0);
	CHECK(!st.mid_line);
	CHECK_EQ_INT(dock_prefix_apply(&pfx, &st, NULL, 0, NULL, 0, &consumed), 0);
	/* Bytes other than '\n' are data, CR and NUL included. */
	CHECK_EQ_INT(dock_prefix_parse("p", false, &pfx, err, sizeof(err)), 0);
	st.mid_line = false;
	w = dock_prefix_apply(&pfx, &st, "a\r\0b\n", 5, out, sizeof(out), &consumed);
	CHECK_EQ_INT(w, 6);
	CHECK(memcmp(out, "pa\r\0b\n", 6) == 0);

	/* Tiny output buffers: a prefix is written only with room for it and
	 * one byte more; mid-line, one byte of room is progress. */
	CHECK_EQ_INT(dock_prefix_parse("[x] ", true, &pfx, err, sizeof(err)), 0);
	st.mid_line = false;
	CHECK_EQ_INT(dock_prefix_apply(&pfx, &st, "ab\n", 3, out, 4, &consumed), 0);
	CHECK_EQ_INT(consumed, 0);
	CHECK(!st.mid_line);
	CHECK_EQ_INT(dock_prefix_apply(&pfx, &st, "ab\n", 3, out, 0, &consumed), 0);
	CHECK_EQ_INT(consumed, 0);
	w = dock_prefix_apply(&pfx, &st, "ab\n", 3, out, 5, &consumed);
	CHECK_EQ_INT(w, 5);
	CHECK_EQ_INT(consumed, 1);
	CHECK(memcmp(out, "[x] a", 5) == 0);
	CHECK(st.mid_line);
	w = dock_prefix_apply(&pfx, &st, "b\n", 2, out, 1, &consumed);
	CHECK_EQ_INT(w, 1);
	CHECK_EQ_INT(consumed, 1);
	CHECK_EQ_INT(out[0], 'b');
	w = dock_prefix_apply(&pfx, &st, "\nc", 2, out, 1, &consumed);
	CHECK_EQ_INT(w, 1);
	CHECK_EQ_INT(consumed, 1);
	CHECK(!st.mid_line);
	/* Room for the newline and the next prefix, but not the byte after. */
	w = dock_prefix_apply(&pfx, &st, "\n\nc", 3, out, 5, &consumed);
	CHECK_EQ_INT(w, 5);
	CHECK_EQ_INT(consumed, 1);
	CHECK(memcmp(out, "[x] \n", 5) == 0);
	/* A full-size buffer always makes progress with the longest prefix. */
	{
		char spec[DOCK_PREFIX_MAX];
		static char big[DOCK_PREFIX_MAX];

		memset(spec, 'p', sizeof(spec));
		spec[DOCK_PREFIX_MAX - 1] = '\0';
		CHECK_EQ_INT(dock_prefix_parse(spec, false, &pfx, err, sizeof(err)), 0);
		st.mid_line = false;
		w = dock_prefix_apply(&pfx, &st, "xy", 2, big, sizeof(big), &consumed);
		CHECK_EQ_INT(w, DOCK_PREFIX_MAX);
		CHECK_EQ_INT(consumed, 1);
	}

	/* Every split point of a stream gives the same bytes as one pass. */
	CHECK_EQ_INT(dock_prefix_parse("> :red", false, &pfx, err, sizeof(err)), 0);
	in = "first\n\nthird line\nno newline at end";
	n = strlen(in);
	mid = false;
	w = reference(&pfx, &mid, in, n, want);
	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			size_t chunks[3] = { i, j - i, n - j }, got;
			char buf[512];

			st.mid_line = false;
			got = through(&pfx, &st, in, n, chunks, 3, 256, buf);
			CHECK_EQ_INT(got, w);
			CHECK(memcmp(buf, want, w) == 0);
			CHECK(st.mid_line == mid);
		}
	}
}

/* Random streams of short lines, random chunking and random output sizes
 * (down to the least that progresses) against the byte-by-byte reference. */
UNIT_SUITE(test_prefix_apply_random)
{
	static char in[2048], want[2048 * 40], got[2048 * 40];
	static const char *specs[] = { "p", "web :green", "[svc] ", ":x:yellow", "12:30 " };
	unsigned seed = 12345;
	int round, failures_before = unit_failures;

	for (round = 0; round < 3000 && unit_failures == failures_before; round++) {
		struct dock_prefix_state st = { false };
		size_t n = (size_t)rand_r(&seed) % sizeof(in), i, chunks[8], w, g, outcap;
		bool mid = false;
		int density = 1 + rand_r(&seed) % 40;

		CHECK_EQ_INT(dock_prefix_parse(specs[round % 5], round % 3 == 0, &pfx, err,
					       sizeof(err)), 0);
		for (i = 0; i < n; i++)
			in[i] = rand_r(&seed) % density == 0 ? '\n' : (char)('a' + rand_r(&seed) % 26);
		for (i = 0; i < 8; i++)
			chunks[i] = 1 + (size_t)rand_r(&seed) % (rand_r(&seed) % 2 ? 7 : 300);
		outcap = pfx.len + 1 + (size_t)rand_r(&seed) % (rand_r(&seed) % 2 ? 4 : 4000);
		if (outcap > 4096)
			outcap = 4096;
		w = reference(&pfx, &mid, in, n, want);
		g = through(&pfx, &st, in, n, chunks, 8, outcap, got);
		CHECK_EQ_INT(g, w);
		CHECK(memcmp(got, want, w) == 0);
		CHECK(st.mid_line == mid);
	}
}

/* The newline scan works in 16-byte blocks: a newline at each position of
 * a few blocks, with the buffer starting at each alignment. */
UNIT_SUITE(test_prefix_apply_scan)
{
	static char in[80], got[512], want[512];
	size_t k, a, w, g, consumed;
	bool mid, ok = true;

	CHECK_EQ_INT(dock_prefix_parse("p|", false, &pfx, err, sizeof(err)), 0);
	for (a = 0; a < 16; a++) {
		for (k = 0; k < 64; k++) {
			struct dock_prefix_state st = { false };

			memset(in, 'a', sizeof(in));
			in[a + k] = '\n';
			mid = false;
			w = reference(&pfx, &mid, in + a, 64, want);
			g = dock_prefix_apply(&pfx, &st, in + a, 64, got, sizeof(got), &consumed);
			ok = ok && g == w && consumed == 64 && memcmp(got, want, w) == 0 &&
			     st.mid_line == mid;
		}
	}
	CHECK(ok);
}

/* The libc's own rendering of a time, as the reference. */
static void reference_stamp(int64_t sec, long nsec, char *out)
{
	time_t t = (time_t)sec;
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03ldZ ", nsec / 1000000);
}

UNIT_SUITE(test_prefix_stamp)
{
	static const int64_t fixed[] = {
		0, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800, 1709164800,
		4107542400LL /* 2100-03-01 */, 1798761599, 1796506790 /* 2026-12-05 */,
		253402300799LL,
	};
	char got[DOCK_STAMP_LEN + 1], want[32];
	unsigned seed = 777;
	size_t i;
	bool ok = true;

	got[DOCK_STAMP_LEN] = '\0';
	dock_stamp_format(1796506790, 123456789, got);
	CHECK_EQ_STR(got, "2026-12-05T21:39:50.123Z ");
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		dock_stamp_format(fixed[i], 999999999, got);
		reference_stamp(fixed[i], 999999999, want);
		CHECK_EQ_STR(got, want);
	}
	for (i = 0; i < 200000; i++) {
		int64_t sec = ((int64_t)rand_r(&seed) << 16 ^ rand_r(&seed)) % 253402300800LL;
		long nsec = rand_r(&seed) % 1000000000L;

		dock_stamp_format(sec, nsec, got);
		reference_stamp(sec, nsec, want);
		ok = ok && strcmp(got, want) == 0;
	}
	CHECK(ok);
	/* Out of range: clamped, never longer or shorter. */
	dock_stamp_format(-1, 5, got);
	CHECK_EQ_STR(got, "1970-01-01T00:00:00.000Z ");
	dock_stamp_format(253402300800LL, 0, got);
	CHECK_EQ_STR(got, "9999-12-31T23:59:59.999Z ");
	dock_stamp_format(INT64_MAX, 0, got);
	CHECK_EQ_STR(got, "9999-12-31T23:59:59.999Z ");
	dock_stamp_format(5, -1, got);
	CHECK_EQ_STR(got, "1970-01-01T00:00:05.000Z ");
	dock_stamp_format(5, 1000000000, got);
	CHECK_EQ_STR(got, "1970-01-01T00:00:05.000Z ");

	/* The state's cached second: a later read in the same second changes
	 * only the milliseconds, another second the whole stamp. */
	{
		struct dock_prefix_state st = { false };

		dock_prefix_stamp(&st, 1796506790, 1000000);
		CHECK_EQ_INT(st.stamp_len, DOCK_STAMP_LEN);
		CHECK(memcmp(st.stamp, "2026-12-05T21:39:50.001Z ", DOCK_STAMP_LEN) == 0);
		dock_prefix_stamp(&st, 1796506790, 999000000);
		CHECK(memcmp(st.stamp, "2026-12-05T21:39:50.999Z ", DOCK_STAMP_LEN) == 0);
		dock_prefix_stamp(&st, 1796506791, 0);
		CHECK(memcmp(st.stamp, "2026-12-05T21:39:51.000Z ", DOCK_STAMP_LEN) == 0);
		dock_prefix_stamp(&st, 253402300800LL, 0);
		dock_prefix_stamp(&st, 253402300800LL, 0);
		CHECK(memcmp(st.stamp, "9999-12-31T23:59:59.999Z ", DOCK_STAMP_LEN) == 0);
	}
}

/* Stamps go before the prefix, a line carries the stamp that was current
 * when its first byte was rendered, and a line's rest gets none. */
UNIT_SUITE(test_prefix_apply_stamped)
{
	struct dock_prefix_state st = { false };
	struct dock_prefix none = { .len = 0 };
	char out[512];
	size_t w, consumed;

	CHECK_EQ_INT(dock_prefix_parse("web :green", false, &pfx, err, sizeof(err)), 0);
	dock_prefix_stamp(&st, 1796506790, 123000000);
	w = dock_prefix_apply(&pfx, &st, "one\ntw", 7, out, sizeof(out), &consumed);
	out[w] = '\0';
	CHECK_EQ_STR(out, "2026-12-05T21:39:50.123Z \033[32;1mweb \033[0mone\n"
			  "2026-12-05T21:39:50.123Z \033[32;1mweb \033[0mtw");
	/* The next read, a second later, ends the partial line: no stamp for
	 * it; the line after carries the new time. */
	dock_prefix_stamp(&st, 1796506791, 0);
	w = dock_prefix_apply(&pfx, &st, "o\nthree\n", 8, out, sizeof(out), &consumed);
	out[w] = '\0';
	CHECK_EQ_STR(out, "o\n2026-12-05T21:39:51.000Z \033[32;1mweb \033[0mthree\n");

	/* Stamps alone (no prefix). */
	st.mid_line = false;
	w = dock_prefix_apply(&none, &st, "a\n\nb", 5, out, sizeof(out), &consumed);
	out[w] = '\0';
	CHECK_EQ_STR(out, "2026-12-05T21:39:51.000Z a\n2026-12-05T21:39:51.000Z \n"
			  "2026-12-05T21:39:51.000Z b");

	/* The head is written only with room for it and one byte more. */
	CHECK_EQ_INT(dock_prefix_parse("p ", false, &pfx, err, sizeof(err)), 0);
	st.mid_line = false;
	CHECK_EQ_INT(dock_prefix_apply(&pfx, &st, "xy", 2, out, DOCK_STAMP_LEN + 2, &consumed), 0);
	CHECK_EQ_INT(consumed, 0);
	w = dock_prefix_apply(&pfx, &st, "xy", 2, out, DOCK_STAMP_LEN + 3, &consumed);
	CHECK_EQ_INT(w, DOCK_STAMP_LEN + 3);
	CHECK_EQ_INT(consumed, 1);
	/* The longest head always fits a buffer of DOCK_LINE_HEAD_MAX. */
	{
		char spec[DOCK_PREFIX_MAX];
		static char big[DOCK_LINE_HEAD_MAX];

		memset(spec, 'p', sizeof(spec));
		spec[DOCK_PREFIX_MAX - 1] = '\0';
		CHECK_EQ_INT(dock_prefix_parse(spec, false, &pfx, err, sizeof(err)), 0);
		st.mid_line = false;
		w = dock_prefix_apply(&pfx, &st, "xy", 2, big, sizeof(big), &consumed);
		CHECK_EQ_INT(w, DOCK_LINE_HEAD_MAX);
		CHECK_EQ_INT(consumed, 1);
	}
}
