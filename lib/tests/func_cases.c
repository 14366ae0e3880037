// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: functional cases: containers, the sizes, ranges, listings,
 * metadata, errors, blobs written by the SDK, overwrite, checksums.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "func.h"

#define MiB ((uint64_t)1024 * 1024)

static const uint64_t sizes[] = { 0, 1, 4 * MiB - 1, 32 * MiB + 1 };

static void containers(void)
{
	azblob_lister *l = NULL;
	const azblob_props *it;
	int seen = 0;

	/* functional.c created both. */
	FCHECK(azblob_container_create(F.ctx, F.container, F.err) ==
	       AZBLOB_E_EXISTS);
	FCHECK(azblob_error_http_status(F.err) == 409);
	FCHECK(!strcmp(azblob_error_service_code(F.err),
		       "ContainerAlreadyExists"));
	FOK(azblob_list_containers(F.ctx, "azbt-", &l, F.err));
	while (l && !azblob_lister_next(l, &it, F.err) && it)
		seen += !strcmp(azblob_props_name(it), F.container) ||
			!strcmp(azblob_props_name(it), F.container2);
	FCHECK(seen == 2);
	azblob_lister_free(l);
}

/* Read @name back every way and compare with gen(@seed) of @size bytes. */
static void read_back(const char *name, uint64_t seed, uint64_t size)
{
	unsigned char *want = malloc(size + 1), *got = malloc(size + 16);
	char hex[65], hex2[65];
	struct sink s;
	azblob_props *p = NULL;
	size_t n = 12345;

	gen(seed, 0, want, size);
	sha256_hex(want, size, hex);
	FOK(azblob_download_buffer(F.ctx, F.container, name, got, size + 16,
				   &n, NULL, F.err));
	FCHECK(n == size && !memcmp(want, got, size));
	sink_init(&s);
	FOK(azblob_download_stream(F.ctx, F.container, name, sink_write, &s,
				   NULL, F.err));
	sink_final(&s, hex2);
	FCHECK(s.bytes == size && !strcmp(hex, hex2));
	FOK(azblob_get_properties(F.ctx, F.container, name, &p, F.err));
	FCHECK(p && azblob_props_size(p) == size);
	FCHECK(p && !strcmp(azblob_props_blob_type(p), "BlockBlob"));
	azblob_props_free(p);
	sdk_expect(F.container, name, size, hex);
	free(want);
	free(got);
}

static void sizes_memory(void)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		uint64_t size = sizes[i];
		unsigned char *b = malloc(size + 1);
		char name[64];

		snprintf(name, sizeof(name), "sizes/mem-%" PRIu64, size);
		gen(100 + i, 0, b, size);
		FOK(azblob_upload_buffer(F.ctx, F.container, name, b, size,
					 NULL, F.err));
		free(b);
		read_back(name, 100 + i, size);
	}
}

static void sizes_stream(void)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		struct gsrc g = { .seed = 200 + i, .size = sizes[i],
				  .max_read = 100000 };
		char name[64];

		snprintf(name, sizeof(name), "sizes/stream-%" PRIu64, sizes[i]);
		FOK(azblob_upload_stream(F.ctx, F.container, name, gsrc_read,
					 &g, NULL, F.err));
		FCHECK(g.off == sizes[i]);
		read_back(name, 200 + i, sizes[i]);
	}
}

