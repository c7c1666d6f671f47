/* The line prefixer for --stdout-prefix, --stderr-prefix and
 * --log-timestamps. Pure: it reads and writes only the caller's buffers, so
 * the stream code decides when to read, write and look at the clock. */
#include "prefix.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const struct {
	const char *name;
	const char *sgr;	/* the "n" of ESC[n;1m */
} colours[] = {
	{ "white", "37" }, { "green", "32" }, { "blue", "34" }, { "magenta", "35" },
	{ "yellow", "33" }, { "cyan", "36" }, { "red", "31" },
};

static int fail(char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
	return -1;
}

static bool all_letters(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

int dock_prefix_parse(const char *spec, bool no_color, struct dock_prefix *out, char *err,
		      size_t errlen)
{
	const char *colon, *sgr = NULL;
	size_t plen, need, i;

	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (spec == NULL || spec[0] == '\0')
		return fail(err, errlen, "empty prefix");

	/* Only a final ":letters" is a colour: "a:b c", "12:30" and "web:" keep
	 * their colon, so a prefix may hold one without any escaping. */
	plen = strlen(spec);
	colon = strrchr(spec, ':');
	if (colon != NULL && all_letters(colon + 1)) {
		for (i = 0; i < sizeof(colours) / sizeof(colours[0]); i++)
			if (strcasecmp(colon + 1, colours[i].name) == 0)
				break;
		if (i == sizeof(colours) / sizeof(colours[0])) {
			/* The word is the user's, of any length: cap its echo. */
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "unknown colour '%.32s' (white, green, blue, "
					 "magenta, yellow, cyan, red)", colon + 1);
			return -1;
		}
		sgr = colours[i].sgr;
		plen = (size_t)(colon - spec);
		if (plen == 0)
			return fail(err, errlen, "empty prefix");
	}
	/* A newline in the prefix would start lines of its own, which a
	 * line-based reader (a datagram per line, rotation) would take for
	 * output of the command. */
	if (memchr(spec, '\n', plen) != NULL || memchr(spec, '\r', plen) != NULL)
		return fail(err, errlen, "a prefix cannot hold a line break");

	if (no_color)
		sgr = NULL;
	/* ESC [ nn ; 1 m  PREFIX  ESC [ 0 m, no space added on either side:
	 * "web :green" gives a separating space, "web:green" none. */
	need = sgr ? 2 + strlen(sgr) + 3 + plen + 4 : plen;
	if (need >= sizeof(out->text))
		return fail(err, errlen, "prefix too long");
	if (sgr != NULL) {
		int n = snprintf(out->text, sizeof(out->text), "\033[%s;1m%.*s\033[0m", sgr,
				 (int)plen, spec);

		out->len = (size_t)n;
	} else {
		memcpy(out->text, spec, plen);
		out->text[plen] = '\0';
		out->len = plen;
	}
	return 0;
}

/* memchr(s, '\n', n). musl's memchr is portable C, a word at a time; with
 * SSE2 (which every x86-64 has) the static build's prefixer ran 1.4 times
 * as fast on 100-byte lines (7.6 against 5.3 GB/s) and twice on 1000-byte
 * ones. Only whole 16-byte blocks inside s[0..n) are loaded, so nothing is
 * read past the caller's buffer; the tail goes to memchr. */
static const char *find_newline(const char *s, size_t n)
{
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n');

	while (n >= 16) {
		int hits = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const void *)s), nl));

		if (hits != 0)
			return s + __builtin_ctz((unsigned)hits);
		s += 16;
		n -= 16;
	}
#endif
	return memchr(s, '\n', n);
}

static void put2(char *at, unsigned v)
{
	at[0] = (char)('0' + v / 10);
	at[1] = (char)('0' + v % 10);
}

static void put_ms(char *stamp, long nsec)
{
	unsigned ms = (unsigned)(nsec / 1000000);

	stamp[20] = (char)('0' + ms / 100);
	put2(stamp + 21, ms % 100);
}

