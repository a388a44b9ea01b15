/* Unit tests for the YAML subset (src/yaml.c): every construct it takes,
 * every one it refuses with the line and column of the culprit, and each
 * limit just under, at and over. */
#include <stdlib.h>

#include "unit.h"
#include "yaml.h"

static struct yaml_doc *doc;
static struct yaml_error err;

static int parse(const char *text)
{
	return yaml__parse(doc, text, strlen(text), &err);
}

/* The node at a dotted path of keys and item numbers ("a.b.0"), or NULL. */
static const struct yaml_node *at(const char *path)
{
	int32_t n = 0;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && n != YAML_NONE; k = strtok_r(NULL, ".", &save)) {
		if (doc->nodes[n].kind == YAML_SEQ) {
			int32_t i = doc->nodes[n].first;
			for (int skip = atoi(k); skip > 0 && i != YAML_NONE; skip--)
				i = doc->nodes[i].next;
			n = i;
		} else {
			n = yaml__get(doc, n, k);
		}
	}
	return n == YAML_NONE ? NULL : &doc->nodes[n];
}

static const char *text(const char *path)
{
	const struct yaml_node *n = at(path);
	return n && n->kind == YAML_SCALAR ? n->text : NULL;
}

/* Parsing fails at line:col with a reason containing why. */
#define REFUSED(src_, line_, col_, reason_) do {                                              \
	unit_case = src_;                                                          \
	CHECK_INT(parse(src_), -1);                                                \
	CHECK_INT(err.line, line_);                                                   \
	CHECK_INT(err.col, col_);                                                    \
	if (!strstr(err.why, reason_)) {                                              \
		unit_fail_at(__FILE__, __LINE__, "reason");                       \
		printf("  got '%s', want '%s'\n", err.why, reason_);                  \
	} else {                                                                  \
		unit_passed++;                                                    \
	}                                                                         \
} while (0)

static const char seed[] =
	"server:\n"
	"  bind_address: \"127.0.0.1:8080\"\n"
	"  max_concurrent_requests: 100\n"
	"  request_timeout: \"30s\"\n"
	"security:\n"
	"  audit_log: \"/var/log/ebpf-mcp/audit.log\"\n"
	"  bytecode_validation:\n"
	"    max_instructions: 4096\n"
	"    blocked_helpers:\n"
	"      - \"bpf_probe_write_user\"\n"
	"      - \"bpf_override_return\"\n"
	"  access_control:\n"
	"    permitted_users: [\"ebpf-user\", \"monitoring\"]\n"
	"    permitted_groups: [\"ebpf\", \"admin\"]\n"
	"resources:\n"
	"  max_programs: 10\n"
	"tools:\n"
	"  deploy:\n"
	"    enabled: true\n"
	"    allowed_types: [\"kprobe\", \"tracepoint\"]\n";

static void the_seed(void)
{
	CHECK_INT(parse(seed), 0);
	CHECK_STR(text("server.bind_address"), "127.0.0.1:8080");
	CHECK_STR(text("server.max_concurrent_requests"), "100");
	CHECK_INT(at("server.max_concurrent_requests")->style, YAML_PLAIN);
	CHECK_INT(at("server.request_timeout")->style, YAML_DOUBLE);
	CHECK_STR(text("security.bytecode_validation.blocked_helpers.1"), "bpf_override_return");
	CHECK_INT(at("security.bytecode_validation.blocked_helpers")->kind, YAML_SEQ);
	CHECK_INT(at("security.bytecode_validation.blocked_helpers")->n_children, 2);
	CHECK_STR(text("security.access_control.permitted_groups.1"), "admin");
	CHECK_INT(at("security.access_control.permitted_groups")->n_children, 2);
	CHECK_STR(text("tools.deploy.enabled"), "true");
	/* positions: a key's, its value's */
	const struct yaml_node *n = at("security.access_control.permitted_users");
	CHECK_INT(n->key_line, 13);
	CHECK_INT(n->key_col, 5);
	CHECK_INT(n->line, 13);
	CHECK_INT(n->col, 22);
	CHECK_INT(at("security.access_control.permitted_users.1")->col, 36);
	CHECK_INT(at("security.bytecode_validation.blocked_helpers.0")->line, 10);
	CHECK_INT(at("security.bytecode_validation.blocked_helpers.0")->col, 9);
	CHECK(at("server.tls") == NULL);
	CHECK_INT(doc->nodes[0].kind, YAML_MAP);
	CHECK_INT(doc->nodes[0].n_children, 4);
}

