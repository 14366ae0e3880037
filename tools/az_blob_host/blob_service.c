// SPDX-License-Identifier: GPL-2.0
/*
 * The Blob service of the host VSP (see blob_service.h and
 * Documentation/userspace-api/hv_azure_blob_requests.rst).
 *
 * One request: copy the request buffer out of guest memory once, check
 * its framing and CRC on the copy, parse its JSON, build the HTTP request
 * head in host memory, send it with the body straight from the data
 * buffer, read the response with the body straight into the data buffer
 * (or, when the data buffer holds the request body, into host memory for
 * an inline copy), then write the response header and JSON to the
 * response buffer in one piece. Nothing of the guest's is read twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <azblob.h>	/* azblob_crc64(): ../../lib/crc64.c */

#include "blob_service.h"
#include "json.h"

/* The response JSON, at most: fields escaped (<= 6x the head) + inline. */
#define RESPONSE_JSON_MAX	(8U << 20)

struct blob_ctx {
	struct az_http_pool *pool;
	int verbose;
};

struct blob_req {
	unsigned int method;
	const char *path;
	size_t path_len;
	const char *query;
	size_t query_len;
	char *fields;		/* "Name: value\r\n"... */
	size_t fields_len;
};

static const char *const method_names[] = {
	[AZ_BLOB_GET] = "GET",
	[AZ_BLOB_PUT] = "PUT",
	[AZ_BLOB_HEAD] = "HEAD",
	[AZ_BLOB_DELETE] = "DELETE",
	[AZ_BLOB_POST] = "POST",
	[AZ_BLOB_PATCH] = "PATCH",
};

/* Header fields the host sets, or that would change the framing. */
static const char *const refused_fields[] = {
	"Host", "Content-Length", "Transfer-Encoding", "Connection",
	"Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
	"Expect",
};

/* Response fields about this hop only: not handed to the guest. */
static const char *const hop_fields[] = {
	"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding",
	"TE", "Trailer", "Upgrade",
};

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
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

static bool in_set(const char *name, size_t len, const char *const *set,
		   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(set[i]) == len && !strncasecmp(name, set[i], len))
			return true;
	return false;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/*
 * RFC 3986 characters of a path (@query false: pchar and "/") or a query
 * (pchar, "/" and "?"), with every "%" starting a valid escape.
 */
static bool uri_part_ok(const char *s, size_t len, bool query)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (c && strchr("-._~!$&'()*+,;=:@/", c)))
			continue;
		if (c == '?' && query)
			continue;
		if (c == '%' && i + 2 < len && is_hex(s[i + 1]) &&
		    is_hex(s[i + 2])) {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

/* A path: absolute, allowed characters, no "." or ".." segment. */
static bool path_ok(const char *s, size_t len)
{
	if (len == 0 || s[0] != '/' || !uri_part_ok(s, len, false))
		return false;
	for (size_t i = 0; i < len;) {
		size_t j = i + 1, seg;

		while (j < len && s[j] != '/')
			j++;
		seg = j - i - 1;
		if ((seg == 1 && s[i + 1] == '.') ||
		    (seg == 2 && s[i + 1] == '.' && s[i + 2] == '.'))
			return false;
		i = j;
	}
	return true;
}

static bool token_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      (c && strchr("!#$%&'*+-.^_`|~", c))))
			return false;
	}
	return true;
}

/*
 * A field value from its JSON string (UTF-8, valid: the parser checked) to
 * bytes, one per code point (ISO-8859-1), appended at @out. -1 if a code
 * point is above U+00FF or a control other than HTAB, or the value has
 * leading or trailing whitespace.
 */
static int value_to_latin1(const char *s, size_t len, char *out, size_t *n)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		unsigned int cp;

		if (c < 0x80) {
			cp = c;
			i++;
		} else if ((c & 0xe0) == 0xc0 && i + 1 < len) {
			cp = (c & 0x1fU) << 6 | ((unsigned char)s[i + 1] & 0x3fU);
			i += 2;
		} else {
			return -1;	/* three bytes or more: above U+07FF */
		}
		if (cp > 0xff || (cp < 0x20 && cp != '\t') || cp == 0x7f)
			return -1;
		out[o++] = (char)cp;
	}
	if (o && (out[0] == ' ' || out[0] == '\t' || out[o - 1] == ' ' ||
		  out[o - 1] == '\t'))
		return -1;
	*n = o;
	return 0;
}

