// SPDX-License-Identifier: GPL-2.0
/*
 * The harness the az_blob_test suites share (harness.h): reporting,
 * resources released after each test, arenas, requests, the driver's and
 * the simulator's state, misc devices, background requests and the runner.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct run_state run = {
	.dev = "/dev/azure_blob",
	.sim = -1,
	.threads = 4,
	.iters = 200,
};

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

int fail(const char *fmt, ...)
{
	va_list ap;

	if (!run.reason[0]) {
		va_start(ap, fmt);
		vsnprintf(run.reason, sizeof(run.reason), fmt, ap);
		va_end(ap);
	}
	return TEST_FAIL;
}

void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!run.verbose)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

const char *errname(int e)
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

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Copy @src into @dst of @n bytes, truncating; always NUL-terminated. */
void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "az_blob_test: out of memory\n");
		exit(2);
	}
	return p;
}

/* Read a small file into @buf, NUL-terminated. Returns 0 or an errno. */
int read_text(const char *path, char *buf, size_t size)
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
int write_text(const char *path, const char *s)
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

struct res {
	int kind;
	int fd;
	void *p;
	size_t len;
};

static struct res g_res[256];
static int g_nres;
static pthread_mutex_t g_res_lock = PTHREAD_MUTEX_INITIALIZER;

void track(int kind, int fd, void *p, size_t len)
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

void res_release_all(void)
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
void *map_pages(size_t pages, int prot)
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

static int dev_open_path(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fail("open %s: %s", path, strerror(errno));
	track(RES_FD, fd, NULL, 0);
	return fd;
}

int dev_open(void)
{
	return dev_open_path(run.dev);
}

/* ------------------------------------------------------------------ */
/* Arenas: buffers surrounded by canary bytes                          */
/* ------------------------------------------------------------------ */

struct arena *arena_alloc(size_t pages)
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

void arena_free(struct arena *a)
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
struct arena *arena_new(size_t pages)
{
	struct arena *a = arena_alloc(pages);

	if (a)
		track(RES_ARENA, -1, a, 0);
	return a;
}

void arena_put(struct arena *a, void *dst, const void *src, size_t len)
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

int arena_check(struct arena *a, const struct span *allowed, int n)
{
	char msg[256];

	if (arena_diff(a, allowed, n, msg, sizeof(msg)))
		return fail("%s", msg);
	return 0;
}

