/* --io and --web-hook URLs, and their redaction for logs. Pure: the parsers
 * read the caller's text and write only the caller's structs; names are
 * resolved later, by whoever connects. */
#include "url.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Longest socket path: sun_path less the NUL that bind()/connect() callers
 * in the rest of dock rely on (107 bytes on Linux). */
#define UNIX_PATH_LIMIT (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* ASCII classes by hand: <ctype.h> depends on the locale and takes int
 * arguments that are undefined for negative chars. */
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
static char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Length of a leading RFC 3986 scheme that is followed by "://", or 0 when
 * text does not start like that (then it is no URL, e.g. a bare path). */
static size_t scheme_len(const char *text)
{
	size_t n = 0;

	if (!is_alpha(text[0]))
		return 0;
	while (is_alnum(text[n]) || text[n] == '+' || text[n] == '-' || text[n] == '.')
		n++;
	return strncmp(text + n, "://", 3) == 0 ? n : 0;
}

/* Copies the scheme lower-cased into u->scheme; false when it cannot fit,
 * which no scheme dock knows would need. */
static bool store_scheme(const char *text, size_t n, struct dock_url *u)
{
	size_t i;

	if (n >= sizeof(u->scheme))
		return false;
	for (i = 0; i < n; i++)
		u->scheme[i] = to_lower(text[i]);
	u->scheme[n] = '\0';
	return true;
}

static bool copy_field(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

/* What kind of host a HOST[:PORT] named, so that tcp4/tcp6 can refuse a
 * literal of the other family before anything resolves it. */
enum host_kind { HOST_NAME, HOST_IPV4, HOST_IPV6 };

/* An IPv6 literal as found between brackets, with an optional zone
 * ("fe80::1%eth0") that getaddrinfo understands but inet_pton does not. */
static bool valid_ipv6_literal(const char *s, size_t n)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *pct = memchr(s, '%', n);
	size_t alen = pct ? (size_t)(pct - s) : n, i;

	if (alen == 0 || alen >= sizeof(addr))
		return false;
	if (pct != NULL) {
		/* A zone is an interface name or index: no URL syntax in it. */
		if (pct + 1 == s + n)
			return false;
		for (i = alen + 1; i < n; i++)
			if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
				return false;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	return inet_pton(AF_INET6, addr, bin) == 1;
}

/* Parses HOST[:PORT] spanning all of s[0..n). An IPv6 literal must be in
 * brackets (its colons would be read as the port's otherwise); they are
 * dropped from u->host. A missing port is an error when port_required,
 * else u->port stays "". Host names are checked for their characters only:
 * whether they resolve is the connector's business. */
static int parse_host_port(const char *s, size_t n, bool port_required, struct dock_url *u,
			   enum host_kind *kind, char *err, size_t errlen)
{
	const char *host, *rest, *end = s + n;
	size_t hlen, i;
	unsigned long port = 0;

	*kind = HOST_NAME;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			return fail(err, errlen, "unclosed '[' in host");
		host = s + 1;
		hlen = (size_t)(close - host);
		if (hlen == 0)
			return fail(err, errlen, "missing host");
		if (!valid_ipv6_literal(host, hlen))
			return fail(err, errlen, "invalid IPv6 address in brackets");
		*kind = HOST_IPV6;
		rest = close + 1;
		if (rest < end && *rest != ':')
			return fail(err, errlen, "unexpected text after ']'");
	} else {
		const char *colon = memchr(s, ':', n);

		host = s;
		hlen = colon ? (size_t)(colon - s) : n;
		rest = s + hlen;
		if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
			return fail(err, errlen, "an IPv6 address must be in brackets ([::1]:PORT)");
		if (hlen == 0)
			return fail(err, errlen, "missing host");
		for (i = 0; i < hlen; i++)
			if (!is_alnum(host[i]) && host[i] != '-' && host[i] != '.' && host[i] != '_')
				return fail(err, errlen, "invalid character in host");
	}
	if (!copy_field(u->host, sizeof(u->host), host, hlen))
		return fail(err, errlen, "host too long");
	if (*kind == HOST_NAME) {
		unsigned char bin[4];

		if (inet_pton(AF_INET, u->host, bin) == 1)
			*kind = HOST_IPV4;
	}

	/* rest is "" or ":PORT". */
	if (rest == end || rest + 1 == end) {
		if (port_required)
			return fail(err, errlen, "missing port (HOST:PORT)");
		u->port[0] = '\0';
		return 0;
	}
	for (rest++; rest < end && is_digit(*rest); rest++) {
		port = port * 10 + (unsigned long)(*rest - '0');
		/* Stop before the arithmetic can wrap; the value is out of range
		 * either way. */
		if (port > 65535)
			return fail(err, errlen, "port out of range (1-65535)");
	}
	if (rest < end) {
		/* Not a digit: junk right after ':' means a bad port, after some
		 * digits it is text that no HOST:PORT has. */
		return fail(err, errlen, is_digit(rest[-1]) ? "unexpected text after the port"
							      : "invalid port");
	}
	if (port == 0)
		return fail(err, errlen, "port out of range (1-65535)");
	snprintf(u->port, sizeof(u->port), "%lu", port);
	return 0;
}

