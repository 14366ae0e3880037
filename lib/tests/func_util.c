// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: the functional suite's helpers: deterministic content,
 * SHA-256, the SDK (node) as an independent client, memory use.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include "func.h"

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void gen(uint64_t seed, uint64_t off, void *buf, size_t len)
{
	unsigned char *p = buf;
	uint64_t word = off / 8;
	size_t skip = off % 8;

	while (len) {
		uint64_t v = mix(seed * 0x9E3779B97F4A7C15ULL + word++);
		unsigned char w[8];
		size_t k = 8 - skip < len ? 8 - skip : len;

		for (int i = 0; i < 8; i++)
			w[i] = (unsigned char)(v >> (8 * i));
		memcpy(p, w + skip, k);
		p += k;
		len -= k;
		skip = 0;
	}
}

static void hexify(const unsigned char *md, char hex[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

void sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int ml;

	EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
	hexify(md, hex);
}

void sink_init(struct sink *s)
{
	s->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
	s->bytes = 0;
}

int sink_write(void *arg, const void *buf, size_t len)
{
	struct sink *s = arg;

	EVP_DigestUpdate(s->md, buf, len);
	s->bytes += len;
	return 0;
}

void sink_final(struct sink *s, char hex[65])
{
	unsigned char md[32];
	unsigned int ml;

	EVP_DigestFinal_ex(s->md, md, &ml);
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	hexify(md, hex);
}

void gen_sha256(uint64_t seed, uint64_t len, char hex[65])
{
	size_t cap = 4 << 20;
	unsigned char *b = malloc(cap);
	struct sink s;

	sink_init(&s);
	for (uint64_t off = 0; off < len; off += cap) {
		size_t k = len - off < cap ? (size_t)(len - off) : cap;

		gen(seed, off, b, k);
		sink_write(&s, b, k);
	}
	sink_final(&s, hex);
	free(b);
}

ssize_t gsrc_read(void *arg, void *buf, size_t len)
{
	struct gsrc *g = arg;

	if (g->fail_at && g->off >= g->fail_at) {
		errno = EPIPE;
		return -1;
	}
	if (g->max_read && len > g->max_read)
		len = g->max_read;
	if (len > g->size - g->off)
		len = (size_t)(g->size - g->off);
	gen(g->seed, g->off, buf, len);
	g->off += len;
	return (ssize_t)len;
}

bool sdk_available(void)
{
	return F.sdk_dir && F.sdk_ep;
}

static FILE *sdk_run(const char *script, const char *args)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "node %s/%s %s %s", script[0] == '/' ?
		 "" : F.sdk_dir, script, F.sdk_ep, args);
	return popen(cmd, "r");
}

int sdk_sha256(const char *container, const char *blob, uint64_t *size,
	       char hex[65])
{
	char args[1200], line[256];
	FILE *p;
	int rc = -1;

	snprintf(args, sizeof(args), "sha256 '%s' '%s'", container, blob);
	p = sdk_run("sdk.js", args);
	if (!p)
		return -1;
	if (fgets(line, sizeof(line), p) &&
	    sscanf(line, "%" SCNu64 " %64s", size, hex) == 2)
		rc = 0;
	if (pclose(p))
		rc = -1;
	return rc;
}

void sdk_expect(const char *container, const char *blob, uint64_t size,
		const char *hex)
{
	uint64_t got = 0;
	char h[65] = "";

	if (F.manifest)
		fprintf(F.manifest, "sha256 %s %s %" PRIu64 " %s\n", container,
			blob, size, hex);
	if (!sdk_available())
		return;
	FCHECK(!sdk_sha256(container, blob, &got, h));
	FCHECK(got == size);
	FCHECK(!strcmp(h, hex));
}

int sdk_put(const char *container, const char *blob, uint64_t seed,
	    uint64_t size)
{
	char path[] = "/tmp/azbt-XXXXXX", args[1400];
	size_t cap = 4 << 20;
	unsigned char *b = malloc(cap);
	int fd = mkstemp(path), rc = -1;
	FILE *p;

	if (fd < 0 || !b)
		goto out;
	for (uint64_t off = 0; off < size; off += cap) {
		size_t k = size - off < cap ? (size_t)(size - off) : cap;

		gen(seed, off, b, k);
		if (write(fd, b, k) != (ssize_t)k)
			goto out;
	}
	snprintf(args, sizeof(args), "put '%s' '%s' %s", container, blob,
		 path);
	p = sdk_run("sdk.js", args);
	if (p && !pclose(p))
		rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	free(b);
	return rc;
}

int sdk_props(const char *container, const char *blob, char *type,
	      size_t tlen, char *meta, size_t mlen)
{
	char args[1200], script[1024], line[4096];
	const char *self = getenv("AZBLOB_TEST_DIR");
	FILE *p;
	int rc = -1;

	snprintf(script, sizeof(script), "%s/sdk_props.js", self ? self : ".");
	snprintf(args, sizeof(args), "'%s' '%s'", container, blob);
	p = sdk_run(script, args);
	if (!p)
		return -1;
	*type = *meta = '\0';
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "type ", 5))
			snprintf(type, tlen, "%s", line + 5);
		else if (!strncmp(line, "meta ", 5))
			snprintf(meta, mlen, "%s", line + 5);
	}
	if (!pclose(p))
		rc = 0;
	return rc;
}

uint64_t rss_now(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}