static void scalars(void)
{
	CHECK_INT(parse("a: plain text here   # a comment\n"
			"b: 'it''s # not a comment'\n"
			"c: \"tab\\there \\\"q\\\" \\\\ \\/ \\x41\\u00e9\\U0001F600 \\e\\ \"\n"
			"d: a#b\n"
			"e: http://x:80/y\n"
			"f: -1\n"
			"g:\n"
			"h: ''\n"
			"\"quoted key\": 1\n"
			"'single key' : 2\n"
			"i:   \t spaced\n"), 0);
	CHECK_STR(text("a"), "plain text here");
	CHECK_STR(text("b"), "it's # not a comment");
	CHECK_INT(at("b")->style, YAML_SINGLE);
	CHECK_STR(text("c"), "tab\there \"q\" \\ / A\xc3\xa9\xf0\x9f\x98\x80 \x1b ");
	CHECK_STR(text("d"), "a#b");
	CHECK_STR(text("e"), "http://x:80/y");
	CHECK_STR(text("f"), "-1");
	CHECK_STR(text("g"), "");            /* an empty value */
	CHECK_INT(at("g")->style, YAML_PLAIN);
	CHECK_INT(at("g")->col, 3);
	CHECK_STR(text("h"), "");
	CHECK_INT(at("h")->style, YAML_SINGLE);
	CHECK_STR(text("quoted key"), "1");
	CHECK_STR(text("single key"), "2");
	CHECK_STR(text("i"), "spaced");
}

static void collections(void)
{
	/* a sequence may sit at its key's indentation; items may be maps and lists */
	CHECK_INT(parse("---   # the optional start\n"
			"list:\n"
			"- one\n"
			"-   two   # comment\n"
			"-\n"
			"  nested: yes\n"
			"- k: v\n"
			"  k2: v2\n"
			"- - x\n"
			"  - y\n"
			"-\n"
			"after: [ a , 'b,c' , \"d]\" ]\n"
			"empty: []\n"
			"deep:\n"
			"    four:\n"
			"      - ok\n"), 0);
	CHECK_INT(at("list")->n_children, 6);
	CHECK_STR(text("list.0"), "one");
	CHECK_STR(text("list.1"), "two");
	CHECK_STR(text("list.2.nested"), "yes");
	CHECK_STR(text("list.3.k"), "v");
	CHECK_STR(text("list.3.k2"), "v2");
	CHECK_STR(text("list.4.0"), "x");
	CHECK_STR(text("list.4.1"), "y");
	CHECK_STR(text("list.5"), "");
	CHECK_INT(at("after")->n_children, 3);
	CHECK_STR(text("after.0"), "a");
	CHECK_STR(text("after.1"), "b,c");
	CHECK_STR(text("after.2"), "d]");
	CHECK_INT(at("empty")->kind, YAML_SEQ);
	CHECK_INT(at("empty")->n_children, 0);
	CHECK_STR(text("deep.four.0"), "ok");
	/* a sequence as the root; CRLF lines; a byte order mark */
	CHECK_INT(parse("- a\r\n- b\r\n"), 0);
	CHECK_INT(doc->nodes[0].kind, YAML_SEQ);
	CHECK_STR(text("1"), "b");
	CHECK_INT(parse("\xef\xbb\xbf" "k: v\n"), 0);
	CHECK_STR(text("k"), "v");
	/* nothing at all is an empty mapping */
	CHECK_INT(parse("# only a comment\n\n   \n"), 0);
	CHECK_INT(doc->n_nodes, 1);
	CHECK_INT(doc->nodes[0].kind, YAML_MAP);
	CHECK_INT(parse(""), 0);
	CHECK_INT(parse("---\n"), 0);
}

