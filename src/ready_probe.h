/* --bind-port: the ways of looking for sockets on the port, for
 * ready_port.c (see ready.h). */
#ifndef DOCK_READY_PROBE_H
#define DOCK_READY_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sockets on the port whose inodes a probe keeps (for the owner check of
 * --strict-port-binding); more are counted. */
#define DOCK_READY_FOUND_MAX 64

/* The sockets one probe found on the port. */
struct dock_ready_found {
	size_t total;			/* all of them */
	size_t n;			/* those whose inode is kept */
	uint64_t inodes[DOCK_READY_FOUND_MAX];
};

/* The port to look for; strict: every way is tried even once a socket is
 * found (its owner matters), rather than stopping at the first. */
void dock_ready_probe_init(int port, bool strict);

/* Whether a quick probe can look at all (sock_diag lookups still work for
 * some source). */
bool dock_ready_probe_quick_possible(void);

/* A quick probe: lookups of the port on the machine's addresses, adding
 * what they find to f. Returns how many ran; 0 means only a full probe can
 * look. */
size_t dock_ready_probe_quick(struct dock_ready_found *f);

/* A full probe: every source that still works, falling from sock_diag to
 * /proc/net to nothing per source, and the machine's addresses read again
 * when older than a few seconds; what cannot be seen any more is said once.
 * Returns the number of sources still usable (0: none, stop probing). */
size_t dock_ready_probe_full(struct dock_ready_found *f, int64_t now);

/* Probing is over: closes the sock_diag socket and frees its buffers. */
void dock_ready_probe_stop(void);

#endif