/* Through file descriptors: a pipe up, a temporary file down. */
static void sizes_fd(void)
{
	uint64_t size = 32 * MiB + 1;
	unsigned char *b = malloc(size);
	char path[] = "/tmp/azbt-fd-XXXXXX", hex[65], hex2[65];
	int fd, pfd[2];
	pid_t pid;

	gen(300, 0, b, size);
	sha256_hex(b, size, hex);
	FCHECK(!pipe(pfd));
	pid = fork();
	if (!pid) {
		size_t off = 0;

		close(pfd[0]);
		while (off < size) {
			ssize_t k = write(pfd[1], b + off, size - off);

			if (k <= 0)
				_exit(1);
			off += (size_t)k;
		}
		_exit(0);
	}
	close(pfd[1]);
	FOK(azblob_upload_fd(F.ctx, F.container, "sizes/fd", pfd[0], NULL,
			     F.err));
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	fd = mkstemp(path);
	FCHECK(fd >= 0);
	FOK(azblob_download_fd(F.ctx, F.container, "sizes/fd", fd, NULL,
			       F.err));
	memset(b, 0, size);
	FCHECK(pread(fd, b, size, 0) == (ssize_t)size);
	sha256_hex(b, size, hex2);
	FCHECK(!strcmp(hex, hex2));
	/* And up again from the regular file (size known: fstat). */
	lseek(fd, 0, SEEK_SET);
	FOK(azblob_upload_fd(F.ctx, F.container, "sizes/fd-file", fd, NULL,
			     F.err));
	close(fd);
	unlink(path);
	sdk_expect(F.container, "sizes/fd", size, hex);
	sdk_expect(F.container, "sizes/fd-file", size, hex);
	free(b);
}

/* Many small blocks in parallel. */
static void small_blocks(void)
{
	uint64_t size = 32 * MiB + 1;
	unsigned char *b = malloc(size);
	azblob_opts *o = azblob_opts_new();
	char hex[65];

	gen(400, 0, b, size);
	sha256_hex(b, size, hex);
	azblob_opts_set_block_size(o, 1 * MiB);
	azblob_opts_set_concurrency(o, 8);
	FOK(azblob_upload_buffer(F.ctx, F.container, "blocks/1mib", b, size,
				 o, F.err));
	free(b);
	read_back("blocks/1mib", 400, size);
	/* Downloaded in 64 KiB chunks by 16 workers. */
	{
		struct sink s;
		char hex2[65];

		azblob_opts_set_block_size(o, 64 * 1024);
		azblob_opts_set_concurrency(o, 16);
		sink_init(&s);
		FOK(azblob_download_stream(F.ctx, F.container, "blocks/1mib",
					   sink_write, &s, o, F.err));
		sink_final(&s, hex2);
		FCHECK(!strcmp(hex, hex2));
	}
	azblob_opts_free(o);
}

/* Blocks and chunks asked larger than one request of the transport. */
static void oversized(void)
{
	uint64_t size = 70 * MiB + 5;
	unsigned char *b = malloc(size), *back = malloc(size);
	azblob_opts *o = azblob_opts_new();
	size_t n = 0;

	gen(450, 0, b, size);
	azblob_opts_set_block_size(o, 64 * MiB);
	azblob_opts_set_concurrency(o, 2);
	FOK(azblob_upload_buffer(F.ctx, F.container, "blocks/64mib", b, size,
				 o, F.err));
	FOK(azblob_download_buffer(F.ctx, F.container, "blocks/64mib", back,
				   size, &n, o, F.err));
	FCHECK(n == size && !memcmp(b, back, size));
	free(back);
	{
		char hex[65];

		sha256_hex(b, size, hex);
		sdk_expect(F.container, "blocks/64mib", size, hex);
	}
	free(b);
	azblob_opts_free(o);
}

