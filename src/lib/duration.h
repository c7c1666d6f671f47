/* Pure parsers for durations ("90s", "500ms", "6h") and sizes ("10M"). */
#ifndef DOCK_DURATION_H
#define DOCK_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Default unit applied to a bare number, in milliseconds. */
#define DOCK_MS_PER_SECOND 1000ULL
#define DOCK_MS_PER_HOUR (3600ULL * 1000ULL)

/* Longest duration accepted anywhere: 10 years. Bounds the arithmetic on
 * deadlines so adding it to a monotonic clock can never overflow. */
#define DOCK_DURATION_MAX_MS (10ULL * 366 * 24 * 3600 * 1000)

/* Parses DIGITS[.DIGITS][UNIT] with UNIT one of ms, s, m, h, d; a bare number
 * is taken in default_unit_ms. Returns 0 and sets *out_ms, or -1 when the
 * text is empty, malformed, or beyond DOCK_DURATION_MAX_MS. */
int dock_duration_parse(const char *text, uint64_t default_unit_ms, uint64_t *out_ms);

/* Parses DIGITS[UNIT] with UNIT one of k, K, M, G, T (powers of 1024, an
 * optional trailing B or iB); a bare number is bytes. 0 is rejected. */
int dock_size_parse(const char *text, uint64_t *out_bytes);

#endif
