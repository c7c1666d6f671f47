#include "hookbody.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

void dock_hook_iface_add(struct dock_hook_iface *ifs, size_t *n, size_t max, const char *name,
			 const struct sockaddr *addr)
{
	struct dock_hook_iface *f = NULL;
	size_t i;

	if (name == NULL)
		return;
	for (i = 0; i < *n; i++)
		if (strncmp(ifs[i].name, name, sizeof(ifs[i].name)) == 0)
			f = &ifs[i];
	if (f == NULL) {
		if (*n == max)
			return;
		f = &ifs[(*n)++];
		memset(f, 0, sizeof(*f));
		snprintf(f->name, sizeof(f->name), "%s", name);
	}
	if (addr == NULL)
		return;
	if (addr->sa_family == AF_INET && f->ipv4[0] == '\0') {
		const struct sockaddr_in *sin = (const void *)addr;

		inet_ntop(AF_INET, &sin->sin_addr, f->ipv4, sizeof(f->ipv4));
	} else if (addr->sa_family == AF_INET6 && (f->ipv6[0] == '\0' || f->ipv6_link_local)) {
		const struct sockaddr_in6 *sin6 = (const void *)addr;
		bool ll = IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr);

		if (f->ipv6[0] != '\0' && ll)
			return;
		inet_ntop(AF_INET6, &sin6->sin6_addr, f->ipv6, sizeof(f->ipv6));
		f->ipv6_link_local = ll;
	}
}

ssize_t dock_hook_format_body(const struct dock_status *st, const struct dock_hook_iface *ifs, size_t n,
			      char *buf, size_t len)
{
	struct dock_json j;
	size_t i;

	dock_json_init(&j, buf, len);
	dock_json_begin_object(&j);
	dock_json_key(&j, "ps");
	dock_json_begin_object(&j);
	if (dock_state_json_fields(&j, st) < 0)
		return -1;
	dock_json_key(&j, "net_interfaces");
	dock_json_begin_array(&j);
	for (i = 0; i < n; i++) {
		dock_json_begin_object(&j);
		dock_json_key(&j, "name");
		dock_json_string(&j, ifs[i].name);
		dock_json_key(&j, "ipv4");
		dock_json_string(&j, ifs[i].ipv4[0] ? ifs[i].ipv4 : NULL);
		dock_json_key(&j, "ipv6");
		dock_json_string(&j, ifs[i].ipv6[0] ? ifs[i].ipv6 : NULL);
		dock_json_end_object(&j);
	}
	dock_json_end_array(&j);
	dock_json_end_object(&j);
	dock_json_end_object(&j);
	return dock_json_finish(&j);
}
