/* dock_url_parse_io, dock_url_parse_http and dock_url_redact on any bytes: no
 * crash, no overread, and what each promises about its output. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the condition's text, so libFuzzer saves the input. */
#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void check_url_fields(const struct dock_url *u)
{
	ASSERT(terminated(u->scheme, sizeof(u->scheme)));
	ASSERT(terminated(u->userinfo, sizeof(u->userinfo)));
	ASSERT(terminated(u->host, sizeof(u->host)));
	ASSERT(terminated(u->port, sizeof(u->port)));
	ASSERT(terminated(u->path, sizeof(u->path)));
}

static void check_port(const char *port)
{
	long v;
	char *end;

	ASSERT(port[0] >= '1' && port[0] <= '9');
	v = strtol(port, &end, 10);
	ASSERT(*end == '\0' && v >= 1 && v <= 65535);
}

static void check_io(const char *text)
{
	struct dock_io_target io;
	char err[96];

	memset(err, 'E', sizeof(err));
	if (dock_url_parse_io(text, &io, err, sizeof(err)) < 0) {
		ASSERT(terminated(err, sizeof(err)) && err[0] != '\0');
		return;
	}
	check_url_fields(&io.url);
	switch (io.kind) {
	case DOCK_IO_FILE:
	case DOCK_IO_UNIX:
	case DOCK_IO_UNIXGRAM:
		ASSERT(io.url.path[0] != '\0' && io.url.host[0] == '\0');
		ASSERT(io.kind == DOCK_IO_FILE || strlen(io.url.path) <= 107);
		ASSERT(io.family == AF_UNSPEC);
		break;
	case DOCK_IO_TCP:
	case DOCK_IO_TLS:
	case DOCK_IO_UDP:
		ASSERT(io.url.host[0] != '\0' && io.url.path[0] == '\0');
		ASSERT(io.url.userinfo[0] == '\0');
		check_port(io.url.port);
		ASSERT(io.family == AF_UNSPEC || io.family == AF_INET || io.family == AF_INET6);
		ASSERT(strpbrk(io.url.host, " /@[]?#") == NULL);
		break;
	default:
		ASSERT(!"kind out of range");
	}
}

static void check_http(const char *text)
{
	struct dock_url u;
	char err[96];
	const unsigned char *c;

	if (dock_url_parse_http(text, &u, err, sizeof(err)) < 0) {
		ASSERT(terminated(err, sizeof(err)) && err[0] != '\0');
		return;
	}
	check_url_fields(&u);
	ASSERT(strcmp(u.scheme, "http") == 0 || strcmp(u.scheme, "https") == 0);
	ASSERT(u.host[0] != '\0');
	check_port(u.port);
	ASSERT(u.path[0] == '/');
	ASSERT(strchr(u.path, '#') == NULL);
	/* Nothing that could split a request line or a header. */
	for (c = (const unsigned char *)u.path; *c; c++)
		ASSERT(*c > 0x20 && *c != 0x7f);
	ASSERT(strpbrk(u.host, " /@?#\r\n") == NULL);
}

static void check_redact(const char *text, size_t n, uint8_t cut)
{
	/* Redaction grows text at most by "***" per byte ("&&" gives "&&"
	 * but "a&a" gives "***&***"). */
	size_t cap = 4 * n + 16, len;
	char *full = malloc(cap), *again = malloc(cap), *part;

	memset(full, 'Z', cap);
	dock_url_redact(text, full, cap);
	len = strlen(full);
	ASSERT(len < cap - 1);

	/* Hiding twice hides nothing more: "***" holds no secret. */
	dock_url_redact(full, again, cap);
	ASSERT(strcmp(full, again) == 0);

	/* A short buffer gets a prefix of the same text, terminated, and not a
	 * byte past its end. */
	part = malloc((size_t)cut + 1);
	dock_url_redact(text, part, (size_t)cut + 1);
	ASSERT(strlen(part) == ((size_t)cut < len ? (size_t)cut : len));
	ASSERT(strncmp(part, full, strlen(part)) == 0);

	/* A userinfo the http parser takes is hidden: the output starts with
	 * "scheme://", then "user:" when there is a password, then "***@". */
	{
		struct dock_url u;
		char err[8];

		if (dock_url_parse_http(text, &u, err, sizeof(err)) == 0 && u.userinfo[0] != '\0') {
			const char *colon = strchr(u.userinfo, ':');
			size_t keep = strlen(u.scheme) + 3 +
				      (colon ? (size_t)(colon - u.userinfo) + 1 : 0);

			ASSERT(strncmp(full, text, keep) == 0);
			ASSERT(strncmp(full + keep, "***@", 4) == 0);
		}
	}
	free(part);
	free(again);
	free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	/* The first byte picks the short buffer's size for the redaction; the
	 * rest is the text, a C string as every caller has. */
	if (size == 0)
		return 0;
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	check_io(text);
	check_http(text);
	check_redact(text, strlen(text), data[0]);
	free(text);
	return 0;
}
