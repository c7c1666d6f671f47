#include "wire.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

/* Waits for fd to become ready for events, until deadline_ms. */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int r;

	for (;;) {
		left = deadline_ms - dock_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

int dock_wire_connect_fd(int fd, const void *addr, unsigned addrlen, int64_t deadline_ms)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (connect(fd, addr, addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return -1;
	if (wait_fd(fd, POLLOUT, deadline_ms) < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int connect_unix(const struct dock_io_target *t, int type, int64_t deadline)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, saved;

	if (strlen(t->url.path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, t->url.path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (dock_wire_connect_fd(fd, &sun, sizeof(sun), deadline) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Tries each address the name resolves to, in order, within the deadline. */
static int connect_inet(const struct dock_io_target *t, int type, int64_t deadline, char *err,
			size_t errlen)
{
	struct addrinfo hints = { .ai_family = t->family, .ai_socktype = type };
	struct addrinfo *res, *ai;
	int r, fd = -1, last = ECONNREFUSED;

	r = getaddrinfo(t->url.host, t->url.port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", t->url.host,
			 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (dock_wire_connect_fd(fd, ai->ai_addr, ai->ai_addrlen, deadline) == 0)
			break;
		last = errno;
		close(fd);
		fd = -1;
		if (last == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "%s", last == ETIMEDOUT ? "connect timed out" : strerror(last));
	return fd;
}

static int handshake(struct dock_wire *w, int64_t deadline, char *err, size_t errlen)
{
	for (;;) {
		int r = dock_tls_handshake(w->tls);

		if (r == 0)
			return 0;
		if (r == DOCK_TLS_ERROR) {
			snprintf(err, errlen, "TLS: %s", dock_tls_error(w->tls));
			return -1;
		}
		if (wait_fd(w->fd, r == DOCK_TLS_WANT_READ ? POLLIN : POLLOUT, deadline) < 0) {
			snprintf(err, errlen, "TLS handshake: %s", strerror(errno));
			return -1;
		}
	}
}

int dock_wire_connect(const struct dock_io_target *t, bool tls_insecure, struct dock_wire *w,
		      char *err, size_t errlen)
{
	int64_t deadline = dock_now_ms() + DOCK_WIRE_CONNECT_TIMEOUT_MS;

	w->fd = -1;
	w->tls = NULL;
	switch (t->kind) {
	case DOCK_IO_UNIX:
	case DOCK_IO_UNIXGRAM:
		w->fd = connect_unix(t, t->kind == DOCK_IO_UNIX ? SOCK_STREAM : SOCK_DGRAM, deadline);
		if (w->fd < 0)
			snprintf(err, errlen, "%s", strerror(errno));
		break;
	case DOCK_IO_TCP:
	case DOCK_IO_TLS:
		w->fd = connect_inet(t, SOCK_STREAM, deadline, err, errlen);
		break;
	case DOCK_IO_UDP:
		w->fd = connect_inet(t, SOCK_DGRAM, deadline, err, errlen);
		break;
	default:
		snprintf(err, errlen, "not a network endpoint");
		return -1;
	}
	if (w->fd < 0)
		return -1;
	if (t->kind == DOCK_IO_TLS) {
		if (tls_insecure)
			dock_warnx("--tls-insecure: the --io peer's certificate is not verified");
		w->tls = dock_tls_new(w->fd, t->url.host, tls_insecure, err, errlen);
		if (w->tls == NULL || handshake(w, deadline, err, errlen) < 0) {
			dock_tls_free(w->tls);
			w->tls = NULL;
			close(w->fd);
			w->fd = -1;
			return -1;
		}
	}
	return 0;
}
