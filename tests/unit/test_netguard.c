/* Unit tests for server/netguard.c: the SSRF address policy and the allow-list.
 *
 * Issue 7 demands that this test opens no socket. The file defines socket(), connect() and
 * sendto() itself; the executable's definitions take precedence over libc's, so if netguard
 * (or anything it calls) tried to open a socket or send a packet, the call would land here
 * and fail the run. Addresses are only classified: the public ones below (8.8.8.8, ...)
 * are never contacted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "netguard.h"

static int sockets_attempted;

int socket(int domain, int type, int protocol)
{
	(void)domain, (void)type, (void)protocol;
	sockets_attempted++;
	fprintf(stderr, "test_netguard: socket() was called\n");
	abort();
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd, (void)sa, (void)len;
	fprintf(stderr, "test_netguard: connect() was called\n");
	abort();
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa, socklen_t len)
{
	(void)fd, (void)buf, (void)n, (void)flags, (void)sa, (void)len;
	fprintf(stderr, "test_netguard: sendto() was called\n");
	abort();
}

/* Classifies the literal text (IPv4 or IPv6) as a sockaddr, the way libcurl hands it over. */
static netguard_class classify(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(443);
		return netguard_check((struct sockaddr *)s4, sizeof *s4);
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(443);
		return netguard_check((struct sockaddr *)s6, sizeof *s6);
	}
	fail_msg("not an address literal: %s", text);
	return NETGUARD_NOT_IP;
}

typedef struct row {
	const char *addr;
	netguard_class want;
} row;