static void ranges(void)
{
	static const struct { uint64_t off, len; } r[] = {
		{ 0, 1 }, { 1, 100 }, { 4 * MiB - 3, 10 }, { 8 * MiB - 1, 2 },
		{ 32 * MiB, 1 }, { 32 * MiB - 5, UINT64_MAX }, { 0, UINT64_MAX },
		{ 123457, 9 * MiB + 77 }, { 32 * MiB - 5, 100 },
	};
	const char *name = "sizes/mem-33554433";
	uint64_t size = 32 * MiB + 1;
	unsigned char *want = malloc(size), *got = malloc(size);
	azblob_opts *o = azblob_opts_new();
	size_t n;

	gen(103, 0, want, size);
	for (size_t i = 0; i < sizeof(r) / sizeof(*r); i++) {
		uint64_t len = r[i].len == UINT64_MAX || r[i].off + r[i].len >
			       size ? size - r[i].off : r[i].len;
		struct sink s;
		char h1[65], h2[65];

		azblob_opts_set_range(o, r[i].off, r[i].len);
		FOK(azblob_download_buffer(F.ctx, F.container, name, got, size,
					   &n, o, F.err));
		FCHECK(n == len && !memcmp(got, want + r[i].off, len));
		sink_init(&s);
		FOK(azblob_download_stream(F.ctx, F.container, name, sink_write,
					   &s, o, F.err));
		sink_final(&s, h1);
		sha256_hex(want + r[i].off, len, h2);
		FCHECK(s.bytes == len && !strcmp(h1, h2));
	}
	/* Past the end; a buffer too small says how much is needed. */
	azblob_opts_set_range(o, size + 10, 5);
	FCHECK(azblob_download_buffer(F.ctx, F.container, name, got, size, &n,
				      o, F.err) == AZBLOB_E_RANGE);
	FCHECK(azblob_error_http_status(F.err) == 416);
	FCHECK(azblob_download_buffer(F.ctx, F.container, name, got, 1000, &n,
				      NULL, F.err) == AZBLOB_E_RANGE);
	FCHECK(n == size);
	FCHECK(azblob_download_buffer(F.ctx, F.container, name, NULL, 0, &n,
				      NULL, F.err) == AZBLOB_E_RANGE);
	FCHECK(n == size);
	/* A range of an empty blob. */
	azblob_opts_set_range(o, 0, 10);
	FOK(azblob_download_buffer(F.ctx, F.container, "sizes/mem-0", got, 10,
				   &n, o, F.err));
	FCHECK(n == 0);
	azblob_opts_free(o);
	free(want);
	free(got);
}

static void listing(void)
{
	azblob_lister *l = NULL;
	const azblob_props *it;
	char name[64], marker[256] = "";
	int n = 0, prefixes = 0, blobs = 0, pages_seen = 0;
	azblob_opts *o = azblob_opts_new();

	azblob_opts_add_metadata(o, "idx", "v");
	for (int i = 0; i < 23; i++) {
		snprintf(name, sizeof(name), "list/%s/b%02d", i % 3 ? "d1" : "d2",
			 i);
		FOK(azblob_upload_buffer(F.ctx, F.container, name, name,
					 strlen(name), o, F.err));
	}
	FOK(azblob_upload_buffer(F.ctx, F.container, "list/top", "t", 1, NULL,
				 F.err));
	/* Flat, pages of 4: every blob once, in order. */
	FOK(azblob_list_blobs(F.ctx, F.container, "list/", NULL, &l, F.err));
	FOK(azblob_lister_set_page_size(l, 4));
	azblob_lister_set_include_metadata(l, 1);
	{
		char prev[256] = "";

		while (!azblob_lister_next(l, &it, F.err) && it) {
			FCHECK(strcmp(prev, azblob_props_name(it)) < 0);
			snprintf(prev, sizeof(prev), "%s", azblob_props_name(it));
			FCHECK(azblob_props_size(it) == (!strcmp(prev, "list/top") ?
							 1 : strlen(prev)));
			if (strcmp(prev, "list/top"))
				FCHECK(azblob_props_metadata_get(it, "idx") &&
				       !strcmp(azblob_props_metadata_get(it, "idx"),
					       "v"));
			if (n == 5)
				snprintf(marker, sizeof(marker), "%s",
					 azblob_lister_marker(l) ?
					 azblob_lister_marker(l) : "");
			n++;
		}
	}
	FCHECK(n == 24);
	FCHECK(!azblob_lister_marker(l));
	azblob_lister_free(l);
	/* Resumed from the marker of the second page: the rest. */
	FCHECK(*marker);
	FOK(azblob_list_blobs(F.ctx, F.container, "list/", NULL, &l, F.err));
	azblob_lister_set_page_size(l, 4);
	azblob_lister_set_marker(l, marker);
	n = 0;
	while (!azblob_lister_next(l, &it, F.err) && it)
		n++;
	FCHECK(n == 24 - 8);
	azblob_lister_free(l);
	/* With "/": two directories and one blob. */
	FOK(azblob_list_blobs(F.ctx, F.container, "list/", "/", &l, F.err));
	azblob_lister_set_page_size(l, 1);
	while (!azblob_lister_next(l, &it, F.err) && it) {
		pages_seen++;
		if (azblob_props_is_prefix(it))
			prefixes++;
		else
			blobs++;
	}
	FCHECK(prefixes == 2 && blobs == 1 && pages_seen == 3);
	azblob_lister_free(l);
	/* The prefix of a directory. */
	FOK(azblob_list_blobs(F.ctx, F.container, "list/d2/", "/", &l, F.err));
	n = 0;
	while (!azblob_lister_next(l, &it, F.err) && it)
		n++;
	FCHECK(n == 8);
	azblob_lister_free(l);
	azblob_opts_free(o);
}

