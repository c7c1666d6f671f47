#include <sys/socket.h>

#include "unit.h"
#include "url.h"

static struct dock_io_target io;
static char err[128];

/* Parses s as --io and returns the kind, or -1 (err then holds a reason). */
static int io_kind(const char *s)
{
	err[0] = 'x';
	err[1] = '\0';
	if (dock_url_parse_io(s, &io, err, sizeof(err)) < 0) {
		/* Every failure says why. */
		CHECK(err[0] != '\0' && strcmp(err, "x") != 0);
		return -1;
	}
	return (int)io.kind;
}

static struct dock_url url;

static int http(const char *s)
{
	err[0] = '\0';
	if (dock_url_parse_http(s, &url, err, sizeof(err)) < 0) {
		CHECK(err[0] != '\0');
		return -1;
	}
	return 0;
}

static char red[256];

static const char *redact(const char *s)
{
	memset(red, 'Z', sizeof(red));
	dock_url_redact(s, red, sizeof(red));
	return red;
}

UNIT_SUITE(test_url_io_files)
{
	CHECK_EQ_INT(io_kind("file:///var/log/app.log"), DOCK_IO_FILE);
	CHECK_EQ_STR(io.url.path, "/var/log/app.log");
	CHECK_EQ_STR(io.url.scheme, "file");
	CHECK_EQ_STR(io.url.host, "");
	CHECK_EQ_INT(io.family, AF_UNSPEC);
	CHECK_EQ_INT(io_kind("FILE:///x"), DOCK_IO_FILE);
	CHECK_EQ_STR(io.url.scheme, "file");
	CHECK_EQ_STR(io.url.path, "/x");
	CHECK_EQ_INT(io_kind("file://relative/out.log"), DOCK_IO_FILE);
	CHECK_EQ_STR(io.url.path, "relative/out.log");
	CHECK_EQ_INT(io_kind("file://"), -1);

	/* Anything without scheme:// is a path, taken as written. */
	CHECK_EQ_INT(io_kind("/var/log/app.log"), DOCK_IO_FILE);
	CHECK_EQ_STR(io.url.path, "/var/log/app.log");
	CHECK_EQ_STR(io.url.scheme, "file");
	CHECK_EQ_INT(io_kind("out.log"), DOCK_IO_FILE);
	CHECK_EQ_STR(io.url.path, "out.log");
	CHECK_EQ_INT(io_kind("./logs/a:b"), DOCK_IO_FILE);
	CHECK_EQ_STR(io.url.path, "./logs/a:b");
	CHECK_EQ_INT(io_kind("localhost:9000"), DOCK_IO_FILE);
	CHECK_EQ_INT(io_kind("tcp:/host:80"), DOCK_IO_FILE);
	CHECK_EQ_INT(io_kind("/x/tcp://y"), DOCK_IO_FILE);
	CHECK_EQ_STR(io.url.path, "/x/tcp://y");
	CHECK_EQ_INT(io_kind("1tcp://y"), DOCK_IO_FILE);
	CHECK_EQ_INT(io_kind("a b"), DOCK_IO_FILE);
	CHECK_EQ_INT(io_kind(""), -1);
	CHECK_EQ_INT(io_kind(NULL), -1);

	/* Path length bounds. */
	{
		static char big[DOCK_URL_PATH_MAX + 16];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK_EQ_INT(io_kind(big), -1);
		big[DOCK_URL_PATH_MAX - 1] = '\0';
		CHECK_EQ_INT(io_kind(big), DOCK_IO_FILE);
		CHECK_EQ_INT(strlen(io.url.path), DOCK_URL_PATH_MAX - 1);
		big[DOCK_URL_PATH_MAX] = 'a';
		big[DOCK_URL_PATH_MAX - 1] = 'a';
		big[DOCK_URL_PATH_MAX] = '\0';
		CHECK_EQ_INT(io_kind(big), -1);
	}
}

