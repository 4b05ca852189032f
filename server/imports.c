/* imports: POST /v1/imports/{units|grids|items|calendar} (the district office).
 *
 * The body (text/csv with a header row, or application/x-ndjson, one object per line) is
 * read in chunks and never held whole: each record becomes one JSON object and goes to
 * PostgreSQL with COPY into the transaction's temporary table import_rows(line, doc). Then
 * api.import_<kind>() checks every row and writes, all or nothing, in the same transaction;
 * a dry run is rolled back. Rows the daemon itself cannot read (bad UTF-8, broken quoting,
 * bad JSON) are reported with their line, and then nothing is written either. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "csv.h"
#include "dates.h"
#include "flow.h"
#include "handlers.h"

#define CHUNK      65536
#define COPY_BATCH (256 * 1024)
#define MAX_ERRORS 1000

typedef struct import {
	http_req *r;
	db_session *s;
	buf copy;   /* COPY text waiting to be sent */
	buf errors; /* {line, field, message} objects */
	int nerrors;
	long rows;
	char **header; /* CSV column names */
	int ncols;
	int failed; /* a database error: stop */
	db_error err;
} import;

static db_stmt st_staging =
	DB_STMT("import_staging",
		"create temp table import_rows (line integer not null, doc jsonb not null) on commit drop", 0);

static void row_error(import *im, long line, const char *field, const char *message)
{
	if (im->nerrors++ >= MAX_ERRORS)
		return;
	if (im->errors.len)
		buf_putc(&im->errors, ',');
	buf_printf(&im->errors, "{\"line\":%ld,\"field\":", line);
	buf_json_str(&im->errors, field, strlen(field));
	buf_puts(&im->errors, ",\"message\":");
	buf_json_str(&im->errors, message, strlen(message));
	buf_putc(&im->errors, '}');
}

/* Appends s as a field of COPY's text format (backslash escapes). */
static void copy_escape(buf *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e = s[i] == '\\'   ? "\\\\"
				: s[i] == '\n' ? "\\n"
				: s[i] == '\r' ? "\\r"
				: s[i] == '\t' ? "\\t"
					       : NULL;
		if (!e)
			continue;
		buf_put(b, s + run, i - run);
		buf_puts(b, e);
		run = i + 1;
	}
	buf_put(b, s + run, n - run);
}

static int flush_copy(import *im, int force)
{
	if (im->failed || (!force && im->copy.len < COPY_BATCH) || im->copy.len == 0)
		return im->failed ? -1 : 0;
	if (db_session_copy_put(im->s, im->copy.p, im->copy.len, &im->err) < 0) {
		im->failed = 1;
		return -1;
	}
	buf_reset(&im->copy);
	return 0;
}

/* One good row: "line<TAB>json<LF>" into the COPY stream. */
static int add_row(import *im, long line, const char *json, size_t n)
{
	im->rows++;
	if (im->nerrors)
		return 0; /* nothing will be written: just keep reading to report every bad line */
	buf_printf(&im->copy, "%ld\t", line);
	copy_escape(&im->copy, json, n);
	buf_putc(&im->copy, '\n');
	return flush_copy(im, 0);
}