static void check_rows(const row *rows, size_t n)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		netguard_class got = classify(rows[i].addr);
		if (got != rows[i].want) {
			print_error("%s: got %s, want %s\n", rows[i].addr, netguard_class_name(got),
				    netguard_class_name(rows[i].want));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

#define CHECK_ROWS(r) check_rows(r, sizeof r / sizeof r[0])

/* ---- IPv4 ---------------------------------------------------------------------------- */

static void test_ipv4_refused_classes(void **state)
{
	(void)state;
	static const row rows[] = {
		{"0.0.0.0", NETGUARD_UNSPECIFIED},
		{"0.1.2.3", NETGUARD_UNSPECIFIED},
		{"0.255.255.255", NETGUARD_UNSPECIFIED},
		{"127.0.0.1", NETGUARD_LOOPBACK},
		{"127.0.0.0", NETGUARD_LOOPBACK},
		{"127.255.255.254", NETGUARD_LOOPBACK},
		{"127.1.2.3", NETGUARD_LOOPBACK},
		{"10.0.0.0", NETGUARD_PRIVATE},
		{"10.0.0.1", NETGUARD_PRIVATE},
		{"10.255.255.255", NETGUARD_PRIVATE},
		{"172.16.0.0", NETGUARD_PRIVATE},
		{"172.16.0.1", NETGUARD_PRIVATE},
		{"172.31.255.255", NETGUARD_PRIVATE},
		{"192.168.0.0", NETGUARD_PRIVATE},
		{"192.168.1.1", NETGUARD_PRIVATE},
		{"192.168.255.255", NETGUARD_PRIVATE},
		{"169.254.169.254", NETGUARD_LINK_LOCAL}, /* the cloud metadata service */
		{"169.254.0.0", NETGUARD_LINK_LOCAL},
		{"169.254.255.255", NETGUARD_LINK_LOCAL},
		{"169.254.170.2", NETGUARD_LINK_LOCAL}, /* ECS task metadata */
		{"100.64.0.0", NETGUARD_CGNAT},
		{"100.64.0.1", NETGUARD_CGNAT},
		{"100.127.255.255", NETGUARD_CGNAT},
		{"100.100.100.200", NETGUARD_CGNAT}, /* Alibaba Cloud's metadata address */
		{"224.0.0.1", NETGUARD_MULTICAST},
		{"239.255.255.250", NETGUARD_MULTICAST},
		{"255.255.255.255", NETGUARD_BROADCAST},
		{"240.0.0.1", NETGUARD_RESERVED},
		{"250.1.2.3", NETGUARD_RESERVED},
		{"255.255.255.254", NETGUARD_RESERVED},
		{"192.0.0.8", NETGUARD_RESERVED},
		{"192.0.0.170", NETGUARD_RESERVED},
		{"192.88.99.1", NETGUARD_RESERVED},
		{"192.0.2.1", NETGUARD_DOCUMENTATION},
		{"198.51.100.7", NETGUARD_DOCUMENTATION},
		{"203.0.113.255", NETGUARD_DOCUMENTATION},
		{"198.18.0.1", NETGUARD_BENCHMARK},
		{"198.19.255.255", NETGUARD_BENCHMARK},
	};
	CHECK_ROWS(rows);
}

static void test_ipv4_public_allowed_up_to_the_range_edges(void **state)
{
	(void)state;
	static const row rows[] = {
		{"8.8.8.8", NETGUARD_ALLOWED},         {"1.1.1.1", NETGUARD_ALLOWED},
		{"9.9.9.9", NETGUARD_ALLOWED},         {"1.0.0.0", NETGUARD_ALLOWED},
		{"9.255.255.255", NETGUARD_ALLOWED},   /* below 10/8 */
		{"11.0.0.0", NETGUARD_ALLOWED},        /* above 10/8 */
		{"100.63.255.255", NETGUARD_ALLOWED},  /* below 100.64/10 */
		{"100.128.0.0", NETGUARD_ALLOWED},     /* above it */
		{"126.255.255.255", NETGUARD_ALLOWED}, /* below 127/8 */
		{"128.0.0.0", NETGUARD_ALLOWED},       /* above it */
		{"169.253.255.255", NETGUARD_ALLOWED}, {"169.255.0.0", NETGUARD_ALLOWED},
		{"172.15.255.255", NETGUARD_ALLOWED},  {"172.32.0.0", NETGUARD_ALLOWED},
		{"192.0.1.0", NETGUARD_ALLOWED},       {"192.0.3.0", NETGUARD_ALLOWED},
		{"192.167.255.255", NETGUARD_ALLOWED}, {"192.169.0.0", NETGUARD_ALLOWED},
		{"198.17.255.255", NETGUARD_ALLOWED},  {"198.20.0.0", NETGUARD_ALLOWED},
		{"223.255.255.255", NETGUARD_ALLOWED}, /* below 224/4 */
	};
	CHECK_ROWS(rows);
}

/* ---- IPv6 ---------------------------------------------------------------------------- */

static void test_ipv6_refused_classes(void **state)
{
	(void)state;
	static const row rows[] = {
		{"::", NETGUARD_UNSPECIFIED},
		{"::1", NETGUARD_LOOPBACK},
		{"fc00::1", NETGUARD_PRIVATE},
		{"fd12:3456:789a::1", NETGUARD_PRIVATE},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETGUARD_PRIVATE},
		{"fec0::1", NETGUARD_PRIVATE}, /* deprecated site-local */
		{"fe80::1", NETGUARD_LINK_LOCAL},
		{"febf:ffff::1", NETGUARD_LINK_LOCAL},
		{"fd00:ec2::254", NETGUARD_PRIVATE}, /* AWS's IPv6 metadata address */
		{"ff02::1", NETGUARD_MULTICAST},
		{"ff05::1:3", NETGUARD_MULTICAST},
		{"2001:db8::1", NETGUARD_DOCUMENTATION},
		{"3fff::1", NETGUARD_DOCUMENTATION},
		{"3fff:fff:ffff::1", NETGUARD_DOCUMENTATION},
		{"2001:2::1", NETGUARD_BENCHMARK},
		{"2001::1", NETGUARD_RESERVED}, /* Teredo */
		{"2001:1ff::1", NETGUARD_RESERVED},
		{"100::1", NETGUARD_RESERVED},           /* discard-only */
		{"::ffff:0:8.8.8.8", NETGUARD_RESERVED}, /* SIIT: outside 2000::/3 */
		{"64:ff9b:1::a00:1", NETGUARD_RESERVED}, /* local-use NAT64 */
		{"4000::1", NETGUARD_RESERVED},
		{"5f00::1", NETGUARD_RESERVED}, /* SRv6 SIDs */
		{"1fff:ffff::1", NETGUARD_RESERVED},
		{"::8.8.8.8", NETGUARD_RESERVED}, /* IPv4-compatible: deprecated, refused whatever it holds */
		{"::127.0.0.1", NETGUARD_RESERVED},
	};
	CHECK_ROWS(rows);
}

static void test_ipv6_forms_of_refused_ipv4_are_refused(void **state)
{
	(void)state;
	static const row rows[] = {
		/* IPv4-mapped */
		{"::ffff:127.0.0.1", NETGUARD_LOOPBACK},
		{"::ffff:7f00:1", NETGUARD_LOOPBACK},
		{"::ffff:169.254.169.254", NETGUARD_LINK_LOCAL},
		{"::ffff:10.1.2.3", NETGUARD_PRIVATE},
		{"::ffff:192.168.0.1", NETGUARD_PRIVATE},
		{"::ffff:0.0.0.0", NETGUARD_UNSPECIFIED},
		{"::ffff:100.64.1.1", NETGUARD_CGNAT},
		{"::ffff:255.255.255.255", NETGUARD_BROADCAST},
		/* NAT64 well-known prefix */
		{"64:ff9b::127.0.0.1", NETGUARD_LOOPBACK},
		{"64:ff9b::a9fe:a9fe", NETGUARD_LINK_LOCAL},
		{"64:ff9b::10.0.0.1", NETGUARD_PRIVATE},
		{"64:ff9b::224.0.0.1", NETGUARD_MULTICAST},
		/* 6to4 */
		{"2002:7f00:1::1", NETGUARD_LOOPBACK},
		{"2002:a9fe:a9fe::", NETGUARD_LINK_LOCAL},
		{"2002:c0a8:101::1", NETGUARD_PRIVATE},
		{"2002::1", NETGUARD_UNSPECIFIED},
	};
	CHECK_ROWS(rows);
}

