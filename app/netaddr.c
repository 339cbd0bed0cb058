/*
 * netaddr.c -- address prefixes: the listen_allow list.
 *
 *	net_allow_parse		"127.0.0.0/8, ::1" into prefixes
 *	net_allow_match		is a peer's address in the list?
 *	net_peer_text		a peer's address and port for the log
 */
#include "config.h"

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

/* One "address[/length]" item; returns 1 or 0 with why. */
static int
net_prefix_parse(struct net_prefix *p, char *item, char *why, size_t whylen)
{
	char *slash = strchr(item, '/'), *end;
	unsigned long bits;
	unsigned max, i;

	if (slash != NULL)
		*slash = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, item, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, item, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		snprintf(why, whylen, "\"%.64s\" is not an IPv4 or IPv6 "
		    "address", item);
		return 0;
	}
	p->bits = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9' ||
		    (bits = strtoul(slash + 1, &end, 10), *end != '\0') ||
		    bits > max) {
			snprintf(why, whylen, "\"%.64s/%.8s\": the prefix "
			    "length must be 0 to %u", item, slash + 1, max);
			return 0;
		}
		p->bits = (unsigned)bits;
	}
	/* 10.1.2.3/8 is more likely a mistake than a way to say 10.0.0.0/8. */
	for (i = p->bits; i < max; i++)
		if (p->addr[i / 8] & (0x80 >> (i % 8))) {
			snprintf(why, whylen, "\"%.64s/%u\" has host bits set",
			    item, p->bits);
			return 0;
		}
	return 1;
}

int
net_allow_parse(struct net_allow *out, const char *text, char *why,
    size_t whylen)
{
	static const char sep[] = ", \t";
	struct net_allow list;
	char copy[4096], *item, *save;

	if (strlen(text) >= sizeof(copy)) {
		snprintf(why, whylen, "the list is too long");
		return 0;
	}
	memcpy(copy, text, strlen(text) + 1);
	list.n = 0;
	for (item = strtok_r(copy, sep, &save); item != NULL;
	    item = strtok_r(NULL, sep, &save)) {
		if (list.n == NET_ALLOW_MAX) {
			snprintf(why, whylen, "more than %d entries",
			    NET_ALLOW_MAX);
			return 0;
		}
		if (!net_prefix_parse(&list.p[list.n], item, why, whylen))
			return 0;
		list.n++;
	}
	if (list.n == 0) {
		snprintf(why, whylen, "expected addresses or prefixes such "
		    "as 127.0.0.1, 10.0.0.0/8 or ::1");
		return 0;
	}
	*out = list;
	return 1;
}

/* Do the first bits bits of a and b agree? */
static bool
net_bits_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool
net_allow_match(const struct net_allow *allow, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *addr;
	sa_family_t family;
	size_t i;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			family = AF_INET;
			addr += sizeof(mapped);
		}
	} else
		return false;
	for (i = 0; i < allow->n; i++)
		if (allow->p[i].family == family &&
		    net_bits_equal(allow->p[i].addr, addr, allow->p[i].bits))
			return true;
	return false;
}

void
net_peer_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in =
		    (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else
		snprintf(buf, len, "address family %d", sa->sa_family);
}
