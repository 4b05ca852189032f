/* Unit tests for server/config.c.
 *
 * Every test starts from an environment with no HUYING_* variable. config_load() keeps the
 * values of a HUYING_CONFIG file for the life of the process (they are read once, at start),
 * so the tests that name a file run last, and only the very last one leaves values behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

extern char **environ;

static const char secret32[] = "0123456789abcdef0123456789abcdef";
static const char secret31[] = "0123456789abcdef0123456789abcde";

static char tmp_path[64];

/* Silences config_load's messages to stderr while it runs; returns its result. */
static int load(int need_jwt)
{
	fflush(stderr);
	int saved = dup(2);
	FILE *null = fopen("/dev/null", "w");
	if (saved >= 0 && null)
		dup2(fileno(null), 2);
	int rc = config_load(need_jwt);
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	if (null)
		fclose(null);
	return rc;
}

static void clear_huying_env(void)
{
	for (;;) {
		char name[256] = "";
		for (char **e = environ; *e; e++) {
			if (strncmp(*e, "HUYING_", 7) == 0) {
				size_t n = strcspn(*e, "=");
				if (n < sizeof name) {
					memcpy(name, *e, n);
					name[n] = '\0';
				}
				break;
			}
		}
		if (!name[0])
			return;
		unsetenv(name);
	}
}

static int setup(void **state)
{
	(void)state;
	clear_huying_env();
	free(cfg.jwt_key);
	memset(&cfg, 0, sizeof cfg);
	tmp_path[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(cfg.jwt_key);
	cfg.jwt_key = NULL;
	if (tmp_path[0])
		unlink(tmp_path);
	clear_huying_env();
	return 0;
}

/* Writes text to a fresh temporary file whose name is left in tmp_path. */
static const char *write_tmp(const char *text)
{
	snprintf(tmp_path, sizeof tmp_path, "/tmp/huying-test-config-XXXXXX");
	int fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	return tmp_path;
}

/* ---- the JWT key --------------------------------------------------------------------- */

static void test_secret_of_31_bytes_is_refused(void **state)
{
	(void)state;
	setenv("HUYING_JWT_SECRET", secret31, 1);
	assert_int_equal(load(1), -1);
}

static void test_secret_of_32_bytes_is_accepted(void **state)
{
	(void)state;
	setenv("HUYING_JWT_SECRET", secret32, 1);
	assert_int_equal(load(1), 0);
	assert_int_equal(cfg.jwt_alg, ALG_HS256);
	assert_int_equal(cfg.jwt_key_len, 32);
	assert_memory_equal(cfg.jwt_key, secret32, 32);
}

static void test_missing_or_empty_secret_is_refused(void **state)
{
	(void)state;
	assert_int_equal(load(1), -1);
	setenv("HUYING_JWT_SECRET", "", 1);
	assert_int_equal(load(1), -1);
}

static void test_secret_is_not_needed_without_jwt(void **state)
{
	(void)state;
	/* migrate runs without a key. */
	assert_int_equal(load(0), 0);
	assert_int_equal(cfg.jwt_key_len, 0);
}

static void test_alg_none_is_refused(void **state)
{
	(void)state;
	setenv("HUYING_JWT_SECRET", secret32, 1);
	setenv("HUYING_JWT_ALG", "none", 1);
	assert_int_equal(load(1), -1);
}

static void test_alg_names_are_case_sensitive(void **state)
{
	(void)state;
	setenv("HUYING_JWT_SECRET", secret32, 1);
	setenv("HUYING_JWT_ALG", "hs256", 1);
	assert_int_equal(load(1), -1);
	setenv("HUYING_JWT_ALG", "HS384", 1);
	assert_int_equal(load(1), -1);
	setenv("HUYING_JWT_ALG", "HS256", 1);
	assert_int_equal(load(1), 0);
}

static void test_rs256_needs_a_public_key_file(void **state)
{
	(void)state;
	setenv("HUYING_JWT_ALG", "RS256", 1);
	assert_int_equal(load(1), -1);
	setenv("HUYING_JWT_PUBLIC_KEY_FILE", "/nonexistent/huying-key.pem", 1);
	assert_int_equal(load(1), -1);
}

static void test_rs256_refuses_a_file_that_is_no_public_key(void **state)
{
	(void)state;
	setenv("HUYING_JWT_ALG", "RS256", 1);
	setenv("HUYING_JWT_PUBLIC_KEY_FILE", write_tmp("not a key\n"), 1);
	assert_int_equal(load(1), -1);
}

static void test_rs256_reads_the_public_key_file(void **state)
{
	(void)state;
	static const char pem[] =
		"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQc=\n-----END PUBLIC KEY-----\n";
	setenv("HUYING_JWT_ALG", "RS256", 1);
	setenv("HUYING_JWT_PUBLIC_KEY_FILE", write_tmp(pem), 1);
	assert_int_equal(load(1), 0);
	assert_int_equal(cfg.jwt_alg, ALG_RS256);
	assert_int_equal(cfg.jwt_key_len, strlen(pem));
	assert_memory_equal(cfg.jwt_key, pem, strlen(pem));
}

/* ---- numbers and defaults ------------------------------------------------------------ */

static void test_non_numeric_threads_are_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {"abc", "", "12abc", "1e3", "0x10", "3", "4097", "-8", "99999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("HUYING_THREADS", bad[i], 1);
		if (load(0) != -1)
			fail_msg("HUYING_THREADS=\"%s\" was accepted", bad[i]);
	}
	setenv("HUYING_THREADS", "4", 1);
	assert_int_equal(load(0), 0);
	assert_int_equal(cfg.threads, 4);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(load(0), 0);
	assert_int_equal(cfg.threads, 128);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_string_equal(cfg.metrics_listen, "");
	assert_int_equal(cfg.jwt_skew, 30);
	assert_int_equal(cfg.body_limit, 1048576);
	assert_int_equal(cfg.db_wait_ms, 2000);
	assert_int_equal(cfg.statement_timeout_ms, 5000);
	assert_string_equal(cfg.database_url, "postgresql:///huying?user=huying_api");
	assert_string_equal(cfg.migrate_database_url, "postgresql:///huying?user=huying_owner");
	assert_null(cfg.jwt_iss);
	assert_null(cfg.jwt_aud);
	assert_string_equal(cfg.cors_origins, "");
}

