// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One request, whatever the transport: authorize it, send it, retry what
 * the policy allows, and turn the final answer into a status and an error
 * the caller can read ("container not found: photos").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azb.h"

/* Header lists. */

void azb_hdrs_addn(struct azb_hdrs *h, const char *name, size_t nlen,
		   const char *value, size_t vlen)
{
	struct azb_hdr *e;

	if (h->oom)
		return;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;

		e = realloc(h->v, cap * sizeof(*e));
		if (!e) {
			h->oom = true;
			return;
		}
		h->v = e;
		h->cap = cap;
	}
	e = &h->v[h->n];
	e->name = azb_strndup(name, nlen);
	e->value = azb_strndup(value, vlen);
	if (!e->name || !e->value) {
		free(e->name);
		free(e->value);
		h->oom = true;
		return;
	}
	h->n++;
}

void azb_hdrs_add(struct azb_hdrs *h, const char *name, const char *value)
{
	azb_hdrs_addn(h, name, strlen(name), value, strlen(value));
}

const char *azb_hdrs_get(const struct azb_hdrs *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcasecmp(h->v[i].name, name))
			return h->v[i].value;
	return NULL;
}

void azb_hdrs_truncate(struct azb_hdrs *h, size_t n)
{
	while (h->n > n) {
		h->n--;
		free(h->v[h->n].name);
		free(h->v[h->n].value);
	}
}

