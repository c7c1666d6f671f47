#include "notify.h"

#include <string.h>

bool dock_notify_ready(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if (eol - p == 7 && memcmp(p, "READY=1", 7) == 0)
			return true;
		p = nl ? nl + 1 : end;
	}
	return false;
}

void dock_notify_printable(char *dst, size_t cap, const char *src, size_t len)
{
	size_t i, n = len < cap - 1 ? len : cap - 1;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c == '\n' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}
