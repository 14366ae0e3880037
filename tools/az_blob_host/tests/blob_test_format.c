// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY: blob_test's offline cases of the pieces alone:
 * CRC-64, JSON, and request framing (requests refused before anything
 * goes out). Run by blob_test.c.
 */
#include "blob_test.h"

/* ------------------------------------------------------------------ */
/* CRC-64: the library's (lib/crc64.c), as the service builds it */

/* CRC-64/NVME's check value, of "123456789". */
#define CRC64_CHECK	0xAE8B14860A799888ULL

int t_crc64(void)
{
	static const char check[] = "123456789";
	unsigned char le[8], b64[16];
	uint64_t c = azblob_crc64(0, check, 9);
	unsigned char *big;
	uint64_t whole, parts = 0;

	CHECKF(c == CRC64_CHECK, "crc %#llx", (unsigned long long)c);
	CHECK(azblob_crc64(0, "", 0) == 0);
	/* Chained over every split point gives the same. */
	for (int i = 0; i <= 9; i++)
		CHECK(azblob_crc64(azblob_crc64(0, check, (size_t)i), check + i,
				   (size_t)(9 - i)) == CRC64_CHECK);
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
	/*
	 * One pass (CLMUL where the CPU has it, 128 bytes and up) agrees
	 * with short pieces (the tables) over odd alignments.
	 */
	big = malloc(100003);
	bc_random(big, 100003, 5);
	whole = azblob_crc64(0, big + 3, 100000);
	for (size_t off = 3; off < 100003; off += 1 + off % 7) {
		size_t n = 1 + off % 7;

		if (off + n > 100003)
			n = 100003 - off;
		parts = azblob_crc64(parts, big + off, n);
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

int t_json_valid(void)
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

int t_json_malformed(void)
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

int t_json_limits(void)
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

int t_json_escapes(void)
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

int t_json_duplicates(void)
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

int t_json_writer(void)
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

int t_frame_header(void)
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

int t_frame_crc(void)
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

int t_frame_truncated(void)
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

int t_frame_schema(void)
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

int t_frame_refused(void)
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
