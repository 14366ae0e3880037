// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The context: configuration, credentials from connection strings and the
 * environment, and the transport, chosen once on first use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azb.h"

#define DEFAULT_DEVICE	"/dev/azure_blob"

static int parse_transport(const char *s, enum azblob_transport *t)
{
	if (!strcasecmp(s, "auto"))
		*t = AZBLOB_TRANSPORT_AUTO;
	else if (!strcasecmp(s, "rest"))
		*t = AZBLOB_TRANSPORT_REST;
	else if (!strcasecmp(s, "driver"))
		*t = AZBLOB_TRANSPORT_DRIVER;
	else
		return -1;
	return 0;
}

static int parse_async(const char *s, enum azblob_driver_async *a)
{
	if (!strcasecmp(s, "auto"))
		*a = AZBLOB_DRIVER_ASYNC_AUTO;
	else if (!strcmp(s, "0") || !strcasecmp(s, "off"))
		*a = AZBLOB_DRIVER_ASYNC_OFF;
	else if (!strcmp(s, "1") || !strcasecmp(s, "on"))
		*a = AZBLOB_DRIVER_ASYNC_ON;
	else
		return -1;
	return 0;
}

AZB_EXPORT int azblob_ctx_new(azblob_ctx **out, azblob_error *err)
{
	struct azblob_ctx *c = calloc(1, sizeof(*c));
	const char *e;
	uint64_t seed;

	*out = NULL;
	if (!c)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	pthread_mutex_init(&c->token_lock, NULL);
	pthread_mutex_init(&c->transport_lock, NULL);
	c->concurrency = 4;
	c->block_size = 8 * AZB_MIB;
	c->chunk_size = 4 * AZB_MIB;
	c->put_threshold = 8 * AZB_MIB;
	c->checksum = AZBLOB_CHECKSUM_CRC64;
	c->max_tries = 5;
	c->backoff_base_ms = 200;
	c->backoff_max_ms = 30000;
	c->timeout_base_ms = 30000;
	c->min_kib_per_s = 1024;
	azb_random(&seed, sizeof(seed));
	atomic_init(&c->rng, seed);
	e = getenv("AZBLOB_DEVICE");
	c->device = strdup(e && *e ? e : DEFAULT_DEVICE);
	if (!c->device) {
		azblob_ctx_free(c);
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	}
	e = getenv("AZBLOB_TRANSPORT");
	if (e && *e && parse_transport(e, &c->want)) {
		azblob_ctx_free(c);
		return azb_fail(err, AZBLOB_E_CONFIG, 0,
				"AZBLOB_TRANSPORT=%s: not auto, rest or driver",
				e);
	}
	e = getenv("AZBLOB_DRIVER_ASYNC");
	if (e && *e && parse_async(e, &c->driver_async)) {
		azblob_ctx_free(c);
		return azb_fail(err, AZBLOB_E_CONFIG, 0,
				"AZBLOB_DRIVER_ASYNC=%s: not auto, 0 or 1", e);
	}
	*out = c;
	azb_err_reset(err);
	return AZBLOB_OK;
}

AZB_EXPORT void azblob_ctx_free(azblob_ctx *c)
{
	if (!c)
		return;
	if (c->transport)
		c->transport->destroy(c->transport);
	azb_url_free(&c->url);
	free(c->account);
	if (c->key)
		memset(c->key, 0, c->key_len);
	free(c->key);
	free(c->sas);
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	free(c->device);
	free(c->ca_file);
	pthread_mutex_destroy(&c->token_lock);
	pthread_mutex_destroy(&c->transport_lock);
	free(c);
}

static int set_str(char **slot, const char *v, azblob_error *err)
{
	char *n = NULL;

	if (v && !(n = strdup(v)))
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	free(*slot);
	*slot = n;
	return AZBLOB_OK;
}

/* The account from an endpoint, when nothing else said it. */
static void infer_account(struct azblob_ctx *c)
{
	const char *s;
	size_t n;

	if (c->account)
		return;
	if (azb_host_is_ip_or_local(c->url.host) && c->url.path[0]) {
		s = c->url.path + 1;
		n = strcspn(s, "/");
	} else {
		s = c->url.host;
		n = strcspn(s, ".");
	}
	if (n)
		c->account = azb_strndup(s, n);
}

