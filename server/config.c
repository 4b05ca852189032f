#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

config cfg;

/* One row per setting: the --help text and the defaults both come from here. */
struct setting {
	const char *name;
	const char *def; /* NULL: unset */
	const char *help;
};

static const struct setting settings[] = {
	{"HUYING_DATABASE_URL", "postgresql:///huying?user=huying_api",
	 "libpq URL of the API role (owns nothing; row-level security applies)"},
	{"HUYING_MIGRATE_DATABASE_URL", "postgresql:///huying?user=huying_owner",
	 "libpq URL of the owner role, used by migrate, district add and token"},
	{"HUYING_LISTEN", "127.0.0.1:8080", "address:port to serve the API on"},
	{"HUYING_METRICS_LISTEN", "", "separate address:port for /metrics (empty: on the API listener)"},
	{"HUYING_THREADS", "128", "HTTP worker threads = concurrent keep-alive clients"},
	{"HUYING_DB_POOL", "2*cores+2", "PostgreSQL connections shared by the workers"},
	{"HUYING_DB_WAIT_MS", "2000", "longest wait for a free connection before answering 503"},
	{"HUYING_STATEMENT_TIMEOUT_MS", "5000", "statement_timeout of each request (503 when hit)"},
	{"HUYING_REQUEST_TIMEOUT_MS", "10000", "cut off clients that send a request slower than this"},
	{"HUYING_KEEPALIVE_TIMEOUT_MS", "5000", "idle keep-alive connections are closed after this"},
	{"HUYING_DRAIN_TIMEOUT_MS", "30000", "on SIGTERM, longest wait for in-flight requests"},
	{"HUYING_BODY_LIMIT", "1048576", "largest request body in bytes (413 above)"},
	{"HUYING_IMPORT_LIMIT", "67108864",
	 "largest bulk import body in bytes (413 above); streamed, never held whole"},
	{"HUYING_IMPORT_TIMEOUT_MS", "120000", "statement_timeout of a bulk import"},
	{"HUYING_JWT_ALG", "HS256", "the only accepted JWT algorithm: HS256, RS256 or ES256"},
	{"HUYING_JWT_SECRET", NULL, "HS256 shared secret, at least 32 bytes"},
	{"HUYING_JWT_PUBLIC_KEY_FILE", NULL, "PEM public key file for RS256/ES256"},
	{"HUYING_JWT_ISS", NULL, "required iss claim (checked when set)"},
	{"HUYING_JWT_AUD", NULL, "required aud claim (checked when set)"},
	{"HUYING_JWT_SKEW", "30", "clock skew tolerance for exp/nbf, seconds"},
	{"HUYING_RATE_LIMIT", "100", "requests per second per token subject, per replica (0: off); 429 above"},
	{"HUYING_RATE_BURST", "200", "requests a subject may send at once before the rate applies"},
	{"HUYING_SWEEP_INTERVAL_MS", "1000", "timer sweep period (0: this replica does not sweep)"},
	{"HUYING_SWEEP_BATCH", "500", "timers a sweep pass claims at most"},
	{"HUYING_WEBHOOK_INTERVAL_MS", "1000", "webhook deliverer idle period (0: this replica delivers nothing)"},
	{"HUYING_WEBHOOK_THREADS", "2", "webhook deliverer threads in this replica"},
	{"HUYING_WEBHOOK_BATCH", "10", "deliveries a deliverer thread claims at once"},
	{"HUYING_WEBHOOK_TIMEOUT_MS", "10000", "time bound of one delivery attempt"},
	{"HUYING_WEBHOOK_BACKOFF_MS", "10000", "first retry delay; doubles per attempt, at most 1 h, for 24 h"},
	{"HUYING_WEBHOOK_ALLOW", "", "webhook hosts trusted as they are (http allowed, no address check): host[:port],..."},
	{"HUYING_CORS_ORIGINS", "", "allowed browser origins, space or comma separated"},
	{"HUYING_LOG_LEVEL", "info", "info or warn (request lines are info)"},
	{"HUYING_CONFIG", NULL, "optional file of KEY=VALUE lines; the environment wins"},
	{NULL, NULL, NULL},
};

