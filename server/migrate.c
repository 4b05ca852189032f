#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "embed.h"

/* Any fixed number: the advisory lock key that serialises concurrent `huyingd migrate`. */
#define MIGRATE_LOCK_KEY "7262006"

int migrate_latest_version(void)
{
	if (embed_migration_count == 0)
		return 0;
	return atoi(embed_migrations[embed_migration_count - 1].name);
}

/* Runs sql; on error prints it (prefixed with what) and returns NULL. */
static db_result *run(db_direct *c, const char *what, const char *sql, int n, const char *const *params)
{
	db_error err;
	db_result *r = db_direct_exec(c, sql, n, params, &err);
	if (!r)
		fprintf(stderr, "huyingd migrate: %s: %s%s%s (SQLSTATE %s)\n", what, err.message,
			err.detail[0] ? ": " : "", err.detail, err.sqlstate[0] ? err.sqlstate : "none");
	return r;
}

static int run_ok(db_direct *c, const char *what, const char *sql, int n, const char *const *params)
{
	db_result *r = run(c, what, sql, n, params);
	db_result_free(r);
	return r ? 0 : -1;
}

/* Applies one file unless it is recorded. Returns 1 applied, 0 already there, -1 error. */
static int apply(db_direct *c, const embed_file *f)
{
	char version[16];
	snprintf(version, sizeof version, "%d", atoi(f->name));
	const char *p[] = {version, f->data, f->name};
	db_result *r = run(c, f->name,
			   "select checksum = md5($2) from public.huying_migrations where version = $1::int", 2, p);
	if (!r)
		return -1;
	int recorded = db_rows(r) > 0;
	int same = recorded && strcmp(db_value(r, 0, 0, NULL), "t") == 0;
	db_result_free(r);
	if (recorded) {
		if (!same)
			fprintf(stderr, "huyingd migrate: warning: %s differs from the version applied earlier\n",
				f->name);
		return 0;
	}
	if (run_ok(c, f->name, "begin", 0, NULL) < 0)
		return -1;
	/* The file runs as a simple query: several statements, no parameters. */
	if (run_ok(c, f->name, f->data, 0, NULL) < 0 ||
	    run_ok(c, f->name,
		   "insert into public.huying_migrations (version, name, checksum) values ($1::int, $3, md5($2))", 3,
		   p) < 0 ||
	    run_ok(c, f->name, "commit", 0, NULL) < 0) {
		run_ok(c, "rollback", "rollback", 0, NULL);
		return -1;
	}
	printf("migrate: applied %s\n", f->name);
	return 1;
}

int migrate_run(const char *url)
{
	char err[512];
	db_direct *c = db_direct_open(url, err, sizeof err);
	if (!c) {
		fprintf(stderr, "huyingd migrate: cannot connect: %s\n", err);
		return -1;
	}
	int rc = -1, applied = 0;
	if (run_ok(c, "lock", "select pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) < 0)
		goto out;
	if (run_ok(c, "bookkeeping",
		   "create table if not exists public.huying_migrations ("
		   " version integer primary key, name text not null, checksum text not null,"
		   " applied_at timestamptz not null default now());"
		   "comment on table public.huying_migrations is 'One row per schema/NNNN_*.sql file applied by huyingd migrate.';"
		   "do $$ begin if exists (select 1 from pg_roles where rolname = 'huying_api') then"
		   " grant select on public.huying_migrations to huying_api; end if; end $$",
		   0, NULL) < 0)
		goto unlock;
	for (int i = 0; i < embed_migration_count; i++) {
		int a = apply(c, &embed_migrations[i]);
		if (a < 0)
			goto unlock;
		applied += a;
	}
	printf("migrate: schema at version %d (%d applied now)\n", migrate_latest_version(), applied);
	rc = 0;
unlock:
	run_ok(c, "unlock", "select pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL);
out:
	db_direct_close(c);
	return rc;
}
