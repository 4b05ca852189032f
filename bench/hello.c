/* bench_hello: the HTTP ceiling huyingd is measured against (DESIGN §8).
 *
 * A plain civetweb server that answers every request with the same fixed ~600-byte JSON,
 * started with the listener options of huyingd (server/http.c start_listener): the same
 * thread count, keep-alive, tcp_nodelay, backlog and queue. No routing, no token, no SQL:
 * what is left is civetweb's own cost per request on this machine.
 *
 *   bench_hello [LISTEN [THREADS]]      defaults: 127.0.0.1:18081 128
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

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

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

int main(int argc, char **argv)
{
	const char *listen = argc > 1 ? argv[1] : "127.0.0.1:18081";
	const char *threads = argc > 2 ? argv[2] : "128";
	if (argc > 3 || atoi(threads) < 1) {
		fprintf(stderr, "usage: bench_hello [LISTEN [THREADS]]\n");
		return 2;
	}
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
	cb.begin_request = answer;

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
	fprintf(stderr, "bench_hello: listening on %s, %s threads, %zu-byte body\n", listen, threads, sizeof body - 1);
	while (!stop)
		sleep(1); /* a signal cuts it short; at worst 1 s late */
	mg_stop(ctx);
	mg_exit_library();
	return 0;
}
