#include "rotate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAMP_DIGITS 14

uint64_t dock_rotate_stamp(const struct tm *tm)
{
	uint64_t s = (uint64_t)(tm->tm_year + 1900);

	s = s * 100 + (uint64_t)(tm->tm_mon + 1);
	s = s * 100 + (uint64_t)tm->tm_mday;
	s = s * 100 + (uint64_t)tm->tm_hour;
	s = s * 100 + (uint64_t)tm->tm_min;
	s = s * 100 + (uint64_t)tm->tm_sec;
	return s;
}

int dock_rotate_name(char *buf, size_t len, const char *base, const struct dock_archive_key *key,
		     enum dock_archive_kind kind)
{
	char seq[8] = "";
	const char *dot = "", *ext = "";
	int r;

	if (key->stamp > 99999999999999ULL || key->seq > DOCK_ROTATE_SEQ_MAX)
		return -1;
	if (key->seq)
		snprintf(seq, sizeof(seq), "_%02u", key->seq);
	switch (kind) {
	case DOCK_ARCHIVE_GZ:
		ext = ".gz";
		break;
	case DOCK_ARCHIVE_PLAIN:
		break;
	case DOCK_ARCHIVE_RAW:
		/* Hidden, so that a shipper globbing BASE_* never picks up
		 * content that is about to become an archive. */
		dot = ".";
		ext = ".raw";
		break;
	case DOCK_ARCHIVE_TMP:
		ext = ".gz.tmp";
		break;
	}
	r = snprintf(buf, len, "%s%s_%014llu%s%s", dot, base, (unsigned long long)key->stamp, seq, ext);
	if (r < 0 || (size_t)r >= len)
		return -1;
	return r;
}

/* Reads exactly n decimal digits. */
static bool digits(const char *s, int n, uint64_t *out)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Rejects stamps no clock could produce, so that a file that merely looks
 * similar (BASE_99999999999999) is not deleted as an old archive. */
static bool plausible_stamp(uint64_t s)
{
	unsigned sec = s % 100, min = s / 100 % 100, hour = s / 10000 % 100;
	unsigned day = s / 1000000 % 100, mon = s / 100000000 % 100;

	return sec <= 60 && min <= 59 && hour <= 23 && day >= 1 && day <= 31 && mon >= 1 && mon <= 12;
}

int dock_rotate_parse(const char *base, const char *name, struct dock_archive_key *key,
		      enum dock_archive_kind *kind)
{
	size_t blen = strlen(base);
	bool hidden = false;
	uint64_t stamp, seq = 0;
	const char *p = name;

	if (blen == 0)
		return -1;
	if (*p == '.' && strncmp(p + 1, base, blen) == 0 && p[1 + blen] == '_') {
		hidden = true;
		p++;
	} else if (strncmp(p, base, blen) != 0 || p[blen] != '_') {
		return -1;
	}
	p += blen + 1;
	if (!digits(p, STAMP_DIGITS, &stamp) || !plausible_stamp(stamp))
		return -1;
	p += STAMP_DIGITS;
	if (p[0] == '_') {
		/* Exactly two digits, 01-99: "_00" or "_7" is never written. */
		if (!digits(p + 1, 2, &seq) || seq == 0)
			return -1;
		p += 3;
	}
	if (hidden) {
		if (strcmp(p, ".raw") != 0)
			return -1;
		*kind = DOCK_ARCHIVE_RAW;
	} else if (strcmp(p, ".gz") == 0) {
		*kind = DOCK_ARCHIVE_GZ;
	} else if (strcmp(p, "") == 0) {
		*kind = DOCK_ARCHIVE_PLAIN;
	} else if (strcmp(p, ".gz.tmp") == 0) {
		*kind = DOCK_ARCHIVE_TMP;
	} else {
		return -1;
	}
	key->stamp = stamp;
	key->seq = (unsigned)seq;
	return 0;
}

int dock_rotate_key_cmp(const struct dock_archive_key *a, const struct dock_archive_key *b)
{
	if (a->stamp != b->stamp)
		return a->stamp < b->stamp ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

bool dock_rotate_next_key(const struct dock_archive_key *last, uint64_t now_stamp,
			  struct dock_archive_key *out)
{
	if (last->stamp == 0 || now_stamp > last->stamp) {
		out->stamp = now_stamp;
		out->seq = 0;
		return true;
	}
	if (last->seq < DOCK_ROTATE_SEQ_MAX) {
		out->stamp = last->stamp;
		out->seq = last->seq + 1;
		return true;
	}
	if (now_stamp == last->stamp)
		return false;
	/* The clock went back further than 99 rotations can bridge: name by
	 * the clock again rather than stop rotating until it catches up. */
	out->stamp = now_stamp;
	out->seq = 0;
	return true;
}

static int cmp_keys(const void *a, const void *b)
{
	return dock_rotate_key_cmp(a, b);
}

size_t dock_rotate_select(struct dock_archive_key *keys, size_t *n, size_t keep)
{
	size_t i, out = 0;

	if (*n == 0)
		return 0;
	qsort(keys, *n, sizeof(keys[0]), cmp_keys);
	for (i = 0; i < *n; i++)
		if (out == 0 || dock_rotate_key_cmp(&keys[out - 1], &keys[i]) != 0)
			keys[out++] = keys[i];
	*n = out;
	return out > keep ? out - keep : 0;
}
