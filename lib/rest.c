// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The REST transport: HTTP/1.1 over plain TCP or TLS with libcurl.
 *
 * Connections are reused: idle easy handles (each keeps its connection
 * open) wait in a small pool that every thread takes from and returns to,
 * so a worker finds a warm connection for its next request. The handles
 * share the DNS cache and TLS sessions. libcurl's process-wide init runs
 * once (thread-safe in 7.84 and later).
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azb.h"

#define REST_MAX_IDLE		64
#define REST_DEFAULT_BODY	(1 * AZB_MIB)	/* errors, small answers */

struct rest {
	struct azb_transport t;
	char *origin;
	char *ca_file;
	CURLSH *share;
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock;
	CURL *idle[REST_MAX_IDLE];
	unsigned int nidle;
	atomic_ulong requests;		/* statistics, for tests */
	atomic_ulong connects;
};

struct xfer {
	const struct azb_req *req;
	struct azb_resp *resp;
	size_t sent;
	size_t body_max;
	bool overflow;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool azb_rest_available(void)
{
	return true;
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a,
		       void *u)
{
	struct rest *r = u;

	(void)h;
	(void)a;
	if ((unsigned int)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&r->share_lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *u)
{
	struct rest *r = u;

	(void)h;
	if ((unsigned int)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&r->share_lock[d]);
}

static size_t on_header(char *p, size_t size, size_t n, void *u)
{
	struct xfer *x = u;
	size_t len = size * n, k = len;
	const char *colon;

	while (k && (p[k - 1] == '\r' || p[k - 1] == '\n'))
		k--;
	if (k >= 5 && !memcmp(p, "HTTP/", 5)) {
		/* A new status line (after a 1xx): start over. */
		const char *sp = memchr(p, ' ', k);

		azb_hdrs_truncate(&x->resp->hdrs, 0);
		x->resp->status = sp ? atoi(sp + 1) : 0;
		return len;
	}
	colon = memchr(p, ':', k);
	if (colon && colon != p) {
		const char *v = colon + 1;
		size_t vl = k - (size_t)(v - p);

		while (vl && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		azb_hdrs_addn(&x->resp->hdrs, p, (size_t)(colon - p), v, vl);
		if (x->resp->hdrs.oom)
			return 0;
	}
	return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *u)
{
	struct xfer *x = u;
	size_t len = size * n;
	const struct azb_req *req = x->req;
	struct azb_resp *resp = x->resp;

	if (req->dst && resp->status >= 200 && resp->status < 300) {
		if (len > req->dst_cap - resp->dst_len) {
			x->overflow = true;
			return 0;
		}
		memcpy((char *)req->dst + resp->dst_len, p, len);
		resp->dst_len += len;
		return len;
	}
	if (len > x->body_max - resp->body.len) {
		x->overflow = true;
		return 0;
	}
	azb_buf_add(&resp->body, p, len);
	return resp->body.oom ? 0 : len;
}

static size_t on_read(char *p, size_t size, size_t n, void *u)
{
	struct xfer *x = u;
	size_t k = x->req->body_len - x->sent;

	if (k > size * n)
		k = size * n;
	memcpy(p, (const char *)x->req->body + x->sent, k);
	x->sent += k;
	return k;
}

/* libcurl rewinds when it resends on a fresh connection. */
static int on_seek(void *u, curl_off_t off, int origin)
{
	struct xfer *x = u;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->req->body_len)
		return CURL_SEEKFUNC_FAIL;
	x->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static CURL *get_handle(struct rest *r)
{
	CURL *h = NULL;

	pthread_mutex_lock(&r->lock);
	if (r->nidle)
		h = r->idle[--r->nidle];
	pthread_mutex_unlock(&r->lock);
	if (h)
		curl_easy_reset(h);	/* keeps its connection */
	else
		h = curl_easy_init();
	return h;
}

static void put_handle(struct rest *r, CURL *h, bool keep)
{
	pthread_mutex_lock(&r->lock);
	if (keep && r->nidle < REST_MAX_IDLE) {
		r->idle[r->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	if (h)
		curl_easy_cleanup(h);
}

static int tfail(struct azb_tfail *f, enum azb_tfail_kind kind,
		 enum azblob_status st, const char *what, const char *detail)
{
	f->kind = kind;
	azb_fail(&f->err, st, 0, "%s%s%s", what, *detail ? ": " : "",
		 detail);
	return -1;
}

static int classify(struct azb_tfail *f, CURLcode rc, const char *ebuf,
		    bool overflow)
{
	const char *m = *ebuf ? ebuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return tfail(f, AZB_TF_NOT_SENT, AZBLOB_E_NETWORK,
			     "cannot connect", m);
	case CURLE_OPERATION_TIMEDOUT:
		return tfail(f, AZB_TF_TIMEOUT, AZBLOB_E_TIMEOUT, "timed out",
			     m);
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return tfail(f, AZB_TF_DROPPED, AZBLOB_E_NETWORK,
			     "connection dropped", m);
	case CURLE_WRITE_ERROR:
		if (overflow)
			return tfail(f, AZB_TF_FATAL, AZBLOB_E_PROTOCOL,
				     "response body longer than expected", "");
		/* fall through */
	default:
		return tfail(f, AZB_TF_FATAL, AZBLOB_E_NETWORK, "HTTP", m);
	}
}

static struct curl_slist *headers(const struct azb_req *req, bool *oom)
{
	struct curl_slist *l = NULL, *n;

	/* No "Expect: 100-continue", no "Accept": nothing unsigned. */
	static const char *const fixed[] = { "Expect:", "Accept:" };

	for (size_t i = 0; i < AZB_ARRAY_SIZE(fixed); i++) {
		n = curl_slist_append(l, fixed[i]);
		if (!n)
			goto oom;
		l = n;
	}
	for (size_t i = 0; i < req->hdrs.n; i++) {
		char *line;

		/* "Name;" sends an empty value ("Name:" would drop it). */
		if (asprintf(&line, *req->hdrs.v[i].value ? "%s: %s" : "%s;",
			     req->hdrs.v[i].name, req->hdrs.v[i].value) < 0)
			goto oom;
		n = curl_slist_append(l, line);
		free(line);
		if (!n)
			goto oom;
		l = n;
	}
	return l;
oom:
	curl_slist_free_all(l);
	*oom = true;
	return NULL;
}

static int rest_exec(struct azb_transport *t, const struct azb_req *req,
		     struct azb_resp *resp, unsigned int timeout_ms,
		     struct azb_tfail *f)
{
	struct rest *r = (struct rest *)t;
	struct xfer x = { .req = req, .resp = resp };
	char ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl;
	bool oom = false;
	char *url = NULL;
	CURLcode rc;
	CURL *h;
	long code = 0;

	x.body_max = req->body_max ? req->body_max : REST_DEFAULT_BODY;
	hl = headers(req, &oom);
	if (oom || asprintf(&url, "%s%s%s%s", r->origin, req->path,
			    *req->query ? "?" : "", req->query) < 0) {
		curl_slist_free_all(hl);
		return tfail(f, AZB_TF_FATAL, AZBLOB_E_NOMEM, "out of memory",
			     "");
	}
	h = get_handle(r);
	if (!h) {
		free(url);
		curl_slist_free_all(hl);
		return tfail(f, AZB_TF_FATAL, AZBLOB_E_NOMEM,
			     "cannot create a libcurl handle", "");
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SHARE, r->share);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(timeout_ms < 15000 ? timeout_ms : 15000));
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	if (r->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
	switch (req->method) {
	case AZB_GET:
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		break;
	case AZB_HEAD:
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		break;
	case AZB_DELETE:
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
		break;
	case AZB_PUT:
	case AZB_POST:
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
		if (req->method == AZB_POST)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
		break;
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	{
		long nc = 0;

		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nc);
		atomic_fetch_add(&r->requests, 1);
		atomic_fetch_add(&r->connects, (unsigned long)nc);
	}
	/* A handle whose transfer failed may hold a broken connection. */
	put_handle(r, h, rc == CURLE_OK);
	free(url);
	curl_slist_free_all(hl);
	if (rc != CURLE_OK)
		return classify(f, rc, ebuf, x.overflow);
	if (resp->hdrs.oom || resp->body.oom)
		return tfail(f, AZB_TF_FATAL, AZBLOB_E_NOMEM, "out of memory",
			     "");
	resp->status = (int)code;
	return 0;
}

void azb_rest_stats(struct azblob_ctx *ctx, unsigned long *requests,
		    unsigned long *connects)
{
	struct azb_transport *t = atomic_load(&ctx->transport_ready);
	struct rest *r = (struct rest *)t;

	*requests = *connects = 0;
	if (t && t->kind == AZBLOB_TRANSPORT_REST) {
		*requests = atomic_load(&r->requests);
		*connects = atomic_load(&r->connects);
	}
}

static void rest_destroy(struct azb_transport *t)
{
	struct rest *r = (struct rest *)t;

	for (unsigned int i = 0; i < r->nidle; i++)
		curl_easy_cleanup(r->idle[i]);
	if (r->share)
		curl_share_cleanup(r->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&r->share_lock[i]);
	pthread_mutex_destroy(&r->lock);
	free(r->origin);
	free(r->ca_file);
	free(r);
}

int azb_rest_open(struct azblob_ctx *ctx, struct azb_transport **out,
		  azblob_error *err)
{
	struct rest *r;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return azb_fail(err, AZBLOB_E_UNSUPPORTED, 0,
				"libcurl: %s", curl_easy_strerror(curl_init_rc));
	r = calloc(1, sizeof(*r));
	if (!r)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	pthread_mutex_init(&r->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&r->share_lock[i], NULL);
	r->t.kind = AZBLOB_TRANSPORT_REST;
	r->t.name = "rest";
	r->t.max_body = SIZE_MAX;
	r->t.exec = rest_exec;
	r->t.destroy = rest_destroy;
	r->origin = azb_url_origin(&ctx->url);
	r->ca_file = azb_strdup(ctx->ca_file);
	r->share = curl_share_init();
	if (!r->origin || (ctx->ca_file && !r->ca_file) || !r->share) {
		rest_destroy(&r->t);
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	}
	curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = &r->t;
	return AZBLOB_OK;
}
