/* --web-hook: a PUT of the status as JSON on every change, delivered by a
 * non-blocking HTTP/1.1 client inside the loop. Statuses are states, not
 * events: they go out in order, but one that a newer status supersedes
 * before its delivery is dropped, and a superseded one whose attempt failed
 * is not retried; the newest is retried with backoff (connection errors,
 * timeouts, 5xx) within --web-hook-timeout. Nothing here ever blocks: a
 * dead, slow or hung server costs dock no more than a few file descriptors,
 * and holds its exit at most --web-hook-exit-timeout. */
#ifndef DOCK_HOOK_H
#define DOCK_HOOK_H

#include <net/if.h>
#include <netinet/in.h>
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

/* At exit, once the tree is gone: whatever is pending at at_ms (on
 * dock_now_ms()'s clock) is given up, one warning each, so that running the
 * loop while dock_hook_pending() holds ends by then at the latest. An
 * attempt still out for a superseded status gets half the time left, so
 * the last status always has its own attempt. */
void dock_hook_drain_until(int64_t at_ms);

/* One network interface as the body shows it: its first IPv4 address and
 * its first IPv6 one (a global one preferred over a link-local one), each
 * empty when it has none. */
struct dock_hook_iface {
	char name[IF_NAMESIZE];
	char ipv4[INET_ADDRSTRLEN];
	char ipv6[INET6_ADDRSTRLEN];
	bool ipv6_link_local;
};

/* The interfaces, from getifaddrs, one entry per name in the kernel's
 * order, at most max. Returns how many (0 when they cannot be read). */
size_t dock_hook_interfaces(struct dock_hook_iface *out, size_t max);

/* Pure: the request body for st and the interfaces given,
 * {"ps":{"status":...,"pid":...,"exit_code":...,"signal":...,"time":...,
 *        "net_interfaces":[{"name":...,"ipv4":...,"ipv6":...}]}}
 * with the fields of dock_lifecycle_json_fields. Returns the length, or -1
 * when buf is too small. */
ssize_t dock_hook_format_body(const struct dock_status *st, const struct dock_hook_iface *ifs, size_t n,
			      char *buf, size_t len);

#endif
