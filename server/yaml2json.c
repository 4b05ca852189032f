/* yaml2json: build-time tool. Converts openapi/openapi.yaml to JSON (via libyaml and cJSON)
 * so that huyingd can serve /v1/openapi.json from its own binary. Plain scalars that read
 * as null, booleans or numbers become those; quoted scalars stay strings. Anchors/aliases
 * are resolved by libyaml's document loader. Usage: yaml2json in.yaml out.json */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static cJSON *convert(yaml_document_t *doc, yaml_node_t *n, int depth);

static cJSON *scalar(yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(v);
	if (!strcmp(v, "null") || !strcmp(v, "~") || !*v)
		return cJSON_CreateNull();
	if (!strcmp(v, "true"))
		return cJSON_CreateTrue();
	if (!strcmp(v, "false"))
		return cJSON_CreateFalse();
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (!*end && !errno && isfinite(d) && strspn(v, "+-0123456789.eE") == strlen(v))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(v);
}

static cJSON *convert(yaml_document_t *doc, yaml_node_t *n, int depth)
{
	if (!n || depth > 200)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE: return scalar(n);
	case YAML_SEQUENCE_NODE: {
		cJSON *a = cJSON_CreateArray();
		for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
			cJSON *c = convert(doc, yaml_document_get_node(doc, *i), depth + 1);
			if (!c)
				return cJSON_Delete(a), NULL;
			cJSON_AddItemToArray(a, c);
		}
		return a;
	}
	case YAML_MAPPING_NODE: {
		cJSON *o = cJSON_CreateObject();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			cJSON *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1);
			if (!k || k->type != YAML_SCALAR_NODE || !v)
				return cJSON_Delete(o), cJSON_Delete(v), NULL;
			cJSON_AddItemToObject(o, (const char *)k->data.scalar.value, v);
		}
		return o;
	}
	default: return NULL;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: yaml2json in.yaml out.json\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "rb");
	if (!in) {
		fprintf(stderr, "yaml2json: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, in);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(stderr, "yaml2json: %s:%zu: %s\n", argv[1], parser.problem_mark.line + 1, parser.problem);
		return 1;
	}
	cJSON *root = convert(&doc, yaml_document_get_root_node(&doc), 0);
	if (!root) {
		fprintf(stderr, "yaml2json: %s: unsupported YAML\n", argv[1]);
		return 1;
	}
	char *s = cJSON_PrintUnformatted(root);
	FILE *out = fopen(argv[2], "wb");
	if (!s || !out || fputs(s, out) < 0 || fclose(out) != 0) {
		fprintf(stderr, "yaml2json: cannot write %s\n", argv[2]);
		return 1;
	}
	free(s);
	cJSON_Delete(root);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(in);
	return 0;
}
