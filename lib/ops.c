// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The single-request operations: containers, properties, metadata, delete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azb.h"

int azb_blob_req(struct azblob_ctx *ctx, struct azb_req *r,
		 enum azb_method m, const char *container, const char *blob,
		 struct azb_buf *query, azblob_error *err)
{
	struct azb_buf empty = { 0 };
	int rc;

	azb_req_init(r, m);
	if (!query)
		query = &empty;
	rc = container ? azb_check_container(container, err) : AZBLOB_OK;
	if (!rc && blob)
		rc = azb_check_blob(blob, err);
	if (!rc)
		rc = azb_path(ctx, container, blob, &r->path, err);
	if (!rc)
		rc = azb_finish_query(ctx, query, &r->query, err);
	if (!rc && container &&
	    asprintf(&r->what, "%s%s%s", container, blob ? "/" : "",
		     blob ? blob : "") < 0) {
		r->what = NULL;
		rc = azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	}
	azb_buf_free(query);
	if (rc)
		azb_req_free(r);
	return rc;
}

void azb_add_meta_headers(struct azb_req *r, const struct azb_meta *m,
			  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char name[300];

		snprintf(name, sizeof(name), "x-ms-meta-%s", m[i].key);
		azb_hdrs_add(&r->hdrs, name, m[i].value);
	}
}

static int dup_hdr(const struct azb_hdrs *h, const char *name, char **slot)
{
	const char *v = azb_hdrs_get(h, name);

	if (!v)
		return 0;
	free(*slot);
	*slot = strdup(v);
	return *slot ? 0 : -1;
}

int azb_props_from_headers(const struct azb_hdrs *h, const char *name,
			   struct azblob_props *p)
{
	const char *v;
	int rc = 0;

	azb_props_clear(p);
	if (name && !(p->name = strdup(name)))
		return -1;
	v = azb_hdrs_get(h, "Content-Length");
	if (v && azb_parse_u64(v, &p->size))
		return -1;
	v = azb_hdrs_get(h, "Last-Modified");
	if (v)
		azb_parse_http_date(v, &p->last_modified);
	rc |= dup_hdr(h, "ETag", &p->etag);
	rc |= dup_hdr(h, "Content-Type", &p->content_type);
	rc |= dup_hdr(h, "Content-MD5", &p->content_md5);
	rc |= dup_hdr(h, "Content-Encoding", &p->content_encoding);
	rc |= dup_hdr(h, "Content-Language", &p->content_language);
	rc |= dup_hdr(h, "Content-Disposition", &p->content_disposition);
	rc |= dup_hdr(h, "Cache-Control", &p->cache_control);
	rc |= dup_hdr(h, "x-ms-blob-type", &p->blob_type);
	for (size_t i = 0; i < h->n && !rc; i++) {
		const char *k = h->v[i].name;

		if (strncasecmp(k, "x-ms-meta-", 10))
			continue;
		rc = azb_props_add_meta(p, k + 10, strlen(k + 10),
					h->v[i].value, strlen(h->v[i].value));
	}
	return rc ? -1 : 0;
}

static int simple(struct azblob_ctx *ctx, enum azb_method m,
		  const char *container, const char *blob, const char *q1,
		  const char *v1, azblob_error *err)
{
	struct azb_buf q = { 0 };
	struct azb_req r;
	struct azb_resp resp = { 0 };
	azblob_error e = { 0 };
	int rc;

	if (q1)
		azb_query_add(&q, q1, v1);
	rc = azb_blob_req(ctx, &r, m, container, blob, &q, &e);
	if (!rc) {
		if (m == AZB_DELETE && blob)
			azb_hdrs_add(&r.hdrs, "x-ms-delete-snapshots",
				     "include");
		rc = azb_exec(ctx, &r, &resp, &e);
		azb_req_free(&r);
	}
	azb_resp_free(&resp);
	azb_err_move(err, &e);
	return rc;
}

AZB_EXPORT int azblob_container_create(azblob_ctx *ctx, const char *container,
				       azblob_error *err)
{
	return simple(ctx, AZB_PUT, container, NULL, "restype", "container",
		      err);
}

AZB_EXPORT int azblob_container_delete(azblob_ctx *ctx, const char *container,
				       azblob_error *err)
{
	return simple(ctx, AZB_DELETE, container, NULL, "restype",
		      "container", err);
}

AZB_EXPORT int azblob_delete(azblob_ctx *ctx, const char *container,
			     const char *blob, azblob_error *err)
{
	if (!blob)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "no blob name");
	return simple(ctx, AZB_DELETE, container, blob, NULL, NULL, err);
}

AZB_EXPORT int azblob_get_properties(azblob_ctx *ctx, const char *container,
				     const char *blob, azblob_props **out,
				     azblob_error *err)
{
	struct azb_req r;
	struct azb_resp resp = { 0 };
	azblob_error e = { 0 };
	azblob_props *p;
	int rc;

	*out = NULL;
	if (!blob)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "no blob name");
	rc = azb_blob_req(ctx, &r, AZB_HEAD, container, blob, NULL, &e);
	if (!rc) {
		rc = azb_exec(ctx, &r, &resp, &e);
		azb_req_free(&r);
	}
	if (!rc) {
		p = calloc(1, sizeof(*p));
		if (!p) {
			rc = azb_fail(&e, AZBLOB_E_NOMEM, ENOMEM,
				      "out of memory");
		} else if (azb_props_from_headers(&resp.hdrs, blob, p)) {
			azblob_props_free(p);
			rc = azb_fail(&e, AZBLOB_E_PROTOCOL, 0,
				      "%s/%s: malformed properties", container,
				      blob);
		} else {
			*out = p;
		}
	}
	azb_resp_free(&resp);
	azb_err_move(err, &e);
	return rc;
}

AZB_EXPORT int azblob_set_metadata(azblob_ctx *ctx, const char *container,
				   const char *blob, const char *const *kv,
				   azblob_error *err)
{
	struct azb_buf q = { 0 };
	struct azb_req r;
	struct azb_resp resp = { 0 };
	azblob_error e = { 0 };
	int rc;

	if (!blob)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "no blob name");
	for (size_t i = 0; kv && kv[i]; i += 2)
		if (!kv[i + 1] || !azb_meta_ok(kv[i], kv[i + 1]))
			return azb_fail(err, AZBLOB_E_INVAL, 0,
					"invalid metadata pair \"%s\"", kv[i]);
	azb_query_add(&q, "comp", "metadata");
	rc = azb_blob_req(ctx, &r, AZB_PUT, container, blob, &q, &e);
	if (!rc) {
		for (size_t i = 0; kv && kv[i]; i += 2) {
			char name[300];

			snprintf(name, sizeof(name), "x-ms-meta-%s", kv[i]);
			azb_hdrs_add(&r.hdrs, name, kv[i + 1]);
		}
		rc = azb_exec(ctx, &r, &resp, &e);
		azb_req_free(&r);
	}
	azb_resp_free(&resp);
	azb_err_move(err, &e);
	return rc;
}
