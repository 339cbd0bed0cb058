/*
 * netaddr.h -- address prefixes: the listen_allow list.
 */
#ifndef MDAUTH_NETADDR_H
#define MDAUTH_NETADDR_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

/* One IPv4 or IPv6 prefix; addr in network order (4 bytes for IPv4). */
struct net_prefix {
	sa_family_t	 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned	 bits;		/* 0-32 or 0-128 */
};

#define NET_ALLOW_MAX	64

struct net_allow {
	size_t		 n;
	struct net_prefix p[NET_ALLOW_MAX];
};

/*
 * Parse a list of addresses and prefixes separated by commas or white
 * space: "127.0.0.0/8, ::1, 192.0.2.7".  An address without a length is
 * the one host; host bits past the length must be zero.  Returns 1, or 0
 * with a message in why (nothing is kept then).
 */
int	net_allow_parse(struct net_allow *out, const char *text, char *why,
	    size_t whylen) __attribute__((warn_unused_result));

/*
 * Is the peer sa in the list?  An IPv4-mapped IPv6 address
 * (::ffff:192.0.2.7) is taken as the IPv4 address it carries; a family
 * other than IPv4 and IPv6 never matches.
 */
bool	net_allow_match(const struct net_allow *allow, const struct sockaddr *sa);

/* A peer as text for the log: "192.0.2.7:5000", "[::1]:5000". */
void	net_peer_text(const struct sockaddr *sa, char *buf, size_t len);

#endif
