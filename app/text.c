/*
 * text.c -- small string checks.
 *
 *	text_utf8_valid		strict UTF-8 (RFC 3629)
 *	text_username_valid	what a username may be
 *	text_sanitize		make a header value safe to store and log
 *	text_addr_key		the throttling key of a client address
 *	text_printable		no control characters
 *	text_no_control		nor C1 controls either
 *	text_uuid_valid		a session id's shape
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

bool
text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		uint32_t cp;
		size_t n, i;

		if (*p < 0x80) {
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else
			return false;
		if ((size_t)(end - p) <= n)
			return false;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

_Static_assert(TEXT_ADDR_KEY_MIN >= INET6_ADDRSTRLEN + 4,
    "TEXT_ADDR_KEY_MIN holds an IPv6 network and its length");

char *
text_addr_key(const char *addr, int prefix6, char *out, size_t outlen)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	struct in6_addr a6;
	struct in_addr a4;
	char text[INET6_ADDRSTRLEN];
	int i;

	if (outlen == 0)
		return out;
	if (addr == NULL)
		addr = "";
	if (inet_pton(AF_INET, addr, &a4) == 1)
		goto ipv4;
	if (inet_pton(AF_INET6, addr, &a6) != 1) {
		snprintf(out, outlen, "%s", addr);	/* not an address */
		return out;
	}
	if (memcmp(a6.s6_addr, mapped, sizeof(mapped)) == 0) {
		memcpy(&a4, a6.s6_addr + 12, sizeof(a4));
		goto ipv4;
	}
	prefix6 = prefix6 < 0 ? 0 : prefix6 > 128 ? 128 : prefix6;
	for (i = 0; i < 16; i++) {
		int keep = prefix6 - 8 * i;

		if (keep <= 0)
			a6.s6_addr[i] = 0;
		else if (keep < 8)
			a6.s6_addr[i] &= (uint8_t)(0xff00u >> keep);
	}
	if (inet_ntop(AF_INET6, &a6, text, sizeof(text)) == NULL)
		text[0] = '\0';
	snprintf(out, outlen, "%s/%d", text, prefix6);
	return out;
ipv4:
	if (inet_ntop(AF_INET, &a4, text, sizeof(text)) == NULL)
		text[0] = '\0';
	snprintf(out, outlen, "%s", text);
	return out;
}

bool
text_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

bool
text_no_control(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 &&
		    i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f))
			return false;
	return true;
}

bool
text_username_valid(const char *s, size_t len)
{
	if (len == 0 || len > USERNAME_MAX || s[0] == ' ' || s[len - 1] == ' ')
		return false;
	return text_no_control(s, len) && text_utf8_valid(s, len);
}

char *
text_sanitize(const char *in, char *out, size_t max)
{
	size_t i;

	for (i = 0; in != NULL && in[i] != '\0' && i < max; i++)
		out[i] = (in[i] >= 0x20 && in[i] <= 0x7e) ? in[i] : '?';
	out[i] = '\0';
	return out;
}

bool
text_uuid_valid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}
