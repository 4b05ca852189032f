/* config: the daemon's settings, read once at start from the environment (and an optional
 * KEY=VALUE file named by HUYING_CONFIG; the environment wins) and immutable afterwards. */
#ifndef HUYING_CONFIG_H
#define HUYING_CONFIG_H

#include <stddef.h>

typedef enum { ALG_HS256, ALG_RS256, ALG_ES256 } config_alg;

typedef struct config {
	const char *database_url;
	const char *migrate_database_url;
	const char *listen;         /* host:port */
	const char *metrics_listen; /* "" = /metrics on the main listener */
	int threads;
	int db_pool;
	int db_wait_ms;
	int statement_timeout_ms;
	int request_timeout_ms;
	int keepalive_timeout_ms;
	int drain_timeout_ms;
	long body_limit;
	long import_limit;
	int import_timeout_ms;
	config_alg jwt_alg;
	const char *jwt_alg_name;
	const char *jwt_secret; /* HS256 */
	const char *jwt_public_key_file;
	char *jwt_key; /* HS256 secret or PEM text, as bytes */
	size_t jwt_key_len;
	const char *jwt_iss; /* NULL when not configured */
	const char *jwt_aud;
	int jwt_skew;
	int rate_limit; /* requests per second per subject; 0 = off */
	int rate_burst;
	int sweep_interval_ms; /* 0 = no sweeper in this replica */
	int sweep_batch;
	int webhook_interval_ms; /* 0 = no deliverer in this replica */
	int webhook_threads;
	int webhook_batch;
	int webhook_timeout_ms;
	int webhook_backoff_ms;
	const char *webhook_allow; /* HUYING_WEBHOOK_ALLOW, "" = nothing */
	const char *cors_origins; /* space or comma separated; "" = no CORS */
	const char *log_level;
} config;

/* The one configuration; filled by config_load() before any thread starts. */
extern config cfg;

/* Reads the settings. Returns 0, or -1 after printing what is wrong to stderr. need_jwt says
 * whether the JWT key must be present and sound (serve and token need it; migrate does not). */
int config_load(int need_jwt);

/* Prints every setting with its default and meaning (huyingd --help). */
void config_print_help(void);

#endif