static int header_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int on_csv_record(void *arg, long line, int n, char **fields, const size_t *lens)
{
	import *im = arg;
	for (int i = 0; i < n; i++) {
		if (!json_utf8_valid(fields[i], lens[i]) || memchr(fields[i], '\0', lens[i])) {
			im->rows += im->header != NULL;
			row_error(im, line, im->header && i < im->ncols ? im->header[i] : "(line)",
				  "is not valid UTF-8 text");
			return 0;
		}
	}
	if (!im->header) {
		if (n < 1 || n > CSV_MAX_FIELDS)
			return 1;
		im->header = calloc((size_t)n, sizeof *im->header);
		im->ncols = n;
		for (int i = 0; i < n && im->header; i++) {
			if (!header_name_ok(fields[i], lens[i])) {
				row_error(im, line, "(header)", "column names are lower-case letters, digits and _");
				return 1;
			}
			for (int k = 0; k < i; k++)
				if (strcmp(im->header[k], fields[i]) == 0) {
					row_error(im, line, fields[i], "appears twice in the header");
					return 1;
				}
			im->header[i] = strdup(fields[i]);
		}
		return 0;
	}
	if (n > im->ncols) {
		im->rows++;
		row_error(im, line, "(line)", "has more columns than the header");
		return 0;
	}
	buf j = {0};
	buf_putc(&j, '{');
	int first = 1;
	for (int i = 0; i < n; i++) {
		if (lens[i] == 0)
			continue; /* an empty cell is an absent value */
		if (!first)
			buf_putc(&j, ',');
		first = 0;
		buf_json_str(&j, im->header[i], strlen(im->header[i]));
		buf_putc(&j, ':');
		buf_json_str(&j, fields[i], lens[i]);
	}
	buf_putc(&j, '}');
	int rc = add_row(im, line, j.p, j.len);
	buf_free(&j);
	return rc;
}

/* NDJSON: one object per line; blank lines are skipped. */
static void on_ndjson_line(import *im, long line, char *s, size_t n)
{
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	size_t lead = 0;
	while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
		lead++;
	if (lead == n)
		return;
	char save = s[n];
	s[n] = '\0'; /* json_parse wants the byte after the text to be NUL */
	char err[160];
	json_doc *d = json_parse(s + lead, n - lead, err, sizeof err);
	if (!d) {
		im->rows++;
		row_error(im, line, "(line)", err);
	} else if (json_root_type(d) != JT_OBJECT) {
		im->rows++;
		row_error(im, line, "(line)", "must be a JSON object");
	} else {
		add_row(im, line, s + lead, n - lead);
	}
	json_free(d);
	s[n] = save;
}

/* Streams the body through the right reader. Returns 0, or -1 after answering. */
static int read_body(import *im, int csv)
{
	char *chunk = malloc(CHUNK);
	csv_reader *cr = csv ? csv_new(on_csv_record, im) : NULL;
	buf line = {0};
	long lineno = 1;
	int rc = -1;
	if (!chunk || (csv && !cr)) {
		http_problem(im->r, 503, "out of memory", NULL);
		goto out;
	}
	for (;;) {
		long n = http_read(im->r, chunk, CHUNK, cfg.import_limit, cfg.import_timeout_ms);
		if (n == -3) {
			http_problem(im->r, 408, "the import did not arrive within HUYING_IMPORT_TIMEOUT_MS", NULL);
			goto out;
		}
		if (n == -2) {
			http_problem(im->r, 413, "the import is larger than HUYING_IMPORT_LIMIT", NULL);
			goto out;
		}
		if (n < 0) {
			http_problem(im->r, 400, "the body could not be read", NULL);
			goto out;
		}
		if (n == 0)
			break;
		if (csv) {
			int c = csv_feed(cr, chunk, (size_t)n);
			if (c < 0) {
				long at;
				const char *why = csv_error(cr, &at);
				row_error(im, at, "(line)", why);
				break;
			}
			if (c > 0)
				break;
		} else {
			for (long i = 0; i < n; i++) {
				if (chunk[i] == '\n') {
					on_ndjson_line(im, lineno++, line.p ? line.p : (char *)"", line.len);
					buf_reset(&line);
				} else if (line.len < CSV_MAX_RECORD) {
					buf_putc(&line, chunk[i]);
				}
			}
		}
		if (im->failed)
			break;
	}
	if (csv && !im->failed && im->nerrors == 0) {
		if (csv_finish(cr) < 0) {
			long at;
			const char *why = csv_error(cr, &at);
			row_error(im, at, "(line)", why);
		}
		if (!im->header)
			row_error(im, 1, "(header)", "the file is empty: a header row is required");
	}
	if (!csv && line.len)
		on_ndjson_line(im, lineno, line.p, line.len);
	rc = 0;
out:
	csv_free(cr);
	buf_free(&line);
	free(chunk);
	return rc;
}