static void refuses_features(void)
{
	REFUSED("a: &x 1\n", 1, 4, "anchors");
	REFUSED("a: *x\n", 1, 4, "aliases");
	REFUSED("a: !!str 1\n", 1, 4, "tags");
	REFUSED("a: |\n  text\n", 1, 4, "block scalars");
	REFUSED("a: >-\n  text\n", 1, 4, "block scalars");
	REFUSED("a: {b: 1}\n", 1, 4, "flow mappings");
	REFUSED("a: [b, {c: 1}]\n", 1, 8, "flow mappings");
	REFUSED("a: [b, [c]]\n", 1, 8, "nested flow sequences");
	REFUSED("a: [b,\n  c]\n", 1, 4, "must end on its line");
	REFUSED("a: [b, ]\n", 1, 8, "empty entry");
	REFUSED("a: [b c d\n", 1, 4, "must end on its line");
	REFUSED("a: [b] c\n", 1, 8, "unexpected text after the value");
	REFUSED("a: \"open\n  more\"\n", 1, 4, "must end on its line");
	REFUSED("a: 'open\n", 1, 4, "single-quoted value must end");
	REFUSED("a: b\n  c\n", 2, 3, "indented more than the key above");
	REFUSED("a: b: c\n", 1, 5, "': ' inside a plain value");
	REFUSED("? a\n: b\n", 1, 1, "complex keys");
	REFUSED("%YAML 1.2\n---\na: 1\n", 1, 1, "directives");
	REFUSED("a: 1\n---\nb: 2\n", 2, 1, "second document");
	REFUSED("a: 1\n...\n", 2, 1, "document end marker");
	REFUSED("--- a: 1\n", 1, 5, "content after '---'");
	REFUSED("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first at line 1)");
	REFUSED("s:\n  x: 1\n  'x': 2\n", 3, 3, "duplicate key 'x'");
	REFUSED("a:\n\tb: 1\n", 2, 1, "a tab in indentation");
	REFUSED("a:\n  \tb: 1\n", 2, 3, "a tab in indentation");
	REFUSED("a: \"\\q\"\n", 1, 5, "unsupported escape '\\q'");
	REFUSED("a: \"x\\0\"\n", 1, 6, "NUL");
	REFUSED("a: \"\\x00\"\n", 1, 5, "NUL");
	REFUSED("a: \"\\u12\"\n", 1, 5, "needs 4 hex digits");
	REFUSED("a: \"\\ud800\"\n", 1, 5, "not a Unicode scalar value");
	REFUSED("a: \"x\" y\n", 1, 8, "unexpected text after the value");
	REFUSED("a: \"x\"#y\n", 1, 7, "a comment needs a blank");
	REFUSED("a: - b\n", 1, 4, "'- ' item cannot stand here");
	REFUSED("a: @b\n", 1, 4, "'@' cannot begin a plain value");
	REFUSED("a: 1\n- b\n", 2, 1, "a '- ' item where a key was expected");
	REFUSED("- a\nb: 1\n", 2, 1, "does not continue the document");
	REFUSED("just a scalar\n", 1, 1, "expected 'key: value' or '- item'");
	REFUSED("a:\n  just a scalar\n", 2, 3, "a value goes on its key's line");
	REFUSED("[a]: 1\n", 1, 1, "a key must be a plain or quoted scalar");
	REFUSED(": 1\n", 1, 1, "a ':' with no key");
	REFUSED("a: 1\r\nb: x\ry\n", 2, 5, "control byte 0x0d");
	REFUSED("a: 1\nb: \x01\n", 2, 4, "control byte 0x01");
	REFUSED("  a: 1\nb: 2\n", 2, 1, "does not continue the document");
	REFUSED("a:\n    b: 1\n  c: 2\n", 3, 3, "indented more than the key above");
	REFUSED("l:\n  - a\n   - b\n", 3, 4, "indented more than the '-' above");
	/* a NUL byte in the file itself */
	unit_case = "NUL in the file";
	CHECK_INT(yaml__parse(doc, "a: 1\nb: x\0y\n", 12, &err), -1);
	CHECK_INT(err.line, 2);
	CHECK_INT(err.col, 5);
}

