// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Endpoint URLs and Azure Storage connection strings.
 *
 * A connection string is "Key=Value" pairs separated by ";" as the Azure
 * portal, the Azure CLI and AzCopy print them. Keys are case-insensitive;
 * a value runs to the next ";" and may hold "=" (base64 keys). Keys of
 * other services (QueueEndpoint, ...) are ignored, as the Azure SDKs do.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azb.h"

void azb_url_free(struct azb_url *u)
{
	free(u->scheme);
	free(u->host);
	free(u->path);
	free(u->query);
	memset(u, 0, sizeof(*u));
}

static bool host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

int azb_url_parse(const char *s, struct azb_url *u, azblob_error *err)
{
	const char *p, *auth, *end, *h0, *h1, *q;
	unsigned long port = 0;

	memset(u, 0, sizeof(*u));
	if (!s)
		return azb_fail(err, AZBLOB_E_CONFIG, 0, "no endpoint URL");
	if (!strncasecmp(s, "https://", 8)) {
		u->scheme = strdup("https");
		u->port = 443;
		auth = s + 8;
	} else if (!strncasecmp(s, "http://", 7)) {
		u->scheme = strdup("http");
		u->port = 80;
		auth = s + 7;
	} else {
		return azb_fail(err, AZBLOB_E_CONFIG, 0,
				"endpoint URL must start with http:// or https://: %s",
				s);
	}
	if (!u->scheme)
		goto oom;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)))
		goto bad;
	if (*auth == '[') {
		h0 = auth + 1;
		h1 = memchr(h0, ']', (size_t)(end - h0));
		if (!h1 || h1 == h0)
			goto bad;
		for (p = h0; p < h1; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				goto bad;
		p = h1 + 1;
	} else {
		h0 = auth;
		for (p = auth; p < end && *p != ':'; p++)
			if (!host_char(*p))
				goto bad;
		h1 = p;
		if (h1 == h0)
			goto bad;
	}
	if (p < end) {
		if (*p != ':' || p + 1 == end)
			goto bad;
		for (p++; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				goto bad;
			port = port * 10 + (unsigned long)(*p - '0');
			if (port > 65535)
				goto bad;
		}
		if (!port)
			goto bad;
		u->port = (unsigned int)port;
	}
	u->host = azb_strndup(h0, (size_t)(h1 - h0));
	if (!u->host)
		goto oom;
	for (char *c = u->host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	p = end;
	q = p + strcspn(p, "?#");
	while (q > p && q[-1] == '/')
		q--;
	u->path = azb_strndup(p, (size_t)(q - p));
	if (!u->path)
		goto oom;
	for (const char *c = u->path; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			goto bad;
	p = p + strcspn(p, "?#");
	if (*p == '?') {
		p++;
		u->query = azb_strndup(p, strcspn(p, "#"));
		if (!u->query)
			goto oom;
	}
	return AZBLOB_OK;
bad:
	azb_url_free(u);
	return azb_fail(err, AZBLOB_E_CONFIG, 0, "malformed endpoint URL: %s",
			s);
oom:
	azb_url_free(u);
	return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
}

char *azb_url_origin(const struct azb_url *u)
{
	struct azb_buf b = { 0 };
	bool v6 = strchr(u->host, ':') != NULL;
	bool dflt = (!strcmp(u->scheme, "https") && u->port == 443) ||
		    (!strcmp(u->scheme, "http") && u->port == 80);

	azb_buf_addf(&b, "%s://%s%s%s", u->scheme, v6 ? "[" : "", u->host,
		     v6 ? "]" : "");
	if (!dflt)
		azb_buf_addf(&b, ":%u", u->port);
	return azb_buf_steal(&b);
}

bool azb_host_is_ip_or_local(const char *host)
{
	bool digits_dots = true;

	if (!strcmp(host, "localhost") || strchr(host, ':'))
		return true;
	for (const char *c = host; *c; c++)
		if (!isdigit((unsigned char)*c) && *c != '.')
			digits_dots = false;
	return digits_dots && *host;
}

void azb_connstr_free(struct azb_connstr *c)
{
	free(c->endpoint);
	free(c->account);
	if (c->key)
		memset(c->key, 0, strlen(c->key));
	free(c->key);
	free(c->sas);
	memset(c, 0, sizeof(*c));
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return azb_strndup(s, n);
}

int azb_connstr_parse(const char *cs, struct azb_connstr *out,
		      azblob_error *err)
{
	char *proto = NULL, *suffix = NULL, *blob_ep = NULL, *dev = NULL;
	const char *p = cs;
	int rc = AZBLOB_OK;

	memset(out, 0, sizeof(*out));
	if (!cs)
		return azb_fail(err, AZBLOB_E_CONFIG, 0,
				"no connection string");
	while (*p && rc == AZBLOB_OK) {
		size_t seg = strcspn(p, ";");
		const char *eq = memchr(p, '=', seg);
		char *key, *val, **slot = NULL;

		if (!eq) {
			bool blank = true;

			for (size_t i = 0; i < seg; i++)
				if (!isspace((unsigned char)p[i]))
					blank = false;
			if (!blank)
				rc = azb_fail(err, AZBLOB_E_CONFIG, 0,
					      "connection string: \"%.*s\" is not Key=Value",
					      (int)(seg > 64 ? 64 : seg), p);
			p += seg + (p[seg] == ';');
			continue;
		}
		key = trimmed(p, (size_t)(eq - p));
		val = trimmed(eq + 1, seg - (size_t)(eq - p) - 1);
		if (!key || !val) {
			free(key);
			free(val);
			rc = azb_fail(err, AZBLOB_E_NOMEM, ENOMEM,
				      "out of memory");
			break;
		}
		if (!strcasecmp(key, "DefaultEndpointsProtocol"))
			slot = &proto;
		else if (!strcasecmp(key, "AccountName"))
			slot = &out->account;
		else if (!strcasecmp(key, "AccountKey"))
			slot = &out->key;
		else if (!strcasecmp(key, "EndpointSuffix"))
			slot = &suffix;
		else if (!strcasecmp(key, "BlobEndpoint"))
			slot = &blob_ep;
		else if (!strcasecmp(key, "SharedAccessSignature"))
			slot = &out->sas;
		else if (!strcasecmp(key, "UseDevelopmentStorage"))
			slot = &dev;
		if (slot) {
			free(*slot);
			*slot = val;
			val = NULL;
		}
		free(key);
		free(val);
		p += seg + (p[seg] == ';');
	}
	if (rc)
		goto out;
	if (dev) {
		if (strcasecmp(dev, "true")) {
			rc = azb_fail(err, AZBLOB_E_CONFIG, 0,
				      "connection string: UseDevelopmentStorage=%s",
				      dev);
			goto out;
		}
		if (!out->account)
			out->account = strdup(AZB_DEV_ACCOUNT);
		if (!out->key && !out->sas)
			out->key = strdup(AZB_DEV_KEY);
		if (!blob_ep)
			blob_ep = strdup(AZB_DEV_ENDPOINT);
	}
	if (blob_ep) {
		out->endpoint = blob_ep;
		blob_ep = NULL;
	} else if (out->account) {
		const char *pr = proto ? proto : "https";

		if (strcasecmp(pr, "https") && strcasecmp(pr, "http")) {
			rc = azb_fail(err, AZBLOB_E_CONFIG, 0,
				      "connection string: DefaultEndpointsProtocol=%s",
				      pr);
			goto out;
		}
		if (asprintf(&out->endpoint, "%s://%s.blob.%s", pr,
			     out->account,
			     suffix ? suffix : "core.windows.net") < 0)
			out->endpoint = NULL;
	} else {
		rc = azb_fail(err, AZBLOB_E_CONFIG, 0,
			      "connection string: neither AccountName nor BlobEndpoint");
		goto out;
	}
	if (out->key && !out->account) {
		rc = azb_fail(err, AZBLOB_E_CONFIG, 0,
			      "connection string: AccountKey without AccountName");
		goto out;
	}
	if (!out->endpoint || (dev && (!out->account ||
				       (!out->key && !out->sas))))
		rc = azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
out:
	free(proto);
	free(suffix);
	free(blob_ep);
	free(dev);
	if (rc)
		azb_connstr_free(out);
	return rc;
}
