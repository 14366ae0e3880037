// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's requests (harness.h): arenas with guard bytes, building
 * and sending requests, the common request patterns and requests on
 * background threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "harness.h"

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

/* ------------------------------------------------------------------ */
/* Requests on background threads                                      */
/* ------------------------------------------------------------------ */

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
