#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls.h"
#include "tls_anchors.h"
#include "x509ip.h"
#include "unit.h"

/* Two self-signed P-256 certificates, valid 2026-2126, made once with
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
 *     -days 36500 -subj "/CN=dock test A"
 *     -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
 * (B: "/CN=dock test B", no SAN). Both assert CA:TRUE. */
#define CERT_A_BODY                                                        \
	"MIIBsTCCAVigAwIBAgIUEOqqfqbEdmGN8x9MlSoTOMTagfkwCgYIKoZIzj0EAwIw\n" \
	"FjEUMBIGA1UEAwwLZG9jayB0ZXN0IEEwIBcNMjYxMTI5MjE1MTU5WhgPMjEyNjEx\n" \
	"MDUyMTUxNTlaMBYxFDASBgNVBAMMC2RvY2sgdGVzdCBBMFkwEwYHKoZIzj0CAQYI\n" \
	"KoZIzj0DAQcDQgAEj9EPc7vQFhd1cO94a96Z/pX5kd1M3qMGFpo5SWpDmYLK8Eh2\n" \
	"1wGoNyvZSd2Ex6g/6ymGUAbGU+qov5EzKW5yyqOBgTB/MB0GA1UdDgQWBBTF65oU\n" \
	"wtD9OpYWepOq6Oc5YFNDYjAfBgNVHSMEGDAWgBTF65oUwtD9OpYWepOq6Oc5YFND\n" \
	"YjAPBgNVHRMBAf8EBTADAQH/MCwGA1UdEQQlMCOCCWxvY2FsaG9zdIcEfwAAAYcQ\n" \
	"AAAAAAAAAAAAAAAAAAAAATAKBggqhkjOPQQDAgNHADBEAiApny9N/ybOzPPDJt4S\n" \
	"R/94CShsm/yifJT4hbSr7LO9wQIgII0G3/6f5daNjQZfMIgH9AV4BF0EQgjGoyd9\n" \
	"+l8LkWo=\n"
#define CERT_B_BODY                                                        \
	"MIIBhDCCASmgAwIBAgIUUq94eJITJgjgZu+ni0ZoO+4q/3QwCgYIKoZIzj0EAwIw\n" \
	"FjEUMBIGA1UEAwwLZG9jayB0ZXN0IEIwIBcNMjYxMTI5MjE1MjAwWhgPMjEyNjEx\n" \
	"MDUyMTUyMDBaMBYxFDASBgNVBAMMC2RvY2sgdGVzdCBCMFkwEwYHKoZIzj0CAQYI\n" \
	"KoZIzj0DAQcDQgAE4MO9NWlPqO+dXm7lhKr8C6zcfNwV5u5ZUiTEr7dScZGGX3Aq\n" \
	"Nj9mJKzplmpgc1KI9rslkb//K9d33BenF8tlDKNTMFEwHQYDVR0OBBYEFNTa669G\n" \
	"VTCdn5krODoY/NTQYONyMB8GA1UdIwQYMBaAFNTa669GVTCdn5krODoY/NTQYONy\n" \
	"MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAOFjQsSHlO0BH4aA\n" \
	"s75yClYumIrN1Wr+le5bD1RK6JTXAiEA4zRpyQzIka94JrpZftxN4ELz2DsnWUu3\n" \
	"y0v6pbBvMwA=\n"
#define PEM(body) "-----BEGIN CERTIFICATE-----\n" body "-----END CERTIFICATE-----\n"

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

