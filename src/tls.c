/* TLS client sessions on BearSSL, driven over the caller's non-blocking fd.
 *
 * BearSSL is a state machine with four buffers (records in and out,
 * application data in and out) and does no I/O itself, which is what an
 * epoll loop wants: every call here moves bytes between the engine and the
 * socket until the socket would block, then says which direction it waits
 * for. BearSSL 0.6 speaks TLS 1.0-1.2 only (no 1.3); we allow 1.2 alone. */
#include "tls.h"

#include <arpa/inet.h>
#include <bearssl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Records from the server can hold 16 KiB whatever we ask (the maximum
 * fragment length extension is optional for servers), so the input side
 * gets BearSSL's full size. Our own records are cut at 4 KiB: a pty read
 * or a hook request rarely exceeds that, and it saves 12 KiB per session.
 * The two sides are separate (full duplex) because a half-duplex buffer
 * cannot send while received data waits to be read, and dock stops reading
 * the peer while the command's terminal is full yet must still send its
 * output. */
#define TLS_OUT_PAYLOAD		4096
#define TLS_IBUF_SIZE		BR_SSL_BUFSIZE_INPUT
#define TLS_OBUF_SIZE		(BR_SSL_BUFSIZE_OUTPUT - 16384 + TLS_OUT_PAYLOAD)

/* Bounds on the trust store: Debian's bundle is ~145 anchors in ~80 KiB,
 * so these only stop a runaway SSL_CERT_DIR or a huge file. */
#define ANCHORS_MAX		1024
#define ANCHOR_BYTES_MAX	(4u << 20)
#define ANCHOR_DN_MAX		1024
#define CERT_FILE_READ_MAX	(16u << 20)
#define CERT_DIR_FILES_MAX	4096
#define CERT_FILES_SEEN_MAX	1024

/* The end-entity certificate is kept whole only for an IP-literal host,
 * whose iPAddress names BearSSL cannot check. */
#define EE_CERT_MAX		16384

/* Days from 0000-01-01 (BearSSL's epoch, proleptic Gregorian) to
 * 1970-01-01. */
#define DAYS_TO_UNIX_EPOCH	719528u

/* ---- trust anchors ---------------------------------------------------- */

static struct {
	bool loaded;
	br_x509_trust_anchor *ta;
	size_t count, cap;
	size_t bytes;
	char err[256];
} store;

struct anchor_loader {
	br_pem_decoder_context pem;
	br_x509_decoder_context x509;
	bool in_cert;
	bool dn_overflow;
	bool full;		/* a store bound was reached: stop reading */
	/* Files already read, by inode: /etc/ssl/certs links every CA file
	 * under a hash name too, and often holds the bundle itself. */
	struct file_id {
		dev_t dev;
		ino_t ino;
	} seen[CERT_FILES_SEEN_MAX];
	size_t nseen;
	size_t dn_len;
	unsigned char dn[ANCHOR_DN_MAX];
};

static void store_clear(void)
{
	for (size_t i = 0; i < store.count; i++)
		free(store.ta[i].dn.data);	/* one block per anchor: DN, then key */
	free(store.ta);
	memset(&store, 0, sizeof(store));
}

static void loader_dn(void *ctx, const void *buf, size_t len)
{
	struct anchor_loader *l = ctx;

	if (len > sizeof(l->dn) - l->dn_len) {
		l->dn_overflow = true;
		return;
	}
	memcpy(l->dn + l->dn_len, buf, len);
	l->dn_len += len;
}

static void loader_der(void *ctx, const void *buf, size_t len)
{
	struct anchor_loader *l = ctx;

	br_x509_decoder_push(&l->x509, buf, len);
}

static size_t pkey_len(const br_x509_pkey *pk)
{
	if (pk->key_type == BR_KEYTYPE_RSA)
		return pk->key.rsa.nlen + pk->key.rsa.elen;
	return pk->key.ec.qlen;
}

/* /etc/ssl/certs holds every CA three times (bundle, file, hash link), and
 * bundles overlap: an anchor already in the store is not added again. */
static bool anchor_known(const unsigned char *dn, size_t dn_len, const br_x509_pkey *pk)
{
	for (size_t i = 0; i < store.count; i++) {
		const br_x509_trust_anchor *ta = &store.ta[i];
		const br_x509_pkey *k = &ta->pkey;

		if (ta->dn.len != dn_len || k->key_type != pk->key_type ||
		    memcmp(ta->dn.data, dn, dn_len) != 0)
			continue;
		if (pk->key_type == BR_KEYTYPE_RSA) {
			if (k->key.rsa.nlen == pk->key.rsa.nlen && k->key.rsa.elen == pk->key.rsa.elen &&
			    memcmp(k->key.rsa.n, pk->key.rsa.n, pk->key.rsa.nlen) == 0 &&
			    memcmp(k->key.rsa.e, pk->key.rsa.e, pk->key.rsa.elen) == 0)
				return true;
		} else if (k->key.ec.curve == pk->key.ec.curve && k->key.ec.qlen == pk->key.ec.qlen &&
			   memcmp(k->key.ec.q, pk->key.ec.q, pk->key.ec.qlen) == 0) {
			return true;
		}
	}
	return false;
}

