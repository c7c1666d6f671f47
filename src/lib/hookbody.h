/* Pure: the web hook's request body, from a status and a list of network
 * interfaces the caller gathered (the hook's I/O side reads them with
 * getifaddrs and feeds each address to dock_hook_iface_add). */
#ifndef DOCK_HOOKBODY_H
#define DOCK_HOOKBODY_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "state.h"

/* One network interface as the body shows it: its first IPv4 address and
 * its first IPv6 one (a global one preferred over a link-local one), each
 * empty when it has none. */
struct dock_hook_iface {
	char name[IF_NAMESIZE];
	char ipv4[INET_ADDRSTRLEN];
	char ipv6[INET6_ADDRSTRLEN];
	bool ipv6_link_local;
};

/* Adds one entry of an interface list (getifaddrs gives one per address,
 * and one with no address) to ifs[0..*n), at most max entries. A name not
 * seen yet takes the next entry, so the list keeps the order the entries
 * come in; past max it is dropped. addr (NULL for none; families other
 * than IPv4 and IPv6 are ignored) fills the entry's ipv4 if that is still
 * empty, or its ipv6 if that is empty or link-local and addr is not: a
 * link-local address (fe80::/10) says little to a platform off the link. */
void dock_hook_iface_add(struct dock_hook_iface *ifs, size_t *n, size_t max, const char *name,
			 const struct sockaddr *addr);

/* The request body for st and the interfaces given,
 * {"ps":{"status":...,"pid":...,"exit_code":...,"signal":...,"time":...,
 *        "net_interfaces":[{"name":...,"ipv4":...,"ipv6":...}]}}
 * with the fields of dock_state_json_fields (null for an empty
 * address). Returns the length, or -1 when buf is too small (never a
 * truncated body). */
ssize_t dock_hook_format_body(const struct dock_status *st, const struct dock_hook_iface *ifs, size_t n,
			      char *buf, size_t len);

#endif
