/* The trust store of the TLS sessions: the CA certificates loaded once, on
 * first use, from SSL_CERT_FILE / SSL_CERT_DIR or the system store. For
 * tls.c (which hands the anchors to BearSSL) and the tests; the rest of
 * dock sees only tls.h. */
#ifndef DOCK_TLS_ANCHORS_H
#define DOCK_TLS_ANCHORS_H

#include <bearssl.h>
#include <stddef.h>

/* The anchors, loading the default store on the first call. With none,
 * returns NULL with *count 0 and in *why the reason, which names where
 * dock looked and what to do about it. */
const br_x509_trust_anchor *dock_tls_anchors(size_t *count, const char **why);

/* Replaces the trust store with the certificates of a PEM file and/or of
 * every regular file in the directories of dir (colon-separated), either
 * may be NULL. Malformed entries and duplicates are skipped. Returns the
 * number of anchors, or -1 with a message in err when there is none.
 * Sessions made before keep pointers into the old store: free them first.
 * For tests; dock itself loads the default store through dock_tls_anchors. */
int dock_tls_load_anchors_from(const char *file, const char *dir, char *err, size_t errlen);

#endif
