/* dock's working directory: relative paths of the command line are made
 * absolute while they still mean what the user meant, and once the command
 * runs dock moves to "/", so that it holds no directory (and no mount) busy
 * for the container's life. */
#ifndef DOCK_PATHS_H
#define DOCK_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "url.h"

/* Before anything opens a file: a relative file --io (one of the n
 * targets, rewritten in place) and --status-file (*status_file, NULL when
 * none; it then points into this module's storage) become absolute. A path
 * that cannot be made absolute (no current directory, too long) stays as
 * given, and dock then keeps its directory. Never fails. */
void dock_paths_resolve(struct dock_io_target *targets, size_t n, const char **status_file);

/* Pure: dir + "/" + rel into out (rel as is when already absolute). Returns
 * 0, or -1 (ENAMETOOLONG) when it does not fit in len bytes. */
int dock_paths_join(const char *dir, const char *rel, char *out, size_t len);

/* Pure: SSL_CERT_DIR's colon-separated list with each relative entry made
 * absolute against dir. Returns 0, or -1 (ENAMETOOLONG). */
int dock_paths_join_list(const char *dir, const char *list, char *out, size_t len);

/* Once the command has started (it keeps the directory it was given):
 * SSL_CERT_FILE and SSL_CERT_DIR, read later when a hook first speaks TLS,
 * are made absolute in dock's own environment, then dock changes to "/".
 * Returns true when it did. */
bool dock_paths_leave_cwd(void);

#endif
