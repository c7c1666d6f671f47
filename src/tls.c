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
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tls_anchors.h"
#include "tls_x509.h"

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

/* Days from 0000-01-01 (BearSSL's epoch, proleptic Gregorian) to
 * 1970-01-01. */
#define DAYS_TO_UNIX_EPOCH	719528u

enum tls_phase {
	TLS_OPEN,
	TLS_CLEAN_CLOSE,	/* close_notify exchanged: reads return 0 */
	TLS_FAILED,		/* msg (or the engine's error) says why */
};

struct dock_tls {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	struct dock_tls_x509 wrap;	/* before xc for an IP host; instead of it when insecure */
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
	return DOCK_IO_ERROR;
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
	const br_x509_trust_anchor *ta = NULL;
	const char *why;
	unsigned char seed[32];
	struct dock_tls *t;
	size_t nta = 0;
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
		ta = dock_tls_anchors(&nta, &why);
		if (ta == NULL) {
			snprintf(err, errlen, "%s", why);
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
	tls_profile_init(t, ta, nta);
	/* Certificates are checked against the wall clock now, not whatever a
	 * build of BearSSL might do without one. */
	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && now.tv_sec > 0)
		br_x509_minimal_set_time(&t->xc, (uint32_t)(now.tv_sec / 86400) + DAYS_TO_UNIX_EPOCH,
					 (uint32_t)(now.tv_sec % 86400));
	br_ssl_engine_set_buffers_bidi(&t->cc.eng, t->ibuf, sizeof(t->ibuf), t->obuf, sizeof(t->obuf));
	t->wrap.inner = &t->xc.vtable;
	t->wrap.ip = t->ip;
	t->wrap.ip_len = t->ip_len;
	if (insecure) {
		t->wrap.vtable = &dock_tls_x509_insecure_vtable;
		br_ssl_engine_set_x509(&t->cc.eng, &t->wrap.vtable);
	} else if (t->ip_len > 0) {
		t->wrap.vtable = &dock_tls_x509_ip_vtable;
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

/* Pushes pending records to the socket: DOCK_IO_OK when none is left. */
static enum dock_io_result tls_send(struct dock_tls *t)
{
	for (;;) {
		size_t len;
		unsigned char *buf = br_ssl_engine_sendrec_buf(&t->cc.eng, &len);
		ssize_t n;

		if (buf == NULL)
			return DOCK_IO_OK;
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
			return DOCK_IO_WANT_WRITE;
		if (n <= 0) {
			tls_set_error(t, "send: %s", n < 0 ? strerror(errno) : "no progress");
			return DOCK_IO_ERROR;
		}
		br_ssl_engine_sendrec_ack(&t->cc.eng, (size_t)n);
	}
}

/* One read from the socket into the engine: 1 after progress, 0 at EOF,
 * or DOCK_IO_WANT_READ / DOCK_IO_ERROR. */
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
			return DOCK_IO_WANT_READ;
		if (n < 0) {
			tls_set_error(t, "recv: %s", strerror(errno));
			return DOCK_IO_ERROR;
		}
		if (n == 0)
			return 0;
		br_ssl_engine_recvrec_ack(&t->cc.eng, (size_t)n);
		return 1;
	}
}

/* The engine closed: DOCK_IO_OK for a close_notify exchange, DOCK_IO_ERROR
 * otherwise. */
static enum dock_io_result tls_closed(struct dock_tls *t)
{
	if (t->phase == TLS_OPEN)
		t->phase = br_ssl_engine_last_error(&t->cc.eng) == BR_ERR_OK ? TLS_CLEAN_CLOSE : TLS_FAILED;
	return t->phase == TLS_CLEAN_CLOSE ? DOCK_IO_OK : DOCK_IO_ERROR;
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

enum dock_io_result dock_tls_handshake(struct dock_tls *t)
{
	for (;;) {
		unsigned st;
		int r;

		if (t->phase == TLS_FAILED)
			return DOCK_IO_ERROR;
		if (t->handshake_done)
			return DOCK_IO_OK;
		st = br_ssl_engine_current_state(&t->cc.eng);
		if (st & BR_SSL_CLOSED) {
			if (tls_closed(t) == DOCK_IO_OK)
				tls_set_error(t, "%s", "connection closed during the TLS handshake");
			return DOCK_IO_ERROR;
		}
		if (st & BR_SSL_SENDREC) {
			r = tls_send(t);
			if (r != DOCK_IO_OK)
				return r;
			continue;
		}
		if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) {
			t->handshake_done = true;
			return DOCK_IO_OK;
		}
		if (st & BR_SSL_RECVREC) {
			r = tls_recv(t);
			if (r == 0) {
				tls_set_error(t, "%s", "connection closed during the TLS handshake");
				return DOCK_IO_ERROR;
			}
			if (r < 0)
				return r;
			continue;
		}
		tls_set_error(t, "%s", "TLS engine stalled");
		return DOCK_IO_ERROR;
	}
}

ssize_t dock_tls_read(struct dock_tls *t, void *buf, size_t len)
{
	int r;

	if (t->phase == TLS_CLEAN_CLOSE)
		return 0;
	r = dock_tls_handshake(t);
	if (r != DOCK_IO_OK)
		return r;
	if (len == 0)
		return 0;
	for (;;) {
		unsigned st = br_ssl_engine_current_state(&t->cc.eng);
		bool write_blocked = false;

		if (t->phase != TLS_OPEN)
			return t->phase == TLS_CLEAN_CLOSE ? 0 : DOCK_IO_ERROR;
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
			if (r == DOCK_IO_ERROR && tls_peer_said_goodbye(t, st)) {
				t->phase = TLS_CLEAN_CLOSE;
				return 0;
			}
			if (r == DOCK_IO_ERROR)
				return r;
			if (r == DOCK_IO_OK)
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
				return DOCK_IO_ERROR;
			}
			return r;
		}
		if (write_blocked)
			return DOCK_IO_WANT_WRITE;
		tls_set_error(t, "%s", "TLS engine stalled");
		return DOCK_IO_ERROR;
	}
}

ssize_t dock_tls_write(struct dock_tls *t, const void *buf, size_t len)
{
	int r;

	if (t->phase == TLS_CLEAN_CLOSE || t->closing)
		return tls_write_after_close(t);
	r = dock_tls_handshake(t);
	if (r != DOCK_IO_OK)
		return r;
	if (len == 0)
		return 0;
	for (;;) {
		unsigned st = br_ssl_engine_current_state(&t->cc.eng);

		if (t->phase != TLS_OPEN)
			return DOCK_IO_ERROR;
		if (st & BR_SSL_CLOSED)
			return tls_closed(t) == DOCK_IO_OK ? tls_write_after_close(t) : DOCK_IO_ERROR;
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
			if (tls_send(t) == DOCK_IO_ERROR)
				return DOCK_IO_ERROR;
			return (ssize_t)avail;
		}
		if (st & BR_SSL_SENDREC) {
			r = tls_send(t);
			if (r != DOCK_IO_OK)
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
				return DOCK_IO_ERROR;
			}
			return r;
		}
		tls_set_error(t, "%s", "TLS engine stalled");
		return DOCK_IO_ERROR;
	}
}

enum dock_io_result dock_tls_flush(struct dock_tls *t)
{
	unsigned st;

	if (t->phase == TLS_FAILED)
		return DOCK_IO_ERROR;
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

