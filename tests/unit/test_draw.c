/* Unit tests for the CLI's pictures (src/draw.c): the flame graph SVG from
 * every stack shape a result may have (folded strings, frame arrays with
 * offsets, user + kernel arrays, top-level folded lines, time weights,
 * stacks without frames), widths by weight, name order, kernel colours, XML
 * escaping, what is left out and said so (narrow frames, over-long stacks,
 * truncated results), and the text histograms: rows, stars and percentile
 * marks from the buckets. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "unit.h"

#define TOKENS 65536

static struct jdoc d;
static jsmntok_t toks[TOKENS];

static int parse(const char *js)
{
	struct json_perr e;
	return jdoc__parse(&d, js, strlen(js), toks, TOKENS, 64, &e);
}

/* The SVG of result js, in a malloc'd string. */
static char *svg(const char *js)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (parse(js) || draw__svg(&d, 0, "t<&>", f))
		out = NULL;
	fclose(f);
	return out;
}

static char *hist(const char *js)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!parse(js))
		draw__hist(&d, 0, "fallback", f);
	fclose(f);
	return out;
}

/* The rect of the frame whose tooltip starts with title: x and width. */
static int frame(const char *s, const char *title, double *x, double *w)
{
	char want[256];
	snprintf(want, sizeof(want), "<title>%s", title);
	const char *t = strstr(s, want), *r = t ? strstr(t, "<rect x=\"") : NULL;
	return r && sscanf(r, "<rect x=\"%lf\" y=\"%*f\" width=\"%lf\"", x, w) == 2 ? 0 : -1;
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;
	for (const char *p = s; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void folded_stacks(void)
{
	char *s = svg("{\"duration_ms\":1000,\"stacks\":["
		      "{\"count\":30,\"folded\":\"app;main;b\",\"kernel\":[]},"
		      "{\"count\":10,\"folded\":\"app;main;a;sys_read\",\"kernel\":[\"sys_read+0x10\"]}]}");
	double x, w, xa, wa, xb, wb;
	CHECK(s != NULL);
	const char *head = "<?xml version=\"1.0\" standalone=\"no\"?>\n<svg ";
	CHECK(s && !strncmp(s, head, strlen(head)));
	CHECK(strstr(s, ">t&lt;&amp;&gt;</text>") != NULL);   /* the title, escaped */
	CHECK(!frame(s, "all (40 samples, 100.00%)", &x, &w));
	CHECK(x == 10 && w == 1180);
	CHECK(!frame(s, "main (40 samples, 100.00%)", &x, &w));
	CHECK(w == 1180);
	/* children in name order, widths by samples */
	CHECK(!frame(s, "a (10 samples, 25.00%)", &xa, &wa));
	CHECK(!frame(s, "b (30 samples, 75.00%)", &xb, &wb));
	CHECK(xa == 10 && wa == 295 && xb == 305 && wb == 885);
	/* the kernel frame is orange (blue 0), the user ones are not */
	const char *k = strstr(s, "<title>sys_read (10 samples");
	CHECK(k && strstr(k, ",0)\"") && strstr(k, ",0)\"") < strstr(k, "</g>"));
	CHECK(strstr(s, "40 samples in 2 stacks over 1000 ms</text>") != NULL);
	CHECK_INT(count(s, "<g class=\"frame\">"), 6);
	free(s);
}

static void frame_arrays_and_lines(void)
{
	/* innermost first, offsets merged away; weights in ns */
	char *s = svg("{\"stacks\":[{\"total_ns\":300,\"frames\":[\"f+0x1a\",\"g+0x2\"]},"
		      "{\"total_ns\":100,\"frames\":[\"f+0x30\",\"g+0x9\"]},"
		      "{\"total_ns\":100,\"user\":[\"u+0x1\"],\"kernel\":[\"k+0x4 [mod]\"]}]}");
	double x, w;
	CHECK(s && !frame(s, "g (400 ns, 80.00%)", &x, &w));
	CHECK(s && !frame(s, "f (400 ns, 80.00%)", &x, &w));
	CHECK(s && !frame(s, "u (100 ns, 20.00%)", &x, &w));
	CHECK(s && !frame(s, "k [mod] (100 ns, 20.00%)", &x, &w));   /* user frames first, then kernel */
	free(s);
	s = svg("{\"folded\":\"x;y 3\\nx;z 1\\nbroken line\\n\"}");
	CHECK(s && !frame(s, "y (3 samples, 75.00%)", &x, &w) && w == 885);
	CHECK(s && !frame(s, "z (1 sample, 25.00%)", &x, &w));
	free(s);
	s = svg("{\"folded\":[\"p;q 2\",\"p 2\"]}");
	CHECK(s && !frame(s, "p (4 samples, 100.00%)", &x, &w) && !frame(s, "q (2 samples, 50.00%)", &x, &w));
	free(s);
	/* a stack without frames (its stacks could not be read) is one frame, not dropped */
	s = svg("{\"stacks\":[{\"count\":3,\"frames\":[]},{\"count\":1,\"user\":[],\"kernel\":[]},"
		"{\"count\":4,\"frames\":[\"f+0x1\"]}]}");
	CHECK(s && !frame(s, "[no frames] (4 samples, 50.00%)", &x, &w) && w == 590);
	CHECK(s && !frame(s, "f (4 samples, 50.00%)", &x, &w) && w == 590);
	free(s);
}

static void escaping(void)
{
	char *s = svg("{\"stacks\":[{\"count\":1,\"folded\":\"a<b>&\\\"c\"}]}");
	CHECK(s && strstr(s, "<title>a&lt;b&gt;&amp;&quot;c (1 sample") != NULL);
	CHECK(s && !strstr(s, "a<b>"));
	free(s);
}

/* What cannot be drawn is counted in the subtitle, never dropped silently. */
static void left_out(void)
{
	char *s = svg("{\"truncated\":true,\"samples_counted\":100000,\"stacks\":[{\"count\":99000,\"folded\":\"a\"},"
		      "{\"count\":1,\"folded\":\"b;c\"}]}");
	CHECK(s && strstr(s, "99001 samples in 2 stacks; only the 2 largest stacks were returned: 999 samples are not drawn"));
	CHECK(s && strstr(s, "; 2 frames narrower than 0.1 px not drawn</text>"));   /* b and its child c */
	CHECK(s && !strstr(s, "<title>c ("));
	free(s);
	/* a stack deeper than DRAW_PATH_MAX frames */
	size_t cap = 64 + 2 * (DRAW_PATH_MAX + 10) + 64;
	char *js = malloc(cap), *p = js;
	p += sprintf(p, "{\"stacks\":[{\"count\":1,\"folded\":\"");
	for (int i = 0; i < DRAW_PATH_MAX + 10; i++)
		p += sprintf(p, "%sx", i ? ";" : "");
	strcpy(p, "\"}]}");
	s = svg(js);
	CHECK(s && strstr(s, "; 10 frames past 131072 per graph or 1024 per stack not drawn</text>"));
	free(s);
	free(js);
	/* a frame name over DRAW_NAME_BYTES is cut and marked, in a frames array as in a folded string */
	char *name = malloc(DRAW_NAME_BYTES + 200), *want = malloc(DRAW_NAME_BYTES + 40);
	memset(name, 'n', DRAW_NAME_BYTES + 100);
	name[DRAW_NAME_BYTES + 100] = 0;
	js = malloc(2 * DRAW_NAME_BYTES + 400);
	snprintf(want, DRAW_NAME_BYTES + 40, "<title>%.*s.. (2 samples", DRAW_NAME_BYTES, name);
	sprintf(js, "{\"stacks\":[{\"count\":1,\"frames\":[\"%s+0x1\"]},{\"count\":1,\"folded\":\"%s\"}]}", name, name);
	s = svg(js);
	CHECK(s && strstr(s, want) && count(s, "<g class") == 2);   /* both cut alike: one frame */
	free(s);
	free(js);
	free(name);
	free(want);
	s = svg("{\"stacks\":[]}");
	CHECK(s && strstr(s, "0 samples in 0 stacks; no stacks: nothing was counted</text>"));
	CHECK(s && !strstr(s, "<g class"));
	free(s);
}

static void histograms(void)
{
	char *s = hist("{\"syscall\":\"read\",\"count\":10,\"avg_ns\":700,\"max_ns\":3000,\"p50_ns\":1024,\"p90_ns\":3000,"
		       "\"p99_ns\":3000,\"buckets\":[{\"from_ns\":256,\"to_ns\":512,\"count\":2},"
		       "{\"from_ns\":512,\"to_ns\":1024,\"count\":4},{\"from_ns\":2048,\"to_ns\":4096,\"count\":4}]}");
	const char *want =
		"read: count 10, avg 700 ns, max 3000 ns, p50 <= 1024 ns, p90 <= 3000 ns, p99 <= 3000 ns\n"
		"                   nsecs : count    distribution\n"
		"       256 -> 511        : 2        |********************                    |\n"
		"       512 -> 1023       : 4        |****************************************| p50\n"
		"      1024 -> 2047       : 0        |                                        |\n"
		"      2048 -> 4095       : 4        |****************************************| p90 p99\n\n";
	CHECK_STR(s, want);
	free(s);
	s = hist("{\"op\":\"write\",\"disk\":\"vda\",\"count\":0,\"buckets\":[]}");
	CHECK_STR(s, "vda write: count 0\n  (no events)\n\n");
	free(s);
	s = hist("{\"pid\":7,\"comm\":\"x\",\"buckets\":[{\"from_ns\":0,\"to_ns\":2,\"count\":1}]}");
	CHECK(s && !strncmp(s, "x pid 7: count 1\n", 17) && strstr(s, "         0 -> 1          : 1        |****") && strstr(s, "| p50 p90 p99\n"));
	free(s);
	CHECK(!parse("{\"buckets\":[]}") && draw__is_hist(&d, 0));
	CHECK(!parse("{\"buckets\":{}}") && !draw__is_hist(&d, 0));
	CHECK(!parse("[]") && !draw__is_hist(&d, 0));
}

int main(void)
{
	TEST(folded_stacks);
	TEST(frame_arrays_and_lines);
	TEST(escaping);
	TEST(left_out);
	TEST(histograms);
	return UNIT_DONE();
}
