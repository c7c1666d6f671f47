/* Pure conversions between signal numbers and names ("TERM", "SIGTERM",
 * "15", "RTMIN+2"). */
#ifndef DOCK_SIGNAME_H
#define DOCK_SIGNAME_H

#include <stddef.h>

/* Returns the signal number for text (case-insensitive name with or without
 * "SIG", or a decimal number 1.._NSIG-1), 0 when allow_zero and text is "0",
 * or -1 when text names no signal. */
int dock_signame_parse(const char *text, int allow_zero);

/* Writes the short name ("TERM", "RTMIN+2") of sig into buf. Returns buf,
 * or NULL when sig is not a valid signal number. */
const char *dock_signame_name(int sig, char *buf, size_t len);

#endif
