// SPDX-License-Identifier: GPL-2.0
/*
 * az_blob_test - tests for /dev/azure_blob (hv_azure_blob) against the
 * simulated Blob VSP (az_blob_sim.ko).
 *
 * Every request buffer starts with a struct az_sim_req (az_blob_sim.h) that
 * tells the simulated host what to do, so that every outcome is known in
 * advance: the status, the response bytes, the data bytes, the errno and the
 * driver's debugfs counters. Each test prints one line, "ok <name>",
 * "FAIL <name>: <reason>" or "skip <name>: <reason>", and the last line is
 * "N passed, M failed[, K skipped]". After every test the runner checks that
 * the driver holds no request and no pinned page, and, with the simulator's
 * control interface, that the host saw no protocol violation.
 *
 *   az_blob_test              run every test
 *   az_blob_test echo_ 'fill*' run the tests matching a prefix or a glob
 *   az_blob_test demo         a few readable requests, for newcomers
 *   az_blob_test fuzz         random ioctls, errnos and guard bytes checked
 *   az_blob_test lifecycle    kill, close, munmap, fork, unbind, rescind,
 *                             unload and suspend with requests in flight
 *   az_blob_test failinject   failslab/fail_page_alloc on the submit path
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -static -pthread -I include/uapi \
 *            -I tools/az_blob_test tools/az_blob_test/az_blob_test.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <misc/hv_azure_blob.h>
#include "az_blob_sim.h"

/* The driver counts 4 KiB pages whatever the CPU's page size. */
#define PG			4096UL
/* Default timeout of a request: long enough for TCG, short enough that a
 * lost completion ends the test (driver gives up after it + 5 s).
 */
#define DEF_TIMEOUT_MS		30000U
/* Grace the driver adds to a request's timeout before ETIMEDOUT. */
#define DRV_GRACE_MS		5000
#ifndef MISC_DIR			/* overridable for a mock run */
#define MISC_DIR		"/sys/class/misc"
#define DRV_DBG_DIR		"/sys/kernel/debug/hyperv"
#define SIM_DIR			"/sys/kernel/debug/az_blob_sim"
#endif
#define SIM_HOST_ERROR		0xC0000001U
#define MAX_DEVS		32
#define NAME_LEN		64

enum { TEST_OK = 0, TEST_FAIL = -1, TEST_SKIP = 1 };

/* Test flags. */
#define NEEDS_SIM		0x1	/* needs the simulator's control file */
#define SLOW			0x2	/* runs only with -S */

static char g_dev[PATH_MAX] = "/dev/azure_blob";
static char g_name[NAME_LEN];		/* misc name of g_dev */
static char g_prefix[NAME_LEN];		/* g_name without its index */
static int g_sim = -1;			/* control interface usable */
static int g_sim_idx;			/* simulator index of g_dev */
static unsigned int g_threads = 4;
static unsigned int g_iters = 200;
static int g_iters_set;			/* -n given */
static int g_verbose;
static int g_slow;
static uint64_t g_seed;
static char g_reason[512];

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	if (!g_reason[0]) {
		va_start(ap, fmt);
		vsnprintf(g_reason, sizeof(g_reason), fmt, ap);
		va_end(ap);
	}
	return TEST_FAIL;
}

static void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!g_verbose)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static const char *errname(int e)
{
	static __thread char buf[32];
	static const struct { int e; const char *n; } t[] = {
		{ 0, "success" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" },
		{ EINTR, "EINTR" }, { EIO, "EIO" }, { ENXIO, "ENXIO" },
		{ E2BIG, "E2BIG" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
		{ ENODEV, "ENODEV" }, { EINVAL, "EINVAL" }, { ENOTTY, "ENOTTY" },
		{ ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EOPNOTSUPP, "EOPNOTSUPP" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t rnd64(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd32(uint64_t *s)
{
	return (uint32_t)(rnd64(s) >> 32);
}

static uint64_t ptr2u64(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Copy @src into @dst of @n bytes, truncating; always NUL-terminated. */
static void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
}

/* 4 KiB pages spanned by a buffer; 0 for an empty one. */
static uint32_t span_pages(uint64_t addr, uint64_t len)
{
	if (!len)
		return 0;
	return (uint32_t)(((addr % PG) + len + PG - 1) / PG);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "az_blob_test: out of memory\n");
		exit(2);
	}
	return p;
}

/* Read a small file into @buf, NUL-terminated. Returns 0 or an errno. */
static int read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = errno;
			close(fd);
			return (int)n;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	close(fd);
	return 0;
}

/* Write @s (no newline) to @path in one write. Returns 0 or an errno. */
static int write_text(const char *path, const char *s)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		err = errno;
	else if ((size_t)n != strlen(s))
		err = EIO;
	if (close(fd) && !err)
		err = errno;
	return err;
}

/* Value of "key value" in @buf, or -1. */
static long kv_get(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *p = buf;
	char *end;
	long v;

	while (p && *p) {
		if (!strncmp(p, key, klen) && (p[klen] == ' ' || p[klen] == '\t')) {
			v = strtol(p + klen + 1, &end, 0);
			return end == p + klen + 1 ? -1 : v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Resources a test leaves behind are released by the runner           */
/* ------------------------------------------------------------------ */

struct arena;
static void arena_free(struct arena *a);

enum { RES_FD, RES_MAP, RES_ARENA };

struct res {
	int kind;
	int fd;
	void *p;
	size_t len;
};

static struct res g_res[256];
static int g_nres;
static pthread_mutex_t g_res_lock = PTHREAD_MUTEX_INITIALIZER;

static void track(int kind, int fd, void *p, size_t len)
{
	pthread_mutex_lock(&g_res_lock);
	if (g_nres < (int)(sizeof(g_res) / sizeof(g_res[0]))) {
		g_res[g_nres].kind = kind;
		g_res[g_nres].fd = fd;
		g_res[g_nres].p = p;
		g_res[g_nres].len = len;
		g_nres++;
	}
	pthread_mutex_unlock(&g_res_lock);
}

static void res_release_all(void)
{
	pthread_mutex_lock(&g_res_lock);
	while (g_nres > 0) {
		struct res *r = &g_res[--g_nres];

		if (r->kind == RES_FD)
			close(r->fd);
		else if (r->kind == RES_MAP)
			munmap(r->p, r->len);
		else
			arena_free(r->p);
	}
	pthread_mutex_unlock(&g_res_lock);
}

/* A tracked anonymous mapping; MAP_NORESERVE so that untouched is free. */
static void *map_pages(size_t pages, int prot)
{
	void *p = mmap(NULL, pages * PG, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		fail("mmap %zu pages: %s", pages, strerror(errno));
		return NULL;
	}
	track(RES_MAP, -1, p, pages * PG);
	return p;
}

/*
 * The start of 4 unmapped pages between two PROT_NONE pages that stay
 * mapped until the test ends. A later mmap of 4 pages or less may land in
 * the hole, so take it after the test's other mappings.
 */
static void *hole_addr(void)
{
	uint8_t *p = map_pages(6, PROT_NONE);

	if (!p)
		return NULL;
	if (munmap(p + PG, 4 * PG)) {
		fail("munmap: %s", strerror(errno));
		return NULL;
	}
	return p + PG;
}

static int dev_open_path(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fail("open %s: %s", path, strerror(errno));
	track(RES_FD, fd, NULL, 0);
	return fd;
}

static int dev_open(void)
{
	return dev_open_path(g_dev);
}

/* ------------------------------------------------------------------ */
/* Arenas: buffers surrounded by canary bytes                          */
/* ------------------------------------------------------------------ */

#define ARENA_MAX_PUT	8

/*
 * An arena is an anonymous mapping filled with canary bytes. Tests place
 * their buffers inside it; whatever the test writes goes through
 * arena_put(), which remembers it. arena_check() then verifies that every
 * byte outside the spans the host may write still holds what the test left
 * there: the canary, or the bytes put.
 */
struct arena {
	uint8_t *base;
	size_t len;
	int nput;
	struct {
		size_t off, len;
		uint8_t *copy;
	} put[ARENA_MAX_PUT];
};

struct span {
	const void *p;
	size_t len;
};

static uint8_t canary(size_t i)
{
	return (uint8_t)(0xa5 ^ (i * 0x3b) ^ (i >> 8) ^ (i >> 16));
}

static struct arena *arena_alloc(size_t pages)
{
	struct arena *a = xmalloc(sizeof(*a));
	size_t i;

	memset(a, 0, sizeof(*a));
	a->len = pages * PG;
	a->base = mmap(NULL, a->len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->base == MAP_FAILED) {
		free(a);
		fail("mmap %zu pages: %s", pages, strerror(errno));
		return NULL;
	}
	for (i = 0; i < a->len; i++)
		a->base[i] = canary(i);
	return a;
}

static void arena_free(struct arena *a)
{
	int i;

	if (!a)
		return;
	for (i = 0; i < a->nput; i++)
		free(a->put[i].copy);
	munmap(a->base, a->len);
	free(a);
}

/* A tracked arena, released after the test. */
static struct arena *arena_new(size_t pages)
{
	struct arena *a = arena_alloc(pages);

	if (a)
		track(RES_ARENA, -1, a, 0);
	return a;
}

static uint8_t *at(struct arena *a, size_t off)
{
	return a->base + off;
}

static void arena_put(struct arena *a, void *dst, const void *src, size_t len)
{
	size_t off = (size_t)((uint8_t *)dst - a->base);

	if (a->nput == ARENA_MAX_PUT || off + len > a->len) {
		fprintf(stderr, "az_blob_test: arena_put misuse\n");
		abort();
	}
	memcpy(dst, src, len);
	a->put[a->nput].off = off;
	a->put[a->nput].len = len;
	a->put[a->nput].copy = xmalloc(len);
	memcpy(a->put[a->nput].copy, src, len);
	a->nput++;
}

static int cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return a < b ? -1 : a > b;
}

/* Compare the arena with what it should hold, skipping @allowed. */
static int arena_diff(struct arena *a, const struct span *allowed, int n,
		      char *msg, size_t msglen)
{
	size_t b[2 + 2 * ARENA_MAX_PUT + 2 * 8];
	int nb = 0, i, k;

	if (n > 8)
		n = 8;
	b[nb++] = 0;
	b[nb++] = a->len;
	for (i = 0; i < a->nput; i++) {
		b[nb++] = a->put[i].off;
		b[nb++] = a->put[i].off + a->put[i].len;
	}
	for (i = 0; i < n; i++) {
		size_t s = (size_t)((const uint8_t *)allowed[i].p - a->base);

		b[nb++] = min_sz(s, a->len);
		b[nb++] = min_sz(s + allowed[i].len, a->len);
	}
	qsort(b, nb, sizeof(b[0]), cmp_size);

	for (k = 0; k + 1 < nb; k++) {
		size_t s = b[k], e = b[k + 1], j;
		const uint8_t *exp = NULL;
		int skip_it = 0;

		if (s == e)
			continue;
		for (i = 0; i < n; i++) {
			size_t as = (size_t)((const uint8_t *)allowed[i].p - a->base);

			if (s >= as && e <= as + allowed[i].len)
				skip_it = 1;
		}
		if (skip_it)
			continue;
		for (i = a->nput - 1; i >= 0; i--) {
			if (s >= a->put[i].off &&
			    e <= a->put[i].off + a->put[i].len) {
				exp = a->put[i].copy + (s - a->put[i].off);
				break;
			}
		}
		for (j = s; j < e; j++) {
			uint8_t want = exp ? exp[j - s] : canary(j);

			if (a->base[j] != want) {
				snprintf(msg, msglen,
					 "%s byte at arena+%#zx changed: expected 0x%02x, got 0x%02x",
					 exp ? "caller's" : "guard", j, want,
					 a->base[j]);
				return -1;
			}
		}
	}
	return 0;
}

static int arena_check(struct arena *a, const struct span *allowed, int n)
{
	char msg[256];

	if (arena_diff(a, allowed, n, msg, sizeof(msg)))
		return fail("%s", msg);
	return 0;
}

static int cmp_bytes(const char *what, const uint8_t *got, const uint8_t *exp,
		     size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (got[i] != exp[i])
			return fail("%s byte %zu: expected 0x%02x, got 0x%02x",
				    what, i, exp[i], got[i]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void sim_hdr(struct az_sim_req *h, uint32_t op, uint32_t fault,
		    uint32_t delay, uint32_t status, uint32_t seed, uint32_t arg)
{
	memset(h, 0, sizeof(*h));
	h->magic = AZ_SIM_MAGIC;
	h->op = op;
	h->fault = fault;
	h->delay_ms = delay;
	h->status = status;
	h->seed = seed;
	h->arg = arg;
}

static void fill_payload(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed + (i >> 7));
}

/* Build a request of @len bytes at @off: @h, then a payload pattern. */
static uint8_t *put_req(struct arena *a, size_t off, size_t len,
			const struct az_sim_req *h)
{
	uint8_t *tmp = xmalloc(len);

	fill_payload(tmp, len, (uint32_t)off ^ 0x5a);
	memcpy(tmp, h, min_sz(len, sizeof(*h)));
	arena_put(a, at(a, off), tmp, len);
	free(tmp);
	return at(a, off);
}

static void rq_init(struct az_blob_request_sync *r, const void *req,
		    size_t req_len, void *resp, size_t resp_len,
		    void *data, size_t data_len, size_t data_valid)
{
	int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 16; i++)
		r->guid[i] = (uint8_t)(0x10 + i);
	r->timeout = DEF_TIMEOUT_MS;
	r->request_len = (uint32_t)req_len;
	r->response_len = (uint32_t)resp_len;
	r->data_len = (uint32_t)data_len;
	r->data_valid = (uint32_t)data_valid;
	r->request_buffer = ptr2u64(req);
	r->response_buffer = ptr2u64(resp);
	r->data_buffer = ptr2u64(data);
	r->response.status = 0xdeadbeef;
	r->response.response_len = 0xdeadbeef;
}

/* Returns 0 or the errno of the ioctl. */
static int blob_ioctl(int fd, struct az_blob_request_sync *r)
{
	if (ioctl(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, r))
		return errno;
	return 0;
}

static int expect_ok(int err, const struct az_blob_request_sync *r,
		     uint32_t status, uint32_t rlen)
{
	if (err)
		return fail("ioctl: expected success, got %s", errname(err));
	if (r->response.status != status)
		return fail("response.status: expected 0x%08x, got 0x%08x",
			    status, r->response.status);
	if (r->response.response_len != rlen)
		return fail("response.response_len: expected %u, got %u",
			    rlen, r->response.response_len);
	return 0;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* ------------------------------------------------------------------ */
/* Driver and simulator state                                          */
/* ------------------------------------------------------------------ */

enum {
	DS_OUTSTANDING, DS_PINNED, DS_SUBMITTED, DS_COMPLETED, DS_ABANDONED,
	DS_UNKNOWN_ID, DS_BAD_PACKET, DS_N
};

static const char *const ds_keys[DS_N] = {
	"outstanding", "pinned_pages", "submitted", "completed", "abandoned",
	"unknown_id", "bad_packet",
};

struct dstats {
	long v[DS_N];
};

#define ANY	LONG_MIN

/* VMBus device name behind misc device @misc. */
static int misc_vmname(const char *misc, char *out, size_t n)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t len;

	snprintf(path, sizeof(path), MISC_DIR "/%s/device", misc);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return errno;
	link[len] = 0;
	base = strrchr(link, '/');
	copy_str(out, n, base ? base + 1 : link);
	return 0;
}

static int vm_stats(const char *vm, struct dstats *s)
{
	char path[PATH_MAX], buf[4096];
	int i, err;

	snprintf(path, sizeof(path), DRV_DBG_DIR "/%s/stats", vm);
	err = read_text(path, buf, sizeof(buf));
	if (err)
		return err;
	for (i = 0; i < DS_N; i++) {
		s->v[i] = kv_get(buf, ds_keys[i]);
		if (s->v[i] < 0)
			return ENOENT;
	}
	return 0;
}

/* The driver names its debugfs directory after the misc device. */
static int dstats_read(const char *misc, struct dstats *s)
{
	return vm_stats(misc, s);
}

/* Read @misc's counters or fail the test. */
static int dstats_get(const char *misc, struct dstats *s)
{
	int err = dstats_read(misc, s);

	if (err)
		return fail("cannot read driver stats of %s: %s", misc,
			    strerror(err));
	return 0;
}

/* One counter of the device under test, or -1. */
static long drv_stat(const char *key)
{
	struct dstats s;
	int i;

	if (dstats_read(g_name, &s))
		return -1;
	for (i = 0; i < DS_N; i++)
		if (!strcmp(key, ds_keys[i]))
			return s.v[i];
	return -1;
}

/*
 * Wait up to 2 s until the counters of @misc moved by the expected deltas
 * since @b (ANY: not checked), then compare. Completions may be counted
 * just after the ioctl returned (a duplicate comes after the right one).
 */
static int check_deltas(const char *misc, const struct dstats *b, long sub,
			long comp, long aband, long unk, long bad)
{
	const long want[DS_N] = { ANY, ANY, sub, comp, aband, unk, bad };
	int64_t end = now_ms() + 2000;
	struct dstats s;
	int i;

	for (;;) {
		int match = 1;

		if (dstats_get(misc, &s))
			return TEST_FAIL;
		for (i = 0; i < DS_N; i++)
			if (want[i] != ANY && s.v[i] - b->v[i] != want[i])
				match = 0;
		if (match)
			return 0;
		if (now_ms() > end)
			break;
		sleep_ms(20);
	}
	for (i = 0; i < DS_N; i++)
		if (want[i] != ANY && s.v[i] - b->v[i] != want[i])
			return fail("counter %s: expected +%ld, got %+ld",
				    ds_keys[i], want[i], s.v[i] - b->v[i]);
	return 0;
}

/* Wait up to @ms for outstanding == @out and pinned_pages == @pin. */
static int wait_idle(const char *misc, long out, long pin, int ms)
{
	int64_t end = now_ms() + ms;
	struct dstats s;

	for (;;) {
		if (dstats_get(misc, &s))
			return TEST_FAIL;
		if (s.v[DS_OUTSTANDING] == out && s.v[DS_PINNED] == pin)
			return 0;
		if (now_ms() > end)
			return fail("expected outstanding %ld, pinned_pages %ld; got %ld, %ld",
				    out, pin, s.v[DS_OUTSTANDING],
				    s.v[DS_PINNED]);
		sleep_ms(20);
	}
}

enum {
	SS_REQUESTS, SS_COMPLETIONS, SS_VIOLATIONS, SS_BAD_REQUESTS, SS_HELD,
	SS_RING_FULL, SS_OPEN_CHANNELS, SS_DEVICES, SS_N
};

static const char *const ss_keys[SS_N] = {
	"requests", "completions", "violations", "bad_requests", "held",
	"ring_full", "open_channels", "devices",
};

struct sstats {
	long v[SS_N];
	char last_violation[160];
};

static int sstats_read(struct sstats *s)
{
	char buf[4096], *p;
	int i, err;

	err = read_text(SIM_DIR "/stats", buf, sizeof(buf));
	if (err)
		return err;
	for (i = 0; i < SS_N; i++) {
		s->v[i] = kv_get(buf, ss_keys[i]);
		if (s->v[i] < 0)
			return ENOENT;
	}
	s->last_violation[0] = 0;
	p = strstr(buf, "last_violation ");
	if (p) {
		p += strlen("last_violation ");
		snprintf(s->last_violation, sizeof(s->last_violation), "%.*s",
			 (int)strcspn(p, "\n"), p);
	}
	return 0;
}

static int sstats_get(struct sstats *s)
{
	int err = sstats_read(s);

	if (err)
		return fail("cannot read " SIM_DIR "/stats: %s", strerror(err));
	return 0;
}

static int wait_sim(int key, long val, int ms)
{
	int64_t end = now_ms() + ms;
	struct sstats s;

	for (;;) {
		if (sstats_get(&s))
			return TEST_FAIL;
		if (s.v[key] == val)
			return 0;
		if (now_ms() > end)
			return fail("simulator %s: expected %ld, got %ld",
				    ss_keys[key], val, s.v[key]);
		sleep_ms(20);
	}
}

/* Write a command to the simulator. Returns 0 or the write's errno. */
static int sim_ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sim_ctl(const char *fmt, ...)
{
	char cmd[64];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	err = write_text(SIM_DIR "/control", cmd);
	vlog("sim control '%s': %s", cmd, errname(err));
	return err;
}

static int sim_ctl_ok(const char *cmd)
{
	int err = sim_ctl("%s", cmd);

	if (err)
		return fail("writing '%s' to " SIM_DIR "/control: %s", cmd,
			    errname(err));
	return 0;
}

struct chan {
	int idx;
	char guid[NAME_LEN];
	int open;
	long send_ring, recv_ring, userdatalen, rqstor_size, max_pkt_size;
	int rescind;
};

static int sim_channels(struct chan *c, int max)
{
	char buf[16384], *p;
	int n = 0, err;

	err = read_text(SIM_DIR "/channel", buf, sizeof(buf));
	if (err)
		return -err;
	for (p = buf; *p && n < max; ) {
		if (sscanf(p, "%d %63s open %d send_ring %ld recv_ring %ld userdatalen %ld rqstor_size %ld max_pkt_size %ld rescind %d",
			   &c[n].idx, c[n].guid, &c[n].open, &c[n].send_ring,
			   &c[n].recv_ring, &c[n].userdatalen,
			   &c[n].rqstor_size, &c[n].max_pkt_size,
			   &c[n].rescind) == 9)
			n++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return n;
}

static void guid_norm(const char *in, char *out, size_t n)
{
	size_t j = 0;

	for (; *in && j + 1 < n; in++) {
		if (*in == '{' || *in == '}' || *in == '\n' || *in == ' ')
			continue;
		out[j++] = (char)((*in >= 'A' && *in <= 'Z') ? *in + 32 : *in);
	}
	out[j] = 0;
}

/* Simulator index of misc device @misc by instance GUID, or -1. */
static int sim_idx_of(const char *misc)
{
	char vm[NAME_LEN * 2], path[PATH_MAX], buf[128], a[NAME_LEN];
	char b[NAME_LEN], c[NAME_LEN];
	struct chan ch[MAX_DEVS];
	int n, i;

	if (misc_vmname(misc, vm, sizeof(vm)))
		return -1;
	guid_norm(vm, a, sizeof(a));
	snprintf(path, sizeof(path), MISC_DIR "/%s/device/device_id", misc);
	if (read_text(path, buf, sizeof(buf)))
		buf[0] = 0;
	guid_norm(buf, b, sizeof(b));
	n = sim_channels(ch, MAX_DEVS);
	for (i = 0; i < n; i++) {
		guid_norm(ch[i].guid, c, sizeof(c));
		if (!ch[i].rescind && (!strcmp(a, c) || !strcmp(b, c)))
			return ch[i].idx;
	}
	return -1;
}

static int cur_sim_idx(void)
{
	int idx = sim_idx_of(g_name);

	return idx >= 0 ? idx : g_sim_idx;
}

/* ------------------------------------------------------------------ */
/* Misc devices and their nodes                                        */
/* ------------------------------------------------------------------ */

static void set_device(const char *name)
{
	snprintf(g_name, sizeof(g_name), "%s", name);
	snprintf(g_dev, sizeof(g_dev), "/dev/%s", name);
}

static int misc_exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MISC_DIR "/%s", name);
	return !access(path, F_OK);
}

/* Misc devices named g_prefix or g_prefix<digits>. */
static int misc_list(char names[][NAME_LEN], int max)
{
	size_t plen = strlen(g_prefix);
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(MISC_DIR);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		const char *p = de->d_name + plen;

		if (strncmp(de->d_name, g_prefix, plen))
			continue;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p)
			continue;
		copy_str(names[n++], NAME_LEN, de->d_name);
	}
	closedir(d);
	return n;
}

static int in_list(const char *name, char list[][NAME_LEN], int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 1;
	return 0;
}

/* Wait up to @ms for a misc device not in @old; its name into @out. */
static int wait_new_misc(char old[][NAME_LEN], int nold, char *out, int ms)
{
	char now[MAX_DEVS][NAME_LEN];
	int64_t end = now_ms() + ms;
	int n, i;

	for (;;) {
		n = misc_list(now, MAX_DEVS);
		for (i = 0; i < n; i++) {
			if (!in_list(now[i], old, nold)) {
				copy_str(out, NAME_LEN, now[i]);
				return 0;
			}
		}
		if (now_ms() > end)
			return fail("no new %s* misc device within %d ms",
				    g_prefix, ms);
		sleep_ms(50);
	}
}

static int wait_misc_gone(const char *name, int ms)
{
	int64_t end = now_ms() + ms;

	while (misc_exists(name)) {
		if (now_ms() > end)
			return fail(MISC_DIR "/%s still present after %d ms",
				    name, ms);
		sleep_ms(50);
	}
	return 0;
}

/*
 * Make sure /dev/<name> is the node of misc device @name: wait for devtmpfs
 * or mdev a moment, then mknod it. *@created tells whether we made it.
 */
static int ensure_node(const char *name, int *created)
{
	char path[PATH_MAX], buf[64];
	unsigned int maj, min;
	struct stat st;
	int64_t end;
	dev_t want;
	int err;

	*created = 0;
	snprintf(path, sizeof(path), MISC_DIR "/%s/dev", name);
	/* The class link appears before the device's dev attribute. */
	for (end = now_ms() + 2000;; sleep_ms(20)) {
		err = read_text(path, buf, sizeof(buf));
		if (err != ENOENT || now_ms() > end)
			break;
	}
	if (err)
		return fail("reading %s: %s", path, strerror(err));
	if (sscanf(buf, "%u:%u", &maj, &min) != 2)
		return fail("%s: bad content '%s'", path, buf);
	want = makedev(maj, min);
	snprintf(path, sizeof(path), "/dev/%s", name);
	for (end = now_ms() + 1000; now_ms() < end; sleep_ms(50))
		if (!stat(path, &st) && S_ISCHR(st.st_mode) &&
		    st.st_rdev == want)
			return 0;
	unlink(path);
	if (mknod(path, S_IFCHR | 0600, want))
		return fail("mknod %s: %s", path, strerror(errno));
	vlog("created %s (%u:%u)", path, maj, min);
	*created = 1;
	return 0;
}

/*
 * After the device's removal an open must fail: ENOENT when devtmpfs or
 * mdev removed the node, ENODEV when a stale node is left (no misc minor).
 */
static int expect_open_fails(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return fail("open %s after removal: expected ENOENT, got success",
			    path);
	}
	if (errno == ENOENT)
		return 0;
	if (errno == ENODEV || errno == ENXIO) {
		vlog("%s is a stale node (no devtmpfs/mdev): %s", path,
		     errname(errno));
		return 0;
	}
	return fail("open %s after removal: expected ENOENT, got %s", path,
		    errname(errno));
}

