// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY: the tests of the host VSP's Blob service (blob_service.c,
 * http.c, json.c, crc64.c). One line per case and a total, as the kernel's
 * selftests print them.
 *
 *   blob_test [--endpoint URL] [--node DIR] [--only SUBSTRING]
 *   blob_test --bench MIB --endpoint URL
 *
 * Without an endpoint ($AZ_BLOB_ENDPOINT, e.g. a local Azurite) the cases
 * that need a real Blob service are skipped; with one, data that went
 * through the service is checked with the Azure SDK (DIR/sdk.js, node) and
 * the reverse. blob_check.sh starts a pinned Azurite and runs all of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../blob_service.h"
#include "../crc64.h"
#include "../json.h"
#include "blob_client.h"
#include "blob_fakesrv.h"

#define MIB		(1024UL * 1024UL)
#define TIMEOUT_MS	60000U	/* for requests that must not hang the test */

static const char *endpoint;
static const char *node_dir = "node";
static char container[64];
static struct az_host_service svc;	/* the endpoint's */
static char why[512];
static int n_pass, n_fail, n_skip, n_case;

/* Record why the case fails (first reason wins) and return -1. */
__attribute__((format(printf, 2, 3)))
static int failf(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (why[0])
		return -1;
	n = snprintf(why, sizeof(why), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(why + n, sizeof(why) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

#define CHECK(cond) do {						\
	if (!(cond))							\
		return failf(__LINE__, "%s", #cond);			\
} while (0)
#define CHECKF(cond, ...) do {						\
	if (!(cond))							\
		return failf(__LINE__, __VA_ARGS__);			\
} while (0)
/* A host status, with its name in the message. */
#define CHECK_ST(got, want) do {					\
	uint32_t g_ = (got), w_ = (want);				\
	if (g_ != w_)							\
		return failf(__LINE__, "status %#x, want %#x", g_, w_);	\
} while (0)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A case may take this long (the 33 MiB round trips under ASan). */
#define CASE_TIMEOUT_S	600

/*
 * Each case runs in a child process with its own service instance: a case
 * that fails half-way (leaving threads, sockets, memory behind) or crashes
 * cannot disturb the next, and LeakSanitizer checks each passing case
 * alone at its exit. A failing case leaves with _exit(), without the leak
 * check: what it left behind is expected.
 */
static void run_case(const char *name, int (*fn)(void), bool needs_service,
		     const char *only)
{
	uint64_t t0;
	int pfd[2], status = 0;
	pid_t pid;
	size_t n = 0;

	if (only && !strstr(name, only))
		return;
	n_case++;
	if (needs_service && !endpoint) {
		printf("ok %d %s # SKIP no Blob endpoint\n", n_case, name);
		n_skip++;
		fflush(stdout);
		return;
	}
	why[0] = '\0';
	t0 = now_ms();
	fflush(stdout);
	if (pipe(pfd))
		abort();
	pid = fork();
	if (pid == 0) {
		int rc;

		close(pfd[0]);
		if (endpoint && az_blob_service_init(&svc, endpoint, 0))
			_exit(3);
		alarm(CASE_TIMEOUT_S);
		rc = fn();
		if (write(pfd[1], why, strlen(why)) < 0)
			_exit(4);
		close(pfd[1]);
		if (rc)
			_exit(1);
		if (endpoint)
			az_blob_service_fini(&svc);
		exit(0);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t k = read(pfd[0], why + n, sizeof(why) - 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
	}
	why[n] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d %s (%llu ms)\n", n_case, name,
		       (unsigned long long)(now_ms() - t0));
		n_pass++;
	} else {
		if (!why[0]) {
			if (WIFSIGNALED(status))
				snprintf(why, sizeof(why), "killed by signal %d%s",
					 WTERMSIG(status),
					 WTERMSIG(status) == SIGALRM ?
					 " (timeout)" : "");
			else
				snprintf(why, sizeof(why),
					 "exit %d (a sanitizer report above?)",
					 WEXITSTATUS(status));
		}
		printf("not ok %d %s: %s\n", n_case, name, why);
		n_fail++;
	}
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* CRC-64 */

static int t_crc64(void)
{
	static const char check[] = "123456789";
	unsigned char le[8], b64[16];
	uint64_t c = az_crc64(0, check, 9);
	unsigned char *big;
	uint64_t whole, parts = 0;

	CHECKF(c == AZ_CRC64_CHECK, "crc %#llx", (unsigned long long)c);
	CHECK(az_crc64(0, "", 0) == 0);
	/* Chained over every split point gives the same. */
	for (int i = 0; i <= 9; i++)
		CHECK(az_crc64(az_crc64(0, check, (size_t)i), check + i,
			       (size_t)(9 - i)) == AZ_CRC64_CHECK);
	/* Azure's x-ms-content-crc64 form: 8 bytes LE, base64. */
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(c >> (8 * i));
	{
		struct az_jw w;

		az_jw_init(&w, 64);
		az_jw_base64(&w, le, 8);
		CHECK(!w.err && w.len == 14);
		memcpy(b64, w.buf + 1, 12);
		b64[12] = 0;
		az_jw_free(&w);
	}
	CHECKF(!strcmp((char *)b64, "iJh5CoYUi64="), "base64 %s", b64);
	/* Slicing-by-8 agrees with byte-at-a-time over odd alignments. */
	big = malloc(100003);
	bc_random(big, 100003, 5);
	whole = az_crc64(0, big + 3, 100000);
	for (size_t off = 3; off < 100003; off += 1 + off % 7) {
		size_t n = 1 + off % 7;

		if (off + n > 100003)
			n = 100003 - off;
		parts = az_crc64(parts, big + off, n);
	}
	free(big);
	CHECK(whole == parts);
	return 0;
}

/* ------------------------------------------------------------------ */
/* JSON */

static const struct az_json_limits lim_default = {
	.max_depth = 8, .max_values = 1000, .max_string = 4096,
};

static int parses(const char *s, size_t len, const struct az_json_limits *l)
{
	struct az_json_doc d;
	int rc = az_json_parse(s, len, l ? l : &lim_default, &d);

	az_json_free(&d);
	return rc;
}

#define PARSES(s) parses((s), sizeof(s) - 1, NULL)

static int t_json_valid(void)
{
	static const char *const ok[] = {
		"{}", "[]", "0", "-0", "1.5e10", "-1.25E-3", "1E+2", "true",
		"false", "null", "\"\"", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n",
		"{\"a\":{\"b\":[true,false,null,\"x\",0.5]}}",
		"[[],{},[[]]]", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
		"123456789012345678901234567890",
	};
	struct az_json_doc d;
	const struct az_json *m;
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		CHECKF(parses(ok[i], strlen(ok[i]), NULL) == 0, "refused %s",
		       ok[i]);
	CHECK(az_json_parse("{\"a\":[1,\"two\",{\"c\":18446744073709551615}]}",
			    42, &lim_default, &d) == 0);
	m = az_json_get(d.root, "a");
	CHECK(m && m->type == AZ_JSON_ARRAY && m->len == 3);
	CHECK(m->child->type == AZ_JSON_NUMBER && !strcmp(m->child->str, "1"));
	CHECK(m->child->next->type == AZ_JSON_STRING &&
	      m->child->next->len == 3);
	CHECK(!az_json_u64(az_json_get(m->child->next->next, "c"), &v) &&
	      v == UINT64_MAX);
	CHECK(!az_json_get(d.root, "b"));
	az_json_free(&d);
	return 0;
}

static int t_json_malformed(void)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[", "[1,]", "{\"a\":1,}", "{,}", "[,1]",
		"{\"a\" 1}", "{a:1}", "{'a':1}", "01", "1.", ".5", "-", "+1",
		"1e", "1e+", "0x10", "NaN", "Infinity", "tru", "nul", "True",
		"[1 2]", "{\"a\":1 \"b\":2}", "\"abc", "\"\\x\"", "\"\\u12\"",
		"\"\\u12g4\"", "\"a\tb\"", "\"a\nb\"", "/* c */ 1", "1 // c",
		"[1] [2]", "{} x", "\xef\xbb\xbf{}", "\"\xff\"", "\"\xc3\"",
		"\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"", "\"\xf8\x88\x80\x80\x80\"",
		"\"\x80\"", "[\"a\"\x00]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECKF(parses(bad[i], strlen(bad[i]), NULL) != 0,
		       "accepted case %zu", i);
	/* An embedded NUL outside a string. */
	CHECK(PARSES("[1,\0 2]") != 0);
	/* Inside a string, a raw NUL is a control character. */
	CHECK(PARSES("\"a\0b\"") != 0);
	return 0;
}

static int t_json_limits(void)
{
	struct az_json_limits l = { .max_depth = 3, .max_values = 10,
				    .max_string = 8 };
	struct az_json_doc d;
	char *deep;

	CHECK(parses("[[[1]]]", 7, &l) == 0);
	CHECK(az_json_parse("[[[[1]]]]", 9, &l, &d) != 0 && d.limit);
	az_json_free(&d);
	CHECK(parses("[1,2,3,4,5,6,7,8,9]", 19, &l) == 0);	/* 10 values */
	CHECK(az_json_parse("[1,2,3,4,5,6,7,8,9,10]", 22, &l, &d) != 0 &&
	      d.limit);
	az_json_free(&d);
	CHECK(parses("\"12345678\"", 10, &l) == 0);
	CHECK(az_json_parse("\"123456789\"", 11, &l, &d) != 0 && d.limit);
	az_json_free(&d);
	/* Escapes count decoded: 8 bytes from 48 input bytes is fine. */
	CHECK(parses("\"\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\"",
		     50, &l) == 0);
	CHECK(az_json_parse("{\"123456789\":1}", 15, &l, &d) != 0 && d.limit);
	az_json_free(&d);
	/* A syntax error is not a limit. */
	CHECK(az_json_parse("[1,]", 4, &l, &d) != 0 && !d.limit);
	az_json_free(&d);
	/* A million brackets: refused at the depth, no deep recursion. */
	deep = malloc(1000000);
	memset(deep, '[', 1000000);
	l.max_depth = 64;
	l.max_values = 1U << 30;
	CHECK(az_json_parse(deep, 1000000, &l, &d) != 0 && d.limit);
	az_json_free(&d);
	free(deep);
	return 0;
}

static int t_json_escapes(void)
{
	static const char in[] =
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u0041\\u00e9\\u20AC\","
		" \"\\ud83d\\ude00\", \"a\\u0000b\", \"\xc3\xa9\"]";
	static const char s0[] = "\"\\/\b\f\n\r\t";
	static const char s1[] = "A\xc3\xa9\xe2\x82\xac";
	static const char s2[] = "\xf0\x9f\x98\x80";
	struct az_json_doc d;
	const struct az_json *v;

	CHECK(az_json_parse(in, sizeof(in) - 1, &lim_default, &d) == 0);
	v = d.root->child;
	CHECK(v->len == 8 && !memcmp(v->str, s0, 8));
	v = v->next;
	CHECK(v->len == 6 && !memcmp(v->str, s1, 6));
	v = v->next;
	CHECK(v->len == 4 && !memcmp(v->str, s2, 4));
	v = v->next;
	CHECK(v->len == 3 && !memcmp(v->str, "a\0b", 3));
	v = v->next;
	CHECK(v->len == 2 && !memcmp(v->str, "\xc3\xa9", 2));
	az_json_free(&d);
	/* Surrogates: lone high, lone low, high + non-low, reversed. */
	CHECK(PARSES("\"\\ud83d\"") != 0);
	CHECK(PARSES("\"\\ude00\"") != 0);
	CHECK(PARSES("\"\\ud83d\\u0041\"") != 0);
	CHECK(PARSES("\"\\ude00\\ud83d\"") != 0);
	CHECK(PARSES("\"\\ud83dx\"") != 0);
	CHECK(PARSES("\"\\uDBFF\\uDFFF\"") == 0);	/* U+10FFFF */
	return 0;
}

static int t_json_duplicates(void)
{
	CHECK(PARSES("{\"a\":1,\"a\":2}") != 0);
	CHECK(PARSES("{\"a\":1,\"b\":2,\"a\":3}") != 0);
	/* The same name decoded: an escape does not hide a duplicate. */
	CHECK(PARSES("{\"a\":1,\"\\u0061\":2}") != 0);
	CHECK(PARSES("{\"a\":1,\"b\":{\"a\":2}}") == 0);
	CHECK(PARSES("{\"a\":1,\"A\":2}") == 0);
	CHECK(PARSES("{\"a\":1,\"a\\u0000\":2}") == 0);
	return 0;
}

static int t_json_writer(void)
{
	static const char *const vec[][2] = {
		{ "", "\"\"" }, { "f", "\"Zg==\"" }, { "fo", "\"Zm8=\"" },
		{ "foo", "\"Zm9v\"" }, { "foob", "\"Zm9vYg==\"" },
		{ "fooba", "\"Zm9vYmE=\"" }, { "foobar", "\"Zm9vYmFy\"" },
	};
	struct az_jw w;
	struct az_json_doc d;

	for (size_t i = 0; i < sizeof(vec) / sizeof(*vec); i++) {
		az_jw_init(&w, 100);
		az_jw_base64(&w, vec[i][0], strlen(vec[i][0]));
		CHECK(!w.err && w.len == strlen(vec[i][1]) &&
		      !memcmp(w.buf, vec[i][1], w.len));
		az_jw_free(&w);
	}
	az_jw_init(&w, 1000);
	az_jw_begin_object(&w);
	az_jw_key(&w, "s");
	az_jw_latin1(&w, "a\"b\\c\x01\x7f\xe9\t", 9);
	az_jw_key(&w, "n");
	az_jw_u64(&w, 18446744073709551615ULL);
	az_jw_key(&w, "a");
	az_jw_begin_array(&w);
	az_jw_bool(&w, true);
	az_jw_null(&w);
	az_jw_begin_array(&w);
	az_jw_end_array(&w);
	az_jw_end_array(&w);
	az_jw_end_object(&w);
	CHECK(!w.err);
	CHECKF(w.len == 83 && !memcmp(w.buf,
	       "{\"s\":\"a\\\"b\\\\c\\u0001\\u007f\\u00e9\\u0009\","
	       "\"n\":18446744073709551615,\"a\":[true,null,[]]}", 83),
	       "wrote %.*s", (int)w.len, w.buf);
	CHECK(az_json_parse(w.buf, w.len, &lim_default, &d) == 0);
	CHECK(!memcmp(az_json_get(d.root, "s")->str,
		      "a\"b\\c\x01\x7f\xc3\xa9\t", 10));
	az_json_free(&d);
	az_jw_free(&w);
	/* Overflow is sticky and reported. */
	az_jw_init(&w, 5);
	az_jw_latin1(&w, "abcdef", 6);
	CHECK(w.err);
	az_jw_free(&w);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Framing: requests refused before anything goes out. */

static struct az_host_service svc_dead;	/* nobody listens there */

/* Run raw request bytes; the status; nothing may be written back. */
static uint32_t raw_status(const unsigned char *b, size_t len,
			   size_t data_valid, size_t resp_len,
			   uint32_t *response_len)
{
	struct tbuf resp, data;
	struct bc_res r;

	tb_new(&resp, resp_len, TB_TINY, 1);
	tb_new(&data, 4096, TB_TINY, 2);
	bc_exec(&svc_dead, b, len, &data, data_valid, &resp, 1000, NULL, &r);
	*response_len = r.res.response_len;
	bc_res_free(&r);
	tb_free(&resp);
	tb_free(&data);
	return r.res.status;
}

static uint32_t json_status(unsigned int method, const char *json,
			    size_t data_valid)
{
	size_t len;
	unsigned char *b = bc_frame_json(method, json, strlen(json), &len);
	uint32_t rl, st = raw_status(b, len, data_valid, 4096, &rl);

	free(b);
	return rl ? 0xdeadU : st;
}

static int t_frame_header(void)
{
	static const char json[] = "{\"path\":\"/a/b\"}";
	size_t len;
	unsigned char *b = bc_frame_json(AZ_BLOB_GET, json, strlen(json), &len);
	unsigned char *c = malloc(len);
	uint32_t rl;

	/* Sanity: a good frame reaches the (dead) endpoint. */
	CHECK_ST(raw_status(b, len, 0, 4096, &rl), AZ_HOST_CONNECTION_REFUSED);
	CHECK(rl == 0);
	/* Bad magic, however the core dispatched it. */
	memcpy(c, b, len);
	c[7] = '2';
	bc_fix_crc(c, len);
	CHECK_ST(raw_status(c, len, 0, 4096, &rl), AZ_HOST_INVALID_DATA);
	/* Bad format. */
	memcpy(c, b, len);
	c[AZ_BLOB_REQ_FORMAT_OFF] = 2;
	bc_fix_crc(c, len);
	CHECK_ST(raw_status(c, len, 0, 4096, &rl), AZ_HOST_INVALID_DATA);
	/* Reserved field not zero. */
	memcpy(c, b, len);
	c[AZ_BLOB_REQ_RSVD_OFF + 7] = 1;
	bc_fix_crc(c, len);
	CHECK_ST(raw_status(c, len, 0, 4096, &rl), AZ_HOST_INVALID_DATA);
	/* Unknown methods. */
	for (unsigned int m = 0; m < 9; m += 7) {
		memcpy(c, b, len);
		c[AZ_BLOB_REQ_METHOD_OFF] = (unsigned char)m;
		bc_fix_crc(c, len);
		CHECK_ST(raw_status(c, len, 0, 4096, &rl),
			 AZ_HOST_INVALID_ARG);
	}
	/* Response buffer smaller than its header. */
	CHECK_ST(raw_status(b, len, 0, 31, &rl), AZ_HOST_INVALID_ARG);
	free(b);
	free(c);
	return 0;
}

static int t_frame_crc(void)
{
	static const char json[] = "{\"path\":\"/a/b\",\"query\":\"x=1\"}";
	size_t len;
	unsigned char *b = bc_frame_json(AZ_BLOB_GET, json, strlen(json), &len);
	uint32_t rl;

	/* Every single-bit flip anywhere is caught (the CRC's own bits too). */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1 << bit);
			CHECKF(raw_status(b, len, 0, 4096, &rl) ==
			       AZ_HOST_INVALID_DATA, "flip %zu.%d", i, bit);
			b[i] ^= (unsigned char)(1 << bit);
		}
	}
	/* A CRC of zero is not "no CRC". */
	memset(b + AZ_BLOB_REQ_CRC_OFF, 0, 8);
	CHECK_ST(raw_status(b, len, 0, 4096, &rl), AZ_HOST_INVALID_DATA);
	free(b);
	return 0;
}