static const struct {
	const char *name;
	enum dock_io_kind kind;
	int family;
} io_schemes[] = {
	{ "file", DOCK_IO_FILE, AF_UNSPEC },
	{ "tcp", DOCK_IO_TCP, AF_UNSPEC },
	{ "tcp4", DOCK_IO_TCP, AF_INET },
	{ "tcp6", DOCK_IO_TCP, AF_INET6 },
	{ "tls", DOCK_IO_TLS, AF_UNSPEC },
	{ "ssl", DOCK_IO_TLS, AF_UNSPEC },
	{ "udp", DOCK_IO_UDP, AF_UNSPEC },
	{ "udp4", DOCK_IO_UDP, AF_INET },
	{ "udp6", DOCK_IO_UDP, AF_INET6 },
	{ "unix", DOCK_IO_UNIX, AF_UNSPEC },
	{ "unixgram", DOCK_IO_UNIXGRAM, AF_UNSPEC },
};

static int parse_path(const char *path, enum dock_io_kind kind, struct dock_url *u, char *err,
		      size_t errlen)
{
	size_t n = strlen(path);

	if (n == 0)
		return fail(err, errlen, "missing path");
	if ((kind == DOCK_IO_UNIX || kind == DOCK_IO_UNIXGRAM) && n > UNIX_PATH_LIMIT)
		return fail(err, errlen, "socket path longer than %zu bytes", UNIX_PATH_LIMIT);
	if (!copy_field(u->path, sizeof(u->path), path, n))
		return fail(err, errlen, "path too long");
	return 0;
}

int dock_url_parse_io(const char *text, struct dock_io_target *out, char *err, size_t errlen)
{
	struct dock_url *u = &out->url;
	enum host_kind hk;
	size_t sl, i;
	const char *rest;

	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL || text[0] == '\0')
		return fail(err, errlen, "empty value");

	sl = scheme_len(text);
	if (sl == 0) {
		/* No scheme://, so a path, relative ones included: "out.log" and
		 * "logs/a:b" are files, as the Go dock that dock replaces
		 * took them. */
		out->kind = DOCK_IO_FILE;
		strcpy(u->scheme, "file");
		return parse_path(text, DOCK_IO_FILE, u, err, errlen);
	}
	if (!store_scheme(text, sl, u))
		return fail(err, errlen, "unknown scheme");
	for (i = 0; i < sizeof(io_schemes) / sizeof(io_schemes[0]); i++)
		if (strcmp(u->scheme, io_schemes[i].name) == 0)
			break;
	if (i == sizeof(io_schemes) / sizeof(io_schemes[0]))
		return fail(err, errlen, "unknown scheme '%s' (file, tcp, tcp4, tcp6, tls, ssl, "
			    "udp, udp4, udp6, unix, unixgram)", u->scheme);
	out->kind = io_schemes[i].kind;
	out->family = io_schemes[i].family;
	rest = text + sl + 3;

	switch (out->kind) {
	case DOCK_IO_FILE:
	case DOCK_IO_UNIX:
	case DOCK_IO_UNIXGRAM:
		/* Everything after "://" is the path, as written: file:///var/x
		 * is /var/x and file://x is the relative x. */
		return parse_path(rest, out->kind, u, err, errlen);
	default:
		break;
	}
	/* A stream or datagram peer has no way to use credentials; say so
	 * rather than fail on the '@' as a malformed host. */
	if (strchr(rest, '@') != NULL)
		return fail(err, errlen, "credentials (user@) are not supported in an --io URL");
	if (parse_host_port(rest, strlen(rest), true, u, &hk, err, errlen) < 0)
		return -1;
	if (out->family == AF_INET && hk == HOST_IPV6)
		return fail(err, errlen, "an IPv6 address with an IPv4-only scheme");
	if (out->family == AF_INET6 && hk == HOST_IPV4)
		return fail(err, errlen, "an IPv4 address with an IPv6-only scheme");
	return 0;
}