/* ------------------------------------------------------------------ */
/* Common request patterns                                             */
/* ------------------------------------------------------------------ */

/*
 * Echo @req_len bytes at arena offset @roff into a @resp_len buffer at
 * @soff; check status, length, bytes, guards and @misc's counters.
 */
static int echo_at(int fd, const char *misc, struct arena *a, size_t roff,
		   size_t req_len, size_t soff, size_t resp_len,
		   uint32_t status)
{
	size_t n = min_sz(req_len, resp_len);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct span ok;
	struct dstats b;
	uint8_t *req, *resp = at(a, soff);
	int err;

	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, status, 0, 0);
	req = put_req(a, roff, req_len, &h);
	if (misc && dstats_get(misc, &b))
		return TEST_FAIL;
	rq_init(&r, req, req_len, resp, resp_len, NULL, 0, 0);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, status, (uint32_t)n))
		return TEST_FAIL;
	if (cmp_bytes("response", resp, req, n))
		return TEST_FAIL;
	ok.p = resp;
	ok.len = n;
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	if (misc && check_deltas(misc, &b, 1, 1, 0, 0, 0))
		return TEST_FAIL;
	return 0;
}

/* One plain echo through @path, counters checked on misc @misc. */
static int echo_simple(const char *path, const char *misc)
{
	struct arena *a = arena_new(4);
	int fd, ret;

	if (!a)
		return TEST_FAIL;
	fd = dev_open_path(path);
	if (fd < 0)
		return TEST_FAIL;
	ret = echo_at(fd, misc, a, PG + 100, 200, 2 * PG + 300, 512, 0);
	if (ret)
		fail("echo on %s failed", path);
	return ret;
}

/* A request in the background on another thread. */
struct bg {
	pthread_t th;
	int fd;
	struct arena *a;
	struct az_blob_request_sync r;
	uint8_t *req, *resp;
	size_t req_len;
	int err;
	int64_t ms;
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;
	int64_t t0 = now_ms();

	b->err = blob_ioctl(b->fd, &b->r);
	b->ms = now_ms() - t0;
	return NULL;
}

/* Start an echo of 64 bytes with @fault/@delay, timeout @timeout. */
static struct bg *bg_start(int fd, uint32_t fault, uint32_t delay,
			   uint32_t timeout)
{
	struct bg *b = xmalloc(sizeof(*b));
	struct az_sim_req h;

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->a = arena_alloc(4);
	if (!b->a) {
		free(b);
		return NULL;
	}
	sim_hdr(&h, AZ_SIM_OP_ECHO, fault, delay, 0, 0, 0);
	b->req_len = 64;
	b->req = put_req(b->a, PG + 8, b->req_len, &h);
	b->resp = at(b->a, 2 * PG + 8);
	rq_init(&b->r, b->req, b->req_len, b->resp, 128, NULL, 0, 0);
	b->r.timeout = timeout;
	if (pthread_create(&b->th, NULL, bg_main, b)) {
		arena_free(b->a);
		free(b);
		fail("pthread_create failed");
		return NULL;
	}
	return b;
}

/* Join by @deadline (now_ms()); on timeout the thread is leaked. */
static int bg_join(struct bg *b, int64_t deadline)
{
	struct timespec ts;
	int64_t left = deadline - now_ms();

	clock_gettime(CLOCK_REALTIME, &ts);
	if (left < 0)
		left = 0;
	ts.tv_sec += (time_t)(left / 1000);
	ts.tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(b->th, NULL, &ts)) {
		pthread_detach(b->th);
		return -1;
	}
	return 0;
}

static void bg_free(struct bg *b)
{
	arena_free(b->a);
	free(b);
}

/* ------------------------------------------------------------------ */
/* Tests: round trips                                                  */
/* ------------------------------------------------------------------ */

static int t_echo_small(void)
{
	struct arena *a = arena_new(4);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	return echo_at(fd, g_name, a, PG + 64, 64, 2 * PG + 128, 256, 0);
}

/*
 * A completed request is released before the ioctl returns: its pages are
 * no longer pinned and nothing is outstanding the moment the call is back.
 */
static int t_released_on_return(void)
{
	int fd = dev_open(), i, ret;
	struct arena *a;
	long pinned, out;

	if (fd < 0)
		return TEST_FAIL;
	for (i = 0; i < 200; i++) {
		/* A fresh arena each time: an arena records a few puts only. */
		a = arena_alloc(4);
		if (!a)
			return fail("out of memory");
		ret = echo_at(fd, g_name, a, PG + 64, 64, 2 * PG + 128, 256, 0);
		arena_free(a);
		if (ret)
			return TEST_FAIL;
		pinned = drv_stat("pinned_pages");
		out = drv_stat("outstanding");
		if (pinned || out)
			return fail("call %d: right after it returned, pinned_pages %ld, outstanding %ld; expected 0, 0",
				    i, pinned, out);
	}
	return 0;
}

static int t_echo_unaligned(void)
{
	struct arena *a = arena_new(8);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* Request spans 3 pages from offset 4059, response 3 from 4001. */
	return echo_at(fd, g_name, a, 2 * PG - 37, PG + 100,
		       4 * PG + 4001, 5000, 0);
}

static int t_echo_shared_page(void)
{
	struct arena *a = arena_new(3);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	return echo_at(fd, g_name, a, PG + 100, 600, PG + 1000, 2000, 0);
}

static int t_echo_truncated(void)
{
	struct arena *a = arena_new(5);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* 3000-byte request into a 1000-byte response across a page edge. */
	return echo_at(fd, g_name, a, PG + 10, 3000, 2 * PG + 3500, 1000, 0);
}

/* Check an az_sim_info response against the request @r that produced it. */
static int check_info(const struct az_blob_request_sync *r,
		      const uint8_t *resp)
{
	uint32_t dp = span_pages(r->data_buffer, r->data_len);
	uint32_t rp = span_pages(r->request_buffer, r->request_len);
	uint32_t sp = span_pages(r->response_buffer, r->response_len);
	uint32_t nr = dp + rp + sp;
	const uint8_t *pkt = resp;
	const uint8_t *tail = resp + offsetof(struct az_sim_info, range_offset);
	const struct {
		const char *name;
		const uint8_t *p;
		uint32_t want;
		int check;
	} f[] = {
		{ "version", pkt + 0, 0, 1 },
		{ "timeout_ms", pkt + 4, r->timeout, 1 },
		{ "data_buffer_offset", pkt + 8,
		  (uint32_t)(r->data_buffer % PG), r->data_len != 0 },
		{ "data_buffer_length", pkt + 12, r->data_len, 1 },
		{ "data_buffer_valid", pkt + 16, r->data_valid, 1 },
		{ "operation_type", pkt + 20, 0x100, 1 },
		{ "request_buffer_offset", pkt + 24,
		  (uint32_t)(r->request_buffer % PG + dp * PG), 1 },
		{ "request_buffer_length", pkt + 28, r->request_len, 1 },
		{ "response_buffer_offset", pkt + 32,
		  (uint32_t)(r->response_buffer % PG + (dp + rp) * PG), 1 },
		{ "response_buffer_length", pkt + 36, r->response_len, 1 },
		{ "range_offset", tail + 0, 0, 1 },
		{ "range_len", tail + 4, nr * (uint32_t)PG, 1 },
		{ "nr_pfns", tail + 8, nr, 1 },
		{ "pkt_type", tail + 12, 9, 1 },
		{ "pkt_flags", tail + 16, 1, 1 },
		{ "rangecount", tail + 20, 1, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].check && le32(f[i].p) != f[i].want)
			return fail("info %s: expected %u, got %u", f[i].name,
				    f[i].want, le32(f[i].p));
	if (cmp_bytes("info transaction_id", pkt + 40, r->guid, 16))
		return TEST_FAIL;
	return 0;
}

/* INFO round trip; the packet's layout checked field by field. */
static int info_round(int fd, struct arena *a, size_t doff, size_t dlen,
		      size_t dvalid, size_t roff, size_t rlen, size_t soff,
		      size_t slen, int fake_data)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp = at(a, soff), *data = NULL;
	int err, i;

	sim_hdr(&h, AZ_SIM_OP_INFO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	req = put_req(a, roff, rlen, &h);
	if (dlen || fake_data)
		data = at(a, doff);
	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	rq_init(&r, req, rlen, resp, slen, data, dlen, dvalid);
	r.timeout = 74565;
	for (i = 0; i < 16; i++)
		r.guid[i] = (uint8_t)(0xc3 ^ (i * 29));
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, sizeof(struct az_sim_info)))
		return TEST_FAIL;
	if (check_info(&r, resp))
		return TEST_FAIL;
	ok.p = resp;
	ok.len = sizeof(struct az_sim_info);
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	return check_deltas(g_name, &b, 1, 1, 0, 0, 0);
}

static int t_info_layout(void)
{
	struct arena *a = arena_new(16);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* data: 4 pages from offset 333; request: 2 pages; response: 2. */
	return info_round(fd, a, PG + 333, 3 * PG + 777, 5000,
			  6 * PG + 4000, 200, 9 * PG + 17, PG, 0);
}

static int t_info_nodata(void)
{
	struct arena *a = arena_new(8);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	if (info_round(fd, a, 0, 0, 0, PG + 4090, 64, 3 * PG + 5, 200, 0))
		return TEST_FAIL;
	/* A data address with data_len 0 is ignored, not counted. */
	return info_round(fd, a, 5 * PG + 1, 0, 0, PG + 4090, 64,
			  3 * PG + 5, 200, 1);
}

/* FILL @dlen bytes at @doff, then verify the pattern, guards, counters. */
static int fill_round(int fd, struct arena *a, size_t doff, size_t dlen,
		      size_t roff, size_t soff, size_t slen)
{
	uint32_t seed = (uint32_t)rnd64(&g_seed);
	struct az_blob_request_sync r;
	struct span ok[2];
	struct az_sim_req h;
	struct dstats b;
	uint8_t *req, *resp = at(a, soff), *data = at(a, doff);
	uint64_t cnt;
	size_t i;
	int err;

	sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
	req = put_req(a, roff, 32, &h);
	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 32, resp, slen, data, dlen, 0);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, 8))
		return TEST_FAIL;
	cnt = get_u64(resp);
	if (cnt != dlen)
		return fail("fill count: expected %zu, got %" PRIu64, dlen, cnt);
	for (i = 0; i < dlen; i++)
		if (data[i] != az_sim_pattern(seed, i))
			return fail("data byte %zu: expected 0x%02x, got 0x%02x",
				    i, az_sim_pattern(seed, i), data[i]);
	ok[0].p = data;
	ok[0].len = dlen;
	ok[1].p = resp;
	ok[1].len = 8;
	if (arena_check(a, ok, 2))
		return TEST_FAIL;
	return check_deltas(g_name, &b, 1, 1, 0, 0, 0);
}

static int t_fill_data(void)
{
	size_t dlen = 1 << 20;
	struct arena *a = arena_new(262);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* 1 MiB from offset 5; response straddles a page edge. */
	return fill_round(fd, a, PG + 5, dlen, 258 * PG + 7,
			  259 * PG + 4090, 16);
}

static int t_fill_max(void)
{
	size_t dpages = AZ_BLOB_MAX_PAGES - 2;
	struct arena *a = arena_new(dpages + 4);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* data 8190 pages + request 1 + response 1 = 8192: the limit. */
	return fill_round(fd, a, PG, dpages * PG, (dpages + 1) * PG + 100,
			  (dpages + 2) * PG + 200, 64);
}

/* SUM of @dvalid bytes of a @dlen data buffer; expected from arena bytes. */
static int sum_round(int fd, struct arena *a, size_t doff, size_t dlen,
		     size_t dvalid, size_t roff, size_t soff)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp = at(a, soff), *data = at(a, doff);
	uint64_t want, got;
	int err;

	sim_hdr(&h, AZ_SIM_OP_SUM, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	req = put_req(a, roff, 48, &h);
	want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, data, dvalid);
	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 48, resp, 64, data, dlen, dvalid);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, 8))
		return TEST_FAIL;
	got = get_u64(resp);
	if (got != want)
		return fail("FNV-1a of %zu bytes: expected 0x%016" PRIx64 ", got 0x%016" PRIx64,
			    dvalid, want, got);
	ok.p = resp;
	ok.len = 8;
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	return check_deltas(g_name, &b, 1, 1, 0, 0, 0);
}

static int t_sum_data(void)
{
	size_t dlen = 300000, i;
	struct arena *a = arena_new(80);
	int fd = dev_open();
	uint8_t *tmp;

	if (!a || fd < 0)
		return TEST_FAIL;
	tmp = xmalloc(dlen);
	for (i = 0; i < dlen; i++)
		tmp[i] = (uint8_t)rnd64(&g_seed);
	arena_put(a, at(a, PG + 77), tmp, dlen);
	free(tmp);
	/* Only 123457 of the 300000 bytes are valid input. */
	return sum_round(fd, a, PG + 77, dlen, 123457, 76 * PG + 1000,
			 78 * PG + 3);
}

static int t_data_overlaps_request(void)
{
	struct arena *a = arena_new(5);
	int fd = dev_open();
	uint8_t tmp[2 * PG];
	size_t i;

	if (!a || fd < 0)
		return TEST_FAIL;
	for (i = 0; i < sizeof(tmp); i++)
		tmp[i] = (uint8_t)rnd64(&g_seed);
	arena_put(a, at(a, PG), tmp, sizeof(tmp));
	/* The request lies inside the data buffer; SUM reads both. */
	return sum_round(fd, a, PG, 2 * PG, 2 * PG, PG + 10, 3 * PG + 50);
}

static int t_status_passthrough(void)
{
	struct arena *a = arena_new(4);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	return echo_at(fd, g_name, a, PG + 8, 100, 2 * PG + 8, 100,
		       SIM_HOST_ERROR);
}

static int t_host_timeout(void)
{
	struct arena *a = arena_new(4);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	uint8_t *req;
	int64_t t0, ms;
	int fd = dev_open(), err;

	if (!a || fd < 0)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 3000, 0, 0, 0);
	req = put_req(a, PG + 8, 64, &h);
	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 64, at(a, 2 * PG + 8), 64, NULL, 0, 0);
	r.timeout = 200;
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	ms = now_ms() - t0;
	if (expect_ok(err, &r, AZ_BLOB_HOST_TIMEOUT, 0))
		return TEST_FAIL;
	if (ms < 150 || ms > 2500)
		return fail("host timeout after %" PRId64 " ms, expected about 200 ms",
			    ms);
	if (arena_check(a, NULL, 0))
		return TEST_FAIL;
	return check_deltas(g_name, &b, 1, 1, 0, 0, 0);
}

/* ------------------------------------------------------------------ */
/* Tests: validation                                                   */
/* ------------------------------------------------------------------ */

/*
 * The base of every validation case: an echo with a 2-page data buffer
 * that succeeds as is. Each case changes one thing.
 */
struct vbase {
	int fd;
	struct arena *a;
	uint8_t *req, *resp, *data;
	struct az_blob_request_sync r;
};

