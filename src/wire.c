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

/* Errors of a peer that is not there yet: nothing listens on the port or at
 * the path, its accept queue is full (a unix stream socket says EAGAIN), the
 * network towards it is not up. Anything else (a certificate, a bad
 * address, permissions) will not change by waiting. */
static bool peer_not_up(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case ENOENT:
	case EAGAIN:
	case ECONNRESET:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
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

/* Tries each address the name resolves to, in order, within the deadline.
 * On failure errno is the last address's error, or 0 when the name did not
 * resolve (the reason is then in err); *again says whether a later try may
 * do better. */
static int connect_inet(const struct dock_io_target *t, int type, int64_t deadline, char *err,
			size_t errlen, bool *again)
{
	struct addrinfo hints = { .ai_family = t->family, .ai_socktype = type };
	struct addrinfo *res, *ai;
	int r, fd = -1, last = ECONNREFUSED;

	r = getaddrinfo(t->url.host, t->url.port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", t->url.host,
			 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		/* A name server that does not answer yet; a name that does not
		 * exist is a mistake to report now, not in five seconds. */
		*again = r == EAI_AGAIN;
		errno = 0;
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
	if (fd < 0) {
		snprintf(err, errlen, "%s", last == ETIMEDOUT ? "connect timed out" : strerror(last));
		*again = peer_not_up(last);
		errno = last;
	}
	return fd;
}

static int handshake(struct dock_wire *w, int64_t deadline, char *err, size_t errlen)
{
	for (;;) {
		int r = dock_tls_handshake(w->tls);

		if (r == 0)
			return 0;
		if (r == DOCK_IO_ERROR) {
			snprintf(err, errlen, "TLS: %s", dock_tls_error(w->tls));
			return -1;
		}
		if (wait_fd(w->fd, r == DOCK_IO_WANT_READ ? POLLIN : POLLOUT, deadline) < 0) {
			snprintf(err, errlen, "TLS handshake: %s", strerror(errno));
			return -1;
		}
	}
}

/* One attempt at the socket (no TLS yet). Returns the fd, or -1 with the
 * reason in err and *again set when a later attempt may succeed. */
static int connect_once(const struct dock_io_target *t, int64_t deadline, char *err,
			size_t errlen, bool *again)
{
	int fd;

	*again = false;
	switch (t->kind) {
	case DOCK_IO_UNIX:
	case DOCK_IO_UNIXGRAM:
		fd = connect_unix(t, t->kind == DOCK_IO_UNIX ? SOCK_STREAM : SOCK_DGRAM, deadline);
		if (fd < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			*again = peer_not_up(errno);
		}
		return fd;
	case DOCK_IO_TCP:
	case DOCK_IO_TLS:
		return connect_inet(t, SOCK_STREAM, deadline, err, errlen, again);
	case DOCK_IO_UDP:
		return connect_inet(t, SOCK_DGRAM, deadline, err, errlen, again);
	default:
		snprintf(err, errlen, "not a network endpoint");
		return -1;
	}
}

int dock_wire_connect(const struct dock_io_target *t, bool tls_insecure, uint64_t timeout_ms,
		      struct dock_wire *w, char *err, size_t errlen)
{
	int64_t start = dock_now_ms(), deadline = start + (int64_t)timeout_ms;
	int64_t backoff = DOCK_WIRE_RETRY_FIRST_MS, now;
	/* A console or log collector may come up a moment after the
	 * container: a stream peer is waited for. A datagram peer needs no
	 * connection to be up, so its errors are final. */
	bool stream = t->kind == DOCK_IO_TCP || t->kind == DOCK_IO_TLS || t->kind == DOCK_IO_UNIX;
	bool again;
	unsigned tries = 0;

	w->fd = -1;
	w->tls = NULL;
	for (;;) {
		tries++;
		w->fd = connect_once(t, deadline, err, errlen, &again);
		if (w->fd >= 0)
			break;
		now = dock_now_ms();
		/* The next try must still start before the deadline: one after it
		 * would only time out, hiding the real reason. */
		if (!stream || !again || now + backoff >= deadline) {
			if (tries > 1)
				dock_debug("--io: gave up after %u tries in %lld ms: %s", tries,
					   (long long)(now - start), err);
			return -1;
		}
		if (tries == 1)
			dock_debug("--io: peer not up (%s); trying again for up to %llu ms", err,
				   (unsigned long long)timeout_ms);
		/* Signals are blocked before the command starts, so nothing
		 * interrupts this; the command waits for its peer. */
		poll(NULL, 0, (int)backoff);
		backoff = backoff * 2 > DOCK_WIRE_RETRY_MAX_MS ? DOCK_WIRE_RETRY_MAX_MS : backoff * 2;
	}
	if (tries > 1)
		dock_debug("--io: connected after %u tries in %lld ms", tries,
			   (long long)(dock_now_ms() - start));
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
