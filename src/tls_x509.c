/* dock's X.509 classes (see tls_x509.h). Each wraps BearSSL's callbacks:
 * start_chain, then per certificate start_cert / append (its DER bytes, in
 * pieces) / end_cert, then end_chain (0 or an error) and get_pkey. */
#include "tls_x509.h"

#include <stdlib.h>
#include <string.h>

#include "x509ip.h"

static struct dock_tls_x509 *wrap_of(const br_x509_class *const *ctx)
{
	return (struct dock_tls_x509 *)(void *)ctx;
}

static const br_x509_class **inner_of(struct dock_tls_x509 *w)
{
	return w->inner;
}

static void ip_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	(void)server_name;
	w->certs = 0;
	w->ee_len = 0;
	w->ee_unusable = false;
	/* NULL: no DNS name check, the address is checked at the end. */
	(*inner_of(w))->start_chain(inner_of(w), NULL);
}

static void ip_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	(*inner_of(w))->start_cert(inner_of(w), length);
	if (w->certs != 0)
		return;
	if (length > DOCK_TLS_EE_CERT_MAX) {
		w->ee_unusable = true;
	} else if (length > w->ee_size) {
		unsigned char *b = realloc(w->ee, length);

		if (b == NULL) {
			w->ee_unusable = true;
		} else {
			w->ee = b;
			w->ee_size = length;
		}
	}
}

static void ip_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	(*inner_of(w))->append(inner_of(w), buf, len);
	if (w->certs != 0 || w->ee_unusable)
		return;
	if (len > w->ee_size - w->ee_len) {
		w->ee_unusable = true;
		return;
	}
	memcpy(w->ee + w->ee_len, buf, len);
	w->ee_len += len;
}

static void ip_end_cert(const br_x509_class **ctx)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	(*inner_of(w))->end_cert(inner_of(w));
	w->certs++;
}

static unsigned ip_end_chain(const br_x509_class **ctx)
{
	struct dock_tls_x509 *w = wrap_of(ctx);
	unsigned err = (*inner_of(w))->end_chain(inner_of(w));

	if (err != 0)
		return err;
	if (w->ee_unusable || !dock_x509ip_cert_matches(w->ee, w->ee_len, w->ip, w->ip_len))
		return BR_ERR_X509_BAD_SERVER_NAME;
	return 0;
}

static const br_x509_pkey *ip_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	return (*inner_of(w))->get_pkey((const br_x509_class *const *)inner_of(w), usages);
}

const br_x509_class dock_tls_x509_ip_vtable = {
	sizeof(struct dock_tls_x509),
	ip_start_chain,
	ip_start_cert,
	ip_append,
	ip_end_cert,
	ip_end_chain,
	ip_get_pkey,
};

/* Insecure mode reads the key of the first certificate with the plain
 * decoder rather than through the minimal engine: the minimal engine stops
 * at the first failure (expired, wrong name) and then returns no key. */
static void insecure_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	(void)server_name;
	w->certs = 0;
	br_x509_decoder_init(&w->dec, NULL, NULL);
}

static void insecure_start_cert(const br_x509_class **ctx, uint32_t length)
{
	(void)ctx;
	(void)length;
}

static void insecure_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	if (w->certs == 0)
		br_x509_decoder_push(&w->dec, buf, len);
}

static void insecure_end_cert(const br_x509_class **ctx)
{
	wrap_of(ctx)->certs++;
}

static unsigned insecure_end_chain(const br_x509_class **ctx)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	if (w->certs == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	return (unsigned)br_x509_decoder_last_error(&w->dec);
}

static const br_x509_pkey *insecure_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct dock_tls_x509 *w = wrap_of(ctx);

	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&w->dec);
}

const br_x509_class dock_tls_x509_insecure_vtable = {
	sizeof(struct dock_tls_x509),
	insecure_start_chain,
	insecure_start_cert,
	insecure_append,
	insecure_end_cert,
	insecure_end_chain,
	insecure_get_pkey,
};