static int vbase_init(struct vbase *v)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;
	int err;

	v->fd = dev_open();
	v->a = arena_new(8);
	if (v->fd < 0 || !v->a)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	v->req = put_req(v->a, PG + 8, 64, &h);
	v->resp = at(v->a, 2 * PG + 8);
	v->data = at(v->a, 4 * PG);
	rq_init(&v->r, v->req, 64, v->resp, 64, v->data, 2 * PG, 0);
	r = v->r;
	err = blob_ioctl(v->fd, &r);
	if (expect_ok(err, &r, 0, 64)) {
		g_reason[0] = 0;
		return fail("the unmodified base request failed: %s, status 0x%08x",
			    errname(err), r.response.status);
	}
	return 0;
}

/* The ioctl must fail with @want without submitting or pinning anything. */
static int expect_reject_cmd(int fd, unsigned long cmd, void *arg, int want,
			     const char *what)
{
	struct dstats b, s;
	int err;

	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	err = ioctl(fd, cmd, arg) ? errno : 0;
	if (err != want)
		return fail("%s: expected %s, got %s", what, errname(want),
			    errname(err));
	if (dstats_get(g_name, &s))
		return TEST_FAIL;
	if (s.v[DS_SUBMITTED] != b.v[DS_SUBMITTED])
		return fail("%s: submitted changed from %ld to %ld", what,
			    b.v[DS_SUBMITTED], s.v[DS_SUBMITTED]);
	if (s.v[DS_COMPLETED] != b.v[DS_COMPLETED])
		return fail("%s: completed changed from %ld to %ld", what,
			    b.v[DS_COMPLETED], s.v[DS_COMPLETED]);
	if (s.v[DS_OUTSTANDING] || s.v[DS_PINNED])
		return fail("%s: after the error outstanding %ld, pinned_pages %ld; expected 0, 0",
			    what, s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
	return 0;
}

static int expect_reject(int fd, struct az_blob_request_sync *r, int want,
			 const char *what)
{
	return expect_reject_cmd(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, r,
				 want, what);
}

static int t_flags_nonzero(void)
{
	static const uint32_t flags[] = { 1, 2, 0x80000000U, 0xffffffffU };
	struct vbase v;
	char what[64];
	size_t i;

	if (vbase_init(&v))
		return TEST_FAIL;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct az_blob_request_sync r = v.r;

		r.flags = flags[i];
		snprintf(what, sizeof(what), "flags 0x%x", flags[i]);
		if (expect_reject(v.fd, &r, EINVAL, what))
			return TEST_FAIL;
	}
	return 0;
}

static int t_request_len_zero(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.request_len = 0;
	return expect_reject(v.fd, &v.r, EINVAL, "request_len 0");
}

static int t_response_len_zero(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.response_len = 0;
	return expect_reject(v.fd, &v.r, EINVAL, "response_len 0");
}

static int t_data_valid_gt_len(void)
{
	struct az_blob_request_sync r;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	r = v.r;
	r.data_len = 100;
	r.data_valid = 101;
	if (expect_reject(v.fd, &r, EINVAL, "data_valid 101 > data_len 100"))
		return TEST_FAIL;
	r = v.r;
	r.data_len = 0;
	r.data_valid = 1;
	return expect_reject(v.fd, &r, EINVAL, "data_valid 1 > data_len 0");
}

static int t_null_request(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.request_buffer = 0;
	return expect_reject(v.fd, &v.r, EINVAL, "request_buffer NULL");
}

static int t_null_response(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.response_buffer = 0;
	return expect_reject(v.fd, &v.r, EINVAL, "response_buffer NULL");
}

static int t_null_data(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.data_buffer = 0;
	v.r.data_len = 100;
	return expect_reject(v.fd, &v.r, EINVAL, "data_buffer NULL, data_len 100");
}

static int t_len_too_big(void)
{
	const uint32_t big = AZ_BLOB_MAX_LEN + 1;
	struct az_blob_request_sync r;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	r = v.r;
	r.request_len = big;
	if (expect_reject(v.fd, &r, E2BIG, "request_len 32 MiB + 1"))
		return TEST_FAIL;
	r = v.r;
	r.response_len = big;
	if (expect_reject(v.fd, &r, E2BIG, "response_len 32 MiB + 1"))
		return TEST_FAIL;
	r = v.r;
	r.data_len = big;
	return expect_reject(v.fd, &r, E2BIG, "data_len 32 MiB + 1");
}

static int t_pages_too_many(void)
{
	const size_t n = AZ_BLOB_MAX_PAGES;
	struct az_blob_request_sync r;
	struct vbase v;
	uint8_t *m;

	if (vbase_init(&v))
		return TEST_FAIL;
	/* Never touched: a driver that pins before counting faults it in. */
	m = map_pages(n + 2, PROT_READ | PROT_WRITE);
	if (!m)
		return TEST_FAIL;

	/* 8191 + 1 + 1 pages. */
	rq_init(&r, m + (n - 1) * PG, 64, m + n * PG, 64, m, (n - 1) * PG, 0);
	if (expect_reject(v.fd, &r, E2BIG, "8191 + 1 + 1 pages"))
		return TEST_FAIL;

	/* 8190 + 2 + 1 pages, the response sharing the request's first page:
	 * 8192 distinct pages, 8193 counted.
	 */
	rq_init(&r, m + (n - 1) * PG - 1, 2, m + (n - 1) * PG - 2, 1,
		m, (n - 2) * PG, 0);
	if (expect_reject(v.fd, &r, E2BIG, "8190 + 2 + 1 pages, one shared"))
		return TEST_FAIL;

	/* 8190 pages of data from offset 1 span 8191 pages. */
	rq_init(&r, m + (n - 1) * PG + 100, 64, m + n * PG + 100, 64,
		m + 1, (n - 2) * PG, 0);
	return expect_reject(v.fd, &r, E2BIG, "data 8190 pages at offset 1 (8191) + 1 + 1");
}

static int t_unmapped_buffer(void)
{
	struct az_blob_request_sync r;
	struct vbase v;
	uint8_t *hole;

	if (vbase_init(&v))
		return TEST_FAIL;
	hole = hole_addr();
	if (!hole)
		return TEST_FAIL;
	r = v.r;
	r.request_buffer = ptr2u64(hole + 8);
	if (expect_reject(v.fd, &r, EFAULT, "unmapped request"))
		return TEST_FAIL;
	r = v.r;
	r.response_buffer = ptr2u64(hole + 8);
	if (expect_reject(v.fd, &r, EFAULT, "unmapped response"))
		return TEST_FAIL;
	r = v.r;
	r.data_buffer = ptr2u64(hole);
	return expect_reject(v.fd, &r, EFAULT, "unmapped data");
}

/*
 * Each buffer in turn starts on a good page and runs into a bad one (an
 * unmapped page, then a PROT_NONE page); the other buffers are good, so
 * whatever the driver pinned before the fault must be released.
 */
static int t_partly_mapped(void)
{
	static const char *const which[] = { "request", "response", "data" };
	struct az_blob_request_sync r;
	struct vbase v;
	uint8_t *m;
	char what[64];
	int kind, b;

	if (vbase_init(&v))
		return TEST_FAIL;
	for (kind = 0; kind < 2; kind++) {
		m = map_pages(3, PROT_READ | PROT_WRITE);
		if (!m)
			return TEST_FAIL;
		memset(m, 0, 3 * PG);
		memcpy(m + PG - 64, v.req, 64);	/* a valid request */
		if (kind == 0 ? munmap(m + PG, PG) :
				mprotect(m + PG, PG, PROT_NONE))
			return fail("munmap/mprotect: %s", strerror(errno));
		for (b = 0; b < 3; b++) {
			r = v.r;
			if (b == 0)
				r.request_buffer = ptr2u64(m + PG - 64);
			else if (b == 1)
				r.response_buffer = ptr2u64(m + PG - 32);
			else
				r.data_buffer = ptr2u64(m + PG - 4096);
			if (b == 0)
				r.request_len = 128;
			snprintf(what, sizeof(what), "%s running into a %s page",
				 which[b], kind ? "PROT_NONE" : "unmapped");
			if (expect_reject(v.fd, &r, EFAULT, what))
				return TEST_FAIL;
		}
	}
	return 0;
}

/* Return @v's buffer @p's page to read-only. */
static int make_ro(const void *p)
{
	void *pg = (void *)((uintptr_t)p & ~(uintptr_t)(PG - 1));

	if (mprotect(pg, PG, PROT_READ))
		return fail("mprotect: %s", strerror(errno));
	return 0;
}

static int t_readonly_response(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	if (make_ro(v.resp))
		return TEST_FAIL;
	return expect_reject(v.fd, &v.r, EFAULT, "read-only response");
}

static int t_readonly_data(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.data_valid = 100;
	if (make_ro(v.data) || make_ro(v.data + PG))
		return TEST_FAIL;
	return expect_reject(v.fd, &v.r, EFAULT, "read-only data");
}

static const struct az_sim_req ro_hdr = {
	.magic = AZ_SIM_MAGIC,
	.op = AZ_SIM_OP_ECHO,
};

static int t_readonly_request_ok(void)
{
	struct az_blob_request_sync r;
	struct arena *a = arena_new(4);
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp;
	int fd = dev_open(), err;

	if (!a || fd < 0)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	req = put_req(a, PG + 300, 500, &h);
	resp = at(a, 2 * PG + 8);
	if (make_ro(req))
		return TEST_FAIL;
	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 500, resp, 1000, NULL, 0, 0);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, 500) || cmp_bytes("response", resp, req, 500))
		return TEST_FAIL;
	ok.p = resp;
	ok.len = 500;
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;

	/* A request in the program's read-only data (a file mapping). */
	rq_init(&r, &ro_hdr, sizeof(ro_hdr), resp, 1000, NULL, 0, 0);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, sizeof(ro_hdr)) ||
	    cmp_bytes("response", resp, (const uint8_t *)&ro_hdr,
		      sizeof(ro_hdr)))
		return TEST_FAIL;
	return check_deltas(g_name, &b, 2, 2, 0, 0, 0);
}

static int t_bad_struct_ptr(void)
{
	const size_t sz = sizeof(struct az_blob_request_sync);
	struct vbase v;
	uint8_t *m, *hole;

	if (vbase_init(&v))
		return TEST_FAIL;
	m = map_pages(2, PROT_READ | PROT_WRITE);
	hole = m ? hole_addr() : NULL;
	if (!hole)
		return TEST_FAIL;
	if (expect_reject_cmd(v.fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, NULL,
			      EFAULT, "NULL argument"))
		return TEST_FAIL;
	if (expect_reject_cmd(v.fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, hole,
			      EFAULT, "unmapped argument"))
		return TEST_FAIL;
	/* A valid request whose last 8 bytes fall on an unmapped page. */
	memcpy(m + PG - (sz - 8), &v.r, sz - 8);
	if (munmap(m + PG, PG))
		return fail("munmap: %s", strerror(errno));
	return expect_reject_cmd(v.fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST,
				 m + PG - (sz - 8), EFAULT,
				 "argument running into an unmapped page");
}

static int t_bad_ioctl(void)
{
	struct {
		unsigned long cmd;
		const char *what;
	} c[] = {
		{ _IOWR('R', 0xf1, struct az_blob_request_sync), "_IOWR('R', 0xf1)" },
		{ _IOWR('R', 0xf0, char[64]), "_IOWR('R', 0xf0) of 64 bytes" },
		{ _IOWR('R', 0xf0, char[80]), "_IOWR('R', 0xf0) of 80 bytes" },
		{ _IOW('R', 0xf0, struct az_blob_request_sync), "_IOW('R', 0xf0)" },
		{ _IOR('R', 0xf0, struct az_blob_request_sync), "_IOR('R', 0xf0)" },
		{ _IO('R', 0xf0), "_IO('R', 0xf0)" },
		{ _IOWR('S', 0xf0, struct az_blob_request_sync), "_IOWR('S', 0xf0)" },
	};
	struct {
		struct az_blob_request_sync r;
		uint8_t pad[64];
	} arg;
	struct vbase v;
	size_t i;

	if (vbase_init(&v))
		return TEST_FAIL;
	memset(&arg, 0, sizeof(arg));
	arg.r = v.r;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (expect_reject_cmd(v.fd, c[i].cmd, &arg, ENOTTY, c[i].what))
			return TEST_FAIL;
	return 0;
}

static int t_kernel_address(void)
{
	const uint64_t kaddr = 0xffff888000000000ULL;
	struct az_blob_request_sync r;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	r = v.r;
	r.request_buffer = kaddr;
	if (expect_reject(v.fd, &r, EFAULT, "kernel request address"))
		return TEST_FAIL;
	r = v.r;
	r.response_buffer = kaddr;
	if (expect_reject(v.fd, &r, EFAULT, "kernel response address"))
		return TEST_FAIL;
	r = v.r;
	r.data_buffer = kaddr;
	return expect_reject(v.fd, &r, EFAULT, "kernel data address");
}

/* ------------------------------------------------------------------ */
/* Tests: concurrency and callers that go away                         */
/* ------------------------------------------------------------------ */

#define MIX_MAX		(256U << 10)
#define MIX_AREA	(MIX_MAX + 3 * PG)	/* guard page + offset + tail */
#define MIX_GUARD	64
#define MIX_FILL	0xe7

struct worker {
	pthread_t th;
	int fd;
	unsigned int iters;
	uint64_t rng;
	uint8_t *mem;		/* 3 areas: request, response, data */
	unsigned int n[3];
	unsigned int done;
	char err[256];
};

static void guard_set(uint8_t *base, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < MIX_GUARD; i++) {
		p[-1 - (long)i] = canary((size_t)(p - 1 - i - base));
		p[len + i] = canary((size_t)(p + len + i - base));
	}
}

static int guard_bad(uint8_t *base, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < MIX_GUARD; i++)
		if (p[-1 - (long)i] != canary((size_t)(p - 1 - i - base)) ||
		    p[len + i] != canary((size_t)(p + len + i - base)))
			return 1;
	return 0;
}

static int mix_one(struct worker *w, char *err, size_t errlen)
{
	uint8_t *rq = w->mem + PG + rnd32(&w->rng) % PG;
	uint8_t *rs = w->mem + MIX_AREA + PG + rnd32(&w->rng) % PG;
	uint8_t *dt = w->mem + 2 * MIX_AREA + PG + rnd32(&w->rng) % PG;
	unsigned int op = rnd32(&w->rng) % 3;
	size_t rl = 32, sl = 8 + rnd32(&w->rng) % 57, dl = 0, dv = 0, i, n = 8;
	uint32_t seed = rnd32(&w->rng);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint64_t want = 0;
	int e;

	if (op == 0) {
		rl = 32 + rnd32(&w->rng) % (MIX_MAX - 31);
		sl = 1 + rnd32(&w->rng) % MIX_MAX;
		n = min_sz(rl, sl);
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
		fill_payload(rq, rl, seed);
	} else if (op == 1) {
		dl = 1 + rnd32(&w->rng) % MIX_MAX;
		want = dl;
		sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
	} else {
		dl = 1 + rnd32(&w->rng) % MIX_MAX;
		dv = rnd32(&w->rng) % (dl + 1);
		for (i = 0; i < dl; i++)
			dt[i] = (uint8_t)(i * 7 + seed + (i >> 9));
		want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, dt, dv);
		sim_hdr(&h, AZ_SIM_OP_SUM, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	}
	memcpy(rq, &h, sizeof(h));
	memset(rs, MIX_FILL, sl);
	guard_set(w->mem, rq, rl);
	guard_set(w->mem, rs, sl);
	if (dl)
		guard_set(w->mem, dt, dl);
	rq_init(&r, rq, rl, rs, sl, dl ? dt : NULL, dl, dv);

	e = blob_ioctl(w->fd, &r);
	if (e || r.response.status || r.response.response_len != n) {
		snprintf(err, errlen, "op %u (req %zu, resp %zu, data %zu/%zu): %s, status 0x%08x, response_len %u (expected %zu)",
			 h.op, rl, sl, dv, dl, errname(e), r.response.status,
			 r.response.response_len, n);
		return -1;
	}
	if (op == 0 && memcmp(rs, rq, n)) {
		snprintf(err, errlen, "echo of %zu bytes: wrong response bytes", n);
		return -1;
	}
	if (op && get_u64(rs) != want) {
		snprintf(err, errlen, "op %u on %zu/%zu bytes: expected 0x%" PRIx64 ", got 0x%" PRIx64,
			 h.op, dv, dl, want, get_u64(rs));
		return -1;
	}
	for (i = n; i < sl; i++) {
		if (rs[i] != MIX_FILL) {
			snprintf(err, errlen, "response byte %zu beyond response_len %zu changed",
				 i, n);
			return -1;
		}
	}
	if (op == 1) {
		for (i = 0; i < dl; i++) {
			if (dt[i] != az_sim_pattern(seed, i)) {
				snprintf(err, errlen, "fill of %zu bytes: byte %zu wrong",
					 dl, i);
				return -1;
			}
		}
	}
	if (guard_bad(w->mem, rq, rl) || guard_bad(w->mem, rs, sl) ||
	    (dl && guard_bad(w->mem, dt, dl))) {
		snprintf(err, errlen, "op %u: guard bytes changed", h.op);
		return -1;
	}
	w->n[op]++;
	return 0;
}

static void *mix_main(void *arg)
{
	struct worker *w = arg;

	while (w->done < w->iters) {
		if (mix_one(w, w->err, sizeof(w->err)))
			break;
		w->done++;
	}
	return NULL;
}

static int t_threads_mixed(void)
{
	unsigned int nt = g_threads, i, total = 0, n[3] = { 0, 0, 0 };
	struct worker *w;
	struct dstats b;
	int shared = dev_open(), ret = 0;
	int64_t t0;

	if (shared < 0 || dstats_get(g_name, &b))
		return TEST_FAIL;
	w = xmalloc(nt * sizeof(*w));
	memset(w, 0, nt * sizeof(*w));
	for (i = 0; i < nt; i++) {
		/* Even threads share one fd, odd threads have their own. */
		w[i].fd = (i & 1) ? dev_open() : shared;
		w[i].mem = map_pages(3 * MIX_AREA / PG, PROT_READ | PROT_WRITE);
		if (w[i].fd < 0 || !w[i].mem) {
			nt = i;
			ret = TEST_FAIL;
			break;
		}
		w[i].iters = g_iters;
		w[i].rng = rnd64(&g_seed) | 1;
	}
	t0 = now_ms();
	for (i = 0; i < nt; i++) {
		if (pthread_create(&w[i].th, NULL, mix_main, &w[i])) {
			nt = i;
			ret = fail("pthread_create failed");
			break;
		}
	}
	for (i = 0; i < nt; i++)
		pthread_join(w[i].th, NULL);
	for (i = 0; i < nt; i++) {
		total += w[i].done;
		n[0] += w[i].n[0];
		n[1] += w[i].n[1];
		n[2] += w[i].n[2];
		if (w[i].err[0])
			ret = fail("thread %u, request %u: %s", i, w[i].done,
				   w[i].err);
	}
	printf("# threads_mixed: %u requests (%u echo, %u fill, %u sum) on %u threads in %.1f s\n",
	       total, n[0], n[1], n[2], nt, (double)(now_ms() - t0) / 1000);
	free(w);
	if (ret)
		return ret;
	return check_deltas(g_name, &b, total, total, 0, 0, 0);
}

/* Child of killed_caller: submit a request the host holds, never return. */
static void child_submit(const char *dev, uint32_t fault, uint32_t delay)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t *m;
	int fd, err;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(120);
	m = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(121);
	memset(m, 0, 6 * PG);
	sim_hdr(&h, AZ_SIM_OP_ECHO, fault, delay, 0, 0, 0);
	memcpy(m, &h, sizeof(h));
	/* request 1 page, response 1 page, data 4 pages: 6 pinned. */
	rq_init(&r, m, 64, m + PG, 64, m + 2 * PG, 4 * PG, 0);
	r.timeout = 0;
	err = blob_ioctl(fd, &r);
	_exit(err ? (err & 0x7f) : 0);
}

/* Reap @pid within @ms; returns 0 and the status, or -1. */
static int reap(pid_t pid, int *status, int ms)
{
	int64_t end = now_ms() + ms;

	for (;;) {
		pid_t p = waitpid(pid, status, WNOHANG);

		if (p == pid)
			return 0;
		if (p < 0 || now_ms() > end)
			return -1;
		sleep_ms(5);
	}
}

