/* csv: a streaming RFC 4180 reader. Feed it the body in chunks of any size; it calls back
 * once per record with the record's fields, so an import never holds the whole file.
 * Accepts a UTF-8 BOM, CRLF or LF line ends, quoted fields with commas, doubled quotes and
 * line breaks, and a missing final line end; skips empty lines. */
#ifndef HUYING_CSV_H
#define HUYING_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 64
#define CSV_MAX_RECORD (1 << 20)

/* Called per record. line: the physical line the record starts on (1 = the first line).
 * fields[i] is NUL-terminated, lens[i] bytes long; both valid during the call only.
 * Return 0 to go on, non-zero to stop (csv_feed then returns that value). */
typedef int (*csv_record_fn)(void *arg, long line, int nfields, char **fields, const size_t *lens);

typedef struct csv_reader csv_reader;

csv_reader *csv_new(csv_record_fn fn, void *arg);
/* Returns 0; -1 on malformed input (see csv_error); or the callback's non-zero value. */
int csv_feed(csv_reader *r, const char *data, size_t n);
/* Ends the input (flushes a last record without a line end). Same returns as csv_feed. */
int csv_finish(csv_reader *r);
/* After -1: what is wrong, and the line. */
const char *csv_error(const csv_reader *r, long *line);
void csv_free(csv_reader *r);

#endif
