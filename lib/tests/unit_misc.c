// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: the retry policy, URLs, connection strings, the environment,
 * names and paths, base64, percent-encoding, dates.
 */
#include <stdlib.h>

#include "transfer.h"
#include "unit.h"

static void retry_decisions(void)
{
	const struct azb_retry p = { .max_tries = 3, .base_ms = 100,
				     .max_ms = 1000 };
	static const int retried[] = { 408, 429, 500, 502, 503, 504 };
	static const int not_retried[] = { 200, 201, 304, 400, 401, 403, 404,
					   409, 412, 416, 501, 505 };

	for (size_t i = 0; i < AZB_ARRAY_SIZE(retried); i++) {
		CHECK(azb_retry_status(retried[i]));
		CHECK(azb_retry_should(&p, 1, retried[i], AZB_TF_NONE, true));
		CHECK(!azb_retry_should(&p, 3, retried[i], AZB_TF_NONE, true));
	}
	for (size_t i = 0; i < AZB_ARRAY_SIZE(not_retried); i++)
		CHECK(!azb_retry_should(&p, 1, not_retried[i], AZB_TF_NONE,
					true));
	/* Not idempotent: only what cannot have taken effect. */
	CHECK(azb_retry_should(&p, 1, 503, AZB_TF_NONE, false));
	CHECK(azb_retry_should(&p, 1, 429, AZB_TF_NONE, false));
	CHECK(!azb_retry_should(&p, 1, 500, AZB_TF_NONE, false));
	CHECK(!azb_retry_should(&p, 1, 0, AZB_TF_DROPPED, false));
	CHECK(!azb_retry_should(&p, 1, 0, AZB_TF_TIMEOUT, false));
	CHECK(azb_retry_should(&p, 1, 0, AZB_TF_NOT_SENT, false));
	CHECK(azb_retry_should(&p, 1, 0, AZB_TF_BUSY, false));
	CHECK(azb_retry_should(&p, 2, 0, AZB_TF_DROPPED, true));
	CHECK(azb_retry_should(&p, 2, 0, AZB_TF_TIMEOUT, true));
	CHECK(!azb_retry_should(&p, 1, 0, AZB_TF_FATAL, true));
	CHECK(!azb_retry_should(&p, 3, 0, AZB_TF_NOT_SENT, true));
}

static void backoff(void)
{
	const struct azb_retry p = { .max_tries = 10, .base_ms = 100,
				     .max_ms = 1000 };
	unsigned int lo[8] = { 0 }, hi[8] = { 0 };
	uint64_t s = 1;

	for (int i = 0; i < 8; i++)
		lo[i] = ~0U;
	for (int r = 0; r < 5000; r++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		for (unsigned int t = 1; t <= 7; t++) {
			unsigned int ms = azb_retry_backoff_ms(&p, t, s >> 11, 0);

			lo[t] = ms < lo[t] ? ms : lo[t];
			hi[t] = ms > hi[t] ? ms : hi[t];
		}
	}
	/* Doubling from 100 ms, capped at 1 s, jitter in [d/2, d]. */
	CHECK(lo[1] >= 50 && hi[1] <= 100 && lo[1] < 60 && hi[1] > 90);
	CHECK(lo[2] >= 100 && hi[2] <= 200);
	CHECK(lo[3] >= 200 && hi[3] <= 400);
	CHECK(lo[5] >= 500 && hi[5] <= 1000);
	CHECK(lo[7] >= 500 && hi[7] <= 1000);
	/* Retry-After wins when longer; ten minutes at most. */
	CHECK(azb_retry_backoff_ms(&p, 1, 0, 5000) == 5000);
	CHECK(azb_retry_backoff_ms(&p, 1, 0, 20) >= 50);
	CHECK(azb_retry_backoff_ms(&p, 1, 0, 9000000) == 600000);
}

static void retry_after(void)
{
	unsigned int ms = 0;
	time_t now = 1795687200;	/* Thu, 26 Nov 2026 10:00:00 GMT */

	CHECK(!azb_parse_retry_after("3", now, &ms) && ms == 3000);
	CHECK(!azb_parse_retry_after(" 0", now, &ms) && ms == 0);
	CHECK(!azb_parse_retry_after("Thu, 26 Nov 2026 10:00:07 GMT", now,
				     &ms) && ms == 7000);
	CHECK(!azb_parse_retry_after("Thu, 26 Nov 2026 09:00:00 GMT", now,
				     &ms) && ms == 0);
	CHECK(azb_parse_retry_after("soon", now, &ms));
	CHECK(azb_parse_retry_after("-1", now, &ms));
	CHECK(azb_parse_retry_after("", now, &ms));
}

