#include "procfs.h"

#include <string.h>

static int parse_long(const char **p, const char *end, long *out)
{
	const char *s = *p;
	long v = 0;
	int neg = 0, digits = 0;

	if (s < end && *s == '-') {
		neg = 1;
		s++;
	}
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > 1L << 40)
			return -1;
		v = v * 10 + (*s - '0');
		s++;
		digits++;
	}
	if (digits == 0)
		return -1;
	*out = neg ? -v : v;
	*p = s;
	return 0;
}

int dock_procfs_parse_stat(const char *buf, size_t len, struct dock_proc_stat *out)
{
	const char *end = buf + len, *p = buf, *close = NULL, *q;
	long v;

	if (parse_long(&p, end, &v) < 0 || v <= 0)
		return -1;
	out->pid = (pid_t)v;
	for (q = p; q < end; q++)
		if (*q == ')')
			close = q;
	if (close == NULL || end - close < 4 || close[1] != ' ')
		return -1;
	p = close + 2;
	out->state = *p++;
	if (p >= end || *p++ != ' ' || parse_long(&p, end, &v) < 0)
		return -1;
	out->ppid = (pid_t)v;
	if (p >= end || *p++ != ' ' || parse_long(&p, end, &v) < 0)
		return -1;
	out->pgrp = (pid_t)v;
	return 0;
}

static int parse_hex64(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && *p != '\n'; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -1;
		if (++digits > 16)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (digits == 0)
		return -1;
	*out = v;
	return 0;
}

int dock_procfs_parse_sigmasks(const char *buf, size_t len, struct dock_proc_sigmasks *out)
{
	static const char *keys[] = { "SigBlk:", "SigIgn:", "SigCgt:" };
	uint64_t *dst[] = { &out->blocked, &out->ignored, &out->caught };
	const char *p = buf, *end = buf + len;
	int found = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t i;

		for (i = 0; i < 3; i++) {
			size_t k = strlen(keys[i]);

			if ((size_t)(eol - p) > k && memcmp(p, keys[i], k) == 0) {
				if (parse_hex64(p + k, eol, dst[i]) < 0)
					return -1;
				found |= 1 << i;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return found == 7 ? 0 : -1;
}