AZB_EXPORT int azblob_ctx_set_endpoint(azblob_ctx *c, const char *url,
				       azblob_error *err)
{
	struct azb_url u;
	int rc = azb_url_parse(url, &u, err);

	if (rc)
		return rc;
	azb_url_free(&c->url);
	c->url = u;
	c->have_url = true;
	if (u.query && *u.query && c->auth == AZB_AUTH_NONE) {
		rc = azblob_ctx_set_sas(c, u.query, err);
		if (rc)
			return rc;
	}
	infer_account(c);
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_shared_key(azblob_ctx *c, const char *account,
					 const char *key_base64,
					 azblob_error *err)
{
	size_t n;
	unsigned char *k;
	long kl;

	if (!account || !*account || !key_base64)
		return azb_fail(err, AZBLOB_E_CONFIG, 0,
				"SharedKey needs an account and a key");
	n = strlen(key_base64);
	k = malloc(n / 4 * 3 + 3);
	if (!k)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	kl = azb_base64_decode(key_base64, n, k);
	if (kl <= 0) {
		free(k);
		return azb_fail(err, AZBLOB_E_CONFIG, 0,
				"the account key is not base64");
	}
	if (set_str(&c->account, account, err)) {
		free(k);
		return AZBLOB_E_NOMEM;
	}
	if (c->key)
		memset(c->key, 0, c->key_len);
	free(c->key);
	c->key = k;
	c->key_len = (size_t)kl;
	c->auth = AZB_AUTH_KEY;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_sas(azblob_ctx *c, const char *sas,
				  azblob_error *err)
{
	if (!sas)
		return azb_fail(err, AZBLOB_E_CONFIG, 0, "no SAS token");
	if (*sas == '?')
		sas++;
	if (!*sas || strpbrk(sas, " #\r\n"))
		return azb_fail(err, AZBLOB_E_CONFIG, 0,
				"malformed SAS token");
	if (set_str(&c->sas, sas, err))
		return AZBLOB_E_NOMEM;
	c->auth = AZB_AUTH_SAS;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_bearer_token(azblob_ctx *c, const char *token,
					   azblob_error *err)
{
	char *t, *old;

	if (!token || !*token || strpbrk(token, " \r\n"))
		return azb_fail(err, AZBLOB_E_CONFIG, 0,
				"malformed bearer token");
	t = strdup(token);
	if (!t)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	pthread_mutex_lock(&c->token_lock);
	old = c->token;
	c->token = t;
	c->auth = AZB_AUTH_BEARER;
	pthread_mutex_unlock(&c->token_lock);
	if (old)
		memset(old, 0, strlen(old));
	free(old);
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_transport(azblob_ctx *c,
					enum azblob_transport t,
					azblob_error *err)
{
	if ((unsigned int)t > AZBLOB_TRANSPORT_DRIVER)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "unknown transport");
	if (t == AZBLOB_TRANSPORT_REST && !azb_rest_available())
		return azb_fail(err, AZBLOB_E_UNSUPPORTED, 0,
				"this build has no REST transport");
	c->want = t;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_device(azblob_ctx *c, const char *path,
				     azblob_error *err)
{
	if (!path || !*path)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "no device path");
	return set_str(&c->device, path, err);
}

AZB_EXPORT int azblob_ctx_set_driver_async(azblob_ctx *c,
					   enum azblob_driver_async mode,
					   azblob_error *err)
{
	if ((unsigned int)mode > AZBLOB_DRIVER_ASYNC_ON)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"unknown driver submission mode");
	c->driver_async = mode;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_ca_file(azblob_ctx *c, const char *path,
				      azblob_error *err)
{
	return set_str(&c->ca_file, path, err);
}

AZB_EXPORT int azblob_ctx_set_concurrency(azblob_ctx *c, unsigned int n,
					  azblob_error *err)
{
	if (n < 1 || n > AZB_MAX_CONCURRENCY)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"concurrency %u: not 1 to %u", n,
				AZB_MAX_CONCURRENCY);
	c->concurrency = n;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_block_size(azblob_ctx *c, size_t bytes,
					 azblob_error *err)
{
	if (bytes < 64 * AZB_KIB || bytes > AZB_MAX_BLOCK_SIZE)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"block size %zu: not 64 KiB to 4000 MiB", bytes);
	c->block_size = bytes;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_chunk_size(azblob_ctx *c, size_t bytes,
					 azblob_error *err)
{
	if (bytes < 64 * AZB_KIB || bytes > 256 * AZB_MIB)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"chunk size %zu: not 64 KiB to 256 MiB", bytes);
	c->chunk_size = bytes;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_put_threshold(azblob_ctx *c, size_t bytes,
					    azblob_error *err)
{
	if (bytes > AZB_MAX_PUT_SIZE)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"put threshold %zu: above 5000 MiB", bytes);
	c->put_threshold = bytes;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_checksum(azblob_ctx *c,
				       enum azblob_checksum checksum,
				       azblob_error *err)
{
	if ((unsigned int)checksum > AZBLOB_CHECKSUM_MD5)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "unknown checksum");
	c->checksum = checksum;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_retry(azblob_ctx *c, unsigned int max_tries,
				    unsigned int base_ms, unsigned int max_ms,
				    azblob_error *err)
{
	if (max_tries < 1 || max_tries > 100 || base_ms > max_ms ||
	    max_ms > 600000)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "bad retry policy");
	c->max_tries = max_tries;
	c->backoff_base_ms = base_ms;
	c->backoff_max_ms = max_ms;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_ctx_set_timeout(azblob_ctx *c, unsigned int base_ms,
				      unsigned int min_kib_per_s,
				      azblob_error *err)
{
	if (base_ms < 100 || !min_kib_per_s)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "bad timeout");
	c->timeout_base_ms = base_ms;
	c->min_kib_per_s = min_kib_per_s;
	return AZBLOB_OK;
}

AZB_EXPORT const char *azblob_ctx_account(const azblob_ctx *c)
{
	return c->account ? c->account : "";
}

static int apply_connstr(struct azblob_ctx *c, const struct azb_connstr *cs,
			 azblob_error *err)
{
	int rc = azblob_ctx_set_endpoint(c, cs->endpoint, err);

	if (!rc && cs->account && !c->account)
		rc = set_str(&c->account, cs->account, err);
	if (!rc && cs->key)
		rc = azblob_ctx_set_shared_key(c, cs->account, cs->key, err);
	else if (!rc && cs->sas)
		rc = azblob_ctx_set_sas(c, cs->sas, err);
	return rc;
}

AZB_EXPORT int azblob_ctx_new_from_connection_string(azblob_ctx **out,
						     const char *s,
						     azblob_error *err)
{
	struct azb_connstr cs;
	int rc;

	*out = NULL;
	rc = azb_connstr_parse(s, &cs, err);
	if (rc)
		return rc;
	rc = azblob_ctx_new(out, err);
	if (!rc)
		rc = apply_connstr(*out, &cs, err);
	azb_connstr_free(&cs);
	if (rc) {
		azblob_ctx_free(*out);
		*out = NULL;
	}
	return rc;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

AZB_EXPORT int azblob_ctx_new_from_env(azblob_ctx **out, azblob_error *err)
{
	const char *cs = env("AZURE_STORAGE_CONNECTION_STRING");
	const char *acct = env("AZURE_STORAGE_ACCOUNT");
	const char *key = env("AZURE_STORAGE_KEY");
	const char *sas = env("AZURE_STORAGE_SAS_TOKEN");
	const char *tok = env("AZBLOB_BEARER_TOKEN");
	const char *ep = env("AZBLOB_ENDPOINT");
	const char *ca = env("AZBLOB_CA_FILE");
	char *url = NULL;
	azblob_ctx *c;
	int rc;

	*out = NULL;
	if (cs) {
		rc = azblob_ctx_new_from_connection_string(&c, cs, err);
		if (rc)
			return rc;
	} else {
		if (!acct && !ep)
			return azb_fail(err, AZBLOB_E_CONFIG, 0,
					"no credentials: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN");
		rc = azblob_ctx_new(&c, err);
		if (rc)
			return rc;
		if (!ep && asprintf(&url, "https://%s.blob.core.windows.net",
				    acct) < 0) {
			azblob_ctx_free(c);
			return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM,
					"out of memory");
		}
		if (acct)
			rc = set_str(&c->account, acct, err);
		if (!rc)
			rc = azblob_ctx_set_endpoint(c, ep ? ep : url, err);
		free(url);
		if (!rc && key)
			rc = azblob_ctx_set_shared_key(c, acct ? acct :
						       azblob_ctx_account(c),
						       key, err);
		else if (!rc && sas)
			rc = azblob_ctx_set_sas(c, sas, err);
	}
	if (!rc && ep && cs)
		rc = azblob_ctx_set_endpoint(c, ep, err);
	if (!rc && tok)
		rc = azblob_ctx_set_bearer_token(c, tok, err);
	if (!rc && ca)
		rc = azblob_ctx_set_ca_file(c, ca, err);
	if (rc) {
		azblob_ctx_free(c);
		return rc;
	}
	*out = c;
	return AZBLOB_OK;
}

int azb_ctx_transport(struct azblob_ctx *c, struct azb_transport **out,
		      azblob_error *err)
{
	struct azb_transport *t = atomic_load(&c->transport_ready);
	int rc = AZBLOB_OK;

	if (t) {
		*out = t;
		return AZBLOB_OK;
	}
	pthread_mutex_lock(&c->transport_lock);
	if (!c->transport) {
		if (!c->have_url) {
			rc = azb_fail(err, AZBLOB_E_CONFIG, 0,
				      "no endpoint configured");
		} else if (c->want == AZBLOB_TRANSPORT_REST) {
			rc = azb_rest_open(c, &c->transport, err);
		} else if (c->want == AZBLOB_TRANSPORT_DRIVER) {
			rc = azb_driver_open(c, &c->transport, err);
		} else {
			azblob_error tmp = { 0 };

			rc = azb_driver_open(c, &c->transport, &tmp);
			if (rc && azb_rest_available())
				rc = azb_rest_open(c, &c->transport, err);
			else if (rc)	/* no REST in this build: say why */
				azb_err_move(err, &tmp);
			azb_err_reset(&tmp);
		}
		if (!rc)
			atomic_store(&c->transport_ready, c->transport);
	}
	t = c->transport;
	pthread_mutex_unlock(&c->transport_lock);
	if (!rc)
		*out = t;
	return rc;
}

AZB_EXPORT int azblob_ctx_connect(azblob_ctx *c, azblob_error *err)
{
	struct azb_transport *t;
	azblob_error e = { 0 };
	int rc = azb_ctx_transport(c, &t, &e);

	azb_err_move(err, &e);
	return rc;
}

AZB_EXPORT enum azblob_transport azblob_ctx_transport(azblob_ctx *c)
{
	struct azb_transport *t = atomic_load(&c->transport_ready);

	return t ? t->kind : AZBLOB_TRANSPORT_AUTO;
}

/* Names and paths. */

int azb_check_container(const char *n, azblob_error *err)
{
	size_t len = n ? strlen(n) : 0;
	bool ok = len >= 3 && len <= 63 && n[0] != '-' && n[len - 1] != '-';

	if (n && (!strcmp(n, "$root") || !strcmp(n, "$logs") ||
		  !strcmp(n, "$web")))
		return AZBLOB_OK;
	for (size_t i = 0; ok && i < len; i++)
		ok = (n[i] >= 'a' && n[i] <= 'z') ||
		     (n[i] >= '0' && n[i] <= '9') ||
		     (n[i] == '-' && n[i + 1] != '-');
	if (!ok)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"invalid container name \"%s\": 3 to 63 lowercase letters, digits and single hyphens",
				n ? n : "");
	return AZBLOB_OK;
}

int azb_check_blob(const char *n, azblob_error *err)
{
	size_t len = n ? strlen(n) : 0;
	const char *seg;

	if (!len || len > 1024)
		return azb_fail(err, AZBLOB_E_INVAL, 0,
				"invalid blob name: 1 to 1024 bytes");
	for (const char *c = n; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return azb_fail(err, AZBLOB_E_INVAL, 0,
					"invalid blob name: control character");
	/* "." and ".." segments would be resolved away on the way. */
	for (seg = n; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 :
						   NULL) {
		size_t k = strcspn(seg, "/");

		if ((k == 1 && seg[0] == '.') ||
		    (k == 2 && seg[0] == '.' && seg[1] == '.'))
			return azb_fail(err, AZBLOB_E_INVAL, 0,
					"invalid blob name \"%s\": a \".\" or \"..\" segment",
					n);
	}
	return AZBLOB_OK;
}

int azb_path(const struct azblob_ctx *c, const char *container,
	     const char *blob, char **out, azblob_error *err)
{
	struct azb_buf b = { 0 };

	azb_buf_adds(&b, c->url.path);
	/* An emulator at http://127.0.0.1:10000 is path-style. */
	if (!c->url.path[0] && c->account &&
	    azb_host_is_ip_or_local(c->url.host))
		azb_buf_addf(&b, "/%s", c->account);
	if (container) {
		azb_buf_adds(&b, "/");
		azb_buf_adds(&b, container);
		if (blob) {
			azb_buf_adds(&b, "/");
			azb_pct_encode(&b, blob, strlen(blob), true);
		}
	} else if (!b.len) {
		azb_buf_adds(&b, "/");
	}
	*out = azb_buf_steal(&b);
	if (!*out)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	return AZBLOB_OK;
}