/*
 * The request's JSON into @br. AZ_HOST_INVALID_DATA for what is not this
 * format, AZ_HOST_INVALID_ARG for what it refuses.
 */
static uint32_t parse_request_json(const char *text, size_t len,
				   struct az_json_doc *doc, struct blob_req *br)
{
	static const struct az_json_limits lim = {
		.max_depth = 3,
		.max_values = 4 + 1 + 3 * (AZ_BLOB_MAX_FIELDS + 1),
		/* UTF-8: a value's Latin-1 byte may take two bytes here. */
		.max_string = 2 * AZ_BLOB_MAX_VALUE,
	};
	const struct az_json *root, *m, *path = NULL, *query = NULL;
	const struct az_json *headers = NULL;
	size_t nfields = 0, cap = 0, o = 0;

	if (az_json_parse(text, len, &lim, doc))
		return doc->limit ? AZ_HOST_INVALID_ARG : AZ_HOST_INVALID_DATA;
	root = doc->root;
	if (root->type != AZ_JSON_OBJECT)
		return AZ_HOST_INVALID_DATA;
	for (m = root->child; m; m = m->next) {
		if (!strcmp(m->key, "path") && m->key_len == 4)
			path = m;
		else if (!strcmp(m->key, "query") && m->key_len == 5)
			query = m;
		else if (!strcmp(m->key, "headers") && m->key_len == 7)
			headers = m;
		else
			return AZ_HOST_INVALID_DATA;	/* unknown member */
	}
	if (!path || path->type != AZ_JSON_STRING ||
	    (query && query->type != AZ_JSON_STRING) ||
	    (headers && headers->type != AZ_JSON_ARRAY))
		return AZ_HOST_INVALID_DATA;
	if (path->len > AZ_BLOB_MAX_PATH || !path_ok(path->str, path->len))
		return AZ_HOST_INVALID_ARG;
	br->path = path->str;
	br->path_len = path->len;
	if (query) {
		if (query->len > AZ_BLOB_MAX_QUERY ||
		    !uri_part_ok(query->str, query->len, true))
			return AZ_HOST_INVALID_ARG;
		br->query = query->str;
		br->query_len = query->len;
	}
	if (!headers)
		return AZ_HOST_OK;
	for (m = headers->child; m; m = m->next) {
		if (m->type != AZ_JSON_ARRAY || m->len != 2 ||
		    m->child->type != AZ_JSON_STRING ||
		    m->child->next->type != AZ_JSON_STRING)
			return AZ_HOST_INVALID_DATA;
		nfields++;
		cap += m->child->len + m->child->next->len + 4;
	}
	if (nfields > AZ_BLOB_MAX_FIELDS)
		return AZ_HOST_INVALID_ARG;
	br->fields = malloc(cap + 1);
	if (!br->fields)
		return AZ_HOST_OUT_OF_MEMORY;
	for (m = headers->child; m; m = m->next) {
		const struct az_json *name = m->child, *value = name->next;
		size_t vn;

		if (name->len > AZ_BLOB_MAX_NAME ||
		    !token_ok(name->str, name->len) ||
		    in_set(name->str, name->len, refused_fields,
			   sizeof(refused_fields) / sizeof(refused_fields[0])))
			return AZ_HOST_INVALID_ARG;
		memcpy(br->fields + o, name->str, name->len);
		o += name->len;
		br->fields[o++] = ':';
		br->fields[o++] = ' ';
		if (value_to_latin1(value->str, value->len, br->fields + o,
				    &vn) || vn > AZ_BLOB_MAX_VALUE)
			return AZ_HOST_INVALID_ARG;
		o += vn;
		br->fields[o++] = '\r';
		br->fields[o++] = '\n';
	}
	br->fields_len = o;
	return AZ_HOST_OK;
}