int cmp_bytes(const char *what, const uint8_t *got, const uint8_t *exp,
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

void sim_hdr(struct az_sim_req *h, uint32_t op, uint32_t fault,
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

void fill_payload(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed + (i >> 7));
}

/* Build a request of @len bytes at @off: @h, then a payload pattern. */
uint8_t *put_req(struct arena *a, size_t off, size_t len,
		 const struct az_sim_req *h)
{
	uint8_t *tmp = xmalloc(len);

	fill_payload(tmp, len, (uint32_t)off ^ 0x5a);
	memcpy(tmp, h, min_sz(len, sizeof(*h)));
	arena_put(a, at(a, off), tmp, len);
	free(tmp);
	return at(a, off);
}

void rq_init(struct az_blob_request_sync *r, const void *req,
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
int blob_ioctl(int fd, struct az_blob_request_sync *r)
{
	if (ioctl(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, r))
		return errno;
	return 0;
}

int expect_ok(int err, const struct az_blob_request_sync *r,
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

/* ------------------------------------------------------------------ */
/* Driver and simulator state                                          */
/* ------------------------------------------------------------------ */

static const char *const ds_keys[DS_N] = {
	"outstanding", "pinned_pages", "submitted", "completed", "abandoned",
	"unknown_id", "bad_packet", "failed", "not_completion", "ring_full",
};

/* VMBus device name behind misc device @misc. */
int misc_vmname(const char *misc, char *out, size_t n)
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
		/* The newer counters may be missing (an older driver). */
		if (s->v[i] < 0 && i < DS_FAILED)
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
int dstats_get(const char *misc, struct dstats *s)
{
	int err = dstats_read(misc, s);

	if (err)
		return fail("cannot read driver stats of %s: %s", misc,
			    strerror(err));
	return 0;
}

/* One counter of the device under test, or -1. */
long drv_stat(const char *key)
{
	struct dstats s;
	int i;

	if (dstats_read(run.name, &s))
		return -1;
	for (i = 0; i < DS_N; i++)
		if (!strcmp(key, ds_keys[i]))
			return s.v[i];
	return -1;
}

/*
 * Wait up to 2 s until the counters of @misc moved by @want[i] since @b
 * (ANY: not checked), then compare. Completions may be counted just after
 * the ioctl returned (a duplicate comes after the right one).
 */
int check_want(const char *misc, const struct dstats *b, const long *want)
{
	int64_t end = now_ms() + 2000;
	struct dstats s;
	int i;

	for (i = 0; i < DS_N; i++)
		if (want[i] != ANY && b->v[i] < 0)
			return fail("counter %s: not in the driver's stats",
				    ds_keys[i]);
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

int check_deltas(const char *misc, const struct dstats *b, long sub,
		 long comp, long aband, long unk, long bad)
{
	const long want[DS_N] = { ANY, ANY, sub, comp, aband, unk, bad,
				  ANY, ANY, ANY };

	return check_want(misc, b, want);
}

/* The counters of the reworked driver: failed, not_completion, ring_full. */
int check_deltas2(const char *misc, const struct dstats *b, long failed,
		  long not_comp, long ring_full)
{
	const long want[DS_N] = { ANY, ANY, ANY, ANY, ANY, ANY, ANY,
				  failed, not_comp, ring_full };

	return check_want(misc, b, want);
}

/* Wait up to @ms for outstanding == @out and pinned_pages == @pin. */
int wait_idle(const char *misc, long out, long pin, int ms)
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

const char *const ss_keys[SS_N] = {
	"requests", "completions", "violations", "bad_requests", "held",
	"ring_full", "open_channels", "devices", "misuse", "unpinned_writes",
	"late_answers", "late_writes", "late_unpinned", "dups_armed",
	"dups_sent", "rescind_after_commit", "race_consumed", "race_deferred",
	"open_failures", "cut", "dropped", "ring_errors", "rqstor_full",
};

int sstats_read(struct sstats *s)
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
	s->last_misuse[0] = 0;
	p = strstr(buf, "last_misuse ");
	if (p) {
		p += strlen("last_misuse ");
		snprintf(s->last_misuse, sizeof(s->last_misuse), "%.*s",
			 (int)strcspn(p, "\n"), p);
	}
	return 0;
}

int sstats_get(struct sstats *s)
{
	int err = sstats_read(s);

	if (err)
		return fail("cannot read " SIM_DIR "/stats: %s", strerror(err));
	return 0;
}

int wait_sim(int key, long val, int ms)
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
int sim_ctl(const char *fmt, ...)
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

int sim_ctl_ok(const char *cmd)
{
	int err = sim_ctl("%s", cmd);

	if (err)
		return fail("writing '%s' to " SIM_DIR "/control: %s", cmd,
			    errname(err));
	return 0;
}

int sim_channels(struct chan *c, int max)
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

/* The channel line of simulator device @idx. */
int sim_chan_of(int idx, struct chan *out)
{
	struct chan ch[MAX_DEVS];
	int n, i;

	n = sim_channels(ch, MAX_DEVS);
	if (n < 0)
		return fail("reading " SIM_DIR "/channel: %s", strerror(-n));
	for (i = 0; i < n; i++) {
		if (ch[i].idx == idx) {
			*out = ch[i];
			return 0;
		}
	}
	return fail("no channel line for simulator device %d", idx);
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
int sim_idx_of(const char *misc)
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

int cur_sim_idx(void)
{
	int idx = sim_idx_of(run.name);

	return idx >= 0 ? idx : run.sim_idx;
}

/* ------------------------------------------------------------------ */
/* Misc devices and their nodes                                        */
/* ------------------------------------------------------------------ */

void set_device(const char *name)
{
	snprintf(run.name, sizeof(run.name), "%s", name);
	snprintf(run.dev, sizeof(run.dev), "/dev/%s", name);
}

int misc_exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MISC_DIR "/%s", name);
	return !access(path, F_OK);
}

/* Misc devices named run.prefix or run.prefix<digits>. */
int misc_list(char names[][NAME_LEN], int max)
{
	size_t plen = strlen(run.prefix);
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(MISC_DIR);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		const char *p = de->d_name + plen;

		if (strncmp(de->d_name, run.prefix, plen))
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
int wait_new_misc(char old[][NAME_LEN], int nold, char *out, int ms)
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
				    run.prefix, ms);
		sleep_ms(50);
	}
}

