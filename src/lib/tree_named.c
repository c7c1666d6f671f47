#include "tree_named.h"

#include <stdio.h>
#include <string.h>

int dock_tree_parse_comm(const char *buf, size_t len, char *out, size_t outlen)
{
	const char *open_paren, *close = NULL, *q;
	size_t n, i;

	if (outlen == 0)
		return -1;
	open_paren = memchr(buf, '(', len);
	if (open_paren == NULL)
		return -1;
	for (q = open_paren + 1; q < buf + len; q++)
		if (*q == ')')
			close = q;
	if (close == NULL)
		return -1;
	n = (size_t)(close - open_paren - 1);
	if (n > outlen - 1)
		n = outlen - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)open_paren[1 + i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	return 0;
}

void dock_tree_format_named(const struct dock_tree_named *named, size_t n, size_t total,
			    char *buf, size_t len)
{
	size_t used = 0, i;
	int w;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (total == 0)
		return;
	for (i = 0; i < n && i < total; i++) {
		w = snprintf(buf + used, len - used, "%s%d (%s)", i ? ", " : ": ", (int)named[i].pid,
			     named[i].comm);
		if (w < 0 || (size_t)w >= len - used)
			return;		/* cut: snprintf has terminated it */
		used += (size_t)w;
	}
	if (total > n)
		snprintf(buf + used, len - used, "%sand %zu more", n ? " " : ": ", total - n);
}
