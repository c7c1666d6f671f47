#include "procfs.h"

#include <limits.h>
#include <stdlib.h>
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
		/* stop before v * 10 + 9 overflows, whatever the width of
		 * long (32 bits on armhf and i386) */
		if (v > (LONG_MAX - 9) / 10)
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

	/* Bounded to what a pid_t holds: a negative ppid or pgrp handed on to
	 * kill() would name a process group. */
	if (parse_long(&p, end, &v) < 0 || v <= 0 || v > INT32_MAX)
		return -1;
	out->pid = (pid_t)v;
	for (q = p; q < end; q++)
		if (*q == ')')
			close = q;
	if (close == NULL || end - close < 4 || close[1] != ' ')
		return -1;
	p = close + 2;
	out->state = *p++;
	if (p >= end || *p++ != ' ' || parse_long(&p, end, &v) < 0 || v < 0 || v > INT32_MAX)
		return -1;
	out->ppid = (pid_t)v;
	if (p >= end || *p++ != ' ' || parse_long(&p, end, &v) < 0 || v < 0 || v > INT32_MAX)
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

/* The next run of non-blank characters on a line, or NULL at its end. */
static const char *next_field(const char **p, const char *end, size_t *flen)
{
	const char *s = *p, *start;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	start = s;
	while (s < end && *s != ' ' && *s != '\t' && *s != '\n')
		s++;
	*p = s;
	*flen = (size_t)(s - start);
	return *flen ? start : NULL;
}

static int hex_value(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 16)
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int dec_value(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 19)	/* 19 digits cannot overflow 64 bits */
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int dock_procfs_parse_net_sock(const char *line, size_t len, struct dock_proc_net_sock *out)
{
	const char *p = line, *end = line + len, *f, *colon;
	size_t flen, addrlen, i;
	uint64_t v;

	/* "sl": a slot number and a colon; the header line has "sl" alone. */
	f = next_field(&p, end, &flen);
	if (f == NULL || flen < 2 || f[flen - 1] != ':' || dec_value(f, flen - 1, &v) < 0)
		return -1;
	/* local_address: hex address, ':', four hex digits of port. */
	f = next_field(&p, end, &flen);
	if (f == NULL || (colon = memchr(f, ':', flen)) == NULL)
		return -1;
	addrlen = (size_t)(colon - f);
	if ((addrlen != 8 && addrlen != 32) || flen - addrlen - 1 != 4)
		return -1;
	for (i = 0; i < addrlen; i += 16) {
		size_t chunk = addrlen - i < 16 ? addrlen - i : 16;

		if (hex_value(f + i, chunk, &v) < 0)
			return -1;
	}
	if (hex_value(colon + 1, 4, &v) < 0)
		return -1;
	out->local_port = (uint16_t)v;
	/* rem_address: only its shape matters here. */
	f = next_field(&p, end, &flen);
	if (f == NULL || memchr(f, ':', flen) == NULL)
		return -1;
	f = next_field(&p, end, &flen);
	if (f == NULL || flen > 2 || hex_value(f, flen, &v) < 0)
		return -1;
	out->state = (uint8_t)v;
	/* tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout */
	for (i = 0; i < 5; i++)
		if (next_field(&p, end, &flen) == NULL)
			return -1;
	f = next_field(&p, end, &flen);
	if (f == NULL || dec_value(f, flen, &out->inode) < 0)
		return -1;
	return 0;
}

int dock_procfs_parse_socket_link(const char *buf, size_t len, uint64_t *inode)
{
	static const char prefix[] = "socket:[";
	size_t plen = sizeof(prefix) - 1;

	if (len < plen + 2 || memcmp(buf, prefix, plen) != 0 || buf[len - 1] != ']')
		return -1;
	return dec_value(buf + plen, len - plen - 1, inode);
}

static int link_by_pid(const void *a, const void *b)
{
	const struct dock_proc_link *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

long dock_procfs_find_link(const struct dock_proc_link *tab, size_t n, pid_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tab[mid].pid == pid)
			return (long)mid;
		if (tab[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

enum { LINK_UNKNOWN, LINK_INSIDE, LINK_OUTSIDE };

void dock_procfs_mark_descendants(struct dock_proc_link *tab, size_t n, pid_t root,
				  unsigned char *inside, size_t *scratch)
{
	size_t i, depth;

	if (n == 0)
		return;
	qsort(tab, n, sizeof(*tab), link_by_pid);
	memset(inside, LINK_UNKNOWN, n);
	for (i = 0; i < n; i++) {
		size_t cur = i;
		unsigned char verdict;
		long next;

		depth = 0;
		for (;;) {
			if (inside[cur] != LINK_UNKNOWN) {
				verdict = inside[cur];
				break;
			}
			/* Reads of /proc at different moments can show a cycle
			 * (a pid reused meanwhile): a chain longer than the
			 * table is one. */
			if (depth == n) {
				verdict = LINK_OUTSIDE;
				break;
			}
			scratch[depth++] = cur;
			if (tab[cur].pid == root) {
				verdict = LINK_OUTSIDE;
				break;
			}
			if (tab[cur].ppid == root) {
				verdict = LINK_INSIDE;
				break;
			}
			next = dock_procfs_find_link(tab, n, tab[cur].ppid);
			if (next < 0) {
				verdict = LINK_OUTSIDE;
				break;
			}
			cur = (size_t)next;
		}
		/* Everything on the walked chain shares its verdict, so no
		 * chain is walked twice. */
		while (depth > 0)
			inside[scratch[--depth]] = verdict;
	}
	for (i = 0; i < n; i++)
		inside[i] = inside[i] == LINK_INSIDE;
}
