// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * HsReq001 request buffers and HsRes001 response buffers: see hsframe.h.
 *
 * The response comes from the host and is parsed as untrusted: every
 * length is checked against the buffer, the CRC-64 is verified, and the
 * JSON parser accepts only what RFC 8259 allows, with bounded nesting,
 * string code points up to U+00FF (the format's ISO-8859-1 reading) and a
 * bounded number of header fields. Unknown members are skipped, so that a
 * newer host may add some.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hsframe.h"

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

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A JSON string of bytes, each byte read as the code point of its value. */
static void json_latin1(struct azb_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	azb_buf_adds(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			azb_buf_add(b, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4],
				      hex[c & 15] };

			azb_buf_add(b, e, 6);
		} else {
			azb_buf_add(b, s, 1);
		}
	}
	azb_buf_adds(b, "\"");
}

static bool host_owned(const char *name)
{
	static const char *const owned[] = {
		"Host", "Content-Length", "Transfer-Encoding", "Connection",
		"Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
		"Expect",
	};

	for (size_t i = 0; i < AZB_ARRAY_SIZE(owned); i++)
		if (!strcasecmp(name, owned[i]))
			return true;
	return false;
}

int hs_build_request(const struct azb_req *req, struct azb_buf *out,
		     azblob_error *err)
{
	unsigned char *h;
	uint64_t crc;

	if (strlen(req->path) > HS_MAX_PATH ||
	    strlen(req->query) > HS_MAX_QUERY)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"path or query too long for the host");
	if (req->hdrs.n > HS_MAX_FIELDS)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"too many header fields for the host");
	out->len = 0;
	if (azb_buf_reserve(out, HS_HDR_LEN))
		goto oom;
	memset(out->p, 0, HS_HDR_LEN);
	out->len = HS_HDR_LEN;
	azb_buf_adds(out, "{\"path\":");
	json_latin1(out, req->path);
	if (*req->query) {
		azb_buf_adds(out, ",\"query\":");
		json_latin1(out, req->query);
	}
	azb_buf_adds(out, ",\"headers\":[");
	for (size_t i = 0, k = 0; i < req->hdrs.n; i++) {
		const struct azb_hdr *f = &req->hdrs.v[i];

		if (host_owned(f->name))
			continue;
		if (strlen(f->name) > HS_MAX_NAME ||
		    strlen(f->value) > HS_MAX_VALUE)
			return azb_fail(err, AZBLOB_E_INVAL, 0,
					"header field %s too long for the host",
					f->name);
		azb_buf_adds(out, k++ ? ",[" : "[");
		json_latin1(out, f->name);
		azb_buf_adds(out, ",");
		json_latin1(out, f->value);
		azb_buf_adds(out, "]");
	}
	azb_buf_adds(out, "]}");
	if (out->oom)
		goto oom;
	if (out->len - HS_HDR_LEN > HS_MAX_JSON)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"request description too long for the host");
	h = (unsigned char *)out->p;
	memcpy(h, HS_REQ_MAGIC, 8);
	put_le32(h + HS_OFF_FORMAT, HS_FORMAT_JSON);
	put_le32(h + HS_OFF_METHOD, (uint32_t)req->method);
	crc = azblob_crc64(0, h, out->len);
	put_le64(h + HS_OFF_CRC, crc);
	return AZBLOB_OK;
oom:
	return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
}

/* The JSON reader. */

struct jr {
	const char *p, *end;
	const char *why;
	struct azb_buf s;	/* the last string read, decoded */
};