static void metadata(void)
{
	azblob_opts *o = azblob_opts_new();
	azblob_props *p = NULL;
	char type[256], meta[1024];
	static const char *const kv[] = { "replaced", "yes", NULL };

	azblob_opts_set_content_type(o, "image/jpeg");
	/* The header-order case: wrong order means a 403. */
	FOK(azblob_opts_add_metadata(o, "foo2_bar", "two"));
	FOK(azblob_opts_add_metadata(o, "foo_bar", "one"));
	FOK(azblob_opts_add_metadata(o, "Project", "azblob test"));
	FCHECK(azblob_opts_add_metadata(o, "bad-key", "x") == AZBLOB_E_INVAL);
	FOK(azblob_upload_buffer(F.ctx, F.container, "meta/small", "abc", 3, o,
				 F.err));
	{
		unsigned char *b = malloc(9 * MiB);

		gen(9, 0, b, 9 * MiB);
		FOK(azblob_upload_buffer(F.ctx, F.container, "meta/blocks", b,
					 9 * MiB, o, F.err));
		free(b);
	}
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "meta/blocks" : "meta/small";

		FOK(azblob_get_properties(F.ctx, F.container, name, &p, F.err));
		FCHECK(p && azblob_props_content_type(p) &&
		       !strcmp(azblob_props_content_type(p), "image/jpeg"));
		FCHECK(p && azblob_props_metadata_count(p) == 3);
		FCHECK(p && azblob_props_metadata_get(p, "foo_bar") &&
		       !strcmp(azblob_props_metadata_get(p, "foo_bar"), "one"));
		FCHECK(p && azblob_props_metadata_get(p, "project") &&
		       !strcmp(azblob_props_metadata_get(p, "project"),
			       "azblob test"));
		FCHECK(p && azblob_props_etag(p) && azblob_props_last_modified(p));
		azblob_props_free(p);
		p = NULL;
		if (sdk_available()) {
			FCHECK(!sdk_props(F.container, name, type, sizeof(type),
					  meta, sizeof(meta)));
			FCHECK(!strcmp(type, "image/jpeg"));
			FCHECK(!strcmp(meta, "Project=azblob test;foo2_bar=two;"
				       "foo_bar=one") ||
			       !strcmp(meta, "foo2_bar=two;foo_bar=one;"
				       "project=azblob test"));
			if (strcmp(meta, "Project=azblob test;foo2_bar=two;foo_bar=one"))
				fprintf(stderr, "#  SDK metadata: %s\n", meta);
		}
	}
	FOK(azblob_set_metadata(F.ctx, F.container, "meta/small", kv, F.err));
	FOK(azblob_get_properties(F.ctx, F.container, "meta/small", &p,
				  F.err));
	FCHECK(p && azblob_props_metadata_count(p) == 1 &&
	       !strcmp(azblob_props_metadata_get(p, "replaced"), "yes"));
	azblob_props_free(p);
	FOK(azblob_set_metadata(F.ctx, F.container, "meta/small", NULL, F.err));
	FOK(azblob_get_properties(F.ctx, F.container, "meta/small", &p,
				  F.err));
	FCHECK(p && azblob_props_metadata_count(p) == 0);
	azblob_props_free(p);
	azblob_opts_free(o);
}

