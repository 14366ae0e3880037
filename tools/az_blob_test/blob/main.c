// SPDX-License-Identifier: GPL-2.0
/*
 * az_blob_blob: Azure Blob requests from a test guest through
 * /dev/azure_blob (or, with --tcp, the guest's own TCP stack), for the
 * relay guest that tools/az_blob_test/blob/blob-smoke.sh boots. TEST-ONLY.
 *
 *   az_blob_blob [OPTIONS] suite [--container C]
 *   az_blob_blob [OPTIONS] put C/B SIZE SEED       upload the pattern
 *   az_blob_blob [OPTIONS] verify C/B SIZE SEED    download, compare
 *   az_blob_blob [OPTIONS] get C/B                 download, print SHA-256
 *   az_blob_blob [OPTIONS] put-file C/B PATH
 *   az_blob_blob [OPTIONS] get-file C/B PATH
 *   az_blob_blob [OPTIONS] ls C [PREFIX]
 *   az_blob_blob [OPTIONS] rm C/B
 *   az_blob_blob [OPTIONS] mkcontainer C           201, or 409 if it exists
 *   az_blob_blob [OPTIONS] bench C/B SIZE [SEED [REPEAT]]
 *   az_blob_blob selftest                          SHA-256/HMAC/base64 vectors
 *
 * Options: --tcp HOST:PORT (the baseline transport: HTTP over a socket),
 * --device PATH (default /dev/azure_blob), --chunk BYTES (largest body of
 * one request; default and maximum 32 MiB - 12 KiB, the most that fits
 * 8192 pages with a one-page request and a two-page response), --key KEY
 * (the account key, default the emulator's).
 *
 * Output: "ok NAME", "FAIL NAME: WHY", "skip NAME: WHY", "# COMMENT", as
 * tools/az_blob_test's harness prints; exit 0 when nothing failed. The
 * pattern is az_sim_pattern(SEED, i) of tools/az_blob_test/az_blob_sim.h.
 * MB/s are 10^6 bytes per second.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../az_blob_sim.h"
#include "blob.h"

static const char *opt_dev = "/dev/azure_blob";
static const char *opt_tcp;
static const char *opt_key = BC_KEY;

/* x = (i + seed) * K: one multiply to start, then one add per byte. */
#define PATTERN_K	0x9E3779B97F4A7C15ULL

void pattern_fill(void *dst, size_t len, uint32_t seed, uint64_t off)
{
	uint64_t x = (off + seed) * PATTERN_K;
	unsigned char *p = dst;

	for (size_t i = 0; i < len; i++, x += PATTERN_K)
		p[i] = (unsigned char)(x >> 56);
}

int64_t pattern_check(const void *p, size_t len, uint32_t seed, uint64_t off)
{
	uint64_t x = (off + seed) * PATTERN_K;
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++, x += PATTERN_K)
		if (b[i] != (unsigned char)(x >> 56))
			return (int64_t)i;
	return -1;
}

void *page_alloc(size_t len)
{
	void *p = mmap(NULL, len ? len : PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("az_blob_blob: mmap");
		exit(2);
	}
	return p;
}

