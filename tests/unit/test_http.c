#include "http.h"
#include "unit.h"

static ssize_t head(const char *s, struct dock_http_response *r)
{
	return dock_http_parse_response_head(s, strlen(s), r);
}

/* Skips a whole body given in one piece and then byte by byte; both ways
 * must agree. Returns the bytes consumed, or -1 on error. */
static long long skip_both_ways(enum dock_http_framing f, uint64_t length, const char *body,
				size_t n, int *done)
{
	struct dock_http_response r = { .framing = f, .content_length = length };
	struct dock_http_body a, b;
	ssize_t whole;
	size_t i, used = 0;
	int err = 0;

	dock_http_body_init(&a, &r);
	whole = dock_http_body_skip(&a, body, n);
	dock_http_body_init(&b, &r);
	for (i = 0; i < n && !b.done; i++) {
		ssize_t k = dock_http_body_skip(&b, body + i, 1);

		if (k < 0) {
			err = 1;
			break;
		}
		used += (size_t)k;
	}
	CHECK_EQ_INT(whole < 0, err);
	if (whole >= 0 && !err) {
		CHECK_EQ_INT(whole, used);
		CHECK_EQ_INT(a.done, b.done);
	}
	*done = a.done;
	return whole < 0 ? -1 : whole;
}

UNIT_SUITE(test_http_request)
{
	char buf[1024];
	const char *extra[] = { "Authorization: Bearer abc", "X-Empty:" };
	struct dock_http_request req = {
		.method = "PUT", .host = "hooks.example", .port = "8080",
		.target = "/p/a?token=x&y=1", .user_agent = "dock/1.0",
		.content_type = "application/json", .content_length = 42,
		.extra = extra, .n_extra = 2,
	};
	ssize_t n;

	n = dock_http_format_request(buf, sizeof(buf), &req);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_EQ_STR(buf, "PUT /p/a?token=x&y=1 HTTP/1.1\r\n"
			  "Host: hooks.example:8080\r\n"
			  "User-Agent: dock/1.0\r\n"
			  "Content-Type: application/json\r\n"
			  "Content-Length: 42\r\n"
			  "Connection: close\r\n"
			  "Authorization: Bearer abc\r\n"
			  "X-Empty:\r\n"
			  "\r\n");

	/* default port left out, empty target is "/", IPv6 in brackets */
	req.port = "";
	req.target = "";
	req.host = "::1";
	req.n_extra = 0;
	req.content_length = 0;
	n = dock_http_format_request(buf, sizeof(buf), &req);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_EQ_STR(buf, "PUT / HTTP/1.1\r\nHost: [::1]\r\nUser-Agent: dock/1.0\r\n"
			  "Content-Type: application/json\r\nContent-Length: 0\r\n"
			  "Connection: close\r\n\r\n");

	/* every size short of the head fails */
	{
		size_t cap;

		for (cap = 0; cap < (size_t)n; cap++)
			CHECK_EQ_INT(dock_http_format_request(buf, cap, &req), -1);
		CHECK_EQ_INT(dock_http_format_request(buf, (size_t)n, &req), n);
	}

	/* user headers replace dock's own, framing headers are dropped */
	{
		const char *over[] = { "host: other", "user-agent: me", "Content-Type: text/plain",
				       "Content-Length: 99", "Transfer-Encoding: chunked",
				       "connection: keep-alive", "X-A: 1" };

		req.host = "h";
		req.port = NULL;
		req.extra = over;
		req.n_extra = 7;
		req.content_length = 5;
		n = dock_http_format_request(buf, sizeof(buf), &req);
		CHECK(n > 0);
		buf[n > 0 ? n : 0] = '\0';
		CHECK_EQ_STR(buf, "PUT / HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n"
				  "host: other\r\nuser-agent: me\r\nContent-Type: text/plain\r\n"
				  "X-A: 1\r\n\r\n");
	}

	/* nothing can split the request */
	{
		const char *bad[] = { "X-A: 1\r\nX-B: 2" };
		const char *noname[] = { "no colon" };

		req.extra = bad;
		req.n_extra = 1;
		CHECK_EQ_INT(dock_http_format_request(buf, sizeof(buf), &req), -1);
		req.extra = noname;
		CHECK_EQ_INT(dock_http_format_request(buf, sizeof(buf), &req), -1);
		req.n_extra = 0;
		req.target = "/a b";
		CHECK_EQ_INT(dock_http_format_request(buf, sizeof(buf), &req), -1);
		req.target = "/a\r\nX: y";
		CHECK_EQ_INT(dock_http_format_request(buf, sizeof(buf), &req), -1);
		req.target = "/";
		req.host = "h\nx";
		CHECK_EQ_INT(dock_http_format_request(buf, sizeof(buf), &req), -1);
		req.host = "";
		CHECK_EQ_INT(dock_http_format_request(buf, sizeof(buf), &req), -1);
		req.host = "h";
		req.user_agent = "a\rb";
		CHECK_EQ_INT(dock_http_format_request(buf, sizeof(buf), &req), -1);
	}
}