static db_stmt st_units = DB_STMT("import_units", "select * from api.import_units($1::boolean, $2::date)", 2);
static db_stmt st_grids = DB_STMT("import_grids", "select * from api.import_grids($1::boolean, $2::date)", 2);
static db_stmt st_items = DB_STMT("import_items", "select * from api.import_items($1::boolean, $2::date)", 2);
static db_stmt st_calendar = DB_STMT("import_calendar", "select * from api.import_calendar($1::boolean, $2::date)", 2);

static void run(http_req *r, db_stmt *st, int items)
{
	static const char *const names[] = {"dry_run", "effective_from", NULL};
	const char *v[2];
	if (http_query_or_reply(r, names, v) < 0)
		return;
	buf e = {0};
	if (v[0] && strcmp(v[0], "true") != 0 && strcmp(v[0], "false") != 0)
		json_error_add(&e, "dry_run", "must be true or false");
	if (v[1] && (!items || dates_check(v[1]) < 0))
		json_error_add(&e, "effective_from", items ? "must be a date YYYY-MM-DD" : "applies to items only");
	if (e.len) {
		http_problem(r, 422, "invalid query parameters", buf_str(&e));
		buf_free(&e);
		return;
	}
	int dry = v[0] && strcmp(v[0], "true") == 0;
	const char *ct = http_get_header(r, "Content-Type");
	int csv = ct && strncasecmp(ct, "text/csv", 8) == 0;

import im = {.r = r };
	im.s = db_session_begin(r->claims.json, cfg.import_timeout_ms, &im.err);
	db_result *res = NULL;
	if (!im.s) {
		http_reply_db_error(r, &im.err);
		return;
	}
	r->token_confirmed = 1;
	res = db_session_exec(im.s, &st_staging, NULL, &im.err);
	if (!res || db_session_copy_begin(im.s, "copy import_rows (line, doc) from stdin", &im.err) < 0)
		goto db_failed;
	db_result_free(res);
	res = NULL;
	if (read_body(&im, csv) < 0) {
		db_session_copy_end(im.s, "the request failed", &im.err);
		goto out;
	}
	if (im.failed)
		goto db_failed;
	if (im.nerrors) {
		db_session_copy_end(im.s, "the file has errors", &im.err);
		buf extra = {0};
		buf_printf(&extra, "\"rows\":%ld", im.rows);
		char detail[96];
		snprintf(detail, sizeof detail, "%d problem(s) in the file; nothing was written", im.nerrors);
		http_problem_ex(r, 422, detail, buf_str(&im.errors), buf_str(&extra));
		buf_free(&extra);
		goto out;
	}
	if (flush_copy(&im, 1) < 0 || db_session_copy_end(im.s, NULL, &im.err) < 0)
		goto db_failed;
	const char *params[] = {dry ? "true" : "false", v[1]};
	res = db_session_exec(im.s, st, params, &im.err);
	if (!res)
		goto db_failed;
	if (items && flow_render_pending(im.s, &im.err) < 0)
		goto db_failed;
	if (db_session_end(im.s, !dry, &im.err) < 0) {
		im.s = NULL;
		goto db_failed;
	}
	im.s = NULL;
	http_reply_row(r, res);
	res = NULL;
	goto out;
db_failed:
	http_reply_db_error(r, &im.err);
out:
	db_result_free(res);
	if (im.s) {
		db_error ignored;
		db_session_end(im.s, 0, &ignored);
	}
	for (int i = 0; i < im.ncols && im.header; i++)
		free(im.header[i]);
	free(im.header);
	buf_free(&im.copy);
	buf_free(&im.errors);
}

void imports_units(http_req *r)
{
	run(r, &st_units, 0);
}
void imports_grids(http_req *r)
{
	run(r, &st_grids, 0);
}
void imports_items(http_req *r)
{
	run(r, &st_items, 1);
}
/* The calendar's days (date, kind, name), merged into their years. */
void imports_calendar(http_req *r)
{
	run(r, &st_calendar, 0);
}
