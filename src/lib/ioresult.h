/* The one way dock's non-blocking steps say how they ended: the TLS
 * sessions (tls.c), the stream ends of the pumps (pump.c), the HTTP
 * response parser (lib/http.c) and the readiness probes (ready_port.c).
 * Pure: constants only. */
#ifndef DOCK_IORESULT_H
#define DOCK_IORESULT_H

#include <stdbool.h>

/* Negative but for DOCK_IO_OK, so that a function returning a count of
 * bytes returns these as well: there, n >= 0 is a count, and a count of 0
 * means what that function documents (end of stream, nothing to do). */
enum dock_io_result {
	DOCK_IO_OK = 0,			/* done */
	DOCK_IO_ERROR = -1,		/* failed for good: the module says why */
	DOCK_IO_WANT_READ = -2,		/* call again once there is more to read:
					 * the fd is readable, more input came,
					 * the next probe */
	DOCK_IO_WANT_WRITE = -3,	/* call again once the fd is writable */
};

/* Whether r says "not now" (either direction) rather than done or failed. */
static inline bool dock_io_would_block(long r)
{
	return r == DOCK_IO_WANT_READ || r == DOCK_IO_WANT_WRITE;
}

#endif