static int t_killed_caller(void)
{
	const int use_never = g_sim > 0;
	struct dstats b, s;
	int status, ret = 0, reaped = 0;
	int64_t end, t0;
	pid_t pid;

	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	if (b.v[DS_OUTSTANDING])
		return fail("outstanding %ld before the test", b.v[DS_OUTSTANDING]);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid)
		child_submit(g_dev, use_never ? AZ_SIM_FAULT_NEVER : 0,
			     use_never ? 0 : 3000);

	for (end = now_ms() + 5000; ; sleep_ms(10)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			ret = fail("child's request returned before the kill (exit status %d)",
				   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			goto out;
		}
		if (drv_stat("outstanding") == 1)
			break;
		if (now_ms() > end) {
			ret = fail("outstanding did not reach 1 (got %ld)",
				   drv_stat("outstanding"));
			goto out;
		}
	}
	t0 = now_ms();
	kill(pid, SIGKILL);
	if (reap(pid, &status, 1000)) {
		ret = fail("child still not reaped 1 s after SIGKILL");
		goto out;
	}
	reaped = 1;
	vlog("child reaped %" PRId64 " ms after SIGKILL", now_ms() - t0);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		ret = fail("child: expected killed by SIGKILL, got status 0x%x",
			   status);
		goto out;
	}
	if (dstats_get(g_name, &s)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (use_never && (s.v[DS_OUTSTANDING] != 1 || s.v[DS_PINNED] != 6)) {
		ret = fail("after the kill: expected outstanding 1, pinned_pages 6 (the host owns them); got %ld, %ld",
			   s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
		goto out;
	}
	if (check_deltas(g_name, &b, 1, ANY, 1, 0, 0)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (use_never && sim_ctl_ok("release")) {
		ret = TEST_FAIL;
		goto out;
	}
	if (wait_idle(g_name, 0, 0, use_never ? 2000 : 5000)) {
		ret = TEST_FAIL;
		goto out;
	}
	ret = check_deltas(g_name, &b, 1, ANY, 1, 0, 0);
out:
	if (!reaped) {
		kill(pid, SIGKILL);
		if (use_never)
			sim_ctl("release");
		if (reap(pid, &status, 10000))
			fprintf(stderr, "az_blob_test: child %d not reaped\n",
				(int)pid);
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Tests: a misbehaving host (simulator faults)                        */
/* ------------------------------------------------------------------ */

/*
 * An echo of 64 bytes into a 128-byte response while the host commits
 * @fault with @arg. @want_err 0: success with response_len @rlen.
 */
static int fault_round(uint32_t fault, uint32_t arg, int want_err,
		       uint32_t rlen, long d_unknown, long d_bad)
{
	struct arena *a = arena_new(4);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp;
	int fd = dev_open(), err;

	if (!a || fd < 0)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, fault, 0, 0, 0, arg);
	req = put_req(a, PG + 16, 64, &h);
	resp = at(a, 2 * PG + 32);
	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 64, resp, 128, NULL, 0, 0);
	r.timeout = 2000;	/* a dropped completion ends in ETIMEDOUT */
	err = blob_ioctl(fd, &r);
	if (want_err) {
		if (err != want_err)
			return fail("fault %u arg %u: expected %s, got %s",
				    fault, arg, errname(want_err),
				    errname(err));
		ok.p = resp;
		ok.len = 128;
	} else {
		if (expect_ok(err, &r, 0, rlen) ||
		    cmp_bytes("response", resp, req, min_sz(rlen, 64)))
			return TEST_FAIL;
		ok.p = resp;
		ok.len = rlen;
	}
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	return check_deltas(g_name, &b, 1, want_err ? ANY : 1, 0, d_unknown,
			    d_bad);
}

static int t_unknown_id(void)
{
	if (fault_round(AZ_SIM_FAULT_UNKNOWN_ID, 0, 0, 64, 1, 0))
		return TEST_FAIL;
	return fault_round(AZ_SIM_FAULT_UNKNOWN_ID, 0xffffffffU, 0, 64, 1, 0);
}

static int t_id_zero(void)
{
	return fault_round(AZ_SIM_FAULT_ID_ZERO, 0, 0, 64, 1, 0);
}

static int t_duplicate(void)
{
	return fault_round(AZ_SIM_FAULT_DUPLICATE, 0, 0, 64, 1, 0);
}

static int t_short_completion(void)
{
	if (fault_round(AZ_SIM_FAULT_SHORT, 0, EIO, 0, 0, 1))
		return TEST_FAIL;
	/*
	 * Packets are whole multiples of 8 bytes: 4 payload bytes arrive as 8,
	 * still short; 9 to 12 arrive as 16 (zero padded), a whole completion.
	 */
	if (fault_round(AZ_SIM_FAULT_SHORT, 4, EIO, 0, 0, 1))
		return TEST_FAIL;
	/* 12 payload bytes is a whole completion. */
	return fault_round(AZ_SIM_FAULT_SHORT, 12, 0, 64, 0, 0);
}

static int t_long_completion(void)
{
	if (fault_round(AZ_SIM_FAULT_LONG, 0, 0, 64, 0, 0))
		return TEST_FAIL;
	return fault_round(AZ_SIM_FAULT_LONG, 13, 0, 64, 0, 0);
}

static int t_resplen_over(void)
{
	return fault_round(AZ_SIM_FAULT_RESPLEN, 129, EIO, 0, 0, 1);
}

static int t_resplen_equal(void)
{
	return fault_round(AZ_SIM_FAULT_RESPLEN, 128, 0, 128, 0, 0);
}

static int t_bad_type(void)
{
	return fault_round(AZ_SIM_FAULT_BAD_TYPE, 0, EIO, 0, 0, 1);
}

static int t_never_timeout(void)
{
	struct arena *a = arena_new(4);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b, s;
	uint8_t *req;
	int64_t t0, ms;
	int fd = dev_open(), err;

	if (!a || fd < 0)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NEVER, 0, 0, 0, 0);
	req = put_req(a, PG + 8, 64, &h);
	if (dstats_get(g_name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 64, at(a, 2 * PG + 8), 64, NULL, 0, 0);
	r.timeout = 100;
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	ms = now_ms() - t0;
	if (err != ETIMEDOUT)
		return fail("expected ETIMEDOUT, got %s after %" PRId64 " ms",
			    errname(err), ms);
	if (ms < 100 + DRV_GRACE_MS - 50 || ms > 100 + DRV_GRACE_MS + 3000)
		return fail("ETIMEDOUT after %" PRId64 " ms, expected about %d ms",
			    ms, 100 + DRV_GRACE_MS);
	if (dstats_get(g_name, &s))
		return TEST_FAIL;
	if (s.v[DS_OUTSTANDING] != 1 || s.v[DS_PINNED] != 2)
		return fail("after ETIMEDOUT: expected outstanding 1, pinned_pages 2 (the host owns them); got %ld, %ld",
			    s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
	if (check_deltas(g_name, &b, 1, 0, 1, 0, 0))
		return TEST_FAIL;
	if (sim_ctl_ok("release") || wait_idle(g_name, 0, 0, 2000))
		return TEST_FAIL;
	return check_deltas(g_name, &b, 1, ANY, 1, 0, 0);
}

/* ------------------------------------------------------------------ */
/* Tests: the channel and the device's life                            */
/* ------------------------------------------------------------------ */

static int t_channel_params(void)
{
	struct chan ch[MAX_DEVS], *c = NULL;
	int n, i, idx = cur_sim_idx();

	n = sim_channels(ch, MAX_DEVS);
	if (n < 0)
		return fail("reading " SIM_DIR "/channel: %s", strerror(-n));
	for (i = 0; i < n; i++)
		if (ch[i].idx == idx)
			c = &ch[i];
	if (!c)
		return fail("no channel line for simulator device %d", idx);
	if (c->open != 1)
		return fail("open: expected 1, got %d", c->open);
	if (c->send_ring != 131072)
		return fail("send_ring: expected 131072, got %ld", c->send_ring);
	if (c->recv_ring != 131072)
		return fail("recv_ring: expected 131072, got %ld", c->recv_ring);
	if (c->userdatalen != 0)
		return fail("userdatalen: expected 0, got %ld", c->userdatalen);
	if (c->rqstor_size != 1024)
		return fail("rqstor_size: expected 1024, got %ld", c->rqstor_size);
	if (c->max_pkt_size < 16 + 12)
		return fail("max_pkt_size: expected >= 28, got %ld",
			    c->max_pkt_size);
	if (c->rescind)
		return fail("rescind: expected 0, got %d", c->rescind);
	return 0;
}

static int t_suspend_resume(void)
{
	int err = sim_ctl("suspend %d", cur_sim_idx());

	if (err)
		return fail("suspend %d: expected success, got %s",
			    cur_sim_idx(), errname(err));
	if (echo_simple(g_dev, g_name))
		return TEST_FAIL;
	return t_channel_params();
}

static int t_suspend_busy(void)
{
	int fd = dev_open(), err, ret = 0;
	struct bg *b;
	int64_t t0, ms;

	if (fd < 0)
		return TEST_FAIL;
	b = bg_start(fd, AZ_SIM_FAULT_NEVER, 0, 0);
	if (!b)
		return TEST_FAIL;
	if (wait_idle(g_name, 1, 2, 5000)) {
		ret = TEST_FAIL;
		goto out;
	}
	t0 = now_ms();
	err = sim_ctl("suspend %d", cur_sim_idx());
	ms = now_ms() - t0;
	vlog("suspend with a request held: %s after %" PRId64 " ms",
	     errname(err), ms);
	if (err != EBUSY)
		ret = fail("suspend with a request held: expected EBUSY, got %s",
			   errname(err));
	else if (ms > 30000)
		ret = fail("suspend took %" PRId64 " ms to give up", ms);
out:
	sim_ctl("release");
	if (bg_join(b, now_ms() + 10000))
		return fail("request not completed 10 s after release");
	if (!ret && (expect_ok(b->err, &b->r, 0, 64) ||
		     cmp_bytes("response", b->resp, b->req, 64)))
		ret = TEST_FAIL;
	bg_free(b);
	if (!ret)
		ret = echo_simple(g_dev, g_name);
	return ret;
}

/* Bring a new device up with "offer"; its misc name and sim index out. */
static int offer_device(char *name, int *idx, int *created)
{
	char old[MAX_DEVS][NAME_LEN];
	struct chan before[MAX_DEVS], after[MAX_DEVS];
	int nold, nb, na, i, j;

	*idx = -1;
	nold = misc_list(old, MAX_DEVS);
	nb = sim_channels(before, MAX_DEVS);
	if (nb < 0)
		return fail("reading " SIM_DIR "/channel: %s", strerror(-nb));
	if (sim_ctl_ok("offer"))
		return TEST_FAIL;
	if (wait_new_misc(old, nold, name, 5000))
		return TEST_FAIL;
	na = sim_channels(after, MAX_DEVS);
	for (i = 0; i < na; i++) {
		int seen = 0;

		for (j = 0; j < nb; j++)
			if (before[j].idx == after[i].idx)
				seen = 1;
		if (!seen)
			*idx = after[i].idx;
	}
	if (*idx < 0)
		return fail("no new line in " SIM_DIR "/channel after offer");
	vlog("offer: misc %s, simulator device %d", name, *idx);
	return ensure_node(name, created);
}

static int t_second_device(void)
{
	char name[NAME_LEN], path[PATH_MAX];
	int idx = -1, created = 0, ret;
	struct sstats s0;

	if (sstats_get(&s0))
		return TEST_FAIL;
	ret = offer_device(name, &idx, &created);
	if (ret)
		goto out;
	snprintf(path, sizeof(path), "/dev/%s", name);
	if (!strcmp(name, g_name)) {
		ret = fail("new device has the name of the old one (%s)", name);
		goto out;
	}
	ret = wait_sim(SS_OPEN_CHANNELS, s0.v[SS_OPEN_CHANNELS] + 1, 2000);
	if (!ret)
		ret = echo_simple(path, name);
	if (!ret)
		ret = echo_simple(g_dev, g_name);
	if (!ret)
		ret = echo_simple(path, name);
out:
	if (idx >= 0) {
		int err = sim_ctl("rescind %d", idx);

		if (err && !ret)
			ret = fail("rescind %d: %s", idx, errname(err));
		if (!ret)
			ret = wait_misc_gone(name, 5000);
		if (created)
			unlink(path);
	}
	if (!ret)
		ret = wait_sim(SS_OPEN_CHANNELS, s0.v[SS_OPEN_CHANNELS], 2000);
	if (!ret)
		ret = echo_simple(g_dev, g_name);
	return ret;
}

static int t_unbind_bind(void)
{
	char vm[NAME_LEN * 2], path[PATH_MAX + 16], drv[PATH_MAX];
	char old[MAX_DEVS][NAME_LEN], name[NAME_LEN];
	int fd, err, ret = 0, nold, created;
	struct az_blob_request_sync r;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	fd = v.fd;
	err = misc_vmname(g_name, vm, sizeof(vm));
	if (err)
		return fail("device link of %s: %s", g_name, strerror(err));
	snprintf(path, sizeof(path), MISC_DIR "/%s/device/driver", g_name);
	if (!realpath(path, drv))
		return fail("realpath %s: %s", path, strerror(errno));

	snprintf(path, sizeof(path), "%s/unbind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	ret = wait_misc_gone(g_name, 3000);
	if (!ret) {
		r = v.r;
		err = blob_ioctl(fd, &r);
		if (err != ENODEV)
			ret = fail("ioctl on an fd of the unbound device: expected ENODEV, got %s",
				   errname(err));
	}
	if (!ret)
		ret = expect_open_fails(g_dev);

	nold = misc_list(old, MAX_DEVS);
	snprintf(path, sizeof(path), "%s/bind", drv);
	err = write_text(path, vm);
	if (err)
		return ret ? ret : fail("writing %s to %s: %s", vm, path,
					errname(err));
	if (wait_new_misc(old, nold, name, 5000) || ensure_node(name, &created))
		return TEST_FAIL;
	if (strcmp(name, g_name)) {
		printf("# device is now /dev/%s\n", name);
		set_device(name);
	}
	if (ret)
		return ret;
	return echo_simple(g_dev, g_name);
}

static int t_hang_burst_rescind(void)
{
	enum { NB = 8 };
	char name[NAME_LEN], old_dev[PATH_MAX];
	struct bg *b[NB] = { NULL };
	struct az_blob_request_sync r;
	int fd, i, ret = 0, err, idx = cur_sim_idx(), new_idx, created;
	int st[NB] = { 0 };	/* 1 joined, -1 left running */
	int rescinded = 0, leaked = 0;
	int64_t end;

	fd = dev_open();
	if (fd < 0)
		return TEST_FAIL;
	snprintf(old_dev, sizeof(old_dev), "%s", g_dev);
	if (sim_ctl_ok("hang 1"))
		return TEST_FAIL;
	for (i = 0; i < NB; i++) {
		b[i] = bg_start(fd, AZ_SIM_FAULT_NONE, 0, 20000);
		if (!b[i]) {
			ret = TEST_FAIL;
			goto out;
		}
	}
	if (wait_idle(g_name, NB, 2 * NB, 5000) ||
	    wait_sim(SS_HELD, NB, 2000)) {
		ret = TEST_FAIL;
		goto out;
	}
	err = sim_ctl("rescind %d", idx);
	if (err) {
		ret = fail("rescind %d: %s", idx, errname(err));
		goto out;
	}
	rescinded = 1;
	end = now_ms() + 10000;
	for (i = 0; i < NB; i++) {
		if (bg_join(b[i], end)) {
			st[i] = -1;
			ret = fail("request %d still waiting 10 s after rescind", i);
			goto out;
		}
		st[i] = 1;
	}
	for (i = 0; i < NB; i++)
		if (b[i]->err != ENODEV) {
			ret = fail("request %d after rescind: expected ENODEV, got %s",
				   i, errname(b[i]->err));
			goto out;
		}
	if (wait_sim(SS_HELD, 0, 2000)) {
		ret = TEST_FAIL;
		goto out;
	}
	/*
	 * The driver's counters went with the device; the host holding
	 * nothing and every caller's ENODEV are what can be checked here
	 * (kmemleak on the debug kernel catches a request never freed).
	 */
	rq_init(&r, b[0]->req, 64, b[0]->resp, 64, NULL, 0, 0);
	err = blob_ioctl(fd, &r);
	if (err != ENODEV) {
		ret = fail("new ioctl on the open fd after rescind: expected ENODEV, got %s",
			   errname(err));
		goto out;
	}
	ret = wait_misc_gone(g_name, 5000);
	if (!ret)
		ret = expect_open_fails(old_dev);
out:
	sim_ctl("hang 0");
	if (!rescinded)
		sim_ctl("release");
	/* A thread still running keeps its arena: it is leaked, not freed. */
	for (i = 0; i < NB; i++) {
		if (!b[i] || st[i] < 0) {
			leaked |= !!b[i];
			continue;
		}
		/* Past the driver's own timeout (20 s + grace) at worst. */
		if (!st[i] && bg_join(b[i], now_ms() + 30000)) {
			leaked = 1;
			continue;
		}
		bg_free(b[i]);
	}
	if (leaked && !ret)
		ret = fail("requests still blocked after the test");
	if (!rescinded)
		return ret;

	/* Bring a device back and make it the one under test. */
	err = offer_device(name, &new_idx, &created);
	if (err)
		return ret ? ret : err;
	g_sim_idx = new_idx;
	if (strcmp(name, g_name))
		printf("# device is now /dev/%s (simulator device %d)\n", name,
		       new_idx);
	set_device(name);
	if (ret)
		return ret;
	ret = echo_simple(g_dev, g_name);
	if (!ret && drv_stat("submitted") != 1)
		ret = fail("a new device: expected submitted 1 after one echo, got %ld",
			   drv_stat("submitted"));
	return ret;
}

/* ------------------------------------------------------------------ */
/* The runner                                                          */
/* ------------------------------------------------------------------ */

struct test {
	const char *name;
	int (*fn)(void);
	unsigned int flags;
	const char *desc;
};

static const struct test tests[] = {
	{ "echo_small", t_echo_small, 0, "64-byte echo" },
	{ "released_on_return", t_released_on_return, 0, "nothing pinned the moment a call returns (200 calls)" },
	{ "echo_unaligned", t_echo_unaligned, 0, "echo, buffers at odd offsets across pages" },
	{ "echo_shared_page", t_echo_shared_page, 0, "request and response in one page" },
	{ "echo_truncated", t_echo_truncated, 0, "response shorter than the request" },
	{ "info_layout", t_info_layout, 0, "the 56-byte packet and GPA range, field by field" },
	{ "info_nodata", t_info_nodata, 0, "packet without a data buffer" },
	{ "fill_data", t_fill_data, 0, "host writes 1 MiB at an odd offset" },
	{ "sum_data", t_sum_data, 0, "host reads data_valid < data_len bytes" },
	{ "fill_max", t_fill_max, 0, "exactly 8192 pages in total" },
	{ "data_overlaps_request", t_data_overlaps_request, 0, "data buffer containing the request" },
	{ "status_passthrough", t_status_passthrough, 0, "host status reaches response.status" },
	{ "host_timeout", t_host_timeout, 0, "host cancels after the timeout" },
	{ "flags_nonzero", t_flags_nonzero, 0, "EINVAL" },
	{ "request_len_zero", t_request_len_zero, 0, "EINVAL" },
	{ "response_len_zero", t_response_len_zero, 0, "EINVAL" },
	{ "data_valid_gt_len", t_data_valid_gt_len, 0, "EINVAL" },
	{ "null_request", t_null_request, 0, "EINVAL" },
	{ "null_response", t_null_response, 0, "EINVAL" },
	{ "null_data", t_null_data, 0, "EINVAL" },
	{ "len_too_big", t_len_too_big, 0, "E2BIG for each length" },
	{ "pages_too_many", t_pages_too_many, 0, "E2BIG at 8193 pages" },
	{ "unmapped_buffer", t_unmapped_buffer, 0, "EFAULT" },
	{ "partly_mapped", t_partly_mapped, 0, "EFAULT, nothing left pinned" },
	{ "readonly_response", t_readonly_response, 0, "EFAULT" },
	{ "readonly_data", t_readonly_data, 0, "EFAULT" },
	{ "readonly_request_ok", t_readonly_request_ok, 0, "read-only request works" },
	{ "bad_struct_ptr", t_bad_struct_ptr, 0, "EFAULT" },
	{ "bad_ioctl", t_bad_ioctl, 0, "ENOTTY" },
	{ "kernel_address", t_kernel_address, 0, "EFAULT" },
	{ "threads_mixed", t_threads_mixed, 0, "-t threads x -n random requests" },
	{ "killed_caller", t_killed_caller, 0, "SIGKILL while the host holds the request" },
	{ "unknown_id", t_unknown_id, NEEDS_SIM, "completion for an id never sent" },
	{ "id_zero", t_id_zero, NEEDS_SIM, "completion with id 0" },
	{ "duplicate", t_duplicate, NEEDS_SIM, "the same completion twice" },
	{ "short_completion", t_short_completion, NEEDS_SIM, "EIO" },
	{ "long_completion", t_long_completion, NEEDS_SIM, "extra bytes ignored" },
	{ "resplen_over", t_resplen_over, NEEDS_SIM, "EIO" },
	{ "resplen_equal", t_resplen_equal, NEEDS_SIM, "response_len = buffer length" },
	{ "bad_type", t_bad_type, NEEDS_SIM, "EIO" },
	{ "never_timeout", t_never_timeout, NEEDS_SIM, "ETIMEDOUT, pages stay with the host" },
	{ "channel_params", t_channel_params, NEEDS_SIM, "ring sizes, requestor depth" },
	{ "suspend_resume", t_suspend_resume, NEEDS_SIM, "suspend and resume while idle" },
	{ "second_device", t_second_device, NEEDS_SIM, "a second device next to the first" },
	{ "unbind_bind", t_unbind_bind, 0, "unbind and bind through sysfs" },
	{ "hang_burst_rescind", t_hang_burst_rescind, NEEDS_SIM, "rescind with 8 requests held" },
	{ "suspend_busy", t_suspend_busy, NEEDS_SIM | SLOW, "suspend refused while a request is held" },
};

#define NTESTS	(sizeof(tests) / sizeof(tests[0]))

/* What must hold after every test. */
static int post_check(const struct sstats *s0)
{
	struct sstats s;

	if (!misc_exists(g_name))
		return fail("post: device %s is gone", g_name);
	if (wait_idle(g_name, 0, 0, 2000)) {
		char msg[sizeof(g_reason)];

		snprintf(msg, sizeof(msg), "%s", g_reason);
		g_reason[0] = 0;
		return fail("post: %s", msg);
	}
	if (!s0)
		return 0;
	if (wait_sim(SS_HELD, 0, 2000)) {
		g_reason[0] = 0;
		return fail("post: the simulator still holds requests");
	}
	if (sstats_get(&s))
		return TEST_FAIL;
	if (s.v[SS_VIOLATIONS] != s0->v[SS_VIOLATIONS])
		return fail("post: simulator violations %+ld (last: %s)",
			    s.v[SS_VIOLATIONS] - s0->v[SS_VIOLATIONS],
			    s.last_violation);
	return 0;
}

static int run_test(const struct test *t)
{
	struct sstats s0;
	int have_s0, rc, post;

	g_reason[0] = 0;
	have_s0 = g_sim > 0 && !sstats_read(&s0);
	vlog("%s: %s", t->name, t->desc);
	rc = t->fn();
	res_release_all();
	if (rc == TEST_SKIP)
		return rc;
	if (rc && !g_reason[0])
		fail("(no reason given)");
	if (rc && g_sim > 0) {
		/* Leave nothing held for the next test. */
		sim_ctl("hang 0");
		sim_ctl("release");
	}
	if (rc) {
		char msg[sizeof(g_reason)];

		/* Still wait for the driver to settle, reason unchanged. */
		snprintf(msg, sizeof(msg), "%s", g_reason);
		post_check(have_s0 ? &s0 : NULL);
		snprintf(g_reason, sizeof(g_reason), "%s", msg);
		return rc;
	}
	post = post_check(have_s0 ? &s0 : NULL);
	return post ? TEST_FAIL : TEST_OK;
}

static int selected(const char *name, int argc, char **argv)
{
	int i;

	if (!argc)
		return 1;
	for (i = 0; i < argc; i++)
		if (!fnmatch(argv[i], name, 0) ||
		    !strncmp(argv[i], name, strlen(argv[i])))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* demo                                                                */
/* ------------------------------------------------------------------ */

static void show_req(const struct az_blob_request_sync *r, const char *what)
{
	printf("  sending %s: request_len %u, response_len %u, data_len %u, data_valid %u, timeout %u ms\n",
	       what, r->request_len, r->response_len, r->data_len,
	       r->data_valid, r->timeout);
}

static void show_answer(int err, const struct az_blob_request_sync *r,
			int64_t ms)
{
	if (err)
		printf("  ioctl failed: %s (%s) after %" PRId64 " ms\n",
		       errname(err), strerror(err), ms);
	else
		printf("  host answered after %" PRId64 " ms: status 0x%08x, response_len %u\n",
		       ms, r->response.status, r->response.response_len);
}

static int demo(void)
{
	static const char hello[] = "Hello, Azure Blob!";
	const size_t mib = 1 << 20;
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t req[64], resp[256], *data;
	int fd, err, bad = 0;
	uint64_t want, got;
	int64_t t0;
	size_t i;

	printf("az_blob_test demo on %s\n", g_dev);
	printf("Every request buffer starts with a 32-byte struct az_sim_req telling the\n"
	       "simulated host what to do (az_blob_sim.h); the driver passes it on as is.\n\n");
	fd = open(g_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("open %s: %s\n", g_dev, strerror(errno));
		return 1;
	}
	data = mmap(NULL, mib, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		return 1;
	}

	printf("1. Echo: the host copies the request into the response.\n");
	sim_hdr(&h, AZ_SIM_OP_ECHO, 0, 0, 0, 0, 0);
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), hello, sizeof(hello));
	memset(resp, 0, sizeof(resp));
	rq_init(&r, req, sizeof(h) + sizeof(hello), resp, sizeof(resp),
		NULL, 0, 0);
	show_req(&r, "header + \"Hello, Azure Blob!\"");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	if (!err && r.response.response_len == r.request_len &&
	    !memcmp(resp + sizeof(h), hello, sizeof(hello))) {
		printf("  response text: \"%s\"\n\n", (char *)resp + sizeof(h));
	} else {
		printf("  unexpected answer\n\n");
		bad = 1;
	}

	printf("2. Fill: the host writes 1 MiB of a seeded pattern into the data buffer.\n");
	sim_hdr(&h, AZ_SIM_OP_FILL, 0, 0, 0, 0x1234, 0);
	rq_init(&r, &h, sizeof(h), resp, 8, data, mib, 0);
	show_req(&r, "FILL seed 0x1234");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	for (i = 0; !err && i < mib; i++)
		if (data[i] != az_sim_pattern(0x1234, i))
			break;
	if (!err && i == mib && get_u64(resp) == mib) {
		printf("  host says it wrote %" PRIu64 " bytes; all %zu verified\n\n",
		       get_u64(resp), mib);
	} else {
		printf("  pattern wrong at byte %zu\n\n", i);
		bad = 1;
	}

	printf("3. Checksum: the host reads 65536 bytes and returns their FNV-1a.\n");
	for (i = 0; i < mib; i++)
		data[i] = (uint8_t)(i * 7);
	want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, data, 65536);
	sim_hdr(&h, AZ_SIM_OP_SUM, 0, 0, 0, 0, 0);
	rq_init(&r, &h, sizeof(h), resp, 8, data, mib, 65536);
	show_req(&r, "SUM");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	got = err ? 0 : get_u64(resp);
	printf("  host 0x%016" PRIx64 ", computed here 0x%016" PRIx64 ": %s\n\n",
	       got, want, got == want ? "match" : "MISMATCH");
	bad |= got != want;

	printf("4. Host status: the ioctl succeeds, the host's own result is in response.status.\n");
	sim_hdr(&h, AZ_SIM_OP_ECHO, 0, 0, SIM_HOST_ERROR, 0, 0);
	rq_init(&r, &h, sizeof(h), resp, sizeof(resp), NULL, 0, 0);
	show_req(&r, "ECHO asking for status 0xC0000001");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	bad |= err || r.response.status != SIM_HOST_ERROR;
	printf("\n");

	printf("5. Host timeout: the host takes 3000 ms, the caller allows 500 ms.\n");
	sim_hdr(&h, AZ_SIM_OP_ECHO, 0, 3000, 0, 0, 0);
	rq_init(&r, &h, sizeof(h), resp, sizeof(resp), NULL, 0, 0);
	r.timeout = 500;
	show_req(&r, "ECHO with delay 3000 ms");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	if (!err && r.response.status == AZ_BLOB_HOST_TIMEOUT)
		printf("  0x%08x is AZ_BLOB_HOST_TIMEOUT: the host gave up, nothing was written\n",
		       AZ_BLOB_HOST_TIMEOUT);
	else
		bad = 1;

	munmap(data, mib);
	close(fd);
	printf("\ndemo %s\n", bad ? "saw unexpected answers" : "done");
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Suites run as subcommands: fuzz, lifecycle, failinject              */
/* ------------------------------------------------------------------ */

static int g_npass, g_nfail, g_nskip;

/* Print the line of check @name for @rc (g_reason for a reason). */
static void report(const char *name, int rc)
{
	if (rc == TEST_OK) {
		printf("ok %s\n", name);
		g_npass++;
	} else if (rc == TEST_SKIP) {
		printf("skip %s: %s\n", name, g_reason);
		g_nskip++;
	} else {
		if (!g_reason[0])
			fail("(no reason given)");
		printf("FAIL %s: %s\n", name, g_reason);
		g_nfail++;
	}
	g_reason[0] = 0;
}

static int summary(void)
{
	if (g_nskip)
		printf("%d passed, %d failed, %d skipped\n", g_npass, g_nfail,
		       g_nskip);
	else
		printf("%d passed, %d failed\n", g_npass, g_nfail);
	return g_nfail ? 1 : 0;
}

/* The driver idle, the host holding nothing, no new violation. */
static int settle_check(const struct sstats *s0)
{
	if (wait_idle(g_name, 0, 0, 5000))
		return TEST_FAIL;
	return post_check(s0);
}

/* ------------------------------------------------------------------ */
/* fuzz                                                                */
/* ------------------------------------------------------------------ */

/*
 * Each thread owns a region: a guard page, a PROT_NONE page, the arena
 * (where valid buffers live), an unmapped hole, a PROT_NONE page and a
 * guard page. Every mapped byte holds canary(its offset in the region)
 * except while a call runs; after each call the thread checks what the
 * host may have written against what it may write, and puts the canary
 * back, so that a stray write anywhere in the region shows.
 */
#define FZ_ARENA_PAGES	128
#define FZ_ARENA	(FZ_ARENA_PAGES * PG)
#define FZ_HOLE_PAGES	2
#define FZ_REGION_PAGES	(FZ_ARENA_PAGES + FZ_HOLE_PAGES + 4)
#define FZ_WIN		64		/* bytes checked beyond a call's spans */
#define FZ_FULL_EVERY	512		/* full region check every N calls */
#define FZ_KEEP_PCT	20		/* valid random calls sent as they are */
#define FZ_MAXERR	160

enum { C_VALID, C_NULL, C_HOLE, C_PNONE, C_PARTIAL, C_RO, C_KERNEL,
	C_HIGH, C_SHARE, C_N };

static const unsigned int fz_cls_weight[C_N] = {
	50, 5, 5, 4, 7, 6, 6, 6, 11,
};

enum { FK_RANDOM, FK_STRUCT, FK_CMD, FK_BADARG, FK_ROARG };

/* The read-only page (an ECHO header at 0, a request at 2048) and the
 * page its request answers into, each between PROT_NONE pages.
 */
static uint8_t *g_fz_ro, *g_fz_sink;
static unsigned int g_fz_total;

struct fz_thread {
	pthread_t th;
	int fd;
	unsigned int calls;
	unsigned int done;		/* read by the progress loop */
	uint64_t rng;
	uint8_t *region, *guard_lo, *pnone, *arena, *hole, *guard_hi;
	unsigned long hist[FZ_MAXERR];
	unsigned long undocumented, mispredicted, guard_bad, answer_bad;
	unsigned long reached, structured, struct_ok;
	char msg_errno[320], msg_pred[320], msg_guard[320], msg_answer[320];
	/* What the thread wrote into its arena for the current call. */
	uint8_t *wp;
	size_t wlen;
	uint8_t wbuf[80];
};

static int fz_errno_documented(int e)
{
	return !e || e == EINVAL || e == E2BIG || e == EFAULT ||
	       e == ENOMEM || e == EBUSY || e == ENOTTY;
}

static uint8_t fz_canary(const struct fz_thread *t, const uint8_t *p)
{
	return canary((size_t)(p - t->region));
}

static void fz_restore(struct fz_thread *t, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = fz_canary(t, p + i);
}

/* Compare [p, p + len) with the canary; the first difference into msg. */
static int fz_scan(struct fz_thread *t, uint8_t *p, size_t len, char *msg,
		   size_t n)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != fz_canary(t, p + i)) {
			snprintf(msg, n, "byte at region+%#zx changed: expected 0x%02x, got 0x%02x",
				 (size_t)(p + i - t->region),
				 fz_canary(t, p + i), p[i]);
			return -1;
		}
	}
	return 0;
}