/* 9999-12-31T23:59:59 UTC, the last second four year digits can show. */
#define STAMP_SEC_MAX 253402300799LL

void dock_stamp_format(int64_t sec, long nsec, char *out)
{
	int64_t days, z, era;
	unsigned sod, doe, yoe, doy, mp, day, month;
	long year;

	if (sec < 0) {
		sec = 0;
		nsec = 0;
	} else if (sec > STAMP_SEC_MAX) {
		sec = STAMP_SEC_MAX;
		nsec = 999999999;
	}
	if (nsec < 0 || nsec > 999999999)
		nsec = 0;
	days = sec / 86400;
	sod = (unsigned)(sec % 86400);
	/* Days to a civil date (the proleptic Gregorian calendar, eras of 400
	 * years starting on March 1st), as Howard Hinnant's "chrono-compatible
	 * low-level date algorithms" describe it: no table, no time zone, no
	 * libc state, so the static binary needs no zoneinfo and no lock. */
	z = days + 719468;
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	day = doy - (153 * mp + 2) / 5 + 1;
	month = mp < 10 ? mp + 3 : mp - 9;
	year = (long)yoe + (long)era * 400 + (month <= 2);

	put2(out, (unsigned)(year / 100));
	put2(out + 2, (unsigned)(year % 100));
	out[4] = '-';
	put2(out + 5, month);
	out[7] = '-';
	put2(out + 8, day);
	out[10] = 'T';
	put2(out + 11, sod / 3600);
	out[13] = ':';
	put2(out + 14, sod / 60 % 60);
	out[16] = ':';
	put2(out + 17, sod % 60);
	out[19] = '.';
	put_ms(out, nsec);
	out[23] = 'Z';
	out[24] = ' ';
}

void dock_prefix_stamp(struct dock_prefix_state *st, int64_t sec, long nsec)
{
	/* Reads come far more often than seconds change: most need only their
	 * milliseconds written anew. */
	if (st->stamp_len == DOCK_STAMP_LEN && st->stamp_sec == sec && sec >= 0 &&
	    sec <= STAMP_SEC_MAX && nsec >= 0 && nsec <= 999999999) {
		put_ms(st->stamp, nsec);
		return;
	}
	dock_stamp_format(sec, nsec, st->stamp);
	st->stamp_sec = sec;
	st->stamp_len = DOCK_STAMP_LEN;
}

size_t dock_prefix_apply(const struct dock_prefix *p, struct dock_prefix_state *st,
			 const char *in, size_t inlen, char *out, size_t outcap, size_t *consumed)
{
	size_t used = 0, pos = 0;

	/* Runs of whole lines (or the rest of a partial one) are found with a
	 * vector scan and copied with memcpy: this sits between the command
	 * and its log, and a byte loop would cost several times cat's
	 * throughput. */
	while (pos < inlen) {
		size_t room, run;
		const char *nl;

		if (!st->mid_line) {
			/* The head goes out only with the first byte of its line
			 * beside it: written at a final '\n' it would dangle at the
			 * end of the output (a known bug of the Go dock that dock
			 * replaces). */
			if (outcap - used < st->stamp_len + p->len + 1)
				break;
			memcpy(out + used, st->stamp, st->stamp_len);
			used += st->stamp_len;
			memcpy(out + used, p->text, p->len);
			used += p->len;
			st->mid_line = true;
		}
		room = outcap - used;
		if (room == 0)
			break;
		run = inlen - pos < room ? inlen - pos : room;
		nl = find_newline(in + pos, run);
		if (nl != NULL) {
			run = (size_t)(nl - (in + pos)) + 1;
			st->mid_line = false;
		}
		memcpy(out + used, in + pos, run);
		used += run;
		pos += run;
	}
	*consumed = pos;
	return used;
}