/* Nesting: YAML_MAX_DEPTH mappings and sequences in each other, not one more. */
static void depth_limit(void)
{
	char buf[1024];
	size_t n = 0;
	for (int d = 0; d < YAML_MAX_DEPTH - 1; d++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%*sk%d:\n", 2 * d, "", d);
	snprintf(buf + n, sizeof(buf) - n, "%*s- x\n", 2 * (YAML_MAX_DEPTH - 1), "");
	unit_case = "depth: at the limit";
	CHECK_INT(parse(buf), 0);
	snprintf(buf + n, sizeof(buf) - n, "%*s- [x]\n", 2 * (YAML_MAX_DEPTH - 1), "");
	unit_case = "depth: one over with a flow sequence";
	CHECK_INT(parse(buf), -1);
	CHECK(strstr(err.why, "YAML_MAX_DEPTH") != NULL);
	CHECK_INT(err.line, YAML_MAX_DEPTH);
	snprintf(buf + n, sizeof(buf) - n, "%*s- - x\n", 2 * (YAML_MAX_DEPTH - 1), "");
	unit_case = "depth: one over with a block sequence";
	CHECK_INT(parse(buf), -1);
	CHECK(strstr(err.why, "YAML_MAX_DEPTH") != NULL);
	CHECK_INT(err.col, 2 * (YAML_MAX_DEPTH - 1) + 3);
}

/* Nodes: the root plus YAML_MAX_NODES - 1 keys fit; one more does not. */
static void node_limit(void)
{
	static char buf[YAML_MAX_NODES * 16];
	size_t n = 0;
	for (int k = 0; k < YAML_MAX_NODES - 1; k++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "k%d: %d\n", k, k);
	unit_case = "nodes: at the limit";
	CHECK_INT(parse(buf), 0);
	CHECK_INT(doc->n_nodes, YAML_MAX_NODES);
	snprintf(buf + n, sizeof(buf) - n, "one: more\n");
	unit_case = "nodes: one over";
	CHECK_INT(parse(buf), -1);
	CHECK(strstr(err.why, "YAML_MAX_NODES") != NULL);
	CHECK_INT(err.line, YAML_MAX_NODES);
	/* a flow sequence's items count too */
	n -= strlen("k1022: 1022\n");
	snprintf(buf + n, sizeof(buf) - n, "k1022: [a, b]\n");
	unit_case = "nodes: over inside [...]";
	CHECK_INT(parse(buf), -1);
	CHECK_INT(err.line, YAML_MAX_NODES - 1);
	CHECK_INT(err.col, 9);
}

static void line_and_file_limits(void)
{
	static char buf[YAML_MAX_FILE_BYTES + 64];
	/* "k: " + value + "\n": exactly YAML_MAX_LINE_BYTES before the newline */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "k: ", 3);
	memset(buf + 3, 'v', YAML_MAX_LINE_BYTES - 3);
	buf[YAML_MAX_LINE_BYTES] = '\n';
	unit_case = "line: at the limit";
	CHECK_INT(parse(buf), 0);
	CHECK_INT(strlen(text("k")), YAML_MAX_LINE_BYTES - 3);
	buf[YAML_MAX_LINE_BYTES] = 'v';
	buf[YAML_MAX_LINE_BYTES + 1] = '\n';
	unit_case = "line: one over";
	CHECK_INT(parse(buf), -1);
	CHECK_INT(err.line, 1);
	CHECK_INT(err.col, YAML_MAX_LINE_BYTES + 1);
	CHECK(strstr(err.why, "YAML_MAX_LINE_BYTES") != NULL);
	/* a file of comment lines, exactly YAML_MAX_FILE_BYTES, then one byte more */
	memset(buf, 0, sizeof(buf));
	for (size_t i = 0; i < YAML_MAX_FILE_BYTES; i++)
		buf[i] = i % 64 == 63 ? '\n' : i % 64 == 0 ? '#' : 'c';
	unit_case = "file: at the limit";
	CHECK_INT(yaml__parse(doc, buf, YAML_MAX_FILE_BYTES, &err), 0);
	unit_case = "file: one over";
	CHECK_INT(yaml__parse(doc, buf, YAML_MAX_FILE_BYTES + 1, &err), -1);
	CHECK(strstr(err.why, "YAML_MAX_FILE_BYTES") != NULL);
	CHECK_INT(err.line, YAML_MAX_FILE_BYTES / 64 + 1);
	CHECK_INT(err.col, 1);
}

/* The pool: a file of nothing but short quoted escapes still fits. */
static void pool_bound(void)
{
	static char buf[YAML_MAX_FILE_BYTES];
	size_t n = 0;
	for (int k = 0; n + 32 < sizeof(buf) && k < YAML_MAX_NODES - 1; k++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%d: \"\\U0001F600\\xe9\\n%d\"\n", k, k);
	unit_case = "pool";
	CHECK_INT(parse(buf), 0);
	CHECK_STR(text("7"), "\xf0\x9f\x98\x80\xc3\xa9\n7");
	CHECK(doc->pool_used <= YAML_POOL_BYTES);
}

static void sniff(void)
{
	unit_case = "sniff";
	CHECK(yaml__sniff("server:\n  a: 1\n", 15));
	CHECK(yaml__sniff("# c\n\n  \nserver:   # x\n", 22));
	CHECK(yaml__sniff("---\nx: 1\n", 9));
	CHECK(yaml__sniff("profile: full\n", 14));
	CHECK(yaml__sniff("\"server\": 1\n", 12));
	CHECK(!yaml__sniff("profile full\n", 13));
	CHECK(!yaml__sniff("profile = full\n", 15));
	CHECK(!yaml__sniff("access uid:root=full\n", 21));
	CHECK(!yaml__sniff("# only comments\n", 16));
	CHECK(!yaml__sniff("", 0));
	CHECK(!yaml__sniff("limit programs=3\n", 17));
}

int main(void)
{
	doc = malloc(sizeof(*doc));
	if (!doc)
		return 2;
	TEST(the_seed);
	TEST(scalars);
	TEST(collections);
	TEST(refuses_features);
	TEST(depth_limit);
	TEST(node_limit);
	TEST(line_and_file_limits);
	TEST(pool_bound);
	TEST(sniff);
	free(doc);
	return UNIT_DONE();
}