static void fz_full_check(struct fz_thread *t)
{
	char msg[200];

	if (fz_scan(t, t->guard_lo, PG, msg, sizeof(msg)) ||
	    fz_scan(t, t->arena, FZ_ARENA, msg, sizeof(msg)) ||
	    fz_scan(t, t->guard_hi, PG, msg, sizeof(msg))) {
		if (!t->guard_bad++)
			snprintf(t->msg_guard, sizeof(t->msg_guard),
				 "full check after call %u: %s", t->done, msg);
		fz_restore(t, t->guard_lo, PG);
		fz_restore(t, t->arena, FZ_ARENA);
		fz_restore(t, t->guard_hi, PG);
	}
}

static uint32_t fz_len(uint64_t *g)
{
	static const uint32_t b[] = {
		0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 100, 4095, 4096, 4097,
		8191, 8192, 8193, 65535, 65536, 65537, 1U << 20,
		AZ_BLOB_MAX_LEN - 1, AZ_BLOB_MAX_LEN, AZ_BLOB_MAX_LEN + 1,
		AZ_BLOB_MAX_LEN / 2, 0x7fffffffU, 0x80000000U, 0xffffffffU,
	};

	switch (rnd32(g) % 8) {
	case 0: case 1: case 2: case 3:
		return b[rnd32(g) % (sizeof(b) / sizeof(b[0]))];
	case 4: case 5:
		return rnd32(g) % 8192;
	case 6:
		return rnd32(g) % (FZ_ARENA + 1);
	default:
		return rnd32(g);
	}
}

static int fz_class(uint64_t *g)
{
	unsigned int sum = 0, i, x;

	for (i = 0; i < C_N; i++)
		sum += fz_cls_weight[i];
	x = rnd32(g) % sum;
	for (i = 0; x >= fz_cls_weight[i]; i++)
		x -= fz_cls_weight[i];
	return (int)i;
}

static uint64_t fz_ptr(struct fz_thread *t, int cls, uint64_t other)
{
	static const uint64_t kern[] = {
		0xffff888000000000ULL, 0xffff888000100000ULL,
		0xffffffff81000000ULL, 0xffffc90000000000ULL,
		0xffffea0000000000ULL, 0xfffffe0000000000ULL,
	};
	static const uint64_t high[] = {
		~0ULL - 10, ~0ULL, ~0ULL - 4095, 1ULL << 63,
		0x7ffffffff000ULL, 1ULL << 47, 0xffffffffULL - 10,
		0xfffff000ULL, 0x100000000ULL, 4096, 1,
	};
	uint64_t *g = &t->rng;
	size_t off;

	switch (cls) {
	case C_VALID:
		switch (rnd32(g) % 4) {
		case 0:
			off = rnd32(g) % FZ_ARENA;
			break;
		case 1:
			off = (rnd32(g) % FZ_ARENA_PAGES) * PG;
			break;
		case 2:
			off = (1 + rnd32(g) % FZ_ARENA_PAGES) * PG - 1 -
			      rnd32(g) % 64;
			break;
		default:
			off = rnd32(g) % PG;
			break;
		}
		return ptr2u64(t->arena + off);
	case C_NULL:
		return 0;
	case C_HOLE:
		return ptr2u64(t->hole + rnd32(g) % (FZ_HOLE_PAGES * PG));
	case C_PNONE:
		return ptr2u64(t->pnone + rnd32(g) % PG);
	case C_PARTIAL:
		return ptr2u64(t->arena + FZ_ARENA - 1 - rnd32(g) % 256);
	case C_RO:
		return ptr2u64(g_fz_ro + (rnd32(g) % 4 ? 0 : rnd32(g) % PG));
	case C_KERNEL:
		return kern[rnd32(g) % (sizeof(kern) / sizeof(kern[0]))] +
		       (rnd32(g) % 2 ? 0 : (uint64_t)(rnd32(g) % 1024) * PG);
	case C_HIGH:
		return high[rnd32(g) % (sizeof(high) / sizeof(high[0]))];
	default:
		if (!other)
			return ptr2u64(t->arena + rnd32(g) % FZ_ARENA);
		/*
		 * Near another buffer. Outside the arena only forwards: just
		 * below the PROT_NONE page is the canary page guard_lo, which
		 * is mapped but not where the model expects buffers.
		 */
		if (other < ptr2u64(t->arena) ||
		    other >= ptr2u64(t->arena) + FZ_ARENA)
			return other + rnd32(g) % 64;
		return other + rnd32(g) % 128 - 64;
	}
}

/* [a, a + len) lies in memory the driver can pin (@write: writably). */
static int fz_mapped(const struct fz_thread *t, uint64_t a, uint64_t len,
		     int write)
{
	uint64_t ar = ptr2u64(t->arena), ro = ptr2u64(g_fz_ro);

	if (a >= ar && a - ar <= FZ_ARENA && len <= FZ_ARENA - (a - ar))
		return 1;
	return !write && a >= ro && a - ro <= PG && len <= PG - (a - ro);
}

/* What the driver must answer to @r, from the ABI alone. */
static int fz_predict(const struct fz_thread *t,
		      const struct az_blob_request_sync *r)
{
	const uint64_t a[3] = { r->data_buffer, r->request_buffer,
				r->response_buffer };
	const uint32_t l[3] = { r->data_len, r->request_len, r->response_len };
	const int w[3] = { 1, 0, 1 };
	uint64_t pages = 0;
	int i, ok = 1;

	if (r->flags || !r->request_len || !r->response_len ||
	    r->data_valid > r->data_len || !r->request_buffer ||
	    !r->response_buffer || (r->data_len && !r->data_buffer))
		return EINVAL;
	for (i = 0; i < 3; i++)
		if (l[i] > AZ_BLOB_MAX_LEN)
			return E2BIG;
	for (i = 0; i < 3; i++) {
		if (!l[i])
			continue;
		if (a[i] + l[i] < a[i])
			return EFAULT;
		pages += span_pages(a[i], l[i]);
		ok &= fz_mapped(t, a[i], l[i], w[i]);
	}
	if (pages > AZ_BLOB_MAX_PAGES)
		return E2BIG;
	return ok ? 0 : EFAULT;
}

static void fz_write(struct fz_thread *t, uint8_t *p, const void *src,
		     size_t len)
{
	memcpy(p, src, len);
	memcpy(t->wbuf, src, len);
	t->wp = p;
	t->wlen = len;
}

static void fz_random(struct fz_thread *t, struct az_blob_request_sync *r)
{
	uint64_t *g = &t->rng;
	uint64_t d, q;
	int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 16; i++)
		r->guid[i] = (uint8_t)rnd32(g);
	switch (rnd32(g) % 6) {
	case 0:
		r->timeout = 0;
		break;
	case 1:
		r->timeout = 1;
		break;
	case 2:
		r->timeout = 0xffffffffU;
		break;
	case 3:
		r->timeout = rnd32(g);
		break;
	default:
		r->timeout = DEF_TIMEOUT_MS;
		break;
	}
	if (rnd32(g) % 16 == 0)
		r->flags = rnd32(g) % 2 ? 1U << (rnd32(g) % 32) : rnd32(g);
	r->request_len = fz_len(g);
	r->response_len = fz_len(g);
	r->data_len = rnd32(g) % 3 ? fz_len(g) : 0;
	switch (rnd32(g) % 7) {
	case 0:
		r->data_valid = r->data_len;
		break;
	case 1:
		r->data_valid = r->data_len - 1;
		break;
	case 2:
		r->data_valid = r->data_len + 1;
		break;
	case 3:
		r->data_valid = r->data_len ? rnd32(g) % r->data_len : 0;
		break;
	case 4:
		r->data_valid = rnd32(g);
		break;
	default:
		r->data_valid = 0;
		break;
	}
	d = fz_ptr(t, fz_class(g), 0);
	q = fz_ptr(t, fz_class(g), d);
	r->data_buffer = d;
	r->request_buffer = q;
	r->response_buffer = fz_ptr(t, fz_class(g), rnd32(g) % 2 ? q : d);
	r->response.status = rnd32(g);
	r->response.response_len = rnd32(g);
}

static void fz_describe(const struct fz_thread *t, char *out, size_t n,
			int kind, unsigned long cmd, uint64_t arg,
			const struct az_blob_request_sync *r, int err, int pred)
{
	snprintf(out, n, "call %u kind %d cmd %#lx arg %#" PRIx64 ": flags %#x req %#" PRIx64 "+%u resp %#" PRIx64 "+%u data %#" PRIx64 "+%u valid %u (arena %#" PRIx64 ", ro %#" PRIx64 "): got %s, expected %s",
		 t->done, kind, cmd, arg, r->flags,
		 (uint64_t)r->request_buffer, r->request_len,
		 (uint64_t)r->response_buffer, r->response_len,
		 (uint64_t)r->data_buffer, r->data_len, r->data_valid,
		 ptr2u64(t->arena), ptr2u64(g_fz_ro), errname(err),
		 errname(pred));
}

