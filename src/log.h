/* dock's own diagnostics: one line each on stderr, starting "dock: ".
 * dock_warn appends strerror(errno), dock_warnx does not (OpenBSD style). */
#ifndef DOCK_LOG_H
#define DOCK_LOG_H

#include <stdbool.h>
#include <stdint.h>

extern bool dock_log_debug_on;

/* Marks dock's start: with -d, every line reads "dock: +1234ms ...", the
 * milliseconds since this call. */
void dock_log_start(void);

void dock_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dock_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dock_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