static void errors(void)
{
	char buf[16], cs[512];
	size_t n;
	azblob_ctx *bad;
	azblob_lister *l = NULL;
	const azblob_props *it;
	azblob_props *p = NULL;

	FCHECK(azblob_download_buffer(F.ctx, "azbt-missing-container", "x", buf,
				      sizeof(buf), &n, NULL, F.err) ==
	       AZBLOB_E_NOT_FOUND);
	FCHECK(azblob_error_http_status(F.err) == 404);
	FCHECK(!strcmp(azblob_error_service_code(F.err), "ContainerNotFound"));
	FCHECK(!strcmp(azblob_error_message(F.err),
		       "container not found: azbt-missing-container"));
	FCHECK(azblob_upload_buffer(F.ctx, "azbt-missing-container", "x", "a",
				    1, NULL, F.err) == AZBLOB_E_NOT_FOUND);
	FOK(azblob_list_blobs(F.ctx, "azbt-missing-container", NULL, NULL, &l,
			      F.err));
	FCHECK(azblob_lister_next(l, &it, F.err) == AZBLOB_E_NOT_FOUND);
	azblob_lister_free(l);
	FCHECK(azblob_download_buffer(F.ctx, F.container, "no/such/blob", buf,
				      sizeof(buf), &n, NULL, F.err) ==
	       AZBLOB_E_NOT_FOUND);
	FCHECK(!strcmp(azblob_error_service_code(F.err), "BlobNotFound"));
	FCHECK(strstr(azblob_error_message(F.err), "blob not found: "));
	FCHECK(*azblob_error_request_id(F.err));
	FCHECK(azblob_get_properties(F.ctx, F.container, "no/such/blob", &p,
				     F.err) == AZBLOB_E_NOT_FOUND && !p);
	FCHECK(azblob_error_http_status(F.err) == 404);
	FCHECK(azblob_delete(F.ctx, F.container, "no/such/blob", F.err) ==
	       AZBLOB_E_NOT_FOUND);
	FCHECK(azblob_container_delete(F.ctx, "azbt-missing-container",
				       F.err) == AZBLOB_E_NOT_FOUND);
	/* Invalid names never reach the service. */
	FCHECK(azblob_container_create(F.ctx, "Bad_Name", F.err) ==
	       AZBLOB_E_INVAL);
	FCHECK(azblob_upload_buffer(F.ctx, F.container, "a/../b", "x", 1, NULL,
				    F.err) == AZBLOB_E_INVAL);
	/* A wrong key: 403, not retried into success. */
	snprintf(cs, sizeof(cs), "%s;AccountKey=%s", F.cs,
		 "AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==");
	bad = f_ctx(cs);
	FCHECK(bad);
	if (!bad)
		return;
	FCHECK(azblob_get_properties(bad, F.container, "meta/small", &p,
				     F.err) == AZBLOB_E_AUTH);
	FCHECK(azblob_error_http_status(F.err) == 403);
	FCHECK(azblob_download_buffer(bad, F.container, "meta/small", buf,
				      sizeof(buf), &n, NULL, F.err) ==
	       AZBLOB_E_AUTH);
	FCHECK(azblob_error_http_status(F.err) == 403);
	FCHECK(*azblob_error_service_code(F.err));
	fprintf(stderr, "#  bad key: %s\n", azblob_error_message(F.err));
	azblob_ctx_free(bad);
}

