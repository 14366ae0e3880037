// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: SharedKey: the order of canonicalized headers, whole
 * string-to-sign vectors, and signatures computed independently (Python's
 * hmac over the expected string).
 */
#include <stdlib.h>

#include "unit.h"

static void order(void)
{
	/* Azure's order, not strcmp's: "_" before digits, "-" ignored. */
	CHECK(azb_azure_cmp("x-ms-meta-foo_bar", "x-ms-meta-foo2_bar") < 0);
	CHECK(strcmp("x-ms-meta-foo_bar", "x-ms-meta-foo2_bar") > 0);
	CHECK(azb_azure_cmp("x-ms-meta-foo2_bar", "x-ms-meta-foo_bar") > 0);
	CHECK(azb_azure_cmp("x-ms-date", "x-ms-version") < 0);
	CHECK(azb_azure_cmp("x-ms-blob-type", "x-ms-blob-content-type") > 0);
	CHECK(azb_azure_cmp("x-ms-meta-a", "x-ms-meta-a") == 0);
	CHECK(azb_azure_cmp("x-ms-meta-a", "x-ms-meta-ab") < 0);
	CHECK(azb_azure_cmp("x-ms-meta-Ab", "x-ms-meta-ab") != 0);
}

static void req(struct azb_req *r, enum azb_method m, const char *path,
		const char *query)
{
	azb_req_init(r, m);
	r->path = strdup(path);
	r->query = strdup(query);
}

static void vector_put_block(void)
{
	static const char want[] =
		"PUT\n\n\n9\nabc\ntext/plain\n\n\n\n\n\n\n"
		"x-ms-content-crc64:iJh5CoYUi64=\n"
		"x-ms-date:Thu, 26 Nov 2026 10:00:00 GMT\n"
		"x-ms-meta-foo_bar:1\n"
		"x-ms-meta-foo2_bar:2\n"
		"x-ms-version:2025-01-05\n"
		"/devstoreaccount1/devstoreaccount1/photos/2024/cat%20%281%29.jpg\n"
		"blockid:ABC==\n"
		"comp:block";
	unsigned char key[64];
	long kl = azb_base64_decode(AZB_DEV_KEY, strlen(AZB_DEV_KEY), key);
	struct azb_buf sig = { 0 };
	struct azb_req r;
	char *sts;

	req(&r, AZB_PUT, "/devstoreaccount1/photos/2024/cat%20%281%29.jpg",
	    "comp=block&blockid=ABC%3D%3D");
	r.body = "123456789";
	r.body_len = 9;
	azb_hdrs_add(&r.hdrs, "x-ms-version", "2025-01-05");
	azb_hdrs_add(&r.hdrs, "x-ms-meta-foo2_bar", "2");
	azb_hdrs_add(&r.hdrs, "x-ms-meta-foo_bar", "1");
	azb_hdrs_add(&r.hdrs, "Content-MD5", "abc");
	azb_hdrs_add(&r.hdrs, "Content-Type", " text/plain ");
	azb_hdrs_add(&r.hdrs, "X-MS-Content-CRC64", "iJh5CoYUi64=");
	azb_hdrs_add(&r.hdrs, "x-ms-date", "Thu, 26 Nov 2026 10:00:00 GMT");
	sts = azb_string_to_sign(&r, "devstoreaccount1");
	CHECK_STR(sts, want);
	CHECK(kl == 64);
	CHECK(!azb_sign_shared_key(&r, "devstoreaccount1", key, (size_t)kl,
				   &sig));
	CHECK_STR(sig.p, "SharedKey devstoreaccount1:"
		  "tMrkK3RTuqcveEj3OQSNJgm6YZ6Gz3kLnfixe4vjqus=");
	free(sts);
	azb_buf_free(&sig);
	azb_req_free(&r);
}

static void vector_list(void)
{
	static const char want[] =
		"GET\n\n\n\n\n\n\n\n\n\n\n\n"
		"x-ms-date:Thu, 26 Nov 2026 10:00:00 GMT\n"
		"x-ms-version:2025-01-05\n"
		"/myaccount/mycontainer\n"
		"comp:list\n"
		"include:metadata,snapshots\n"
		"prefix:a/b\n"
		"restype:container";
	unsigned char key[64];
	long kl = azb_base64_decode(AZB_DEV_KEY, strlen(AZB_DEV_KEY), key);
	struct azb_buf sig = { 0 };
	struct azb_req r;
	char *sts;

	/* Content-Length 0 (no body) is signed as an empty line. */
	req(&r, AZB_GET, "/mycontainer",
	    "restype=container&comp=list&prefix=a%2Fb&include=snapshots&Include=metadata");
	azb_hdrs_add(&r.hdrs, "x-ms-date", "Thu, 26 Nov 2026 10:00:00 GMT");
	azb_hdrs_add(&r.hdrs, "x-ms-version", "2025-01-05");
	sts = azb_string_to_sign(&r, "myaccount");
	CHECK_STR(sts, want);
	CHECK(!azb_sign_shared_key(&r, "myaccount", key, (size_t)kl, &sig));
	CHECK_STR(sig.p, "SharedKey myaccount:"
		  "3B5Pxh7jio+yyRe/vvYociLcGJ19rVK5R/LpRypNwW4=");
	free(sts);
	azb_buf_free(&sig);
	azb_req_free(&r);
}

static void empty_put(void)
{
	struct azb_req r;
	char *sts;

	req(&r, AZB_PUT, "/a/c", "restype=container");
	azb_hdrs_add(&r.hdrs, "x-ms-date", "D");
	sts = azb_string_to_sign(&r, "a");
	/* The fourth line (Content-Length) is empty for 0 bytes. */
	CHECK_STR(sts, "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:D\n/a/a/c\n"
		  "restype:container");
	free(sts);
	azb_req_free(&r);
}

void unit_auth(void)
{
	t_run("sharedkey: Azure header order (foo_bar before foo2_bar)",
	      order);
	t_run("sharedkey: Put Block string-to-sign and signature",
	      vector_put_block);
	t_run("sharedkey: List Blobs string-to-sign, repeated and encoded query",
	      vector_list);
	t_run("sharedkey: Content-Length 0 signed as empty", empty_put);
}
