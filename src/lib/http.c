#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* request */

struct out {
	char *buf;
	size_t cap, len;
	bool failed;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->failed || n > o->cap - o->len) {
		o->failed = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* CR, LF or NUL in a field would end it early and start another header
 * (or the body) chosen by whoever controls the text. */
static bool has_breaking_byte(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* The request line's parts are separated by spaces, so its words must hold
 * none, nor any control byte. */
static bool is_clean_word(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

/* True when the "Name: value" line's name is name (case-insensitive). */
static bool header_is(const char *line, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static bool extra_has(const struct dock_http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n_extra; i++)
		if (header_is(req->extra[i], name))
			return true;
	return false;
}

ssize_t dock_http_format_request(char *buf, size_t len, const struct dock_http_request *req)
{
	struct out o = { .buf = buf, .cap = len };
	const char *target = req->target && req->target[0] ? req->target : "/";
	char num[24];
	size_t i;

	if (buf == NULL || req->method == NULL || req->host == NULL || req->host[0] == '\0' ||
	    !is_clean_word(req->method) || !is_clean_word(target) || !is_clean_word(req->host) ||
	    (req->port && !is_clean_word(req->port)) ||
	    (req->user_agent && has_breaking_byte(req->user_agent)) ||
	    (req->content_type && has_breaking_byte(req->content_type)))
		return -1;
	for (i = 0; i < req->n_extra; i++)
		if (req->extra[i] == NULL || has_breaking_byte(req->extra[i]) ||
		    strchr(req->extra[i], ':') == NULL)
			return -1;

	out_str(&o, req->method);
	out_str(&o, " ");
	out_str(&o, target);
	out_str(&o, " HTTP/1.1\r\n");
	if (!extra_has(req, "Host")) {
		bool v6 = strchr(req->host, ':') != NULL;

		out_str(&o, "Host: ");
		if (v6)
			out_str(&o, "[");
		out_str(&o, req->host);
		if (v6)
			out_str(&o, "]");
		if (req->port && req->port[0]) {
			out_str(&o, ":");
			out_str(&o, req->port);
		}
		out_str(&o, "\r\n");
	}
	if (req->user_agent && !extra_has(req, "User-Agent")) {
		out_str(&o, "User-Agent: ");
		out_str(&o, req->user_agent);
		out_str(&o, "\r\n");
	}
	if (req->content_type && !extra_has(req, "Content-Type")) {
		out_str(&o, "Content-Type: ");
		out_str(&o, req->content_type);
		out_str(&o, "\r\n");
	}
	snprintf(num, sizeof(num), "%zu", req->content_length);
	out_str(&o, "Content-Length: ");
	out_str(&o, num);
	/* One request per connection: nothing to keep alive between statuses
	 * that are seconds or hours apart, and no pipelining state to get
	 * wrong. */
	out_str(&o, "\r\nConnection: close\r\n");
	for (i = 0; i < req->n_extra; i++) {
		const char *line = req->extra[i];

		if (header_is(line, "Content-Length") || header_is(line, "Transfer-Encoding") ||
		    header_is(line, "Connection"))
			continue;
		out_str(&o, line);
		out_str(&o, "\r\n");
	}
	out_str(&o, "\r\n");
	return o.failed ? -1 : (ssize_t)o.len;
}

static int hex_value(char c);

ssize_t dock_http_basic_credentials(const char *userinfo, char *buf, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char plain[512];
	size_t n = 0, i, o = 0;
	const char *p;

	for (p = userinfo; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%' && hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0) {
			c = (unsigned char)(hex_value(p[1]) * 16 + hex_value(p[2]));
			p += 2;
		}
		if (n == sizeof(plain) - 1)
			return -1;
		plain[n++] = c;
	}
	/* The first ':' of the encoded text splits user and password; an
	 * encoded one (%3A) belongs to the user name and is decoded. */
	if (strchr(userinfo, ':') == NULL)
		plain[n++] = ':';
	if (len < (n + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)plain[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)plain[i + 1] << 8;
		if (i + 2 < n)
			v |= plain[i + 2];
		buf[o++] = b64[(v >> 18) & 63];
		buf[o++] = b64[(v >> 12) & 63];
		buf[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		buf[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	buf[o] = '\0';
	return (ssize_t)o;
}

/* ------------------------------------------------------------------ */
/* response head */

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Compares a header name given by pointer and length. */
static bool name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Calls fn on every non-empty element of a comma-separated list, trimmed of
 * optional whitespace. Stops early when fn returns false. */
static bool each_element(const char *v, size_t n, bool (*fn)(const char *, size_t, void *), void *ctx)
{
	size_t i = 0;

	while (i <= n) {
		size_t start = i, end;

		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (start < end && is_ows(v[start]))
			start++;
		while (end > start && is_ows(v[end - 1]))
			end--;
		if (end > start && !fn(v + start, end - start, ctx))
			return false;
		i++;
	}
	return true;
}

struct length_ctx {
	bool seen;
	uint64_t value;
};

/* Content-Length: decimal digits only; repeated values (in one line or in
 * several) must agree, or the framing is ambiguous, the root of request
 * smuggling: refuse rather than guess. */
static bool length_element(const char *e, size_t n, void *vctx)
{
	struct length_ctx *ctx = vctx;
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i] < '0' || e[i] > '9' || v > (UINT64_MAX >> 4) / 10)
			return false;
		v = v * 10 + (uint64_t)(e[i] - '0');
	}
	if (ctx->seen && ctx->value != v)
		return false;
	ctx->seen = true;
	ctx->value = v;
	return true;
}

/* Transfer-Encoding: only the last coding decides whether the body is
 * chunked (RFC 9112 6.3); parameters after ';' are ignored. */
static bool coding_element(const char *e, size_t n, void *vctx)
{
	bool *chunked_last = vctx;
	size_t k = 0;

	while (k < n && e[k] != ';' && !is_ows(e[k]))
		k++;
	*chunked_last = name_is(e, k, "chunked");
	return true;
}

static bool close_element(const char *e, size_t n, void *vctx)
{
	bool *close = vctx;

	if (name_is(e, n, "close"))
		*close = true;
	return true;
}

static ssize_t parse_status_line(const char *line, size_t n, struct dock_http_response *res)
{
	size_t i, r = 0;

	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ')
		return DOCK_IO_ERROR;
	for (i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return DOCK_IO_ERROR;
	if (line[9] == '0')
		return DOCK_IO_ERROR;
	if (n > 12 && line[12] != ' ')
		return DOCK_IO_ERROR;
	res->minor_version = line[7] - '0';
	res->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	/* The reason goes into dock's log lines: keep it printable. */
	for (i = 13; i < n && r < sizeof(res->reason) - 1; i++) {
		unsigned char c = (unsigned char)line[i];

		res->reason[r++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	res->reason[r] = '\0';
	return 0;
}

ssize_t dock_http_parse_response_head(const char *buf, size_t len, struct dock_http_response *res)
{
	struct length_ctx length = { false, 0 };
	bool te_seen = false, chunked_last = false, last_was_framing = false;
	size_t pos = 0, nheaders = 0;
	bool first = true;

	memset(res, 0, sizeof(*res));
	/* Fail on the first bytes that cannot start "HTTP/1.", not when a
	 * whole line has come: a peer speaking another protocol may never
	 * send a newline. */
	if (memcmp(buf, "HTTP/1.", len < 7 ? len : 7) != 0)
		return DOCK_IO_ERROR;

	for (;;) {
		const char *line = buf + pos, *lf, *cr;
		size_t n;

		lf = memchr(line, '\n', len - pos);
		if (lf == NULL)
			return DOCK_IO_WANT_READ;
		n = (size_t)(lf - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		/* A bare CR or a NUL inside a line: reject, never guess. */
		cr = memchr(line, '\r', n);
		if (cr != NULL || memchr(line, '\0', n) != NULL)
			return DOCK_IO_ERROR;
		pos = (size_t)(lf - buf) + 1;

		if (first) {
			if (parse_status_line(line, n, res) < 0)
				return DOCK_IO_ERROR;
			first = false;
			continue;
		}
		if (n == 0)
			break;	/* the empty line ends the head */
		if (is_ows(line[0])) {
			/* obs-fold continues the previous line. Harmless for
			 * the headers dock ignores; a folded framing header is
			 * ambiguous, and a fold before any header is invalid. */
			if (nheaders == 0 || last_was_framing)
				return DOCK_IO_ERROR;
			continue;
		}
		if (++nheaders > DOCK_HTTP_MAX_HEADERS)
			return DOCK_IO_ERROR;
		{
			const char *colon = memchr(line, ':', n), *v;
			size_t nlen, vlen, k;

			if (colon == NULL || colon == line)
				return DOCK_IO_ERROR;
			nlen = (size_t)(colon - line);
			for (k = 0; k < nlen; k++)
				if (!is_tchar((unsigned char)line[k]))
					return DOCK_IO_ERROR;
			v = colon + 1;
			vlen = n - nlen - 1;
			while (vlen > 0 && is_ows(*v)) {
				v++;
				vlen--;
			}
			while (vlen > 0 && is_ows(v[vlen - 1]))
				vlen--;

			last_was_framing = false;
			if (name_is(line, nlen, "Content-Length")) {
				last_was_framing = true;
				if (!each_element(v, vlen, length_element, &length) || !length.seen)
					return DOCK_IO_ERROR;
			} else if (name_is(line, nlen, "Transfer-Encoding")) {
				last_was_framing = true;
				if (vlen > 0) {
					te_seen = true;
					each_element(v, vlen, coding_element, &chunked_last);
				}
			} else if (name_is(line, nlen, "Connection")) {
				each_element(v, vlen, close_element, &res->connection_close);
			}
		}
	}

	if ((res->status >= 100 && res->status < 200) || res->status == 204 || res->status == 304)
		res->framing = DOCK_HTTP_BODY_NONE;
	else if (te_seen)
		/* Transfer-Encoding wins over Content-Length (RFC 9112 6.3);
		 * in HTTP/1.0 it is not understood, and anything but a final
		 * chunked is read to the close. */
		res->framing = chunked_last && res->minor_version >= 1 ? DOCK_HTTP_BODY_CHUNKED
								       : DOCK_HTTP_BODY_CLOSE;
	else if (length.seen) {
		res->framing = DOCK_HTTP_BODY_LENGTH;
		res->content_length = length.value;
	} else
		res->framing = DOCK_HTTP_BODY_CLOSE;
	return (ssize_t)pos;
}

/* ------------------------------------------------------------------ */
/* response body */

enum {
	CH_SIZE_FIRST,	/* the first hex digit of a chunk size */
	CH_SIZE,	/* more digits, or what ends the size */
	CH_SIZE_WS,	/* whitespace after the size: ';' or the line end */
	CH_EXT,		/* a chunk extension: skipped to the line end */
	CH_SIZE_LF,	/* CR seen, LF expected */
	CH_DATA,
	CH_DATA_END,	/* CRLF (or LF) after the data */
	CH_DATA_LF,
	CH_TRAILER_START,
	CH_TRAILER,	/* a trailer field: skipped to the line end */
	CH_END_LF,	/* CR of the final empty line seen */
};

/* 15 hex digits: chunks up to 2^60 bytes, and no overflow. */
#define CHUNK_SIZE_DIGITS_MAX 15

void dock_http_body_init(struct dock_http_body *b, const struct dock_http_response *res)
{
	memset(b, 0, sizeof(*b));
	b->framing = res->framing;
	b->state = CH_SIZE_FIRST;
	if (res->framing == DOCK_HTTP_BODY_LENGTH)
		b->left = res->content_length;
	b->done = res->framing == DOCK_HTTP_BODY_NONE ||
		  (res->framing == DOCK_HTTP_BODY_LENGTH && res->content_length == 0);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The chunk-size line ended: data follows, or the trailers after a zero. */
static void size_line_done(struct dock_http_body *b)
{
	b->state = b->left ? CH_DATA : CH_TRAILER_START;
}

static void next_chunk(struct dock_http_body *b)
{
	b->state = CH_SIZE_FIRST;
	b->size_digits = 0;
	b->left = 0;
}

static ssize_t skip_chunked(struct dock_http_body *b, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && !b->done) {
		char c = buf[i];

		switch (b->state) {
		case CH_SIZE_FIRST:
		case CH_SIZE:
			if (hex_value(c) >= 0) {
				if (++b->size_digits > CHUNK_SIZE_DIGITS_MAX)
					return DOCK_IO_ERROR;
				b->left = b->left * 16 + (uint64_t)hex_value(c);
				b->state = CH_SIZE;
				i++;
				continue;
			}
			/* Not a digit: the size is complete, and what ends it
			 * is read as in CH_SIZE_WS. */
			if (b->state == CH_SIZE_FIRST)
				return DOCK_IO_ERROR;
			/* fall through */
		case CH_SIZE_WS:
			if (is_ows(c))
				b->state = CH_SIZE_WS;
			else if (c == ';')
				b->state = CH_EXT;
			else if (c == '\r')
				b->state = CH_SIZE_LF;
			else if (c == '\n')
				size_line_done(b);
			else
				return DOCK_IO_ERROR;
			i++;
			break;
		case CH_EXT:
			if (c == '\r')
				b->state = CH_SIZE_LF;
			else if (c == '\n')
				size_line_done(b);
			i++;
			break;
		case CH_SIZE_LF:
			if (c != '\n')
				return DOCK_IO_ERROR;
			size_line_done(b);
			i++;
			break;
		case CH_DATA: {
			size_t n = len - i;

			if ((uint64_t)n > b->left)
				n = (size_t)b->left;
			b->left -= n;
			i += n;
			if (b->left == 0)
				b->state = CH_DATA_END;
			break;
		}
		case CH_DATA_END:
			i++;
			if (c == '\r')
				b->state = CH_DATA_LF;
			else if (c == '\n')
				next_chunk(b);
			else
				return DOCK_IO_ERROR;
			break;
		case CH_DATA_LF:
			if (c != '\n')
				return DOCK_IO_ERROR;
			i++;
			next_chunk(b);
			break;
		case CH_TRAILER_START:
			if (c == '\r')
				b->state = CH_END_LF;
			else if (c == '\n')
				b->done = true;
			else
				b->state = CH_TRAILER;
			i++;
			break;
		case CH_TRAILER:
			if (c == '\n')
				b->state = CH_TRAILER_START;
			i++;
			break;
		case CH_END_LF:
			if (c != '\n')
				return DOCK_IO_ERROR;
			b->done = true;
			i++;
			break;
		default:
			return DOCK_IO_ERROR;
		}
	}
	return (ssize_t)i;
}

ssize_t dock_http_body_skip(struct dock_http_body *b, const char *buf, size_t len)
{
	size_t n;

	if (b->done)
		return 0;
	switch (b->framing) {
	case DOCK_HTTP_BODY_NONE:
		return 0;
	case DOCK_HTTP_BODY_LENGTH:
		n = (uint64_t)len > b->left ? (size_t)b->left : len;
		b->left -= n;
		b->done = b->left == 0;
		return (ssize_t)n;
	case DOCK_HTTP_BODY_CHUNKED:
		return skip_chunked(b, buf, len);
	case DOCK_HTTP_BODY_CLOSE:
		return (ssize_t)len;
	}
	return DOCK_IO_ERROR;
}

enum dock_io_result dock_http_body_eof(struct dock_http_body *b)
{
	if (b->framing == DOCK_HTTP_BODY_CLOSE)
		b->done = true;
	return b->done ? DOCK_IO_OK : DOCK_IO_ERROR;
}