int dock_url_parse_http(const char *text, struct dock_url *out, char *err, size_t errlen)
{
	const char *rest, *auth_end, *at = NULL, *hp, *path, *path_end, *c;
	enum host_kind hk;
	size_t sl, plen;

	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL || text[0] == '\0')
		return fail(err, errlen, "empty URL");
	sl = scheme_len(text);
	if (sl == 0 || !store_scheme(text, sl, out) ||
	    (strcmp(out->scheme, "http") != 0 && strcmp(out->scheme, "https") != 0))
		return fail(err, errlen, "not an http:// or https:// URL");
	/* The URL goes verbatim into a request line and a Host header: a space,
	 * CR or LF would split them. */
	for (c = text; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return fail(err, errlen, "space or control character in URL");

	rest = text + sl + 3;
	auth_end = rest + strcspn(rest, "/?#");
	/* The last '@' ends the userinfo, so an unencoded '@' in a password
	 * still leaves the host right (as curl and browsers read it). */
	for (c = rest; c < auth_end; c++)
		if (*c == '@')
			at = c;
	hp = rest;
	if (at != NULL) {
		if (!copy_field(out->userinfo, sizeof(out->userinfo), rest, (size_t)(at - rest)))
			return fail(err, errlen, "credentials too long");
		hp = at + 1;
	}
	if (parse_host_port(hp, (size_t)(auth_end - hp), false, out, &hk, err, errlen) < 0)
		return -1;
	if (out->port[0] == '\0')
		strcpy(out->port, out->scheme[4] == 's' ? "443" : "80");

	path = auth_end;
	path_end = path + strcspn(path, "#");
	plen = (size_t)(path_end - path);
	if (plen == 0) {
		strcpy(out->path, "/");
	} else if (path[0] == '?') {
		/* "http://h?x" asks for "/?x": a request target starts with '/'. */
		if (plen + 1 >= sizeof(out->path))
			return fail(err, errlen, "path too long");
		out->path[0] = '/';
		memcpy(out->path + 1, path, plen);
		out->path[plen + 1] = '\0';
	} else if (!copy_field(out->path, sizeof(out->path), path, plen)) {
		return fail(err, errlen, "path too long");
	}
	return 0;
}

/* A bounded appender: keeps what fits and always leaves room for the NUL. */
struct sink {
	char *buf;
	size_t cap, used;
};

static void put(struct sink *s, const char *p, size_t n)
{
	size_t room = s->cap - 1 - s->used;

	if (n > room)
		n = room;
	memcpy(s->buf + s->used, p, n);
	s->used += n;
}

static void puts_(struct sink *s, const char *p)
{
	put(s, p, strlen(p));
}

/* Whether s[0..end) is a HOST[:PORT] that the parsers accept. */
static bool host_port_ok(const char *s, const char *end)
{
	struct dock_url scratch;
	enum host_kind kind;

	return parse_host_port(s, (size_t)(end - s), false, &scratch, &kind, NULL, 0) == 0;
}

/* The split follows the same rules as dock_url_parse_http (authority up to
 * the first '/', '?' or '#', userinfo up to its last '@'), so what the
 * parser would send as credentials is exactly what gets hidden. A URL the
 * parser refuses gets more hidden (below), since error messages show it.
 * Text without "://" is read as if it started at the authority, which
 * hides "user:pass@host" too; over-hiding odd text costs only a less
 * helpful log line. The fragment is hidden whole: it never reaches a
 * server, but tokens do travel in it (OAuth's implicit flow). */
void dock_url_redact(const char *text, char *buf, size_t len)
{
	struct sink s = { buf, len, 0 };
	const char *p, *auth_end, *at = NULL, *colon, *c;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (text == NULL)
		return;

	/* Any text before a first "://" counts as the scheme, valid or not
	 * ("1tcp://u:p@h"), as long as no '/', '?' or '#' comes before it. */
	p = text;
	c = strstr(text, "://");
	if (c != NULL && strcspn(text, "/?#") == (size_t)(c - text) + 1) {
		put(&s, text, (size_t)(c - text) + 3);
		p = c + 3;
	}

	auth_end = p + strcspn(p, "/?#");
	for (c = p; c < auth_end; c++)
		if (*c == '@')
			at = c;
	if (auth_end > p && !host_port_ok(at ? at + 1 : p, auth_end)) {
		/* What should be HOST[:PORT] is not: most likely a password with
		 * an unencoded '/', '?' or '#' cut the authority short
		 * ("https://u:pa/ss@h"): hide up to the last '@' anywhere. An
		 * empty authority is a path ("/data/a@b"), left alone. */
		for (c = auth_end; *c; c++)
			if (*c == '@')
				at = c;
	}
	if (at != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon != NULL) {
			put(&s, p, (size_t)(colon - p) + 1);
			puts_(&s, "***@");
		} else {
			/* A lone userinfo is a token more often than a name. */
			puts_(&s, "***@");
		}
		p = at + 1;
	}

	c = p + strcspn(p, "?#");
	put(&s, p, (size_t)(c - p));
	p = c;
	if (*p == '?') {
		puts_(&s, "?");
		p++;
		while (*p != '\0' && *p != '#') {
			const char *item_end = p + strcspn(p, "&#");
			const char *eq = memchr(p, '=', (size_t)(item_end - p));

			if (eq != NULL) {
				put(&s, p, (size_t)(eq - p) + 1);
				puts_(&s, "***");
			} else if (item_end > p) {
				/* "?abc123" is a bare token: hide it, name and all. */
				puts_(&s, "***");
			}
			p = item_end;
			if (*p == '&') {
				puts_(&s, "&");
				p++;
			}
		}
	}
	if (*p == '#')
		puts_(&s, p[1] != '\0' ? "#***" : "#");
	buf[s.used] = '\0';
}
