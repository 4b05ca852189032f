/* embed: files compiled into the binary (see CMakeLists.txt), so that a deployed huyingd
 * carries its own migrations and OpenAPI document and cannot drift from them. */
#ifndef HUYING_EMBED_H
#define HUYING_EMBED_H

#include <stddef.h>

typedef struct embed_file {
	const char *name; /* e.g. "0001_foundation.sql" */
	const char *data; /* NUL-terminated; use strlen for the length */
} embed_file;

/* The schema migrations, ordered by name. */
extern const embed_file embed_migrations[];
extern const int embed_migration_count;

/* openapi/openapi.yaml converted to JSON at build time. */
extern const embed_file embed_openapi_json;

#endif
