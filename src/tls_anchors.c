/* The trust anchors of the TLS sessions: CA certificates read from PEM
 * files (SSL_CERT_FILE, a distribution's bundle) or directories of them
 * (SSL_CERT_DIR, /etc/ssl/certs), decoded by BearSSL into the DN and public
 * key it checks chains against, bounded, and loaded once per run. */
#include "tls_anchors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds on the trust store: Debian's bundle is ~145 anchors in ~80 KiB,
 * so these only stop a runaway SSL_CERT_DIR or a huge file. */
#define ANCHORS_MAX		1024
#define ANCHOR_BYTES_MAX	(4u << 20)
#define ANCHOR_DN_MAX		1024
#define CERT_FILE_READ_MAX	(16u << 20)
#define CERT_DIR_FILES_MAX	4096
#define CERT_FILES_SEEN_MAX	1024

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


const br_x509_trust_anchor *dock_tls_anchors(size_t *count, const char **why)
{
	if (!store.loaded)
		store_load_default();
	*count = store.count;
	*why = store.err;
	return store.count > 0 ? store.ta : NULL;
}