static void ws(struct jr *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool eat(struct jr *j, char c)
{
	ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static int fail(struct jr *j, const char *why)
{
	if (!j->why)
		j->why = why;
	return -1;
}

static int hex4(const char *p, unsigned int *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned int)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* A string into j->s; code points above U+00FF are refused. */
static int str(struct jr *j)
{
	j->s.len = 0;
	if (!eat(j, '"'))
		return fail(j, "JSON: string expected");
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;
		unsigned int u;

		if (c == '"') {
			azb_buf_add(&j->s, "", 0);
			return j->s.oom ? fail(j, "out of memory") : 0;
		}
		if (c < 0x20 || c >= 0x80)
			return fail(j, "JSON: raw control or non-ASCII byte");
		if (c != '\\') {
			azb_buf_add(&j->s, &c, 1);
			continue;
		}
		if (j->p == j->end)
			break;
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (j->end - j->p < 4 || hex4(j->p, &u))
				return fail(j, "JSON: bad \\u escape");
			if (u > 0xff)
				return fail(j, "JSON: code point above U+00FF");
			j->p += 4;
			c = (unsigned char)u;
			break;
		default:
			return fail(j, "JSON: bad escape");
		}
		azb_buf_add(&j->s, &c, 1);
	}
	return fail(j, "JSON: unterminated string");
}

static int number(struct jr *j, uint64_t *v, bool *null)
{
	ws(j);
	*null = false;
	if (j->end - j->p >= 4 && !memcmp(j->p, "null", 4)) {
		j->p += 4;
		*null = true;
		return 0;
	}
	if (j->p == j->end || *j->p < '0' || *j->p > '9')
		return fail(j, "JSON: number expected");
	if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' &&
	    j->p[1] <= '9')
		return fail(j, "JSON: leading zero");
	*v = 0;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		uint64_t d = (uint64_t)(*j->p++ - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return fail(j, "JSON: number too large");
		*v = *v * 10 + d;
	}
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E' ||
			      *j->p == '-'))
		return fail(j, "JSON: not a whole number");
	return 0;
}

static int boolean(struct jr *j, bool *v)
{
	ws(j);
	if (j->end - j->p >= 4 && !memcmp(j->p, "true", 4)) {
		j->p += 4;
		*v = true;
		return 0;
	}
	if (j->end - j->p >= 5 && !memcmp(j->p, "false", 5)) {
		j->p += 5;
		*v = false;
		return 0;
	}
	return fail(j, "JSON: boolean expected");
}

/* Skip any value (an unknown member), nesting at most @depth. */
static int skip(struct jr *j, int depth)
{
	uint64_t n;
	bool b;

	ws(j);
	if (j->p == j->end)
		return fail(j, "JSON: value expected");
	if (depth <= 0)
		return fail(j, "JSON: nested too deep");
	switch (*j->p) {
	case '"':
		return str(j);
	case 't': case 'f':
		return boolean(j, &b);
	case 'n':
		return number(j, &n, &b);
	case '[':
		j->p++;
		if (eat(j, ']'))
			return 0;
		do {
			if (skip(j, depth - 1))
				return -1;
		} while (eat(j, ','));
		return eat(j, ']') ? 0 : fail(j, "JSON: ] expected");
	case '{':
		j->p++;
		if (eat(j, '}'))
			return 0;
		do {
			if (str(j) || !eat(j, ':') || skip(j, depth - 1))
				return fail(j, "JSON: bad member");
		} while (eat(j, ','));
		return eat(j, '}') ? 0 : fail(j, "JSON: } expected");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
			while (j->p < j->end &&
			       strchr("0123456789+-.eE", *j->p))
				j->p++;
			return 0;
		}
		return fail(j, "JSON: unexpected character");
	}
}

static int headers(struct jr *j, struct azb_hdrs *h)
{
	if (!eat(j, '['))
		return fail(j, "JSON: headers is not an array");
	if (eat(j, ']'))
		return 0;
	do {
		char *name;

		if (h->n == HS_MAX_RESP_FIELDS)
			return fail(j, "too many header fields");
		if (!eat(j, '[') || str(j))
			return fail(j, "JSON: bad header field");
		name = azb_strndup(j->s.p, j->s.len);
		if (!name)
			return fail(j, "out of memory");
		if (!*name || memchr(j->s.p, '\0', j->s.len) ||
		    !eat(j, ',') || str(j) || !eat(j, ']')) {
			free(name);
			return fail(j, "JSON: bad header field");
		}
		if (memchr(j->s.p, '\0', j->s.len)) {
			free(name);
			return fail(j, "NUL in a header field");
		}
		azb_hdrs_addn(h, name, strlen(name), j->s.p, j->s.len);
		free(name);
		if (h->oom)
			return fail(j, "out of memory");
	} while (eat(j, ','));
	return eat(j, ']') ? 0 : fail(j, "JSON: ] expected");
}

