#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* How dock writes its stderr, decided at the first message. A pipe, FIFO
 * or terminal nobody drains (a paused terminal, a full pipe) would block a
 * plain write(2), and with it PID 1: such a stderr is written through a
 * description of dock's own, opened again through /proc/self/fd/2 with
 * O_NONBLOCK (the inherited description is shared with whoever started
 * dock, so its flags are left alone). A socket is written with
 * MSG_DONTWAIT. A line that finds no room is dropped and counted. */
enum err_how { ERR_UNSET, ERR_PLAIN, ERR_OWN, ERR_SOCKET };

static struct {
	enum err_how how;
	int fd;
	pid_t pid;		/* the process that opened fd (not a forked child) */
	unsigned long dropped;
} err_out = { ERR_UNSET, STDERR_FILENO, 0, 0 };

static void choose_stderr(void)
{
	struct stat st;
	int fd;

	err_out.how = ERR_PLAIN;
	err_out.fd = STDERR_FILENO;
	err_out.pid = getpid();
	if (fstat(STDERR_FILENO, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		err_out.how = ERR_SOCKET;
		return;
	}
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;		/* no /proc: written as is */
	err_out.how = ERR_OWN;
	err_out.fd = fd;
}

/* Returns 0 when the line went out, -1 when it found no room. */
static int put_line(const char *line, size_t n)
{
	ssize_t w;

	/* A forked child shares err_out but may have closed its fd. */
	if (err_out.how == ERR_UNSET || (err_out.how == ERR_OWN && err_out.pid != getpid()))
		choose_stderr();
	for (;;) {
		if (err_out.how == ERR_SOCKET)
			w = send(STDERR_FILENO, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(err_out.fd, line, n);
		if (w >= 0 || errno != EINTR)
			break;
	}
	if (w < 0 && errno == EAGAIN)
		return -1;
	return 0;	/* written, or stderr is gone: nothing more to do */
}

static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms and surrogates are not valid UTF-8: taken byte by byte. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

size_t dock_log_sanitize(char *s, size_t n)
{
	unsigned char *u = (unsigned char *)s;
	size_t in = 0, out = 0, len;

	while (in < n) {
		unsigned char c = u[in];

		if (c < 0x20 || c == 0x7f) {
			u[out++] = '?';
			in++;
			continue;
		}
		if (c < 0x80) {
			u[out++] = c;
			in++;
			continue;
		}
		len = utf8_len(u + in, n - in);
		if (len == 0) {
			/* Not UTF-8: a lone C1 byte is a control to an 8-bit
			 * terminal (0x9b is CSI); other bytes are shown as they are. */
			u[out++] = c <= 0x9f ? '?' : c;
			in++;
		} else if (c == 0xc2 && u[in + 1] <= 0x9f) {
			u[out++] = '?';		/* U+0080-U+009F */
			in += 2;
		} else {
			memmove(u + out, u + in, len);
			out += len;
			in += len;
		}
	}
	return out;
}

const char *dock_log_file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a file of unknown type";
}

/* One write per line: stderr may be shared with the command, and a line
 * assembled in pieces could be interleaved with its output. */
static void emit(const char *fmt, va_list ap, int err)
{
	char line[1024];
	size_t n = 0;
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
	 * line) or a terminal's control sequence. */
	n = 6 + dock_log_sanitize(line + 6, n - 6);
	line[n++] = '\n';
	if (err_out.dropped > 0) {
		char note[96];
		int k = snprintf(note, sizeof(note), "dock: %lu message(s) dropped: stderr was full\n",
				 err_out.dropped);

		if (put_line(note, (size_t)k) < 0) {
			err_out.dropped++;
			return;
		}
		err_out.dropped = 0;
	}
	if (put_line(line, n) < 0)
		err_out.dropped++;
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
