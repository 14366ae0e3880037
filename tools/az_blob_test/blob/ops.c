// SPDX-License-Identifier: GPL-2.0
/*
 * The Blob operations az_blob_blob needs, over either transport: one
 * request per call, bodies straight from and to the caller's buffer.
 * Large blobs go as several requests of at most blob_chunk bytes: Put
 * Block + Put Block List up, ranged GETs down.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../az_blob_host/blob_service.h"
#include "blob.h"

size_t blob_chunk = CHUNK_MAX;

static int why_set(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* RFC 3986 unreserved characters stay; with @slash, "/" too. */
static void encode(const char *s, char *out, size_t len, bool slash)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) ||
		    (slash && ch == '/')) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hexd[ch >> 4];
			out[o++] = hexd[ch & 15];
		}
	}
	out[o] = '\0';
}

void pct_encode(const char *s, char *out, size_t len)
{
	encode(s, out, len, false);
}

void blob_path(char *out, size_t len, const char *container, const char *blob)
{
	char enc[1024];

	if (!blob) {
		snprintf(out, len, "/%s/%s", BC_ACCOUNT, container);
		return;
	}
	encode(blob, enc, sizeof(enc), true);
	snprintf(out, len, "/%s/%s/%s", BC_ACCOUNT, container, enc);
}

static int expect(const struct blob_ans *a, unsigned int http, const char *what,
		  char *why, size_t why_len)
{
	char s[320];

	if (a->error[0] || a->status != AZ_HOST_OK || a->http != http)
		return why_set(why, why_len, "%s: %s (wanted http %u)", what,
			       ans_str(a, s, sizeof(s)), http);
	return 0;
}

int container_create(struct blob_conn *c, const char *container,
		     struct blob_ans *a)
{
	struct bc_req r;
	char path[512];

	blob_path(path, sizeof(path), container, NULL);
	bc_req_init(&r, AZ_BLOB_PUT, path, "restype=container");
	return blob_call(c, &r, NULL, 0, NULL, 0, a);
}

int container_delete(struct blob_conn *c, const char *container,
		     struct blob_ans *a)
{
	struct bc_req r;
	char path[512];

	blob_path(path, sizeof(path), container, NULL);
	bc_req_init(&r, AZ_BLOB_DELETE, path, "restype=container");
	return blob_call(c, &r, NULL, 0, NULL, 0, a);
}

int blob_put(struct blob_conn *c, const char *container, const char *blob,
	     const void *src, size_t size, char *why, size_t why_len)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	char path[1200], query[256], id[64], ide[96], what[64];
	size_t nblocks, off, xml_len = 0, xml_cap;
	char *xml;
	int ret = -1;

	blob_path(path, sizeof(path), container, blob);
	if (size <= blob_chunk) {
		bc_req_init(&r, AZ_BLOB_PUT, path, NULL);
		bc_hdr_add(&r, "x-ms-blob-type", "BlockBlob");
		blob_call(c, &r, src, size, NULL, 0, &a);
		ret = expect(&a, 201, "Put Blob", why, why_len);
		ans_free(&a);
		return ret;
	}
	nblocks = (size + blob_chunk - 1) / blob_chunk;
	xml_cap = 128 + nblocks * 64;
	xml = malloc(xml_cap);
	if (!xml)
		abort();
	xml_len += (size_t)snprintf(xml, xml_cap,
		"<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (size_t i = 0; i < nblocks; i++) {
		char raw[16];
		size_t n;

		off = i * blob_chunk;
		n = size - off < blob_chunk ? size - off : blob_chunk;
		/* Block ids: base64 of equal-length strings. */
		snprintf(raw, sizeof(raw), "blk-%08u",
			 (unsigned int)(i % 100000000));
		EVP_EncodeBlock((unsigned char *)id, (unsigned char *)raw, 12);
		pct_encode(id, ide, sizeof(ide));
		snprintf(query, sizeof(query), "comp=block&blockid=%s", ide);
		bc_req_init(&r, AZ_BLOB_PUT, path, query);
		blob_call(c, &r, (const char *)src + off, n, NULL, 0, &a);
		snprintf(what, sizeof(what), "Put Block %zu of %zu", i + 1,
			 nblocks);
		if (expect(&a, 201, what, why, why_len))
			goto out;
		xml_len += (size_t)snprintf(xml + xml_len, xml_cap - xml_len,
					    "<Latest>%s</Latest>", id);
	}
	xml_len += (size_t)snprintf(xml + xml_len, xml_cap - xml_len,
				    "</BlockList>");
	bc_req_init(&r, AZ_BLOB_PUT, path, "comp=blocklist");
	blob_call(c, &r, xml, xml_len, NULL, 0, &a);
	ret = expect(&a, 201, "Put Block List", why, why_len);
