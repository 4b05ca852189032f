#include "netguard.h"

#include <assert.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A refused range: the first prefix_len bits of addr, as a table row. */
typedef struct range4 {
	unsigned char addr[4];
	int prefix_len;
	netguard_class cls;
} range4;

typedef struct range6 {
	unsigned char addr[16];
	int prefix_len;
	netguard_class cls;
} range6;

/* The IPv4 table of netguard.h, most specific first where rows overlap (broadcast in 240/4). */
static const range4 refused4[] = {
	{{0, 0, 0, 0}, 8, NETGUARD_UNSPECIFIED},        {{10, 0, 0, 0}, 8, NETGUARD_PRIVATE},
	{{100, 64, 0, 0}, 10, NETGUARD_CGNAT},          {{127, 0, 0, 0}, 8, NETGUARD_LOOPBACK},
	{{169, 254, 0, 0}, 16, NETGUARD_LINK_LOCAL},    {{172, 16, 0, 0}, 12, NETGUARD_PRIVATE},
	{{192, 0, 0, 0}, 24, NETGUARD_RESERVED},        {{192, 0, 2, 0}, 24, NETGUARD_DOCUMENTATION},
	{{192, 88, 99, 0}, 24, NETGUARD_RESERVED},      {{192, 168, 0, 0}, 16, NETGUARD_PRIVATE},
	{{198, 18, 0, 0}, 15, NETGUARD_BENCHMARK},      {{198, 51, 100, 0}, 24, NETGUARD_DOCUMENTATION},
	{{203, 0, 113, 0}, 24, NETGUARD_DOCUMENTATION}, {{224, 0, 0, 0}, 4, NETGUARD_MULTICAST},
	{{255, 255, 255, 255}, 32, NETGUARD_BROADCAST}, {{240, 0, 0, 0}, 4, NETGUARD_RESERVED},
};

/* The IPv6 rows that are decided without looking at an embedded IPv4 address, most specific
 * first (2001:2::/48 inside 2001::/23). Whatever is outside 2000::/3 and not listed here is
 * reserved (netguard_check_ipv6). */
static const range6 refused6[] = {
	{{0}, 128, NETGUARD_UNSPECIFIED},
	{{[15] = 1}, 128, NETGUARD_LOOPBACK},
	{{0xfc}, 7, NETGUARD_PRIVATE},
	{{0xfe, 0xc0}, 10, NETGUARD_PRIVATE},
	{{0xfe, 0x80}, 10, NETGUARD_LINK_LOCAL},
	{{0xff}, 8, NETGUARD_MULTICAST},
	{{0x20, 0x01, 0x0d, 0xb8}, 32, NETGUARD_DOCUMENTATION},
	{{0x3f, 0xff}, 20, NETGUARD_DOCUMENTATION},
	{{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, NETGUARD_BENCHMARK},
	{{0x20, 0x01}, 23, NETGUARD_RESERVED},
};

static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const unsigned char nat64_prefix[12] = {0x00, 0x64, 0xff, 0x9b};

/* 1 when the first bits bits of a and b agree. */
static int prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

netguard_class netguard_check_ipv4(const unsigned char a[4])
{
	for (size_t i = 0; i < sizeof refused4 / sizeof refused4[0]; i++)
		if (prefix_equal(a, refused4[i].addr, refused4[i].prefix_len))
			return refused4[i].cls;
	return NETGUARD_ALLOWED;
}

netguard_class netguard_check_ipv6(const unsigned char a[16], int *embedded)
{
	if (embedded)
		*embedded = 0;
	/* The forms that carry an IPv4 address are as safe as that address. */
	const unsigned char *v4 = NULL;
	if (memcmp(a, mapped_prefix, 12) == 0 || memcmp(a, nat64_prefix, 12) == 0)
		v4 = a + 12;
	else if (a[0] == 0x20 && a[1] == 0x02)
		v4 = a + 2;
	if (v4) {
		netguard_class c = netguard_check_ipv4(v4);
		if (c != NETGUARD_ALLOWED && embedded)
			*embedded = 1;
		return c;
	}
	for (size_t i = 0; i < sizeof refused6 / sizeof refused6[0]; i++)
		if (prefix_equal(a, refused6[i].addr, refused6[i].prefix_len))
			return refused6[i].cls;
	if ((a[0] & 0xe0) != 0x20) /* outside 2000::/3, the only global unicast allocation */
		return NETGUARD_RESERVED;
	return NETGUARD_ALLOWED;
}

netguard_class netguard_check(const struct sockaddr *sa, size_t len)
{
	if (!sa || len < sizeof(sa_family_t))
		return NETGUARD_NOT_IP;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		return netguard_check_ipv4((const unsigned char *)&s4->sin_addr);
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		return netguard_check_ipv6(s6->sin6_addr.s6_addr, NULL);
	}
	return NETGUARD_NOT_IP;
}

