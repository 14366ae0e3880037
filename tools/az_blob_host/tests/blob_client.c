// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY: a guest library's side of the Blob service's format (see
 * blob_client.h), with the SharedKey signer of Azure Storage
 * (https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key).
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <azblob.h>

#include "../blob_service.h"
#include "blob_client.h"

void bc_req_init(struct bc_req *r, unsigned int method, const char *path,
		 const char *query)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->query, sizeof(r->query), "%s", query ? query : "");
}

void bc_hdr_add(struct bc_req *r, const char *name, const char *value)
{
	if (r->nh == BC_MAX_HDRS)
		abort();
	snprintf(r->h[r->nh].name, sizeof(r->h[0].name), "%s", name);
	snprintf(r->h[r->nh].value, sizeof(r->h[0].value), "%s", value);
	r->nh++;
}

static const char *hdr_get(const struct bc_req *r, const char *name)
{
	for (int i = 0; i < r->nh; i++)
		if (!strcasecmp(r->h[i].name, name))
			return r->h[i].value;
	return NULL;
}

/*
 * Azure sorts canonicalized headers with .NET's culture-aware comparison
 * (en-US), not strcmp: "-" is ignored at the first level, "_" sorts before
 * digits. These are the sort keys for ASCII that the Azure SDK for
 * JavaScript uses (utils/SharedKeyComparator), and the same walk.
 */
static const unsigned short lv0[128] = {
	[33] = 0x71c, [35] = 0x71f, [36] = 0x721, [37] = 0x723, [38] = 0x725,
	[42] = 0x72d, [43] = 0x803, [46] = 0x733, [48] = 0xd03, [49] = 0xd1a,
	[50] = 0xd1c, [51] = 0xd1e, [52] = 0xd20, [53] = 0xd22, [54] = 0xd24,
	[55] = 0xd26, [56] = 0xd28, [57] = 0xd2a, [65] = 0xe02, [66] = 0xe09,
	[67] = 0xe0a, [68] = 0xe1a, [69] = 0xe21, [70] = 0xe23, [71] = 0xe25,
	[72] = 0xe2c, [73] = 0xe32, [74] = 0xe35, [75] = 0xe36, [76] = 0xe48,
	[77] = 0xe51, [78] = 0xe70, [79] = 0xe7c, [80] = 0xe7e, [81] = 0xe89,
	[82] = 0xe8a, [83] = 0xe91, [84] = 0xe99, [85] = 0xe9f, [86] = 0xea2,
	[87] = 0xea4, [88] = 0xea6, [89] = 0xea7, [90] = 0xea9, [94] = 0x743,
	[95] = 0x744, [96] = 0x748, [97] = 0xe02, [98] = 0xe09, [99] = 0xe0a,
	[100] = 0xe1a, [101] = 0xe21, [102] = 0xe23, [103] = 0xe25,
	[104] = 0xe2c, [105] = 0xe32, [106] = 0xe35, [107] = 0xe36,
	[108] = 0xe48, [109] = 0xe51, [110] = 0xe70, [111] = 0xe7c,
	[112] = 0xe7e, [113] = 0xe89, [114] = 0xe8a, [115] = 0xe91,
	[116] = 0xe99, [117] = 0xe9f, [118] = 0xea2, [119] = 0xea4,
	[120] = 0xea6, [121] = 0xea7, [122] = 0xea9, [124] = 0x74c,
	[126] = 0x750,
};
static const unsigned short lv2[128] = {
	[65] = 0x12, [66] = 0x12, [67] = 0x12, [68] = 0x12, [69] = 0x12,
	[70] = 0x12, [71] = 0x12, [72] = 0x12, [73] = 0x12, [74] = 0x12,
	[75] = 0x12, [76] = 0x12, [77] = 0x12, [78] = 0x12, [79] = 0x12,
	[80] = 0x12, [81] = 0x12, [82] = 0x12, [83] = 0x12, [84] = 0x12,
	[85] = 0x12, [86] = 0x12, [87] = 0x12, [88] = 0x12, [89] = 0x12,
	[90] = 0x12,
};
static const unsigned short lv4[128] = { [39] = 0x8012, [45] = 0x8212 };