void page_free(void *p, size_t len)
{
	munmap(p, len ? len : PAGE);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double mbps(size_t bytes, double secs)
{
	return secs > 0 ? (double)bytes / secs / 1e6 : 0;
}

static const char *transport(void)
{
	return opt_tcp ? "tcp" : "driver";
}

static int usage(void)
{
	fprintf(stderr,
		"usage: az_blob_blob [--tcp HOST:PORT] [--device PATH] [--chunk BYTES]\n"
		"                    [--key KEY] COMMAND ARGS...\n"
		"  suite [--container C]\n"
		"  put C/B SIZE SEED | verify C/B SIZE SEED | get C/B\n"
		"  put-file C/B PATH | get-file C/B PATH | rm C/B\n"
		"  ls C [PREFIX] | mkcontainer C\n"
		"  bench C/B SIZE [SEED [REPEAT]]\n"
		"  selftest\n");
	return 2;
}

/* "C/B" into its container and blob name. */
static int split(const char *cb, char *c, size_t clen, const char **b)
{
	const char *slash = strchr(cb, '/');

	if (!slash || slash == cb || !slash[1] || (size_t)(slash - cb) >= clen) {
		fprintf(stderr, "az_blob_blob: CONTAINER/BLOB, not %s\n", cb);
		return -1;
	}
	memcpy(c, cb, (size_t)(slash - cb));
	c[slash - cb] = '\0';
	*b = slash + 1;
	return 0;
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	switch (*end) {
	case 'K': case 'k': v <<= 10; break;
	case 'M': case 'm': v <<= 20; break;
	case 'G': case 'g': v <<= 30; break;
	}
	return (size_t)v;
}

static int open_conn(struct blob_conn *c)
{
	return conn_init(c, opt_dev, opt_tcp, opt_key);
}

/* put C/B SIZE SEED, and verify C/B SIZE SEED */
static int cmd_put_verify(bool put, const char *cb, size_t size, uint32_t seed)
{
	struct blob_conn c;
	char cont[256], why[512];
	const char *b;
	size_t got = 0;
	unsigned long reqs;
	unsigned char *buf;
	double t0, dt;
	int64_t bad;
	int ret;

	if (split(cb, cont, sizeof(cont), &b) || open_conn(&c))
		return 1;
	buf = page_alloc(size);
	if (put)
		pattern_fill(buf, size, seed, 0);
	else
		memset(buf, 0xA5, size);
	t0 = now_s();
	ret = put ? blob_put(&c, cont, b, buf, size, why, sizeof(why)) :
		    blob_get(&c, cont, b, buf, size, &got, why, sizeof(why));
	dt = now_s() - t0;
	reqs = c.requests;
	conn_fini(&c);
	if (!ret && !put && got != size) {
		snprintf(why, sizeof(why), "blob has %zu bytes, not %zu", got,
			 size);
		ret = -1;
	}
	if (!ret && !put && (bad = pattern_check(buf, size, seed, 0)) >= 0) {
		snprintf(why, sizeof(why), "byte %" PRId64 " is %#x, not %#x",
			 bad, buf[bad], az_sim_pattern(seed, (uint64_t)bad));
		ret = -1;
	}
	page_free(buf, size);
	if (ret) {
		printf("FAIL %s %s: %s\n", put ? "put" : "verify", cb, why);
		return 1;
	}
	printf("# %s %s: %zu bytes in %.3f s, %.1f MB/s (%s, %lu requests)\n",
	       put ? "put" : "get", cb, size, dt, mbps(size, dt), transport(),
	       reqs);
	printf("ok %s %s (%zu bytes, seed %u, %s)\n", put ? "put" : "verify",
	       cb, size, seed, transport());
	return 0;
}

static int cmd_put_file(const char *cb, const char *file)
{
	struct blob_conn c;
	char cont[256], why[512];
	const char *b;
	struct stat st;
	unsigned char *buf;
	size_t size, done = 0;
	double t0, dt;
	int fd, ret;

	if (split(cb, cont, sizeof(cont), &b))
		return 1;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		printf("FAIL put-file %s: %s: %s\n", cb, file, strerror(errno));
		return 1;
	}
	size = (size_t)st.st_size;
	buf = page_alloc(size);
	while (done < size) {
		ssize_t k = read(fd, buf + done, size - done);

		if (k <= 0) {
			printf("FAIL put-file %s: read %s: %s\n", cb, file,
			       k ? strerror(errno) : "short");
			close(fd);
			return 1;
		}
		done += (size_t)k;
	}
	close(fd);
	if (open_conn(&c))
		return 1;
	t0 = now_s();
	ret = blob_put(&c, cont, b, buf, size, why, sizeof(why));
	dt = now_s() - t0;
	conn_fini(&c);
	page_free(buf, size);
	if (ret) {
		printf("FAIL put-file %s: %s\n", cb, why);
		return 1;
	}
	printf("# put %s: %zu bytes in %.3f s, %.1f MB/s (%s)\n", cb, size, dt,
	       mbps(size, dt), transport());
	printf("ok put-file %s (%s, %zu bytes)\n", cb, file, size);
	return 0;
}

static int cmd_get_file(const char *cb, const char *file)
{
	struct blob_conn c;
	char cont[256], why[512];
	const char *b;
	unsigned char *buf;
	uint64_t size;
	size_t got = 0, done = 0;
	double t0, dt;
	int fd, ret;

	if (split(cb, cont, sizeof(cont), &b) || open_conn(&c))
		return 1;
	ret = blob_head(&c, cont, b, &size, why, sizeof(why));
	if (ret) {
		printf("FAIL get-file %s: %s\n", cb, ret > 0 ? "no such blob" : why);
		conn_fini(&c);
		return 1;
	}
	buf = page_alloc((size_t)size);
	t0 = now_s();
	ret = blob_get(&c, cont, b, buf, (size_t)size, &got, why, sizeof(why));
	dt = now_s() - t0;
	conn_fini(&c);
	if (ret) {
		printf("FAIL get-file %s: %s\n", cb, why);
		return 1;
	}
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	while (fd >= 0 && done < got) {
		ssize_t k = write(fd, buf + done, got - done);

		if (k <= 0)
			break;
		done += (size_t)k;
	}
	if (fd < 0 || done < got || close(fd)) {
		printf("FAIL get-file %s: write %s: %s\n", cb, file,
		       strerror(errno));
		return 1;
	}
	page_free(buf, (size_t)size);
	printf("# get %s: %zu bytes in %.3f s, %.1f MB/s (%s)\n", cb, got, dt,
	       mbps(got, dt), transport());
	printf("ok get-file %s (%s, %zu bytes)\n", cb, file, got);
	return 0;
}

