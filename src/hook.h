/* --web-hook: a PUT of the status as JSON on every change, delivered by a
 * non-blocking HTTP/1.1 client inside the loop. Statuses go out in order,
 * each once; connection errors, timeouts and 5xx are retried with backoff
 * within --web-hook-timeout per status. Nothing here ever blocks: a dead,
 * slow or hung server costs dock no more than a few file descriptors. */
#ifndef DOCK_HOOK_H
#define DOCK_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lifecycle.h"
#include "options.h"

/* Subscribes to the lifecycle (deliveries begin once the loop runs, so the
 * command's start never waits for the network). Without --web-hook it does
 * nothing. Returns -1 after a message when the URL is unusable (options.c
 * has already refused a malformed one with exit status 2). */
int dock_hook_setup(const struct dock_config *cfg);

/* True while a status is being delivered or waits for its turn. */
bool dock_hook_pending(void);

/* At exit: statuses still pending at at_ms (on dock_now_ms()'s clock) are
 * given up, one warning each, so that running the loop while
 * dock_hook_pending() holds ends by then at the latest. */
void dock_hook_drain_until(int64_t at_ms);

/* The request body for st, {"ps":{"status":...,"net_interfaces":[...]}},
 * with exit_code and signal when crashed. Reads the interfaces with
 * getifaddrs. Returns the length, or -1 when buf is too small. */
ssize_t dock_hook_format_body(const struct dock_status *st, char *buf, size_t len);

#endif