static void sdk_written(void)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		char name[64];

		snprintf(name, sizeof(name), "sdk/%" PRIu64, sizes[i]);
		FCHECK(!sdk_put(F.container, name, 500 + i, sizes[i]));
		read_back(name, 500 + i, sizes[i]);
		/* Its stored MD5 checked on the way down. */
		{
			azblob_opts *o = azblob_opts_new();
			struct sink s;
			char h[65], w[65];

			azblob_opts_set_checksum(o, AZBLOB_CHECKSUM_MD5);
			sink_init(&s);
			FOK(azblob_download_stream(F.ctx, F.container, name,
						   sink_write, &s, o, F.err));
			sink_final(&s, h);
			gen_sha256(500 + i, sizes[i], w);
			FCHECK(!strcmp(h, w));
			azblob_opts_free(o);
		}
	}
}

static void overwrite(void)
{
	azblob_opts *o = azblob_opts_new();
	unsigned char *b = malloc(10 * MiB);

	azblob_opts_set_overwrite(o, 0);
	FOK(azblob_upload_buffer(F.ctx, F.container, "ow/new", "1", 1, o,
				 F.err));
	FCHECK(azblob_upload_buffer(F.ctx, F.container, "ow/new", "2", 1, o,
				    F.err) == AZBLOB_E_EXISTS);
	FCHECK(azblob_error_http_status(F.err) == 409);
	gen(7, 0, b, 10 * MiB);
	FCHECK(azblob_upload_buffer(F.ctx, F.container, "ow/new", b, 10 * MiB,
				    o, F.err) == AZBLOB_E_EXISTS);
	FOK(azblob_upload_buffer(F.ctx, F.container, "ow/new", "3", 1, NULL,
				 F.err));
	{
		char c = 0;
		size_t n = 0;

		FOK(azblob_download_buffer(F.ctx, F.container, "ow/new", &c, 1,
					   &n, NULL, F.err));
		FCHECK(n == 1 && c == '3');
	}
	azblob_opts_free(o);
	free(b);
}

static void md5_mode(void)
{
	azblob_opts *o = azblob_opts_new();
	uint64_t size = 20 * MiB + 3;
	struct gsrc g = { .seed = 600, .size = size };
	azblob_props *p = NULL;
	struct sink s;
	char h[65], w[65];

	azblob_opts_set_checksum(o, AZBLOB_CHECKSUM_MD5);
	azblob_opts_set_block_size(o, 4 * MiB);
	FOK(azblob_upload_stream(F.ctx, F.container, "md5/blob", gsrc_read, &g,
				 o, F.err));
	FOK(azblob_get_properties(F.ctx, F.container, "md5/blob", &p, F.err));
	FCHECK(p && azblob_props_content_md5(p));	/* stored on commit */
	azblob_props_free(p);
	sink_init(&s);
	FOK(azblob_download_stream(F.ctx, F.container, "md5/blob", sink_write,
				   &s, o, F.err));
	sink_final(&s, h);
	gen_sha256(600, size, w);
	FCHECK(!strcmp(h, w));
	sdk_expect(F.container, "md5/blob", size, w);
	azblob_opts_free(o);
}

static void auth_round_trip(azblob_ctx *c, const char *name)
{
	char back[32];
	size_t n = 0;
	azblob_lister *l = NULL;
	const azblob_props *it;
	int found = 0;

	FOK(azblob_upload_buffer(c, F.container, name, "authorized", 10, NULL,
				 F.err));
	FOK(azblob_download_buffer(c, F.container, name, back, sizeof(back),
				   &n, NULL, F.err));
	FCHECK(n == 10 && !memcmp(back, "authorized", 10));
	FOK(azblob_list_blobs(c, F.container, "auth/", NULL, &l, F.err));
	while (l && !azblob_lister_next(l, &it, F.err) && it)
		found += !strcmp(azblob_props_name(it), name);
	FCHECK(found == 1);
	azblob_lister_free(l);
	FOK(azblob_delete(c, F.container, name, F.err));
}