out:
	ans_free(&a);
	free(xml);
	return ret;
}

/* One ranged GET of [@off, @off + @len) into @dst; *@total from
 * Content-Range. 0, 1 for 416 (nothing there), -1.
 */
static int get_range(struct blob_conn *c, const char *path, uint64_t off,
		     size_t len, void *dst, uint64_t *total, char *why,
		     size_t why_len)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	char range[80], s[320];
	const char *cr, *slash;
	int ret = -1;

	snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, off,
		 off + len - 1);
	bc_req_init(&r, AZ_BLOB_GET, path, NULL);
	bc_hdr_add(&r, "x-ms-range", range);
	blob_call(c, &r, NULL, 0, dst, len, &a);
	if (!a.error[0] && a.status == AZ_HOST_OK && a.http == 416) {
		ret = 1;
		goto out;
	}
	if (expect(&a, 206, range, why, why_len))
		goto out;
	cr = ans_header(&a, "Content-Range");
	slash = cr ? strrchr(cr, '/') : NULL;
	if (!slash) {
		why_set(why, why_len, "%s: no Content-Range", range);
		goto out;
	}
	*total = strtoull(slash + 1, NULL, 10);
	if (a.truncated || a.body_bytes != (off + len <= *total ? len :
					    *total - off)) {
		why_set(why, why_len, "%s: %u body bytes%s (%s)", range,
			a.body_bytes, a.truncated ? ", truncated" : "",
			ans_str(&a, s, sizeof(s)));
		goto out;
	}
	ret = 0;
out:
	ans_free(&a);
	return ret;
}

int blob_get_range(struct blob_conn *c, const char *container,
		   const char *blob, uint64_t off, size_t len, void *dst,
		   char *why, size_t why_len)
{
	char path[1200];
	uint64_t total;
	int ret;

	blob_path(path, sizeof(path), container, blob);
	ret = get_range(c, path, off, len, dst, &total, why, why_len);
	if (ret == 1)
		return why_set(why, why_len, "range beyond the blob (416)");
	if (!ret && off + len > total)
		return why_set(why, why_len, "blob of %" PRIu64 " bytes", total);
	return ret;
}

int blob_get(struct blob_conn *c, const char *container, const char *blob,
	     void *dst, size_t cap, size_t *size, char *why, size_t why_len)
{
	char path[1200];
	uint64_t total = 0, off;
	size_t first = cap < blob_chunk ? cap : blob_chunk;
	int ret;

	blob_path(path, sizeof(path), container, blob);
	ret = first ? get_range(c, path, 0, first, dst, &total, why, why_len) :
		      1;
	if (ret == 1) {
		/* Empty (or no room): a plain GET says which. */
		struct blob_ans a = { 0 };
		struct bc_req r;

		bc_req_init(&r, AZ_BLOB_GET, path, NULL);
		blob_call(c, &r, NULL, 0, dst, cap, &a);
		ret = expect(&a, 200, "GET", why, why_len);
		if (!ret && (!a.has_length || a.content_length > cap ||
			     a.truncated))
			ret = why_set(why, why_len, "GET: blob of %" PRIu64
				      " bytes, room for %zu", a.content_length,
				      cap);
		*size = (size_t)a.content_length;
		ans_free(&a);
		return ret;
	}
	if (ret)
		return ret;
	if (total > cap)
		return why_set(why, why_len, "blob of %" PRIu64
			       " bytes, room for %zu", total, cap);
	for (off = first; off < total; off += blob_chunk) {
		size_t n = total - off < blob_chunk ? total - off : blob_chunk;
		uint64_t t2;

		ret = get_range(c, path, off, n, (char *)dst + off, &t2, why,
				why_len);
		if (ret == 1)
			return why_set(why, why_len, "416 at %" PRIu64, off);
		if (ret)
			return ret;
		if (t2 != total)
			return why_set(why, why_len, "blob changed size");
	}
	*size = total;
	return 0;
}