void config_print_help(void)
{
	printf("usage: huyingd [serve]            serve the API\n"
	       "       huyingd migrate            apply schema migrations (owner URL)\n"
	       "       huyingd district add --code CODE --name NAME [--office-code C] [--office-name N]\n"
	       "       huyingd token --role ROLE --unit ID [--ttl 8h] [--sub S] [--system S] [--scope S]\n"
	       "       huyingd routes             print the route table as JSON\n"
	       "       huyingd --help\n\nsettings (environment):\n");
	for (const struct setting *s = settings; s->name; s++)
		printf("  %-28s default %-14s %s\n", s->name, s->def ? (*s->def ? s->def : "\"\"") : "(unset)",
		       s->help);
}

/* Values from the HUYING_CONFIG file, kept for the life of the process. */
static char *file_vals[64][2];
static int nfile_vals;

static int read_config_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "huyingd: cannot read HUYING_CONFIG %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[4096];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *p = line + strspn(line, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '#' || *p == '\0')
			continue;
		char *eq = strchr(p, '=');
		if (!eq || nfile_vals == 64) {
			fprintf(stderr, "huyingd: %s:%d: expected KEY=VALUE\n", path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		char *k_end = eq;
		while (k_end > p && (k_end[-1] == ' ' || k_end[-1] == '\t'))
			*--k_end = '\0';
		char *v = eq + 1 + strspn(eq + 1, " \t");
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			v[--vl] = '\0';
		file_vals[nfile_vals][0] = strdup(p);
		file_vals[nfile_vals][1] = strdup(v);
		nfile_vals++;
	}
	fclose(f);
	return 0;
}