static int t_frame_truncated(void)
{
	static const char json[] = "{\"path\":\"/a/b\",\"headers\":[[\"x\",\"y\"]]}";
	size_t len;
	unsigned char *b = bc_frame_json(AZ_BLOB_GET, json, strlen(json), &len);
	uint32_t rl;

	/* Shorter than the header. */
	for (size_t n = 1; n < AZ_BLOB_HDR_LEN; n++)
		CHECK_ST(raw_status(b, n, 0, 4096, &rl), AZ_HOST_INVALID_DATA);
	/* Header and part of the JSON, the CRC made right: still refused. */
	for (size_t n = AZ_BLOB_HDR_LEN; n < len; n++) {
		unsigned char *c = malloc(n);

		memcpy(c, b, n);
		bc_fix_crc(c, n);
		CHECKF(raw_status(c, n, 0, 4096, &rl) == AZ_HOST_INVALID_DATA,
		       "cut at %zu", n);
		free(c);
	}
	/* Trailing whitespace is JSON; trailing NULs are not. */
	{
		unsigned char *c = malloc(len + 3);

		memcpy(c, b, len);
		memcpy(c + len, " \r\n", 3);
		bc_fix_crc(c, len + 3);
		CHECK_ST(raw_status(c, len + 3, 0, 4096, &rl),
			 AZ_HOST_CONNECTION_REFUSED);
		memset(c + len, 0, 3);
		bc_fix_crc(c, len + 3);
		CHECK_ST(raw_status(c, len + 3, 0, 4096, &rl),
			 AZ_HOST_INVALID_DATA);
		free(c);
	}
	free(b);
	return 0;
}