/*
 * The response JSON. @inline_len bytes of @inline_body (when not NULL) go
 * in as body_base64.
 */
static void build_json(struct az_jw *w, const struct az_http_response *resp,
		       bool no_body, const char *inline_body,
		       size_t inline_len, bool truncated)
{
	az_jw_begin_object(w);
	az_jw_key(w, "reason");
	az_jw_latin1(w, resp->reason, resp->reason_len);
	az_jw_key(w, "headers");
	az_jw_begin_array(w);
	for (unsigned int i = 0; i < resp->nfields; i++) {
		const struct az_http_field *f = &resp->fields[i];

		if (in_set(f->name, f->name_len, hop_fields,
			   sizeof(hop_fields) / sizeof(hop_fields[0])))
			continue;
		az_jw_begin_array(w);
		az_jw_latin1(w, f->name, f->name_len);
		az_jw_latin1(w, f->value, f->value_len);
		az_jw_end_array(w);
	}
	az_jw_end_array(w);
	az_jw_key(w, "content_length");
	if (no_body) {
		if (resp->has_length)
			az_jw_u64(w, resp->content_length);
		else
			az_jw_null(w);
	} else if (resp->has_length) {
		az_jw_u64(w, resp->content_length);
	} else if (resp->body_total_known) {
		az_jw_u64(w, resp->body_total);
	} else {
		az_jw_null(w);
	}
	az_jw_key(w, "truncated");
	az_jw_bool(w, truncated);
	if (inline_body) {
		az_jw_key(w, "body_base64");
		az_jw_base64(w, inline_body, inline_len);
	}
	az_jw_end_object(w);
}

static uint32_t write_response(const struct az_host_req *req,
			       unsigned int http_status, uint32_t body_bytes,
			       uint32_t needed, const char *json,
			       size_t json_len, uint32_t *response_len)
{
	size_t len = AZ_BLOB_HDR_LEN + json_len;
	unsigned char *out = malloc(len);

	if (!out)
		return AZ_HOST_OUT_OF_MEMORY;
	memcpy(out + AZ_BLOB_RES_MAGIC_OFF, AZ_BLOB_RES_MAGIC,
	       AZ_BLOB_MAGIC_LEN);
	put_le32(out + AZ_BLOB_RES_FORMAT_OFF, AZ_BLOB_FORMAT_JSON);
	put_le32(out + AZ_BLOB_RES_STATUS_OFF, http_status);
	put_le64(out + AZ_BLOB_RES_CRC_OFF, 0);
	put_le32(out + AZ_BLOB_RES_BODY_OFF, body_bytes);
	put_le32(out + AZ_BLOB_RES_NEEDED_OFF, needed);
	memcpy(out + AZ_BLOB_HDR_LEN, json, json_len);
	put_le64(out + AZ_BLOB_RES_CRC_OFF, azblob_crc64(0, out, len));
	if (az_host_buf_write(&req->response, 0, out, len)) {
		free(out);
		return AZ_HOST_INVALID_ARG;
	}
	free(out);
	*response_len = (uint32_t)len;
	return AZ_HOST_OK;
}

/*
 * The answer for a completed HTTP exchange: header and JSON if they fit,
 * the inline body cut to what fits; AZ_HOST_INSUFFICIENT_BUFFER with the
 * header alone when even the fields do not fit.
 */
