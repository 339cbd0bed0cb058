/*
 * test-text.c -- strict UTF-8 (RFC 3629), what a username may be, header
 * values made safe to store and log, and the throttling key of an
 * address.
 */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "text.h"

#define S(lit)	lit, sizeof(lit) - 1

static void
test_utf8(void)
{
	ok(text_utf8_valid("", 0), "the empty string is valid UTF-8");
	ok(text_utf8_valid(S("hello, world")), "ASCII is valid UTF-8");
	ok(text_utf8_valid(S("caf\xc3\xa9")),
	    "a 2-byte sequence (U+00E9) is valid");
	ok(text_utf8_valid(S("\xe2\x82\xac")),
	    "a 3-byte sequence (U+20AC) is valid");
	ok(text_utf8_valid(S("\xf0\x9f\x98\x80")),
	    "a 4-byte sequence (U+1F600) is valid");
	ok(text_utf8_valid(S("\xc2\x80")),
	    "U+0080, the smallest 2-byte, is valid");
	ok(text_utf8_valid(S("\xe0\xa0\x80")),
	    "U+0800, the smallest 3-byte, is valid");
	ok(text_utf8_valid(S("\xf0\x90\x80\x80")),
	    "U+10000, the smallest 4-byte, is valid");
	ok(text_utf8_valid(S("\xed\x9f\xbf")),
	    "U+D7FF, below the surrogates, is valid");
	ok(text_utf8_valid(S("\xee\x80\x80")),
	    "U+E000, above the surrogates, is valid");
	ok(text_utf8_valid(S("\xf4\x8f\xbf\xbf")), "U+10FFFF is valid");
	ok(text_utf8_valid(S("a\0b")),
	    "an embedded NUL (U+0000) is valid UTF-8");

	ok(!text_utf8_valid(S("\xc0\xaf")),
	    "an overlong '/' (C0 AF) is invalid");
	ok(!text_utf8_valid(S("\xc1\xbf")),
	    "an overlong 2-byte (C1 BF) is invalid");
	ok(!text_utf8_valid(S("\xe0\x80\xaf")),
	    "an overlong 3-byte (E0 80 AF) is invalid");
	ok(!text_utf8_valid(S("\xf0\x80\x80\xaf")),
	    "an overlong 4-byte (F0 80 80 AF) is invalid");
	ok(!text_utf8_valid(S("\xed\xa0\x80")),
	    "a surrogate (ED A0 80) is invalid");
	ok(!text_utf8_valid(S("\xed\xbf\xbf")),
	    "a surrogate (ED BF BF) is invalid");
	ok(!text_utf8_valid(S("\xf4\x90\x80\x80")),
	    "above U+10FFFF (F4 90 80 80) is invalid");
	ok(!text_utf8_valid(S("\xf5\x80\x80\x80")),
	    "a lead byte F5 is invalid");
	ok(!text_utf8_valid(S("\xf8\x88\x80\x80\x80")),
	    "a 5-byte sequence is invalid");
	ok(!text_utf8_valid(S("\xff")), "the byte FF is invalid");
	ok(!text_utf8_valid(S("\xc3")),
	    "a truncated 2-byte sequence is invalid");
	ok(!text_utf8_valid(S("\xe2\x82")),
	    "a truncated 3-byte sequence is invalid");
	ok(!text_utf8_valid(S("\xf0\x9f\x98")),
	    "a truncated 4-byte sequence is invalid");
	ok(!text_utf8_valid(S("ab\xe2\x82")),
	    "a truncated sequence at the end of a string is invalid");
	ok(!text_utf8_valid(S("\xe2\x82" "a")),
	    "a sequence cut short by ASCII is invalid");
	ok(!text_utf8_valid(S("\x80")), "a lone continuation byte is invalid");
	ok(!text_utf8_valid(S("a\xbf" "b")),
	    "a continuation byte between ASCII is invalid");
	ok(text_utf8_valid("\xc3\xa9\xff", 2),
	    "only the given length is checked");
}