/* Clip [a, a + len) to the arena; 0 if nothing is left. */
static int fz_clip(const struct fz_thread *t, uint64_t a, uint64_t len,
		   size_t *lo, size_t *hi)
{
	uint64_t ar = ptr2u64(t->arena), s = a, e = a + len;

	if (!len || e < s || e <= ar || s >= ar + FZ_ARENA)
		return 0;
	if (s < ar)
		s = ar;
	if (e > ar + FZ_ARENA)
		e = ar + FZ_ARENA;
	*lo = (size_t)(s - ar);
	*hi = (size_t)(e - ar);
	return 1;
}

/*
 * After a call the host answered: every byte of the call's neighbourhood
 * outside @allow (arena offsets) must hold what the thread left there.
 * Then put the canary back.
 */
static void fz_window(struct fz_thread *t, const struct az_blob_request_sync *r,
		      size_t allow[2][2], int nallow)
{
	size_t lo = FZ_ARENA, hi = 0, s, e, j;
	const uint64_t a[4] = { r->data_buffer, r->request_buffer,
				r->response_buffer, ptr2u64(t->wp) };
	const uint64_t l[4] = { r->data_len, r->request_len, r->response_len,
				t->wlen };
	int i, k;

	for (i = 0; i < 4; i++) {
		if (!fz_clip(t, a[i], l[i], &s, &e))
			continue;
		lo = s < lo ? s : lo;
		hi = e > hi ? e : hi;
	}
	if (lo >= hi)
		return;
	lo = lo > FZ_WIN ? lo - FZ_WIN : 0;
	hi = min_sz(hi + FZ_WIN, FZ_ARENA);
	for (j = lo; j < hi; j++) {
		uint8_t *p = t->arena + j, want;
		int skip = 0;

		for (k = 0; k < nallow; k++)
			if (j >= allow[k][0] && j < allow[k][1])
				skip = 1;
		if (skip)
			continue;
		if (t->wlen && p >= t->wp && p < t->wp + t->wlen)
			want = t->wbuf[p - t->wp];
		else
			want = fz_canary(t, p);
		if (*p != want) {
			if (!t->guard_bad++)
				snprintf(t->msg_guard, sizeof(t->msg_guard),
					 "call %u: arena+%#zx outside what the host may write changed: expected 0x%02x, got 0x%02x (req +%#" PRIx64 "/%u, resp +%#" PRIx64 "/%u, data +%#" PRIx64 "/%u)",
					 t->done, j, want, *p,
					 (uint64_t)r->request_buffer - ptr2u64(t->arena),
					 r->request_len,
					 (uint64_t)r->response_buffer - ptr2u64(t->arena),
					 r->response_len,
					 (uint64_t)r->data_buffer - ptr2u64(t->arena),
					 r->data_len);
			break;
		}
	}
	fz_restore(t, t->arena + lo, hi - lo);
}