int wait_misc_gone(const char *name, int ms)
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
int ensure_node(const char *name, int *created)
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

/* Bring a new device up with "offer"; its misc name and sim index out. */
int offer_device(char *name, int *idx, int *created)
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

/* The VMBus device behind the device under test and its driver's dir. */
int device_driver(char *vm, size_t vmlen, char *drv, size_t drvlen)
{
	char path[PATH_MAX], real[PATH_MAX];
	int err;

	err = misc_vmname(run.name, vm, vmlen);
	if (err)
		return fail("device link of %s: %s", run.name, strerror(err));
	snprintf(path, sizeof(path), MISC_DIR "/%s/device/driver", run.name);
	if (!realpath(path, real))
		return fail("realpath %s: %s", path, strerror(errno));
	copy_str(drv, drvlen, real);
	return 0;
}

/* Unbind VMBus device @vm from driver dir @drv; its misc device goes. */
int device_unbind(const char *vm, const char *drv)
{
	char path[PATH_MAX + 16];
	int err;

	snprintf(path, sizeof(path), "%s/unbind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	return wait_misc_gone(run.name, 5000);
}

/* Bind @vm again and make its new misc device the one under test. */
int device_bind(const char *vm, const char *drv)
{
	char path[PATH_MAX + 16], old[MAX_DEVS][NAME_LEN], name[NAME_LEN];
	int err, nold, created;

	nold = misc_list(old, MAX_DEVS);
	snprintf(path, sizeof(path), "%s/bind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	if (wait_new_misc(old, nold, name, 5000) || ensure_node(name, &created))
		return TEST_FAIL;
	if (strcmp(name, run.name))
		printf("# device is now /dev/%s\n", name);
	set_device(name);
	if (run.sim > 0)
		run.sim_idx = cur_sim_idx();
	return 0;
}

/* Unbind and bind the device under test through sysfs. */
int device_rebind(void)
{
	char vm[NAME_LEN * 2], drv[PATH_MAX];

	if (device_driver(vm, sizeof(vm), drv, sizeof(drv)) ||
	    device_unbind(vm, drv))
		return TEST_FAIL;
	return device_bind(vm, drv);
}

/*
 * Rescind the device under test (its requests end with ENODEV at once,
 * the host holds nothing after a rescind), offer a new one and make it
 * the device under test.
 */
int device_rescind_reoffer(void)
{
	char name[NAME_LEN];
	int idx = cur_sim_idx(), err, created;

	err = sim_ctl("rescind %d", idx);
	if (err && err != ENODEV)
		return fail("rescind %d: %s", idx, errname(err));
	if (wait_misc_gone(run.name, 5000))
		return TEST_FAIL;
	if (offer_device(name, &idx, &created))
		return TEST_FAIL;
	if (strcmp(name, run.name))
		printf("# device is now /dev/%s (simulator device %d)\n", name,
		       idx);
	set_device(name);
	run.sim_idx = idx;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Common request patterns                                             */
/* ------------------------------------------------------------------ */

/*
 * Echo @req_len bytes at arena offset @roff into a @resp_len buffer at
 * @soff; check status, length, bytes, guards and @misc's counters.
 */
int echo_at(int fd, const char *misc, struct arena *a, size_t roff,
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
int echo_simple(const char *path, const char *misc)
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

int vbase_init(struct vbase *v)
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
		run.reason[0] = 0;
		return fail("the unmodified base request failed: %s, status 0x%08x",
			    errname(err), r.response.status);
	}
	return 0;
}

static void *bg_main(void *arg)
{
	struct bg *b = arg;

	if (b->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(b->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			b->cpu = -2;	/* the caller checks */
	}
	b->t_start = now_ms();
	b->err = blob_ioctl(b->fd, &b->r);
	b->t_end = now_ms();
	b->ms = b->t_end - b->t_start;
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int bg_done(const struct bg *b)
{
	return __atomic_load_n(&b->done, __ATOMIC_ACQUIRE);
}

/* Start an echo of 64 bytes with @fault/@delay, timeout @timeout. */
struct bg *bg_start(int fd, uint32_t fault, uint32_t delay,
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
	b->cpu = -1;
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

/* A request of the caller's on its own thread, pinned to @cpu if >= 0. */
struct bg *bg_run_cpu(int fd, const struct az_blob_request_sync *r, int cpu)
{
	struct bg *b = xmalloc(sizeof(*b));

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->cpu = cpu;
	b->r = *r;
	if (pthread_create(&b->th, NULL, bg_main, b)) {
		free(b);
		fail("pthread_create failed");
		return NULL;
	}
	return b;
}

struct bg *bg_run(int fd, const struct az_blob_request_sync *r)
{
	return bg_run_cpu(fd, r, -1);
}

/*
 * Join by @deadline (now_ms()); -1 if the thread still runs then (it may
 * be joined later; if never, bg_free() leaks it).
 */
int bg_join(struct bg *b, int64_t deadline)
{
	struct timespec ts;
	int64_t left = deadline - now_ms();

	if (b->joined)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (left < 0)
		left = 0;
	ts.tv_sec += (time_t)(left / 1000);
	ts.tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(b->th, NULL, &ts))
		return -1;
	b->joined = 1;
	return 0;
}

/* Free @b; a thread still in its ioctl keeps @b (leaked, not freed). */
void bg_free(struct bg *b)
{
	if (!b->joined) {
		if (!bg_done(b)) {
			fprintf(stderr, "az_blob_test: a request thread still waits; leaking it\n");
			return;
		}
		pthread_join(b->th, NULL);
	}
	arena_free(b->a);
	free(b);
}

/*
 * Join @b within @ms. If its ioctl has not returned by then, fail with
 * "@what: ..." and end it: "release" (a held request), then a rescind and
 * a new device (with the simulator) or an unbind and bind (without), which
 * end every request with ENODEV. Returns 0 when it returned in time;
 * TEST_FAIL otherwise, with the thread joined if the rescue worked (b->done
 * set), else left running (then @b must be leaked, not freed).
 */
int bg_wait(struct bg *b, int ms, const char *what)
{
	if (!bg_join(b, now_ms() + ms))
		return 0;
	fail("%s: the ioctl has not returned %d ms later", what, ms);
	if (run.sim > 0) {
		sim_cleanup();
		if (!bg_join(b, now_ms() + 2000))
			return TEST_FAIL;
		vlog("%s: still waiting after release: rescinding", what);
		device_rescind_reoffer();
	} else {
		device_rebind();
	}
	if (bg_join(b, now_ms() + STUCK_MS))
		fprintf(stderr, "az_blob_test: %s: a request cannot be ended\n",
			what);
	return TEST_FAIL;
}

/*
 * The ioctl with a deadline: on its own thread, joined within @ms (see
 * bg_wait()). *@err and @r's response as the ioctl left them.
 */
int ioctl_bounded(int fd, struct az_blob_request_sync *r, int ms,
		  const char *what, int *err)
{
	struct bg *b = bg_run(fd, r);
	int ret;

	if (!b)
		return TEST_FAIL;
	ret = bg_wait(b, ms, what);
	if (!bg_done(b))
		return TEST_FAIL;	/* leaked: it may still write b->r */
	*err = b->err;
	r->response = b->r.response;
	bg_free(b);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Callers that go away                                                */
/* ------------------------------------------------------------------ */

/* Child of killed_caller: submit a request the host holds, never return. */
void child_submit(const char *dev, uint32_t fault, uint32_t delay)
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
int reap(pid_t pid, int *status, int ms)
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

/* ------------------------------------------------------------------ */
/* The runner                                                          */
/* ------------------------------------------------------------------ */

/* What must hold after every test. */
int post_check(const struct sstats *s0)
{
	static const int zero[] = {
		SS_VIOLATIONS, SS_MISUSE, SS_UNPINNED_WRITES, SS_RING_ERRORS,
	};
	struct sstats s;
	size_t i;

	if (!misc_exists(run.name))
		return fail("post: device %s is gone", run.name);
	if (wait_idle(run.name, 0, 0, 2000)) {
		char msg[sizeof(run.reason)];

		snprintf(msg, sizeof(msg), "%s", run.reason);
		run.reason[0] = 0;
		return fail("post: %s", msg);
	}
	if (!s0)
		return 0;
	if (wait_sim(SS_HELD, 0, 2000)) {
		run.reason[0] = 0;
		return fail("post: the simulator still holds requests");
	}
	if (sstats_get(&s))
		return TEST_FAIL;
	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		int k = zero[i];

		if (s.v[k] == s0->v[k])
			continue;
		return fail("post: simulator %s %+ld%s%s%s", ss_keys[k],
			    s.v[k] - s0->v[k],
			    k == SS_VIOLATIONS || k == SS_MISUSE ? " (last: " : "",
			    k == SS_VIOLATIONS ? s.last_violation :
			    k == SS_MISUSE ? s.last_misuse : "",
			    k == SS_VIOLATIONS || k == SS_MISUSE ? ")" : "");
	}
	if (s.v[SS_DUPS_ARMED])
		return fail("post: the simulator still keeps %ld REUSED_ID copies",
			    s.v[SS_DUPS_ARMED]);
	return 0;
}

/* After a failed test: nothing held, stalled or armed on the host. */
void sim_cleanup(void)
{
	int idx = cur_sim_idx();

	if (run.sim <= 0)
		return;
	sim_ctl("hang 0");
	sim_ctl("stall %d 0", idx);
	sim_ctl("rescind_on_send %d off", idx);
	sim_ctl("fail_open %d 0", idx);
	sim_ctl("release");
}

/* /dev/kmsg from now on, or -1. */
int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Fail if the kernel complained since kmsg_open(): a warning, a BUG, a
 * refcount or list corruption report, a sanitizer, simulator misuse.
 */
int kmsg_check(int fd)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "refcount_t:", "list_add corruption",
		"list_del corruption", "general protection", "UBSAN", "KASAN",
		"driver misuse", "Call Trace", "kernel BUG",
	};
	char rec[2048], *msg;
	ssize_t n;
	size_t i;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strstr(msg, bad[i]))
				return fail("kernel log: %s", msg);
	}
	return 0;
}