static int t_frame_schema(void)
{
	static const char *const bad[] = {
		"[]", "\"/a\"", "{}", "{\"query\":\"a=1\"}",
		"{\"path\":1}", "{\"path\":\"/a\",\"query\":1}",
		"{\"path\":\"/a\",\"headers\":{}}",
		"{\"path\":\"/a\",\"headers\":[\"x\"]}",
		"{\"path\":\"/a\",\"headers\":[[\"x\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"x\",\"y\",\"z\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"x\",1]]}",
		"{\"path\":\"/a\",\"headers\":[[1,\"x\"]]}",
		"{\"path\":\"/a\",\"method\":\"GET\"}",
		"{\"path\":\"/a\",\"path\":\"/b\"}",
		"{\"path\":\"/a\",\"Path\":\"/b\"}",
		"{\"path\":\"/a\",\"headers\":[[\"x\",\"y\"],]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECKF(json_status(AZ_BLOB_GET, bad[i], 0) ==
		       AZ_HOST_INVALID_DATA, "case %zu: %s", i, bad[i]);
	/* The minimal valid forms reach the endpoint. */
	CHECK_ST(json_status(AZ_BLOB_GET, "{\"path\":\"/a\"}", 0),
		 AZ_HOST_CONNECTION_REFUSED);
	CHECK_ST(json_status(AZ_BLOB_GET,
			     "{\"headers\":[],\"query\":\"\",\"path\":\"/\"}",
			     0), AZ_HOST_CONNECTION_REFUSED);
	return 0;
}

static int t_frame_refused(void)
{
	static const char *const bad[] = {
		/* paths */
		"{\"path\":\"\"}", "{\"path\":\"a/b\"}", "{\"path\":\"/a b\"}",
		"{\"path\":\"/a?b\"}", "{\"path\":\"/a#b\"}",
		"{\"path\":\"/a%2\"}", "{\"path\":\"/a%zz\"}",
		"{\"path\":\"/a/../b\"}", "{\"path\":\"/a/./b\"}",
		"{\"path\":\"/..\"}", "{\"path\":\"/a\\u0000\"}",
		"{\"path\":\"/\\u00e9\"}", "{\"path\":\"/a\\r\\nX: y\"}",
		/* queries */
		"{\"path\":\"/a\",\"query\":\"a b\"}",
		"{\"path\":\"/a\",\"query\":\"a#b\"}",
		"{\"path\":\"/a\",\"query\":\"a=%g0\"}",
		"{\"path\":\"/a\",\"query\":\"a\\nb\"}",
		/* header names */
		"{\"path\":\"/a\",\"headers\":[[\"\",\"v\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a b\",\"v\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a:\",\"v\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a\\r\\nb\",\"v\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"Content-Length\",\"5\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"content-length\",\"5\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"Transfer-Encoding\",\"chunked\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"HOST\",\"evil\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"Connection\",\"close\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"Expect\",\"100-continue\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"Upgrade\",\"h2c\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"te\",\"trailers\"]]}",
		/* header values */
		"{\"path\":\"/a\",\"headers\":[[\"a\",\"x\\r\\nB: c\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a\",\"x\\ny\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a\",\"x\\u0000\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a\",\"x\\u007f\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a\",\" x\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a\",\"x\\t\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a\",\"\\u0100\"]]}",
		"{\"path\":\"/a\",\"headers\":[[\"a\",\"\xe2\x82\xac\"]]}",
	};
	char *big;
	size_t o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECKF(json_status(AZ_BLOB_GET, bad[i], 0) ==
		       AZ_HOST_INVALID_ARG, "case %zu: %s", i, bad[i]);
	/* Allowed: Latin-1 and tab inside, an empty value, odd tchars. */
	CHECK_ST(json_status(AZ_BLOB_GET,
			     "{\"path\":\"/a\",\"headers\":[[\"x-ms-meta-a\","
			     "\"\\u00e9 a\\tb\"],[\"e\",\"\"],[\"!#$%&'*+-.^_`|~\",\"v\"]]}",
			     0), AZ_HOST_CONNECTION_REFUSED);
	/* A body only with PUT, POST and PATCH. */
	CHECK_ST(json_status(AZ_BLOB_GET, "{\"path\":\"/a\"}", 1),
		 AZ_HOST_INVALID_ARG);
	CHECK_ST(json_status(AZ_BLOB_HEAD, "{\"path\":\"/a\"}", 1),
		 AZ_HOST_INVALID_ARG);
	CHECK_ST(json_status(AZ_BLOB_DELETE, "{\"path\":\"/a\"}", 1),
		 AZ_HOST_INVALID_ARG);
	CHECK_ST(json_status(AZ_BLOB_PUT, "{\"path\":\"/a\"}", 1),
		 AZ_HOST_CONNECTION_REFUSED);
	/* Limits: 128 header fields pass, 129 do not. */
	big = malloc(1 << 20);
	for (int n = 128; n <= 129; n++) {
		o = (size_t)sprintf(big, "{\"path\":\"/a\",\"headers\":[");
		for (int i = 0; i < n; i++)
			o += (size_t)sprintf(big + o, "%s[\"h%d\",\"v\"]",
					     i ? "," : "", i);
		sprintf(big + o, "]}");
		CHECK_ST(json_status(AZ_BLOB_GET, big, 0),
			 n == 128 ? AZ_HOST_CONNECTION_REFUSED :
				    AZ_HOST_INVALID_ARG);
	}
	/* A path of 4096 bytes passes, 4097 not. */
	for (int n = 4096; n <= 4097; n++) {
		o = (size_t)sprintf(big, "{\"path\":\"/");
		memset(big + o, 'p', (size_t)n - 1);
		o += (size_t)n - 1;
		sprintf(big + o, "\"}");
		CHECK_ST(json_status(AZ_BLOB_GET, big, 0),
			 n == 4096 ? AZ_HOST_CONNECTION_REFUSED :
				     AZ_HOST_INVALID_ARG);
	}
	/* A value of 8192 bytes passes, 8193 not. */
	for (int n = 8192; n <= 8193; n++) {
		o = (size_t)sprintf(big, "{\"path\":\"/a\",\"headers\":[[\"v\",\"");
		memset(big + o, 'v', (size_t)n);
		o += (size_t)n;
		sprintf(big + o, "\"]]}");
		CHECK_ST(json_status(AZ_BLOB_GET, big, 0),
			 n == 8192 ? AZ_HOST_CONNECTION_REFUSED :
				     AZ_HOST_INVALID_ARG);
	}
	/* Counted in bytes sent: 8192 x U+00E9 (16384 bytes of UTF-8). */
	for (int n = 8192; n <= 8193; n++) {
		o = (size_t)sprintf(big, "{\"path\":\"/a\",\"headers\":[[\"v\",\"");
		for (int i = 0; i < n; i++) {
			big[o++] = '\xc3';
			big[o++] = '\xa9';
		}
		sprintf(big + o, "\"]]}");
		CHECK_ST(json_status(AZ_BLOB_GET, big, 0),
			 n == 8192 ? AZ_HOST_CONNECTION_REFUSED :
				     AZ_HOST_INVALID_ARG);
	}
	/* JSON of more than 64 KiB. */
	o = (size_t)sprintf(big, "{\"path\":\"/a\"");
	memset(big + o, ' ', 70000);
	sprintf(big + o + 70000, "}");
	CHECK_ST(json_status(AZ_BLOB_GET, big, 0), AZ_HOST_INVALID_ARG);
	/* Nested deeper than the schema: a limit. */
	CHECK_ST(json_status(AZ_BLOB_GET,
			     "{\"path\":\"/a\",\"headers\":[[[\"x\"],\"y\"]]}",
			     0), AZ_HOST_INVALID_ARG);
	free(big);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The HTTP client against a scripted server. */

struct fake_script {
	const char *const *answers;	/* one per request, NULL ends */
	bool close_after_each;
};

/* Serve requests on one connection with the scripted answers in turn. */
static void h_script(struct fake_srv *s, int fd, int n)
{
	const struct fake_script *sc = s->arg;
	char head[8192];
	int i = atomic_load(&s->requests);

	(void)n;
	while (sc->answers[i]) {
		if (fake_read_request(s, fd, head, sizeof(head)))
			return;
		if (fake_write(fd, sc->answers[i], 0))
			return;
		i++;
		if (sc->close_after_each)
			return;
	}
}

static int svc_for(struct az_host_service *s, const char *url)
{
	return az_blob_service_init(s, url, 0);
}

/* A GET of /a/b through @s into @data (data_len @dlen, TB_TINY). */
static void simple_get(struct az_host_service *s, struct tbuf *data,
		       struct bc_res *r, uint32_t timeout_ms,
		       const atomic_int *cancel)
{
	static const char json[] = "{\"path\":\"/a/b\",\"headers\":[[\"x-test\",\"1\"]]}";
	struct tbuf resp;
	size_t len;
	unsigned char *b = bc_frame_json(AZ_BLOB_GET, json, strlen(json), &len);

	tb_new(&resp, 8192, TB_TINY, 3);
	bc_exec(s, b, len, data, 0, &resp, timeout_ms, cancel, r);
	tb_free(&resp);
	free(b);
}

static char *chunked_body(const unsigned char *body, size_t len,
			  size_t chunk, const char *head)
{
	size_t cap = strlen(head) + len * 2 + 4096 + len / chunk * 40;
	char *out = malloc(cap);
	size_t o = (size_t)sprintf(out, "%s", head);

	for (size_t off = 0, i = 0; off < len; off += chunk, i++) {
		size_t k = len - off < chunk ? len - off : chunk;

		o += (size_t)sprintf(out + o, i % 2 ? "%zX;ext=\"v\"\r\n" :
						      "%zx\r\n", k);
		memcpy(out + o, body + off, k);
		o += k;
		memcpy(out + o, "\r\n", 2);
		o += 2;
	}
	o += (size_t)sprintf(out + o, "0\r\nX-Trailer: t\r\n\r\n");
	out[o] = '\0';
	return out;
}

static int t_http_chunked(void)
{
	unsigned char body[5000], got[5000];
	char *a1, *a2;
	const char *answers[3];
	struct fake_script sc = { .answers = answers };
	struct fake_srv fs;
	struct az_host_service s;
	struct tbuf data;
	struct bc_res r;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(1 + i % 251);	/* no NUL: strlen */
	a1 = chunked_body(body, sizeof(body), 777,
			  "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
	a2 = chunked_body(body, 100, 33,
			  "HTTP/1.1 201 Created\r\ntransfer-encoding: CHUNKED\r\n\r\n");
	answers[0] = a1;
	answers[1] = a2;
	answers[2] = NULL;
	CHECK(fake_start(&fs, h_script, &sc) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 10000, TB_TINY, 4);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed, "%s", r.error);
	CHECK(r.http == 200 && r.body_bytes == 5000 && !r.truncated);
	CHECK(r.has_length && r.content_length == 5000);
	CHECK(bc_res_header(&r, "X-A") && !bc_res_header(&r, "Transfer-Encoding"));
	tb_get(&data, got, sizeof(got));
	CHECK(!memcmp(got, body, sizeof(body)));
	bc_res_free(&r);
	/* Same connection again. */
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 201 && r.body_bytes == 100);
	tb_get(&data, got, 100);
	CHECK(!memcmp(got, body, 100));
	bc_res_free(&r);
	CHECK(atomic_load(&fs.accepts) == 1);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	free(a1);
	free(a2);
	return 0;
}