/* A SAS made by the SDK, and a bearer token (when the runner has one). */
static void auth_sas_bearer(void)
{
	const char *bearer = getenv("AZBLOB_TEST_BEARER");
	azblob_ctx *c;

	if (sdk_available()) {
		char sas[1024] = "", *bad;
		FILE *p = popen("node \"$AZBLOB_TEST_DIR/sdk_sas.js\"", "r");

		FCHECK(p && fgets(sas, sizeof(sas), p));
		if (p)
			pclose(p);
		sas[strcspn(sas, "\n")] = '\0';
		c = f_ctx(F.cs);
		FCHECK(c && !azblob_ctx_set_sas(c, sas, F.err));
		if (c)
			auth_round_trip(c, "auth/sas");
		azblob_ctx_free(c);
		/* A signature that does not match: 403. */
		bad = strstr(sas, "sig=");
		if (bad && bad[4])
			bad[4] = bad[4] == 'A' ? 'B' : 'A';
		c = f_ctx(F.cs);
		FCHECK(c && !azblob_ctx_set_sas(c, sas, F.err));
		if (c)
			FCHECK(azblob_upload_buffer(c, F.container, "auth/x", "x",
						    1, NULL, F.err) ==
			       AZBLOB_E_AUTH);
		azblob_ctx_free(c);
	}
	if (bearer) {
		c = f_ctx(F.cs);
		FCHECK(c && !azblob_ctx_set_bearer_token(c, bearer, F.err));
		if (c)
			auth_round_trip(c, "auth/bearer");
		/* Replaced while the context is in use. */
		FCHECK(c && !azblob_ctx_set_bearer_token(c, bearer, F.err));
		if (c)
			auth_round_trip(c, "auth/bearer2");
		/* A token without issuer or audience: refused. */
		FCHECK(c && !azblob_ctx_set_bearer_token(c, "e30.e30.c2ln",
							 F.err));
		if (c)
			FCHECK(azblob_upload_buffer(c, F.container, "auth/x", "x",
						    1, NULL, F.err) ==
			       AZBLOB_E_AUTH);
		azblob_ctx_free(c);
	}
	if (!sdk_available() && !bearer)
		printf("# no SDK and no bearer token here: nothing to do\n");
}

/*
 * One blob the SDK wrote before the suite ran (see sdk_fixtures()):
 * properties as the SDK set them, the bytes by SHA-256, streamed with the
 * default checksum and again with the blob's stored MD5 checked.
 */
static void sdk_fixture(const char *c, const char *b, uint64_t size,
			const char *sha, const char *md5, const char *type,
			const char *meta)
{
	azblob_props *p = NULL;
	azblob_opts *o = azblob_opts_new();
	struct sink s;
	char h[65], kv[256], *k, *save = NULL;
	size_t n = 0;

	FOK(azblob_get_properties(F.ctx, c, b, &p, F.err));
	if (p) {
		const char *v = azblob_props_content_type(p);

		FCHECK(azblob_props_size(p) == size);
		FCHECK(!strcmp(azblob_props_blob_type(p), "BlockBlob"));
		FCHECK(v && !strcmp(v, type));
		v = azblob_props_content_md5(p);
		FCHECK(v && !strcmp(v, md5));
		snprintf(kv, sizeof(kv), "%s", meta);
		for (k = strtok_r(kv, ";", &save); k;
		     k = strtok_r(NULL, ";", &save)) {
			char *eq = strchr(k, '=');

			n++;
			FCHECK(eq);
			if (!eq)
				continue;
			*eq = 0;
			v = azblob_props_metadata_get(p, k);
			FCHECK(v && !strcmp(v, eq + 1));
		}
		FCHECK(azblob_props_metadata_count(p) == n);
	}
	azblob_props_free(p);
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			azblob_opts_set_checksum(o, AZBLOB_CHECKSUM_MD5);
		sink_init(&s);
		FOK(azblob_download_stream(F.ctx, c, b, sink_write, &s,
					   pass ? o : NULL, F.err));
		sink_final(&s, h);
		FCHECK(s.bytes == size && !strcmp(h, sha));
		if (s.bytes != size || strcmp(h, sha))
			fprintf(stderr, "#  %s/%s: %" PRIu64 " bytes, sha256 %s; the SDK wrote %" PRIu64 ", %s\n",
				c, b, s.bytes, h, size, sha);
	}
	azblob_opts_free(o);
}

