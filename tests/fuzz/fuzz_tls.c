/* dock_x509ip_cert_matches on any bytes: the server's end-entity
 * certificate, as it arrives from the network before it is verified, is
 * walked by dock's own DER reader to find iPAddress names. It must stay in
 * its buffer, end, and only say yes for a name that is really there. Links
 * src/lib/x509ip.c alone. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

/* Whether der holds ip as an iPAddress element: tag 0x87, a length of
 * iplen (short form, or long form in 1-3 bytes: dock's reader takes BER's
 * non-minimal lengths too), then the address. */
static int has_ip_element(const unsigned char *der, size_t n, const unsigned char *ip, size_t iplen)
{
	size_t p, k;

	for (p = 2; p + iplen <= n; p++) {
		if (memcmp(der + p, ip, iplen) != 0)
			continue;
		if (der[p - 2] == 0x87 && der[p - 1] == iplen)
			return 1;
		for (k = 1; k <= 3 && p >= k + 2; k++) {
			const unsigned char *l = der + p - k - 1;
			size_t v = 0, i;

			if (l[-1] != 0x87 || l[0] != (0x80 | k))
				continue;
			for (i = 1; i <= k; i++)
				v = v << 8 | l[i];
			if (v == iplen)
				return 1;
		}
	}
	return 0;
}

/* Input: [address length selector][address: 4 or 16 bytes][certificate]. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char ip[16], *der;
	size_t iplen, len;
	bool r;

	if (size < 1)
		return 0;
	iplen = (data[0] & 1) ? 16 : 4;
	if (size < 1 + iplen)
		return 0;
	memcpy(ip, data + 1, iplen);
	len = size - 1 - iplen;
	/* An exact-size heap copy: ASan sees any read past the end. */
	der = malloc(len ? len : 1);
	memcpy(der, data + 1 + iplen, len);
	r = dock_x509ip_cert_matches(der, len, ip, iplen);
	if (r) {
		/* The name is really there, as an iPAddress element. */
		ASSERT(has_ip_element(der, len, ip, iplen));
		/* A prefix of the certificate is refused rather than read past,
		 * unless the element is inside it. */
		ASSERT(!dock_x509ip_cert_matches(der, len / 2, ip, iplen) ||
		       has_ip_element(der, len / 2, ip, iplen));
	}
	free(der);
	return 0;
}