/*
 * A body longer than the data buffer: the first data_len bytes, truncated,
 * the length; drained (connection kept) when the rest is small, closed
 * (length unknown if chunked) when not.
 */
static int t_http_truncated(void)
{
	size_t big_len = 3 * MIB;
	unsigned char *body = malloc(big_len), got[10000];
	char *small_chunked, *big_chunked, big_cl_head[128], *big_cl;
	const char *answers[5];
	struct fake_script sc = { .answers = answers };
	struct fake_srv fs;
	struct az_host_service s;
	struct az_http_stats st;
	struct tbuf data;
	struct bc_res r;

	for (size_t i = 0; i < big_len; i++)
		body[i] = (unsigned char)(1 + i % 251);
	small_chunked = chunked_body(body, 50000, 4096,
				     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	big_chunked = chunked_body(body, big_len, 65536,
				   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	snprintf(big_cl_head, sizeof(big_cl_head),
		 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big_len);
	big_cl = malloc(strlen(big_cl_head) + big_len + 1);
	strcpy(big_cl, big_cl_head);
	memcpy(big_cl + strlen(big_cl_head), body, big_len);
	big_cl[strlen(big_cl_head) + big_len] = '\0';
	answers[0] = small_chunked;
	answers[1] = big_chunked;
	answers[2] = big_cl;
	answers[3] = small_chunked;
	answers[4] = NULL;
	CHECK(fake_start(&fs, h_script, &sc) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 10000, TB_TINY, 5);

	simple_get(&s, &data, &r, 5000, NULL);	/* drained */
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed && r.truncated && r.body_bytes == 10000,
	       "parsed %d (%s) truncated %d body %u", r.parsed, r.error,
	       r.truncated, r.body_bytes);
	CHECK(r.has_length && r.content_length == 50000);
	tb_get(&data, got, 10000);
	CHECK(!memcmp(got, body, 10000));
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECK(st.connects == 1);

	simple_get(&s, &data, &r, 5000, NULL);	/* given up: unknown */
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.truncated && r.body_bytes == 10000);
	CHECK(!r.has_length);
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECK(st.reuses == 1);

	simple_get(&s, &data, &r, 5000, NULL);	/* given up: known */
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed && r.truncated && r.body_bytes == 10000,
	       "parsed %d (%s) http %u truncated %d body %u", r.parsed,
	       r.error, r.http, r.truncated, r.body_bytes);
	CHECK(r.has_length && r.content_length == big_len);
	tb_get(&data, got, 10000);
	CHECK(!memcmp(got, body, 10000));
	bc_res_free(&r);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECKF(st.connects == 3, "connects %llu",
	       (unsigned long long)st.connects);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	free(small_chunked);
	free(big_chunked);
	free(big_cl);
	free(body);
	return 0;
}

static int t_http_framings(void)
{
	static const char *const answers[] = {
		/* interim responses before the final one */
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
		/* 204 and 304 carry no body whatever they say */
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
		/* an empty reason phrase, and none at all */
		"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		/* Latin-1 and a tab in a value; repeated fields kept in order */
		"HTTP/1.1 200 OK\r\nX-V: a\tb\xe9\r\nX-R: 1\r\nX-R: 2\r\nContent-Length: 0\r\n\r\n",
		/* a body delimited by the close: the connection ends */
		"HTTP/1.1 200 OK\r\n\r\nhello",
		NULL,
	};
	struct fake_script sc = { .answers = answers };
	struct fake_srv fs;
	struct az_host_service s;
	struct az_http_stats st;
	struct tbuf data;
	struct bc_res r;
	char got[16];
	const struct az_json *h;

	CHECK(fake_start(&fs, h_script, &sc) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 6);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 200 && r.body_bytes == 3);
	tb_get(&data, got, 3);
	CHECK(!memcmp(got, "abc", 3));
	bc_res_free(&r);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && r.http == 204 &&
	      r.body_bytes == 0 && !r.has_length);
	bc_res_free(&r);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && r.http == 304 &&
	      r.body_bytes == 0 && r.has_length && r.content_length == 99);
	bc_res_free(&r);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && !strcmp(r.reason, ""));
	bc_res_free(&r);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && !strcmp(r.reason, ""));
	bc_res_free(&r);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed);
	CHECK(!strcmp(bc_res_header(&r, "x-v"), "a\tb\xc3\xa9"));
	h = r.headers->child;
	CHECK(!strcmp(h->child->str, "X-V"));
	h = h->next;
	CHECK(!strcmp(h->child->next->str, "1"));
	h = h->next;
	CHECK(!strcmp(h->child->str, "X-R") &&
	      !strcmp(h->child->next->str, "2"));
	bc_res_free(&r);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && r.body_bytes == 5 &&
	      r.has_length && r.content_length == 5);
	tb_get(&data, got, 5);
	CHECK(!memcmp(got, "hello", 5));
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECKF(st.connects == 1 && st.reuses == 6, "connects %llu reuses %llu",
	       (unsigned long long)st.connects, (unsigned long long)st.reuses);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