static const char *path_of(const char *name)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static size_t base64_decode(const char *in, unsigned char *out, size_t cap)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (; *in != '\0' && *in != '='; in++) {
		const char *p = strchr(alphabet, *in);

		if (*in == '\n' || p == NULL)
			continue;
		acc = acc << 6 | (unsigned)(p - alphabet);
		bits += 6;
		if (bits >= 8 && n < cap) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static void test_load_files(void)
{
	char err[256];

	/* One certificate; then one without the final newline. */
	write_file("a.pem", PEM(CERT_A_BODY));
	CHECK_EQ_INT(dock_tls_load_anchors_from(path_of("a.pem"), NULL, err, sizeof(err)), 1);
	write_file("a-nonl.pem", "-----BEGIN CERTIFICATE-----\n" CERT_A_BODY "-----END CERTIFICATE-----");
	CHECK_EQ_INT(dock_tls_load_anchors_from(path_of("a-nonl.pem"), NULL, err, sizeof(err)), 1);

	/* A bundle with comments, a duplicate, a key, a damaged certificate
	 * and DER garbage in valid base64: two distinct anchors survive. */
	write_file("bundle.pem",
		   "# a comment line\n"
		   PEM(CERT_A_BODY)
		   "some text between objects\n"
		   "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
		   "-----BEGIN CERTIFICATE-----\n!!!! not base64 at all ####\n-----END CERTIFICATE-----\n"
		   "-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n"
		   PEM(CERT_A_BODY)
		   PEM(CERT_B_BODY)
		   "-----BEGIN CERTIFICATE-----\nMIIBsTCCAVigAwIBAgIUEOqqfqbEdmGN8x9MlSoTOMTagfkwCgYIKoZIzj0EAwIw\n"
		   "-----END CERTIFICATE-----\n"
		   "trailing garbage");
	CHECK_EQ_INT(dock_tls_load_anchors_from(path_of("bundle.pem"), NULL, err, sizeof(err)), 2);

	/* Nothing usable: an error that names the file. */
	write_file("garbage.pem", "hello\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	err[0] = '\0';
	CHECK_EQ_INT(dock_tls_load_anchors_from(path_of("garbage.pem"), NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "no CA certificate in ") != NULL);
	CHECK(strstr(err, "garbage.pem") != NULL);

	err[0] = '\0';
	CHECK_EQ_INT(dock_tls_load_anchors_from(path_of("missing.pem"), NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, strerror(ENOENT)) != NULL);

	err[0] = '\0';
	CHECK_EQ_INT(dock_tls_load_anchors_from(tmpdir, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, strerror(EISDIR)) != NULL);

	err[0] = '\0';
	CHECK_EQ_INT(dock_tls_load_anchors_from(NULL, NULL, err, sizeof(err)), -1);
	CHECK(err[0] != '\0');
}

static void test_load_dirs(void)
{
	char err[256], dirs[512];

	/* Every regular file counts, whatever its name; dot files, sub-
	 * directories and garbage do not; a symlink is read once. */
	CHECK_EQ_INT(mkdir(path_of("d1"), 0700), 0);
	CHECK_EQ_INT(mkdir(path_of("d1/sub"), 0700), 0);
	CHECK_EQ_INT(mkdir(path_of("d2"), 0700), 0);
	CHECK_EQ_INT(mkdir(path_of("empty"), 0700), 0);
	write_file("d1/first.crt", PEM(CERT_A_BODY));
	write_file("d1/README", "not a certificate\n");
	write_file("d1/.hidden.pem", PEM(CERT_B_BODY));
	write_file("d1/sub/b.pem", PEM(CERT_B_BODY));
	CHECK_EQ_INT(symlink("first.crt", path_of("d1/5a3f0e2c.0")), 0);
	write_file("d2/b", PEM(CERT_B_BODY));

	CHECK_EQ_INT(dock_tls_load_anchors_from(NULL, path_of("d1"), err, sizeof(err)), 1);
	CHECK_EQ_INT(dock_tls_load_anchors_from(NULL, path_of("d2"), err, sizeof(err)), 1);

	/* A colon-separated list, with a missing entry and an empty one. */
	snprintf(dirs, sizeof(dirs), "%s:%s/nope::%s", path_of("d1"), tmpdir, path_of("d2"));
	CHECK_EQ_INT(dock_tls_load_anchors_from(NULL, dirs, err, sizeof(err)), 2);

	/* File and directory together, overlapping. */
	CHECK_EQ_INT(dock_tls_load_anchors_from(path_of("a.pem"), path_of("d2"), err, sizeof(err)), 2);

	err[0] = '\0';
	CHECK_EQ_INT(dock_tls_load_anchors_from(NULL, path_of("empty"), err, sizeof(err)), -1);
	CHECK(strstr(err, "no CA certificate in directory") != NULL);

	err[0] = '\0';
	CHECK_EQ_INT(dock_tls_load_anchors_from(NULL, path_of("nodir"), err, sizeof(err)), -1);
	CHECK(strstr(err, strerror(ENOENT)) != NULL);
}

UNIT_SUITE(test_tls_ip_names)
{
	static const unsigned char v4[4] = { 127, 0, 0, 1 }, v4b[4] = { 127, 0, 0, 2 };
	static const unsigned char v6[16] = { [15] = 1 };
	unsigned char a[1024], b[1024];
	size_t alen = base64_decode(CERT_A_BODY, a, sizeof(a));
	size_t blen = base64_decode(CERT_B_BODY, b, sizeof(b));

	CHECK(alen > 400 && alen < 600);
	CHECK_EQ_INT(dock_x509ip_cert_matches(a, alen, v4, 4), 1);
	CHECK_EQ_INT(dock_x509ip_cert_matches(a, alen, v6, 16), 1);
	CHECK_EQ_INT(dock_x509ip_cert_matches(a, alen, v4b, 4), 0);
	/* 127.0.0.1 as the first four bytes of a 16-byte address: no. */
	CHECK_EQ_INT(dock_x509ip_cert_matches(a, alen, v4, 3), 0);
	CHECK_EQ_INT(dock_x509ip_cert_matches(b, blen, v4, 4), 0);
	CHECK_EQ_INT(dock_x509ip_cert_matches(a, 0, v4, 4), 0);

	/* Every truncation is rejected without reading past the end (ASan
	 * watches), and so is every single-byte corruption of a length. */
	for (size_t n = 0; n < alen; n++) {
		unsigned char *cut = malloc(n ? n : 1);

		memcpy(cut, a, n);
		CHECK_EQ_INT(dock_x509ip_cert_matches(cut, n, v4, 4), 0);
		free(cut);
	}
	for (size_t i = 0; i < alen; i++) {
		unsigned char *bad = malloc(alen);

		memcpy(bad, a, alen);
		bad[i] ^= 0x80;
		(void)dock_x509ip_cert_matches(bad, alen, v4, 4);
		free(bad);
	}
}

static void test_sessions(void)
{
	char err[256];
	struct dock_tls *t;
	int sv[2];

	CHECK_EQ_INT(dock_tls_load_anchors_from(path_of("a.pem"), NULL, err, sizeof(err)), 1);

	/* The ClientHello goes out; then the server hangs up. */
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	t = dock_tls_new(sv[0], "localhost", false, err, sizeof(err));
	CHECK(t != NULL);
	if (t != NULL) {
		unsigned char hello[512];

		/* The hello waits to go out (input is open all along). */
		CHECK(dock_tls_events(t) & EPOLLOUT);
		CHECK_EQ_INT(dock_tls_handshake(t), DOCK_IO_WANT_READ);
		CHECK_EQ_INT(dock_tls_events(t), EPOLLIN);
		/* A TLS 1.2 handshake record: type 22, version 3.x. */
		CHECK(read(sv[1], hello, sizeof(hello)) > 5 && hello[0] == 22 && hello[1] == 3);
		close(sv[1]);
		CHECK_EQ_INT(dock_tls_handshake(t), DOCK_IO_ERROR);
		CHECK_EQ_STR(dock_tls_error(t), "connection closed during the TLS handshake");
		CHECK_EQ_INT(dock_tls_read(t, hello, sizeof(hello)), DOCK_IO_ERROR);
		CHECK_EQ_INT(dock_tls_events(t), 0);
		dock_tls_free(t);
	}
	close(sv[0]);

	/* Not a TLS server: a plain-text answer fails the handshake. */
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	t = dock_tls_new(sv[0], "127.0.0.1", false, err, sizeof(err));
	CHECK(t != NULL);
	if (t != NULL) {
		const char *reply = "HTTP/1.0 400 Bad Request\r\n\r\n";

		CHECK_EQ_INT(dock_tls_handshake(t), DOCK_IO_WANT_READ);
		CHECK_EQ_INT(write(sv[1], reply, strlen(reply)), (long long)strlen(reply));
		CHECK_EQ_INT(dock_tls_handshake(t), DOCK_IO_ERROR);
		CHECK(strstr(dock_tls_error(t), "TLS") != NULL);
		dock_tls_free(t);
	}
	close(sv[0]);
	close(sv[1]);

	/* A verified session needs a name; an insecure one does not. */
	t = dock_tls_new(-1, "", false, err, sizeof(err));
	CHECK(t == NULL);
	t = dock_tls_new(-1, NULL, true, err, sizeof(err));
	CHECK(t != NULL);
	dock_tls_free(t);

	/* An empty store refuses verified sessions with the reason. */
	CHECK_EQ_INT(dock_tls_load_anchors_from(path_of("garbage.pem"), NULL, err, sizeof(err)), -1);
	err[0] = '\0';
	t = dock_tls_new(-1, "localhost", false, err, sizeof(err));
	CHECK(t == NULL);
	CHECK(strstr(err, "garbage.pem") != NULL);
	t = dock_tls_new(-1, "localhost", true, err, sizeof(err));
	CHECK(t != NULL);
	dock_tls_free(t);
}

UNIT_SUITE(test_tls)
{
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dock-unit-tls-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	test_load_files();
	test_load_dirs();
	test_sessions();
	/* Leave the store empty so no later suite depends on this one. */
	(void)dock_tls_load_anchors_from(NULL, NULL, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_tls: could not remove %s\n", tmpdir);
}
