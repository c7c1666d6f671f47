#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool dock_log_debug_on;

static int64_t start_ms;

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dock_log_start(void)
{
	start_ms = monotonic_ms();
}

/* One write(2) per line: stderr may be shared with the command, and a line
 * assembled in pieces could be interleaved with its output. */
static void emit(const char *fmt, va_list ap, int err)
{
	char line[1024];
	size_t n = 0, i;
	int r;

	memcpy(line, "dock: ", 6);
	n = 6;
	/* With -d every line carries the milliseconds since dock started,
	 * so a slow shutdown can be read from the log: which step took the
	 * time. Without -d the lines stay as scripts may already match them. */
	if (dock_log_debug_on) {
		r = snprintf(line + n, sizeof(line) - n, "+%lldms ",
			     (long long)(monotonic_ms() - start_ms));
		if (r > 0 && (size_t)r < sizeof(line) - n)
			n += (size_t)r;
	}
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	if (err) {
		r = snprintf(line + n, sizeof(line) - n - 1, ": %s", strerror(err));
		if (r > 0)
			n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	}
	/* One line, whatever it quotes: a server's reason phrase, a path, an
	 * option's value could hold a line break (forging a second "dock:"
	 * line) or a terminal escape. */
	for (i = 6; i < n; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
			line[i] = '?';
	line[n++] = '\n';
	while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR)
		;
}

void dock_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void dock_warnx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	emit(fmt, ap, 0);
	va_end(ap);
	errno = saved;
}

void dock_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!dock_log_debug_on)
		return;
	va_start(ap, fmt);
	emit(fmt, ap, 0);
	va_end(ap);
	errno = saved;
}