static const char *get(const char *name)
{
	const char *v = getenv(name);
	if (v)
		return v;
	for (int i = 0; i < nfile_vals; i++)
		if (strcmp(file_vals[i][0], name) == 0)
			return file_vals[i][1];
	for (const struct setting *s = settings; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s->def;
	return NULL;
}

static const char *get_opt(const char *name)
{
	const char *v = get(name);
	return v && *v ? v : NULL;
}

static int get_int(const char *name, long lo, long hi, long *out)
{
	const char *v = get(name);
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi) {
		fprintf(stderr, "huyingd: %s=%s: expected an integer from %ld to %ld\n", name, v, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static int load_jwt_key(void)
{
	const char *alg = get("HUYING_JWT_ALG");
	cfg.jwt_alg_name = alg;
	if (strcmp(alg, "HS256") == 0)
		cfg.jwt_alg = ALG_HS256;
	else if (strcmp(alg, "RS256") == 0)
		cfg.jwt_alg = ALG_RS256;
	else if (strcmp(alg, "ES256") == 0)
		cfg.jwt_alg = ALG_ES256;
	else {
		fprintf(stderr, "huyingd: HUYING_JWT_ALG=%s: expected HS256, RS256 or ES256\n", alg);
		return -1;
	}
	if (cfg.jwt_alg == ALG_HS256) {
		/* libjwt accepts every token when given an empty key: never let a short or empty
		 * secret through (DEPENDENCIES.md). */
		if (!cfg.jwt_secret || strlen(cfg.jwt_secret) < 32) {
			fprintf(stderr, "huyingd: HUYING_JWT_SECRET must be at least 32 bytes for HS256\n");
			return -1;
		}
		cfg.jwt_key = strdup(cfg.jwt_secret);
		cfg.jwt_key_len = strlen(cfg.jwt_secret);
		return 0;
	}
	if (!cfg.jwt_public_key_file) {
		fprintf(stderr, "huyingd: %s needs HUYING_JWT_PUBLIC_KEY_FILE\n", alg);
		return -1;
	}
	FILE *f = fopen(cfg.jwt_public_key_file, "rb");
	if (!f) {
		fprintf(stderr, "huyingd: cannot read %s: %s\n", cfg.jwt_public_key_file, strerror(errno));
		return -1;
	}
	char *pem = calloc(1, 65537);
	size_t n = pem ? fread(pem, 1, 65536, f) : 0;
	fclose(f);
	if (n == 0 || !strstr(pem, "-----BEGIN PUBLIC KEY-----")) {
		fprintf(stderr, "huyingd: %s is not a PEM public key\n", cfg.jwt_public_key_file);
		free(pem);
		return -1;
	}
	cfg.jwt_key = pem;
	cfg.jwt_key_len = n;
	return 0;
}

int config_load(int need_jwt)
{
	const char *file = get_opt("HUYING_CONFIG");
	if (file && read_config_file(file) < 0)
		return -1;
	cfg.database_url = get("HUYING_DATABASE_URL");
	cfg.migrate_database_url = get("HUYING_MIGRATE_DATABASE_URL");
	cfg.listen = get("HUYING_LISTEN");
	cfg.metrics_listen = get("HUYING_METRICS_LISTEN");
	cfg.jwt_secret = get_opt("HUYING_JWT_SECRET");
	cfg.jwt_public_key_file = get_opt("HUYING_JWT_PUBLIC_KEY_FILE");
	cfg.jwt_iss = get_opt("HUYING_JWT_ISS");
	cfg.jwt_aud = get_opt("HUYING_JWT_AUD");
	cfg.cors_origins = get("HUYING_CORS_ORIGINS");
	cfg.log_level = get("HUYING_LOG_LEVEL");

	long v;
	if (get_int("HUYING_THREADS", 4, 4096, &v) < 0)
		return -1;
	cfg.threads = (int)v;
	const char *pool = get("HUYING_DB_POOL");
	if (strcmp(pool, "2*cores+2") == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.db_pool = (int)(2 * (cores > 0 ? cores : 1) + 2);
	} else {
		if (get_int("HUYING_DB_POOL", 1, 512, &v) < 0)
			return -1;
		cfg.db_pool = (int)v;
	}
	if (get_int("HUYING_DB_WAIT_MS", 1, 60000, &v) < 0)
		return -1;
	cfg.db_wait_ms = (int)v;
	if (get_int("HUYING_STATEMENT_TIMEOUT_MS", 1, 3600000, &v) < 0)
		return -1;
	cfg.statement_timeout_ms = (int)v;
	if (get_int("HUYING_REQUEST_TIMEOUT_MS", 100, 600000, &v) < 0)
		return -1;
	cfg.request_timeout_ms = (int)v;
	if (get_int("HUYING_KEEPALIVE_TIMEOUT_MS", 0, 600000, &v) < 0)
		return -1;
	cfg.keepalive_timeout_ms = (int)v;
	if (get_int("HUYING_DRAIN_TIMEOUT_MS", 0, 3600000, &v) < 0)
		return -1;
	cfg.drain_timeout_ms = (int)v;
	if (get_int("HUYING_BODY_LIMIT", 1024, 1L << 30, &v) < 0)
		return -1;
	cfg.body_limit = v;
	if (get_int("HUYING_IMPORT_LIMIT", 1024, 1L << 34, &v) < 0)
		return -1;
	cfg.import_limit = v;
	if (get_int("HUYING_IMPORT_TIMEOUT_MS", 1000, 3600000, &v) < 0)
		return -1;
	cfg.import_timeout_ms = (int)v;
	if (get_int("HUYING_JWT_SKEW", 0, 3600, &v) < 0)
		return -1;
	cfg.jwt_skew = (int)v;
	if (get_int("HUYING_RATE_LIMIT", 0, 1000000, &v) < 0)
		return -1;
	cfg.rate_limit = (int)v;
	if (get_int("HUYING_RATE_BURST", 1, 1000000, &v) < 0)
		return -1;
	cfg.rate_burst = (int)v;
	if (get_int("HUYING_SWEEP_INTERVAL_MS", 0, 3600000, &v) < 0)
		return -1;
	cfg.sweep_interval_ms = (int)v;
	if (get_int("HUYING_SWEEP_BATCH", 1, 100000, &v) < 0)
		return -1;
	cfg.sweep_batch = (int)v;
	if (get_int("HUYING_WEBHOOK_INTERVAL_MS", 0, 3600000, &v) < 0)
		return -1;
	cfg.webhook_interval_ms = (int)v;
	if (get_int("HUYING_WEBHOOK_THREADS", 1, 16, &v) < 0)
		return -1;
	cfg.webhook_threads = (int)v;
	if (get_int("HUYING_WEBHOOK_BATCH", 1, 1000, &v) < 0)
		return -1;
	cfg.webhook_batch = (int)v;
	if (get_int("HUYING_WEBHOOK_TIMEOUT_MS", 100, 120000, &v) < 0)
		return -1;
	cfg.webhook_timeout_ms = (int)v;
	if (get_int("HUYING_WEBHOOK_BACKOFF_MS", 10, 3600000, &v) < 0)
		return -1;
	cfg.webhook_backoff_ms = (int)v;
	cfg.webhook_allow = get("HUYING_WEBHOOK_ALLOW");
	if (need_jwt && load_jwt_key() < 0)
		return -1;
	return 0;
}
