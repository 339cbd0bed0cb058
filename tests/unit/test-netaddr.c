/*
 * test-netaddr.c -- the listen_allow list: parsing addresses and
 * prefixes, and matching peers, IPv4-mapped IPv6 included.
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "netaddr.h"
#include "tap.h"

static int
parses(const char *text)
{
	struct net_allow a;
	char why[200];

	return net_allow_parse(&a, text, why, sizeof(why));
}

/* Does the list text match the peer address addr (IPv4 or IPv6)? */
static int
matches(const char *text, const char *addr)
{
	struct net_allow a;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	char why[200];

	if (!net_allow_parse(&a, text, why, sizeof(why)))
		return -1;
	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, addr, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		return net_allow_match(&a, (struct sockaddr *)&in);
	}
	if (inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		return net_allow_match(&a, (struct sockaddr *)&in6);
	}
	return -1;
}

int
main(void)
{
	struct sockaddr_in6 in6;
	struct sockaddr un = { .sa_family = AF_UNIX };
	struct net_allow a;
	char why[200], many[2048], text[64];
	int i;

	ok(parses("127.0.0.1"), "one IPv4 address");
	ok(parses("::1"), "one IPv6 address");
	ok(parses("127.0.0.0/8, ::1"), "a prefix and an address, comma and space");
	ok(parses("10.0.0.0/8 192.168.0.0/16\tfd00::/8"), "spaces and tabs separate too");
	ok(parses("0.0.0.0/0, ::/0"), "everything, said explicitly");
	ok(!parses(""), "an empty list is refused");
	ok(!parses(" , "), "a list of separators is refused");
	ok(!parses("localhost"), "a name is refused (no DNS)");
	ok(!parses("10.0.0.1/8"), "host bits past the length are refused");
	ok(!parses("10.0.0.0/33"), "an IPv4 length over 32 is refused");
	ok(!parses("::/129"), "an IPv6 length over 128 is refused");
	ok(!parses("10.0.0.0/"), "an empty length is refused");
	ok(!parses("10.0.0.0/-1"), "a negative length is refused");
	ok(!parses("10.0.0.0/8x"), "a length with trailing junk is refused");
	ok(!parses("256.0.0.1"), "an octet over 255 is refused");
	ok(!net_allow_parse(&a, "bogus", why, sizeof(why)) &&
	    strstr(why, "bogus") != NULL, "the message names the bad item (%s)", why);

	many[0] = '\0';
	for (i = 0; i < NET_ALLOW_MAX; i++) {
		snprintf(text, sizeof(text), "10.0.%d.0/24 ", i);
		strcat(many, text);
	}
	ok(parses(many), "%d entries are taken", NET_ALLOW_MAX);
	strcat(many, "192.0.2.1");
	ok(!parses(many), "%d are refused", NET_ALLOW_MAX + 1);

	ok(matches("127.0.0.0/8", "127.0.0.1") == 1, "127.0.0.1 is in 127.0.0.0/8");
	ok(matches("127.0.0.0/8", "127.255.255.254") == 1, "so is 127.255.255.254");
	ok(matches("127.0.0.0/8", "128.0.0.1") == 0, "128.0.0.1 is not");
	ok(matches("127.0.0.1/32", "127.0.0.2") == 0, "a /32 is one host");
	ok(matches("192.168.0.0/23", "192.168.1.200") == 1, "a length not on a byte boundary: in");
	ok(matches("192.168.0.0/23", "192.168.2.1") == 0, "a length not on a byte boundary: out");
	ok(matches("0.0.0.0/0", "203.0.113.9") == 1, "/0 is every IPv4 address");
	ok(matches("0.0.0.0/0", "2001:db8::1") == 0, "... and no IPv6 address");
	ok(matches("::1", "::1") == 1, "::1 matches itself");
	ok(matches("::1", "::2") == 0, "::1 is one host");
	ok(matches("2001:db8::/32", "2001:db8:ffff::1") == 1, "an IPv6 prefix: in");
	ok(matches("2001:db8::/32", "2001:db9::1") == 0, "an IPv6 prefix: out");
	ok(matches("127.0.0.0/8", "::ffff:127.0.0.1") == 1,
	    "an IPv4-mapped IPv6 peer matches its IPv4 prefix");
	ok(matches("::ffff:0:0/96", "::ffff:10.0.0.1") == 0,
	    "... and not an IPv6 prefix (it counts as IPv4)");
	ok(matches("127.0.0.0/8", "::127.0.0.1") == 0,
	    "an IPv4-compatible address (::a.b.c.d) is IPv6, not IPv4");

	ok(net_allow_parse(&a, "0.0.0.0/0, ::/0", why, sizeof(why)) &&
	    !net_allow_match(&a, &un), "a Unix-socket address never matches");
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	in6.sin6_port = htons(5000);
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	net_peer_text((struct sockaddr *)&in6, text, sizeof(text));
	ok(strcmp(text, "[::1]:5000") == 0, "an IPv6 peer is written [::1]:5000 (%s)", text);
	return tap_done();
}