/*
 * Blobs the SDK wrote before the suite ran, where no node runs here (a
 * guest): $AZBLOB_TEST_SDK_FIXTURES names host-pre.sh's list of them,
 * "sdkblob CONTAINER BLOB SIZE SHA256 CONTENT_MD5 CONTENT_TYPE METADATA"
 * lines (tools/az_blob_test/blob/sdk-pattern.js props).
 */
static void sdk_fixtures(void)
{
	FILE *f = fopen(getenv("AZBLOB_TEST_SDK_FIXTURES"), "r");
	char line[1024];
	int n = 0;

	FCHECK(f);
	while (f && fgets(line, sizeof(line), f)) {
		char c[64], b[256], sha[65], md5[64], type[128], meta[256];
		uint64_t size;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "sdkblob %63s %255s %" SCNu64 " %64s %63s %127s %255s",
			   c, b, &size, sha, md5, type, meta) != 7) {
			fprintf(stderr, "#  bad fixture line: %s", line);
			FCHECK(!"a fixture line as sdk-pattern.js writes them");
			continue;
		}
		sdk_fixture(c, b, size, sha, md5, type, meta);
		n++;
	}
	if (f)
		fclose(f);
	printf("# %d SDK-written blobs read\n", n);
	FCHECK(n > 0);
}

void func_cases(void)
{
	f_run("containers: create, 409 when it exists, listed", containers);
	f_run("sizes from memory: 0 B, 1 B, 4 MiB - 1, 32 MiB + 1; read back, SDK agrees",
	      sizes_memory);
	f_run("sizes streamed (read callback, short reads); read back, SDK agrees",
	      sizes_stream);
	f_run("file descriptors: 32 MiB + 1 from a pipe, to a file, from a file",
	      sizes_fd);
	f_run("blocks: 1 MiB blocks x 8 up, 64 KiB chunks x 16 down",
	      small_blocks);
	f_run("64 MiB blocks and chunks asked: split to what one request holds",
	      oversized);
	f_run("ranged reads: buffer and stream, past the end, small buffer",
	      ranges);
	f_run("listing: pages of 4, marker resume, prefix and delimiter, metadata",
	      listing);
	f_run("properties and metadata (foo_bar and foo2_bar), SDK sees them, replace, clear",
	      metadata);
	f_run("errors: missing container, missing blob, bad key (403), bad names",
	      errors);
	if (sdk_available())
		f_run("SDK-written blobs (0, 1, 4 MiB - 1, 32 MiB + 1) read by the library, MD5 checked",
		      sdk_written);
	if (getenv("AZBLOB_TEST_SDK_FIXTURES"))
		f_run("SDK-written blobs (the SDK's fixtures, up to 33 MiB) read by the library: bytes, type, MD5, metadata",
		      sdk_fixtures);
	if (!sdk_available() && !getenv("AZBLOB_TEST_SDK_FIXTURES"))
		f_skip("SDK-written blobs read by the library", "no SDK here");
	f_run("overwrite=0: If-None-Match refuses an existing blob", overwrite);
	f_run("auth: a SAS made by the SDK (and a wrong one: 403), a bearer token",
	      auth_sas_bearer);
	f_run("MD5 mode: per-block Content-MD5, blob MD5 stored and checked",
	      md5_mode);
}