static uint32_t answer(const struct az_host_req *req,
		       const struct az_http_response *resp, bool no_body,
		       const char *inline_body, uint32_t *response_len)
{
	size_t room = req->response.len - AZ_BLOB_HDR_LEN;
	uint32_t body_bytes = inline_body ? 0 : (uint32_t)resp->stored;
	size_t keep = inline_body ? resp->stored : 0;
	struct az_jw w;
	uint32_t st, needed;

	az_jw_init(&w, RESPONSE_JSON_MAX);
	build_json(&w, resp, no_body, inline_body, keep, resp->truncated);
	if (w.err) {
		az_jw_free(&w);
		return AZ_HOST_OUT_OF_MEMORY;
	}
	needed = (uint32_t)(AZ_BLOB_HDR_LEN + w.len);
	if (w.len > room && inline_body) {
		/* The fields first; as much body as fits after them. */
		size_t base;

		az_jw_free(&w);
		az_jw_init(&w, RESPONSE_JSON_MAX);
		build_json(&w, resp, no_body, inline_body, 0, true);
		base = w.len;
		if (!w.err && base <= room) {
			keep = (room - base) / 4 * 3;
			az_jw_free(&w);
			az_jw_init(&w, RESPONSE_JSON_MAX);
			build_json(&w, resp, no_body, inline_body, keep, true);
		}
		if (w.err) {
			az_jw_free(&w);
			return AZ_HOST_OUT_OF_MEMORY;
		}
	}
	if (w.len > room) {
		az_jw_free(&w);
		st = write_response(req, resp->status, body_bytes, needed, "",
				    0, response_len);
		return st ? st : AZ_HOST_INSUFFICIENT_BUFFER;
	}
	st = write_response(req, resp->status, body_bytes, needed, w.buf, w.len,
			    response_len);
	az_jw_free(&w);
	return st;
}

/* One line per request (verbose): who, what, the outcome. */
static void log_request(const struct az_host_req *req,
			const struct blob_req *br, uint32_t st,
			unsigned int http_status, uint32_t response_len)
{
	const uint8_t *g = req->transaction_id;
	bool known = br->method >= AZ_BLOB_GET && br->method <= AZ_BLOB_PATCH;

	fprintf(stderr,
		"blob: %02x%02x%02x%02x %s %.*s -> status %#x http %u, %u response bytes\n",
		g[0], g[1], g[2], g[3], known ? method_names[br->method] : "?",
		br->path ? (int)br->path_len : 1, br->path ? br->path : "?",
		st, http_status, response_len);
}

static uint32_t run(struct blob_ctx *ctx, const struct az_host_req *req,
		    uint32_t *response_len, unsigned int *http_status,
		    struct blob_req *br)
{
	struct az_http_request hr = { 0 };
	struct az_http_response resp;
	struct az_http_sink sink = { 0 };
	struct az_json_doc doc = { 0 };
	unsigned char *copy = NULL;
	char *target = NULL, *inline_body = NULL;
	size_t len = req->request.len;
	uint64_t crc;
	uint32_t st;
	bool has_body;

	*response_len = 0;
	memset(&resp, 0, sizeof(resp));
	st = AZ_HOST_INVALID_DATA;
	if (len < AZ_BLOB_HDR_LEN)
		goto out;
	st = AZ_HOST_INVALID_ARG;
	if (len > AZ_BLOB_HDR_LEN + AZ_BLOB_MAX_JSON ||
	    req->response.len < AZ_BLOB_HDR_LEN ||
	    req->data_valid > req->data.len)
		goto out;
	/* The one read of the request buffer. */
	st = AZ_HOST_OUT_OF_MEMORY;
	copy = malloc(len);
	if (!copy)
		goto out;
	if (az_host_buf_read(&req->request, 0, copy, len)) {
		st = AZ_HOST_INVALID_ARG;
		goto out;
	}
	st = AZ_HOST_INVALID_DATA;
	if (memcmp(copy, AZ_BLOB_REQ_MAGIC, AZ_BLOB_MAGIC_LEN) ||
	    get_le32(copy + AZ_BLOB_REQ_FORMAT_OFF) != AZ_BLOB_FORMAT_JSON ||
	    get_le64(copy + AZ_BLOB_REQ_RSVD_OFF))
		goto out;
	crc = get_le64(copy + AZ_BLOB_REQ_CRC_OFF);
	put_le64(copy + AZ_BLOB_REQ_CRC_OFF, 0);
	if (azblob_crc64(0, copy, len) != crc)
		goto out;
	br->method = get_le32(copy + AZ_BLOB_REQ_METHOD_OFF);
	if (br->method < AZ_BLOB_GET || br->method > AZ_BLOB_PATCH) {
		st = AZ_HOST_INVALID_ARG;
		goto out;
	}
	st = parse_request_json((const char *)copy + AZ_BLOB_HDR_LEN,
				len - AZ_BLOB_HDR_LEN, &doc, br);
	if (st)
		goto out;
	has_body = br->method == AZ_BLOB_PUT || br->method == AZ_BLOB_POST ||
		   br->method == AZ_BLOB_PATCH;
	if (!has_body && req->data_valid) {
		st = AZ_HOST_INVALID_ARG;
		goto out;
	}

