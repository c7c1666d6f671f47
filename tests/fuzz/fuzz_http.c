/* The web hook's HTTP response parser and body skipper on any bytes, and
 * the request formatter on any header text: no crash, no overread, and
 * what each promises. Needs src/http.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the condition's text, so libFuzzer saves the input. */
#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

static void check_head(const struct dock_http_response *r)
{
	size_t i, n = strnlen(r->reason, sizeof(r->reason));

	ASSERT(n < sizeof(r->reason));
	for (i = 0; i < n; i++)
		ASSERT(r->reason[i] >= 0x20 && r->reason[i] < 0x7f);
	ASSERT(r->status >= 100 && r->status <= 999);
	ASSERT(r->minor_version >= 0 && r->minor_version <= 9);
	ASSERT(r->framing <= DOCK_HTTP_BODY_CLOSE);
	if ((r->status >= 100 && r->status < 200) || r->status == 204 || r->status == 304)
		ASSERT(r->framing == DOCK_HTTP_BODY_NONE);
}

/* Skips the body in pieces of `step` bytes; returns the bytes consumed,
 * or -1 on an error. */
static long long skip(const struct dock_http_response *r, const char *buf, size_t len, size_t step,
		      int *done)
{
	struct dock_http_body b;
	size_t off = 0;

	dock_http_body_init(&b, r);
	while (off < len && !b.done) {
		size_t n = len - off < step ? len - off : step;
		ssize_t k = dock_http_body_skip(&b, buf + off, n);

		if (k < 0)
			return -1;
		ASSERT((size_t)k <= n);
		off += (size_t)k;
		/* Only the body's end stops the skipper before the piece's. */
		if ((size_t)k < n)
			ASSERT(b.done);
	}
	*done = b.done;
	return (long long)off;
}

static void fuzz_response(const char *buf, size_t size, size_t step)
{
	struct dock_http_response r, again;
	ssize_t head = dock_http_parse_response_head(buf, size, &r);

	ASSERT(head == DOCK_IO_ERROR || head == DOCK_IO_WANT_READ || (head > 0 && (size_t)head <= size));
	if (head == DOCK_IO_WANT_READ) {
		/* Less of the same bytes cannot be more complete. */
		ASSERT(dock_http_parse_response_head(buf, size / 2, &again) == DOCK_IO_WANT_READ);
		return;
	}
	if (head < 0)
		return;
	check_head(&r);
	/* The head's end does not depend on what follows it, and one byte
	 * less is never a complete head. */
	ASSERT(dock_http_parse_response_head(buf, (size_t)head, &again) == head);
	ASSERT(memcmp(&again, &r, sizeof(r)) == 0);
	ASSERT(dock_http_parse_response_head(buf, (size_t)head - 1, &again) < 0);

	{
		const char *body = buf + head;
		size_t blen = size - (size_t)head;
		int done_whole = 0, done_step = 0;
		long long whole = skip(&r, body, blen, blen ? blen : 1, &done_whole);
		long long pieces = skip(&r, body, blen, step, &done_step);

		/* However the bytes arrive, the skipper reaches the same end. */
		ASSERT(whole == pieces);
		if (whole >= 0) {
			ASSERT(done_whole == done_step);
			if (r.framing == DOCK_HTTP_BODY_LENGTH && done_whole)
				ASSERT((unsigned long long)whole == r.content_length);
			if (r.framing == DOCK_HTTP_BODY_CLOSE)
				ASSERT(!done_whole && (size_t)whole == blen);
		}
	}
}

/* The request formatter with header lines cut from the input: when it
 * succeeds, the head has exactly its own lines, so no text could smuggle
 * a header or a body in. */
static void fuzz_request(const char *buf, size_t size)
{
	char copy[512], out[2048];
	const char *extra[4];
	size_t n = size < sizeof(copy) - 1 ? size : sizeof(copy) - 1, i, lines = 0, k = 0;
	struct dock_http_request req = {
		.method = "PUT", .host = "h", .target = "/", .user_agent = "dock/fuzz",
		.content_type = "application/json", .content_length = size,
	};
	ssize_t len;

	memcpy(copy, buf, n);
	copy[n] = '\0';
	/* Up to four NUL-separated strings: target, then header lines. */
	for (i = 0; i < n && k < 4; i++) {
		if (copy[i] == '\0' || i == 0) {
			const char *s = copy + (copy[i] == '\0' ? i + 1 : i);

			extra[k++] = s;
		}
	}
	if (k > 0)
		req.target = extra[0];
	req.extra = extra + 1;
	req.n_extra = k > 0 ? k - 1 : 0;
	len = dock_http_format_request(out, sizeof(out), &req);
	if (len < 0)
		return;
	ASSERT((size_t)len <= sizeof(out));
	ASSERT(len >= 4 && memcmp(out + len - 4, "\r\n\r\n", 4) == 0);
	for (i = 0; i + 1 < (size_t)len; i++) {
		if (out[i] == '\r')
			ASSERT(out[i + 1] == '\n');
		if (out[i] == '\n') {
			ASSERT(i > 0 && out[i - 1] == '\r');
			lines++;
			/* an empty line only at the very end */
			if (i + 1 < (size_t)len - 2)
				ASSERT(out[i + 1] != '\r');
		}
		ASSERT(out[i] != '\0');
	}
	/* request line, Host, User-Agent, Content-Type, Content-Length,
	 * Connection, the extras at most, and the empty line */
	ASSERT(lines + 1 <= 7 + req.n_extra);
}

static void fuzz_credentials(const char *buf, size_t size)
{
	char copy[300], out[512];
	size_t n = size < sizeof(copy) - 1 ? size : sizeof(copy) - 1, i;
	ssize_t len;

	memcpy(copy, buf, n);
	copy[n] = '\0';
	len = dock_http_basic_credentials(copy, out, sizeof(out));
	ASSERT(len >= 0);	/* 300 bytes always fit 512 */
	ASSERT(len % 4 == 0 && (size_t)len == strlen(out));
	for (i = 0; i < (size_t)len; i++)
		ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", out[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	size_t step;

	if (size < 1)
		return 0;
	/* The first byte picks the piece size for the body, so the fuzzer
	 * explores how reads split the chunked framing. */
	step = (size_t)(data[0] % 16) + 1;
	/* An exact-size heap copy: ASan catches any read past the end. */
	buf = malloc(size - 1 ? size - 1 : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	fuzz_response(buf, size - 1, step);
	fuzz_request(buf, size - 1);
	fuzz_credentials(buf, size - 1);
	free(buf);
	return 0;
}