static bool azure_less(const char *l, const char *r)
{
	const unsigned short *tables[3] = { lv0, lv2, lv4 };
	size_t ll = strlen(l), rl = strlen(r), i = 0, j = 0;
	int level = 0;

	while (level < 3) {
		unsigned int w1, w2;

		if (level == 2 && i != j)
			return i > j;
		w1 = i < ll ? tables[level][(unsigned char)l[i] & 0x7f] : 1;
		w2 = j < rl ? tables[level][(unsigned char)r[j] & 0x7f] : 1;
		if (w1 == 1 && w2 == 1) {
			i = 0;
			j = 0;
			level++;
		} else if (w1 == w2) {
			i++;
			j++;
		} else if (w1 == 0) {
			i++;
		} else if (w2 == 0) {
			j++;
		} else {
			return w1 < w2;
		}
	}
	return false;
}

int bc_azure_cmp(const char *a, const char *b)
{
	if (azure_less(a, b))
		return -1;
	if (azure_less(b, a))
		return 1;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return bc_azure_cmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void pct_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n) {
			char h[3] = { s[i + 1], s[i + 2], 0 };

			out[o++] = (char)strtol(h, NULL, 16);
			i += 2;
		} else if (s[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

struct sb {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sb *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

char *bc_string_to_sign(const struct bc_req *r, const char *account,
			size_t content_length)
{
	static const char *const signed_fields[] = {
		"Content-Encoding", "Content-Language", NULL /* length */,
		"Content-MD5", "Content-Type", "Date", "If-Modified-Since",
		"If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
	};
	static const char *const methods[] = { "", "GET", "PUT", "HEAD",
					       "DELETE", "POST", "PATCH" };
	struct sb b = { 0 };
	char *names[BC_MAX_HDRS], cl[32];
	int n = 0;

	sb_add(&b, methods[r->method]);
	sb_add(&b, "\n");
	for (size_t i = 0; i < sizeof(signed_fields) / sizeof(*signed_fields);
	     i++) {
		const char *v;

		if (!signed_fields[i]) {
			/* Content-Length 0 is signed as empty. */
			cl[0] = '\0';
			if (content_length)
				snprintf(cl, sizeof(cl), "%zu", content_length);
			v = cl;
		} else {
			v = hdr_get(r, signed_fields[i]);
		}
		sb_add(&b, v ? v : "");
		sb_add(&b, "\n");
	}
	for (int i = 0; i < r->nh; i++) {
		if (strncasecmp(r->h[i].name, "x-ms-", 5))
			continue;
		names[n] = strdup(r->h[i].name);
		for (char *q = names[n]; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		n++;
	}
	qsort(names, (size_t)n, sizeof(*names), cmp_names);
	for (int i = 0; i < n; i++) {
		sb_add(&b, names[i]);
		sb_add(&b, ":");
		sb_add(&b, hdr_get(r, names[i]));
		sb_add(&b, "\n");
		free(names[i]);
	}
	/* /account/path-as-sent, then each query parameter, sorted. */
	sb_add(&b, "/");
	sb_add(&b, account);
	sb_add(&b, r->path);
	if (r->query[0]) {
		char *params[64], *q = strdup(r->query), *save = NULL, *tok;
		int np = 0;

		for (tok = strtok_r(q, "&", &save); tok && np < 64;
		     tok = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(tok, '=');
			size_t kl = eq ? (size_t)(eq - tok) : strlen(tok);
			char *line = malloc(strlen(tok) + 3);

			for (size_t i = 0; i < kl; i++)
				line[i] = (char)tolower((unsigned char)tok[i]);
			line[kl] = ':';
			pct_decode(eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0,
				   line + kl + 1);
			params[np++] = line;
		}
		qsort(params, (size_t)np, sizeof(*params), cmp_str);
		for (int i = 0; i < np; i++) {
			sb_add(&b, "\n");
			sb_add(&b, params[i]);
			free(params[i]);
		}
		free(q);
	}
	return b.p;
}

int bc_sign(struct bc_req *r, const char *account, const char *key_b64,
	    size_t content_length)
{
	unsigned char key[128], mac[EVP_MAX_MD_SIZE], b64[128];
	unsigned int maclen = 0;
	char date[64], auth[256];
	struct tm tm;
	time_t now = time(NULL);
	char *sts;
	int keylen;

	if (!hdr_get(r, "x-ms-date")) {
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		bc_hdr_add(r, "x-ms-date", date);
	}
	if (!hdr_get(r, "x-ms-version"))
		bc_hdr_add(r, "x-ms-version", BC_VERSION);
	keylen = EVP_DecodeBlock(key, (const unsigned char *)key_b64,
				 (int)strlen(key_b64));
	if (keylen < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	for (const char *e = key_b64 + strlen(key_b64); e > key_b64 &&
	     e[-1] == '='; e--)
		keylen--;
	sts = bc_string_to_sign(r, account, content_length);
	HMAC(EVP_sha256(), key, keylen, (unsigned char *)sts, strlen(sts), mac,
	     &maclen);
	free(sts);
	EVP_EncodeBlock(b64, mac, (int)maclen);
	snprintf(auth, sizeof(auth), "SharedKey %s:%s", account, b64);
	bc_hdr_add(r, "Authorization", auth);
	return 0;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void bc_fix_crc(unsigned char *buf, size_t len)
{
	put_le64(buf + AZ_BLOB_REQ_CRC_OFF, 0);
	put_le64(buf + AZ_BLOB_REQ_CRC_OFF, azblob_crc64(0, buf, len));
}

unsigned char *bc_frame_json(unsigned int method, const char *json,
			     size_t json_len, size_t *len)
{
	unsigned char *b = calloc(1, AZ_BLOB_HDR_LEN + json_len);

	memcpy(b, AZ_BLOB_REQ_MAGIC, AZ_BLOB_MAGIC_LEN);
	put_le32(b + AZ_BLOB_REQ_FORMAT_OFF, AZ_BLOB_FORMAT_JSON);
	put_le32(b + AZ_BLOB_REQ_METHOD_OFF, method);
	memcpy(b + AZ_BLOB_HDR_LEN, json, json_len);
	*len = AZ_BLOB_HDR_LEN + json_len;
	bc_fix_crc(b, *len);
	return b;
}

unsigned char *bc_frame(const struct bc_req *r, size_t *len)
{
	struct az_jw w;
	unsigned char *b;

	az_jw_init(&w, 1U << 20);
	az_jw_begin_object(&w);
	az_jw_key(&w, "path");
	az_jw_latin1(&w, r->path, strlen(r->path));
	if (r->query[0]) {
		az_jw_key(&w, "query");
		az_jw_latin1(&w, r->query, strlen(r->query));
	}
	az_jw_key(&w, "headers");
	az_jw_begin_array(&w);
	for (int i = 0; i < r->nh; i++) {
		az_jw_begin_array(&w);
		az_jw_latin1(&w, r->h[i].name, strlen(r->h[i].name));
		az_jw_latin1(&w, r->h[i].value, strlen(r->h[i].value));
		az_jw_end_array(&w);
	}
	az_jw_end_array(&w);
	az_jw_end_object(&w);
	if (w.err)
		abort();
	b = bc_frame_json(r->method, w.buf, w.len, len);
	az_jw_free(&w);
	return b;
}

/* xorshift64*: fast, deterministic. */
static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

void bc_random(void *dst, size_t len, uint64_t seed)
{
	unsigned char *p = dst;
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;

	while (len >= 8) {
		uint64_t v = rnd_next(&s);

		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = rnd_next(&s);

		memcpy(p, &v, len);
	}
}

int tb_new(struct tbuf *t, size_t len, enum tb_layout layout, uint32_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 7;
	size_t cap = 16, n = 0, off = 0, pos;
	size_t *sizes = malloc(cap * sizeof(*sizes));

	memset(t, 0, sizeof(*t));
	while (off < len) {
		size_t k;

		switch (layout) {
		case TB_ONE:
			k = len;
			break;
		case TB_TINY:
			k = 1 + n % 13;
			break;
		case TB_PAGES:
			k = n == 0 ? 4096 - 123 : 4096;
			break;
		default:
			k = 1 + rnd_next(&s) % 70000;
			break;
		}
		if (k > len - off)
			k = len - off;
		if (n == cap) {
			cap *= 2;
			sizes = realloc(sizes, cap * sizeof(*sizes));
		}
		sizes[n++] = k;
		off += k;
	}
	/* Backing: pieces in reverse order, 16 bytes of gap after each. */
	t->backing_len = len + 16 * n + 16;
	t->backing = malloc(t->backing_len);
	t->iov = calloc(n ? n : 1, sizeof(*t->iov));
	if (!t->backing || !t->iov || !sizes)
		return -1;
	memset(t->backing, 0xEE, t->backing_len);
	pos = 0;
	for (size_t i = n; i-- > 0;) {
		t->iov[i].iov_base = t->backing + pos;
		t->iov[i].iov_len = sizes[i];
		pos += sizes[i] + 16;
	}
	free(sizes);
	t->hb.iov = t->iov;
	t->hb.iovcnt = (unsigned int)n;
	t->hb.len = len;
	return 0;
}

void tb_free(struct tbuf *t)
{
	free(t->backing);
	free(t->iov);
	memset(t, 0, sizeof(*t));
}

void tb_fill(struct tbuf *t, const void *src, size_t len)
{
	if (az_host_buf_write(&t->hb, 0, src, len))
		abort();
}

void tb_get(const struct tbuf *t, void *dst, size_t len)
{
	if (az_host_buf_read(&t->hb, 0, dst, len))
		abort();
}

void tb_set(struct tbuf *t, int c)
{
	for (unsigned int i = 0; i < t->hb.iovcnt; i++)
		memset(t->iov[i].iov_base, c, t->iov[i].iov_len);
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int b64_decode(const char *s, size_t n, unsigned char **out,
		      size_t *out_len)
{
	unsigned char *o;
	size_t k = 0;

	if (n % 4)
		return -1;
	o = malloc(n / 4 * 3 + 1);
	for (size_t i = 0; i < n; i += 4) {
		int v[4];

		for (int j = 0; j < 4; j++)
			v[j] = s[i + j] == '=' && i + 4 == n && j >= 2 ? 0 :
			       b64_val((unsigned char)s[i + j]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0) {
			free(o);
			return -1;
		}
		o[k++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (s[i + 2] != '=')
			o[k++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (s[i + 3] != '=')
			o[k++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	*out = o;
	*out_len = k;
	return 0;
}

static void parse_answer(const unsigned char *b, size_t len, struct bc_res *r)
{
	static const struct az_json_limits lim = {
		.max_depth = 4, .max_values = 100000,
		.max_string = 64U << 20,
	};
	unsigned char *copy;
	const struct az_json *root, *m;
	uint64_t crc;

	if (len < AZ_BLOB_HDR_LEN) {
		r->error = "response shorter than its header";
		return;
	}
	if (memcmp(b, AZ_BLOB_RES_MAGIC, 8) || get_le32(b + 8) != 1) {
		r->error = "bad response magic or format";
		return;
	}
	copy = malloc(len);
	memcpy(copy, b, len);
	crc = get_le64(copy + AZ_BLOB_RES_CRC_OFF);
	put_le64(copy + AZ_BLOB_RES_CRC_OFF, 0);
	if (azblob_crc64(0, copy, len) != crc) {
		free(copy);
		r->error = "bad response CRC";
		return;
	}
	free(copy);
	r->http = get_le32(b + AZ_BLOB_RES_STATUS_OFF);
	r->body_bytes = get_le32(b + AZ_BLOB_RES_BODY_OFF);
	r->needed = get_le32(b + AZ_BLOB_RES_NEEDED_OFF);
	if (len == AZ_BLOB_HDR_LEN)
		return;		/* header only (insufficient buffer) */
	if (az_json_parse((const char *)b + AZ_BLOB_HDR_LEN,
			  len - AZ_BLOB_HDR_LEN, &lim, &r->doc)) {
		r->error = "response JSON does not parse";
		return;
	}
	root = r->doc.root;
	if (root->type != AZ_JSON_OBJECT) {
		r->error = "response JSON not an object";
		return;
	}
	m = az_json_get(root, "reason");
	if (!m || m->type != AZ_JSON_STRING) {
		r->error = "no reason";
		return;
	}
	r->reason = m->str;
	r->headers = az_json_get(root, "headers");
	if (!r->headers || r->headers->type != AZ_JSON_ARRAY) {
		r->error = "no headers";
		return;
	}
	m = az_json_get(root, "truncated");
	if (!m || (m->type != AZ_JSON_TRUE && m->type != AZ_JSON_FALSE)) {
		r->error = "no truncated";
		return;
	}
	r->truncated = m->type == AZ_JSON_TRUE;
	m = az_json_get(root, "content_length");
	if (!m || (m->type != AZ_JSON_NULL &&
		   az_json_u64(m, &r->content_length))) {
		r->error = "bad content_length";
		return;
	}
	r->has_length = m->type != AZ_JSON_NULL;
	m = az_json_get(root, "body_base64");
	if (m) {
		if (m->type != AZ_JSON_STRING ||
		    b64_decode(m->str, m->len, &r->inline_body,
			       &r->inline_len)) {
			r->error = "bad body_base64";
			return;
		}
	}
	r->parsed = true;
}

void bc_exec(const struct az_host_service *svc, const unsigned char *req,
	     size_t req_len, struct tbuf *data, size_t data_valid,
	     struct tbuf *resp, uint32_t timeout_ms, const atomic_int *cancel,
	     struct bc_res *out)
{
	static const atomic_int never;
	struct tbuf rq;
	struct az_host_req hr = { 0 };
	struct timespec ts;
	unsigned char *rb;

	memset(out, 0, sizeof(*out));
	if (tb_new(&rq, req_len, TB_TINY, (uint32_t)req_len))
		abort();
	tb_fill(&rq, req, req_len);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	hr.timeout_ms = timeout_ms;
	if (timeout_ms)
		hr.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
				 (uint64_t)ts.tv_nsec +
				 (uint64_t)timeout_ms * 1000000ULL;
	hr.cancel = cancel ? cancel : &never;
	memcpy(hr.transaction_id, "blob-test-guid!!", 16);
	hr.data_valid = (uint32_t)data_valid;
	hr.request = rq.hb;
	hr.response = resp->hb;
	if (data)
		hr.data = data->hb;
	svc->execute(svc->ctx, &hr, &out->res);
	tb_free(&rq);
	if (out->res.response_len > resp->hb.len) {
		out->error = "response_len beyond the response buffer";
		return;
	}
	if (!out->res.response_len)
		return;
	rb = malloc(out->res.response_len);
	tb_get(resp, rb, out->res.response_len);
	parse_answer(rb, out->res.response_len, out);
	free(rb);
}

void bc_res_free(struct bc_res *r)
{
	az_json_free(&r->doc);
	free(r->inline_body);
	r->inline_body = NULL;
}

const char *bc_res_header(const struct bc_res *r, const char *name)
{
	if (!r->headers)
		return NULL;
	for (const struct az_json *h = r->headers->child; h; h = h->next) {
		if (h->type != AZ_JSON_ARRAY || h->len != 2)
			return NULL;
		if (!strcasecmp(h->child->str, name))
			return h->child->next->str;
	}
	return NULL;
}

static void hexify(const unsigned char *md, char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

void bc_sha256_hex(const void *p, size_t len, char out[65])
{
	unsigned char md[32];

	SHA256(p, len, md);
	hexify(md, out);
}

void bc_sha256_tbuf_hex(const struct tbuf *t, size_t len, char out[65])
{
	unsigned char md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < t->hb.iovcnt && len; i++) {
		size_t k = t->iov[i].iov_len < len ? t->iov[i].iov_len : len;

		EVP_DigestUpdate(ctx, t->iov[i].iov_base, k);
		len -= k;
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	hexify(md, out);
}
