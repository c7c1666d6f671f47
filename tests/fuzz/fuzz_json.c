/* The JSON writer driven by any sequence of calls and any string bytes:
 * whatever it accepts is valid JSON (RFC 8259, UTF-8), and it never writes
 * past its buffer. Needs src/json.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

/* An independent validator: a recursive descent over the grammar, with
 * its own UTF-8 check, so the writer is not checked against itself. */
struct v {
	const unsigned char *p, *end;
	int depth;
};

static int value(struct v *v);

static void ws(struct v *v)
{
	while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
		v->p++;
}

static int utf8(struct v *v)
{
	unsigned c = *v->p, cp, need, i;

	if (c < 0x80) {
		v->p++;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) { need = 1; cp = c & 0x1f; }
	else if ((c & 0xf0) == 0xe0) { need = 2; cp = c & 0x0f; }
	else if ((c & 0xf8) == 0xf0) { need = 3; cp = c & 0x07; }
	else return 0;
	if ((size_t)(v->end - v->p) < need + 1)
		return 0;
	for (i = 1; i <= need; i++) {
		if ((v->p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (v->p[i] & 0x3f);
	}
	if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		return 0;
	v->p += need + 1;
	return 1;
}

static int string(struct v *v)
{
	if (v->p >= v->end || *v->p != '"')
		return 0;
	v->p++;
	while (v->p < v->end && *v->p != '"') {
		if (*v->p < 0x20)
			return 0;
		if (*v->p == '\\') {
			v->p++;
			if (v->p >= v->end)
				return 0;
			if (*v->p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (v->p + i >= v->end || !strchr("0123456789abcdefABCDEF", v->p[i]) ||
					    v->p[i] == 0)
						return 0;
				v->p += 5;
			} else if (strchr("\"\\/bfnrt", *v->p) && *v->p) {
				v->p++;
			} else {
				return 0;
			}
			continue;
		}
		if (!utf8(v))
			return 0;
	}
	if (v->p >= v->end)
		return 0;
	v->p++;
	return 1;
}

static int members(struct v *v, char close, int object)
{
	v->p++;
	ws(v);
	if (v->p < v->end && *v->p == close) {
		v->p++;
		return 1;
	}
	for (;;) {
		ws(v);
		if (object) {
			if (!string(v))
				return 0;
			ws(v);
			if (v->p >= v->end || *v->p != ':')
				return 0;
			v->p++;
		}
		if (!value(v))
			return 0;
		ws(v);
		if (v->p >= v->end)
			return 0;
		if (*v->p == close) {
			v->p++;
			return 1;
		}
		if (*v->p != ',')
			return 0;
		v->p++;
	}
}

static int value(struct v *v)
{
	int ok;

	ws(v);
	if (v->p >= v->end || ++v->depth > 64)
		return 0;
	if (*v->p == '{')
		ok = members(v, '}', 1);
	else if (*v->p == '[')
		ok = members(v, ']', 0);
	else if (*v->p == '"')
		ok = string(v);
	else if (v->end - v->p >= 4 && memcmp(v->p, "null", 4) == 0)
		ok = (v->p += 4, 1);
	else if (v->end - v->p >= 4 && memcmp(v->p, "true", 4) == 0)
		ok = (v->p += 4, 1);
	else if (v->end - v->p >= 5 && memcmp(v->p, "false", 5) == 0)
		ok = (v->p += 5, 1);
	else {
		const unsigned char *s = v->p;

		if (v->p < v->end && *v->p == '-')
			v->p++;
		while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
			v->p++;
		ok = v->p > s && v->p[-1] != '-';
		/* no leading zeros */
		if (ok && (s[0] == '0' || (s[0] == '-' && s[1] == '0')) && v->p - s > 1 + (s[0] == '-'))
			ok = 0;
	}
	v->depth--;
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dock_json j;
	size_t cap, i = 0, strings = 0;
	char *buf;
	ssize_t n;

	if (size < 1)
		return 0;
	/* The first byte sets the buffer size, so overflow is explored too. */
	cap = (size_t)data[0] * 4;
	buf = malloc(cap ? cap : 1);
	if (buf == NULL)
		return 0;
	dock_json_init(&j, cap ? buf : NULL, cap);
	for (i = 1; i < size;) {
		uint8_t op = data[i++];
		size_t len;

		switch (op % 10) {
		case 0: dock_json_begin_object(&j); break;
		case 1: dock_json_end_object(&j); break;
		case 2: dock_json_begin_array(&j); break;
		case 3: dock_json_end_array(&j); break;
		case 4: case 5:
			/* a string of the next (op / 10) bytes, NULs included */
			len = op / 10;
			if (len > size - i)
				len = size - i;
			if (op % 10 == 4)
				dock_json_string_n(&j, (const char *)data + i, len);
			else {
				char key[32];

				len = len < sizeof(key) - 1 ? len : sizeof(key) - 1;
				memcpy(key, data + i, len);
				key[len] = '\0';
				dock_json_key(&j, key);
			}
			i += len;
			strings++;
			break;
		case 6: dock_json_int(&j, (long long)op * -987654321LL); break;
		case 7: dock_json_null(&j); break;
		case 8: dock_json_bool(&j, op & 16); break;
		case 9: dock_json_string(&j, NULL); break;
		}
	}
	n = dock_json_finish(&j);
	if (n >= 0) {
		struct v v = { (const unsigned char *)buf, (const unsigned char *)buf + n, 0 };

		ASSERT((size_t)n < cap);
		ASSERT(buf[n] == '\0');
		ASSERT(strlen(buf) == (size_t)n);
		ASSERT(value(&v));
		ws(&v);
		ASSERT(v.p == v.end);
	}
	free(buf);
	return 0;
}