static void test_ipv6_public_allowed(void **state)
{
	(void)state;
	static const row rows[] = {
		{"2606:4700:4700::1111", NETGUARD_ALLOWED},
		{"2001:4860:4860::8888", NETGUARD_ALLOWED},
		{"2a00:1450:4001:81c::200e", NETGUARD_ALLOWED},
		{"2000::1", NETGUARD_ALLOWED},
		{"3ffe::1", NETGUARD_ALLOWED},
		{"2001:200::1", NETGUARD_ALLOWED}, /* just past 2001::/23 */
		{"2001:db9::1", NETGUARD_ALLOWED},
		{"::ffff:8.8.8.8", NETGUARD_ALLOWED},   /* mapped public: the IPv4 address decides */
		{"64:ff9b::8.8.8.8", NETGUARD_ALLOWED}, /* NAT64 of a public address */
		{"2002:808:808::1", NETGUARD_ALLOWED},  /* 6to4 of 8.8.8.8 */
	};
	CHECK_ROWS(rows);
}

static void test_embedded_flag_says_the_ipv4_decided(void **state)
{
	(void)state;
	unsigned char a[16];
	int embedded = -1;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", a), 1);
	assert_int_equal(netguard_check_ipv6(a, &embedded), NETGUARD_LOOPBACK);
	assert_int_equal(embedded, 1);
	assert_int_equal(inet_pton(AF_INET6, "::1", a), 1);
	assert_int_equal(netguard_check_ipv6(a, &embedded), NETGUARD_LOOPBACK);
	assert_int_equal(embedded, 0);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:8.8.8.8", a), 1);
	assert_int_equal(netguard_check_ipv6(a, &embedded), NETGUARD_ALLOWED);
	assert_int_equal(embedded, 0);
	assert_int_equal(netguard_check_ipv6(a, NULL), NETGUARD_ALLOWED);
}

static void test_other_families_and_short_lengths_are_not_ip(void **state)
{
	(void)state;
	struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/run/x.sock"};
	assert_int_equal(netguard_check((struct sockaddr *)&un, sizeof un), NETGUARD_NOT_IP);
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x08080808)};
	assert_int_equal(netguard_check((struct sockaddr *)&s4, sizeof s4), NETGUARD_ALLOWED);
	assert_int_equal(netguard_check((struct sockaddr *)&s4, sizeof s4 - 1), NETGUARD_NOT_IP);
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	s6.sin6_addr.s6_addr[0] = 0x26;
	assert_int_equal(netguard_check((struct sockaddr *)&s6, sizeof s6), NETGUARD_ALLOWED);
	assert_int_equal(netguard_check((struct sockaddr *)&s6, sizeof(struct sockaddr_in)), NETGUARD_NOT_IP);
	assert_int_equal(netguard_check(NULL, 0), NETGUARD_NOT_IP);
}

static void test_every_class_has_a_name(void **state)
{
	(void)state;
	for (int c = NETGUARD_ALLOWED; c <= NETGUARD_NOT_IP; c++)
		assert_string_not_equal(netguard_class_name((netguard_class)c), "unknown");
	assert_string_equal(netguard_class_name(NETGUARD_LINK_LOCAL), "link-local");
}

/* ---- the allow-list -------------------------------------------------------------------- */

static int matches(const netguard_allow *a, const char *host, int port)
{
	return netguard_allow_matches(a, host, strlen(host), port);
}

static void test_allow_list_parses_hosts_ports_and_ipv6(void **state)
{
	(void)state;
	netguard_allow a;
	char err[200];
	assert_int_equal(netguard_allow_parse(&a, " 127.0.0.1:9000, LocalHost ,[::1]:8443,::1 ,hooks.example.org:443,",
					      err, sizeof err),
			 0);
	assert_int_equal(a.n, 5);
	assert_string_equal(a.v[0].host, "127.0.0.1");
	assert_int_equal(a.v[0].port, 9000);
	assert_string_equal(a.v[1].host, "localhost");
	assert_int_equal(a.v[1].port, 0);
	assert_string_equal(a.v[2].host, "::1");
	assert_int_equal(a.v[2].port, 8443);
	assert_string_equal(a.v[3].host, "::1");
	assert_int_equal(a.v[3].port, 0);
	assert_string_equal(a.v[4].host, "hooks.example.org");
	assert_int_equal(a.v[4].port, 443);
	netguard_allow_free(&a);
	assert_null(a.v);
	assert_int_equal(a.n, 0);
}