/* The decoder's key points into its own context, which the next
 * certificate reuses: DN and key bytes are copied into one block. */
static void loader_add(struct anchor_loader *l)
{
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&l->x509);
	br_x509_trust_anchor *ta;
	unsigned char *block;
	size_t klen, need;

	if (pk == NULL || l->dn_overflow || l->dn_len == 0 ||
	    (pk->key_type != BR_KEYTYPE_RSA && pk->key_type != BR_KEYTYPE_EC))
		return;
	if (anchor_known(l->dn, l->dn_len, pk))
		return;
	klen = pkey_len(pk);
	need = l->dn_len + klen + sizeof(*ta);
	if (store.count >= ANCHORS_MAX || store.bytes + need > ANCHOR_BYTES_MAX) {
		l->full = true;
		return;
	}
	if (store.count == store.cap) {
		size_t cap = store.cap ? store.cap * 2 : 64;
		br_x509_trust_anchor *grown;

		if (cap > ANCHORS_MAX)
			cap = ANCHORS_MAX;
		grown = realloc(store.ta, cap * sizeof(*grown));
		if (grown == NULL)
			return;
		store.ta = grown;
		store.cap = cap;
	}
	block = malloc(l->dn_len + klen);
	if (block == NULL)
		return;
	memcpy(block, l->dn, l->dn_len);
	ta = &store.ta[store.count];
	memset(ta, 0, sizeof(*ta));
	ta->dn.data = block;
	ta->dn.len = l->dn_len;
	/* Without a CA basic constraint an anchor only vouches for itself:
	 * BearSSL then accepts it as the server's own certificate (same name
	 * and key), like a self-signed leaf put in OpenSSL's store. */
	ta->flags = br_x509_decoder_isCA(&l->x509) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	block += l->dn_len;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		memcpy(block, pk->key.rsa.n, pk->key.rsa.nlen);
		memcpy(block + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.n = block;
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = block + pk->key.rsa.nlen;
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
	} else {
		memcpy(block, pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = block;
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	}
	store.count++;
	store.bytes += need;
}

static void loader_push(struct anchor_loader *l, const unsigned char *buf, size_t len)
{
	while (len > 0 && !l->full) {
		size_t n = br_pem_decoder_push(&l->pem, buf, len);
		const char *name;

		buf += n;
		len -= n;
		switch (br_pem_decoder_event(&l->pem)) {
		case BR_PEM_BEGIN_OBJ:
			name = br_pem_decoder_name(&l->pem);
			l->in_cert = strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0;
			if (l->in_cert) {
				l->dn_len = 0;
				l->dn_overflow = false;
				br_x509_decoder_init(&l->x509, loader_dn, l);
				br_pem_decoder_setdest(&l->pem, loader_der, l);
			} else {
				/* keys, CRLs, parameters: skipped */
				br_pem_decoder_setdest(&l->pem, NULL, NULL);
			}
			break;
		case BR_PEM_END_OBJ:
			if (l->in_cert)
				loader_add(l);
			l->in_cert = false;
			break;
		case BR_PEM_ERROR:
			/* A damaged object (bad base64, missing END line): drop
			 * it; a fresh decoder resynchronises on the next BEGIN
			 * line, so one bad entry does not hide the rest. */
			l->in_cert = false;
			br_pem_decoder_init(&l->pem);
			break;
		default:
			if (n == 0)
				return;	/* no progress and no event: never expected */
			break;
		}
	}
}

/* Reads one PEM file into the store. -1 with errno when it cannot be read
 * at all; a file without certificates is not an error here. */
static int load_file(struct anchor_loader *l, const char *path)
{
	unsigned char buf[4096];
	struct stat st;
	size_t total = 0;
	int fd;

	/* O_NONBLOCK: opening a FIFO named by mistake must not hang. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;

		close(fd);
		errno = e;
		return -1;
	}
	for (size_t i = 0; i < l->nseen; i++) {
		if (l->seen[i].dev == st.st_dev && l->seen[i].ino == st.st_ino) {
			close(fd);
			return 0;
		}
	}
	if (l->nseen < CERT_FILES_SEEN_MAX)
		l->seen[l->nseen++] = (struct file_id){ st.st_dev, st.st_ino };
	br_pem_decoder_init(&l->pem);
	l->in_cert = false;
	while (total < CERT_FILE_READ_MAX && !l->full) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		loader_push(l, buf, (size_t)n);
		total += (size_t)n;
	}
	/* BearSSL's PEM decoder only sees an END line once it is terminated,
	 * and some bundles lack the final newline. */
	loader_push(l, (const unsigned char *)"\n", 1);
	close(fd);
	return 0;
}

