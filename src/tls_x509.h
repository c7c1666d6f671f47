/* dock's own X.509 classes, which tls.c puts in front of (or in place of)
 * BearSSL's minimal engine: one checks a server named by an IP literal
 * against the certificate's iPAddress names, which the minimal engine
 * ignores; the other, for --tls-insecure, accepts any chain. */
#ifndef DOCK_TLS_X509_H
#define DOCK_TLS_X509_H

#include <bearssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The end-entity certificate is kept whole only for an IP-literal host,
 * whose iPAddress names BearSSL cannot check. */
#define DOCK_TLS_EE_CERT_MAX	16384

/* The vtable pointer must come first: BearSSL hands the methods a pointer
 * to it. The owner sets vtable, inner and ip; the rest is the class's. */
struct dock_tls_x509 {
	const br_x509_class *vtable;
	const br_x509_class **inner;	/* IP mode: the minimal engine, which checks the chain */
	const unsigned char *ip;	/* IP mode: the address, 4 or 16 bytes */
	size_t ip_len;
	uint32_t certs;			/* certificates seen in this chain */
	unsigned char *ee;		/* IP mode: the end-entity certificate (owner frees) */
	size_t ee_len, ee_size;
	bool ee_unusable;
	br_x509_decoder_context dec;	/* insecure mode: the EE key */
};

/* The chain as the inner engine judges it, and then the end-entity
 * certificate must name ip among its iPAddress subjectAltNames. */
extern const br_x509_class dock_tls_x509_ip_vtable;

/* Any chain: the key of its first certificate, unverified. */
extern const br_x509_class dock_tls_x509_insecure_vtable;

#endif