void azb_hdrs_free(struct azb_hdrs *h)
{
	azb_hdrs_truncate(h, 0);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

void azb_req_init(struct azb_req *r, enum azb_method m)
{
	memset(r, 0, sizeof(*r));
	r->method = m;
	r->flags = AZB_REQ_IDEMPOTENT;
}

void azb_req_free(struct azb_req *r)
{
	free(r->path);
	free(r->query);
	free(r->what);
	azb_hdrs_free(&r->hdrs);
	memset(r, 0, sizeof(*r));
}

void azb_resp_reset(struct azb_resp *r)
{
	r->status = 0;
	azb_hdrs_truncate(&r->hdrs, 0);
	r->hdrs.oom = false;
	r->body.len = 0;
	r->body.oom = false;
	if (r->body.p)
		r->body.p[0] = '\0';
	r->dst_len = 0;
}

void azb_resp_free(struct azb_resp *r)
{
	azb_hdrs_free(&r->hdrs);
	azb_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

/* Queries. */

void azb_query_add(struct azb_buf *q, const char *name, const char *value)
{
	if (q->len)
		azb_buf_adds(q, "&");
	azb_pct_encode(q, name, strlen(name), false);
	azb_buf_adds(q, "=");
	azb_pct_encode(q, value, strlen(value), false);
}

int azb_finish_query(const struct azblob_ctx *ctx, struct azb_buf *q,
		     char **out, azblob_error *err)
{
	if (ctx->auth == AZB_AUTH_SAS && ctx->sas && *ctx->sas) {
		if (q->len)
			azb_buf_adds(q, "&");
		azb_buf_adds(q, ctx->sas);
	}
	*out = azb_buf_steal(q);
	if (!*out)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	return AZBLOB_OK;
}

/* Answers to errors. */

static enum azblob_status status_class(int http)
{
	switch (http) {
	case 401:
	case 403:
		return AZBLOB_E_AUTH;
	case 404:
		return AZBLOB_E_NOT_FOUND;
	case 409:
		return AZBLOB_E_EXISTS;
	case 304:
	case 412:
		return AZBLOB_E_CONDITION;
	case 416:
		return AZBLOB_E_RANGE;
	default:
		return AZBLOB_E_SERVICE;
	}
}

static const char *friendly(const char *code)
{
	static const char *const map[][2] = {
		{ "ContainerNotFound", "container not found" },
		{ "BlobNotFound", "blob not found" },
		{ "ContainerAlreadyExists", "container already exists" },
		{ "BlobAlreadyExists", "blob already exists" },
		{ "ContainerBeingDeleted", "container is being deleted" },
		{ "ResourceNotFound", "not found" },
		{ "AuthenticationFailed", "authentication failed" },
		{ "AuthorizationFailure", "not authorized" },
		{ "AuthorizationPermissionMismatch", "no permission" },
		{ "InvalidRange", "range outside the blob" },
		{ "ConditionNotMet", "the blob changed" },
		{ "ServerBusy", "the service is busy" },
		{ "InvalidBlockList", "invalid block list" },
		{ "Md5Mismatch", "MD5 mismatch" },
		{ "Crc64Mismatch", "CRC-64 mismatch" },
	};

	for (size_t i = 0; i < AZB_ARRAY_SIZE(map); i++)
		if (!strcmp(code, map[i][0]))
			return map[i][1];
	return NULL;
}

static int fail_from_answer(const struct azb_req *req,
			    const struct azb_resp *resp, azblob_error *err)
{
	enum azblob_status st = status_class(resp->status);
	const char *hcode = azb_hdrs_get(&resp->hdrs, "x-ms-error-code");
	const char *rid = azb_hdrs_get(&resp->hdrs, "x-ms-request-id");
	const char *what = req->what ? req->what : "";
	char *code = NULL, *msg = NULL;
	const char *fr, *c;
	size_t line;

	if (!err)
		return st;
	if (resp->body.len && !req->dst)
		azb_xml_parse_error(resp->body.p, resp->body.len, &code, &msg);
	c = hcode ? hcode : code ? code : "";
	fr = friendly(c);
	line = msg ? strcspn(msg, "\r\n") : 0;
	if (fr && *what && !strncmp(c, "Container", 9))
		azb_fail(err, st, 0, "%s: %.*s", fr, (int)strcspn(what, "/"),
			 what);
	else if (fr && *what)
		azb_fail(err, st, 0, "%s: %s", fr, what);
	else if (fr)
		azb_fail(err, st, 0, "%s", fr);
	else if (st == AZBLOB_E_NOT_FOUND && !*c)
		azb_fail(err, st, 0, "not found: %s", what);
	else
		azb_fail(err, st, 0, "%s%sHTTP %d%s%s%s%.*s", what,
			 *what ? ": " : "", resp->status, *c ? " " : "", c,
			 line ? ": " : "", (int)line, msg ? msg : "");
	err->http_status = resp->status;
	err->service_code = strdup(c);
	err->service_message = msg ? msg : strdup("");
	err->request_id = strdup(rid ? rid : "");
	free(code);
	return st;
}

static uint64_t next_random(struct azblob_ctx *ctx)
{
	uint64_t z = atomic_fetch_add(&ctx->rng, 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Add x-ms-date and the authorization for this try. */
static int authorize(struct azblob_ctx *ctx, struct azb_req *req,
		     azblob_error *err)
{
	char date[32];

	azb_http_date(time(NULL), date);
	azb_hdrs_add(&req->hdrs, "x-ms-date", date);
	if (ctx->auth == AZB_AUTH_KEY) {
		struct azb_buf a = { 0 };

		if (azb_sign_shared_key(req, ctx->account, ctx->key,
					ctx->key_len, &a)) {
			azb_buf_free(&a);
			return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM,
					"cannot sign the request");
		}
		azb_hdrs_add(&req->hdrs, "Authorization", a.p);
		azb_buf_free(&a);
	} else if (ctx->auth == AZB_AUTH_BEARER) {
		char *v = NULL;

		pthread_mutex_lock(&ctx->token_lock);
		if (asprintf(&v, "Bearer %s", ctx->token) < 0)
			v = NULL;
		pthread_mutex_unlock(&ctx->token_lock);
		if (!v)
			return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM,
					"out of memory");
		azb_hdrs_add(&req->hdrs, "Authorization", v);
		free(v);
	}
	if (req->hdrs.oom)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	return AZBLOB_OK;
}

int azb_exec_ok(struct azblob_ctx *ctx, struct azb_req *req,
		struct azb_resp *resp, const int *ok_status,
		azblob_error *err)
{
	const struct azb_retry pol = {
		.max_tries = ctx->max_tries,
		.base_ms = ctx->backoff_base_ms,
		.max_ms = ctx->backoff_max_ms,
	};
	bool idem = req->flags & AZB_REQ_IDEMPOTENT;
	struct azb_transport *t;
	struct azb_tfail tf;
	size_t base_n;
	uint64_t bytes;
	unsigned int timeout;
	int rc;

	rc = azb_ctx_transport(ctx, &t, err);
	if (rc)
		return rc;
	if (req->body_len > t->max_body || req->dst_cap > t->max_body)
		return azb_fail(err, AZBLOB_E_TOO_LARGE, E2BIG,
				"%s: %zu bytes in one request (%s transport: at most %zu)",
				req->what ? req->what : "request",
				req->body_len > req->dst_cap ? req->body_len :
							       req->dst_cap,
				t->name, t->max_body);
	if (!azb_hdrs_get(&req->hdrs, "x-ms-version"))
		azb_hdrs_add(&req->hdrs, "x-ms-version", AZB_API_VERSION);
	base_n = req->hdrs.n;
	bytes = req->body_len > req->dst_cap ? req->body_len : req->dst_cap;
	timeout = azb_try_timeout_ms(ctx->timeout_base_ms, ctx->min_kib_per_s,
				     bytes);
	for (unsigned int tries = 1;; tries++) {
		unsigned int after = 0;
		const char *ra;

		azb_hdrs_truncate(&req->hdrs, base_n);
		rc = authorize(ctx, req, err);
		if (rc)
			break;
		azb_resp_reset(resp);
		memset(&tf, 0, sizeof(tf));
		if (t->exec(t, req, resp, timeout, &tf)) {
			if (!azb_retry_should(&pol, tries, 0, tf.kind, idem)) {
				rc = tf.err.status ? tf.err.status :
						     AZBLOB_E_PROTOCOL;
				azb_err_prefix(&tf.err, req->what);
				azb_err_move(err, &tf.err);
				break;
			}
			azb_err_reset(&tf.err);
		} else {
			bool ok = resp->status >= 200 && resp->status < 300;

			for (const int *s = ok_status; s && *s && !ok; s++)
				ok = *s == resp->status;
			if (ok) {
				rc = AZBLOB_OK;
				break;
			}
			if (!azb_retry_should(&pol, tries, resp->status,
					      AZB_TF_NONE, idem)) {
				rc = fail_from_answer(req, resp, err);
				break;
			}
			ra = azb_hdrs_get(&resp->hdrs, "Retry-After");
			if (ra)
				azb_parse_retry_after(ra, time(NULL), &after);
		}
		azb_sleep_ms(azb_retry_backoff_ms(&pol, tries,
						  next_random(ctx), after));
	}
	azb_hdrs_truncate(&req->hdrs, base_n);
	return rc;
}

int azb_exec(struct azblob_ctx *ctx, struct azb_req *req,
	     struct azb_resp *resp, azblob_error *err)
{
	return azb_exec_ok(ctx, req, resp, NULL, err);
}
