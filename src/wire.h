/* Connecting the --io endpoint: stream and datagram sockets, TLS on top. */
#ifndef DOCK_WIRE_H
#define DOCK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"
#include "url.h"

/* How long a connect (resolution, TCP and TLS handshakes) may take. */
#define DOCK_WIRE_CONNECT_TIMEOUT_MS 5000

struct dock_wire {
	int fd;			/* non-blocking, close-on-exec */
	struct dock_tls *tls;	/* NULL unless DOCK_IO_TLS */
};

/* Connects to a network --io target before the command starts. Returns 0,
 * or -1 with the reason in err (refused, timed out, certificate...). */
int dock_wire_connect(const struct dock_io_target *t, bool tls_insecure, struct dock_wire *w,
		      char *err, size_t errlen);

/* Non-blocking connect of fd to addr, waiting at most until deadline_ms
 * (dock_now_ms() clock). Returns 0 or -1 with errno (ETIMEDOUT). */
int dock_wire_connect_fd(int fd, const void *addr, unsigned addrlen, int64_t deadline_ms);

#endif
