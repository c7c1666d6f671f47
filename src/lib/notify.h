/* The sd_notify messages the command sends to dock's NOTIFY_SOCKET: newline-
 * separated assignments (READY=1, STATUS=..., MAINPID=...). Pure. */
#ifndef DOCK_NOTIFY_H
#define DOCK_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

/* Longest sd_notify datagram dock reads; a longer one is ignored whole, as
 * systemd does, rather than acted on in part. */
#define DOCK_NOTIFY_MAX 4096

/* True when a datagram holds the line "READY=1". Lines are split on '\n';
 * other assignments are ignored. */
bool dock_notify_ready(const char *buf, size_t len);

/* A datagram as a debug line shows it: newlines as spaces, other control
 * bytes as '?', cut to cap - 1 bytes and NUL-terminated (cap > 0). */
void dock_notify_printable(char *dst, size_t cap, const char *src, size_t len);

#endif
