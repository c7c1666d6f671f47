/* dock's own diagnostics: one line each on stderr, starting "dock: ".
 * dock_warn appends strerror(errno), dock_warnx does not (OpenBSD style). */
#ifndef DOCK_LOG_H
#define DOCK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errmax.h"	/* DOCK_ERR_MAX */

extern bool dock_log_debug_on;

/* Marks dock's start: with -d, every line reads "dock: +1234ms ...", the
 * milliseconds since this call. */
void dock_log_start(void);

void dock_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dock_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dock_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Pure: rewrites s[0..n) in place so that it shows no control character:
 * every C0 byte (0x00-0x1f), DEL (0x7f), C1 byte (0x80-0x9f) that is not
 * part of a valid UTF-8 sequence, and every UTF-8 encoded U+0080-U+009F
 * becomes one '?'. Other UTF-8 and other bytes are kept. Returns the new
 * length (never more than n). */
size_t dock_log_sanitize(char *s, size_t n);

/* What a file of this mode is, for a message: "a regular file", "a
 * symbolic link", "a FIFO", "a directory", "a character device"... */
const char *dock_log_file_kind(mode_t mode);

#endif
