/* huyingd: the entry point. Subcommands: serve (default), migrate, district, token, routes.
 *
 * serve: read the configuration, start the HTTP listeners (connections to PostgreSQL open
 * lazily, so the daemon starts and answers 503 while the database is away), then sleep
 * until SIGTERM or SIGINT, drain in-flight requests and exit 0. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "migrate.h"
#include "deliverer.h"
#include "sweeper.h"
#include "webhook_http.h"

static int serve(void)
{
	if (config_load(1) < 0)
		return 1;
	if (!cfg.jwt_iss || !cfg.jwt_aud)
		fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"HUYING_JWT_ISS and HUYING_JWT_AUD are not both set:"
				" tokens from any issuer for any audience are accepted\"}\n");
	/* Block the stop signals before any thread exists, so that every thread inherits the
	 * mask and only sigwait() below receives them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (db_init(cfg.database_url, cfg.db_pool, cfg.db_wait_ms, cfg.statement_timeout_ms) < 0) {
		fprintf(stderr, "huyingd: out of memory\n");
		return 1;
	}
	if (deliverer_start() < 0 || http_start() < 0 || sweeper_start() < 0)
		return 1;
	fprintf(stderr, "{\"level\":\"info\",\"msg\":\"listening\",\"listen\":\"%s\",\"threads\":%d,\"db_pool\":%d}\n",
		cfg.listen, cfg.threads, cfg.db_pool);
	int sig;
	sigwait(&stop, &sig);
	fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopping: draining in-flight requests\"}\n");
	sweeper_stop();
	deliverer_stop();
	http_stop();
	webhook_http_cleanup();
	db_shutdown();
	fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopped\"}\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argc > 1 ? argv[1] : "serve";
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		config_print_help();
		return 0;
	}
	if (strcmp(cmd, "serve") == 0)
		return serve();
	if (strcmp(cmd, "routes") == 0)
		return cli_routes();
	if (strcmp(cmd, "migrate") == 0)
		return config_load(0) < 0 || migrate_run(cfg.migrate_database_url) < 0 ? 1 : 0;
	if (strcmp(cmd, "district") == 0)
		return config_load(0) < 0 ? 1 : cli_district(argc - 2, argv + 2);
	if (strcmp(cmd, "token") == 0)
		return config_load(1) < 0 ? 1 : cli_token(argc - 2, argv + 2);
	fprintf(stderr, "huyingd: unknown command %s (try --help)\n", cmd);
	return 2;
}
