// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: random ioctls; each errno must be documented and the one the ABI
 * specifies, answers exact, canary bytes around every buffer intact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"
#include "suites.h"

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
/* The kernel's TASK_SIZE_MAX: where its access_ok() ends user space. */
static uint64_t g_fz_user_max;

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

/*
 * What the driver must answer to @r, from the ABI alone. The data buffer
 * must be writable unless flags has AZ_BLOB_DATA_HOST_READS.
 */
static int fz_predict(const struct fz_thread *t,
		      const struct az_blob_request_sync *r)
{
	const uint64_t a[3] = { r->data_buffer, r->request_buffer,
				r->response_buffer };
	const uint32_t l[3] = { r->data_len, r->request_len, r->response_len };
	const int w[3] = { !(r->flags & AZ_BLOB_DATA_HOST_READS), 0, 1 };
	uint64_t pages = 0;
	int i, ok = 1;

	if ((r->flags & ~AZ_BLOB_FLAGS_ALL) || !r->request_len ||
	    !r->response_len ||
	    r->data_valid > r->data_len || !r->request_buffer ||
	    !r->response_buffer || (r->data_len && !r->data_buffer))
		return EINVAL;
	for (i = 0; i < 3; i++)
		if (l[i] > AZ_BLOB_MAX_LEN)
			return E2BIG;
	for (i = 0; i < 3; i++) {
		if (!l[i])
			continue;
		/* Wrapping, or not a user address (access_ok()). */
		if (a[i] + l[i] < a[i] || a[i] + l[i] > g_fz_user_max)
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
	else if (rnd32(g) % 8 == 0)
		r->flags = AZ_BLOB_DATA_HOST_READS;
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

/*
 * A request the host must answer exactly, its buffers apart. Some SUMs are
 * uploads (AZ_BLOB_DATA_HOST_READS), half of them from the read-only page.
 */
static void fz_structured(struct fz_thread *t)
{
	uint64_t *g = &t->rng;
	static const uint32_t ops[3] = {
		AZ_SIM_OP_ECHO, AZ_SIM_OP_FILL, AZ_SIM_OP_SUM,
	};
	uint32_t op = ops[rnd32(g) % 3], seed = rnd32(g), flags = 0;
	uint8_t *rq = t->arena + rnd32(g) % (40 * PG);
	uint8_t *rs = t->arena + 42 * PG + rnd32(g) % (40 * PG);
	uint8_t *dt = t->arena + 84 * PG + rnd32(g) % (26 * PG);
	size_t rl = 32 + rnd32(g) % (8192 - 32), sl = 1 + rnd32(g) % 8192;
	size_t dl = 0, dv = 0, n, i, off;
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t want[8];
	uint64_t v = 0;
	int err;

	if (op != AZ_SIM_OP_ECHO || rnd32(g) % 2)
		dl = 1 + rnd32(g) % 65536;
	if (op == AZ_SIM_OP_SUM && rnd32(g) % 2) {
		flags = AZ_BLOB_DATA_HOST_READS;
		if (rnd32(g) % 2) {
			off = rnd32(g) % PG;
			dt = g_fz_ro + off;
			dl = 1 + rnd32(g) % (PG - off);
		}
	}
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
	r.flags = flags;
	t->structured++;
	err = blob_ioctl(t->fd, &r);
	t->hist[err < FZ_MAXERR ? err : FZ_MAXERR - 1]++;
	if (!fz_errno_documented(err) && !t->undocumented++)
		snprintf(t->msg_errno, sizeof(t->msg_errno),
			 "call %u: a valid request: %s", t->done, errname(err));
	if (err) {
		if (err != ENOMEM && err != EBUSY && !t->mispredicted++)
			snprintf(t->msg_pred, sizeof(t->msg_pred),
				 "call %u: a valid request (op %u, flags %#x, req %zu, resp %zu, data %zu/%zu): %s",
				 t->done, op, flags, rl, sl, dv, dl, errname(err));
		fz_restore(t, t->wp, t->wlen);
		return;
	}
	t->reached++;
	n = op == AZ_SIM_OP_ECHO ? min_sz(rl, sl) : min_sz(8, sl);
	if (r.response.status || r.response.response_len != n) {
		fz_answer_bad(t, "call %u: op %u (flags %#x, req %zu, resp %zu, data %zu/%zu): status 0x%08x, response_len %u, expected 0, %zu",
			      t->done, op, flags, rl, sl, dv, dl,
			      r.response.status, r.response.response_len, n);
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

		/*
		 * An upload's data buffer is pinned read-only (it may be the
		 * read-only page): the host must not write it, so no FILL.
		 */
		op = 1 + rnd32(g) % 3;
		if (r.flags & AZ_BLOB_DATA_HOST_READS && op == 2)
			op = 3;
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
	/* Keep the share that reaches the host small: an undefined flag. */
	if (kind == FK_RANDOM && !pred && rnd32(g) % 100 >= FZ_KEEP_PCT) {
		r.flags = 1U << (1 + rnd32(g) % 31);
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

/*
 * TASK_SIZE_MAX of an x86-64 kernel, for 64-bit and 32-bit callers alike:
 * 2^56 - 4096 with 5-level paging (the kernel shows "la57" only then),
 * else 2^47 - 4096.
 */
static uint64_t fz_task_size_max(void)
{
	static char buf[65536];

	if (!read_text("/proc/cpuinfo", buf, sizeof(buf)) &&
	    strstr(buf, " la57"))
		return (1ULL << 56) - 4096;
	return (1ULL << 47) - 4096;
}

int fuzz(unsigned int calls)
{
	unsigned int nt = run.threads, i, e;
	struct fz_thread *t;
	struct az_blob_request_sync ro_req;
	struct az_sim_req h;
	unsigned long hist[FZ_MAXERR] = { 0 }, reached = 0, structured = 0;
	unsigned long struct_ok = 0, undoc = 0, mispred = 0, gbad = 0, abad = 0;
	const char *m_errno = NULL, *m_pred = NULL, *m_guard = NULL;
	const char *m_answer = NULL;
	struct dstats b, s;
	struct sstats s0;
	int have_s0 = run.sim > 0 && !sstats_read(&s0), shared, rc;
	char line[1024];
	size_t len;
	int64_t t0, ms;

	run.reason[0] = 0;
	if (calls < nt)
		nt = calls;
	g_fz_total = calls;
	g_fz_user_max = fz_task_size_max();
	shared = dev_open();
	if (shared < 0 || dstats_get(run.name, &b)) {
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
		t[i].rng = rnd64(&run.seed) | 1;
		if (t[i].fd < 0 || fz_setup(&t[i])) {
			report("fuzz_setup", TEST_FAIL);
			free(t);
			return summary();
		}
	}
	printf("# fuzz: %u calls on %u threads, seed %" PRIu64 "\n", calls, nt,
	       run.seed);
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
	rc = dstats_get(run.name, &s);
	if (!rc && s.v[DS_SUBMITTED] - b.v[DS_SUBMITTED] != (long)reached)
		rc = fail("driver submitted %ld requests, the calls saw %lu reach the host",
			  s.v[DS_SUBMITTED] - b.v[DS_SUBMITTED], reached);
	report("fuzz_submitted_matches", rc);
	free(t);
	res_release_all();
	report("fuzz_nothing_pinned", wait_idle(run.name, 0, 0, 5000));
	report("fuzz_device_still_serves", echo_simple(run.dev, run.name));
	res_release_all();
	if (have_s0)
		report("fuzz_host_saw_no_violation", post_check(&s0));
	else
		report("fuzz_host_saw_no_violation",
		       fail("no simulator control interface") ? TEST_SKIP : 0);
	return summary();
}
