/* The readiness parsers of /proc: one line of /proc/net/{tcp,udp}{,6} and a
 * /proc/PID/fd link target, on any bytes given exactly as read (not
 * terminated, so that ASan sees any read past the length). What they
 * accept must survive a round trip through the kernel's own format. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

static void check_net_sock(const char *buf, size_t size)
{
	struct dock_proc_net_sock s, again;
	char line[256], *nl;
	int n;

	/* Zeroed, padding included, so that whole structs compare. */
	memset(&s, 0, sizeof(s));
	memset(&again, 0, sizeof(again));
	if (dock_procfs_parse_net_sock(buf, size, &s) < 0)
		return;
	/* With or without its newline: the same answer. */
	nl = malloc(size + 1);
	memcpy(nl, buf, size);
	nl[size] = '\n';
	ASSERT(dock_procfs_parse_net_sock(nl, size + 1, &again) == 0);
	ASSERT(memcmp(&s, &again, sizeof(s)) == 0);
	free(nl);

	/* What the kernel would print for it parses back to the same. */
	n = snprintf(line, sizeof(line),
		     "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %" PRIu64
		     " 2 0000000000000000 100 0 0 10 0\n",
		     0, 0x0100007fu, s.local_port, 0u, 0, s.state, 0u, 0u, 0, 0UL, 0u, 0u, 0, s.inode);
	ASSERT(n > 0 && (size_t)n < sizeof(line));
	ASSERT(dock_procfs_parse_net_sock(line, (size_t)n, &again) == 0);
	ASSERT(again.local_port == s.local_port && again.state == s.state && again.inode == s.inode);
}

static void check_socket_link(const char *buf, size_t size)
{
	uint64_t inode, again;
	char text[64];
	int n;

	if (dock_procfs_parse_socket_link(buf, size, &inode) < 0)
		return;
	ASSERT(size > 9 && memcmp(buf, "socket:[", 8) == 0 && buf[size - 1] == ']');
	n = snprintf(text, sizeof(text), "socket:[%" PRIu64 "]", inode);
	ASSERT(dock_procfs_parse_socket_link(text, (size_t)n, &again) == 0 && again == inode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	size_t i, start;

	memcpy(buf, data, size);
	check_net_sock(buf, size);
	check_socket_link(buf, size);
	/* Each line on its own, as the readiness probe hands them over. */
	for (i = 0, start = 0; i < size; i++) {
		if (buf[i] == '\n') {
			check_net_sock(buf + start, i - start);
			start = i + 1;
		}
	}
	free(buf);
	return 0;
}