static void timeouts(void)
{
	CHECK(azb_try_timeout_ms(30000, 1024, 0) == 30000);
	CHECK(azb_try_timeout_ms(30000, 1024, 32 << 20) == 62000);
	CHECK(azb_try_timeout_ms(1000, 1, UINT64_MAX / 2) == UINT32_MAX);
}

static void urls(void)
{
	struct azb_url u;
	char *o;

	CHECK(!azb_url_parse("https://acct.blob.core.windows.net", &u, NULL));
	CHECK_STR(u.scheme, "https");
	CHECK_STR(u.host, "acct.blob.core.windows.net");
	CHECK(u.port == 443);
	CHECK_STR(u.path, "");
	o = azb_url_origin(&u);
	CHECK_STR(o, "https://acct.blob.core.windows.net");
	free(o);
	azb_url_free(&u);
	CHECK(!azb_url_parse("HTTP://127.0.0.1:10000/devstoreaccount1/", &u,
			     NULL));
	CHECK_STR(u.scheme, "http");
	CHECK(u.port == 10000);
	CHECK_STR(u.path, "/devstoreaccount1");
	o = azb_url_origin(&u);
	CHECK_STR(o, "http://127.0.0.1:10000");
	free(o);
	azb_url_free(&u);
	CHECK(!azb_url_parse("http://[::1]:8080/a?sv=1&sig=x", &u, NULL));
	CHECK_STR(u.host, "::1");
	CHECK_STR(u.query, "sv=1&sig=x");
	o = azb_url_origin(&u);
	CHECK_STR(o, "http://[::1]:8080");
	free(o);
	azb_url_free(&u);
	static const char *const bad[] = {
		"ftp://x", "http://", "http://:80", "http://h:0", "http://h:65536",
		"http://h:8x", "http://u@h/", "http://h h/", "http://[::1/",
		"http://h/a b", "acct.blob.core.windows.net", NULL,
	};
	for (size_t i = 0; i < AZB_ARRAY_SIZE(bad); i++) {
		azblob_error e = { 0 };

		CHECK(azb_url_parse(bad[i], &u, &e) == AZBLOB_E_CONFIG);
		azb_err_reset(&e);
	}
	CHECK(azb_host_is_ip_or_local("127.0.0.1"));
	CHECK(azb_host_is_ip_or_local("localhost"));
	CHECK(azb_host_is_ip_or_local("::1"));
	CHECK(!azb_host_is_ip_or_local("a.blob.core.windows.net"));
}