	target = malloc(br->path_len + br->query_len + 2);
	if (!target) {
		st = AZ_HOST_OUT_OF_MEMORY;
		goto out;
	}
	memcpy(target, br->path, br->path_len);
	hr.target_len = br->path_len;
	if (br->query_len) {
		target[hr.target_len++] = '?';
		memcpy(target + hr.target_len, br->query, br->query_len);
		hr.target_len += br->query_len;
	}
	hr.method = method_names[br->method];
	hr.target = target;
	hr.fields = br->fields ? br->fields : "";
	hr.fields_len = br->fields_len;
	hr.has_body = has_body;
	hr.body = &req->data;
	hr.body_len = req->data_valid;
	hr.no_response_body = br->method == AZ_BLOB_HEAD;
	hr.deadline_ns = req->deadline_ns;
	hr.cancel = req->cancel;

	/* The data buffer takes the body unless it holds the request's. */
	if (req->data_valid == 0 && req->data.len > 0) {
		sink.buf = &req->data;
		sink.max = req->data.len;
	} else if (!hr.no_response_body) {
		size_t cap = (req->response.len - AZ_BLOB_HDR_LEN) / 4 * 3;

		if (cap > AZ_BLOB_MAX_INLINE)
			cap = AZ_BLOB_MAX_INLINE;
		inline_body = malloc(cap + 1);
		if (!inline_body) {
			st = AZ_HOST_OUT_OF_MEMORY;
			goto out;
		}
		sink.mem = inline_body;
		sink.max = cap;
	}

	st = az_http_do(ctx->pool, &hr, &sink, &resp);
	if (st)
		goto out;
	*http_status = resp.status;
	st = answer(req, &resp,
		    hr.no_response_body || resp.status == 204 ||
		    resp.status == 304,
		    inline_body, response_len);
out:
	if (ctx->verbose)
		log_request(req, br, st, *http_status, *response_len);
	az_http_response_free(&resp);
	az_json_free(&doc);
	free(inline_body);
	free(target);
	free(copy);
	return st;
}

static void blob_execute(void *vctx, const struct az_host_req *req,
			 struct az_host_result *res)
{
	struct blob_req br = { 0 };
	unsigned int http_status = 0;

	res->status = run(vctx, req, &res->response_len, &http_status, &br);
	free(br.fields);
}

int az_blob_service_init(struct az_host_service *svc, const char *endpoint,
			 int verbose)
{
	struct blob_ctx *ctx = calloc(1, sizeof(*ctx));
	char err[256];

	if (!ctx) {
		fprintf(stderr, "blob: out of memory\n");
		return -1;
	}
	ctx->pool = az_http_pool_new(endpoint, err, sizeof(err));
	if (!ctx->pool) {
		fprintf(stderr, "blob: %s\n", err);
		free(ctx);
		return -1;
	}
	ctx->verbose = verbose;
	svc->name = "blob";
	svc->magic = AZ_BLOB_REQ_MAGIC;
	svc->magic_len = AZ_BLOB_MAGIC_LEN;
	svc->execute = blob_execute;
	svc->ctx = ctx;
	return 0;
}

void az_blob_service_fini(struct az_host_service *svc)
{
	struct blob_ctx *ctx = svc->ctx;

	if (!ctx)
		return;
	az_http_pool_free(ctx->pool);
	free(ctx);
	svc->ctx = NULL;
}

void az_blob_service_stats(const struct az_host_service *svc,
			   struct az_http_stats *st)
{
	const struct blob_ctx *ctx = svc->ctx;

	az_http_pool_stats(ctx->pool, st);
}

struct az_http_pool *az_blob_service_pool(const struct az_host_service *svc)
{
	const struct blob_ctx *ctx = svc->ctx;

	return ctx->pool;
}
