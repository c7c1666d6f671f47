#include "json.h"
#include "unit.h"

/* Writes one string value as a whole document and returns it. */
static const char *one_string(char *buf, size_t cap, const char *s, size_t n)
{
	struct dock_json j;

	dock_json_init(&j, buf, cap);
	dock_json_string_n(&j, s, n);
	return dock_json_finish(&j) < 0 ? NULL : buf;
}

UNIT_SUITE(test_json)
{
	char buf[256];
	struct dock_json j;

	/* the hook's shape */
	dock_json_init(&j, buf, sizeof(buf));
	dock_json_begin_object(&j);
	dock_json_key(&j, "ps");
	dock_json_begin_object(&j);
	dock_json_key(&j, "status");
	dock_json_string(&j, "crashed");
	dock_json_key(&j, "net_interfaces");
	dock_json_begin_array(&j);
	dock_json_begin_object(&j);
	dock_json_key(&j, "name");
	dock_json_string(&j, "eth0");
	dock_json_key(&j, "ipv6");
	dock_json_string(&j, NULL);
	dock_json_end_object(&j);
	dock_json_begin_object(&j);
	dock_json_end_object(&j);
	dock_json_end_array(&j);
	dock_json_key(&j, "exit_code");
	dock_json_int(&j, -137);
	dock_json_key(&j, "ok");
	dock_json_bool(&j, true);
	dock_json_key(&j, "no");
	dock_json_bool(&j, false);
	dock_json_key(&j, "empty");
	dock_json_begin_array(&j);
	dock_json_end_array(&j);
	dock_json_end_object(&j);
	dock_json_end_object(&j);
	CHECK(dock_json_finish(&j) > 0);
	CHECK_EQ_STR(buf, "{\"ps\":{\"status\":\"crashed\",\"net_interfaces\":[{\"name\":\"eth0\","
			  "\"ipv6\":null},{}],\"exit_code\":-137,\"ok\":true,\"no\":false,\"empty\":[]}}");
	CHECK_EQ_INT(dock_json_finish(&j), (long long)strlen(buf));

	/* arrays of scalars */
	dock_json_init(&j, buf, sizeof(buf));
	dock_json_begin_array(&j);
	dock_json_int(&j, 1);
	dock_json_null(&j);
	dock_json_string(&j, "");
	dock_json_begin_array(&j);
	dock_json_end_array(&j);
	dock_json_end_array(&j);
	CHECK(dock_json_finish(&j) > 0);
	CHECK_EQ_STR(buf, "[1,null,\"\",[]]");

	/* escaping */
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "\b\f\n\r\t", 5), "\"\\b\\f\\n\\r\\t\"");
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "\x01\x1f\x7f", 3), "\"\\u0001\\u001f\\u007f\"");
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "a\0b", 3), "\"a\\u0000b\"");
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "/</script>", 10), "\"/</script>\"");
	/* valid UTF-8 passes through: é, €, 😀 */
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
		     "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* invalid UTF-8 becomes U+FFFD, one per bad byte */
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "a\xff" "b", 3), "\"a\\ufffdb\"");
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");	/* overlong */
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "\xe0\x80\xaf", 3), "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "\xf4\x90\x80\x80", 4),
		     "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");	/* past U+10FFFF */
	CHECK_EQ_STR(one_string(buf, sizeof(buf), "x\xe2\x82", 3), "\"x\\ufffd\\ufffd\"");	/* cut short */

	/* overflow: every size short of the document fails, never truncates */
	{
		const char *doc = "{\"k\":\"v\\n\"}";
		size_t cap;

		for (cap = 0; cap <= strlen(doc) + 1; cap++) {
			char small[32];
			ssize_t r;

			memset(small, 'X', sizeof(small));
			dock_json_init(&j, cap ? small : NULL, cap);
			dock_json_begin_object(&j);
			dock_json_key(&j, "k");
			dock_json_string(&j, "v\n");
			dock_json_end_object(&j);
			r = dock_json_finish(&j);
			if (cap <= strlen(doc)) {
				CHECK_EQ_INT(r, -1);
			} else {
				CHECK_EQ_INT(r, (long long)strlen(doc));
				CHECK_EQ_STR(small, doc);
			}
			/* nothing written past cap */
			if (cap < sizeof(small))
				CHECK(small[cap] == 'X');
		}
	}

	/* misuse is reported, not written */
	dock_json_init(&j, buf, sizeof(buf));
	dock_json_begin_object(&j);
	dock_json_string(&j, "value without key");
	CHECK_EQ_INT(dock_json_finish(&j), -1);

	dock_json_init(&j, buf, sizeof(buf));
	dock_json_begin_array(&j);
	dock_json_key(&j, "key in array");
	CHECK_EQ_INT(dock_json_finish(&j), -1);

	dock_json_init(&j, buf, sizeof(buf));
	dock_json_begin_object(&j);
	dock_json_key(&j, "a");
	dock_json_key(&j, "b");
	CHECK_EQ_INT(dock_json_finish(&j), -1);

	dock_json_init(&j, buf, sizeof(buf));
	dock_json_begin_object(&j);
	dock_json_key(&j, "a");
	dock_json_end_object(&j);
	CHECK_EQ_INT(dock_json_finish(&j), -1);

	dock_json_init(&j, buf, sizeof(buf));
	dock_json_begin_object(&j);
	dock_json_end_array(&j);
	CHECK_EQ_INT(dock_json_finish(&j), -1);

	dock_json_init(&j, buf, sizeof(buf));
	dock_json_begin_object(&j);
	CHECK_EQ_INT(dock_json_finish(&j), -1);	/* left open */

	dock_json_init(&j, buf, sizeof(buf));
	dock_json_int(&j, 1);
	dock_json_int(&j, 2);
	CHECK_EQ_INT(dock_json_finish(&j), -1);	/* two documents */

	dock_json_init(&j, buf, sizeof(buf));
	CHECK_EQ_INT(dock_json_finish(&j), -1);	/* nothing */

	{
		int i;

		dock_json_init(&j, buf, sizeof(buf));
		for (i = 0; i <= DOCK_JSON_MAX_DEPTH; i++)
			dock_json_begin_array(&j);
		CHECK(j.failed);
	}
}