static int body64(struct jr *j, struct azb_buf *out)
{
	long n;

	if (str(j))
		return -1;
	if (azb_buf_reserve(out, j->s.len / 4 * 3 + 3))
		return fail(j, "out of memory");
	n = azb_base64_decode(j->s.p ? j->s.p : "", j->s.len,
			      (unsigned char *)out->p + out->len);
	if (n < 0)
		return fail(j, "bad body_base64");
	out->len += (size_t)n;
	out->p[out->len] = '\0';
	return 0;
}

static int answer(struct jr *j, struct hs_answer *a, struct azb_hdrs *h,
		  struct azb_buf *body)
{
	bool seen_headers = false, seen_trunc = false, seen_len = false;

	if (!eat(j, '{'))
		return fail(j, "JSON: object expected");
	if (eat(j, '}'))
		return fail(j, "JSON: empty answer");
	do {
		int rc;

		if (str(j) || !eat(j, ':'))
			return fail(j, "JSON: bad member");
		if (!strcmp(j->s.p, "headers") && !seen_headers) {
			seen_headers = true;
			rc = headers(j, h);
		} else if (!strcmp(j->s.p, "content_length") && !seen_len) {
			bool null;

			seen_len = true;
			rc = number(j, &a->content_length, &null);
			a->have_length = !null;
		} else if (!strcmp(j->s.p, "truncated") && !seen_trunc) {
			seen_trunc = true;
			rc = boolean(j, &a->truncated);
		} else if (!strcmp(j->s.p, "body_base64") && !body->len) {
			rc = body64(j, body);
		} else {
			rc = skip(j, 3);
		}
		if (rc)
			return -1;
	} while (eat(j, ','));
	if (!eat(j, '}'))
		return fail(j, "JSON: } expected");
	ws(j);
	if (j->p != j->end)
		return fail(j, "JSON: bytes after the answer");
	if (!seen_headers || !seen_trunc || !seen_len)
		return fail(j, "JSON: a member of the answer is missing");
	return 0;
}

int hs_parse_response(const unsigned char *buf, size_t len,
		      struct hs_answer *a, struct azb_hdrs *hdrs,
		      struct azb_buf *inline_body, const char **why)
{
	static const unsigned char zero[8];
	struct jr j = { 0 };
	uint64_t crc;
	int rc;

	memset(a, 0, sizeof(*a));
	if (len < HS_HDR_LEN) {
		*why = "response shorter than its header";
		return -1;
	}
	if (memcmp(buf, HS_RES_MAGIC, 8) ||
	    get_le32(buf + HS_OFF_FORMAT) != HS_FORMAT_JSON) {
		*why = "bad response magic or format";
		return -1;
	}
	crc = azblob_crc64(0, buf, HS_OFF_CRC);
	crc = azblob_crc64(crc, zero, 8);
	crc = azblob_crc64(crc, buf + HS_OFF_CRC + 8, len - HS_OFF_CRC - 8);
	if (crc != get_le64(buf + HS_OFF_CRC)) {
		*why = "response CRC mismatch";
		return -1;
	}
	a->http_status = get_le32(buf + HS_OFF_STATUS);
	a->body_bytes = get_le32(buf + HS_OFF_BODY_BYTES);
	a->needed = get_le32(buf + HS_OFF_NEEDED);
	if (a->http_status < 100 || a->http_status > 999) {
		*why = "bad HTTP status in the response";
		return -1;
	}
	if (len == HS_HDR_LEN) {
		a->header_only = true;
		return 0;
	}
	j.p = (const char *)buf + HS_HDR_LEN;
	j.end = (const char *)buf + len;
	rc = answer(&j, a, hdrs, inline_body);
	azb_buf_free(&j.s);
	if (rc)
		*why = j.why ? j.why : "malformed response";
	return rc;
}