static void test_db_pool_defaults_to_twice_the_cores_plus_two(void **state)
{
	(void)state;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	assert_true(cores > 0);
	assert_int_equal(load(0), 0);
	assert_int_equal(cfg.db_pool, 2 * cores + 2);
}

static void test_db_pool_can_be_set(void **state)
{
	(void)state;
	setenv("HUYING_DB_POOL", "7", 1);
	assert_int_equal(load(0), 0);
	assert_int_equal(cfg.db_pool, 7);
	setenv("HUYING_DB_POOL", "0", 1);
	assert_int_equal(load(0), -1);
	setenv("HUYING_DB_POOL", "many", 1);
	assert_int_equal(load(0), -1);
}

static void test_empty_iss_and_aud_mean_unset(void **state)
{
	(void)state;
	setenv("HUYING_JWT_ISS", "", 1);
	setenv("HUYING_JWT_AUD", "huying", 1);
	assert_int_equal(load(0), 0);
	assert_null(cfg.jwt_iss);
	assert_string_equal(cfg.jwt_aud, "huying");
}

static void test_skew_out_of_range_is_refused(void **state)
{
	(void)state;
	setenv("HUYING_JWT_SKEW", "-1", 1);
	assert_int_equal(load(0), -1);
	setenv("HUYING_JWT_SKEW", "3601", 1);
	assert_int_equal(load(0), -1);
	setenv("HUYING_JWT_SKEW", "0", 1);
	assert_int_equal(load(0), 0);
	assert_int_equal(cfg.jwt_skew, 0);
}

/* ---- HUYING_CONFIG (these run last) -------------------------------------------------- */

static void test_missing_config_file_is_refused(void **state)
{
	(void)state;
	setenv("HUYING_CONFIG", "/nonexistent/huying.conf", 1);
	assert_int_equal(load(0), -1);
}

static void test_config_file_line_without_equals_is_refused(void **state)
{
	(void)state;
	setenv("HUYING_CONFIG", write_tmp("this line has no equals sign\n"), 1);
	assert_int_equal(load(0), -1);
}

static void test_config_file_is_read_and_the_environment_wins(void **state)
{
	(void)state;
	char text[512];
	snprintf(text, sizeof text,
		 "# huying settings\n"
		 "\n"
		 "HUYING_THREADS=64\n"
		 "  HUYING_LISTEN=0.0.0.0:9000\r\n"
		 "HUYING_JWT_SECRET=%s\n"
		 "HUYING_JWT_AUD=from-file\n",
		 secret32);
	setenv("HUYING_CONFIG", write_tmp(text), 1);
	setenv("HUYING_THREADS", "32", 1);
	setenv("HUYING_JWT_AUD", "from-env", 1);
	assert_int_equal(load(1), 0);
	assert_int_equal(cfg.threads, 32); /* environment wins */
	assert_string_equal(cfg.jwt_aud, "from-env");
	assert_string_equal(cfg.listen, "0.0.0.0:9000"); /* from the file */
	assert_int_equal(cfg.jwt_key_len, 32);           /* the secret from the file */
	assert_memory_equal(cfg.jwt_key, secret32, 32);
	assert_int_equal(cfg.jwt_skew, 30); /* neither: the default */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_secret_of_31_bytes_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_of_32_bytes_is_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_or_empty_secret_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_is_not_needed_without_jwt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alg_none_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alg_names_are_case_sensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rs256_needs_a_public_key_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rs256_refuses_a_file_that_is_no_public_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rs256_reads_the_public_key_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_numeric_threads_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_pool_defaults_to_twice_the_cores_plus_two, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_pool_can_be_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_iss_and_aud_mean_unset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skew_out_of_range_is_refused, setup, teardown),
		/* HUYING_CONFIG values stay for the process: keep these last. */
		cmocka_unit_test_setup_teardown(test_missing_config_file_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file_line_without_equals_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file_is_read_and_the_environment_wins, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
