/*
 * text.h -- small string checks shared by the daemon and the admin command.
 */
#ifndef MDAUTH_TEXT_H
#define MDAUTH_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Is s[0..len) well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF)? */
bool	text_utf8_valid(const char *s, size_t len);

/*
 * Is s a usable username: 1 to USERNAME_MAX bytes of UTF-8, no control
 * characters (text_no_control), no leading or trailing space?
 */
#define USERNAME_MAX	128
bool	text_username_valid(const char *s, size_t len);

/*
 * Copy at most max bytes of an untrusted header value into out (which
 * holds max + 1), replacing everything but printable ASCII with '?', so
 * that it can be stored and logged safely.  Returns out.
 */
char	*text_sanitize(const char *in, char *out, size_t max);

/*
 * The key an address is throttled by, into out (outlen bytes): an IPv4
 * address as itself ("192.0.2.7", a /32), an IPv4-mapped IPv6 address
 * (::ffff:192.0.2.7) as the IPv4 address it maps, any other IPv6 address
 * as its network of prefix6 bits (32..128) with the length
 * ("2001:db8:1:2::/64").  Anything that is not an address is copied as it
 * is (truncated to fit).  Returns out.
 */
#define TEXT_ADDR_KEY_MIN	(46 + 4)	/* INET6_ADDRSTRLEN + "/128" */
char	*text_addr_key(const char *addr, int prefix6, char *out, size_t outlen);

/* Is s[0..len) free of control characters (C0, DEL)?  UTF-8 is not checked. */
bool	text_printable(const char *s, size_t len);

/*
 * Is s[0..len) free of C0 controls, DEL and the C1 controls U+0080 to
 * U+009F in their UTF-8 form (C2 80 to C2 9F; a terminal may read U+009B
 * as CSI)?  What a username may not contain, at creation and at login.
 */
bool	text_no_control(const char *s, size_t len);

/* Is s a uuid in its canonical text form (8-4-4-4-12 hex digits)? */
bool	text_uuid_valid(const char *s);

#endif
