/* netguard: where a webhook may connect (DESIGN §5 "Integration and bulk work"). It opens no
 * socket: it classifies an address the resolver already produced, and it parses and reads
 * the operator's allow-list. webhook_http calls it at connect time, on the address the
 * connection is about to use, so a name that resolves to a public address when the
 * subscription is made and to 127.0.0.1 later (DNS rebinding) is still refused.
 *
 * The address rules. Only ordinary unicast addresses reachable on the public internet pass;
 * everything below is refused, with the class netguard_check() returns:
 *
 *   IPv4
 *     0.0.0.0/8            unspecified  ("this network"; Linux connects 0.0.0.0 to the host itself)
 *     10.0.0.0/8           private      (RFC 1918)
 *     100.64.0.0/10        cgnat        (shared address space, RFC 6598: the carrier's inside)
 *     127.0.0.0/8          loopback
 *     169.254.0.0/16       link-local   (includes 169.254.169.254, the cloud metadata service)
 *     172.16.0.0/12        private
 *     192.0.0.0/24         reserved     (IETF protocol assignments, RFC 6890)
 *     192.0.2.0/24         documentation (TEST-NET-1)
 *     192.88.99.0/24       reserved     (the retired 6to4 relay anycast, RFC 7526)
 *     192.168.0.0/16       private
 *     198.18.0.0/15        benchmark    (RFC 2544; also what "fake-IP" DNS of some proxies hands
 *                                        out, so it leads inside as often as not)
 *     198.51.100.0/24      documentation (TEST-NET-2)
 *     203.0.113.0/24       documentation (TEST-NET-3)
 *     224.0.0.0/4          multicast
 *     255.255.255.255/32   broadcast
 *     240.0.0.0/4          reserved     (the rest of class E)
 *   IPv6
 *     ::/128               unspecified
 *     ::1/128              loopback
 *     ::ffff:0:0/96        IPv4-mapped: the embedded IPv4 address decides (by the table above)
 *     64:ff9b::/96         NAT64 well-known prefix (RFC 6052): the embedded IPv4 address decides
 *     2002::/16            6to4: the IPv4 address in bits 16..47 decides
 *     fc00::/7             private      (unique local)
 *     fec0::/10            private      (the deprecated site-local range, still routed by some stacks)
 *     fe80::/10            link-local
 *     ff00::/8             multicast
 *     2001:db8::/32        documentation
 *     3fff::/20            documentation (RFC 9637)
 *     2001:2::/48          benchmark    (RFC 5180)
 *     2001::/23            reserved     (IETF protocol assignments: Teredo 2001::/32, ORCHID, ...)
 *     anything outside 2000::/3 not named above: reserved. IANA allocates global unicast from
 *       2000::/3 only, so this one rule covers ::/96 (IPv4-compatible, deprecated by RFC 4291,
 *       refused whatever it embeds), ::ffff:0:0:0/96 (SIIT), 64:ff9b:1::/48 (local-use NAT64,
 *       whose embedding is site-specific), 100::/64 (discard-only) and every future range.
 *   Anything that is not AF_INET or AF_INET6 (AF_UNIX, ...) is refused as not-ip.
 *
 * Documentation and benchmark ranges are refused on purpose: no real receiver lives there,
 * and a network that uses them anyway uses them inside.
 *
 * The allow-list (HUYING_WEBHOOK_ALLOW) names receivers that are trusted as they are: for
 * them plain http is allowed and the address check is skipped (tests, on-premise receivers
 * on a private network). Syntax: comma-separated entries, each
 *     host            any port
 *     host:port       that port only
 *     [v6addr]        any port        ([v6addr]:port for one port; a bare v6 literal such as
 *                                      ::1 is taken whole, with no port)
 * Spaces around entries are ignored; an empty list allows nothing. Hosts compare
 * case-insensitively and exactly, as spelt in the URL: "localhost" does not allow
 * "127.0.0.1" or "LOCALHOST." and no entry covers subdomains. Matching is literal on
 * purpose: the point of the list is that what the operator wrote is what is trusted. */
#ifndef HUYING_NETGUARD_H
#define HUYING_NETGUARD_H

#include <stddef.h>
#include <sys/socket.h>

typedef enum netguard_class {
	NETGUARD_ALLOWED = 0,
	NETGUARD_UNSPECIFIED,
	NETGUARD_LOOPBACK,
	NETGUARD_PRIVATE,
	NETGUARD_LINK_LOCAL,
	NETGUARD_CGNAT,
	NETGUARD_MULTICAST,
	NETGUARD_BROADCAST,
	NETGUARD_DOCUMENTATION,
	NETGUARD_BENCHMARK,
	NETGUARD_RESERVED,
	NETGUARD_NOT_IP,
} netguard_class;

/* Classifies the address sa (len bytes, as the resolver or libcurl hands it over). Returns
 * NETGUARD_ALLOWED for a public unicast address, else the reason it is refused (see the
 * table above). A length too short for the family is NETGUARD_NOT_IP. Pure: no socket, no
 * lookup, safe from any thread. */
netguard_class netguard_check(const struct sockaddr *sa, size_t len);

/* Like netguard_check for an IPv4 address in network byte order, as 4 bytes. */
netguard_class netguard_check_ipv4(const unsigned char a[4]);

/* Like netguard_check for an IPv6 address, as 16 bytes. When the refusal comes from an
 * embedded IPv4 address (mapped, NAT64, 6to4), *embedded is set to 1, else to 0 (embedded
 * may be NULL). */
netguard_class netguard_check_ipv6(const unsigned char a[16], int *embedded);

/* A short lowercase name for the class ("loopback", "link-local", ...), for error texts and
 * logs. Never NULL. */
const char *netguard_class_name(netguard_class c);

#define NETGUARD_HOST_MAX 253 /* longest host name DNS allows, and plenty for an IP literal */

typedef struct netguard_allow_entry {
	char host[NETGUARD_HOST_MAX + 1]; /* lowercase, without IPv6 brackets */
	int port;                         /* 1..65535, or 0 for any port */
} netguard_allow_entry;

typedef struct netguard_allow {
	netguard_allow_entry *v;
	size_t n;
} netguard_allow;

/* Parses list (the HUYING_WEBHOOK_ALLOW syntax above; NULL or "" gives an empty list) into
 * *out, which the caller releases with netguard_allow_free. Returns 0 on success. On a
 * malformed entry returns -1, leaves *out empty (nothing to free), and, when err is not
 * NULL, writes a one-line reason naming the entry into err (errlen bytes, NUL-terminated).
 * Also -1 with "out of memory" when an allocation fails. */
int netguard_allow_parse(netguard_allow *out, const char *list, char *err, size_t errlen);

/* Releases what netguard_allow_parse allocated; *a is then an empty list. */
void netguard_allow_free(netguard_allow *a);

/* Returns 1 when host (host_len bytes, as the URL spells it; IPv6 with or without brackets)
 * at port (1..65535) is on the list, else 0. The caller gets host and port from the URL
 * parser that will also make the request (webhook_http uses libcurl's own), so that the
 * host checked is the host connected to. */
int netguard_allow_matches(const netguard_allow *a, const char *host, size_t host_len, int port);

#endif