static void fz_answer_bad(struct fz_thread *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fz_answer_bad(struct fz_thread *t, const char *fmt, ...)
{
	va_list ap;

	if (t->answer_bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(t->msg_answer, sizeof(t->msg_answer), fmt, ap);
	va_end(ap);
}

/*
 * A call that returned 0: check the host's answer against the header the
 * thread wrote (@op, 0 if none is known), and the bytes around it.
 */
static void fz_reached(struct fz_thread *t, const struct az_blob_request_sync *r,
		       uint32_t op)
{
	uint32_t st = r->response.status, rl = r->response.response_len;
	size_t allow[2][2];
	int n = 0;

	if (rl > r->response_len) {
		fz_answer_bad(t, "call %u: response_len %u above the buffer's %u",
			      t->done, rl, r->response_len);
		rl = r->response_len;
	}
	if (op) {
		uint32_t want = op == AZ_SIM_OP_ECHO ?
			(uint32_t)min_sz(r->request_len, r->response_len) :
			(uint32_t)min_sz(8, r->response_len);

		if (st || rl != want)
			fz_answer_bad(t, "call %u: op %u: expected status 0, response_len %u; got 0x%08x, %u",
				      t->done, op, want, st, rl);
	} else if (st == AZ_SIM_STATUS_BAD_REQUEST ? rl != 0 : st != 0) {
		fz_answer_bad(t, "call %u: no valid header: got status 0x%08x, response_len %u",
			      t->done, st, rl);
	}
	if (st == 0 && fz_clip(t, r->response_buffer, rl, &allow[n][0],
				&allow[n][1]))
		n++;
	if (st == 0 && (!op || op == AZ_SIM_OP_FILL) &&
	    fz_clip(t, r->data_buffer, r->data_len, &allow[n][0], &allow[n][1]))
		n++;
	fz_window(t, r, allow, n);
}

/* A request the host must answer exactly, its buffers apart. */
static void fz_structured(struct fz_thread *t)
{
	uint64_t *g = &t->rng;
	static const uint32_t ops[3] = {
		AZ_SIM_OP_ECHO, AZ_SIM_OP_FILL, AZ_SIM_OP_SUM,
	};
	uint32_t op = ops[rnd32(g) % 3], seed = rnd32(g);
	uint8_t *rq = t->arena + rnd32(g) % (40 * PG);
	uint8_t *rs = t->arena + 42 * PG + rnd32(g) % (40 * PG);
	uint8_t *dt = t->arena + 84 * PG + rnd32(g) % (26 * PG);
	size_t rl = 32 + rnd32(g) % (8192 - 32), sl = 1 + rnd32(g) % 8192;
	size_t dl = 0, dv = 0, n, i;
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t want[8];
	uint64_t v = 0;
	int err;

	if (op != AZ_SIM_OP_ECHO || rnd32(g) % 2)
		dl = 1 + rnd32(g) % 65536;
	if (dl)
		dv = rnd32(g) % (dl + 1);
	sim_hdr(&h, op, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
	fz_write(t, rq, &h, sizeof(h));
	if (op == AZ_SIM_OP_SUM)
		v = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, dt, dv);
	else if (op == AZ_SIM_OP_FILL)
		v = dl;
	memcpy(want, &v, sizeof(want));
	rq_init(&r, rq, rl, rs, sl, dl ? dt : NULL, dl, dv);
	t->structured++;
	err = blob_ioctl(t->fd, &r);
	t->hist[err < FZ_MAXERR ? err : FZ_MAXERR - 1]++;
	if (!fz_errno_documented(err) && !t->undocumented++)
		snprintf(t->msg_errno, sizeof(t->msg_errno),
			 "call %u: a valid request: %s", t->done, errname(err));
	if (err) {
		if (err != ENOMEM && err != EBUSY && !t->mispredicted++)
			snprintf(t->msg_pred, sizeof(t->msg_pred),
				 "call %u: a valid request (op %u, req %zu, resp %zu, data %zu/%zu): %s",
				 t->done, op, rl, sl, dv, dl, errname(err));
		fz_restore(t, t->wp, t->wlen);
		return;
	}
	t->reached++;
	n = op == AZ_SIM_OP_ECHO ? min_sz(rl, sl) : min_sz(8, sl);
	if (r.response.status || r.response.response_len != n) {
		fz_answer_bad(t, "call %u: op %u (req %zu, resp %zu, data %zu/%zu): status 0x%08x, response_len %u, expected 0, %zu",
			      t->done, op, rl, sl, dv, dl, r.response.status,
			      r.response.response_len, n);
	} else if (op == AZ_SIM_OP_ECHO ? memcmp(rs, rq, n) != 0 :
		   memcmp(rs, want, n) != 0) {
		fz_answer_bad(t, "call %u: op %u: wrong response bytes",
			      t->done, op);
	} else {
		for (i = 0; op == AZ_SIM_OP_FILL && i < dl; i++)
			if (dt[i] != az_sim_pattern(seed, i))
				break;
		if (op == AZ_SIM_OP_FILL && i < dl)
			fz_answer_bad(t, "call %u: fill of %zu bytes: byte %zu wrong",
				      t->done, dl, i);
		else
			t->struct_ok++;
	}
	fz_reached(t, &r, op);
}

static unsigned long fz_cmd(uint64_t *g)
{
	static const unsigned int types[] = { 'R', 'R', 'S', 0xb0 };
	unsigned long cmd;

	do {
		switch (rnd32(g) % 3) {
		case 0:
			cmd = _IOC(rnd32(g) % 4, 'R', 0xf0, rnd32(g) % (1 << 14));
			break;
		case 1:
			cmd = _IOC(_IOC_READ | _IOC_WRITE, 'R', rnd32(g) % 256,
				   sizeof(struct az_blob_request_sync));
			break;
		default:
			cmd = _IOC(rnd32(g) % 4, types[rnd32(g) % 4],
				   rnd32(g) % 256, rnd32(g) % (1 << 14));
			break;
		}
	} while (cmd == IOCTL_AZ_BLOB_DRIVER_USER_REQUEST);
	return cmd;
}

static void fz_one(struct fz_thread *t)
{
	unsigned long cmd = IOCTL_AZ_BLOB_DRIVER_USER_REQUEST;
	unsigned int dice = rnd32(&t->rng) % 1000;
	struct az_blob_request_sync r;
	uint64_t *g = &t->rng, arg;
	int kind = FK_RANDOM, pred, err;
	uint32_t op = 0;
	char msg[320];

	t->wp = NULL;
	t->wlen = 0;
	if (dice < 20) {
		fz_structured(t);
		return;
	}
	fz_random(t, &r);
	arg = ptr2u64(&r);
	if (dice < 40) {
		kind = FK_CMD;
		cmd = fz_cmd(g);
		if (rnd32(g) % 4 == 0)
			arg = fz_ptr(t, fz_class(g), 0);
	} else if (dice < 60) {
		kind = FK_BADARG;
		switch (rnd32(g) % 7) {
		case 0:
			arg = 0;
			break;
		case 1:
			arg = fz_ptr(t, C_HOLE, 0);
			break;
		case 2:
			arg = fz_ptr(t, C_PNONE, 0);
			break;
		case 3:
			arg = fz_ptr(t, C_KERNEL, 0);
			break;
		case 4:
			arg = fz_ptr(t, C_HIGH, 0);
			break;
		case 5:
			/* 40 bytes mapped, the rest in the hole. */
			fz_write(t, t->arena + FZ_ARENA - 40, &r, 40);
			arg = ptr2u64(t->arena + FZ_ARENA - 40);
			break;
		default:
			/* A good request the driver cannot answer into. */
			kind = FK_ROARG;
			arg = ptr2u64(g_fz_ro + 2048);
			break;
		}
	}
	if (sizeof(void *) < 8 && (arg >> 32))
		arg &= 0xffffffffU;	/* what a 32-bit caller can pass */

	if (kind == FK_RANDOM && fz_mapped(t, r.request_buffer, r.request_len, 1) &&
	    r.request_len >= sizeof(struct az_sim_req) && rnd32(g) % 5) {
		struct az_sim_req h;

		op = 1 + rnd32(g) % 3;
		op = op == 1 ? AZ_SIM_OP_ECHO : op == 2 ? AZ_SIM_OP_FILL :
		     AZ_SIM_OP_SUM;
		sim_hdr(&h, op, AZ_SIM_FAULT_NONE, 0, 0, rnd32(g), 0);
		fz_write(t, (uint8_t *)(uintptr_t)r.request_buffer, &h,
			 sizeof(h));
	} else if (kind == FK_RANDOM && r.request_buffer == ptr2u64(g_fz_ro) &&
		   r.request_len >= sizeof(struct az_sim_req)) {
		op = AZ_SIM_OP_ECHO;
	}

	if (kind == FK_CMD)
		pred = ENOTTY;
	else if (kind != FK_RANDOM)
		pred = EFAULT;
	else
		pred = fz_predict(t, &r);
	/* Keep the share that reaches the host small. */
	if (kind == FK_RANDOM && !pred && rnd32(g) % 100 >= FZ_KEEP_PCT) {
		r.flags = 1U << (rnd32(g) % 32);
		pred = EINVAL;
	}

	err = ioctl(t->fd, cmd, (void *)(uintptr_t)arg) ? errno : 0;
	t->hist[err < FZ_MAXERR ? err : FZ_MAXERR - 1]++;
	if (!fz_errno_documented(err) && !t->undocumented++)
		fz_describe(t, t->msg_errno, sizeof(t->msg_errno), kind, cmd,
			    arg, &r, err, pred);
	if (err != pred &&
	    !((err == ENOMEM || err == EBUSY) && (!pred || pred == EFAULT)) &&
	    !t->mispredicted++)
		fz_describe(t, t->msg_pred, sizeof(t->msg_pred), kind, cmd,
			    arg, &r, err, pred);
	if (kind == FK_ROARG && err == EFAULT)
		t->reached++;
	if (!err && kind == FK_RANDOM) {
		t->reached++;
		fz_reached(t, &r, op);
	} else if (!err) {
		fz_describe(t, msg, sizeof(msg), kind, cmd, arg, &r, err, pred);
		fz_answer_bad(t, "%s", msg);
	} else if (t->wlen) {
		fz_restore(t, t->wp, t->wlen);
	}
}

static void *fz_main(void *arg)
{
	struct fz_thread *t = arg;

	while (t->done < t->calls) {
		fz_one(t);
		__atomic_store_n(&t->done, t->done + 1, __ATOMIC_RELAXED);
		if (t->done % FZ_FULL_EVERY == 0)
			fz_full_check(t);
	}
	fz_full_check(t);
	return NULL;
}

/* @pages pages mapped @prot between two PROT_NONE pages. */
static uint8_t *fz_fenced(size_t pages, int prot, const void *src, size_t len)
{
	uint8_t *m = map_pages(pages + 2, PROT_READ | PROT_WRITE);

	if (!m)
		return NULL;
	memset(m + PG, 0, pages * PG);
	if (src)
		memcpy(m + PG, src, len);
	if (mprotect(m, PG, PROT_NONE) ||
	    mprotect(m + (pages + 1) * PG, PG, PROT_NONE) ||
	    mprotect(m + PG, pages * PG, prot)) {
		fail("mprotect: %s", strerror(errno));
		return NULL;
	}
	return m + PG;
}

static int fz_setup(struct fz_thread *t)
{
	uint8_t *m = map_pages(FZ_REGION_PAGES, PROT_READ | PROT_WRITE);
	size_t i;

	if (!m)
		return TEST_FAIL;
	t->region = m;
	t->guard_lo = m;
	t->pnone = m + PG;
	t->arena = m + 2 * PG;
	t->hole = t->arena + FZ_ARENA;
	t->guard_hi = t->hole + (FZ_HOLE_PAGES + 1) * PG;
	for (i = 0; i < FZ_REGION_PAGES * PG; i++)
		m[i] = canary(i);
	if (mprotect(t->pnone, PG, PROT_NONE) ||
	    mprotect(t->hole + FZ_HOLE_PAGES * PG, PG, PROT_NONE) ||
	    munmap(t->hole, FZ_HOLE_PAGES * PG))
		return fail("mprotect/munmap: %s", strerror(errno));
	return 0;
}

static void fz_progress(struct fz_thread *t, unsigned int nt, int64_t t0)
{
	unsigned int next = 1, i, sum;

	for (;;) {
		sum = 0;
		for (i = 0; i < nt; i++)
			sum += __atomic_load_n(&t[i].done, __ATOMIC_RELAXED);
		if (sum >= g_fz_total)
			return;
		if ((uint64_t)sum * 10 >= (uint64_t)g_fz_total * next) {
			while ((uint64_t)sum * 10 >= (uint64_t)g_fz_total * next)
				next++;
			printf("# fuzz: %u%%, %u calls in %.1f s\n",
			       (next - 1) * 10, sum,
			       (double)(now_ms() - t0) / 1000);
		}
		sleep_ms(200);
	}
}

static int fuzz(unsigned int calls)
{
	unsigned int nt = g_threads, i, e;
	struct fz_thread *t;
	struct az_blob_request_sync ro_req;
	struct az_sim_req h;
	unsigned long hist[FZ_MAXERR] = { 0 }, reached = 0, structured = 0;
	unsigned long struct_ok = 0, undoc = 0, mispred = 0, gbad = 0, abad = 0;
	const char *m_errno = NULL, *m_pred = NULL, *m_guard = NULL;
	const char *m_answer = NULL;
	struct dstats b, s;
	struct sstats s0;
	int have_s0 = g_sim > 0 && !sstats_read(&s0), shared, rc;
	char line[1024];
	size_t len;
	int64_t t0, ms;

	g_reason[0] = 0;
	if (calls < nt)
		nt = calls;
	g_fz_total = calls;
	shared = dev_open();
	if (shared < 0 || dstats_get(g_name, &b)) {
		report("fuzz_setup", TEST_FAIL);
		return summary();
	}
	g_fz_sink = fz_fenced(1, PROT_READ | PROT_WRITE, NULL, 0);
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	g_fz_ro = fz_fenced(1, PROT_READ | PROT_WRITE, &h, sizeof(h));
	if (!g_fz_sink || !g_fz_ro) {
		report("fuzz_setup", TEST_FAIL);
		return summary();
	}
	rq_init(&ro_req, g_fz_ro, sizeof(h), g_fz_sink, 64, NULL, 0, 0);
	memcpy(g_fz_ro + 2048, &ro_req, sizeof(ro_req));
	if (mprotect(g_fz_ro, PG, PROT_READ)) {
		fail("mprotect: %s", strerror(errno));
		report("fuzz_setup", TEST_FAIL);
		return summary();
	}
	t = xmalloc(nt * sizeof(*t));
	memset(t, 0, nt * sizeof(*t));
	for (i = 0; i < nt; i++) {
		t[i].fd = (i & 1) ? dev_open() : shared;
		t[i].calls = calls / nt + (i < calls % nt);
		t[i].rng = rnd64(&g_seed) | 1;
		if (t[i].fd < 0 || fz_setup(&t[i])) {
			report("fuzz_setup", TEST_FAIL);
			free(t);
			return summary();
		}
	}
	printf("# fuzz: %u calls on %u threads, seed %" PRIu64 "\n", calls, nt,
	       g_seed);
	t0 = now_ms();
	for (i = 0; i < nt; i++) {
		if (pthread_create(&t[i].th, NULL, fz_main, &t[i])) {
			fprintf(stderr, "az_blob_test: pthread_create failed\n");
			exit(2);
		}
	}
	if (calls >= 10000)
		fz_progress(t, nt, t0);
	for (i = 0; i < nt; i++)
		pthread_join(t[i].th, NULL);
	ms = now_ms() - t0;

	for (i = 0; i < nt; i++) {
		for (e = 0; e < FZ_MAXERR; e++)
			hist[e] += t[i].hist[e];
		reached += t[i].reached;
		structured += t[i].structured;
		struct_ok += t[i].struct_ok;
		undoc += t[i].undocumented;
		mispred += t[i].mispredicted;
		gbad += t[i].guard_bad;
		abad += t[i].answer_bad;
		if (!m_errno && t[i].undocumented)
			m_errno = t[i].msg_errno;
		if (!m_pred && t[i].mispredicted)
			m_pred = t[i].msg_pred;
		if (!m_guard && t[i].guard_bad)
			m_guard = t[i].msg_guard;
		if (!m_answer && t[i].answer_bad)
			m_answer = t[i].msg_answer;
	}
	len = (size_t)snprintf(line, sizeof(line), "# fuzz: %u calls in %.1f s (%.0f/s), %lu reached the host, errno histogram:",
			       calls, (double)ms / 1000,
			       ms ? (double)calls * 1000 / (double)ms : 0.0,
			       reached);
	for (e = 0; e < FZ_MAXERR && len < sizeof(line); e++)
		if (hist[e])
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						" %s %lu,", e ? errname((int)e) : "0",
						hist[e]);
	if (len < sizeof(line) && line[len - 1] == ',')
		line[len - 1] = 0;
	printf("%s\n", line);
	printf("# fuzz: %lu structured requests, %lu answered exactly\n",
	       structured, struct_ok);

	rc = undoc ? fail("%lu calls returned an undocumented errno, first: %s",
			  undoc, m_errno) : 0;
	report("fuzz_errnos_documented", rc);
	rc = mispred ? fail("%lu calls, first: %s", mispred, m_pred) : 0;
	report("fuzz_errnos_as_specified", rc);
	rc = abad ? fail("%lu calls, first: %s", abad, m_answer) : 0;
	report("fuzz_answers_correct", rc);
	rc = gbad ? fail("%lu calls, first: %s", gbad, m_guard) : 0;
	report("fuzz_guards_intact", rc);
	rc = dstats_get(g_name, &s);
	if (!rc && s.v[DS_SUBMITTED] - b.v[DS_SUBMITTED] != (long)reached)
		rc = fail("driver submitted %ld requests, the calls saw %lu reach the host",
			  s.v[DS_SUBMITTED] - b.v[DS_SUBMITTED], reached);
	report("fuzz_submitted_matches", rc);
	free(t);
	res_release_all();
	report("fuzz_nothing_pinned", wait_idle(g_name, 0, 0, 5000));
	report("fuzz_device_still_serves", echo_simple(g_dev, g_name));
	res_release_all();
	if (have_s0)
		report("fuzz_host_saw_no_violation", post_check(&s0));
	else
		report("fuzz_host_saw_no_violation",
		       fail("no simulator control interface") ? TEST_SKIP : 0);
	return summary();
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */
/* ------------------------------------------------------------------ */

static unsigned int g_lc_iters;

/* A request of the caller's on its own thread. */
static struct bg *bg_run(int fd, const struct az_blob_request_sync *r)
{
	struct bg *b = xmalloc(sizeof(*b));

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->r = *r;
	if (pthread_create(&b->th, NULL, bg_main, b)) {
		free(b);
		fail("pthread_create failed");
		return NULL;
	}
	return b;
}

/* Wait up to @ms until the driver has at least @n requests outstanding. */
static int wait_outstanding(long n, int ms)
{
	int64_t end = now_ms() + ms;
	long v;

	for (;;) {
		v = drv_stat("outstanding");
		if (v >= n)
			return 0;
		if (now_ms() > end)
			return fail("outstanding did not reach %ld within %d ms (got %ld)",
				    n, ms, v);
		sleep_ms(2);
	}
}

/* Join @b within 10 s or fail (the thread is then leaked). */
static int bg_join_ok(struct bg *b, const char *what)
{
	if (bg_join(b, now_ms() + 10000))
		return fail("%s: request still blocked 10 s later", what);
	return 0;
}

static int lc_kill_under_load(void)
{
	enum { K = 3 };
	unsigned int it, nnever = 0, ndelay = 0, early = 0;
	int64_t worst = 0;

	for (it = 0; it < g_lc_iters; it++) {
		const int never = g_sim > 0 && !(it & 1);
		uint32_t delay = never ? 0 : 200 + rnd32(&g_seed) % 301;
		pid_t pid[K];
		int status, i, n = 0, ret = 0;
		struct dstats s;
		int64_t t0, ms;

		fflush(stdout);
		for (i = 0; i < K; i++) {
			pid[i] = fork();
			if (pid[i] < 0)
				return fail("fork: %s", strerror(errno));
			if (!pid[i])
				child_submit(g_dev, never ? AZ_SIM_FAULT_NEVER : 0,
					     delay);
			n++;
		}
		ret = wait_outstanding(never ? K : 1, 5000);
		t0 = now_ms();
		for (i = 0; i < n; i++)
			kill(pid[i], SIGKILL);
		for (i = 0; i < n; i++) {
			if (reap(pid[i], &status, 2000)) {
				if (never)
					sim_ctl("release");
				reap(pid[i], &status, 10000);
				return fail("iteration %u: child not reaped 2 s after SIGKILL",
					    it);
			}
			if (WIFEXITED(status) && !never && !WEXITSTATUS(status)) {
				early++;	/* answered before the kill */
				continue;
			}
			if (!ret && (!WIFSIGNALED(status) ||
				     WTERMSIG(status) != SIGKILL))
				ret = fail("iteration %u: child status 0x%x, expected killed by SIGKILL",
					   it, status);
		}
		ms = now_ms() - t0;
		worst = ms > worst ? ms : worst;
		if (!ret)
			ret = dstats_get(g_name, &s);
		if (!ret && never &&
		    (s.v[DS_OUTSTANDING] != K || s.v[DS_PINNED] != 6 * K))
			ret = fail("iteration %u, after the kill: expected outstanding %d, pinned_pages %d (the host owns them); got %ld, %ld",
				   it, K, 6 * K, s.v[DS_OUTSTANDING],
				   s.v[DS_PINNED]);
		if (!ret && s.v[DS_PINNED] < 6 * s.v[DS_OUTSTANDING])
			ret = fail("iteration %u, after the kill: outstanding %ld but only %ld pages pinned",
				   it, s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
		if (!ret && never)
			ret = wait_sim(SS_HELD, K, 2000);
		if (never && sim_ctl("release") && !ret)
			ret = fail("release failed");
		if (!ret)
			ret = wait_idle(g_name, 0, 0, 5000);
		if (ret)
			return ret;
		if (never)
			nnever++;
		else
			ndelay++;
	}
	printf("# kill_under_load: %u rounds of %d children (%u held by the host, %u with a %s), %u answered before the kill, slowest reap %" PRId64 " ms\n",
	       g_lc_iters, K, nnever, ndelay, "200-500 ms delay", early, worst);
	return 0;
}

static int lc_close_fd_during_request(void)
{
	int64_t worst = 0;
	unsigned int it;

	for (it = 0; it < g_lc_iters; it++) {
		struct arena *a = arena_new(4);
		struct az_blob_request_sync r;
		struct az_sim_req h;
		struct span ok;
		struct bg *b;
		uint8_t *req, *resp;
		int fd, ret;

		if (!a)
			return TEST_FAIL;
		fd = open(g_dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return fail("open %s: %s", g_dev, strerror(errno));
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 300, 0, 0, 0);
		req = put_req(a, PG + 8 + it, 64, &h);
		resp = at(a, 2 * PG + 8);
		rq_init(&r, req, 64, resp, 128, NULL, 0, 0);
		b = bg_run(fd, &r);
		if (!b) {
			close(fd);
			return TEST_FAIL;
		}
		ret = wait_outstanding(1, 5000);
		close(fd);
		if (bg_join_ok(b, "ioctl whose fd was closed"))
			return TEST_FAIL;
		if (!ret && (expect_ok(b->err, &b->r, 0, 64) ||
			     cmp_bytes("response", resp, req, 64)))
			ret = fail("iteration %u: %s", it, g_reason);
		ok.p = resp;
		ok.len = 64;
		if (!ret)
			ret = arena_check(a, &ok, 1);
		worst = b->ms > worst ? b->ms : worst;
		bg_free(b);
		if (!ret)
			ret = wait_idle(g_name, 0, 0, 5000);
		res_release_all();
		if (ret)
			return ret;
	}
	printf("# close_fd_during_request: %u requests completed after their fd was closed, slowest %" PRId64 " ms\n",
	       g_lc_iters, worst);
	return 0;
}

static int lc_munmap_during_request(void)
{
	const size_t dpages = 16, dl = dpages * PG - 200;
	unsigned int it;

	for (it = 0; it < g_lc_iters; it++) {
		struct arena *a = arena_new(4);
		struct az_blob_request_sync r;
		struct az_sim_req h;
		struct bg *b;
		uint8_t *req, *resp, *d;
		int fd = dev_open(), ret;

		if (!a || fd < 0)
			return TEST_FAIL;
		d = mmap(NULL, dpages * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (d == MAP_FAILED)
			return fail("mmap: %s", strerror(errno));
		memset(d, 0x11, dpages * PG);
		sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 300, 0,
			rnd32(&g_seed), 0);
		req = put_req(a, PG + 8, sizeof(h), &h);
		resp = at(a, 2 * PG + 8);
		rq_init(&r, req, sizeof(h), resp, 8, d + 100, dl, 0);
		b = bg_run(fd, &r);
		if (!b) {
			munmap(d, dpages * PG);
			return TEST_FAIL;
		}
		ret = wait_outstanding(1, 5000);
		if (munmap(d, dpages * PG) && !ret)
			ret = fail("munmap: %s", strerror(errno));
		if (bg_join_ok(b, "FILL into an unmapped buffer"))
			return TEST_FAIL;
		if (!ret && expect_ok(b->err, &b->r, 0, 8))
			ret = fail("iteration %u: %s", it, g_reason);
		if (!ret && get_u64(resp) != dl)
			ret = fail("iteration %u: host says it wrote %" PRIu64 " bytes, expected %zu",
				   it, get_u64(resp), dl);
		bg_free(b);
		if (!ret)
			ret = wait_idle(g_name, 0, 0, 5000);
		res_release_all();
		if (ret)
			return ret;
	}
	printf("# munmap_during_request: %u FILLs of %zu bytes into buffers unmapped in flight\n",
	       g_lc_iters, dl);
	return 0;
}

static int lc_fork_during_request(void)
{
	const size_t dpages = 8, dl = dpages * PG - 100;
	unsigned int it;

	for (it = 0; it < g_lc_iters; it++) {
		struct arena *a = arena_new(4);
		struct az_blob_request_sync r;
		struct az_sim_req h;
		struct span ok[1];
		uint32_t seed = rnd32(&g_seed);
		struct bg *b;
		uint8_t *req, *resp, *d;
		int fd = dev_open(), ret, status;
		size_t i;
		pid_t pid;

		d = map_pages(dpages, PROT_READ | PROT_WRITE);
		if (!a || fd < 0 || !d)
			return TEST_FAIL;
		memset(d, 0x22, dpages * PG);
		sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 300, 0, seed, 0);
		req = put_req(a, PG + 8, sizeof(h), &h);
		resp = at(a, 2 * PG + 8);
		rq_init(&r, req, sizeof(h), resp, 8, d, dl, 0);
		b = bg_run(fd, &r);
		if (!b)
			return TEST_FAIL;
		ret = wait_outstanding(1, 5000);
		fflush(stdout);
		pid = fork();
		if (!pid)
			_exit(0);
		if (pid < 0 && !ret)
			ret = fail("fork: %s", strerror(errno));
		/*
		 * Write into every page the host is about to write: if fork
		 * left them copy-on-write, this write gives the parent new
		 * pages and the host's bytes land in the old ones.
		 */
		memset(d + dl, 0x5c, 100);
		{
			uint8_t x = 0x77;

			arena_put(a, at(a, 2 * PG + 2000), &x, 1);
			arena_put(a, at(a, PG + 2000), &x, 1);
		}
		if (pid > 0 && reap(pid, &status, 5000) && !ret)
			ret = fail("child not reaped");
		if (bg_join_ok(b, "request across fork"))
			return TEST_FAIL;
		if (!ret && expect_ok(b->err, &b->r, 0, 8))
			ret = fail("iteration %u: %s", it, g_reason);
		if (!ret && get_u64(resp) != dl)
			ret = fail("iteration %u: response %" PRIu64 ", expected %zu (response page lost to COW?)",
				   it, get_u64(resp), dl);
		for (i = 0; !ret && i < dl; i++)
			if (d[i] != az_sim_pattern(seed, i))
				ret = fail("iteration %u: data byte %zu (page %zu): expected 0x%02x, got 0x%02x: the parent lost the pinned page to COW",
					   it, i, (size_t)(i / PG), az_sim_pattern(seed, i),
					   d[i]);
		for (i = dl; !ret && i < dpages * PG; i++)
			if (d[i] != 0x5c)
				ret = fail("iteration %u: the parent's own byte %zu changed",
					   it, i);
		ok[0].p = resp;
		ok[0].len = 8;
		if (!ret)
			ret = arena_check(a, ok, 1);
		bg_free(b);
		if (!ret)
			ret = wait_idle(g_name, 0, 0, 5000);
		res_release_all();
		if (ret)
			return ret;
	}
	printf("# fork_during_request: %u FILLs of %zu bytes across a fork, parent wrote the same pages meanwhile\n",
	       g_lc_iters, dl);
	return 0;
}

/* Threads submitting echoes while the device comes and goes. */
enum { LM_UNBIND, LM_RESCIND, LM_SUSPEND };

struct lw {
	pthread_t th;
	int mode;
	uint64_t rng;
	unsigned long calls, ok, enodev, eagain, open_fail, bad;
	char err[256];
};

static pthread_mutex_t g_lc_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_lc_path[PATH_MAX];
static int g_lc_stop;
static char g_lc_vm[NAME_LEN * 2];	/* the VMBus device last unbound */

static void lw_bad(struct lw *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void lw_bad(struct lw *w, const char *fmt, ...)
{
	va_list ap;

	if (w->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

static void *lw_main(void *arg)
{
	struct lw *w = arg;
	char path[PATH_MAX];
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t *m;
	int fd = -1, e;

	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		lw_bad(w, "mmap: %s", strerror(errno));
		return NULL;
	}
	while (!__atomic_load_n(&g_lc_stop, __ATOMIC_RELAXED)) {
		if (fd < 0) {
			pthread_mutex_lock(&g_lc_lock);
			memcpy(path, g_lc_path, sizeof(path));
			pthread_mutex_unlock(&g_lc_lock);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				if (errno != ENOENT && errno != ENODEV &&
				    errno != ENXIO)
					lw_bad(w, "open %s: %s", path,
					       errname(errno));
				w->open_fail++;
				sleep_ms(5);
				continue;
			}
		}
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE,
			w->mode == LM_SUSPEND ? 0 : rnd32(&w->rng) % 20, 0, 0,
			0);
		memcpy(m, &h, sizeof(h));
		fill_payload(m + sizeof(h), 64 - sizeof(h), rnd32(&w->rng));
		memset(m + PG, 0, 64);
		rq_init(&r, m, 64, m + PG, 64, NULL, 0, 0);
		e = blob_ioctl(fd, &r);
		w->calls++;
		if (!e) {
			w->ok++;
			if (r.response.status || r.response.response_len != 64 ||
			    memcmp(m, m + PG, 64))
				lw_bad(w, "echo: status 0x%08x, response_len %u%s",
				       r.response.status,
				       r.response.response_len,
				       memcmp(m, m + PG, 64) ? ", wrong bytes" : "");
		} else if (e == ENODEV && w->mode != LM_SUSPEND) {
			w->enodev++;
			close(fd);
			fd = -1;
		} else if (e == EAGAIN && w->mode == LM_SUSPEND) {
			w->eagain++;
		} else {
			lw_bad(w, "ioctl: %s", errname(e));
			if (e == ENODEV) {
				close(fd);
				fd = -1;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	munmap(m, 2 * PG);
	return NULL;
}

static void lc_set_path(void)
{
	pthread_mutex_lock(&g_lc_lock);
	snprintf(g_lc_path, sizeof(g_lc_path), "%s", g_dev);
	pthread_mutex_unlock(&g_lc_lock);
}

/* The device is back as misc @name: make it the one under test. */
static void lc_new_device(const char *name)
{
	if (strcmp(name, g_name))
		printf("# device is now /dev/%s\n", name);
	set_device(name);
	lc_set_path();
}

/* One unbind/bind, rescind/offer or suspend cycle. */
static int lc_cycle(int mode, const char *drv, unsigned long *busy)
{
	char vm[NAME_LEN * 2], path[PATH_MAX + 16], name[NAME_LEN];
	char old[MAX_DEVS][NAME_LEN];
	int err, nold, created, idx;

	if (mode == LM_SUSPEND) {
		err = sim_ctl("suspend %d", cur_sim_idx());
		if (err == EBUSY)
			(*busy)++;
		else if (err)
			return fail("suspend %d: %s", cur_sim_idx(),
				    errname(err));
		sleep_ms(rnd32(&g_seed) % 50);
		return 0;
	}
	if (mode == LM_RESCIND) {
		idx = cur_sim_idx();
		err = sim_ctl("rescind %d", idx);
		if (err)
			return fail("rescind %d: %s", idx, errname(err));
		if (wait_misc_gone(g_name, 5000))
			return TEST_FAIL;
		sleep_ms(20 + rnd32(&g_seed) % 80);
		if (offer_device(name, &idx, &created))
			return TEST_FAIL;
		g_sim_idx = idx;
		lc_new_device(name);
		sleep_ms(100 + rnd32(&g_seed) % 200);
		return 0;
	}
	err = misc_vmname(g_name, vm, sizeof(vm));
	if (err)
		return fail("device link of %s: %s", g_name, strerror(err));
	snprintf(g_lc_vm, sizeof(g_lc_vm), "%s", vm);
	snprintf(path, sizeof(path), "%s/unbind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	if (wait_misc_gone(g_name, 5000))
		return TEST_FAIL;
	sleep_ms(20 + rnd32(&g_seed) % 80);
	nold = misc_list(old, MAX_DEVS);
	snprintf(path, sizeof(path), "%s/bind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	if (wait_new_misc(old, nold, name, 5000) || ensure_node(name, &created))
		return TEST_FAIL;
	lc_new_device(name);
	sleep_ms(100 + rnd32(&g_seed) % 200);
	return 0;
}

static int lc_loaded(int mode, const char *what)
{
	unsigned int nt = g_threads, i;
	unsigned long calls = 0, ok = 0, enodev = 0, eagain = 0, openf = 0;
	unsigned long busy = 0;
	char drv[PATH_MAX], path[PATH_MAX + 16];
	struct lw *w;
	int ret = 0;
	unsigned int it = 0;
	int64_t t0 = now_ms();

	if (mode != LM_UNBIND && g_sim <= 0) {
		fail("needs the simulator's control interface");
		return TEST_SKIP;
	}
	snprintf(path, sizeof(path), MISC_DIR "/%s/device/driver", g_name);
	if (mode == LM_UNBIND && !realpath(path, drv))
		return fail("realpath %s: %s", path, strerror(errno));
	lc_set_path();
	g_lc_vm[0] = 0;
	__atomic_store_n(&g_lc_stop, 0, __ATOMIC_RELAXED);
	w = xmalloc(nt * sizeof(*w));
	memset(w, 0, nt * sizeof(*w));
	for (i = 0; i < nt; i++) {
		w[i].mode = mode;
		w[i].rng = rnd64(&g_seed) | 1;
		if (pthread_create(&w[i].th, NULL, lw_main, &w[i])) {
			nt = i;
			ret = fail("pthread_create failed");
			break;
		}
	}
	sleep_ms(100);
	for (it = 0; !ret && it < g_lc_iters; it++)
		ret = lc_cycle(mode, drv, &busy);
	if (ret && mode == LM_UNBIND && g_lc_vm[0] && !misc_exists(g_name)) {
		/* Leave a bound device behind whatever happened. */
		snprintf(path, sizeof(path), "%s/bind", drv);
		write_text(path, g_lc_vm);
	}
	sleep_ms(100);
	__atomic_store_n(&g_lc_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nt; i++) {
		pthread_join(w[i].th, NULL);
		calls += w[i].calls;
		ok += w[i].ok;
		enodev += w[i].enodev;
		eagain += w[i].eagain;
		openf += w[i].open_fail;
		if (w[i].bad && !ret)
			ret = fail("thread %u: %lu bad calls, first: %s", i,
				   w[i].bad, w[i].err);
	}
	free(w);
	printf("# %s: %u cycles in %.1f s, %lu calls on %u threads: %lu ok, %lu ENODEV, %lu EAGAIN, %lu failed opens",
	       what, it, (double)(now_ms() - t0) / 1000, calls, nt, ok, enodev,
	       eagain, openf);
	if (mode == LM_SUSPEND)
		printf(", %lu suspends refused with EBUSY", busy);
	printf("\n");
	if (!ret && !ok)
		ret = fail("no request succeeded");
	if (!ret)
		ret = echo_simple(g_dev, g_name);
	return ret;
}

static int lc_unbind_bind_under_load(void)
{
	return lc_loaded(LM_UNBIND, "unbind_bind_under_load");
}

static int lc_rescind_offer_under_load(void)
{
	return lc_loaded(LM_RESCIND, "rescind_offer_under_load");
}

static int lc_suspend_resume_under_load(void)
{
	return lc_loaded(LM_SUSPEND, "suspend_resume_under_load");
}

static int lc_unload_while_open(void)
{
	char ref[32] = "?";
	unsigned int it;

	if (access("/sys/module/hv_azure_blob/refcnt", F_OK)) {
		fail("hv_azure_blob is not a loaded module");
		return TEST_SKIP;
	}
	for (it = 0; it < g_lc_iters; it++) {
		struct arena *a = arena_new(4);
		struct bg *b = NULL;
		int fd = dev_open(), ret = 0, e;

		if (!a || fd < 0)
			return TEST_FAIL;
		if (it & 1) {
			struct az_sim_req h;
			struct az_blob_request_sync r;

			sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 300, 0,
				0, 0);
			rq_init(&r, put_req(a, 3 * PG, 64, &h), 64,
				at(a, 3 * PG + 256), 64, NULL, 0, 0);
			b = bg_run(fd, &r);
			if (!b)
				return TEST_FAIL;
			ret = wait_outstanding(1, 5000);
		}
		read_text("/sys/module/hv_azure_blob/refcnt", ref, sizeof(ref));
		e = syscall(SYS_delete_module, "hv_azure_blob", O_NONBLOCK) ?
		    errno : 0;
		if (!e)
			return fail("iteration %u: delete_module(hv_azure_blob) succeeded with an fd open",
				    it);
		if (!ret && e != EWOULDBLOCK && e != EAGAIN && e != EBUSY)
			ret = fail("iteration %u: delete_module: expected EWOULDBLOCK or EBUSY, got %s",
				   it, errname(e));
		if (!ret)
			ret = echo_at(fd, b ? NULL : g_name, a, PG + 8, 100,
				      2 * PG + 8, 100, 0);
		if (b) {
			if (bg_join_ok(b, "request during delete_module"))
				return TEST_FAIL;
			if (!ret && expect_ok(b->err, &b->r, 0, 64))
				ret = TEST_FAIL;
			bg_free(b);
		}
		res_release_all();
		if (ret)
			return ret;
	}
	ref[strcspn(ref, "\n")] = 0;
	printf("# unload_while_open: %u refused unloads (module refcnt %s with the fd open), every other one with a request in flight\n",
	       g_lc_iters, ref);
	return 0;
}

static const struct test lc_tests[] = {
	{ "kill_under_load", lc_kill_under_load, 0, "SIGKILL callers with requests in flight" },
	{ "close_fd_during_request", lc_close_fd_during_request, 0, "close() while the ioctl waits" },
	{ "munmap_during_request", lc_munmap_during_request, 0, "munmap() the data buffer in flight" },
	{ "fork_during_request", lc_fork_during_request, 0, "fork() with pinned private pages" },
	{ "unbind_bind_under_load", lc_unbind_bind_under_load, 0, "sysfs unbind/bind under load" },
	{ "rescind_offer_under_load", lc_rescind_offer_under_load, NEEDS_SIM, "rescind/offer under load" },
	{ "unload_while_open", lc_unload_while_open, 0, "delete_module refused while open" },
	{ "suspend_resume_under_load", lc_suspend_resume_under_load, NEEDS_SIM, "suspend cycles under load" },
};

static int lifecycle(int argc, char **argv)
{
	size_t i;

	printf("# lifecycle: %u iterations per case, %u threads, seed %" PRIu64 "\n",
	       g_lc_iters, g_threads, g_seed);
	for (i = 0; i < sizeof(lc_tests) / sizeof(lc_tests[0]); i++) {
		const struct test *t = &lc_tests[i];
		struct sstats s0;
		int have_s0, rc;

		if (!selected(t->name, argc, argv))
			continue;
		g_reason[0] = 0;
		if ((t->flags & NEEDS_SIM) && g_sim <= 0) {
			fail("needs the simulator's control interface (" SIM_DIR ", -s)");
			report(t->name, TEST_SKIP);
			continue;
		}
		have_s0 = g_sim > 0 && !sstats_read(&s0);
		vlog("%s: %s", t->name, t->desc);
		rc = t->fn();
		res_release_all();
		if (rc == TEST_SKIP) {
			report(t->name, rc);
			continue;
		}
		if (rc) {
			char msg[sizeof(g_reason)];

			snprintf(msg, sizeof(msg), "%s", g_reason[0] ? g_reason :
				 "(no reason given)");
			if (g_sim > 0) {
				sim_ctl("hang 0");
				sim_ctl("release");
			}
			settle_check(have_s0 ? &s0 : NULL);
			snprintf(g_reason, sizeof(g_reason), "%s", msg);
		} else {
			rc = settle_check(have_s0 ? &s0 : NULL);
		}
		report(t->name, rc);
	}
	return summary();
}

/* ------------------------------------------------------------------ */
/* failinject                                                          */
/* ------------------------------------------------------------------ */

#define FI_ROOT		"/sys/kernel/debug"
#define FI_MAX		(1U << 20)
#define FI_AREA		(FI_MAX + 2 * PG)

static const char *const fi_fac[2] = { "failslab", "fail_page_alloc" };

/* Attributes set for the run, in this order; probability last. */
static const struct {
	const char *key, *val;
	int page_only;
} fi_attr[] = {
	{ "task-filter", "Y", 0 },
	{ "ignore-gfp-wait", "N", 0 },
	{ "ignore-gfp-highmem", "N", 1 },
	{ "min-order", "0", 1 },
	{ "verbose", "0", 0 },
	{ "space", "0", 0 },
	{ "interval", "1", 0 },
	{ "times", "100000", 0 },
	{ "probability", "20", 0 },
};

#define FI_NATTR	(sizeof(fi_attr) / sizeof(fi_attr[0]))

static char fi_saved[2][FI_NATTR][64];

static int fi_write(int f, const char *key, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), FI_ROOT "/%s/%s", fi_fac[f], key);
	return write_text(path, val);
}

static long fi_times(int f)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), FI_ROOT "/%s/times", fi_fac[f]);
	if (read_text(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 0);
}

static int fi_setup(void)
{
	char path[PATH_MAX];
	size_t i;
	int f, err;

	for (f = 0; f < 2; f++) {
		for (i = 0; i < FI_NATTR; i++) {
			fi_saved[f][i][0] = 0;
			if (fi_attr[i].page_only && f == 0)
				continue;
			snprintf(path, sizeof(path), FI_ROOT "/%s/%s",
				 fi_fac[f], fi_attr[i].key);
			if (read_text(path, fi_saved[f][i], sizeof(fi_saved[f][i])))
				fi_saved[f][i][0] = 0;
			fi_saved[f][i][strcspn(fi_saved[f][i], "\n")] = 0;
		}
	}
	for (f = 0; f < 2; f++) {
		for (i = 0; i < FI_NATTR; i++) {
			if (fi_attr[i].page_only && f == 0)
				continue;
			err = fi_write(f, fi_attr[i].key, fi_attr[i].val);
			if (err)
				return fail("writing %s to " FI_ROOT "/%s/%s: %s",
					    fi_attr[i].val, fi_fac[f],
					    fi_attr[i].key, errname(err));
		}
	}
	return 0;
}

static void fi_restore(void)
{
	size_t i;
	int f;

	for (f = 0; f < 2; f++)
		fi_write(f, "probability", "0");
	for (f = 0; f < 2; f++)
		for (i = 0; i < FI_NATTR; i++)
			if (fi_saved[f][i][0])
				fi_write(f, fi_attr[i].key, fi_saved[f][i]);
}

/* The file that makes this thread's allocations fail, opened once. */
static int fi_open_self(void)
{
	char path[64];
	int fd = open("/proc/thread-self/make-it-fail", O_WRONLY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/make-it-fail",
		 (long)syscall(SYS_gettid));
	return open(path, O_WRONLY | O_CLOEXEC);
}

static int failinject(unsigned int iters)
{
	unsigned long nok = 0, nnomem = 0, nfault = 0, nother = 0, nbad = 0;
	long before[2], after[2];
	char first_err[256] = "", first_bad[256] = "";
	struct sstats s0;
	int have_s0, fd, mf, rc, f;
	uint8_t *m, *rqa, *rsa, *dta;
	unsigned int it;
	size_t i;
	int64_t t0;

	if (access(FI_ROOT "/failslab", F_OK) ||
	    access(FI_ROOT "/fail_page_alloc", F_OK)) {
		printf("skip failinject: kernel has no fault injection (" FI_ROOT "/failslab, fail_page_alloc)\n");
		g_nskip++;
		return summary();
	}
	have_s0 = g_sim > 0 && !sstats_read(&s0);
	fd = dev_open();
	m = map_pages(3 * FI_AREA / PG, PROT_READ | PROT_WRITE);
	mf = fi_open_self();
	if (fd < 0 || !m || mf < 0) {
		if (mf < 0)
			fail("open /proc/thread-self/make-it-fail: %s",
			     strerror(errno));
		report("failinject_setup", TEST_FAIL);
		return summary();
	}
	track(RES_FD, mf, NULL, 0);
	/* Every page faulted in now: pinning must not need to allocate. */
	rqa = m;
	rsa = m + FI_AREA;
	dta = m + 2 * FI_AREA;
	fill_payload(m, 3 * FI_AREA, 0x3c);
	if (fi_setup()) {
		fi_restore();
		report("failinject_setup", TEST_FAIL);
		return summary();
	}
	for (f = 0; f < 2; f++)
		before[f] = fi_times(f);
	printf("# failinject: %u requests, probability %s%% per allocation in the submitting thread\n",
	       iters, fi_attr[FI_NATTR - 1].val);

	t0 = now_ms();
	for (it = 0; it < iters; it++) {
		static const uint32_t ops[3] = {
			AZ_SIM_OP_ECHO, AZ_SIM_OP_FILL, AZ_SIM_OP_SUM,
		};
		uint32_t op = ops[rnd32(&g_seed) % 3], seed = rnd32(&g_seed);
		size_t cap = rnd32(&g_seed) % 2 ? 16384 : FI_MAX;
		uint8_t *rq = rqa + rnd32(&g_seed) % PG;
		uint8_t *rs = rsa + rnd32(&g_seed) % PG;
		uint8_t *dt = dta + rnd32(&g_seed) % PG;
		size_t rl = sizeof(struct az_sim_req), sl = 8, dl = 0, dv = 0;
		size_t n = 8;
		struct az_blob_request_sync r;
		struct az_sim_req h;
		uint64_t want = 0;
		int e;

		if (op == AZ_SIM_OP_ECHO) {
			rl = 32 + rnd32(&g_seed) % (cap - 31);
			sl = 1 + rnd32(&g_seed) % cap;
			n = min_sz(rl, sl);
		} else {
			dl = 1 + rnd32(&g_seed) % cap;
			if (op == AZ_SIM_OP_SUM) {
				dv = rnd32(&g_seed) % (dl + 1);
				want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, dt, dv);
			} else {
				want = dl;
			}
		}
		sim_hdr(&h, op, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
		memcpy(rq, &h, sizeof(h));
		memset(rs, 0xe7, sl);
		rq_init(&r, rq, rl, rs, sl, dl ? dt : NULL, dl, dv);

		if (pwrite(mf, "1", 1, 0) != 1) {
			fail("enabling make-it-fail: %s", strerror(errno));
			break;
		}
		e = blob_ioctl(fd, &r);
		if (pwrite(mf, "0", 1, 0) != 1) {
			fail("disabling make-it-fail: %s", strerror(errno));
			break;
		}

		if (e == ENOMEM) {
			nnomem++;
			continue;
		}
		if (e) {
			if (e == EFAULT)
				nfault++;
			else
				nother++;
			if (!first_err[0])
				snprintf(first_err, sizeof(first_err),
					 "request %u (op %u, req %zu, resp %zu, data %zu): %s",
					 it, op, rl, sl, dl, errname(e));
			continue;
		}
		nok++;
		if (r.response.status || r.response.response_len != n) {
			snprintf(first_bad, sizeof(first_bad), "request %u: status 0x%08x, response_len %u, expected 0, %zu",
				 it, r.response.status,
				 r.response.response_len, n);
			nbad++;
		} else if (op == AZ_SIM_OP_ECHO ? memcmp(rs, rq, n) != 0 :
			   get_u64(rs) != want) {
			snprintf(first_bad, sizeof(first_bad), "request %u: op %u: wrong response",
				 it, op);
			nbad++;
		} else if (op == AZ_SIM_OP_FILL) {
			for (i = 0; i < dl; i++)
				if (dt[i] != az_sim_pattern(seed, i))
					break;
			if (i < dl) {
				snprintf(first_bad, sizeof(first_bad), "request %u: fill of %zu bytes: byte %zu wrong",
					 it, dl, i);
				nbad++;
			}
		}
		/* Ours again for the next request. */
		fill_payload(rq, rl, 0x3c);
	}
	for (f = 0; f < 2; f++) {
		fi_write(f, "probability", "0");
		after[f] = fi_times(f);
	}
	fi_restore();
	rc = g_reason[0] ? TEST_FAIL : 0;
	printf("# failinject: %u calls in %.1f s, %lu ok, %lu ENOMEM, %lu EFAULT, %lu other; failslab injected %ld, fail_page_alloc injected %ld\n",
	       it, (double)(now_ms() - t0) / 1000, nok, nnomem, nfault, nother,
	       before[0] - after[0], before[1] - after[1]);

	if (!rc && (nfault || nother))
		rc = fail("%lu calls failed with another errno than ENOMEM, first: %s",
			  nfault + nother, first_err);
	report("failinject_errnos", rc);
	report("failinject_answers_correct",
	       nbad ? fail("%lu wrong answers, first: %s", nbad, first_bad) : 0);
	rc = 0;
	if (before[0] < 0 || after[0] < 0 || before[1] < 0 || after[1] < 0)
		rc = fail("cannot read the facilities' times");
	else if (before[0] == after[0] && before[1] == after[1])
		rc = fail("no allocation failure was injected: the test proved nothing");
	report("failinject_injected", rc);
	if (!nnomem)
		printf("# failinject: no call saw ENOMEM\n");
	res_release_all();
	report("failinject_nothing_pinned", wait_idle(g_name, 0, 0, 5000));
	report("failinject_device_still_serves", echo_simple(g_dev, g_name));
	res_release_all();
	if (have_s0)
		report("failinject_host_saw_no_violation", post_check(&s0));
	return summary();
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: az_blob_test [options] [TEST...]\n"
"       az_blob_test [-d PATH] demo\n"
"       az_blob_test [-d PATH] [-n CALLS] [-t THREADS] [-r SEED] fuzz\n"
"       az_blob_test [-d PATH] [-n ITER] [-t THREADS] lifecycle [CASE...]\n"
"       az_blob_test [-d PATH] [-n ITER] failinject\n"
"\n"
"Tests the Azure Blob VMBus driver (hv_azure_blob) through /dev/azure_blob\n"
"against the simulated host az_blob_sim.ko. Each test prints 'ok NAME',\n"
"'FAIL NAME: reason' or 'skip NAME: reason'; the last line is\n"
"'N passed, M failed[, K skipped]'. The exit status is 0 when none failed.\n"
"TEST is a name, a prefix or a glob (quote it: 'fill*'); none means all.\n"
"\n"
"Options:\n"
"  -d PATH   device node (default /dev/azure_blob)\n"
"  -l        list the tests and exit\n"
"  -t N      threads for threads_mixed, fuzz, lifecycle (default 4)\n"
"  -n N      requests per thread for threads_mixed (default 200); calls\n"
"            or iterations of a subcommand\n"
"  -s        run the tests that need the simulator's control interface\n"
"            (default: when " SIM_DIR " exists)\n"
"  -S        also run slow tests (suspend_busy, about 10 s)\n"
"  -r SEED   random seed (default: from the clock; printed with -v)\n"
"  -v        verbose: what each test does, simulator commands\n"
"  -h, --help  this text\n"
"\n"
"demo        a few requests explained step by step (echo, fill 1 MiB,\n"
"            checksum, host status, host timeout): start here\n"
"\n"
"Suites run as subcommands; each prints 'ok NAME' / 'FAIL NAME: why' /\n"
"'skip NAME: why' per check, '#' lines with figures, and the same last line:\n"
"\n"
"fuzz [-n CALLS] [-t THREADS] [-r SEED]\n"
"            random ioctls (default 1000000 calls on 4 threads): every field\n"
"            random or at a boundary, buffers valid, NULL, unmapped, partly\n"
"            mapped, read-only, kernel, wrapping or overlapping; wrong ioctl\n"
"            numbers and bad argument pointers; about 3%% reach the host.\n"
"            Each errno must be documented and the one the ABI specifies,\n"
"            answers exact, canary bytes intact; afterwards the device must\n"
"            serve, nothing be pinned, the host have seen no violation\n"
"lifecycle [-n ITER] [-t THREADS] [CASE...]\n"
"            each case ITER times (default 20): kill_under_load,\n"
"            close_fd_during_request, munmap_during_request,\n"
"            fork_during_request, unbind_bind_under_load,\n"
"            rescind_offer_under_load, unload_while_open,\n"
"            suspend_resume_under_load; after each the driver must be idle\n"
"failinject [-n ITER]\n"
"            ITER requests (default 2000, up to 1 MiB) with failslab and\n"
"            fail_page_alloc failing 20%% of the submitting thread's\n"
"            allocations: each must succeed exactly or fail with ENOMEM;\n"
"            skipped on a kernel without fault injection\n"
"\n"
"Needs root, debugfs at /sys/kernel/debug (driver counters under\n"
DRV_DBG_DIR "/<device>/stats). After every test the driver must hold\n"
"no request and no pinned page, and the simulator must have seen no\n"
"protocol violation. Tests that remove devices bring one back.\n");
}

static int parse_uint(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v == 0 || v > 100000000UL)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* The misc name of the node @path (via its dev_t), else its basename. */
static void resolve_name(const char *path)
{
	char link[PATH_MAX], sys[64];
	const char *base;
	struct stat st;
	ssize_t n;
	size_t len;

	base = strrchr(path, '/');
	copy_str(g_name, sizeof(g_name), base ? base + 1 : path);
	if (!stat(path, &st) && S_ISCHR(st.st_mode)) {
		snprintf(sys, sizeof(sys), "/sys/dev/char/%u:%u",
			 major(st.st_rdev), minor(st.st_rdev));
		n = readlink(sys, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			base = strrchr(link, '/');
			copy_str(g_name, sizeof(g_name),
				 base ? base + 1 : link);
		}
	}
	len = strlen(g_name);
	while (len && g_name[len - 1] >= '0' && g_name[len - 1] <= '9')
		len--;
	snprintf(g_prefix, sizeof(g_prefix), "%.*s", (int)len, g_name);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, passed = 0, failed = 0, skipped = 0, any = 0, idx;
	int seed_set = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "d:lt:n:sSr:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			snprintf(g_dev, sizeof(g_dev), "%s", optarg);
			break;
		case 'l':
			for (i = 0; i < NTESTS; i++)
				printf("%-24s %s%s%s\n", tests[i].name,
				       tests[i].desc,
				       tests[i].flags & NEEDS_SIM ? " [sim]" : "",
				       tests[i].flags & SLOW ? " [slow]" : "");
			return 0;
		case 't':
			if (parse_uint(optarg, &g_threads) || g_threads > 256) {
				fprintf(stderr, "az_blob_test: bad -t '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_uint(optarg, &g_iters)) {
				fprintf(stderr, "az_blob_test: bad -n '%s'\n", optarg);
				return 2;
			}
			g_iters_set = 1;
			break;
		case 's':
			g_sim = 1;
			break;
		case 'S':
			g_slow = 1;
			break;
		case 'r':
			g_seed = strtoull(optarg, NULL, 0);
			seed_set = 1;
			break;
		case 'v':
			g_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	if (!seed_set)
		g_seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^
			 (uint64_t)getpid();
	if (!g_seed)
		g_seed = 1;
	resolve_name(g_dev);
	if (g_sim < 0)
		g_sim = !access(SIM_DIR, F_OK);
	if (g_sim > 0) {
		idx = sim_idx_of(g_name);
		g_sim_idx = idx >= 0 ? idx : 0;
	}

	if (argc && !strcmp(argv[0], "demo"))
		return demo();
	if (argc && !strcmp(argv[0], "fuzz"))
		return fuzz(g_iters_set ? g_iters : 1000000);
	if (argc && !strcmp(argv[0], "lifecycle")) {
		g_lc_iters = g_iters_set ? g_iters : 20;
		for (c = 1; c < argc; c++) {
			int hit = 0;

			for (i = 0; i < sizeof(lc_tests) / sizeof(lc_tests[0]); i++)
				hit |= selected(lc_tests[i].name, 1, &argv[c]);
			if (!hit) {
				fprintf(stderr, "az_blob_test: no lifecycle case matches '%s'\n",
					argv[c]);
				return 2;
			}
		}
		return lifecycle(argc - 1, argv + 1);
	}
	if (argc && !strcmp(argv[0], "failinject"))
		return failinject(g_iters_set ? g_iters : 2000);

	for (c = 0; c < argc; c++) {
		int hit = 0;

		for (i = 0; i < NTESTS; i++)
			hit |= selected(tests[i].name, 1, &argv[c]);
		if (!hit) {
			fprintf(stderr, "az_blob_test: no test matches '%s' (-l lists them)\n",
				argv[c]);
			return 2;
		}
	}
	vlog("device %s (misc %s), simulator control %s, sim device %d, seed %" PRIu64,
	     g_dev, g_name, g_sim > 0 ? "yes" : "no", g_sim_idx, g_seed);

	for (i = 0; i < NTESTS; i++) {
		const struct test *t = &tests[i];
		int rc;

		if (!selected(t->name, argc, argv))
			continue;
		any = 1;
		if ((t->flags & NEEDS_SIM) && g_sim <= 0) {
			printf("skip %s: needs the simulator's control interface (" SIM_DIR ", -s)\n",
			       t->name);
			skipped++;
			continue;
		}
		if ((t->flags & SLOW) && !g_slow) {
			printf("skip %s: slow, run with -S\n", t->name);
			skipped++;
			continue;
		}
		rc = run_test(t);
		if (rc == TEST_OK) {
			printf("ok %s\n", t->name);
			passed++;
		} else if (rc == TEST_SKIP) {
			printf("skip %s: %s\n", t->name, g_reason);
			skipped++;
		} else {
			printf("FAIL %s: %s\n", t->name, g_reason);
			failed++;
		}
	}
	if (!any)
		fprintf(stderr, "az_blob_test: no test selected\n");
	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed,
		       skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