int blob_head(struct blob_conn *c, const char *container, const char *blob,
	      uint64_t *size, char *why, size_t why_len)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	char path[1200];
	int ret;

	blob_path(path, sizeof(path), container, blob);
	bc_req_init(&r, AZ_BLOB_HEAD, path, NULL);
	blob_call(c, &r, NULL, 0, NULL, 0, &a);
	if (!a.error[0] && a.status == AZ_HOST_OK && a.http == 404) {
		ans_free(&a);
		return 1;
	}
	ret = expect(&a, 200, "HEAD", why, why_len);
	if (!ret && !a.has_length)
		ret = why_set(why, why_len, "HEAD: no content_length");
	*size = a.content_length;
	ans_free(&a);
	return ret;
}

int blob_delete(struct blob_conn *c, const char *container, const char *blob,
		char *why, size_t why_len)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	char path[1200];
	int ret;

	blob_path(path, sizeof(path), container, blob);
	bc_req_init(&r, AZ_BLOB_DELETE, path, NULL);
	blob_call(c, &r, NULL, 0, NULL, 0, &a);
	ret = expect(&a, 202, "Delete Blob", why, why_len);
	ans_free(&a);
	return ret;
}

/* The text between <@tag> and </@tag> from @p (before @end), or NULL. */
static const char *xml_elem(const char *p, const char *end, const char *tag,
			    char *out, size_t len)
{
	char open[64], close[64];
	const char *s, *e;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = memmem(p, (size_t)(end - p), open, strlen(open));
	if (!s)
		return NULL;
	s += strlen(open);
	e = memmem(s, (size_t)(end - s), close, strlen(close));
	if (!e)
		return NULL;
	snprintf(out, len, "%.*s", (int)(e - s), s);
	return e + strlen(close);
}

int blob_list(struct blob_conn *c, const char *container, const char *prefix,
	      unsigned int page, struct blob_item *items, int max, int *pages,
	      char *why, size_t why_len)
{
	const size_t cap = 4UL << 20;
	struct blob_ans a = { 0 };
	struct bc_req r;
	char path[512], query[1024], marker[512] = "", enc[768], pe[512];
	char *buf = page_alloc(cap);
	int n = 0, ret = -1;

	*pages = 0;
	blob_path(path, sizeof(path), container, NULL);
	pct_encode(prefix ? prefix : "", pe, sizeof(pe));
	do {
		const char *p, *end, *blob_start;
		size_t ql;

		ql = (size_t)snprintf(query, sizeof(query),
				      "restype=container&comp=list");
		if (prefix && *prefix)
			ql += (size_t)snprintf(query + ql, sizeof(query) - ql,
					       "&prefix=%s", pe);
		if (page)
			ql += (size_t)snprintf(query + ql, sizeof(query) - ql,
					       "&maxresults=%u", page);
		if (marker[0]) {
			pct_encode(marker, enc, sizeof(enc));
			snprintf(query + ql, sizeof(query) - ql, "&marker=%s",
				 enc);
		}
		bc_req_init(&r, AZ_BLOB_GET, path, query);
		blob_call(c, &r, NULL, 0, buf, cap, &a);
		(*pages)++;
		if (expect(&a, 200, "List Blobs", why, why_len))
			goto out;
		if (a.truncated) {
			why_set(why, why_len, "List Blobs: truncated");
			goto out;
		}
		p = buf;
		end = buf + a.body_bytes;
		while ((blob_start = memmem(p, (size_t)(end - p), "<Blob>", 6))) {
			const char *bend = memmem(blob_start, (size_t)(end - blob_start),
						  "</Blob>", 7);
			char len_s[32];

			if (!bend) {
				why_set(why, why_len, "List Blobs: bad XML");
				goto out;
			}
			if (n < max) {
				if (!xml_elem(blob_start, bend, "Name", items[n].name,
					      sizeof(items[n].name)) ||
				    !xml_elem(blob_start, bend, "Content-Length",
					      len_s, sizeof(len_s))) {
					why_set(why, why_len,
						"List Blobs: no Name or Content-Length");
					goto out;
				}
				items[n].size = strtoull(len_s, NULL, 10);
			}
			n++;
			p = bend + 7;
		}
		if (!xml_elem(buf, end, "NextMarker", marker, sizeof(marker)))
			marker[0] = '\0';
		ans_free(&a);
	} while (marker[0] && *pages < 10000);
	ret = n;
out:
	ans_free(&a);
	page_free(buf, cap);
	return ret;
}
