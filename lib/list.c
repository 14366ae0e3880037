// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Listing containers and blobs, one page (one request) at a time, following
 * the service's NextMarker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azb.h"

struct azblob_lister {
	struct azblob_ctx *ctx;
	enum azb_list_kind kind;
	char *container;
	char *prefix;
	char *delimiter;
	char *marker;		/* the next page's marker, or NULL */
	unsigned int page_size;
	bool metadata;
	bool started;
	bool done;		/* the last page was fetched */
	struct azb_list_page page;
	size_t pos;
};

static int new_lister(azblob_ctx *ctx, enum azb_list_kind kind,
		      const char *container, const char *prefix,
		      const char *delimiter, azblob_lister **out,
		      azblob_error *err)
{
	azblob_lister *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	l->ctx = ctx;
	l->kind = kind;
	l->container = azb_strdup(container);
	l->prefix = azb_strdup(prefix && *prefix ? prefix : NULL);
	l->delimiter = azb_strdup(delimiter && *delimiter ? delimiter : NULL);
	if ((container && !l->container) || (prefix && *prefix && !l->prefix) ||
	    (delimiter && *delimiter && !l->delimiter)) {
		azblob_lister_free(l);
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	}
	*out = l;
	azb_err_reset(err);
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_list_containers(azblob_ctx *ctx, const char *prefix,
				      azblob_lister **out, azblob_error *err)
{
	return new_lister(ctx, AZB_LIST_CONTAINERS, NULL, prefix, NULL, out,
			  err);
}

AZB_EXPORT int azblob_list_blobs(azblob_ctx *ctx, const char *container,
				 const char *prefix, const char *delimiter,
				 azblob_lister **out, azblob_error *err)
{
	int rc = azb_check_container(container, err);

	if (rc) {
		*out = NULL;
		return rc;
	}
	return new_lister(ctx, AZB_LIST_BLOBS, container, prefix, delimiter,
			  out, err);
}

AZB_EXPORT int azblob_lister_set_page_size(azblob_lister *l, unsigned int n)
{
	if (!l || n < 1 || n > 5000)
		return AZBLOB_E_INVAL;
	l->page_size = n;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_lister_set_include_metadata(azblob_lister *l, int on)
{
	if (!l)
		return AZBLOB_E_INVAL;
	l->metadata = on;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_lister_set_marker(azblob_lister *l, const char *marker)
{
	char *m = NULL;

	if (!l)
		return AZBLOB_E_INVAL;
	if (marker && *marker && !(m = strdup(marker)))
		return AZBLOB_E_NOMEM;
	free(l->marker);
	l->marker = m;
	return AZBLOB_OK;
}

AZB_EXPORT const char *azblob_lister_marker(const azblob_lister *l)
{
	return l->done ? NULL : l->marker;
}

AZB_EXPORT void azblob_lister_free(azblob_lister *l)
{
	if (!l)
		return;
	azb_list_page_free(&l->page);
	free(l->container);
	free(l->prefix);
	free(l->delimiter);
	free(l->marker);
	free(l);
}

static int fetch(azblob_lister *l, azblob_error *err)
{
	struct azb_buf q = { 0 };
	struct azb_req r;
	struct azb_resp resp = { 0 };
	char n[16];
	int rc;

	if (l->kind == AZB_LIST_BLOBS)
		azb_query_add(&q, "restype", "container");
	azb_query_add(&q, "comp", "list");
	if (l->prefix)
		azb_query_add(&q, "prefix", l->prefix);
	if (l->delimiter)
		azb_query_add(&q, "delimiter", l->delimiter);
	if (l->marker)
		azb_query_add(&q, "marker", l->marker);
	if (l->page_size) {
		snprintf(n, sizeof(n), "%u", l->page_size);
		azb_query_add(&q, "maxresults", n);
	}
	if (l->metadata)
		azb_query_add(&q, "include", "metadata");
	rc = azb_blob_req(l->ctx, &r, AZB_GET, l->container, NULL, &q, err);
	if (rc)
		return rc;
	r.body_max = AZB_MAX_SMALL_BODY;
	rc = azb_exec(l->ctx, &r, &resp, err);
	azb_req_free(&r);
	if (!rc) {
		azb_list_page_free(&l->page);
		l->pos = 0;
		rc = azb_xml_parse_list(resp.body.p ? resp.body.p : "",
					resp.body.len, l->kind, &l->page,
					err);
		if (!rc) {
			free(l->marker);
			l->marker = l->page.next_marker;
			l->page.next_marker = NULL;
			l->done = !l->marker;
		}
	}
	azb_resp_free(&resp);
	return rc;
}

AZB_EXPORT int azblob_lister_next(azblob_lister *l, const azblob_props **item,
				  azblob_error *err)
{
	azblob_error e = { 0 };
	int rc = AZBLOB_OK;

	*item = NULL;
	/* An empty page with a NextMarker is possible: keep going. */
	while (l->pos == l->page.n && !l->done) {
		rc = fetch(l, &e);
		if (rc)
			break;
		l->started = true;
	}
	if (!rc && l->pos < l->page.n)
		*item = &l->page.items[l->pos++];
	azb_err_move(err, &e);
	return rc;
}
