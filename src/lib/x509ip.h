/* The iPAddress subjectAltName check of a server certificate: BearSSL's
 * minimal X.509 engine checks DNS names only, so for a host given as an IP
 * literal dock walks the end-entity certificate's DER itself. Pure. */
#ifndef DOCK_X509IP_H
#define DOCK_X509IP_H

#include <stdbool.h>
#include <stddef.h>

/* True when the DER certificate has an iPAddress subjectAltName equal to
 * ip (4 or 16 bytes); false otherwise, also for malformed input. */
bool dock_x509ip_cert_matches(const unsigned char *der, size_t len, const unsigned char *ip, size_t iplen);

#endif
