#include "csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED, AFTER_CR };

struct csv_reader {
	csv_record_fn fn;
	void *arg;
	buf data; /* the record's fields, each NUL-terminated */
	size_t starts[CSV_MAX_FIELDS + 1];
	size_t lens[CSV_MAX_FIELDS + 1];
	int nfields;
	size_t field_start;
	int state;
	long line;        /* physical line of the next byte */
	long record_line; /* line the current record started on */
	int bom;          /* bytes of the BOM matched so far; -1 once decided */
	char err[160];
	long err_line;
};

csv_reader *csv_new(csv_record_fn fn, void *arg)
{
	csv_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->fn = fn;
	r->arg = arg;
	r->line = 1;
	r->record_line = 1;
	return r;
}

void csv_free(csv_reader *r)
{
	if (!r)
		return;
	buf_free(&r->data);
	free(r);
}

const char *csv_error(const csv_reader *r, long *line)
{
	*line = r->err_line;
	return r->err;
}

static int fail(csv_reader *r, const char *msg)
{
	snprintf(r->err, sizeof r->err, "%s", msg);
	r->err_line = r->line;
	return -1;
}

static int end_field(csv_reader *r)
{
	if (r->nfields == CSV_MAX_FIELDS)
		return fail(r, "more than 64 columns");
	r->starts[r->nfields] = r->field_start;
	r->lens[r->nfields] = r->data.len - r->field_start;
	r->nfields++;
	buf_putc(&r->data, '\0');
	r->field_start = r->data.len;
	return r->data.oom ? fail(r, "out of memory") : 0;
}

static int end_record(csv_reader *r)
{
	int rc = end_field(r);
	if (rc)
		return rc;
	/* An empty line is one empty field: skip it. */
	if (!(r->nfields == 1 && r->lens[0] == 0)) {
		char *fields[CSV_MAX_FIELDS];
		for (int i = 0; i < r->nfields; i++)
			fields[i] = r->data.p + r->starts[i];
		rc = r->fn(r->arg, r->record_line, r->nfields, fields, r->lens);
	}
	buf_reset(&r->data);
	r->nfields = 0;
	r->field_start = 0;
	r->state = FIELD_START;
	r->record_line = r->line;
	return rc;
}

static int put(csv_reader *r, char c)
{
	if (r->data.len >= CSV_MAX_RECORD)
		return fail(r, "a record is longer than 1 MiB");
	buf_putc(&r->data, c);
	return 0;
}

static int step(csv_reader *r, char c)
{
	int rc = 0;
	switch (r->state) {
	case AFTER_CR:
		/* "\r\n" ends one line; a lone "\r" ends it too. */
		r->state = FIELD_START;
		if (c == '\n')
			return 0;
		__attribute__((fallthrough)); /* c starts the next record */
	case FIELD_START:
		if (c == '"') {
			r->state = QUOTED;
			return 0;
		}
		__attribute__((fallthrough));
	case UNQUOTED:
		r->state = UNQUOTED;
		if (c == ',') {
			rc = end_field(r);
			r->state = FIELD_START;
		} else if (c == '\n' || c == '\r') {
			r->line++;
			rc = end_record(r);
			if (c == '\r')
				r->state = AFTER_CR;
		} else if (c == '"') {
			rc = fail(r, "a quote inside an unquoted field (quote the whole field and double the quote)");
		} else {
			rc = put(r, c);
		}
		return rc;
	case QUOTED:
		if (c == '"') {
			r->state = QUOTE_IN_QUOTED;
			return 0;
		}
		if (c == '\n')
			r->line++;
		return put(r, c);
	case QUOTE_IN_QUOTED:
		if (c == '"') {
			r->state = QUOTED;
			return put(r, '"');
		}
		if (c == ',') {
			r->state = FIELD_START;
			return end_field(r);
		}
		if (c == '\n' || c == '\r') {
			r->line++;
			rc = end_record(r);
			if (c == '\r')
				r->state = AFTER_CR;
			return rc;
		}
		return fail(r, "characters after a closing quote");
	}
	return 0;
}

int csv_feed(csv_reader *r, const char *data, size_t n)
{
	static const char bom[] = "\xEF\xBB\xBF";
	size_t i = 0;
	while (r->bom >= 0 && i < n) {
		if (data[i] == bom[r->bom]) {
			i++;
			if (++r->bom == 3)
				r->bom = -1;
			continue;
		}
		/* Not a BOM after all: replay what matched (never happens for valid UTF-8 text,
		 * which cannot start with a partial BOM, but stay exact). */
		int matched = r->bom;
		r->bom = -1;
		for (int k = 0; k < matched; k++) {
			int rc = step(r, bom[k]);
			if (rc)
				return rc;
		}
	}
	for (; i < n; i++) {
		int rc = step(r, data[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int csv_finish(csv_reader *r)
{
	if (r->state == QUOTED) {
		fail(r, "a quoted field is not closed");
		r->err_line = r->record_line; /* name the line the record began on */
		return -1;
	}
	if (r->state == AFTER_CR || (r->state == FIELD_START && r->nfields == 0 && r->data.len == 0))
		return 0;
	return end_record(r);
}
