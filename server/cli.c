#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "routes.h"

/* Returns the value after --name in argv, or NULL. */
static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static db_direct *owner_connection(const char *what)
{
	char err[512];
	db_direct *c = db_direct_open(cfg.migrate_database_url, err, sizeof err);
	if (!c)
		fprintf(stderr, "huyingd %s: cannot connect with HUYING_MIGRATE_DATABASE_URL: %s\n", what, err);
	return c;
}

/* District and office in one statement: a second run with the same code finds them. */
static const char district_sql[] =
	"with d as (insert into huying.districts (code, name) values ($1, $2)"
	"           on conflict (code) do nothing returning id),"
	" o as (insert into huying.units (district_id, code, kind, name)"
	"       select id, $3, 'district_office', $4 from d returning id, district_id)"
	" select district_id, id, true from o"
	" union all"
	" select u.district_id, u.id, false from huying.units u join huying.districts x on x.id = u.district_id"
	"  where x.code = $1 and u.kind = 'district_office' and not exists (select 1 from d)";

int cli_district(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "add") != 0) {
		fprintf(stderr,
			"usage: huyingd district add --code CODE --name NAME [--office-code C] [--office-name N]\n");
		return 2;
	}
	const char *code = opt(argc, argv, "--code"), *name = opt(argc, argv, "--name");
	if (!code || !name) {
		fprintf(stderr, "huyingd district add: --code and --name are required\n");
		return 2;
	}
	char office_code[80];
	snprintf(office_code, sizeof office_code, "%s-BGS", code);
	const char *oc = opt(argc, argv, "--office-code");
	const char *on = opt(argc, argv, "--office-name");
	const char *params[] = {code, name, oc ? oc : office_code, on ? on : "区工委管委办公室"};
	db_direct *c = owner_connection("district add");
	if (!c)
		return 1;
	db_error err;
	db_result *r = db_direct_exec(c, district_sql, 4, params, &err);
	int rc = 1;
	if (!r) {
		fprintf(stderr, "huyingd district add: %s%s%s\n", err.message, err.detail[0] ? ": " : "", err.detail);
	} else if (db_rows(r) != 1) {
		fprintf(stderr, "huyingd district add: district %s exists but has no district office\n", code);
	} else {
		buf b = {0};
		buf_printf(&b, "{\"district_id\":%s,\"office_unit_id\":%s,\"code\":", db_value(r, 0, 0, NULL),
			   db_value(r, 0, 1, NULL));
		buf_json_str(&b, code, strlen(code));
		buf_printf(&b, ",\"created\":%s}", strcmp(db_value(r, 0, 2, NULL), "t") == 0 ? "true" : "false");
		puts(buf_str(&b));
		buf_free(&b);
		rc = 0;
	}
	db_result_free(r);
	db_direct_close(c);
	return rc;
}

/* "8h", "30m", "3600", "2d" -> seconds; -1 when malformed. */
static long parse_ttl(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v <= 0)
		return -1;
	long mul = 1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	return *end || v > 365L * 86400 / mul ? -1 : v * mul;
}

int cli_token(int argc, char **argv)
{
	const char *role_s = opt(argc, argv, "--role"), *unit_s = opt(argc, argv, "--unit");
	const char *ttl_s = opt(argc, argv, "--ttl"), *sub = opt(argc, argv, "--sub");
	const char *system = opt(argc, argv, "--system"), *scope = opt(argc, argv, "--scope");
	auth_role role = role_s ? auth_role_parse(role_s) : 0;
	long ttl = parse_ttl(ttl_s ? ttl_s : "8h");
	if (!role || !unit_s || ttl < 0) {
		fprintf(stderr, "usage: huyingd token --role township|department|district|integration --unit ID"
				" [--ttl 8h] [--sub S] [--system S] [--scope S]\n");
		return 2;
	}
	if (role == ROLE_INTEGRATION && !system)
		system = "89000";
	db_direct *c = owner_connection("token");
	if (!c)
		return 1;
	const char *params[] = {unit_s};
	db_error err;
	db_result *r = db_direct_exec(c, "select district_id, kind, code from huying.units where id = $1::bigint", 1,
				      params, &err);
	int rc = 1;
	if (!r || db_rows(r) != 1) {
		fprintf(stderr, "huyingd token: no unit %s%s%s\n", unit_s, r ? "" : ": ", r ? "" : err.message);
		goto out;
	}
	const char *kind = db_value(r, 0, 1, NULL);
	const char *want = role == ROLE_TOWNSHIP     ? "township"
			   : role == ROLE_DEPARTMENT ? "department"
						     : "district_office";
	if (strcmp(kind, want) != 0)
		fprintf(stderr, "huyingd token: warning: unit %s is a %s; the daemon will refuse this token\n", unit_s,
			kind);
	char subbuf[128];
	if (!sub) {
		snprintf(subbuf, sizeof subbuf, "dev:%s:%s", auth_role_name(role), db_value(r, 0, 2, NULL));
		sub = subbuf;
	}
	char *tok = auth_sign(role, atoll(unit_s), atoll(db_value(r, 0, 0, NULL)), sub, system, scope, ttl);
	if (tok) {
		puts(tok);
		free(tok);
		rc = 0;
	} else {
		fprintf(stderr, "huyingd token: signing failed\n");
	}
out:
	db_result_free(r);
	db_direct_close(c);
	return rc;
}

int cli_routes(void)
{
	buf b = {0};
	buf_putc(&b, '[');
	for (int i = 0; i < route_count; i++) {
		const route *rt = &route_table[i];
		buf_printf(&b, "%s{\"method\":\"%s\",\"path\":\"%s\",\"auth\":%s,\"roles\":[", i ? "," : "", rt->method,
			   rt->path, rt->roles ? "true" : "false");
		int first = 1;
		for (unsigned bit = 1; bit <= ROLE_INTEGRATION; bit <<= 1)
			if (rt->roles & bit) {
				buf_printf(&b, "%s\"%s\"", first ? "" : ",", auth_role_name((auth_role)bit));
				first = 0;
			}
		if (rt->scope)
			buf_printf(&b, "],\"scope\":\"%s\"}", rt->scope);
		else
			buf_puts(&b, "],\"scope\":null}");
	}
	buf_puts(&b, "]");
	puts(buf_str(&b));
	buf_free(&b);
	return 0;
}