/* get C/B: download (size from HEAD), print its size and SHA-256. */
static int cmd_get(const char *cb)
{
	struct blob_conn c;
	char cont[256], why[512], hex[65];
	const char *b;
	unsigned char *buf;
	uint64_t size;
	size_t got = 0;
	double t0, dt;
	int ret;

	if (split(cb, cont, sizeof(cont), &b) || open_conn(&c))
		return 1;
	ret = blob_head(&c, cont, b, &size, why, sizeof(why));
	if (ret) {
		printf("FAIL get %s: %s\n", cb, ret > 0 ? "no such blob" : why);
		conn_fini(&c);
		return 1;
	}
	buf = page_alloc((size_t)size);
	t0 = now_s();
	ret = blob_get(&c, cont, b, buf, (size_t)size, &got, why, sizeof(why));
	dt = now_s() - t0;
	conn_fini(&c);
	if (ret) {
		printf("FAIL get %s: %s\n", cb, why);
		page_free(buf, (size_t)size);
		return 1;
	}
	bc_sha256_hex(buf, got, hex);
	page_free(buf, (size_t)size);
	printf("# get %s: %zu bytes in %.3f s, %.1f MB/s (%s), sha256 %s\n", cb,
	       got, dt, mbps(got, dt), transport(), hex);
	printf("ok get %s (%zu bytes)\n", cb, got);
	return 0;
}

static int cmd_ls(const char *cont, const char *prefix)
{
	struct blob_conn c;
	struct blob_item *items;
	char why[512];
	int n, pages;

	if (open_conn(&c))
		return 1;
	items = calloc(10000, sizeof(*items));
	n = blob_list(&c, cont, prefix, 0, items, 10000, &pages, why,
		      sizeof(why));
	conn_fini(&c);
	if (n < 0) {
		printf("FAIL ls %s: %s\n", cont, why);
		free(items);
		return 1;
	}
	for (int i = 0; i < n && i < 10000; i++)
		printf("# %12" PRIu64 " %s\n", items[i].size, items[i].name);
	printf("ok ls %s (%d blobs)\n", cont, n);
	free(items);
	return 0;
}

static int cmd_rm(const char *cb)
{
	struct blob_conn c;
	char cont[256], why[512];
	const char *b;
	int ret;

	if (split(cb, cont, sizeof(cont), &b) || open_conn(&c))
		return 1;
	ret = blob_delete(&c, cont, b, why, sizeof(why));
	conn_fini(&c);
	if (ret) {
		printf("FAIL rm %s: %s\n", cb, why);
		return 1;
	}
	printf("ok rm %s\n", cb);
	return 0;
}

