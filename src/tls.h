/* TLS client sessions over a non-blocking socket. Only the tls*.c files
 * include the TLS library: tls.c (sessions), tls_anchors.c (the trust
 * store), tls_x509.c (dock's certificate checks). */
#ifndef DOCK_TLS_H
#define DOCK_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ioresult.h"

/* Every call returns DOCK_IO_WANT_READ / DOCK_IO_WANT_WRITE to be called
 * again once the fd is readable / writable, and DOCK_IO_ERROR with the
 * reason in dock_tls_error(). */
struct dock_tls;

/* A client for host (SNI and name check; an IP literal checks the address).
 * insecure skips certificate verification. Trust anchors are loaded once,
 * on first use, from SSL_CERT_FILE / SSL_CERT_DIR or the system store.
 * Returns NULL with a message in err when no anchor can be loaded.
 *
 * Decrypted bytes can wait inside the session where epoll cannot see them:
 * after EPOLLIN (or when resuming reads after back-pressure) call
 * dock_tls_read until it returns DOCK_IO_WANT_*, then wait for
 * dock_tls_events(). */
struct dock_tls *dock_tls_new(int fd, const char *host, bool insecure, char *err, size_t errlen);
void dock_tls_free(struct dock_tls *t);

/* Drives the handshake: DOCK_IO_OK when done, DOCK_IO_WANT_*, or
 * DOCK_IO_ERROR. */
enum dock_io_result dock_tls_handshake(struct dock_tls *t);

/* As read(2)/write(2): bytes moved, 0 at a clean close (read), or
 * DOCK_IO_WANT_* / DOCK_IO_ERROR. dock_tls_write may accept fewer bytes. */
ssize_t dock_tls_read(struct dock_tls *t, void *buf, size_t len);
ssize_t dock_tls_write(struct dock_tls *t, const void *buf, size_t len);

/* Pushes buffered records to the socket: DOCK_IO_OK when all is sent,
 * DOCK_IO_WANT_WRITE, or DOCK_IO_ERROR. */
enum dock_io_result dock_tls_flush(struct dock_tls *t);

/* Sends close_notify (best effort, non-blocking); dock_tls_flush pushes
 * what the socket did not take. */
void dock_tls_close(struct dock_tls *t);

/* Epoll events (EPOLLIN/EPOLLOUT) the session waits for now. */
unsigned dock_tls_events(const struct dock_tls *t);

/* A description of the last failure ("certificate not trusted", "host name
 * mismatch", ...). */
const char *dock_tls_error(const struct dock_tls *t);

#endif