static void
test_username(void)
{
	char name[USERNAME_MAX + 2];

	memset(name, 'a', sizeof(name));
	ok(text_username_valid(S("alice")), "\"alice\" is a valid username");
	ok(text_username_valid(S("a")), "a one-byte username is valid");
	ok(text_username_valid(S("alice smith")),
	    "an inner space is allowed in a username");
	ok(text_username_valid(S("j\xc3\xb6rg")), "a UTF-8 username is valid");
	ok(text_username_valid(name, USERNAME_MAX),
	    "a username of 128 bytes is valid");
	ok(!text_username_valid(name, USERNAME_MAX + 1),
	    "a username of 129 bytes is invalid");
	ok(!text_username_valid("", 0), "an empty username is invalid");
	ok(!text_username_valid(S(" alice")),
	    "a leading space in a username is invalid");
	ok(!text_username_valid(S("alice ")),
	    "a trailing space in a username is invalid");
	ok(!text_username_valid(S("ali\nce")),
	    "a newline in a username is invalid");
	ok(!text_username_valid(S("ali\tce")),
	    "a tab in a username is invalid");
	ok(!text_username_valid(S("a\0b")), "a NUL in a username is invalid");
	ok(!text_username_valid(S("ali\x7f" "ce")),
	    "DEL (0x7f) in a username is invalid");
	ok(!text_username_valid(S("\x1b[31m")),
	    "an escape sequence in a username is invalid");
	ok(!text_username_valid(S("j\xf6rg")),
	    "a Latin-1 (invalid UTF-8) username is invalid");
	ok(!text_username_valid(S("\xc0\xaf")),
	    "an overlong UTF-8 username is invalid");
	ok(!text_username_valid(S("a\xc2\x85" "b")),
	    "a C1 control (U+0085, NEL) in a username is invalid");
	ok(!text_username_valid(S("\xc2\x9b" "31m")),
	    "a C1 control (U+009B, CSI) in a username is invalid");
	ok(text_username_valid(S("a\xc2\xa0" "b")),
	    "U+00A0 (just past the C1 range) in a username is valid");
}

static void
test_no_control(void)
{
	ok(text_no_control(S("caf\xc3\xa9 ok")),
	    "UTF-8 and spaces have no control character");
	ok(!text_no_control(S("a\x01" "b")), "U+0001 is a control character");
	ok(!text_no_control(S("a\x1f")), "U+001F is a control character");
	ok(!text_no_control(S("a\x7f")), "DEL is a control character");
	ok(!text_no_control(S("\xc2\x80")), "U+0080 is a control character");
	ok(!text_no_control(S("x\xc2\x9f")), "U+009F is a control character");
	ok(text_no_control(S("\xc2\xa0")), "U+00A0 is not a control character");
	ok(text_no_control(S("\xc4\x80")),
	    "U+0100 (C4 80: a continuation byte 0x80 after another lead) is not");
	ok(text_no_control("a\xc2", 2),
	    "a lone C2 at the end is not read past the length");
}

static void
test_sanitize(void)
{
	char out[16];

	ok(strcmp(text_sanitize("curl/8.0", out, 15), "curl/8.0") == 0,
	    "printable ASCII is kept as it is");
	ok(strcmp(text_sanitize("a\tb\r\nc", out, 15), "a?b??c") == 0,
	    "control characters become '?'");
	ok(strcmp(text_sanitize("a\x7f" "b", out, 15), "a?b") == 0,
	    "DEL becomes '?'");
	ok(strcmp(text_sanitize("caf\xc3\xa9", out, 15), "caf??") == 0,
	    "each non-ASCII byte becomes '?'");
	ok(strcmp(text_sanitize("0123456789abcdefghij", out, 10),
	    "0123456789") == 0, "the value is cut at max bytes");
	ok(strlen(text_sanitize("0123456789abcdefghij", out, 15)) == 15,
	    "a long value fills exactly max bytes and a NUL");
	ok(strcmp(text_sanitize(NULL, out, 15), "") == 0,
	    "a NULL value becomes \"\"");
	ok(strcmp(text_sanitize("", out, 15), "") == 0, "\"\" stays \"\"");
	ok(text_sanitize("x", out, 15) == out, "text_sanitize returns out");
}