/* Each answer on its own connection; each must end in ABORTED. */
static int t_http_malformed(void)
{
	static char huge[70 * 1024];
	static const char *answers[] = {
		"HTXP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n continued\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
		"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"",	/* closes without a byte */
		huge,	/* a head of more than 64 KiB */
		NULL,
	};
	struct fake_script sc = { .answers = answers, .close_after_each = true };
	struct fake_srv fs;
	struct az_host_service s;
	struct tbuf data;
	struct bc_res r;
	size_t o;

	o = (size_t)sprintf(huge, "HTTP/1.1 200 OK\r\n");
	while (o < sizeof(huge) - 100)
		o += (size_t)sprintf(huge + o, "X-Pad: %060d\r\n", 0);
	sprintf(huge + o, "\r\n");
	CHECK(fake_start(&fs, h_script, &sc) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 7);
	for (int i = 0; answers[i]; i++) {
		simple_get(&s, &data, &r, 5000, NULL);
		CHECKF(r.res.status == AZ_HOST_CONNECTION_ABORTED &&
		       r.res.response_len == 0, "answer %d: status %#x", i,
		       r.res.status);
		bc_res_free(&r);
	}
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

/* Answers, then closes the idle connection without saying so. */
static void h_close_idle(struct fake_srv *s, int fd, int n)
{
	char head[4096];

	(void)n;
	if (fake_read_request(s, fd, head, sizeof(head)))
		return;
	fake_write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
}

/* Answers with Connection: close (but leaves the socket open). */
static void h_conn_close(struct fake_srv *s, int fd, int n)
{
	char head[4096];

	(void)n;
	if (fake_read_request(s, fd, head, sizeof(head)))
		return;
	fake_write(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 0);
	usleep(100000);
}

static int t_http_keepalive_stale(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct az_http_stats st;
	struct tbuf data;
	struct bc_res r;

	CHECK(fake_start(&fs, h_close_idle, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 8);
	for (int i = 0; i < 3; i++) {
		simple_get(&s, &data, &r, 5000, NULL);
		CHECKF(r.res.status == 0 && r.parsed && r.http == 200,
		       "request %d: status %#x", i, r.res.status);
		bc_res_free(&r);
		usleep(200000);	/* the server's close arrives */
	}
	az_blob_service_stats(&s, &st);
	CHECKF(st.connects == 3 && st.stale == 2 && st.reuses == 0,
	       "connects %llu stale %llu reuses %llu",
	       (unsigned long long)st.connects, (unsigned long long)st.stale,
	       (unsigned long long)st.reuses);
	az_blob_service_fini(&s);
	fake_stop(&fs);

	CHECK(fake_start(&fs, h_conn_close, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	for (int i = 0; i < 2; i++) {
		simple_get(&s, &data, &r, 5000, NULL);
		CHECK(r.res.status == 0 && r.parsed && r.http == 200);
		bc_res_free(&r);
	}
	az_blob_service_stats(&s, &st);
	CHECK(st.connects == 2 && st.reuses == 0);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	tb_free(&data);
	return 0;
}

/* Answers the first request; reads the second and closes, unanswered. */
static void h_drop_second(struct fake_srv *s, int fd, int n)
{
	char head[4096];

	(void)n;
	if (fake_read_request(s, fd, head, sizeof(head)))
		return;
	fake_write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
	fake_read_request(s, fd, head, sizeof(head));
}

/*
 * Answers one request per connection, then looks away for 300 ms before
 * closing (so the client's end alone decides what the next send sees).
 */
static void h_serve_one(struct fake_srv *s, int fd, int n)
{
	char head[4096];

	(void)n;
	if (fake_read_request(s, fd, head, sizeof(head)))
		return;
	fake_write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
	usleep(300000);
}

/*
 * A pooled connection that fails at the first byte is replaced, once; one
 * that fails after the request went out is not (it may have taken effect).
 */
static int t_http_retry(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct az_http_stats st;
	struct tbuf data;
	struct bc_res r;

	tb_new(&data, 100, TB_TINY, 15);
	CHECK(fake_start(&fs, h_serve_one, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.http == 200);
	bc_res_free(&r);
	az_http_pool_break_idle(az_blob_service_pool(&s));
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.http == 200);
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECKF(st.retries == 1 && st.reuses == 1 && st.connects == 2,
	       "retries %llu reuses %llu connects %llu",
	       (unsigned long long)st.retries, (unsigned long long)st.reuses,
	       (unsigned long long)st.connects);
	CHECK(atomic_load(&fs.requests) == 2);
	az_blob_service_fini(&s);
	fake_stop(&fs);

	CHECK(fake_start(&fs, h_drop_second, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.http == 200);
	bc_res_free(&r);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_CONNECTION_ABORTED);
	bc_res_free(&r);
	usleep(100000);
	az_blob_service_stats(&s, &st);
	CHECK(st.retries == 0 && st.connects == 1);
	CHECK(atomic_load(&fs.requests) == 2 && atomic_load(&fs.accepts) == 1);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	tb_free(&data);
	return 0;
}

/* Reads the request's head only; answers 413 at once, reads no body. */
static void h_early_answer(struct fake_srv *s, int fd, int n)
{
	char c, head[4096];
	size_t k = 0;

	(void)n;
	while (k < sizeof(head) - 1 && recv(fd, &c, 1, 0) == 1) {
		head[k++] = c;
		if (k >= 4 && !memcmp(head + k - 4, "\r\n\r\n", 4))
			break;
	}
	fake_write(fd, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n", 0);
	while (!atomic_load(&s->stop))
		usleep(10000);
}

/* Reads the request's head and then nothing, ever. */
static void h_stop_reading(struct fake_srv *s, int fd, int n)
{
	(void)fd;
	(void)n;
	while (!atomic_load(&s->stop))
		usleep(10000);
}

static int put_through(struct az_host_service *s, size_t len,
		       uint32_t timeout_ms, struct bc_res *r)
{
	static const char json[] = "{\"path\":\"/a/b\"}";
	struct tbuf resp, data;
	size_t flen;
	unsigned char *b = bc_frame_json(AZ_BLOB_PUT, json, strlen(json), &flen);

	tb_new(&resp, 4096, TB_TINY, 9);
	tb_new(&data, len, TB_PAGES, 10);
	tb_set(&data, 'd');
	bc_exec(s, b, flen, &data, len, &resp, timeout_ms, NULL, r);
	tb_free(&resp);
	tb_free(&data);
	free(b);
	return 0;
}

static int t_http_early_answer(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct bc_res r;
	uint64_t t0;

	CHECK(fake_start(&fs, h_early_answer, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	t0 = now_ms();
	put_through(&s, 32 * MIB, 10000, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 413);
	CHECK(now_ms() - t0 < 5000);
	bc_res_free(&r);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

static int t_deadline_no_answer(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct tbuf data;
	struct bc_res r;
	uint64_t t0, el;

	/* Listening, never accepting: connect succeeds, nothing answers. */
	CHECK(fake_start(&fs, NULL, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 11);
	t0 = now_ms();
	simple_get(&s, &data, &r, 300, NULL);
	el = now_ms() - t0;
	CHECK_ST(r.res.status, AZ_HOST_TIMEOUT);
	CHECK(r.res.response_len == 0);
	CHECKF(el >= 290 && el < 2000, "%llu ms", (unsigned long long)el);
	bc_res_free(&r);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

static int t_deadline_mid_upload(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct bc_res r;
	uint64_t t0, el;

	CHECK(fake_start(&fs, h_stop_reading, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	t0 = now_ms();
	put_through(&s, 32 * MIB, 500, &r);
	el = now_ms() - t0;
	CHECK_ST(r.res.status, AZ_HOST_TIMEOUT);
	CHECKF(el >= 490 && el < 2500, "%llu ms", (unsigned long long)el);
	bc_res_free(&r);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

static atomic_int cancel_flag;

static void *set_cancel(void *arg)
{
	(void)arg;
	usleep(200000);
	atomic_store(&cancel_flag, 1);
	return NULL;
}

static int t_cancel(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct tbuf data;
	struct bc_res r;
	pthread_t th;
	uint64_t t0, el;

	CHECK(fake_start(&fs, NULL, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 12);
	atomic_store(&cancel_flag, 0);
	pthread_create(&th, NULL, set_cancel, NULL);
	t0 = now_ms();
	simple_get(&s, &data, &r, 0, &cancel_flag);	/* no deadline */
	el = now_ms() - t0;
	pthread_join(th, NULL);
	CHECK_ST(r.res.status, AZ_HOST_CANCELLED);
	CHECKF(el >= 190 && el < 1500, "%llu ms", (unsigned long long)el);
	bc_res_free(&r);
	/* Already cancelled: nothing starts. */
	simple_get(&s, &data, &r, 0, &cancel_flag);
	CHECK_ST(r.res.status, AZ_HOST_CANCELLED);
	bc_res_free(&r);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

static int t_refused(void)
{
	struct tbuf data;
	struct bc_res r;
	struct az_host_service s;
	char url[64];
	int saved;
	bool bad;

	tb_new(&data, 100, TB_TINY, 13);
	simple_get(&svc_dead, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_CONNECTION_REFUSED);
	CHECK(r.res.response_len == 0);
	bc_res_free(&r);
	tb_free(&data);
	/* Endpoints the service refuses at init (its messages hidden). */
	fflush(stderr);
	saved = dup(2);
	dup2(open("/dev/null", O_WRONLY), 2);
	bad = az_blob_service_init(&s, "https://127.0.0.1:1", 0) != 0 &&
	      az_blob_service_init(&s, "http://127.0.0.1:99999", 0) != 0 &&
	      az_blob_service_init(&s, "http://127.0.0.1:1/path", 0) != 0 &&
	      az_blob_service_init(&s, "http://", 0) != 0 &&
	      az_blob_service_init(&s, "http://[::1", 0) != 0;
	dup2(saved, 2);
	CHECK(bad);
	snprintf(url, sizeof(url), "http://[::1]:%d/", 1);
	CHECK(az_blob_service_init(&s, url, 0) == 0);
	az_blob_service_fini(&s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Against a real Blob service (Azurite), cross-checked with the SDK. */

/* Run sdk.js; its stdout (first line) in @out. The exit status. */
static int sdk(char *out, size_t max, const char *fmt, ...)
{
	char args[1024], cmd[2048];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "node %s/sdk.js %s %s", node_dir, endpoint,
		 args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, max - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void blob_path(char *out, size_t n, const char *blob)
{
	snprintf(out, n, "/%s/%s%s%s", BC_ACCOUNT, container, blob ? "/" : "",
		 blob ? blob : "");
}

/*
 * One signed request through the service. @resp_len bytes of response
 * buffer (TB_TINY up to 64 KiB, pages beyond).
 */
static void blob_req(struct bc_req *rq, struct tbuf *data, size_t data_valid,
		     size_t resp_len, struct bc_res *r)
{
	struct tbuf resp;
	size_t len;
	unsigned char *b;

	bc_sign(rq, BC_ACCOUNT, BC_KEY, data_valid);
	b = bc_frame(rq, &len);
	tb_new(&resp, resp_len, resp_len <= 65536 ? TB_TINY : TB_PAGES, 14);
	bc_exec(&svc, b, len, data, data_valid, &resp, TIMEOUT_MS, NULL, r);
	tb_free(&resp);
	free(b);
}

static int put_blob(const char *name, struct tbuf *data, size_t len,
		    unsigned int *http)
{
	struct bc_req rq;
	struct bc_res r;
	char path[512];

	blob_path(path, sizeof(path), name);
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	bc_hdr_add(&rq, "Content-Type", "application/octet-stream");
	blob_req(&rq, data, len, 8192, &r);
	if (r.res.status || !r.parsed) {
		failf(__LINE__, "put %s: status %#x %s", name, r.res.status,
		      r.error ? r.error : "");
		bc_res_free(&r);
		return -1;
	}
	*http = r.http;
	bc_res_free(&r);
	return 0;
}

static int t_container(void)
{
	struct bc_req rq;
	struct bc_res r;
	char path[256];

	blob_path(path, sizeof(path), NULL);
	bc_req_init(&rq, AZ_BLOB_PUT, path, "restype=container");
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed && r.http == 201, "http %u %s", r.http,
	       r.error ? r.error : "");
	CHECK(bc_res_header(&r, "ETag") && bc_res_header(&r, "x-ms-request-id"));
	bc_res_free(&r);
	/* Again: 409, a successful round trip with an HTTP error. */
	bc_req_init(&rq, AZ_BLOB_PUT, path, "restype=container");
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 409);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-error-code"),
		      "ContainerAlreadyExists"));
	/* No data buffer: the error body came inline. */
	CHECK(r.inline_body && memmem(r.inline_body, r.inline_len,
				      "ContainerAlreadyExists", 22));
	bc_res_free(&r);
	return 0;
}

static const size_t put_sizes[] = { 0, 1, 4 * MIB - 1, 33 * MIB };

static int t_put_get_sizes(void)
{
	for (size_t i = 0; i < sizeof(put_sizes) / sizeof(*put_sizes); i++) {
		size_t len = put_sizes[i];
		struct tbuf up, down;
		unsigned char *src = malloc(len + 1);
		char name[64], sha[65], sha2[65], out[256], want[128];
		unsigned int http = 0;
		struct bc_req rq;
		struct bc_res r;
		char path[256];

		snprintf(name, sizeof(name), "sizes/blob-%zu", len);
		bc_random(src, len, len + 1);
		CHECK(tb_new(&up, len, TB_PAGES, 20) == 0);
		tb_fill(&up, src, len);
		if (put_blob(name, &up, len, &http))
			return -1;
		CHECKF(http == 201, "put %zu: http %u", len, http);
		bc_sha256_hex(src, len, sha);
		/* The SDK sees what went through the service. */
		CHECK(sdk(out, sizeof(out), "sha256 %s %s", container, name) == 0);
		snprintf(want, sizeof(want), "%zu %s\n", len, sha);
		CHECKF(!strcmp(out, want), "sdk: %s want %s", out, want);

		/* Whole, into a buffer of random pieces, larger than needed. */
		CHECK(tb_new(&down, len + 1000, TB_RANDOM, (uint32_t)len) == 0);
		tb_set(&down, 0x5a);
		blob_path(path, sizeof(path), name);
		bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
		blob_req(&rq, &down, 0, 8192, &r);
		CHECK_ST(r.res.status, AZ_HOST_OK);
		CHECK(r.parsed && r.http == 200 && !r.truncated);
		CHECK(r.body_bytes == len && r.has_length &&
		      r.content_length == len);
		bc_sha256_tbuf_hex(&down, len, sha2);
		CHECK(!strcmp(sha, sha2));
		bc_res_free(&r);
		/* The bytes after the body are untouched. */
		{
			unsigned char *all = malloc(len + 1000);

			tb_get(&down, all, len + 1000);
			for (size_t k = len; k < len + 1000; k++)
				CHECK(all[k] == 0x5a);
			free(all);
		}
		/* Ranged: bytes [len/3, len/3 + len/2], exactly sized. */
		if (len > 1) {
			size_t a = len / 3, n = len / 2 + 1;
			char range[64];
			unsigned char *got = malloc(n);
			struct tbuf rb;

			snprintf(range, sizeof(range), "bytes=%zu-%zu", a,
				 a + n - 1);
			CHECK(tb_new(&rb, n, n > 100000 ? TB_PAGES : TB_TINY,
				     21) == 0);
			bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
			bc_hdr_add(&rq, "x-ms-range", range);
			blob_req(&rq, &rb, 0, 8192, &r);
			CHECK_ST(r.res.status, AZ_HOST_OK);
			CHECKF(r.parsed && r.http == 206, "http %u", r.http);
			CHECK(r.body_bytes == n && !r.truncated &&
			      r.content_length == n);
			tb_get(&rb, got, n);
			CHECK(!memcmp(got, src + a, n));
			bc_res_free(&r);
			tb_free(&rb);
			free(got);
		}
		tb_free(&up);
		tb_free(&down);
		free(src);
	}
	return 0;
}

static int t_head(void)
{
	struct tbuf data;
	struct bc_req rq;
	struct bc_res r;
	char path[256];
	unsigned char probe[64];

	blob_path(path, sizeof(path), "sizes/blob-4194303");
	tb_new(&data, 64, TB_TINY, 22);
	tb_set(&data, 0xab);
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 200 && r.body_bytes == 0 && !r.truncated);
	CHECK(r.has_length && r.content_length == 4 * MIB - 1);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-blob-type"), "BlockBlob"));
	bc_res_free(&r);
	tb_get(&data, probe, 64);
	for (int i = 0; i < 64; i++)
		CHECK(probe[i] == 0xab);
	/* HEAD of nothing: 404, no body either. */
	blob_path(path, sizeof(path), "no/such/blob");
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404 &&
	      r.body_bytes == 0);
	bc_res_free(&r);
	tb_free(&data);
	return 0;
}

static int t_list(void)
{
	struct tbuf data;
	struct bc_req rq;
	struct bc_res r;
	char path[256], *xml, out[4096];

	blob_path(path, sizeof(path), NULL);
	tb_new(&data, 256 * 1024, TB_PAGES, 23);
	bc_req_init(&rq, AZ_BLOB_GET, path,
		    "restype=container&comp=list&prefix=sizes%2F&maxresults=100");
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed && r.http == 200 && !r.truncated, "http %u", r.http);
	xml = calloc(1, r.body_bytes + 1);
	tb_get(&data, xml, r.body_bytes);
	for (size_t i = 0; i < sizeof(put_sizes) / sizeof(*put_sizes); i++) {
		char want[128];

		snprintf(want, sizeof(want), "<Name>sizes/blob-%zu</Name>",
			 put_sizes[i]);
		CHECKF(strstr(xml, want), "no %s", want);
	}
	free(xml);
	bc_res_free(&r);
	/* The SDK lists the same, with the sizes. */
	CHECK(sdk(out, sizeof(out), "list %s sizes/", container) == 0);
	CHECKF(strstr(out, "34603008 sizes/blob-34603008\n") &&
	       strstr(out, "0 sizes/blob-0\n") &&
	       strstr(out, "1 sizes/blob-1\n"), "sdk list: %s", out);
	tb_free(&data);
	return 0;
}

static int t_delete_404(void)
{
	struct tbuf data, up;
	struct bc_req rq;
	struct bc_res r;
	char path[256], *xml;
	unsigned int http;

	tb_new(&up, 10, TB_ONE, 24);
	tb_fill(&up, "0123456789", 10);
	CHECK(put_blob("del/me", &up, 10, &http) == 0 && http == 201);
	tb_free(&up);
	blob_path(path, sizeof(path), "del/me");
	bc_req_init(&rq, AZ_BLOB_DELETE, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 202);
	bc_res_free(&r);
	CHECK(sdk(NULL, 0, "sha256 %s del/me 2>/dev/null", container) == 1);
	/* GET: 404, and the error body goes to the data buffer. */
	tb_new(&data, 4096, TB_TINY, 25);
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-error-code"), "BlobNotFound"));
	CHECK(r.body_bytes > 0 && r.body_bytes < 4096 && !r.inline_body);
	xml = calloc(1, r.body_bytes + 1);
	tb_get(&data, xml, r.body_bytes);
	CHECK(strstr(xml, "<Code>BlobNotFound</Code>"));
	free(xml);
	bc_res_free(&r);
	/* DELETE again: 404. */
	bc_req_init(&rq, AZ_BLOB_DELETE, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404);
	bc_res_free(&r);
	tb_free(&data);
	return 0;
}

static int t_403(void)
{
	struct bc_req rq;
	struct bc_res r;
	struct tbuf resp;
	char path[256];
	size_t len;
	unsigned char *b;

	blob_path(path, sizeof(path), "sizes/blob-1");
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	/* Another key: the signature is wrong. */
	bc_sign(&rq, BC_ACCOUNT, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0);
	b = bc_frame(&rq, &len);
	tb_new(&resp, 8192, TB_TINY, 26);
	bc_exec(&svc, b, len, NULL, 0, &resp, TIMEOUT_MS, NULL, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 403);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-error-code"),
		      "AuthorizationFailure"));
	bc_res_free(&r);
	tb_free(&resp);
	free(b);
	return 0;
}

/*
 * Metadata names that strcmp and Azure order differently: the signature
 * only holds with Azure's order.
 */
static int t_sharedkey_order(void)
{
	struct tbuf up, resp;
	struct bc_req rq;
	struct bc_res r;
	char path[256];

	CHECK(bc_azure_cmp("x-ms-meta-foo_bar", "x-ms-meta-foo2_bar") < 0);
	CHECK(strcmp("x-ms-meta-foo_bar", "x-ms-meta-foo2_bar") > 0);
	CHECK(bc_azure_cmp("x-ms-date", "x-ms-version") < 0);
	tb_new(&up, 3, TB_ONE, 27);
	tb_fill(&up, "abc", 3);
	blob_path(path, sizeof(path), "meta/one");
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	bc_hdr_add(&rq, "x-ms-meta-foo_bar", "1");
	bc_hdr_add(&rq, "x-ms-meta-foo2_bar", "2");
	blob_req(&rq, &up, 3, 8192, &r);
	CHECKF(r.res.status == 0 && r.parsed && r.http == 201, "http %u",
	       r.http);
	bc_res_free(&r);
	/* The metadata comes back through HEAD. */
	tb_new(&resp, 8192, TB_TINY, 28);
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 200);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-meta-foo_bar"), "1"));
	CHECK(!strcmp(bc_res_header(&r, "x-ms-meta-foo2_bar"), "2"));
	bc_res_free(&r);
	tb_free(&resp);
	tb_free(&up);
	return 0;
}

/* The body of a PUT's answer: inline; the data buffer is never written. */
static int t_inline_body(void)
{
	struct tbuf up;
	struct bc_req rq;
	struct bc_res r;
	char path[256];
	unsigned char got[1000];
	uint32_t needed;

	tb_new(&up, 1000, TB_TINY, 29);
	memset(got, 'u', sizeof(got));
	tb_fill(&up, got, sizeof(got));
	snprintf(path, sizeof(path), "/%s/nosuchcontainer%d/x", BC_ACCOUNT,
		 getpid());
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	blob_req(&rq, &up, 1000, 16384, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404);
	CHECK(r.body_bytes == 0 && !r.truncated && r.inline_body);
	CHECK(r.has_length && r.inline_len == r.content_length);
	CHECK(memmem(r.inline_body, r.inline_len, "<Code>ContainerNotFound</Code>", 30));
	CHECK(r.needed == r.res.response_len);
	needed = r.needed;
	bc_res_free(&r);
	tb_get(&up, got, sizeof(got));
	for (int i = 0; i < 1000; i++)
		CHECK(got[i] == 'u');
	/* 50 bytes short: the fields stay, the body is cut, truncated. */
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	blob_req(&rq, &up, 1000, needed - 50, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404);
	CHECK(r.truncated && r.inline_body && r.inline_len < r.content_length);
	CHECK(r.inline_len >= r.content_length - 40);
	CHECK(r.res.response_len <= needed - 50);
	bc_res_free(&r);
	tb_free(&up);
	return 0;
}

static int t_truncated_get(void)
{
	struct tbuf data;
	struct bc_req rq;
	struct bc_res r;
	struct az_http_stats s0, s1;
	char path[256];
	unsigned char *src = malloc(4 * MIB), *got = malloc(4 * MIB);
	size_t len = 4 * MIB - 1;

	bc_random(src, len, len + 1);
	blob_path(path, sizeof(path), "sizes/blob-4194303");
	/* 1 MiB of 4 MiB - 1: the rest is too much to drain. */
	tb_new(&data, MIB, TB_PAGES, 30);
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 200 && r.truncated);
	CHECK(r.body_bytes == MIB && r.content_length == len);
	tb_get(&data, got, MIB);
	CHECK(!memcmp(got, src, MIB));
	bc_res_free(&r);
	tb_free(&data);
	/* The connection was closed: the next request connects. */
	az_blob_service_stats(&svc, &s0);
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.http == 200);
	bc_res_free(&r);
	az_blob_service_stats(&svc, &s1);
	CHECK(s1.connects - s0.connects == 1);
	/* 1000 bytes short: drained, the connection kept. */
	tb_new(&data, len - 1000, TB_PAGES, 31);
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.truncated &&
	      r.body_bytes == len - 1000 && r.content_length == len);
	tb_get(&data, got, len - 1000);
	CHECK(!memcmp(got, src, len - 1000));
	bc_res_free(&r);
	tb_free(&data);
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.http == 200);
	bc_res_free(&r);
	az_blob_service_stats(&svc, &s0);
	CHECK(s0.connects == s1.connects);
	free(src);
	free(got);
	return 0;
}

static int t_insufficient_buffer(void)
{
	struct tbuf data;
	struct bc_req rq;
	struct bc_res r;
	char path[256];
	unsigned char got[1];

	blob_path(path, sizeof(path), "sizes/blob-1");
	tb_new(&data, 16, TB_TINY, 32);
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 100, &r);
	CHECK_ST(r.res.status, AZ_HOST_INSUFFICIENT_BUFFER);
	CHECK(r.res.response_len == AZ_BLOB_HDR_LEN);
	CHECK(!r.error && r.http == 200 && r.body_bytes == 1);
	CHECK(r.needed > 100);
	/* The body did land; the library can retry with r.needed bytes. */
	tb_get(&data, got, 1);
	{
		unsigned char src[1];

		bc_random(src, 1, 2);
		CHECK(got[0] == src[0]);
	}
	{
		uint32_t needed = r.needed;

		bc_res_free(&r);
		bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
		blob_req(&rq, &data, 0, needed + 64, &r);
		CHECK_ST(r.res.status, AZ_HOST_OK);
		/* The same answer again, give or take a field's digits. */
		CHECK(r.parsed && r.needed == r.res.response_len);
		CHECKF(r.res.response_len + 16 >= needed &&
		       r.res.response_len <= needed + 16, "%u vs %u",
		       r.res.response_len, needed);
	}
	bc_res_free(&r);
	/* The header exactly: 32 bytes. */
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 32, &r);
	CHECK(r.res.status == AZ_HOST_INSUFFICIENT_BUFFER &&
	      r.res.response_len == 32 && r.http == 200);
	bc_res_free(&r);
	tb_free(&data);
	return 0;
}

static int t_keepalive_reuse(void)
{
	struct az_http_stats s0, s1;
	struct bc_req rq;
	struct bc_res r;
	char path[256];

	blob_path(path, sizeof(path), "sizes/blob-1");
	az_blob_service_stats(&svc, &s0);
	for (int i = 0; i < 20; i++) {
		bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
		blob_req(&rq, NULL, 0, 8192, &r);
		CHECK(r.res.status == 0 && r.http == 200);
		bc_res_free(&r);
	}
	az_blob_service_stats(&svc, &s1);
	CHECKF(s1.connects - s0.connects <= 1 && s1.reuses - s0.reuses >= 19,
	       "connects %llu reuses %llu",
	       (unsigned long long)(s1.connects - s0.connects),
	       (unsigned long long)(s1.reuses - s0.reuses));
	return 0;
}

#define THREADS		8
#define PER_THREAD	12

struct worker {
	int id;
	int failures;
	char msg[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < PER_THREAD && !w->failures; i++) {
		size_t len = 1000 + (size_t)(w->id * 7919 + i * 104729) % 300000;
		unsigned char *src = malloc(len), *got = malloc(len);
		struct tbuf up, down;
		struct bc_req rq;
		struct bc_res r;
		char name[64], path[256];

		snprintf(name, sizeof(name), "mt/%d/%d", w->id, i);
		blob_path(path, sizeof(path), name);
		bc_random(src, len, (uint64_t)(w->id * 1000 + i));
		tb_new(&up, len, TB_RANDOM, (uint32_t)(w->id * 100 + i));
		tb_fill(&up, src, len);
		bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
		bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
		blob_req(&rq, &up, len, 8192, &r);
		if (r.res.status || r.http != 201) {
			snprintf(w->msg, sizeof(w->msg), "put %s: %#x http %u",
				 name, r.res.status, r.http);
			w->failures++;
		}
		bc_res_free(&r);
		tb_new(&down, len, TB_RANDOM, (uint32_t)(w->id * 100 + i + 50));
		bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
		blob_req(&rq, &down, 0, 8192, &r);
		tb_get(&down, got, len);
		if (!w->failures && (r.res.status || r.http != 200 ||
				     r.body_bytes != len ||
				     memcmp(got, src, len))) {
			snprintf(w->msg, sizeof(w->msg), "get %s: %#x http %u",
				 name, r.res.status, r.http);
			w->failures++;
		}
		bc_res_free(&r);
		bc_req_init(&rq, AZ_BLOB_DELETE, path, NULL);
		blob_req(&rq, NULL, 0, 8192, &r);
		if (!w->failures && (r.res.status || r.http != 202)) {
			snprintf(w->msg, sizeof(w->msg), "delete %s: %#x http %u",
				 name, r.res.status, r.http);
			w->failures++;
		}
		bc_res_free(&r);
		tb_free(&up);
		tb_free(&down);
		free(src);
		free(got);
	}
	return NULL;
}

static int t_threads(void)
{
	pthread_t th[THREADS];
	struct worker w[THREADS];
	struct az_http_stats s0, s1;

	az_blob_service_stats(&svc, &s0);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < THREADS; i++)
		CHECKF(!w[i].failures, "thread %d: %s", i, w[i].msg);
	az_blob_service_stats(&svc, &s1);
	/* Connections are shared: about one per thread, not one per request. */
	CHECKF(s1.connects - s0.connects <= 2 * THREADS,
	       "%llu connects for %d requests",
	       (unsigned long long)(s1.connects - s0.connects),
	       THREADS * PER_THREAD * 3);
	return 0;
}

/* Uploaded by the SDK, read through the service; and listed both ways. */
static int t_sdk_reverse(void)
{
	size_t len = MIB + 17;
	unsigned char *src = malloc(len);
	char file[] = "/tmp/blob_test_XXXXXX", sha[65], sha2[65];
	struct tbuf down;
	struct bc_req rq;
	struct bc_res r;
	char path[256];
	int fd;

	bc_random(src, len, 99);
	fd = mkstemp(file);
	CHECK(fd >= 0 && write(fd, src, len) == (ssize_t)len);
	close(fd);
	CHECK(sdk(NULL, 0, "put %s %s %s", container, "from-sdk/one.bin",
		  file) == 0);
	unlink(file);
	bc_sha256_hex(src, len, sha);
	tb_new(&down, len, TB_PAGES, 33);
	blob_path(path, sizeof(path), "from-sdk/one.bin");
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &down, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 200 &&
	      r.body_bytes == len);
	bc_sha256_tbuf_hex(&down, len, sha2);
	CHECK(!strcmp(sha, sha2));
	bc_res_free(&r);
	tb_free(&down);
	free(src);
	return 0;
}

