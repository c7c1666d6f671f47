#include <string.h>

#include "log.h"
#include "unit.h"

static const char *clean(const char *in, size_t n, char *buf)
{
	size_t m;

	memcpy(buf, in, n);
	m = dock_log_sanitize(buf, n);
	buf[m] = '\0';
	return buf;
}

UNIT_SUITE(test_log)
{
	char buf[256];

	CHECK_EQ_STR(clean("plain text", 10, buf), "plain text");
	/* C0 (tab included), DEL, NUL */
	CHECK_EQ_STR(clean("a\nb\rc\td\x1b[2Je\x7f", 13, buf), "a?b?c?d?[2Je?");
	CHECK_EQ_STR(clean("x\0y", 3, buf), "x?y");
	/* raw C1 bytes: 0x9b is CSI to an 8-bit terminal */
	CHECK_EQ_STR(clean("a\x9b" "31mb\x80\x9f", 8, buf), "a?31mb??");
	/* U+0080-U+009F in UTF-8: one '?' each */
	CHECK_EQ_STR(clean("a\xc2\x9b" "31m\xc2\x80\xc2\x9f", 10, buf), "a?31m??");
	/* other UTF-8 is kept, continuation bytes 0x80-0x9f included */
	CHECK_EQ_STR(clean("\xc2\xa0\xc3\xa9\xe2\x82\xac\xc4\x80\xf0\x9f\x98\x80", 13, buf),
		     "\xc2\xa0\xc3\xa9\xe2\x82\xac\xc4\x80\xf0\x9f\x98\x80");
	/* invalid UTF-8: a Latin-1 byte stays, its C1 neighbours do not */
	CHECK_EQ_STR(clean("caf\xe9 \xe2\x82", 7, buf), "caf\xe9 \xe2?");
	/* overlong encodings and surrogates are not UTF-8 */
	CHECK_EQ_STR(clean("\xe0\x82\x9b", 3, buf), "\xe0??");
	CHECK_EQ_STR(clean("\xed\xa0\x80", 3, buf), "\xed\xa0?");
	CHECK_EQ_INT(dock_log_sanitize(buf, 0), 0);
}