/* KEY is text_addr_key(ADDR, PREFIX6). */
#define ADDR_KEY(addr, prefix6, key) do {				\
	char out_[TEXT_ADDR_KEY_MIN];					\
									\
	text_addr_key((addr), (prefix6), out_, sizeof(out_));		\
	ok(strcmp(out_, (key)) == 0, "the key of %s with /%d IPv6 "	\
	    "prefixes is %s (got %s)", (addr), (prefix6), (key), out_);	\
} while (0)

static void
test_addr_key(void)
{
	char small[8];

	ADDR_KEY("192.0.2.7", 64, "192.0.2.7");
	ADDR_KEY("192.0.2.7", 32, "192.0.2.7");
	ADDR_KEY("::ffff:192.0.2.7", 64, "192.0.2.7");
	ADDR_KEY("::FFFF:c000:0207", 48, "192.0.2.7");
	ADDR_KEY("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::/64");
	ADDR_KEY("2001:DB8:1:2::ffff", 64, "2001:db8:1:2::/64");
	ADDR_KEY("2001:db8:1:3::1", 64, "2001:db8:1:3::/64");
	ADDR_KEY("2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::/48");
	ADDR_KEY("2001:db8:1:2:3:4:5:6", 56, "2001:db8:1::/56");
	ADDR_KEY("2001:db8:1:ff:3:4:5:6", 60, "2001:db8:1:f0::/60");
	ADDR_KEY("2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6/128");
	ADDR_KEY("2001:db8:1:2:3:4:5:6", 127, "2001:db8:1:2:3:4:5:6/127");
	ADDR_KEY("2001:db8:1:2:3:4:5:7", 127, "2001:db8:1:2:3:4:5:6/127");
	ADDR_KEY("2001:db8:ffff:2::1", 33, "2001:db8:8000::/33");
	ADDR_KEY("::1", 64, "::/64");
	ADDR_KEY("::1", 128, "::1/128");
	ADDR_KEY("", 64, "");
	ADDR_KEY("unix:/run/x", 64, "unix:/run/x");
	ADDR_KEY("192.0.2.7.8", 64, "192.0.2.7.8");
	ADDR_KEY("fe80::1%eth0", 64, "fe80::1%eth0");
	text_addr_key("not an address at all", 64, small, sizeof(small));
	ok(strcmp(small, "not an ") == 0,
	    "a key that does not fit is truncated, not overrun");
	text_addr_key("2001:db8::1", 64, small, sizeof(small));
	ok(strcmp(small, "2001:db") == 0,
	    "an IPv6 key that does not fit is truncated too");
}

int
main(void)
{
	test_addr_key();
	test_utf8();
	test_username();
	test_no_control();
	test_sanitize();
	ok(text_uuid_valid("5b0c3a4e-1f2d-4c5b-8a9e-0123456789ab"),
	    "a canonical lower-case uuid is a session id");
	ok(text_uuid_valid("5B0C3A4E-1F2D-4C5B-8A9E-0123456789AB"),
	    "an upper-case uuid is a session id");
	ok(!text_uuid_valid("5b0c3a4e1f2d4c5b8a9e0123456789ab"),
	    "a uuid without dashes is not");
	ok(!text_uuid_valid("5b0c3a4e-1f2d-4c5b-8a9e-0123456789a"),
	    "a uuid one digit short is not");
	ok(!text_uuid_valid("5b0c3a4e-1f2d-4c5b-8a9e-0123456789abc"),
	    "a uuid one digit long is not");
	ok(!text_uuid_valid("5b0c3a4e-1f2d-4c5b-8a9e-0123456789ag"),
	    "a uuid with a non-hex digit is not");
	ok(!text_uuid_valid("5b0c3a4e-1f2d-4c5b-8a9e_0123456789ab"),
	    "a uuid with a misplaced separator is not");
	ok(!text_uuid_valid(""), "the empty string is not a session id");
	ok(text_printable("caf\xc3\xa9 ok", 8), "UTF-8 and spaces are printable");
	ok(!text_printable("a\tb", 3), "a tab is a control character");
	ok(!text_printable("a\x7f", 2), "DEL is a control character");
	ok(!text_printable("a\0b", 3), "NUL inside the length is a control character");
	return tap_done();
}