/* A name that needs percent-encoding, and a query the signer decodes. */
static int t_encoded_names(void)
{
	struct tbuf up;
	struct bc_req rq;
	struct bc_res r;
	char path[256], out[256];
	unsigned int http;

	tb_new(&up, 5, TB_ONE, 34);
	tb_fill(&up, "space", 5);
	CHECK(put_blob("enc/a%20b%2Bc%C3%A9", &up, 5, &http) == 0 &&
	      http == 201);
	CHECK(sdk(out, sizeof(out), "list %s enc/", container) == 0);
	CHECKF(!strcmp(out, "5 enc/a b+c\xc3\xa9\n"), "sdk: %s", out);
	blob_path(path, sizeof(path), NULL);
	bc_req_init(&rq, AZ_BLOB_GET, path,
		    "restype=container&comp=list&prefix=enc%2Fa%20b");
	blob_req(&rq, NULL, 0, 65536, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 200);
	CHECK(r.inline_body && memmem(r.inline_body, r.inline_len,
				      "<Name>enc/a b+c\xc3\xa9</Name>", 23));
	bc_res_free(&r);
	tb_free(&up);
	return 0;
}

/* x-ms-content-crc64 as a guest library would send it (Azurite --loose). */
static int t_content_crc64(void)
{
	size_t len = 100000;
	unsigned char *src = malloc(len), le[8];
	uint64_t c;
	struct tbuf up;
	struct bc_req rq;
	struct bc_res r;
	struct az_jw w;
	char path[256], b64[16];

	bc_random(src, len, 7);
	c = az_crc64(0, src, len);
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(c >> (8 * i));
	az_jw_init(&w, 64);
	az_jw_base64(&w, le, 8);
	snprintf(b64, sizeof(b64), "%.*s", (int)w.len - 2, w.buf + 1);
	az_jw_free(&w);
	tb_new(&up, len, TB_PAGES, 35);
	tb_fill(&up, src, len);
	blob_path(path, sizeof(path), "crc/one");
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	bc_hdr_add(&rq, "x-ms-content-crc64", b64);
	blob_req(&rq, &up, len, 8192, &r);
	CHECKF(r.res.status == 0 && r.parsed && r.http == 201, "http %u",
	       r.http);
	bc_res_free(&r);
	tb_free(&up);
	free(src);
	return 0;
}

