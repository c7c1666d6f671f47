#include "json.h"

#include <stdio.h>
#include <string.h>

void dock_json_init(struct dock_json *j, char *buf, size_t cap)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = cap;
	/* No room even for the terminating NUL: nothing can ever succeed. */
	if (buf == NULL || cap == 0)
		j->failed = true;
	else
		buf[0] = '\0';
}

/* One byte short of cap is kept for the NUL that finish writes. */
static void put(struct dock_json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (n > j->cap - 1 - j->len) {
		j->failed = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void put_c(struct dock_json *j, char c)
{
	put(j, &c, 1);
}

/* Called before every value and every key: places the comma, and checks
 * that objects get keys and arrays do not. */
static void before_item(struct dock_json *j, bool is_key)
{
	uint32_t bit;

	if (j->failed)
		return;
	if (j->depth == 0) {
		/* A document is one value: a second top-level one is misuse. */
		if (is_key || j->len > 0)
			j->failed = true;
		return;
	}
	bit = 1u << (j->depth - 1);
	if (j->in_object & bit) {
		if (is_key == j->after_key) {
			/* a key after a key, or a value without one */
			j->failed = true;
			return;
		}
		if (!is_key) {
			j->after_key = false;
			return;	/* the comma went before the key */
		}
	} else if (is_key) {
		j->failed = true;
		return;
	}
	if (j->has_items & bit)
		put_c(j, ',');
	j->has_items |= bit;
}

static void begin(struct dock_json *j, bool object)
{
	uint32_t bit;

	before_item(j, false);
	if (j->failed)
		return;
	if (j->depth == DOCK_JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	put_c(j, object ? '{' : '[');
	bit = 1u << j->depth;
	j->depth++;
	if (object)
		j->in_object |= bit;
	else
		j->in_object &= ~bit;
	j->has_items &= ~bit;
}

static void end(struct dock_json *j, bool object)
{
	uint32_t bit;

	if (j->failed)
		return;
	if (j->depth == 0 || j->after_key) {
		j->failed = true;
		return;
	}
	bit = 1u << (j->depth - 1);
	if (!!(j->in_object & bit) != object) {
		j->failed = true;
		return;
	}
	put_c(j, object ? '}' : ']');
	j->depth--;
}

void dock_json_begin_object(struct dock_json *j) { begin(j, true); }
void dock_json_end_object(struct dock_json *j) { end(j, true); }
void dock_json_begin_array(struct dock_json *j) { begin(j, false); }
void dock_json_end_array(struct dock_json *j) { end(j, false); }

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0.
 * Overlong forms, surrogates and code points past U+10FFFF are not
 * well-formed (RFC 3629), so they are replaced rather than passed on. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

static void put_escaped(struct dock_json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run;

	put_c(j, '"');
	while (i < n && !j->failed) {
		unsigned char c = p[i];
		char esc[7];

		/* Copy a run of bytes that need nothing, in one go. */
		for (run = 0; i + run < n; run++) {
			c = p[i + run];
			if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
				break;
		}
		put(j, s + i, run);
		i += run;
		if (i == n)
			break;
		c = p[i];
		if (c >= 0x80) {
			size_t len = utf8_len(p + i, n - i);

			if (len == 0) {
				put(j, "\\ufffd", 6);
				i++;
			} else {
				put(j, s + i, len);
				i += len;
			}
			continue;
		}
		switch (c) {
		case '"': put(j, "\\\"", 2); break;
		case '\\': put(j, "\\\\", 2); break;
		case '\b': put(j, "\\b", 2); break;
		case '\f': put(j, "\\f", 2); break;
		case '\n': put(j, "\\n", 2); break;
		case '\r': put(j, "\\r", 2); break;
		case '\t': put(j, "\\t", 2); break;
		default:
			/* Other controls, and DEL, which some log viewers
			 * render as a control too. */
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(j, esc, 6);
			break;
		}
		i++;
	}
	put_c(j, '"');
}

void dock_json_key(struct dock_json *j, const char *key)
{
	before_item(j, true);
	if (j->failed)
		return;
	if (key == NULL) {
		j->failed = true;
		return;
	}
	put_escaped(j, key, strlen(key));
	put_c(j, ':');
	j->after_key = true;
}

void dock_json_string_n(struct dock_json *j, const char *s, size_t n)
{
	if (s == NULL) {
		dock_json_null(j);
		return;
	}
	before_item(j, false);
	put_escaped(j, s, n);
}

void dock_json_string(struct dock_json *j, const char *s)
{
	dock_json_string_n(j, s, s ? strlen(s) : 0);
}

void dock_json_int(struct dock_json *j, long long v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", v);

	before_item(j, false);
	put(j, num, (size_t)n);
}

void dock_json_bool(struct dock_json *j, bool v)
{
	before_item(j, false);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void dock_json_null(struct dock_json *j)
{
	before_item(j, false);
	put(j, "null", 4);
}

ssize_t dock_json_finish(struct dock_json *j)
{
	if (j->failed || j->depth != 0 || j->after_key || j->len == 0)
		return -1;
	j->buf[j->len] = '\0';
	return (ssize_t)j->len;
}