int run_test(const struct test *t)
{
	struct sstats s0;
	int have_s0, rc, post, kmsg;

	run.reason[0] = 0;
	have_s0 = run.sim > 0 && !sstats_read(&s0);
	kmsg = kmsg_open();
	vlog("%s: %s", t->name, t->desc);
	rc = t->fn();
	res_release_all();
	if (rc == TEST_SKIP) {
		if (kmsg >= 0)
			close(kmsg);
		return rc;
	}
	if (rc && !run.reason[0])
		fail("(no reason given)");
	if (rc) {
		char msg[sizeof(run.reason)];

		/* Leave nothing held, stalled or armed for the next test. */
		sim_cleanup();
		/* Still wait for the driver to settle, reason unchanged. */
		snprintf(msg, sizeof(msg), "%s", run.reason);
		post_check(have_s0 ? &s0 : NULL);
		/* A kernel complaint is worth knowing next to the reason. */
		run.reason[0] = 0;
		if (kmsg_check(kmsg))
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 "; %s", run.reason);
		snprintf(run.reason, sizeof(run.reason), "%s", msg);
		if (kmsg >= 0)
			close(kmsg);
		return rc;
	}
	post = post_check(have_s0 ? &s0 : NULL);
	if (!post)
		post = kmsg_check(kmsg);
	if (kmsg >= 0)
		close(kmsg);
	return post ? TEST_FAIL : TEST_OK;
}

int selected(const char *name, int argc, char **argv)
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

/* Print the line of check @name for @rc (run.reason for a reason). */
void report(const char *name, int rc)
{
	if (rc == TEST_OK) {
		printf("ok %s\n", name);
		run.npass++;
	} else if (rc == TEST_SKIP) {
		printf("skip %s: %s\n", name, run.reason);
		run.nskip++;
	} else {
		if (!run.reason[0])
			fail("(no reason given)");
		printf("FAIL %s: %s\n", name, run.reason);
		run.nfail++;
	}
	run.reason[0] = 0;
}

int summary(void)
{
	if (run.nskip)
		printf("%d passed, %d failed, %d skipped\n", run.npass, run.nfail,
		       run.nskip);
	else
		printf("%d passed, %d failed\n", run.npass, run.nfail);
	return run.nfail ? 1 : 0;
}