static int t_cleanup(void)
{
	CHECK(sdk(NULL, 0, "rmcontainer %s", container) == 0);
	return 0;
}

/* ------------------------------------------------------------------ */

static int bench(size_t mib)
{
	size_t len = mib * MIB;
	struct tbuf up, down;
	unsigned char *src = malloc(len);
	double best_put = 0, best_get = 0;
	char path[256], sha[65], sha2[65], out[256];
	struct bc_req rq;
	struct bc_res r;

	bc_random(src, len, 1);
	bc_sha256_hex(src, len, sha);
	tb_new(&up, len, TB_PAGES, 40);
	tb_fill(&up, src, len);
	tb_new(&down, len, TB_PAGES, 41);
	blob_path(path, sizeof(path), "bench/big");
	for (int i = 0; i < 3; i++) {
		uint64_t t0 = now_ms();
		double s;

		bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
		bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
		blob_req(&rq, &up, len, 8192, &r);
		s = (double)(now_ms() - t0) / 1000.0;
		if (r.res.status || r.http != 201) {
			fprintf(stderr, "put: %#x http %u\n", r.res.status,
				r.http);
			return 1;
		}
		bc_res_free(&r);
		if (len / s / 1e6 > best_put)
			best_put = len / s / 1e6;
		printf("put %zu MiB: %.3f s, %.0f MB/s\n", mib, s, len / s / 1e6);
		t0 = now_ms();
		bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
		blob_req(&rq, &down, 0, 8192, &r);
		s = (double)(now_ms() - t0) / 1000.0;
		if (r.res.status || r.http != 200 || r.body_bytes != len) {
			fprintf(stderr, "get: %#x http %u\n", r.res.status,
				r.http);
			return 1;
		}
		bc_res_free(&r);
		if (len / s / 1e6 > best_get)
			best_get = len / s / 1e6;
		printf("get %zu MiB: %.3f s, %.0f MB/s\n", mib, s, len / s / 1e6);
	}
	bc_sha256_tbuf_hex(&down, len, sha2);
	if (strcmp(sha, sha2)) {
		fprintf(stderr, "downloaded bytes differ\n");
		return 1;
	}
	if (sdk(out, sizeof(out), "sha256 %s bench/big", container) ||
	    strncmp(out + strcspn(out, " ") + 1, sha, 64)) {
		fprintf(stderr, "sdk sees another blob: %s\n", out);
		return 1;
	}
	printf("best: put %.0f MB/s, get %.0f MB/s (%zu pieces of <= 4 KiB each way; verified by sha256 and the SDK)\n",
	       best_put, best_get, (size_t)up.hb.iovcnt);
	sdk(NULL, 0, "rmcontainer %s", container);
	tb_free(&up);
	tb_free(&down);
	free(src);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "node", required_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ "bench", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *only = NULL;
	size_t bench_mib = 0;
	char dead[64];
	int c;

	signal(SIGPIPE, SIG_IGN);	/* the fake server's writes */
	endpoint = getenv("AZ_BLOB_ENDPOINT");
	if (endpoint && !*endpoint)
		endpoint = NULL;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			endpoint = optarg;
			break;
		case 'n':
			node_dir = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		case 'b':
			bench_mib = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: %s [--endpoint URL] [--node DIR] [--only NAME] [--bench MIB]\n",
				argv[0]);
			return 2;
		}
	}
	snprintf(container, sizeof(container), "hostsvc%d%ld", getpid(),
		 (long)time(NULL) % 100000);
	if (endpoint) {
		/* Checked here; each case makes its own instance. */
		if (az_blob_service_init(&svc, endpoint, 0)) {
			fprintf(stderr, "blob_test: bad endpoint %s\n", endpoint);
			return 2;
		}
		if (!bench_mib)
			az_blob_service_fini(&svc);
	}
	if (bench_mib) {
		if (!endpoint || sdk(NULL, 0, "mkcontainer %s", container)) {
			fprintf(stderr, "blob_test: --bench needs a working --endpoint\n");
			return 2;
		}
		return bench(bench_mib);
	}
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", fake_dead_port());
	if (az_blob_service_init(&svc_dead, dead, 0))
		return 2;

	run_case("crc64_nvme", t_crc64, false, only);
	run_case("json_valid", t_json_valid, false, only);
	run_case("json_malformed", t_json_malformed, false, only);
	run_case("json_limits", t_json_limits, false, only);
	run_case("json_escapes", t_json_escapes, false, only);
	run_case("json_duplicates", t_json_duplicates, false, only);
	run_case("json_writer", t_json_writer, false, only);
	run_case("frame_header", t_frame_header, false, only);
	run_case("frame_crc", t_frame_crc, false, only);
	run_case("frame_truncated", t_frame_truncated, false, only);
	run_case("frame_schema", t_frame_schema, false, only);
	run_case("frame_refused", t_frame_refused, false, only);
	run_case("http_chunked", t_http_chunked, false, only);
	run_case("http_truncated", t_http_truncated, false, only);
	run_case("http_framings", t_http_framings, false, only);
	run_case("http_malformed", t_http_malformed, false, only);
	run_case("http_keepalive_stale", t_http_keepalive_stale, false, only);
	run_case("http_retry_before_send_only", t_http_retry, false, only);
	run_case("http_early_answer", t_http_early_answer, false, only);
	run_case("deadline_no_answer", t_deadline_no_answer, false, only);
	run_case("deadline_mid_upload", t_deadline_mid_upload, false, only);
	run_case("cancel", t_cancel, false, only);
	run_case("connection_refused", t_refused, false, only);
	run_case("azurite_container_201_409", t_container, true, only);
	run_case("azurite_put_get_sizes", t_put_get_sizes, true, only);
	run_case("azurite_head", t_head, true, only);
	run_case("azurite_list", t_list, true, only);
	run_case("azurite_delete_404", t_delete_404, true, only);
	run_case("azurite_403", t_403, true, only);
	run_case("azurite_sharedkey_order", t_sharedkey_order, true, only);
	run_case("azurite_inline_body", t_inline_body, true, only);
	run_case("azurite_truncated_get", t_truncated_get, true, only);
	run_case("azurite_insufficient_buffer", t_insufficient_buffer, true, only);
	run_case("azurite_keepalive_reuse", t_keepalive_reuse, true, only);
	run_case("azurite_threads", t_threads, true, only);
	run_case("azurite_sdk_reverse", t_sdk_reverse, true, only);
	run_case("azurite_encoded_names", t_encoded_names, true, only);
	run_case("azurite_content_crc64", t_content_crc64, true, only);
	run_case("azurite_cleanup", t_cleanup, true, only);

	printf("# %d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
	az_blob_service_fini(&svc_dead);
	return n_fail ? 1 : 0;
}
