/* bench_hello: the HTTP ceiling huyingd is measured against (DESIGN §8).
 *
 * A plain civetweb server that answers every request with the same fixed ~600-byte JSON,
 * started with the listener options of huyingd (server/http.c start_listener): the same
 * thread count, keep-alive, tcp_nodelay, backlog and queue. No routing, no token, no SQL:
 * what is left is civetweb's own cost per request on this machine.
 *
 *   bench_hello [LISTEN [THREADS [MODE]]]     defaults: 127.0.0.1:18081 128 headers
 *
 * MODE headers answers through civetweb's response API (mg_response_header_start/add/send,
 * then mg_write), as huyingd does; civetweb 1.15 sends every header line with its own
 * send(), so with tcp_nodelay one answer is several packets. MODE one-write sends the
 * status line, headers and body with a single mg_write: what an answer costs at best.
 *
 * Runs until SIGINT or SIGTERM.
 */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* About the size of a unit or an item as huyingd answers it. */
static const char body[] =
	"{\"id\":1024,\"code\":\"CD-ZRZY\",\"kind\":\"department\",\"name\":\"区自然资源局\","
	"\"parent_id\":1,\"phone\":\"0535-00001010\",\"version\":1,"
	"\"created_at\":\"2026-01-05T09:30:00.000000+08:00\",\"updated_at\":\"2026-01-05T09:30:00.000000+08:00\","
	"\"domain\":{\"id\":3,\"code\":\"ZRZY\",\"name\":\"自然资源\",\"name_en\":\"Natural resources\"},"
	"\"duties\":[\"耕地保护监督\",\"矿产资源开发监管\",\"国土空间规划实施\",\"地质灾害防治\"],"
	"\"contacts\":[{\"role\":\"duty\",\"name\":\"值班室\",\"phone\":\"0535-00001011\"},"
	"{\"role\":\"lead\",\"name\":\"分管负责人\",\"phone\":\"0535-00001012\"}],"
	"\"flags\":{\"accepts_calls\":true,\"accepts_orders\":true,\"supervised\":false}}";

static volatile sig_atomic_t stop;
static char whole[1024]; /* the "one-write" answer: status line, headers and body */
static int whole_len;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* civetweb's response API, as huyingd uses it (server/http.c): one send() per header line. */
static int answer(struct mg_connection *conn)
{
	char clen[16];
	snprintf(clen, sizeof clen, "%zu", sizeof body - 1);
	mg_response_header_start(conn, 200);
	mg_response_header_add(conn, "Content-Type", "application/json; charset=utf-8", -1);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	mg_response_header_send(conn);
	mg_write(conn, body, sizeof body - 1);
	return 200;
}

/* The same answer written at once: one send() per response. */
static int answer_one_write(struct mg_connection *conn)
{
	mg_write(conn, whole, (size_t)whole_len);
	return 200;
}

int main(int argc, char **argv)
{
	const char *listen = argc > 1 ? argv[1] : "127.0.0.1:18081";
	const char *threads = argc > 2 ? argv[2] : "128";
	const char *mode = argc > 3 ? argv[3] : "headers";
	if (argc > 4 || atoi(threads) < 1 || (strcmp(mode, "headers") != 0 && strcmp(mode, "one-write") != 0)) {
		fprintf(stderr, "usage: bench_hello [LISTEN [THREADS [headers|one-write]]]\n");
		return 2;
	}
	whole_len = snprintf(whole, sizeof whole,
			     "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
			     "Content-Length: %zu\r\n\r\n%s",
			     sizeof body - 1, body);
	/* The options of huyingd's listener with its defaults (HUYING_REQUEST_TIMEOUT_MS 10000,
	 * HUYING_KEEPALIVE_TIMEOUT_MS 5000). */
	const char *opts[] = {"listening_ports", listen,
			      "num_threads", threads,
			      "enable_keep_alive", "yes",
			      "keep_alive_timeout_ms", "5000",
			      "request_timeout_ms", "10000",
			      "max_request_size", "131072",
			      "tcp_nodelay", "1",
			      "decode_url", "no",
			      "enable_directory_listing", "no",
			      "listen_backlog", "1024",
			      "connection_queue", "1024",
			      NULL};
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.begin_request = strcmp(mode, "one-write") == 0 ? answer_one_write : answer;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	mg_init_library(0);
	struct mg_context *ctx = mg_start(&cb, NULL, opts);
	if (!ctx) {
		fprintf(stderr, "bench_hello: cannot listen on %s\n", listen);
		mg_exit_library();
		return 1;
	}
	fprintf(stderr, "bench_hello: listening on %s, %s threads, %zu-byte body, %s\n", listen, threads, sizeof body - 1,
		mode);
	while (!stop)
		sleep(1); /* a signal cuts it short; at worst 1 s late */
	mg_stop(ctx);
	mg_exit_library();
	return 0;
}