UNIT_SUITE(test_http_head)
{
	struct dock_http_response r;
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: x\r\n\r\nhi";
	size_t i;

	CHECK_EQ_INT(head(ok, &r), (long long)strlen(ok) - 2);
	CHECK_EQ_INT(r.status, 200);
	CHECK_EQ_INT(r.minor_version, 1);
	CHECK_EQ_STR(r.reason, "OK");
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_LENGTH);
	CHECK_EQ_INT(r.content_length, 2);
	CHECK(!r.connection_close);

	/* every proper prefix needs more */
	for (i = 0; i < strlen(ok) - 2; i++)
		CHECK_EQ_INT(dock_http_parse_response_head(ok, i, &r), DOCK_IO_WANT_READ);

	/* bare LF line ends, no reason, 1.0, connection close, no framing */
	CHECK_EQ_INT(head("HTTP/1.0 503\nConnection: keep-alive, Close\n\n", &r), 44);
	CHECK_EQ_INT(r.status, 503);
	CHECK_EQ_INT(r.minor_version, 0);
	CHECK_EQ_STR(r.reason, "");
	CHECK(r.connection_close);
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_CLOSE);

	/* the reason is made printable and bounded */
	CHECK(head("HTTP/1.1 404 Not\x01 Found \xff\r\n\r\n", &r) > 0);
	CHECK_EQ_STR(r.reason, "Not? Found ?");
	{
		char longr[300];

		snprintf(longr, sizeof(longr), "HTTP/1.1 500 %0200d\r\n\r\n", 0);
		CHECK(head(longr, &r) > 0);
		CHECK_EQ_INT(strlen(r.reason), sizeof(r.reason) - 1);
	}

	/* framing */
	CHECK(head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &r) > 0);
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_CHUNKED);
	CHECK(head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", &r) > 0);
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_CLOSE);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: CHUNKED\r\n\r\n", &r) > 0);
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_CHUNKED);
	CHECK(head("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0);
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_CLOSE);
	CHECK(head("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", &r) > 0);
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_NONE);
	CHECK(head("HTTP/1.1 100 Continue\r\n\r\n", &r) > 0);
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_NONE);
	CHECK(head("HTTP/1.1 304 Not Modified\r\n\r\n", &r) > 0);
	CHECK_EQ_INT(r.framing, DOCK_HTTP_BODY_NONE);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\ncontent-length:7\r\n\r\n", &r) > 0);
	CHECK_EQ_INT(r.content_length, 7);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 1152921504606846975\r\n\r\n", &r) > 0);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n folded\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", &r) > 0);

	/* early failure: not HTTP at all, without waiting for a newline */
	CHECK_EQ_INT(dock_http_parse_response_head("SSH-2.0", 7, &r), DOCK_IO_ERROR);
	CHECK_EQ_INT(dock_http_parse_response_head("\x16\x03", 2, &r), DOCK_IO_ERROR);
	CHECK_EQ_INT(dock_http_parse_response_head("HTT", 3, &r), DOCK_IO_WANT_READ);
	CHECK_EQ_INT(dock_http_parse_response_head("", 0, &r), DOCK_IO_WANT_READ);

	/* malformed */
	CHECK(head("HTTP/2 200 OK\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 20 OK\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 2000 OK\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 099 OK\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1  200 OK\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.x 200 OK\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nSpace before : colon\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", &r) < 0);
	CHECK(head("HTTP/1.1 200 OK\r\n folded first\r\n\r\n", &r) < 0);
	CHECK(dock_http_parse_response_head("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 27, &r) < 0);

	/* the number of header lines is bounded */
	{
		static char many[8192];
		size_t n = 0;
		int k;

		n += (size_t)snprintf(many + n, sizeof(many) - n, "HTTP/1.1 200 OK\r\n");
		for (k = 0; k < DOCK_HTTP_MAX_HEADERS; k++)
			n += (size_t)snprintf(many + n, sizeof(many) - n, "X-%d: v\r\n", k);
		snprintf(many + n, sizeof(many) - n, "\r\n");
		CHECK(head(many, &r) > 0);
		snprintf(many + n, sizeof(many) - n, "X-last: v\r\n\r\n");
		CHECK(head(many, &r) < 0);
	}
}

UNIT_SUITE(test_http_body)
{
	int done;
	struct dock_http_response r = { .framing = DOCK_HTTP_BODY_LENGTH, .content_length = 3 };
	struct dock_http_body b;
	const char *chunked = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
			      "Trailer: x\r\n\r\nNEXT";
	const char *lf_only = "a\n0123456789\n0\n\nNEXT";

	/* length: stops at the end, never past it */
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_LENGTH, 3, "abcdef", 6, &done), 3);
	CHECK(done);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_LENGTH, 10, "abc", 3, &done), 3);
	CHECK(!done);
	dock_http_body_init(&b, &r);
	CHECK_EQ_INT(dock_http_body_eof(&b), DOCK_IO_ERROR);	/* cut short */
	r.content_length = 0;
	dock_http_body_init(&b, &r);
	CHECK(b.done);
	CHECK_EQ_INT(dock_http_body_skip(&b, "x", 1), 0);
	CHECK_EQ_INT(dock_http_body_eof(&b), 0);

	/* close-delimited: everything, done at EOF */
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CLOSE, 0, "abc", 3, &done), 3);
	CHECK(!done);
	r.framing = DOCK_HTTP_BODY_CLOSE;
	dock_http_body_init(&b, &r);
	CHECK_EQ_INT(dock_http_body_eof(&b), 0);
	CHECK(b.done);

	/* none */
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_NONE, 0, "abc", 3, &done), 0);
	CHECK(done);

	/* chunked, with extensions and trailers, stopping before what follows */
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, chunked, strlen(chunked), &done),
		     strlen(chunked) - 4);
	CHECK(done);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, lf_only, strlen(lf_only), &done),
		     strlen(lf_only) - 4);
	CHECK(done);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "0\r\n\r\n", 5, &done), 5);
	CHECK(done);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "1 ; a\r\nx\r\n0 \r\n\r\n", 16, &done), 16);
	CHECK(done);
	/* a partial chunked body is not done, and EOF then is an error */
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "4\r\nWi", 5, &done), 5);
	CHECK(!done);
	r.framing = DOCK_HTTP_BODY_CHUNKED;
	dock_http_body_init(&b, &r);
	CHECK_EQ_INT(dock_http_body_skip(&b, "4\r\nWi", 5), 5);
	CHECK_EQ_INT(dock_http_body_eof(&b), DOCK_IO_ERROR);

	/* bad chunked framing */
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "x\r\n", 3, &done), -1);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "\r\n", 2, &done), -1);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "1 2\r\n", 5, &done), -1);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "2\r\nabX", 6, &done), -1);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "2\r\nab\rX", 7, &done), -1);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "2\rX", 3, &done), -1);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "0\r\n\rX", 5, &done), -1);
	/* a size too large to count is refused, not wrapped */
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "1000000000000000\r\n", 18, &done), -1);
	CHECK_EQ_INT(skip_both_ways(DOCK_HTTP_BODY_CHUNKED, 0, "fffffffffffffff\r\n", 17, &done), 17);
	CHECK(!done);
}

UNIT_SUITE(test_http_basic)
{
	char buf[64];

	/* RFC 7617's example */
	CHECK_EQ_INT(dock_http_basic_credentials("Aladdin:open%20sesame", buf, sizeof(buf)), 28);
	CHECK_EQ_STR(buf, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	CHECK(dock_http_basic_credentials("user", buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "dXNlcjo=");	/* "user:" */
	CHECK(dock_http_basic_credentials("a%3Ab:c", buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "YTpiOmM=");	/* "a:b:c" */
	CHECK(dock_http_basic_credentials("%zz:%4", buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "JXp6OiU0");	/* invalid escapes stay as they are */
	CHECK(dock_http_basic_credentials("ab:", buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "YWI6");
	CHECK_EQ_INT(dock_http_basic_credentials("ab:", buf, 4), -1);
	CHECK_EQ_INT(dock_http_basic_credentials("ab:", buf, 5), 4);
}
