/* --status-file PATH: the current status as a small JSON document, so an
 * exec probe or a sidecar can read it without talking to dock. Each change
 * is written to PATH.tmp and renamed over PATH: a reader sees the old
 * document or the new one, never a mix or an empty file. */
#ifndef DOCK_STATUSFILE_H
#define DOCK_STATUSFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "lifecycle.h"

/* Enough for the document with a 64-bit pid and the longest signal name. */
#define DOCK_STATUSFILE_DOC_MAX 256

/* Writes "starting" to path (--status-file) at once and subscribes to
 * every later change. With path NULL it does nothing. Returns -1, after a message, when the file
 * cannot be written: a probe could then never succeed, so dock refuses to
 * start rather than run unobservable. Once the command runs, a failed write
 * is one warning, never fatal. */
int dock_statusfile_setup(const char *path);

/* Pure: the document for st, one line ending in '\n', with the fields the
 * web hook's "ps" object has (but net_interfaces; see
 * dock_state_json_fields for their meaning):
 * {"status":"stopped","pid":42,"exit_code":143,"signal":"TERM","time":"2025-01-31T12:00:00.250Z"}
 * Returns the length, or -1 when buf is too small. */
ssize_t dock_statusfile_format(const struct dock_status *st, char *buf, size_t len);

#endif
