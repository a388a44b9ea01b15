/* Precompiled JSON Schemas: the tables `schemas/schemac` generates, and the
 * validator that walks them.
 *
 * The supported keyword set is small on purpose (type, properties, required,
 * additionalProperties, items, enum of strings, minimum/maximum,
 * minLength/maxLength, minItems/maxItems); the compiler refuses any other
 * keyword, so a schema can never promise a check the runtime does not make.
 */
#ifndef EBPF_MCP_SCHEMA_H
#define EBPF_MCP_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"

enum {
	SCH_NULL = 1, SCH_BOOL = 2, SCH_INT = 4, SCH_NUM = 8,
	SCH_STR = 16, SCH_ARR = 32, SCH_OBJ = 64, SCH_ANY = 127,
};

enum {
	SCH_F_MIN = 1,         /* minimum present */
	SCH_F_MAX = 2,         /* maximum present */
	SCH_F_NO_ADDL = 4,     /* additionalProperties: false */
	SCH_F_OR_ERROR = 8,    /* output root: all required, or only "error" */
};

struct sch_node {
	uint8_t types;
	uint8_t flags;
	uint16_t prop_first, prop_count;
	uint16_t enum_first, enum_count;
	int16_t items;         /* node of array items, -1 for any */
	int16_t addl;          /* node of additionalProperties schema, -1 for any */
	double minimum, maximum;
	uint32_t min_len, max_len;   /* strings: bytes; arrays: items */
};

struct sch_prop {
	const char *name;
	uint16_t node;
	bool required;
};

struct sch_tool {
	const char *name;
	const char *descriptor;      /* minified tools/list entry */
	uint32_t descriptor_len;
	uint16_t input, output;      /* root nodes */
	uint8_t profile;             /* enum profile: the least that offers the tool */
	int8_t app;                  /* its MCP App in sch_apps (_meta.ui.resourceUri), -1 for none */
};

/* MCP Apps (the io.modelcontextprotocol/ui extension): each a self-contained
 * HTML file of src/apps/ (inline script and style, nothing fetched) that
 * schemac embeds, served by resources/read as ui://ebpf-mcp/<name>. A tool
 * names its app in its descriptor's _meta; a host shows the app beside the
 * tool's result and hands it the result. */
#define SCH_APP_BYTES_MAX   (64 * 1024)   /* one app's file: a host loads it into every view */
#define SCH_APP_REPLY_SLACK 1024          /* resources/read's envelope around the escaped text, id aside */
#define SCH_APP_MIME        "text/html;profile=mcp-app"
#define SCH_APP_URI_PREFIX  "ui://ebpf-mcp/"
#define SCH_APPS_MAX        16

struct sch_app {
	const char *name;            /* the file's name without .html */
	const char *uri;             /* SCH_APP_URI_PREFIX name */
	const char *title;           /* its <title> */
	const char *description;     /* its <meta name="description"> */
	const char *html;
	uint32_t len;
};

extern const struct sch_node sch_nodes[];
extern const struct sch_prop sch_props[];
extern const char *const sch_enums[];
extern const struct sch_tool sch_tools[];
extern const unsigned sch_tool_count;
extern const struct sch_app sch_apps[];
extern const unsigned sch_app_count;

#define SCH_POINTER_BYTES 256
#define SCH_MSG_BYTES     256

struct sch_err {
	char pointer[SCH_POINTER_BYTES];   /* JSON pointer of the bad value */
	char msg[SCH_MSG_BYTES];
};

/* 0 when tok conforms to node; else -1 with err filled. */
int schema__validate(const struct jdoc *d, int tok, unsigned node, struct sch_err *err);
/* The same for tool arguments: also refuses any string longer than
 * max_string bytes (the string_bytes limit). */
int schema__validate_args(const struct jdoc *d, int tok, unsigned node, size_t max_string,
			  struct sch_err *err);

#endif
