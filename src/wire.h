/* Connecting the --io endpoint: stream and datagram sockets, TLS on top. */
#ifndef DOCK_WIRE_H
#define DOCK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"
#include "url.h"

/* A stream peer that is not up yet is tried again after this, doubling up
 * to the maximum: a peer that comes up late is found within ~250 ms, and a
 * long wait costs a few system calls a second. */
#define DOCK_WIRE_RETRY_FIRST_MS 20
#define DOCK_WIRE_RETRY_MAX_MS 250

struct dock_wire {
	int fd;			/* non-blocking, close-on-exec */
	struct dock_tls *tls;	/* NULL unless DOCK_IO_TLS */
};

/* Connects to a network --io target before the command starts. timeout_ms
 * bounds the connects, the TLS handshake and the retries: a stream peer
 * (tcp, tls, unix) that refuses or is missing is tried again with backoff
 * until then. It does not bound name resolution: getaddrinfo blocks, for as
 * long as the resolver's own timeouts allow (resolv.conf's timeout and
 * attempts: 5 s and 2 by default), and a try that has begun runs to its
 * end. Returns 0, or -1 with the last reason in err (refused, timed
 * out, certificate...). */
int dock_wire_connect(const struct dock_io_target *t, bool tls_insecure, uint64_t timeout_ms,
		      struct dock_wire *w, char *err, size_t errlen);

/* Non-blocking connect of fd to addr, waiting at most until deadline_ms
 * (dock_now_ms() clock). Returns 0 or -1 with errno (ETIMEDOUT). */
int dock_wire_connect_fd(int fd, const void *addr, unsigned addrlen, int64_t deadline_ms);

#endif