static int cmd_mkcontainer(const char *cont)
{
	struct blob_conn c;
	struct blob_ans a = { 0 };
	char s[320];
	int ok;

	if (open_conn(&c))
		return 1;
	container_create(&c, cont, &a);
	conn_fini(&c);
	ok = !a.error[0] && !a.status && (a.http == 201 || a.http == 409);
	if (ok)
		printf("ok mkcontainer %s (http %u)\n", cont, a.http);
	else
		printf("FAIL mkcontainer %s: %s\n", cont, ans_str(&a, s, sizeof(s)));
	ans_free(&a);
	return !ok;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * bench C/B SIZE [SEED [REPEAT]]: upload, then download SIZE bytes,
 * REPEAT times; only the transfers are timed (the pattern is made and
 * checked outside, the download buffer is faulted in before).
 */
static int cmd_bench(const char *cb, size_t size, uint32_t seed, int repeat)
{
	struct blob_conn c;
	char cont[256], why[512];
	const char *b;
	unsigned char *src, *dst;
	double up[16], down[16], t0;
	unsigned long r0;
	size_t got;
	int64_t bad;
	int i;

	if (repeat < 1 || repeat > 16)
		repeat = 1;
	if (split(cb, cont, sizeof(cont), &b) || open_conn(&c))
		return 1;
	src = page_alloc(size);
	dst = page_alloc(size);
	pattern_fill(src, size, seed, 0);
	for (i = 0; i < repeat; i++) {
		memset(dst, 0, size);
		r0 = c.requests;
		t0 = now_s();
		if (blob_put(&c, cont, b, src, size, why, sizeof(why))) {
			printf("FAIL bench %s %s: put: %s\n", transport(), cb, why);
			return 1;
		}
		up[i] = now_s() - t0;
		printf("# bench %s put: %zu bytes in %.3f s: %.1f MB/s (%lu requests)\n",
		       transport(), size, up[i], mbps(size, up[i]),
		       c.requests - r0);
		r0 = c.requests;
		t0 = now_s();
		if (blob_get(&c, cont, b, dst, size, &got, why, sizeof(why))) {
			printf("FAIL bench %s %s: get: %s\n", transport(), cb, why);
			return 1;
		}
		down[i] = now_s() - t0;
		printf("# bench %s get: %zu bytes in %.3f s: %.1f MB/s (%lu requests)\n",
		       transport(), size, down[i], mbps(size, down[i]),
		       c.requests - r0);
		bad = got == size ? pattern_check(dst, size, seed, 0) : 0;
		if (bad >= 0) {
			printf("FAIL bench %s %s: downloaded %zu bytes, byte %" PRId64
			       " differs\n", transport(), cb, got, bad);
			return 1;
		}
	}
	conn_fini(&c);
	page_free(src, size);
	page_free(dst, size);
	qsort(up, (size_t)repeat, sizeof(double), cmp_double);
	qsort(down, (size_t)repeat, sizeof(double), cmp_double);
	/* The median; the line blob-smoke.sh collects. */
	printf("# figure bench %s %zu bytes: up %.1f MB/s, down %.1f MB/s (median of %d, chunk %zu)\n",
	       transport(), size, mbps(size, up[repeat / 2]),
	       mbps(size, down[repeat / 2]), repeat, blob_chunk);
	printf("ok bench %s %s (%zu bytes up and down, data checked)\n",
	       transport(), cb, size);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--tcp"))
			opt_tcp = argv[++i];
		else if (!strcmp(argv[i], "--device"))
			opt_dev = argv[++i];
		else if (!strcmp(argv[i], "--key"))
			opt_key = argv[++i];
		else if (!strcmp(argv[i], "--chunk"))
			blob_chunk = parse_size(argv[++i]);
		else
			return usage();
	}
	if (blob_chunk < PAGE || blob_chunk > CHUNK_MAX || blob_chunk % PAGE) {
		fprintf(stderr, "az_blob_blob: --chunk: a multiple of 4096 up to %lu\n",
			CHUNK_MAX);
		return 2;
	}
	if (i >= argc)
		return usage();
	cmd = argv[i++];
	argc -= i;
	argv += i;

	if (!strcmp(cmd, "selftest")) {
		char why[256];

		if (blob_crypto_selftest(why, sizeof(why))) {
			printf("FAIL crypto selftest: %s\n", why);
			return 1;
		}
		printf("ok crypto selftest (SHA-256, HMAC-SHA-256, base64 vectors)\n");
		return 0;
	}
	if (!strcmp(cmd, "suite")) {
		const char *cont = NULL;

		if (argc == 2 && !strcmp(argv[0], "--container"))
			cont = argv[1];
		else if (argc)
			return usage();
		return run_suite(opt_dev, opt_tcp, opt_key, cont) ? 1 : 0;
	}
	if ((!strcmp(cmd, "put") || !strcmp(cmd, "verify")) && argc == 3)
		return cmd_put_verify(cmd[0] == 'p', argv[0], parse_size(argv[1]),
				      (uint32_t)strtoul(argv[2], NULL, 0));
	if (!strcmp(cmd, "get") && argc == 1)
		return cmd_get(argv[0]);
	if (!strcmp(cmd, "put-file") && argc == 2)
		return cmd_put_file(argv[0], argv[1]);
	if (!strcmp(cmd, "get-file") && argc == 2)
		return cmd_get_file(argv[0], argv[1]);
	if (!strcmp(cmd, "ls") && (argc == 1 || argc == 2))
		return cmd_ls(argv[0], argc == 2 ? argv[1] : NULL);
	if (!strcmp(cmd, "rm") && argc == 1)
		return cmd_rm(argv[0]);
	if (!strcmp(cmd, "mkcontainer") && argc == 1)
		return cmd_mkcontainer(argv[0]);
	if (!strcmp(cmd, "bench") && argc >= 2 && argc <= 4)
		return cmd_bench(argv[0], parse_size(argv[1]),
				 argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 1,
				 argc > 3 ? atoi(argv[3]) : 1);
	return usage();
}