UNIT_SUITE(test_url_io_net)
{
	CHECK_EQ_INT(io_kind("tcp://192.168.1.9:2567"), DOCK_IO_TCP);
	CHECK_EQ_STR(io.url.scheme, "tcp");
	CHECK_EQ_STR(io.url.host, "192.168.1.9");
	CHECK_EQ_STR(io.url.port, "2567");
	CHECK_EQ_STR(io.url.path, "");
	CHECK_EQ_STR(io.url.userinfo, "");
	CHECK_EQ_INT(io.family, AF_UNSPEC);
	CHECK_EQ_INT(io_kind("TCP://Example.COM:80"), DOCK_IO_TCP);
	CHECK_EQ_STR(io.url.scheme, "tcp");
	CHECK_EQ_STR(io.url.host, "Example.COM");
	CHECK_EQ_INT(io_kind("tcp4://localhost:1"), DOCK_IO_TCP);
	CHECK_EQ_INT(io.family, AF_INET);
	CHECK_EQ_STR(io.url.port, "1");
	CHECK_EQ_INT(io_kind("tcp6://localhost:65535"), DOCK_IO_TCP);
	CHECK_EQ_INT(io.family, AF_INET6);
	CHECK_EQ_STR(io.url.port, "65535");
	CHECK_EQ_INT(io_kind("tls://log.example.com:6514"), DOCK_IO_TLS);
	CHECK_EQ_STR(io.url.host, "log.example.com");
	CHECK_EQ_INT(io_kind("ssl://my_host-1.local:443"), DOCK_IO_TLS);
	CHECK_EQ_STR(io.url.scheme, "ssl");
	CHECK_EQ_STR(io.url.host, "my_host-1.local");
	CHECK_EQ_INT(io_kind("udp://127.0.0.1:514"), DOCK_IO_UDP);
	CHECK_EQ_INT(io.family, AF_UNSPEC);
	CHECK_EQ_INT(io_kind("udp4://127.0.0.1:514"), DOCK_IO_UDP);
	CHECK_EQ_INT(io.family, AF_INET);
	CHECK_EQ_INT(io_kind("udp6://[::1]:514"), DOCK_IO_UDP);
	CHECK_EQ_INT(io.family, AF_INET6);
	CHECK_EQ_STR(io.url.host, "::1");

	/* IPv6 literals: brackets required, dropped from host. */
	CHECK_EQ_INT(io_kind("tcp://[::1]:9000"), DOCK_IO_TCP);
	CHECK_EQ_STR(io.url.host, "::1");
	CHECK_EQ_STR(io.url.port, "9000");
	CHECK_EQ_INT(io_kind("tcp6://[2001:db8::1]:80"), DOCK_IO_TCP);
	CHECK_EQ_STR(io.url.host, "2001:db8::1");
	CHECK_EQ_INT(io_kind("tcp://[::ffff:10.0.0.1]:80"), DOCK_IO_TCP);
	CHECK_EQ_STR(io.url.host, "::ffff:10.0.0.1");
	CHECK_EQ_INT(io_kind("tcp://[fe80::1%eth0]:80"), DOCK_IO_TCP);
	CHECK_EQ_STR(io.url.host, "fe80::1%eth0");
	CHECK_EQ_INT(io_kind("tcp://[fe80::1%]:80"), -1);
	CHECK_EQ_INT(io_kind("tcp://[fe80::1%a/b]:80"), -1);
	CHECK_EQ_INT(io_kind("tcp://::1:9000"), -1);
	CHECK(strstr(err, "brackets") != NULL);
	CHECK_EQ_INT(io_kind("tcp://[::1]"), -1);
	CHECK_EQ_INT(io_kind("tcp://[::1]:"), -1);
	CHECK_EQ_INT(io_kind("tcp://[::1]9000"), -1);
	CHECK_EQ_INT(io_kind("tcp://[::1:9000"), -1);
	CHECK_EQ_INT(io_kind("tcp://[]:9000"), -1);
	CHECK_EQ_INT(io_kind("tcp://[example.com]:9000"), -1);
	CHECK_EQ_INT(io_kind("tcp://[1.2.3.4]:9000"), -1);
	CHECK_EQ_INT(io_kind("tcp://[::1]]:9000"), -1);
	CHECK_EQ_INT(io_kind("tcp://[[::1]]:9000"), -1);

	/* Family against literal. */
	CHECK_EQ_INT(io_kind("tcp4://[::1]:80"), -1);
	CHECK_EQ_INT(io_kind("udp4://[::1]:80"), -1);
	CHECK_EQ_INT(io_kind("tcp6://127.0.0.1:80"), -1);
	CHECK_EQ_INT(io_kind("udp6://10.1.2.3:80"), -1);
	CHECK_EQ_INT(io_kind("tcp4://127.0.0.1:80"), DOCK_IO_TCP);
	CHECK_EQ_INT(io_kind("tcp6://[::1]:80"), DOCK_IO_TCP);

	/* Ports. */
	CHECK_EQ_INT(io_kind("tcp://h:0"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:65536"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:99999999999999999999999"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:08080"), DOCK_IO_TCP);
	CHECK_EQ_STR(io.url.port, "8080");
	CHECK_EQ_INT(io_kind("tcp://h:000000000000000443"), DOCK_IO_TCP);
	CHECK_EQ_STR(io.url.port, "443");
	CHECK_EQ_INT(io_kind("tcp://h:00"), -1);
	CHECK_EQ_INT(io_kind("tcp://h"), -1);
	CHECK(strstr(err, "port") != NULL);
	CHECK_EQ_INT(io_kind("tcp://h:"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:-1"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:+80"), -1);
	CHECK_EQ_INT(io_kind("tcp://h: 80"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:http"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:80x"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:80/"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:80/path"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:80?x"), -1);
	CHECK_EQ_INT(io_kind("tcp://h:80 "), -1);
	CHECK_EQ_INT(io_kind("tcp://h:80:90"), -1);

	/* Hosts. */
	CHECK_EQ_INT(io_kind("tcp://:80"), -1);
	CHECK(strstr(err, "host") != NULL);
	CHECK_EQ_INT(io_kind("tcp://"), -1);
	CHECK_EQ_INT(io_kind("tls://user@h:80"), -1);
	CHECK_EQ_INT(io_kind("tcp://h h:80"), -1);
	CHECK_EQ_INT(io_kind("tcp://h/x:80"), -1);
	CHECK_EQ_INT(io_kind("tcp://h\n:80"), -1);
	CHECK_EQ_INT(io_kind("tcp://h\xc3\xa9:80"), -1);
	{
		char big[400];

		strcpy(big, "tcp://");
		memset(big + 6, 'a', 255);
		strcpy(big + 6 + 255, ":80");
		CHECK_EQ_INT(io_kind(big), DOCK_IO_TCP);
		CHECK_EQ_INT(strlen(io.url.host), 255);
		memset(big + 6, 'a', 256);
		strcpy(big + 6 + 256, ":80");
		CHECK_EQ_INT(io_kind(big), -1);
	}

	/* Schemes. */
	CHECK_EQ_INT(io_kind("http://h:80"), -1);
	CHECK(strstr(err, "unknown scheme 'http'") != NULL);
	CHECK_EQ_INT(io_kind("tcp7://h:80"), -1);
	CHECK_EQ_INT(io_kind("sctp://h:80"), -1);
	CHECK_EQ_INT(io_kind("averyveryverylongscheme://h:80"), -1);
	CHECK(strstr(err, "scheme") != NULL);
	/* The reason does not repeat the value (it may carry secrets). */
	CHECK_EQ_INT(io_kind("tcp://secret:80x"), -1);
	CHECK(strstr(err, "secret") == NULL);
}

UNIT_SUITE(test_url_io_unix)
{
	char path[200];

	CHECK_EQ_INT(io_kind("unix:///run/log.sock"), DOCK_IO_UNIX);
	CHECK_EQ_STR(io.url.path, "/run/log.sock");
	CHECK_EQ_STR(io.url.host, "");
	CHECK_EQ_INT(io_kind("UNIXGRAM:///dev/log"), DOCK_IO_UNIXGRAM);
	CHECK_EQ_STR(io.url.scheme, "unixgram");
	CHECK_EQ_STR(io.url.path, "/dev/log");
	CHECK_EQ_INT(io_kind("unix://rel.sock"), DOCK_IO_UNIX);
	CHECK_EQ_STR(io.url.path, "rel.sock");
	CHECK_EQ_INT(io_kind("unix://"), -1);
	CHECK(strstr(err, "path") != NULL);
	CHECK_EQ_INT(io_kind("unixgram://"), -1);

	/* sun_path holds 108 bytes with the NUL: 107 fit, 108 do not. */
	strcpy(path, "unix://");
	memset(path + 7, 's', 107);
	path[7 + 107] = '\0';
	CHECK_EQ_INT(io_kind(path), DOCK_IO_UNIX);
	CHECK_EQ_INT(strlen(io.url.path), 107);
	path[7 + 107] = 's';
	path[7 + 108] = '\0';
	CHECK_EQ_INT(io_kind(path), -1);
	CHECK(strstr(err, "107") != NULL);
	memcpy(path, "unixgram://", 11);
	memset(path + 11, 's', 108);
	path[11 + 108] = '\0';
	CHECK_EQ_INT(io_kind(path), -1);
	/* A file path has no such limit. */
	memcpy(path, "file:///", 8);
	CHECK_EQ_INT(io_kind(path), DOCK_IO_FILE);

	/* A failed parse leaves no stale parts behind. */
	CHECK_EQ_INT(io_kind("tcp://h:80"), DOCK_IO_TCP);
	CHECK_EQ_INT(io_kind("bogus://h:80"), -1);
	CHECK_EQ_STR(io.url.host, "");
}

UNIT_SUITE(test_url_http)
{
	CHECK_EQ_INT(http("http://example.com"), 0);
	CHECK_EQ_STR(url.scheme, "http");
	CHECK_EQ_STR(url.host, "example.com");
	CHECK_EQ_STR(url.port, "80");
	CHECK_EQ_STR(url.path, "/");
	CHECK_EQ_STR(url.userinfo, "");
	CHECK_EQ_INT(http("https://example.com"), 0);
	CHECK_EQ_STR(url.port, "443");
	CHECK_EQ_INT(http("HTTPS://Example.com:8443/hook/1?token=abc&x=1#frag"), 0);
	CHECK_EQ_STR(url.scheme, "https");
	CHECK_EQ_STR(url.host, "Example.com");
	CHECK_EQ_STR(url.port, "8443");
	CHECK_EQ_STR(url.path, "/hook/1?token=abc&x=1");
	CHECK_EQ_INT(http("http://h/"), 0);
	CHECK_EQ_STR(url.path, "/");
	CHECK_EQ_INT(http("http://h?x=1"), 0);
	CHECK_EQ_STR(url.path, "/?x=1");
	CHECK_EQ_INT(http("http://h#f"), 0);
	CHECK_EQ_STR(url.path, "/");
	CHECK_EQ_INT(http("http://h/a#b?c"), 0);
	CHECK_EQ_STR(url.path, "/a");
	CHECK_EQ_INT(http("http://h:/x"), 0);
	CHECK_EQ_STR(url.port, "80");
	CHECK_EQ_INT(http("http://h:0080/x"), 0);
	CHECK_EQ_STR(url.port, "80");

	/* Userinfo, kept as written; the last '@' ends it. */
	CHECK_EQ_INT(http("https://user:p%40ss@h.example/x"), 0);
	CHECK_EQ_STR(url.userinfo, "user:p%40ss");
	CHECK_EQ_STR(url.host, "h.example");
	CHECK_EQ_INT(http("https://user:p@ss@h.example:444/x"), 0);
	CHECK_EQ_STR(url.userinfo, "user:p@ss");
	CHECK_EQ_STR(url.host, "h.example");
	CHECK_EQ_STR(url.port, "444");
	CHECK_EQ_INT(http("https://token@h"), 0);
	CHECK_EQ_STR(url.userinfo, "token");
	CHECK_EQ_INT(http("http://h/a@b"), 0);
	CHECK_EQ_STR(url.userinfo, "");
	CHECK_EQ_STR(url.host, "h");
	CHECK_EQ_STR(url.path, "/a@b");
	CHECK_EQ_INT(http("http://@h/"), 0);
	CHECK_EQ_STR(url.userinfo, "");
	CHECK_EQ_INT(http("http://u@/"), -1);
	{
		char big[600];

		strcpy(big, "http://");
		memset(big + 7, 'u', 300);
		strcpy(big + 307, "@h/");
		CHECK_EQ_INT(http(big), -1);
	}

	/* IPv6. */
	CHECK_EQ_INT(http("http://[::1]:8080/hook"), 0);
	CHECK_EQ_STR(url.host, "::1");
	CHECK_EQ_STR(url.port, "8080");
	CHECK_EQ_STR(url.path, "/hook");
	CHECK_EQ_INT(http("http://[::1]/hook"), 0);
	CHECK_EQ_STR(url.port, "80");
	CHECK_EQ_INT(http("http://[::1]?q"), 0);
	CHECK_EQ_STR(url.path, "/?q");
	CHECK_EQ_INT(http("http://::1/hook"), -1);
	CHECK_EQ_INT(http("http://[::1/hook"), -1);
	CHECK_EQ_INT(http("http://[::1]x/hook"), -1);

	/* Rejections. */
	CHECK_EQ_INT(http(""), -1);
	CHECK_EQ_INT(http(NULL), -1);
	CHECK_EQ_INT(http("ftp://h/"), -1);
	CHECK_EQ_INT(http("tcp://h:80"), -1);
	CHECK_EQ_INT(http("httpx://h/"), -1);
	CHECK_EQ_INT(http("http:/h/"), -1);
	CHECK_EQ_INT(http("h/x"), -1);
	CHECK_EQ_INT(http("http://"), -1);
	CHECK_EQ_INT(http("http:///x"), -1);
	CHECK_EQ_INT(http("http://:80/x"), -1);
	CHECK_EQ_INT(http("http://h:0/"), -1);
	CHECK_EQ_INT(http("http://h:65536/"), -1);
	CHECK_EQ_INT(http("http://h:8o/"), -1);
	CHECK_EQ_INT(http("http://h/a b"), -1);
	CHECK(strstr(err, "space") != NULL);
	CHECK_EQ_INT(http("http://h/a\r\nX-Evil: 1"), -1);
	CHECK_EQ_INT(http("http://h/\t"), -1);
	CHECK_EQ_INT(http("http://h/\x7f"), -1);
	CHECK_EQ_INT(http("http://h/#a b"), -1);
	CHECK_EQ_INT(http("http://h h/"), -1);
	CHECK_EQ_INT(http("http://h\xc3\xa9/"), -1);
	/* Non-ASCII in the path goes out as written. */
	CHECK_EQ_INT(http("http://h/\xc3\xa9"), 0);
	CHECK_EQ_STR(url.path, "/\xc3\xa9");
	CHECK_EQ_INT(http("http://user:hunter2@h:bad/"), -1);
	CHECK(strstr(err, "hunter2") == NULL);
	{
		static char big[DOCK_URL_PATH_MAX + 32];
		size_t n;

		strcpy(big, "http://h/");
		n = strlen(big);
		memset(big + n, 'p', DOCK_URL_PATH_MAX - 2);
		big[n + DOCK_URL_PATH_MAX - 2] = '\0';
		CHECK_EQ_INT(http(big), 0);
		CHECK_EQ_INT(strlen(url.path), DOCK_URL_PATH_MAX - 1);
		big[n + DOCK_URL_PATH_MAX - 2] = 'p';
		big[n + DOCK_URL_PATH_MAX - 1] = '\0';
		CHECK_EQ_INT(http(big), -1);
		/* "?..." gains a '/', which must fit too. */
		big[n - 1] = '?';
		big[n + DOCK_URL_PATH_MAX - 2] = '\0';
		CHECK_EQ_INT(http(big), -1);
		big[n + DOCK_URL_PATH_MAX - 3] = '\0';
		CHECK_EQ_INT(http(big), 0);
		CHECK_EQ_INT(strlen(url.path), DOCK_URL_PATH_MAX - 1);
	}
}

UNIT_SUITE(test_url_redact)
{
	char small[8];

	CHECK_EQ_STR(redact("https://user:hunter2@h.example/hook"), "https://user:***@h.example/hook");
	CHECK_EQ_STR(redact("https://tok3n@h.example/hook"), "https://***@h.example/hook");
	CHECK_EQ_STR(redact("https://user:@h/"), "https://user:***@h/");
	CHECK_EQ_STR(redact("https://@h/"), "https://***@h/");
	CHECK_EQ_STR(redact("https://u:p@ss@h/"), "https://u:***@h/");
	CHECK_EQ_STR(redact("https://h/hook?token=s3cret&x=1"), "https://h/hook?token=***&x=***");
	CHECK_EQ_STR(redact("https://h/hook?token=s3cret#frag"), "https://h/hook?token=***#***");
	CHECK_EQ_STR(redact("https://h/hook?s3cret"), "https://h/hook?***");
	CHECK_EQ_STR(redact("https://h/hook?a=&&b"), "https://h/hook?a=***&&***");
	CHECK_EQ_STR(redact("https://h/hook?=v"), "https://h/hook?=***");
	CHECK_EQ_STR(redact("https://h/hook?a=b=c"), "https://h/hook?a=***");
	CHECK_EQ_STR(redact("https://h/hook?"), "https://h/hook?");
	CHECK_EQ_STR(redact("https://h/hook#"), "https://h/hook#");
	CHECK_EQ_STR(redact("https://h/hook#s3cret"), "https://h/hook#***");
	CHECK_EQ_STR(redact("https://u:p@h:8443/x?k=v"), "https://u:***@h:8443/x?k=***");
	CHECK_EQ_STR(redact("http://[::1]:80/x?k=v"), "http://[::1]:80/x?k=***");
	CHECK_EQ_STR(redact("HTTP://U:P@H/"), "HTTP://U:***@H/");
	/* An '@' after the authority is no userinfo. */
	CHECK_EQ_STR(redact("https://h/a@b"), "https://h/a@b");
	CHECK_EQ_STR(redact("https://h?mail=a@b"), "https://h?mail=***");
	/* A password with an unencoded delimiter cuts the authority short;
	 * the parser refuses such a URL, but the redaction still hides it. */
	CHECK_EQ_STR(redact("https://u:pa/ss@h/x?k=v"), "https://u:***@h/x?k=***");
	CHECK_EQ_STR(redact("https://u:p?ss@h/x"), "https://u:***@h/x");
	CHECK_EQ_STR(redact("https://u:p#ss@h/x"), "https://u:***@h/x");
	/* The limit: this one is a valid URL (host "tok", path "/en@h"),
	 * and is shown as the parser reads it. */
	CHECK_EQ_STR(redact("https://tok/en@h"), "https://tok/en@h");
	CHECK_EQ_STR(redact("https://u:pa/ss@h/?m=a@b"), "https://u:***@b");
	CHECK_EQ_STR(redact("https://u@/x"), "https://***@/x");
	/* Valid authorities keep the RFC split. */
	CHECK_EQ_STR(redact("https://h:8080/a@b"), "https://h:8080/a@b");
	CHECK_EQ_STR(redact("https://[::1]:8080/a@b"), "https://[::1]:8080/a@b");
	CHECK_EQ_STR(redact("/data/a@b/x"), "/data/a@b/x");
	CHECK_EQ_STR(redact("./a@b"), "./a@b");
	/* Nothing secret: unchanged. */
	CHECK_EQ_STR(redact("https://h.example/hook"), "https://h.example/hook");
	CHECK_EQ_STR(redact("tcp://[::1]:9000"), "tcp://[::1]:9000");
	CHECK_EQ_STR(redact("/var/log/app.log"), "/var/log/app.log");
	CHECK_EQ_STR(redact(""), "");
	CHECK_EQ_STR(redact(NULL), "");
	/* Not URLs, still handled. */
	CHECK_EQ_STR(redact("user:pw@host:80"), "user:***@host:80");
	CHECK_EQ_STR(redact("://x:y@z"), "://x:***@z");
	CHECK_EQ_STR(redact("@"), "***@");
	CHECK_EQ_STR(redact("?"), "?");
	CHECK_EQ_STR(redact("&&?&=&"), "&&?&=***&");
	CHECK_EQ_STR(redact("1tcp://u:p@h"), "1tcp://u:***@h");
	CHECK_EQ_STR(redact("a b://u:p@h"), "a b://u:***@h");
	/* A second "://" is in the path: the first one decides, as the
	 * parser would (host "b", path "//c:d@e"). */
	CHECK_EQ_STR(redact("a://b://c:d@e"), "a://b://c:d@e");
	CHECK_EQ_STR(redact("/x://u:p@h"), "/x://u:p@h");

	/* Bounded output, always terminated, a secret never leaks. */
	memset(small, 'Z', sizeof(small));
	dock_url_redact("https://user:hunter2@h/", small, sizeof(small));
	CHECK_EQ_STR(small, "https:/");
	memset(small, 'Z', sizeof(small));
	dock_url_redact("a:hunter2@h", small, sizeof(small));
	CHECK_EQ_STR(small, "a:***@h");
	memset(small, 'Z', sizeof(small));
	dock_url_redact("x", small, 1);
	CHECK_EQ_INT(small[0], '\0');
	CHECK_EQ_INT(small[1], 'Z');
	memset(small, 'Z', sizeof(small));
	dock_url_redact("x", small, 0);
	CHECK_EQ_INT(small[0], 'Z');
	dock_url_redact("x", NULL, 0);
	{
		/* Every truncation of a redacted URL is a prefix of the full one. */
		const char *u = "https://bob:hunter2@h.example:8443/p?token=s3cret&b=2#f";
		char full[256], cut[256];
		size_t n;

		dock_url_redact(u, full, sizeof(full));
		CHECK(strstr(full, "hunter2") == NULL && strstr(full, "s3cret") == NULL);
		for (n = 1; n <= strlen(full) + 1; n++) {
			memset(cut, 'Z', sizeof(cut));
			dock_url_redact(u, cut, n);
			CHECK_EQ_INT(strlen(cut), n - 1);
			CHECK(strncmp(cut, full, n - 1) == 0);
		}
	}
}