static void connstr(void)
{
	struct azb_connstr c;
	azblob_error e = { 0 };

	CHECK(!azb_connstr_parse("DefaultEndpointsProtocol=https;AccountName=acct;"
				 "AccountKey=a2V5PT0=;EndpointSuffix=core.chinacloudapi.cn",
				 &c, NULL));
	CHECK_STR(c.endpoint, "https://acct.blob.core.chinacloudapi.cn");
	CHECK_STR(c.account, "acct");
	CHECK_STR(c.key, "a2V5PT0=");
	azb_connstr_free(&c);
	CHECK(!azb_connstr_parse("UseDevelopmentStorage=true", &c, NULL));
	CHECK_STR(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
	CHECK_STR(c.account, "devstoreaccount1");
	CHECK_STR(c.key, AZB_DEV_KEY);
	azb_connstr_free(&c);
	CHECK(!azb_connstr_parse(" useDevelopmentStorage = TRUE ; "
				 "BlobEndpoint=http://127.0.0.1:3333/devstoreaccount1;",
				 &c, NULL));
	CHECK_STR(c.endpoint, "http://127.0.0.1:3333/devstoreaccount1");
	azb_connstr_free(&c);
	CHECK(!azb_connstr_parse("BlobEndpoint=https://x.example/;"
				 "SharedAccessSignature=sv=2025&sig=a%2Bb=",
				 &c, NULL));
	CHECK_STR(c.sas, "sv=2025&sig=a%2Bb=");
	CHECK(!c.key && !c.account);
	azb_connstr_free(&c);
	CHECK(!azb_connstr_parse("AccountName=a;AccountKey=k;QueueEndpoint=q",
				 &c, NULL));
	CHECK_STR(c.endpoint, "https://a.blob.core.windows.net");
	azb_connstr_free(&c);
	CHECK(azb_connstr_parse("AccountKey=k", &c, &e) == AZBLOB_E_CONFIG);
	CHECK(azb_connstr_parse("AccountName=a;DefaultEndpointsProtocol=ftp",
				&c, &e) == AZBLOB_E_CONFIG);
	CHECK(azb_connstr_parse("UseDevelopmentStorage=yes", &c, &e) ==
	      AZBLOB_E_CONFIG);
	CHECK(azb_connstr_parse("garbage", &c, &e) == AZBLOB_E_CONFIG);
	CHECK(azb_connstr_parse("", &c, &e) == AZBLOB_E_CONFIG);
	azb_err_reset(&e);
}

static void ctx_paths(void)
{
	azblob_ctx *c;
	azblob_error *e = azblob_error_new();
	char *p = NULL;

	CHECK(!azblob_ctx_new_from_connection_string(&c,
		"UseDevelopmentStorage=true", e));
	CHECK_STR(azblob_ctx_account(c), "devstoreaccount1");
	CHECK(!azb_path(c, "photos", "2024/a b+c%.jpg", &p, NULL));
	CHECK_STR(p, "/devstoreaccount1/photos/2024/a%20b%2Bc%25.jpg");
	free(p);
	CHECK(!azb_path(c, NULL, NULL, &p, NULL));
	CHECK_STR(p, "/devstoreaccount1");
	free(p);
	azblob_ctx_free(c);
	/* An emulator URL without the account: path-style added. */
	CHECK(!azblob_ctx_new(&c, e));
	CHECK(!azblob_ctx_set_endpoint(c, "http://127.0.0.1:10000", e));
	CHECK(!azblob_ctx_set_shared_key(c, "devstoreaccount1", AZB_DEV_KEY,
					 e));
	CHECK(!azb_path(c, "c", "b", &p, NULL));
	CHECK_STR(p, "/devstoreaccount1/c/b");
	free(p);
	CHECK(azblob_ctx_set_shared_key(c, "a", "not base64!", e) ==
	      AZBLOB_E_CONFIG);
	CHECK(azblob_ctx_set_concurrency(c, 0, e) == AZBLOB_E_INVAL);
	CHECK(azblob_ctx_set_block_size(c, 1000, e) == AZBLOB_E_INVAL);
	azblob_ctx_free(c);
	/* The public endpoint: virtual-host style. */
	CHECK(!azblob_ctx_new(&c, e));
	CHECK(!azblob_ctx_set_endpoint(c, "https://acct.blob.core.windows.net/?sv=1&sig=s",
				       e));
	CHECK_STR(azblob_ctx_account(c), "acct");
	CHECK(!azb_path(c, "c", "b/c", &p, NULL));
	CHECK_STR(p, "/c/b/c");
	free(p);
	CHECK(!azb_path(c, NULL, NULL, &p, NULL));
	CHECK_STR(p, "/");
	free(p);
	CHECK(c->auth == AZB_AUTH_SAS && !strcmp(c->sas, "sv=1&sig=s"));
	azblob_ctx_free(c);
	azblob_error_free(e);
}

static void env(void)
{
	azblob_ctx *c = NULL;
	azblob_error *e = azblob_error_new();

	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
	unsetenv("AZBLOB_ENDPOINT");
	setenv("AZURE_STORAGE_ACCOUNT", "acct", 1);
	setenv("AZURE_STORAGE_KEY", AZB_DEV_KEY, 1);
	setenv("AZBLOB_TRANSPORT", "rest", 1);
	CHECK(!azblob_ctx_new_from_env(&c, e));
	CHECK(c && c->auth == AZB_AUTH_KEY && c->want == AZBLOB_TRANSPORT_REST);
	CHECK(c && !strcmp(c->url.host, "acct.blob.core.windows.net"));
	azblob_ctx_free(c);
	unsetenv("AZURE_STORAGE_KEY");
	setenv("AZURE_STORAGE_SAS_TOKEN", "?sv=1&sig=2", 1);
	setenv("AZBLOB_TRANSPORT", "driver", 1);
	CHECK(!azblob_ctx_new_from_env(&c, e));
	CHECK(c && c->auth == AZB_AUTH_SAS && !strcmp(c->sas, "sv=1&sig=2"));
	CHECK(c && c->want == AZBLOB_TRANSPORT_DRIVER);
	azblob_ctx_free(c);
	setenv("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true", 1);
	setenv("AZBLOB_TRANSPORT", "carrier-pigeon", 1);
	CHECK(azblob_ctx_new_from_env(&c, e) == AZBLOB_E_CONFIG);
	CHECK(strstr(azblob_error_message(e), "AZBLOB_TRANSPORT"));
	unsetenv("AZBLOB_TRANSPORT");
	CHECK(!azblob_ctx_new_from_env(&c, e));
	CHECK(c && c->auth == AZB_AUTH_KEY && c->want == AZBLOB_TRANSPORT_AUTO);
	azblob_ctx_free(c);
	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
	unsetenv("AZURE_STORAGE_ACCOUNT");
	unsetenv("AZURE_STORAGE_SAS_TOKEN");
	CHECK(azblob_ctx_new_from_env(&c, e) == AZBLOB_E_CONFIG);
	azblob_error_free(e);
}

static void names(void)
{
	static const char *const good_c[] = { "abc", "a-b-c", "0ab",
					      "$root", "photos2024" };
	static const char *const bad_c[] = { "ab", "Abc", "a--b", "-ab",
					     "ab-", "a_b", "a.b", "" };
	static const char *const bad_b[] = { "", "a/./b", "../x", "a/..",
					     ".", "a\nb" };

	for (size_t i = 0; i < AZB_ARRAY_SIZE(good_c); i++)
		CHECK(!azb_check_container(good_c[i], NULL));
	for (size_t i = 0; i < AZB_ARRAY_SIZE(bad_c); i++)
		CHECK(azb_check_container(bad_c[i], NULL) == AZBLOB_E_INVAL);
	for (size_t i = 0; i < AZB_ARRAY_SIZE(bad_b); i++)
		CHECK(azb_check_blob(bad_b[i], NULL) == AZBLOB_E_INVAL);
	CHECK(!azb_check_blob("a/.b/..c/d.", NULL));
	CHECK(azb_meta_ok("foo_bar", "x y"));
	CHECK(!azb_meta_ok("1x", "v") && !azb_meta_ok("a-b", "v") &&
	      !azb_meta_ok("k", " v") && !azb_meta_ok("k", "\x01"));
}

static void strings(void)
{
	char b64[64], *d;
	unsigned char raw[64];
	struct azb_buf b = { 0 };
	time_t t;
	char date[32];

	azb_base64_encode("", 0, b64);
	CHECK_STR(b64, "");
	azb_base64_encode("f", 1, b64);
	CHECK_STR(b64, "Zg==");
	azb_base64_encode("foobar", 6, b64);
	CHECK_STR(b64, "Zm9vYmFy");
	CHECK(azb_base64_decode("Zm9vYg==", 8, raw) == 4 &&
	      !memcmp(raw, "foob", 4));
	CHECK(azb_base64_decode("Zm9vYg=", 7, raw) < 0);
	CHECK(azb_base64_decode("Zm=vYg==", 8, raw) < 0);
	CHECK(azb_base64_decode("Zm9v!g==", 8, raw) < 0);
	azb_pct_encode(&b, "a b/c~é", 8, true);
	CHECK_STR(b.p, "a%20b/c~%C3%A9");
	azb_buf_free(&b);
	d = azb_pct_decode("a%2Fb%zz", 8);
	CHECK(!d);
	d = azb_pct_decode("a%2fb%", 6);
	CHECK(!d);
	d = azb_pct_decode("a%2fb", 5);
	CHECK_STR(d, "a/b");
	free(d);
	azb_http_date(1795687200, date);
	CHECK_STR(date, "Thu, 26 Nov 2026 10:00:00 GMT");
	CHECK(!azb_parse_http_date(date, &t) && t == 1795687200);
	CHECK(azb_parse_http_date("Thu, 26 Nov 2026 10:00:00 PST", &t));
	CHECK(azb_parse_http_date("yesterday", &t));
	azb_block_id("0123456789abcde", 7, b64);
	CHECK(strlen(b64) == 32 && !strchr(b64, '='));
	CHECK(azb_base64_decode(b64, 32, raw) == 24 &&
	      !memcmp(raw, "0123456789abcde-00000007", 24));
}

void unit_misc(void)
{
	t_run("retry: which answers and failures are retried", retry_decisions);
	t_run("retry: exponential backoff, jitter, cap, Retry-After", backoff);
	t_run("retry: Retry-After seconds and HTTP date", retry_after);
	t_run("retry: per-try timeout scaled to the body", timeouts);
	t_run("url: endpoints parsed, malformed refused", urls);
	t_run("connstr: Azure, emulator, SAS, errors", connstr);
	t_run("ctx: path-style and virtual-host paths, setters", ctx_paths);
	t_run("ctx: environment (account, key, SAS, AZBLOB_TRANSPORT)", env);
	t_run("names: containers, blobs, metadata", names);
	t_run("strings: base64, percent-encoding, dates, block ids", strings);
}
