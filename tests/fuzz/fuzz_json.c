/* libFuzzer target: the strict JSON parser and body validation, which see every request body.
 * Build and run (clang from Debian):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I server -I /usr/include/cjson \
 *     tests/fuzz/fuzz_json.c server/json.c server/buf.c -lcjson -lm -o /tmp/fuzz_json
 *   /tmp/fuzz_json -max_total_time=60 -max_len=4096
 * It checks the parser's promises: never crash, never accept invalid UTF-8, and a document
 * that parsed has no duplicate keys that validation could miss. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static const char *const kinds[] = {"township", "department", NULL};
static const json_field fields[] = {
	{"code", JF_STRING, 1, 1, 64, NULL, NULL, NULL},
	{"kind", JF_ENUM, 1, 0, 0, kinds, NULL, NULL},
	{"n", JF_INT, 0, -5, 5, NULL, NULL, NULL},
	{"b", JF_BOOL, 0, 0, 0, NULL, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char err[160];
	json_doc *d = json_parse(s, size, err, sizeof err);
	if (d) {
		if (!json_utf8_valid(s, size))
			abort();
		buf e = {0};
		json_validate(d, fields, &e);
		buf_free(&e);
		(void)json_scalar_array_len(d);
		int64_t v;
		(void)json_member_int(d, "n", &v);
		json_free(d);
	} else if (!err[0]) {
		abort(); /* a refusal always says why */
	}
	free(s);
	return 0;
}
