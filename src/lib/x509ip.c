#include "x509ip.h"

#include <string.h>

/* One DER element: tag, then content bounds. Only what certificates use:
 * low tag numbers, definite lengths up to 16 MiB. */
static int der_next(const unsigned char **p, const unsigned char *end, unsigned *tag,
		    const unsigned char **val, size_t *len)
{
	const unsigned char *q = *p;
	size_t n;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	n = *q++;
	if (n & 0x80) {
		unsigned k = n & 0x7f;

		if (k == 0 || k > 3 || (size_t)(end - q) < k)
			return -1;
		for (n = 0; k > 0; k--)
			n = n << 8 | *q++;
	}
	if (n > (size_t)(end - q))
		return -1;
	*val = q;
	*len = n;
	*p = q + n;
	return 0;
}

bool dock_x509ip_cert_matches(const unsigned char *der, size_t len, const unsigned char *ip, size_t iplen)
{
	static const unsigned char san_oid[] = { 0x55, 0x1d, 0x11 };	/* 2.5.29.17 */
	const unsigned char *p = der, *end = der + len, *v;
	size_t vlen;
	unsigned tag;

	/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... } */
	if (der_next(&p, end, &tag, &v, &vlen) < 0 || tag != 0x30)
		return false;
	p = v;
	end = v + vlen;
	if (der_next(&p, end, &tag, &v, &vlen) < 0 || tag != 0x30)
		return false;
	p = v;
	end = v + vlen;
	while (p < end) {
		const unsigned char *ext, *ext_end;

		if (der_next(&p, end, &tag, &v, &vlen) < 0)
			return false;
		if (tag != 0xa3)	/* [3] EXPLICIT Extensions */
			continue;
		ext = v;
		ext_end = v + vlen;
		if (der_next(&ext, ext_end, &tag, &v, &vlen) < 0 || tag != 0x30)
			return false;
		ext = v;
		ext_end = v + vlen;
		while (ext < ext_end) {
			const unsigned char *e, *e_end, *names, *names_end;

			/* Extension ::= SEQUENCE { extnID, critical BOOLEAN
			 * OPTIONAL, extnValue OCTET STRING } */
			if (der_next(&ext, ext_end, &tag, &v, &vlen) < 0 || tag != 0x30)
				return false;
			e = v;
			e_end = v + vlen;
			if (der_next(&e, e_end, &tag, &v, &vlen) < 0 || tag != 0x06)
				return false;
			if (vlen != sizeof(san_oid) || memcmp(v, san_oid, sizeof(san_oid)) != 0)
				continue;
			if (der_next(&e, e_end, &tag, &v, &vlen) < 0)
				return false;
			if (tag == 0x01 && der_next(&e, e_end, &tag, &v, &vlen) < 0)
				return false;
			if (tag != 0x04)
				return false;
			names = v;
			names_end = v + vlen;
			if (der_next(&names, names_end, &tag, &v, &vlen) < 0 || tag != 0x30)
				return false;
			names = v;
			names_end = v + vlen;
			while (names < names_end) {
				if (der_next(&names, names_end, &tag, &v, &vlen) < 0)
					return false;
				/* iPAddress [7] IMPLICIT OCTET STRING */
				if (tag == 0x87 && vlen == iplen && memcmp(v, ip, iplen) == 0)
					return true;
			}
			return false;	/* one SAN extension per certificate */
		}
		return false;
	}
	return false;
}