const char *netguard_class_name(netguard_class c)
{
	switch (c) {
	case NETGUARD_ALLOWED: return "allowed";
	case NETGUARD_UNSPECIFIED: return "unspecified";
	case NETGUARD_LOOPBACK: return "loopback";
	case NETGUARD_PRIVATE: return "private";
	case NETGUARD_LINK_LOCAL: return "link-local";
	case NETGUARD_CGNAT: return "cgnat";
	case NETGUARD_MULTICAST: return "multicast";
	case NETGUARD_BROADCAST: return "broadcast";
	case NETGUARD_DOCUMENTATION: return "documentation";
	case NETGUARD_BENCHMARK: return "benchmark";
	case NETGUARD_RESERVED: return "reserved";
	case NETGUARD_NOT_IP: return "not-ip";
	}
	return "unknown";
}

/* ---- the allow-list ------------------------------------------------------------------ */

/* Characters a host may have in an entry: names and IPv4 literals (letters, digits, '-',
 * '.', '_' as some internal names have), and ':' for IPv6 literals. Anything else (a
 * scheme, a path, userinfo, a space inside) is a mistake the operator should hear about. */
static int host_char(unsigned char c, int v6)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || (v6 && c == ':');
}

/* Parses the port digits p..p+n into *port (1..65535). Returns 0, or -1 when malformed. */
static int parse_port(const char *p, size_t n, int *port)
{
	if (n == 0 || n > 5)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* Parses one trimmed, non-empty entry s (n bytes) into *e. Returns 0, or -1 when malformed. */
static int parse_entry(const char *s, size_t n, netguard_allow_entry *e)
{
	const char *host = s, *port = NULL;
	size_t host_len = n, port_len = 0;
	int v6 = 0;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return -1;
		host = s + 1;
		host_len = (size_t)(close - host);
		size_t after = n - (size_t)(close + 1 - s);
		if (after > 0) {
			if (close[1] != ':')
				return -1;
			port = close + 2;
			port_len = after - 1;
		}
		v6 = 1;
		if (!memchr(host, ':', host_len))
			return -1; /* brackets hold an IPv6 literal only */
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
			v6 = 1; /* a bare IPv6 literal: the whole entry, no port */
		} else if (colon) {
			host_len = (size_t)(colon - s);
			port = colon + 1;
			port_len = n - host_len - 1;
		}
	}
	if (host_len == 0 || host_len > NETGUARD_HOST_MAX)
		return -1;
	for (size_t i = 0; i < host_len; i++)
		if (!host_char((unsigned char)host[i], v6))
			return -1;
	e->port = 0;
	if (port && parse_port(port, port_len, &e->port) != 0)
		return -1;
	for (size_t i = 0; i < host_len; i++)
		e->host[i] = (char)tolower((unsigned char)host[i]);
	e->host[host_len] = 0;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int netguard_allow_parse(netguard_allow *out, const char *list, char *err, size_t errlen)
{
	assert(out);
	out->v = NULL;
	out->n = 0;
	if (err && errlen)
		err[0] = 0;
	if (!list)
		return 0;
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	netguard_allow_entry *v = calloc(cap, sizeof *v);
	if (!v) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t n = 0;
	const char *p = list;
	for (;;) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		const char *a = p, *b = end;
		while (a < b && is_space(*a))
			a++;
		while (b > a && is_space(b[-1]))
			b--;
		if (b > a) {
			if (parse_entry(a, (size_t)(b - a), &v[n]) != 0) {
				if (err && errlen)
					snprintf(
						err, errlen,
						"HUYING_WEBHOOK_ALLOW: bad entry \"%.*s\": expected host, host:port or [v6]:port",
						(int)(b - a > 80 ? 80 : b - a), a);
				free(v);
				return -1;
			}
			n++;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	if (n == 0) {
		free(v);
		return 0;
	}
	out->v = v;
	out->n = n;
	return 0;
}

void netguard_allow_free(netguard_allow *a)
{
	if (!a)
		return;
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

int netguard_allow_matches(const netguard_allow *a, const char *host, size_t host_len, int port)
{
	if (!a || !host)
		return 0;
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len > NETGUARD_HOST_MAX)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const netguard_allow_entry *e = &a->v[i];
		if (e->port != 0 && e->port != port)
			continue;
		if (strlen(e->host) == host_len && strncasecmp(e->host, host, host_len) == 0)
			return 1;
	}
	return 0;
}
