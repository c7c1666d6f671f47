/* Pure URL parsing for --io and --web-hook, and redaction for logs. */
#ifndef DOCK_URL_H
#define DOCK_URL_H

#include <stdbool.h>
#include <stddef.h>

#define DOCK_URL_HOST_MAX 256
#define DOCK_URL_PATH_MAX 4096

/* The parts of scheme://[userinfo@]host[:port][/path][?query]. For
 * file:// and unix:// forms (and a bare path, whose scheme is "file"), path
 * holds the filesystem path as written and host is empty. Brackets of an
 * IPv6 literal are removed from host (a zone, "fe80::1%eth0", is kept).
 * userinfo is as written, percent-encoding included. */
struct dock_url {
	char scheme[16];		/* lower case */
	char userinfo[256];		/* "" when absent */
	char host[DOCK_URL_HOST_MAX];
	char port[8];			/* decimal 1-65535 without leading zeros, or "" */
	char path[DOCK_URL_PATH_MAX];	/* with the query, "" when absent */
};

enum dock_io_kind {
	DOCK_IO_INHERIT = 0,	/* no --io */
	DOCK_IO_FILE,		/* file://PATH or a bare path */
	DOCK_IO_TCP,		/* tcp, tcp4, tcp6 */
	DOCK_IO_TLS,		/* tls, ssl */
	DOCK_IO_UNIX,		/* unix://PATH */
	DOCK_IO_UDP,		/* udp, udp4, udp6 */
	DOCK_IO_UNIXGRAM,	/* unixgram://PATH */
	DOCK_IO_STDIO,		/* "-": dock's own stdout and stderr (not a URL:
				 * options.c recognises it) */
};

struct dock_io_target {
	enum dock_io_kind kind;
	int family;		/* AF_UNSPEC, AF_INET or AF_INET6 (tcp4/udp6...) */
	struct dock_url url;	/* host+port for network kinds, path otherwise */
};

/* Parses an --io value: a scheme (any case) from the list above with
 * HOST:PORT (port 1-65535 required, nothing after it) or PATH (unix paths up
 * to 107 bytes), or, without "scheme://", a file path. Host names are
 * checked for their characters only; tcp4/udp4 refuse an IPv6 literal and
 * tcp6/udp6 an IPv4 one. Returns 0, or -1 after writing into err one reason
 * (unknown scheme, missing port, ...) that does not repeat the value. */
int dock_url_parse_io(const char *text, struct dock_io_target *out, char *err, size_t errlen);

/* Parses an http:// or https:// URL (for --web-hook): port defaults to 80
 * or 443, path (the request target, query included) to "/"; the fragment is
 * dropped. A space or control character anywhere is an error, since the
 * URL goes into a request line. Returns 0, or -1 with a reason in err that
 * does not repeat the URL (it may hold secrets). */
int dock_url_parse_http(const char *text, struct dock_url *out, char *err, size_t errlen);

/* Copies text into buf with what must never reach a log replaced by "***":
 * the password of the userinfo ("user:***@"; "***@" when it holds a token
 * and no password), every query value ("key=***"; "***" for an item with no
 * '='), and the fragment. Any text is accepted (NULL gives ""); the output
 * is cut to len - 1 bytes and always NUL-terminated when len > 0. */
void dock_url_redact(const char *text, char *buf, size_t len);

#endif