/* Every regular file of a directory (symlinks followed), not only the
 * hash-named links c_rehash makes: a directory of plain .pem files works. */
static int load_dir(struct anchor_loader *l, const char *path)
{
	struct dirent *de;
	size_t files = 0;
	DIR *d;

	d = opendir(path);	/* O_CLOEXEC in musl and glibc */
	if (d == NULL)
		return -1;
	while (!l->full && files < CERT_DIR_FILES_MAX && (de = readdir(d)) != NULL) {
		char full[4096];
		struct stat st;
		int n;

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(full))
			continue;
		if (stat(full, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		files++;
		(void)load_file(l, full);	/* one unreadable file must not hide the rest */
	}
	closedir(d);
	return 0;
}

int dock_tls_load_anchors_from(const char *file, const char *dir, char *err, size_t errlen)
{
	struct anchor_loader *l;
	int file_errno = 0, dir_errno = 0;

	store_clear();
	store.loaded = true;
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(store.err, sizeof(store.err), "cannot load CA certificates: %s", strerror(errno));
		goto out;
	}
	if (file != NULL && *file != '\0' && load_file(l, file) < 0)
		file_errno = errno;
	if (dir != NULL && *dir != '\0') {
		/* A colon-separated list, as OpenSSL reads SSL_CERT_DIR. */
		const char *p = dir;

		while (*p != '\0' && !l->full) {
			size_t n = strcspn(p, ":");
			char one[4096];

			if (n > 0 && n < sizeof(one)) {
				memcpy(one, p, n);
				one[n] = '\0';
				if (load_dir(l, one) < 0 && dir_errno == 0)
					dir_errno = errno;
			}
			p += n;
			if (*p == ':')
				p++;
		}
	}
	free(l);
	if (store.count > 0)
		goto out;
	if (file != NULL && *file != '\0' && dir != NULL && *dir != '\0')
		snprintf(store.err, sizeof(store.err), "no CA certificate in %s nor in directory %s", file, dir);
	else if (file != NULL && *file != '\0')
		snprintf(store.err, sizeof(store.err), "no CA certificate in %s%s%s", file,
			 file_errno ? ": " : "", file_errno ? strerror(file_errno) : "");
	else if (dir != NULL && *dir != '\0')
		snprintf(store.err, sizeof(store.err), "no CA certificate in directory %s%s%s", dir,
			 dir_errno ? ": " : "", dir_errno ? strerror(dir_errno) : "");
	else
		snprintf(store.err, sizeof(store.err), "no CA certificate source given");
out:
	if (store.count == 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", store.err);
		return -1;
	}
	return (int)store.count;
}

/* SSL_CERT_FILE / SSL_CERT_DIR replace the system store when either is
 * set (so a test CA is not silently mixed with the system's); otherwise
 * the first system location that yields an anchor wins. */
