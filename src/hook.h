/* --web-hook: a PUT of the status as JSON on every change, delivered by a
 * non-blocking HTTP/1.1 client inside the loop. Statuses are states, not
 * events: they go out in order, but one that a newer status supersedes
 * before its delivery is dropped, and a superseded one whose attempt failed
 * is not retried; the newest is retried with backoff (connection errors,
 * timeouts, 5xx) within --web-hook-timeout. Nothing here ever blocks: a
 * dead, slow or hung server costs dock no more than a few file descriptors,
 * and holds its exit at most --web-hook-exit-timeout.
 *
 * The module's files: hook.c the queue and retry (the phase-by-event table
 * is at its top), hookdns.c the resolver child, hookhttp.c the exchange
 * (connect, TLS, request, response), lib/hookbody.c the body. */
#ifndef DOCK_HOOK_H
#define DOCK_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "url.h"

/* What the hook is told, all of it from the command line: the URL parsed
 * (options.c has refused a malformed one with exit status 2) and as given
 * (shown only redacted), the extra header lines ("Name: value"), and its
 * two bounds. Everything pointed to must outlive the hook (dock's whole
 * run); the struct itself is copied. */
struct dock_hook_settings {
	const struct dock_url *url;	/* NULL: no web hook */
	const char *url_text;
	const char *const *headers;
	size_t n_headers;
	uint64_t timeout_ms;		/* --web-hook-timeout: one status, retries included */
	uint64_t exit_timeout_ms;	/* --web-hook-exit-timeout: named in warnings */
	bool tls_insecure;		/* --tls-insecure */
};

/* Subscribes to the lifecycle (deliveries begin once the loop runs, so the
 * command's start never waits for the network). Without a URL it does
 * nothing. Returns -1 after a message when the hook cannot be set up. */
int dock_hook_setup(const struct dock_hook_settings *s);

/* True while a status is being delivered or waits for its turn. */
bool dock_hook_pending(void);

/* At exit, once the tree is gone: whatever is pending at at_ms (on
 * dock_now_ms()'s clock) is given up, one warning each, so that running the
 * loop while dock_hook_pending() holds ends by then at the latest. An
 * attempt still out for a superseded status gets half the time left, so
 * the last status always has its own attempt. */
void dock_hook_drain_until(int64_t at_ms);

#endif
