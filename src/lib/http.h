/* The web hook's HTTP/1.1: a request formatter and a response parser. Pure
 * functions over caller buffers (no I/O, no allocation), so they are unit
 * tested and fuzzed alone; hook.c moves the bytes. */
#ifndef DOCK_HTTP_H
#define DOCK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ioresult.h"

/* A response with more header lines than this is refused: dock reads only
 * the status and the framing, and a bound keeps a hostile server cheap. */
#define DOCK_HTTP_MAX_HEADERS 100

struct dock_http_request {
	const char *method;		/* "PUT" */
	const char *host;		/* as in the URL, IPv6 without brackets */
	const char *port;		/* NULL or "": the scheme's default, left out */
	const char *target;		/* path and query; NULL or "" means "/" */
	const char *user_agent;		/* NULL: none */
	const char *content_type;	/* NULL: none */
	size_t content_length;
	const char *const *extra;	/* "Name: value" lines (--web-hook-header) */
	size_t n_extra;
};

/* Writes the request head (request line, Host, User-Agent, Content-Type,
 * Content-Length, Connection: close, the extra headers, the empty line)
 * into buf. An extra header named Host, User-Agent or Content-Type replaces
 * dock's own; one that would change the framing (Content-Length,
 * Transfer-Encoding, Connection) is left out, since dock frames the body
 * itself. Returns the head's length, or -1 when it does not fit or when a
 * field holds CR, LF or NUL (which would split the request). */
ssize_t dock_http_format_request(char *buf, size_t len, const struct dock_http_request *req);

/* The credentials of a URL's userinfo ("user:password", percent-encoded as
 * in the URL) as the token of an "Authorization: Basic" header: decoded,
 * then base64 (RFC 7617). A userinfo without ':' is a user with an empty
 * password, as curl and Go's client send it. Returns the token's length
 * (NUL-terminated in buf), or -1 when buf is too small. */
ssize_t dock_http_basic_credentials(const char *userinfo, char *buf, size_t len);

enum dock_http_framing {
	DOCK_HTTP_BODY_NONE,		/* 1xx, 204, 304 */
	DOCK_HTTP_BODY_LENGTH,		/* Content-Length */
	DOCK_HTTP_BODY_CHUNKED,		/* Transfer-Encoding ending in chunked */
	DOCK_HTTP_BODY_CLOSE,		/* neither: the body ends at EOF */
};

struct dock_http_response {
	int minor_version;		/* HTTP/1.x */
	int status;			/* 100-999 */
	char reason[64];		/* printable ASCII only, truncated */
	enum dock_http_framing framing;
	uint64_t content_length;	/* with DOCK_HTTP_BODY_LENGTH */
	bool connection_close;
};

/* Parses the response head at the start of buf: status line, header lines,
 * and the empty line. Returns the head's length (the body starts there),
 * DOCK_IO_WANT_READ when buf holds only part of it, or DOCK_IO_ERROR.
 * It fails as soon as the bytes cannot begin a response, so a peer that
 * speaks something else is noticed at once. Stateless: call it again with
 * the grown buffer; the caller bounds the buffer, and so the head. */
ssize_t dock_http_parse_response_head(const char *buf, size_t len, struct dock_http_response *res);

/* Skips a response body, decoding chunked framing as it goes. */
struct dock_http_body {
	enum dock_http_framing framing;
	int state;			/* chunked decoder state */
	uint64_t left;			/* bytes left in the body or the chunk */
	unsigned size_digits;
	bool done;
};

void dock_http_body_init(struct dock_http_body *b, const struct dock_http_response *res);

/* Consumes body bytes from buf, never past the body's end (what follows is
 * not the body's). Returns the number consumed, or DOCK_IO_ERROR on bad
 * chunked framing. b->done is set once the whole body was seen. */
ssize_t dock_http_body_skip(struct dock_http_body *b, const char *buf, size_t len);

/* The peer closed: DOCK_IO_OK when that completes the body (close-
 * delimited, or already done), DOCK_IO_ERROR when it was cut short. */
enum dock_io_result dock_http_body_eof(struct dock_http_body *b);

#endif