static void store_load_default(void)
{
	static const char *const files[] = {
		"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu, Alpine, Arch */
		"/etc/pki/tls/certs/ca-bundle.crt",	/* Fedora, RHEL */
		"/etc/ssl/cert.pem",			/* Alpine, macOS-like layouts */
	};
	const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");
	struct stat st;

	if ((file != NULL && *file != '\0') || (dir != NULL && *dir != '\0')) {
		(void)dock_tls_load_anchors_from(file, dir, NULL, 0);
		return;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (stat(files[i], &st) == 0 && dock_tls_load_anchors_from(files[i], NULL, NULL, 0) > 0)
			return;
	if (stat("/etc/ssl/certs", &st) == 0 && dock_tls_load_anchors_from(NULL, "/etc/ssl/certs", NULL, 0) > 0)
		return;
	snprintf(store.err, sizeof(store.err),
		 "no CA certificates found (looked in %s, %s, %s and /etc/ssl/certs); "
		 "set SSL_CERT_FILE or SSL_CERT_DIR, or use --tls-insecure",
		 files[0], files[1], files[2]);
}

/* ---- iPAddress names -------------------------------------------------- */

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

int dock_tls_cert_matches_ip(const unsigned char *der, size_t len, const unsigned char *ip, size_t iplen)
{
	static const unsigned char san_oid[] = { 0x55, 0x1d, 0x11 };	/* 2.5.29.17 */
	const unsigned char *p = der, *end = der + len, *v;
	size_t vlen;
	unsigned tag;

	/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... } */
	if (der_next(&p, end, &tag, &v, &vlen) < 0 || tag != 0x30)
		return 0;
	p = v;
	end = v + vlen;
	if (der_next(&p, end, &tag, &v, &vlen) < 0 || tag != 0x30)
		return 0;
	p = v;
	end = v + vlen;
	while (p < end) {
		const unsigned char *ext, *ext_end;

		if (der_next(&p, end, &tag, &v, &vlen) < 0)
			return 0;
		if (tag != 0xa3)	/* [3] EXPLICIT Extensions */
			continue;
		ext = v;
		ext_end = v + vlen;
		if (der_next(&ext, ext_end, &tag, &v, &vlen) < 0 || tag != 0x30)
			return 0;
		ext = v;
		ext_end = v + vlen;
		while (ext < ext_end) {
			const unsigned char *e, *e_end, *names, *names_end;

			/* Extension ::= SEQUENCE { extnID, critical BOOLEAN
			 * OPTIONAL, extnValue OCTET STRING } */
			if (der_next(&ext, ext_end, &tag, &v, &vlen) < 0 || tag != 0x30)
				return 0;
			e = v;
			e_end = v + vlen;
			if (der_next(&e, e_end, &tag, &v, &vlen) < 0 || tag != 0x06)
				return 0;
			if (vlen != sizeof(san_oid) || memcmp(v, san_oid, sizeof(san_oid)) != 0)
				continue;
			if (der_next(&e, e_end, &tag, &v, &vlen) < 0)
				return 0;
			if (tag == 0x01 && der_next(&e, e_end, &tag, &v, &vlen) < 0)
				return 0;
			if (tag != 0x04)
				return 0;
			names = v;
			names_end = v + vlen;
			if (der_next(&names, names_end, &tag, &v, &vlen) < 0 || tag != 0x30)
				return 0;
			names = v;
			names_end = v + vlen;
			while (names < names_end) {
				if (der_next(&names, names_end, &tag, &v, &vlen) < 0)
					return 0;
				/* iPAddress [7] IMPLICIT OCTET STRING */
				if (tag == 0x87 && vlen == iplen && memcmp(v, ip, iplen) == 0)
					return 1;
			}
			return 0;	/* one SAN extension per certificate */
		}
		return 0;
	}
	return 0;
}

/* ---- sessions ----------------------------------------------------------- */

enum tls_phase {
	TLS_OPEN,
	TLS_CLEAN_CLOSE,	/* close_notify exchanged: reads return 0 */
	TLS_FAILED,		/* msg (or the engine's error) says why */
};

/* An X.509 class of our own, in front of the minimal engine: for an IP
 * host it checks the iPAddress names BearSSL ignores; in insecure mode it
 * accepts any chain. The vtable pointer must come first: BearSSL hands
 * the methods a pointer to it. */
struct tls_x509 {
	const br_x509_class *vtable;
	struct dock_tls *t;
	uint32_t certs;			/* certificates seen in this chain */
	unsigned char *ee;		/* IP mode: the end-entity certificate */
	size_t ee_len, ee_size;
	bool ee_unusable;
	br_x509_decoder_context dec;	/* insecure mode: the EE key */
};

struct dock_tls {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	struct tls_x509 wrap;
	int fd;
	enum tls_phase phase;
	bool handshake_done;
	bool closing;		/* dock_tls_close was called */
	bool not_socket;
	unsigned char ip[16];
	size_t ip_len;
	char host[256];
	char msg[192];
	unsigned char ibuf[TLS_IBUF_SIZE];
	unsigned char obuf[TLS_OBUF_SIZE];
};

static struct tls_x509 *wrap_of(const br_x509_class *const *ctx)
{
	return (struct tls_x509 *)(void *)ctx;
}

static const br_x509_class **inner_of(struct tls_x509 *w)
{
	return &w->t->xc.vtable;
}

static void ip_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_x509 *w = wrap_of(ctx);

	(void)server_name;
	w->certs = 0;
	w->ee_len = 0;
	w->ee_unusable = false;
	/* NULL: no DNS name check, the address is checked at the end. */
	(*inner_of(w))->start_chain(inner_of(w), NULL);
}

static void ip_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_x509 *w = wrap_of(ctx);

	(*inner_of(w))->start_cert(inner_of(w), length);
	if (w->certs != 0)
		return;
	if (length > EE_CERT_MAX) {
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
	struct tls_x509 *w = wrap_of(ctx);

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
	struct tls_x509 *w = wrap_of(ctx);

	(*inner_of(w))->end_cert(inner_of(w));
	w->certs++;
}

static unsigned ip_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *w = wrap_of(ctx);
	unsigned err = (*inner_of(w))->end_chain(inner_of(w));

	if (err != 0)
		return err;
	if (w->ee_unusable || !dock_tls_cert_matches_ip(w->ee, w->ee_len, w->t->ip, w->t->ip_len))
		return BR_ERR_X509_BAD_SERVER_NAME;
	return 0;
}