static void test_allow_list_empty_or_null_allows_nothing(void **state)
{
	(void)state;
	netguard_allow a;
	assert_int_equal(netguard_allow_parse(&a, NULL, NULL, 0), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(matches(&a, "127.0.0.1", 80), 0);
	assert_int_equal(netguard_allow_parse(&a, "", NULL, 0), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(netguard_allow_parse(&a, " , ,", NULL, 0), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(matches(&a, "localhost", 80), 0);
	netguard_allow_free(&a);
	assert_int_equal(matches(NULL, "localhost", 80), 0);
}

static void test_allow_list_rejects_malformed_entries(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"http://127.0.0.1:9000", /* a URL, not a host */
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"127.0.0.1:",
		"127.0.0.1:90a",
		"127.0.0.1:-1",
		":9000",
		"user@host",
		"host/path",
		"ho st",
		"[::1",
		"[::1]x",
		"[::1]:",
		"[localhost]:80",
		"[]:80",
		"*.example.org",
		"good.example.org,bad host",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		netguard_allow a = {.n = 99};
		char err[200] = "untouched";
		if (netguard_allow_parse(&a, bad[i], err, sizeof err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(a.n, 0);
		assert_null(a.v);
		assert_non_null(strstr(err, "HUYING_WEBHOOK_ALLOW"));
	}
	/* a host name of 254 characters is one too long */
	char longhost[300];
	memset(longhost, 'a', 254);
	longhost[254] = 0;
	netguard_allow a;
	assert_int_equal(netguard_allow_parse(&a, longhost, NULL, 0), -1);
	longhost[253] = 0;
	assert_int_equal(netguard_allow_parse(&a, longhost, NULL, 0), 0);
	assert_int_equal(a.n, 1);
	netguard_allow_free(&a);
}

static void test_allow_list_matches_exact_host_and_port(void **state)
{
	(void)state;
	netguard_allow a;
	assert_int_equal(netguard_allow_parse(&a, "127.0.0.1:9000,localhost,[::1]:8443,Hooks.Example.org", NULL, 0), 0);
	assert_int_equal(matches(&a, "127.0.0.1", 9000), 1);
	assert_int_equal(matches(&a, "127.0.0.1", 9001), 0); /* the port is part of the entry */
	assert_int_equal(matches(&a, "127.0.0.2", 9000), 0);
	assert_int_equal(matches(&a, "localhost", 80), 1); /* no port: any port */
	assert_int_equal(matches(&a, "localhost", 65535), 1);
	assert_int_equal(matches(&a, "LOCALHOST", 443), 1);
	assert_int_equal(matches(&a, "localhost.", 443), 0); /* spelt differently: not this entry */
	assert_int_equal(matches(&a, "localhos", 443), 0);
	assert_int_equal(matches(&a, "localhostx", 443), 0);
	assert_int_equal(matches(&a, "evil.localhost", 443), 0);
	assert_int_equal(matches(&a, "[::1]", 8443), 1); /* as libcurl spells an IPv6 host */
	assert_int_equal(matches(&a, "::1", 8443), 1);
	assert_int_equal(matches(&a, "[::1]", 8444), 0);
	assert_int_equal(matches(&a, "hooks.example.org", 443), 1);
	assert_int_equal(matches(&a, "a.hooks.example.org", 443), 0); /* no subdomains */
	assert_int_equal(matches(&a, "", 443), 0);
	assert_int_equal(netguard_allow_matches(&a, "127.0.0.1\0evil", 14, 9000), 0); /* (pointer, length) */
	assert_int_equal(netguard_allow_matches(&a, "localhost:80", 9, 80), 1);
	netguard_allow_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_refused_classes),
		cmocka_unit_test(test_ipv4_public_allowed_up_to_the_range_edges),
		cmocka_unit_test(test_ipv6_refused_classes),
		cmocka_unit_test(test_ipv6_forms_of_refused_ipv4_are_refused),
		cmocka_unit_test(test_ipv6_public_allowed),
		cmocka_unit_test(test_embedded_flag_says_the_ipv4_decided),
		cmocka_unit_test(test_other_families_and_short_lengths_are_not_ip),
		cmocka_unit_test(test_every_class_has_a_name),
		cmocka_unit_test(test_allow_list_parses_hosts_ports_and_ipv6),
		cmocka_unit_test(test_allow_list_empty_or_null_allows_nothing),
		cmocka_unit_test(test_allow_list_rejects_malformed_entries),
		cmocka_unit_test(test_allow_list_matches_exact_host_and_port),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	return rc || sockets_attempted;
}
