/* buf: a growable byte buffer for building responses, SQL parameters and log lines.
 * Untrusted bytes travel through it as (pointer, length); it is always NUL-terminated so
 * that the result can also be handed to APIs that want a C string. */
#ifndef HUYING_BUF_H
#define HUYING_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
	char *p;
	size_t len;
	size_t cap;
	int oom; /* sticky: set when an allocation failed; later appends are no-ops */
} buf;

/* Appends n bytes. On allocation failure sets b->oom and leaves the contents as they were. */
void buf_put(buf *b, const void *s, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
/* printf-style append. */
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (n bytes) as a JSON string literal, quotes included, escaping what JSON requires. */
void buf_json_str(buf *b, const char *s, size_t n);
/* Returns the NUL-terminated contents ("" when empty); valid until the next append. */
const char *buf_str(buf *b);
/* Frees the storage; the buffer is then empty and reusable. */
void buf_free(buf *b);
/* Empties the buffer but keeps its storage. */
void buf_reset(buf *b);

#endif