static const br_x509_pkey *ip_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct tls_x509 *w = wrap_of(ctx);

	return (*inner_of(w))->get_pkey((const br_x509_class *const *)inner_of(w), usages);
}

static const br_x509_class tls_x509_ip_vtable = {
	sizeof(struct tls_x509),
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
	struct tls_x509 *w = wrap_of(ctx);

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
	struct tls_x509 *w = wrap_of(ctx);

	if (w->certs == 0)
		br_x509_decoder_push(&w->dec, buf, len);
}

static void insecure_end_cert(const br_x509_class **ctx)
{
	wrap_of(ctx)->certs++;
}

static unsigned insecure_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *w = wrap_of(ctx);

	if (w->certs == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	return (unsigned)br_x509_decoder_last_error(&w->dec);
}

static const br_x509_pkey *insecure_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct tls_x509 *w = wrap_of(ctx);

	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&w->dec);
}

static const br_x509_class tls_x509_insecure_vtable = {
	sizeof(struct tls_x509),
	insecure_start_chain,
	insecure_start_cert,
	insecure_append,
	insecure_end_cert,
	insecure_end_chain,
	insecure_get_pkey,
};

/* Our own profile rather than br_ssl_client_init_full(): TLS 1.2 with
 * ECDHE and AEAD suites only (what current servers offer), which leaves
 * out CBC, 3DES, CCM, static RSA/ECDH and the TLS 1.0 PRF, and their code
 * out of the static binary. Certificates may be RSA or ECDSA (P-256/384/
 * 521); SHA-1 stays for servers that sign handshakes with it. */
static void tls_profile_init(struct dock_tls *t, const br_x509_trust_anchor *ta, size_t n)
{
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	};
	static const struct {
		int id;
		const br_hash_class *impl;
	} hashes[] = {
		{ br_sha1_ID, &br_sha1_vtable },
		{ br_sha224_ID, &br_sha224_vtable },
		{ br_sha256_ID, &br_sha256_vtable },
		{ br_sha384_ID, &br_sha384_vtable },
		{ br_sha512_ID, &br_sha512_vtable },
	};
	br_ssl_engine_context *eng = &t->cc.eng;

	br_ssl_client_zero(&t->cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof(suites) / sizeof(suites[0]));
	br_x509_minimal_init(&t->xc, &br_sha256_vtable, ta, n);
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		br_ssl_engine_set_hash(eng, hashes[i].id, hashes[i].impl);
		br_x509_minimal_set_hash(&t->xc, hashes[i].id, hashes[i].impl);
	}
	br_x509_minimal_set_rsa(&t->xc, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_ecdsa(&t->xc, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default());
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_default_ecdsa(eng);
	br_ssl_engine_set_default_ec(eng);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_x509(eng, &t->xc.vtable);
	/* A renegotiation would make the application data flow stop
	 * mid-stream in ways the caller's loop does not expect. */
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
}

static void tls_set_error(struct dock_tls *t, const char *fmt, const char *arg)
{
	snprintf(t->msg, sizeof(t->msg), fmt, arg);
	t->phase = TLS_FAILED;
}

/* Writing after a clean close is an error, but reads still return 0. */
static ssize_t tls_write_after_close(struct dock_tls *t)
{
	snprintf(t->msg, sizeof(t->msg), "%s",
		 t->closing ? "TLS connection closed" : "TLS connection closed by the peer");
	return DOCK_TLS_ERROR;
}

/* An IP literal (brackets already removed; an IPv6 zone is ignored). */
static void tls_parse_ip(struct dock_tls *t)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	size_t n = strcspn(t->host, "%");

	if (n >= sizeof(tmp))
		return;
	memcpy(tmp, t->host, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, t->ip) == 1)
		t->ip_len = 4;
	else if (inet_pton(AF_INET6, tmp, t->ip) == 1)
		t->ip_len = 16;
}

struct dock_tls *dock_tls_new(int fd, const char *host, bool insecure, char *err, size_t errlen)
{
	unsigned char seed[32];
	struct dock_tls *t;
	struct timespec now;
	size_t hlen;

