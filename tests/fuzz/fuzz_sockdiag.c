/* dock_sockdiag_parse on any bytes, as a netlink socket could hand them
 * over, against scans set up from the input's first bytes; and the request
 * builder on any scan. Links src/lib/sockdiag_msg.c alone. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockdiag_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

#define MAX_SCANS 4
#define SCAN_BYTES 4

/* Input layout: [n][4 bytes per scan][answer bytes]. A scan's bytes:
 * its sequence number (small, so that the fuzzer finds it in a header),
 * flags (bit 0 legacy TCP, bit 1 UDP, bit 2 IPv6, bit 3 every state, bit
 * 4 already done, bit 5 an exact lookup of the loopback address), and its
 * port. */
static size_t setup(struct dock_sockdiag_scan *scans, const uint8_t *data, size_t size, size_t *used)
{
	size_t n = 1 + data[0] % MAX_SCANS, i;

	*used = 1 + n * SCAN_BYTES;
	if (size < *used)
		return 0;
	memset(scans, 0, sizeof(*scans) * MAX_SCANS);
	for (i = 0; i < n; i++) {
		const uint8_t *b = data + 1 + i * SCAN_BYTES;

		scans[i].seq = b[0];
		scans[i].legacy_tcp = b[1] & 1;
		scans[i].protocol = (b[1] & 2) ? 17 : 6;
		scans[i].family = (b[1] & 4) ? AF_INET6 : AF_INET;
		scans[i].states = (b[1] & 8) ? 0xffffffffu : 1u << DOCK_TCP_LISTEN;
		scans[i].done = b[1] & 16;
		scans[i].exact = b[1] & 32;
		scans[i].port = (uint16_t)(b[2] << 8 | b[3]);
		if (scans[i].exact)
			scans[i].addr[scans[i].family == AF_INET6 ? 15 : 0] = scans[i].family == AF_INET6 ? 1 : 127;
	}
	return n;
}

static void check_scans(const struct dock_sockdiag_scan *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ASSERT(s[i].ninodes <= DOCK_SOCKDIAG_MAX_INODES);
		ASSERT(s[i].ninodes <= s[i].matches);
		ASSERT(s[i].ninodes == s[i].matches || s[i].ninodes == DOCK_SOCKDIAG_MAX_INODES);
		ASSERT(s[i].error >= 0);
	}
}

/* The request for a scan: one netlink message of exactly its length, with
 * the scan's sequence number, that the parser (as the kernel's echo would
 * never be) does not take for an answer. */
static void check_request(const struct dock_sockdiag_scan *scan)
{
	unsigned char buf[256];
	struct dock_nlmsghdr h;
	size_t len = dock_sockdiag_build_request(buf, sizeof(buf), scan);

	ASSERT(len >= sizeof(h) && len <= sizeof(buf));
	memcpy(&h, buf, sizeof(h));
	ASSERT(h.len == len && h.seq == scan->seq);
	ASSERT(dock_sockdiag_build_request(buf, len - 1, scan) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dock_sockdiag_scan a[MAX_SCANS], b[MAX_SCANS];
	size_t n, used, len, i;
	unsigned char *exact, *shifted;
	int ra, rb;

	if (size < 1 || (n = setup(a, data, size, &used)) == 0)
		return 0;
	for (i = 0; i < n; i++)
		check_request(&a[i]);
	memcpy(b, a, sizeof(a));
	len = size - used;

	/* An exact-size heap copy, so ASan sees any read past the end; and
	 * one at an odd address: the parser must not care about alignment
	 * (recvmmsg slots are aligned, the fuzzer's bytes need not be). */
	exact = malloc(len ? len : 1);
	shifted = malloc(len + 1);
	memcpy(exact, data + used, len);
	memcpy(shifted + 1, data + used, len);
	ra = dock_sockdiag_parse(a, n, exact, len);
	rb = dock_sockdiag_parse(b, n, shifted + 1, len);
	ASSERT(ra == 0 || ra == -1);
	ASSERT(ra == rb);
	ASSERT(memcmp(a, b, sizeof(a)) == 0);
	check_scans(a, n);
	free(shifted);
	free(exact);
	return 0;
}