	if (host == NULL)
		host = "";
	hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;		/* "example.com." is example.com; SNI forbids the dot */
	if (hlen >= sizeof(t->host)) {
		snprintf(err, errlen, "host name too long for TLS");
		return NULL;
	}
	if (!insecure) {
		if (hlen == 0) {
			snprintf(err, errlen, "no host name to verify the certificate against");
			return NULL;
		}
		if (!store.loaded)
			store_load_default();
		if (store.count == 0) {
			snprintf(err, errlen, "%s", store.err);
			return NULL;
		}
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	t->fd = fd;
	memcpy(t->host, host, hlen);
	tls_parse_ip(t);
	tls_profile_init(t, insecure ? NULL : store.ta, insecure ? 0 : store.count);
	/* Certificates are checked against the wall clock now, not whatever a
	 * build of BearSSL might do without one. */
	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && now.tv_sec > 0)
		br_x509_minimal_set_time(&t->xc, (uint32_t)(now.tv_sec / 86400) + DAYS_TO_UNIX_EPOCH,
					 (uint32_t)(now.tv_sec % 86400));
	br_ssl_engine_set_buffers_bidi(&t->cc.eng, t->ibuf, sizeof(t->ibuf), t->obuf, sizeof(t->obuf));
	t->wrap.t = t;
	if (insecure) {
		t->wrap.vtable = &tls_x509_insecure_vtable;
		br_ssl_engine_set_x509(&t->cc.eng, &t->wrap.vtable);
	} else if (t->ip_len > 0) {
		t->wrap.vtable = &tls_x509_ip_vtable;
		br_ssl_engine_set_x509(&t->cc.eng, &t->wrap.vtable);
	}
	/* BearSSL also reads /dev/urandom itself; getrandom() keeps working
	 * in a container without /dev. */
	if (getrandom(seed, sizeof(seed), 0) == (ssize_t)sizeof(seed))
		br_ssl_engine_inject_entropy(&t->cc.eng, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	/* The name gives SNI and, through the minimal engine, the name check;
	 * an IP literal is neither sent as SNI (RFC 6066) nor name-checked
	 * there. */
	if (!br_ssl_client_reset(&t->cc, t->ip_len > 0 || hlen == 0 ? NULL : t->host, 0)) {
		snprintf(err, errlen, "%s", dock_tls_error(t));
		dock_tls_free(t);
		return NULL;
	}
	return t;
}

void dock_tls_free(struct dock_tls *t)
{
	if (t == NULL)
		return;
	free(t->wrap.ee);
	explicit_bzero(t, sizeof(*t));	/* session keys */
	free(t);
}

/* Pushes pending records to the socket: 0 when none is left. */
static int tls_send(struct dock_tls *t)
{
	for (;;) {
		size_t len;
		unsigned char *buf = br_ssl_engine_sendrec_buf(&t->cc.eng, &len);
		ssize_t n;

		if (buf == NULL)
			return 0;
		/* MSG_NOSIGNAL: a peer gone away is an error to report, not
		 * a SIGPIPE. */
		n = t->not_socket ? write(t->fd, buf, len) : send(t->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK) {
			t->not_socket = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return DOCK_TLS_WANT_WRITE;
		if (n <= 0) {
			tls_set_error(t, "send: %s", n < 0 ? strerror(errno) : "no progress");
			return DOCK_TLS_ERROR;
		}
		br_ssl_engine_sendrec_ack(&t->cc.eng, (size_t)n);
	}
}

/* One read from the socket into the engine: 1 after progress, 0 at EOF. */
static int tls_recv(struct dock_tls *t)
{
	for (;;) {
		size_t len;
		unsigned char *buf = br_ssl_engine_recvrec_buf(&t->cc.eng, &len);
		ssize_t n;

		if (buf == NULL)
			return 1;
		n = t->not_socket ? read(t->fd, buf, len) : recv(t->fd, buf, len, 0);
		if (n < 0 && errno == ENOTSOCK) {
			t->not_socket = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return DOCK_TLS_WANT_READ;
		if (n < 0) {
			tls_set_error(t, "recv: %s", strerror(errno));
			return DOCK_TLS_ERROR;
		}
		if (n == 0)
			return 0;
		br_ssl_engine_recvrec_ack(&t->cc.eng, (size_t)n);
		return 1;
	}
}

/* The engine closed: 0 for a close_notify exchange, ERROR otherwise. */
static int tls_closed(struct dock_tls *t)
{
	if (t->phase == TLS_OPEN)
		t->phase = br_ssl_engine_last_error(&t->cc.eng) == BR_ERR_OK ? TLS_CLEAN_CLOSE : TLS_FAILED;
	return t->phase == TLS_CLEAN_CLOSE ? 0 : DOCK_TLS_ERROR;
}

/* After the peer's close_notify BearSSL stops taking records and
 * application data and only wants to send its own close_notify. A peer
 * that closed its socket right after may make that send fail: the session
 * still ended cleanly. */
static bool tls_peer_said_goodbye(const struct dock_tls *t, unsigned st)
{
	return t->handshake_done &&
	       (st & (BR_SSL_CLOSED | BR_SSL_RECVREC | BR_SSL_RECVAPP | BR_SSL_SENDAPP)) == 0;
}

int dock_tls_handshake(struct dock_tls *t)
{
	for (;;) {
		unsigned st;
		int r;

		if (t->phase == TLS_FAILED)
			return DOCK_TLS_ERROR;
		if (t->handshake_done)
			return 0;
		st = br_ssl_engine_current_state(&t->cc.eng);
		if (st & BR_SSL_CLOSED) {
			if (tls_closed(t) == 0)
				tls_set_error(t, "%s", "connection closed during the TLS handshake");
			return DOCK_TLS_ERROR;
		}
		if (st & BR_SSL_SENDREC) {
			r = tls_send(t);
			if (r != 0)
				return r;
			continue;
		}
		if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) {
			t->handshake_done = true;
			return 0;
		}
		if (st & BR_SSL_RECVREC) {
			r = tls_recv(t);
			if (r == 0) {
				tls_set_error(t, "%s", "connection closed during the TLS handshake");
				return DOCK_TLS_ERROR;
			}
			if (r < 0)
				return r;
			continue;
		}
		tls_set_error(t, "%s", "TLS engine stalled");
		return DOCK_TLS_ERROR;
	}
}

ssize_t dock_tls_read(struct dock_tls *t, void *buf, size_t len)
{
	int r;

	if (t->phase == TLS_CLEAN_CLOSE)
		return 0;
	r = dock_tls_handshake(t);
	if (r != 0)
		return r;
	if (len == 0)
		return 0;
	for (;;) {
		unsigned st = br_ssl_engine_current_state(&t->cc.eng);
		bool write_blocked = false;

		if (t->phase != TLS_OPEN)
			return t->phase == TLS_CLEAN_CLOSE ? 0 : DOCK_TLS_ERROR;
		if (st & BR_SSL_RECVAPP) {
			size_t avail;
			unsigned char *app = br_ssl_engine_recvapp_buf(&t->cc.eng, &avail);

			if (avail > len)
				avail = len;
			memcpy(buf, app, avail);
			br_ssl_engine_recvapp_ack(&t->cc.eng, avail);
			return (ssize_t)avail;
		}
		if (st & BR_SSL_CLOSED)
			return tls_closed(t);
		if (st & BR_SSL_SENDREC) {
			r = tls_send(t);
			if (r == DOCK_TLS_ERROR && tls_peer_said_goodbye(t, st)) {
				t->phase = TLS_CLEAN_CLOSE;
				return 0;
			}
			if (r == DOCK_TLS_ERROR)
				return r;
			if (r == 0)
				continue;
			write_blocked = true;
		}
		if (st & BR_SSL_RECVREC) {
			r = tls_recv(t);
			if (r == 1)
				continue;
			if (r == 0 && t->closing) {
				/* We asked to close; many peers just hang up. */
				t->phase = TLS_CLEAN_CLOSE;
				return 0;
			}
			if (r == 0) {
				/* Without close_notify the end of the stream is not
				 * authenticated: an attacker could have cut it. */
				tls_set_error(t, "%s", "connection closed without TLS close_notify");
				return DOCK_TLS_ERROR;
			}
			return r;
		}
		if (write_blocked)
			return DOCK_TLS_WANT_WRITE;
		tls_set_error(t, "%s", "TLS engine stalled");
		return DOCK_TLS_ERROR;
	}
}

ssize_t dock_tls_write(struct dock_tls *t, const void *buf, size_t len)
{
	int r;

	if (t->phase == TLS_CLEAN_CLOSE || t->closing)
		return tls_write_after_close(t);
	r = dock_tls_handshake(t);
	if (r != 0)
		return r;
	if (len == 0)
		return 0;
	for (;;) {
		unsigned st = br_ssl_engine_current_state(&t->cc.eng);

		if (t->phase != TLS_OPEN)
			return DOCK_TLS_ERROR;
		if (st & BR_SSL_CLOSED)
			return tls_closed(t) == 0 ? tls_write_after_close(t) : DOCK_TLS_ERROR;
		if (st & BR_SSL_SENDAPP) {
			size_t avail;
			unsigned char *app = br_ssl_engine_sendapp_buf(&t->cc.eng, &avail);

			if (avail > len)
				avail = len;
			memcpy(app, buf, avail);
			br_ssl_engine_sendapp_ack(&t->cc.eng, avail);
			/* A record per write: interactive output must not wait
			 * for a full record. What the socket does not take now
			 * goes with dock_tls_flush() on EPOLLOUT. */
			br_ssl_engine_flush(&t->cc.eng, 0);
			if (tls_send(t) == DOCK_TLS_ERROR)
				return DOCK_TLS_ERROR;
			return (ssize_t)avail;
		}
		if (st & BR_SSL_SENDREC) {
			r = tls_send(t);
			if (r != 0)
				return r;
			continue;
		}
		if ((st & BR_SSL_RECVREC) && !(st & BR_SSL_RECVAPP)) {
			/* Handshake records must come in before data may go
			 * out; application data stays in the engine for
			 * dock_tls_read(). */
			r = tls_recv(t);
			if (r == 1)
				continue;
			if (r == 0) {
				tls_set_error(t, "%s", "connection closed without TLS close_notify");
				return DOCK_TLS_ERROR;
			}
			return r;
		}
		tls_set_error(t, "%s", "TLS engine stalled");
		return DOCK_TLS_ERROR;
	}
}

int dock_tls_flush(struct dock_tls *t)
{
	unsigned st;

	if (t->phase == TLS_FAILED)
		return DOCK_TLS_ERROR;
	st = br_ssl_engine_current_state(&t->cc.eng);
	if (st & BR_SSL_CLOSED)
		return tls_closed(t);
	br_ssl_engine_flush(&t->cc.eng, 0);
	return tls_send(t);
}

void dock_tls_close(struct dock_tls *t)
{
	if (t->phase != TLS_OPEN || (br_ssl_engine_current_state(&t->cc.eng) & BR_SSL_CLOSED))
		return;
	t->closing = true;
	br_ssl_engine_close(&t->cc.eng);
	(void)tls_send(t);
}

unsigned dock_tls_events(const struct dock_tls *t)
{
	unsigned st, ev = 0;

	if (t->phase != TLS_OPEN)
		return 0;
	st = br_ssl_engine_current_state(&t->cc.eng);
	if (st & BR_SSL_CLOSED)
		return 0;
	if (st & BR_SSL_SENDREC)
		ev |= EPOLLOUT;
	if (st & BR_SSL_RECVREC)
		ev |= EPOLLIN;
	return ev;
}

static const char *alert_name(int alert)
{
	switch (alert) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "alert";
	}
}

const char *dock_tls_error(const struct dock_tls *t)
{
	/* Single-threaded dock: one buffer for the formatted cases. */
	static char buf[96];
	int err;

	if (t == NULL)
		return "TLS error";
	if (t->msg[0] != '\0')
		return t->msg;
	err = br_ssl_engine_last_error(&t->cc.eng);
	switch (err) {
	case BR_ERR_OK: return "no TLS error";
	case BR_ERR_X509_NOT_TRUSTED: return "certificate not trusted";
	case BR_ERR_X509_BAD_SERVER_NAME: return "certificate host name mismatch";
	case BR_ERR_X509_EXPIRED: return "certificate expired or not yet valid";
	case BR_ERR_X509_NOT_CA: return "certificate chain: an issuer is not a CA";
	case BR_ERR_X509_BAD_SIGNATURE: return "certificate signature does not verify";
	case BR_ERR_X509_WEAK_PUBLIC_KEY: return "certificate key too weak";
	case BR_ERR_X509_EMPTY_CHAIN: return "server sent no certificate";
	case BR_ERR_X509_CRITICAL_EXTENSION: return "certificate has an unsupported critical extension";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "certificate key usage forbids TLS server use";
	case BR_ERR_X509_UNSUPPORTED: return "certificate uses an unsupported algorithm";
	case BR_ERR_X509_LIMIT_EXCEEDED: return "certificate chain too long";
	case BR_ERR_X509_TIME_UNKNOWN: return "current time unknown: cannot check certificate dates";
	case BR_ERR_UNSUPPORTED_VERSION:
	case BR_ERR_BAD_VERSION: return "peer does not speak TLS 1.2 (or not TLS at all)";
	case BR_ERR_BAD_MAC: return "TLS record failed authentication (bad MAC)";
	case BR_ERR_NO_RANDOM: return "no random source for TLS";
	case BR_ERR_BAD_CIPHER_SUITE: return "server chose a cipher suite we did not offer";
	case BR_ERR_BAD_SIGNATURE: return "server key exchange signature does not verify";
	case BR_ERR_WRONG_KEY_USAGE: return "server certificate key does not fit the cipher suite";
	case BR_ERR_UNEXPECTED: return "unexpected TLS message";
	case BR_ERR_TOO_LARGE: return "TLS record too large";
	case BR_ERR_IO: return "TLS I/O error";
	}
	if (err >= BR_ERR_X509_OK && err < BR_ERR_RECV_FATAL_ALERT)
		snprintf(buf, sizeof(buf), "certificate could not be decoded (TLS error %d)", err);
	else if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
		snprintf(buf, sizeof(buf), "peer sent TLS alert %d (%s)", err - BR_ERR_RECV_FATAL_ALERT,
			 alert_name(err - BR_ERR_RECV_FATAL_ALERT));
	else if (err >= BR_ERR_SEND_FATAL_ALERT)
		snprintf(buf, sizeof(buf), "TLS handshake aborted with alert %d (%s)", err - BR_ERR_SEND_FATAL_ALERT,
			 alert_name(err - BR_ERR_SEND_FATAL_ALERT));
	else
		snprintf(buf, sizeof(buf), "TLS error %d", err);
	return buf;
}
