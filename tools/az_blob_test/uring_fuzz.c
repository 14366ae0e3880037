// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring SQE fuzzer: the uring_fuzz subcommand, and uring_fuzz_short
 * (3000 commands) as one test of the table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"
#include "uring.h"
#include "uring_test.h"

/* ------------------------------------------------------------------ */
/* The SQE fuzzer                                                      */
/* ------------------------------------------------------------------ */

/*
 * Random SQEs, one thread, up to 32 in flight. Each slot has a region of
 * its own (64 pages between PROT_NONE pages, one more registered buffer
 * per 8 slots), so a host writing one command's buffers never touches
 * another's request. Fields: cmd_op (mostly the right one), uring_cmd_flags
 * (mostly 0, FIXED, any bit), buf_index, __pad1, IOSQE_ASYNC, and the
 * payload's lengths, flags, timeout and addresses (valid, NULL, unmapped,
 * PROT_NONE, read-only, kernel, high, across the region's end). Every res
 * must be 0 or a documented -errno; a command valid in every field must
 * succeed with status 0; afterwards nothing is in flight or pinned and
 * the device serves.
 */
#define UF_SLOTS	32
#define UF_PAGES	64

struct uf_state {
	struct uring u;
	int fd;
	uint8_t *region;		/* UF_SLOTS x (UF_PAGES + 1) pages */
	uint8_t *ro;			/* a read-only page */
	uint64_t g;
	int busy[UF_SLOTS];
	int valid[UF_SLOTS];		/* must succeed */
	int want[UF_SLOTS];		/* must fail with this (0: any) */
	unsigned long hist[160], bad_res, bad_valid, bad_want, ok;
	char msg_res[200], msg_valid[200], msg_want[200];
};

static uint8_t *uf_slot(struct uf_state *s, int i)
{
	return s->region + (size_t)i * (UF_PAGES + 1) * PG;
}

static int uf_documented(int res)
{
	int e = -res;

	return !res || e == EINVAL || e == E2BIG || e == EFAULT ||
	       e == ENOMEM || e == EBUSY || e == ENOTTY || e == EOPNOTSUPP;
}

static uint64_t uf_ptr(struct uf_state *s, uint8_t *slot, int *valid)
{
	static const uint64_t odd[] = {
		0, 0xffff888000000000ULL, 0xffffffff81000000ULL, ~0ULL - 10,
		1ULL << 47, 0xfffff000ULL, 4096, 1,
	};
	uint32_t k = rnd32(&s->g) % 16;

	if (k < 11)
		return ptr2u64(slot + rnd32(&s->g) % (UF_PAGES * PG));
	*valid = 0;
	if (k == 11)
		return ptr2u64(slot + UF_PAGES * PG + rnd32(&s->g) % PG);
	if (k == 12)
		return ptr2u64(s->ro + rnd32(&s->g) % PG);
	return odd[rnd32(&s->g) % (sizeof(odd) / sizeof(odd[0]))];
}

static uint32_t uf_len(struct uf_state *s, int *valid)
{
	static const uint32_t b[] = {
		0, 1, 63, 64, 4096, 4097, 65536, AZ_BLOB_MAX_LEN,
		AZ_BLOB_MAX_LEN + 1, 0xffffffffU,
	};
	uint32_t k = rnd32(&s->g) % 8;

	if (k < 6)
		return 1 + rnd32(&s->g) % (8 * PG);
	*valid = 0;
	return b[rnd32(&s->g) % (sizeof(b) / sizeof(b[0]))];
}

/* [a, a + len) inside [lo, hi), without wrapping. */
static int uf_inside(uint64_t a, uint64_t len, uint64_t lo, uint64_t hi)
{
	return a >= lo && a <= hi && len <= hi - a;
}

static void uf_fill(struct uf_state *s, int i, struct io_uring_sqe *sqe)
{
	uint8_t *slot = uf_slot(s, i);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint64_t lo, hi;
	uint32_t k;
	int valid = 1, want = 0, fixed = 0, tbad;

	memset(&r, 0, sizeof(r));
	r.request_len = uf_len(s, &valid);
	r.response_len = uf_len(s, &valid);
	r.data_len = rnd32(&s->g) % 3 ? 0 : uf_len(s, &valid);
	r.data_valid = r.data_len && rnd32(&s->g) % 2 ?
		       (uint32_t)(rnd32(&s->g) % ((uint64_t)r.data_len + 1)) : 0;
	if (rnd32(&s->g) % 20 == 0) {
		r.data_valid = r.data_len + 1 + rnd32(&s->g) % 10;
		valid = 0;
	}
	r.request_buffer = uf_ptr(s, slot, &valid);
	r.response_buffer = uf_ptr(s, slot, &valid);
	r.data_buffer = r.data_len || rnd32(&s->g) % 2 ?
			uf_ptr(s, slot, &valid) : 0;
	/* Everything inside the slot, or it is not valid. */
	lo = ptr2u64(slot);
	hi = ptr2u64(slot + UF_PAGES * PG);
	if (!uf_inside(r.request_buffer, r.request_len, lo, hi) ||
	    !uf_inside(r.response_buffer, r.response_len, lo, hi) ||
	    (r.data_len && !uf_inside(r.data_buffer, r.data_len, lo, hi)))
		valid = 0;
	r.timeout = 1000 + rnd32(&s->g) % 20000;
	k = rnd32(&s->g) % 20;
	if (k == 0)
		r.timeout = 0;
	else if (k == 1)
		r.timeout = AZ_BLOB_URING_MAX_TIMEOUT + 1 + rnd32(&s->g) % 1000;
	else if (k == 2)
		r.timeout = rnd32(&s->g);
	tbad = r.timeout == 0 || r.timeout > AZ_BLOB_URING_MAX_TIMEOUT;
	r.flags = rnd32(&s->g) % 10 ? 0 : rnd32(&s->g) % 4;
	if (r.flags & ~AZ_BLOB_FLAGS_ALL)
		valid = 0;
	if (r.flags && r.data_len)
		valid = 0;	/* host-reads data need not be writable: no prediction */
	for (k = 0; k < 16; k++)
		r.guid[k] = (uint8_t)rnd32(&s->g);
	/* The header the host reads: an op answered at once, never a fault. */
	sim_hdr(&h, AZ_SIM_OP_ECHO + rnd32(&s->g) % 5, 0, 0,
		rnd32(&s->g) % 4 ? 0 : SIM_HOST_ERROR, rnd32(&s->g), 0);
	/*
	 * An upload's data buffer is pinned read-only (memory never written
	 * is the shared zero page then): the host must not write it, so no
	 * FILL, as in fuzz.c.
	 */
	if ((r.flags & AZ_BLOB_DATA_HOST_READS) && h.op == AZ_SIM_OP_FILL)
		h.op = AZ_SIM_OP_SUM;
	if (uf_inside(r.request_buffer, sizeof(h), lo, hi))
		memcpy((void *)(uintptr_t)r.request_buffer, &h, sizeof(h));
	/* Only an ECHO with its whole header has a known status (0). */
	if (r.request_len < sizeof(h) || h.status || h.op != AZ_SIM_OP_ECHO)
		valid = valid ? 2 : 0;	/* res 0, status not checked */

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = s->fd;
	sqe->user_data = (uint64_t)i;
	memcpy((uint8_t *)sqe + U_CMD_OFF, &r, sizeof(r));
	k = rnd32(&s->g) % 100;
	sqe->cmd_op = AZ_BLOB_URING_CMD_REQUEST;
	if (k < 5) {
		sqe->cmd_op = rnd32(&s->g);
	} else if (k < 8) {
		sqe->cmd_op = IOCTL_AZ_BLOB_DRIVER_USER_REQUEST;
	}
	if (sqe->cmd_op != AZ_BLOB_URING_CMD_REQUEST)
		valid = 0;
	k = rnd32(&s->g) % 100;
	if (k < 15) {
		sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
		sqe->buf_index = (uint16_t)(rnd32(&s->g) % 8 ? (uint32_t)i / 8 :
					   rnd32(&s->g));
		fixed = 1;
	} else if (k < 20) {
		sqe->uring_cmd_flags = rnd32(&s->g) | 2;
		want = EINVAL;
		valid = 0;
	}
	if (fixed && sqe->buf_index != i / 8)
		valid = 0;
	if (rnd32(&s->g) % 50 == 0) {
		sqe->__pad1 = rnd32(&s->g) | 1;
		valid = 0;
	}
	if (rnd32(&s->g) % 4 == 0)
		sqe->flags = IOSQE_ASYNC;
	/* Valid but for the timeout: EINVAL, whatever the ring. */
	if (valid && !want && tbad)
		want = EINVAL;
	s->valid[i] = tbad ? 0 : valid;
	s->want[i] = want;
}

static void uf_reap(struct uf_state *s, const struct ur_cqe *c)
{
	int i = (int)c->user_data, e = c->res < 0 ? -c->res : 0;

	if (i < 0 || i >= UF_SLOTS || !s->busy[i]) {
		if (!s->bad_res++)
			snprintf(s->msg_res, sizeof(s->msg_res),
				 "CQE for slot %d, which has no command", i);
		return;
	}
	s->busy[i] = 0;
	s->hist[e < 160 ? e : 0]++;
	if (!uf_documented(c->res) && !s->bad_res++)
		snprintf(s->msg_res, sizeof(s->msg_res),
			 "res %d (%s) is not documented", c->res, errname(e));
	if (s->valid[i] && (c->res ||
	    (s->valid[i] == 1 && AZ_BLOB_CQE_STATUS(c->big0))) && !s->bad_valid++)
		snprintf(s->msg_valid, sizeof(s->msg_valid),
			 "a command valid in every field: res %d (%s), status 0x%08x",
			 c->res, errname(e), AZ_BLOB_CQE_STATUS(c->big0));
	if (s->want[i] && c->res != -s->want[i] && !s->bad_want++)
		snprintf(s->msg_want, sizeof(s->msg_want),
			 "expected -%s, got %d (%s)", errname(s->want[i]),
			 c->res, errname(e));
	if (!c->res)
		s->ok++;
}

static int g_uf_quiet;		/* inside the table: no lines of its own */
static char g_uf_first[sizeof(run.reason)];

static void uf_report(const char *name, int rc)
{
	if (!g_uf_quiet) {
		report(name, rc);
		return;
	}
	if (rc == TEST_FAIL && !g_uf_first[0])
		snprintf(g_uf_first, sizeof(g_uf_first), "%s: %.400s", name,
			 run.reason);
	run.reason[0] = 0;
}

int uring_fuzz(unsigned int calls)
{
	struct uf_state *s = xmalloc(sizeof(*s));
	struct iovec iov[UF_SLOTS / 8];
	struct dstats b, d;
	struct sstats s0;
	struct ur_cqe c;
	unsigned int sent = 0, inflight = 0, next = 1, i;
	int waited;
	int have_s0 = run.sim > 0 && !sstats_read(&s0), rc, err;
	char line[1024];
	size_t len;
	int64_t t0;

	run.reason[0] = 0;
	memset(s, 0, sizeof(*s));
	rc = uring_ready();
	if (rc) {
		uf_report("uring_fuzz_setup", rc);
		free(s);
		return g_uf_quiet ? (g_uf_first[0] ? TEST_FAIL : 0) : summary();
	}
	s->g = run.seed | 1;
	s->fd = dev_open();
	s->region = map_pages(UF_SLOTS * (UF_PAGES + 1), PROT_READ | PROT_WRITE);
	s->ro = map_pages(1, PROT_READ | PROT_WRITE);
	if (s->fd < 0 || !s->region || !s->ro || dstats_get(run.name, &b) ||
	    ring_new(&s->u, 64, U_RING_FLAGS | IORING_SETUP_SUBMIT_ALL)) {
		uf_report("uring_fuzz_setup", TEST_FAIL);
		free(s);
		return g_uf_quiet ? (g_uf_first[0] ? TEST_FAIL : 0) : summary();
	}
	for (i = 0; i < UF_SLOTS; i++)
		if (mprotect(uf_slot(s, (int)i) + UF_PAGES * PG, PG, PROT_NONE))
			fail("mprotect: %s", strerror(errno));
	memset(s->region, 0x5a, PG);
	mprotect(s->ro, PG, PROT_READ);
	for (i = 0; i < UF_SLOTS / 8; i++) {
		/*
		 * Buffer k is slot 8k's 64 pages (a registration cannot span
		 * the PROT_NONE pages between slots): a FIXED command of any
		 * other slot must fail.
		 */
		iov[i].iov_base = uf_slot(s, (int)i * 8);
		iov[i].iov_len = UF_PAGES * PG;
	}
	err = ur_register_buffers(&s->u, iov, UF_SLOTS / 8);
	if (err) {
		fail("IORING_REGISTER_BUFFERS: %s", errname(err));
		uf_report("uring_fuzz_setup", TEST_FAIL);
		ur_close(&s->u);
		free(s);
		return g_uf_quiet ? (g_uf_first[0] ? TEST_FAIL : 0) : summary();
	}
	if (!g_uf_quiet)
		printf("# uring_fuzz: %u commands, seed %" PRIu64 "\n", calls, run.seed);
	t0 = now_ms();
	while (sent < calls || inflight) {
		unsigned int batch = 0;

		while (sent < calls && inflight < UF_SLOTS && batch < 16) {
			struct io_uring_sqe *sqe;
			int slot;

			for (slot = 0; s->busy[slot]; slot++)
				;
			sqe = ur_get_sqe(&s->u);
			if (!sqe)
				break;
			uf_fill(s, slot, sqe);
			/* Only slot 8k lies in registered buffer k. */
			if (sqe->uring_cmd_flags == IORING_URING_CMD_FIXED &&
			    slot % 8)
				s->valid[slot] = 0;
			s->busy[slot] = 1;
			inflight++;
			sent++;
			batch++;
		}
		if (batch) {
			int n = ur_submit(&s->u, 0);

			if (n != (int)batch) {
				fail("io_uring_enter: %d of %u", n, batch);
				break;
			}
		}
		waited = 0;
		while (inflight &&
		       !ur_wait(&s->u, batch || waited ? 0 : 30000, &c)) {
			uf_reap(s, &c);
			inflight--;
			waited = 1;
		}
		if (!batch && !waited && inflight) {
			fail("%u commands without a CQE for 30 s", inflight);
			break;
		}
		if (!g_uf_quiet && calls >= 2000 && (uint64_t)sent * 10 >= (uint64_t)calls * next) {
			printf("# uring_fuzz: %u%%, %u commands in %.1f s\n",
			       next * 10, sent, (double)(now_ms() - t0) / 1000);
			next++;
		}
	}
	rc = run.reason[0] ? TEST_FAIL : 0;
	uf_report("uring_fuzz_completes", rc);
	len = (size_t)snprintf(line, sizeof(line),
			       "# uring_fuzz: %u commands in %.1f s, %lu succeeded, res histogram:",
			       sent, (double)(now_ms() - t0) / 1000, s->ok);
	for (i = 0; i < 160 && len < sizeof(line); i++)
		if (s->hist[i])
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						" %s %lu", i ? errname((int)i) : "0",
						s->hist[i]);
	if (!g_uf_quiet)
		printf("%s\n", line);
	else
		vlog("%s", line + 2);
	uf_report("uring_fuzz_res_documented",
	       s->bad_res ? fail("%lu, first: %s", s->bad_res, s->msg_res) : 0);
	uf_report("uring_fuzz_valid_succeed",
	       s->bad_valid ? fail("%lu, first: %s", s->bad_valid, s->msg_valid) : 0);
	uf_report("uring_fuzz_errnos_as_specified",
	       s->bad_want ? fail("%lu, first: %s", s->bad_want, s->msg_want) : 0);
	rc = dstats_get(run.name, &d);
	if (!rc && d.v[DS_SUBMITTED] - b.v[DS_SUBMITTED] != (long)s->ok)
		rc = fail("driver submitted %ld, %lu CQEs had res 0",
			  d.v[DS_SUBMITTED] - b.v[DS_SUBMITTED], s->ok);
	uf_report("uring_fuzz_submitted_matches", rc);
	ur_close(&s->u);
	free(s);
	res_release_all();
	uf_report("uring_fuzz_nothing_pinned", all_idle(10000));
	uf_report("uring_fuzz_device_still_serves", echo_simple(run.dev, run.name));
	res_release_all();
	if (have_s0)
		uf_report("uring_fuzz_host_saw_no_violation", post_check(&s0));
	return g_uf_quiet ? (g_uf_first[0] ? TEST_FAIL : 0) : summary();
}

/* A short run of the fuzzer as one test of the table (3000 commands). */
int t_uring_fuzz_short(void)
{
	int rc;

	READY();
	g_uf_quiet = 1;
	g_uf_first[0] = 0;
	rc = uring_fuzz(3000);
	g_uf_quiet = 0;
	if (rc)
		return fail("%s", g_uf_first[0] ? g_uf_first : "setup failed");
	return 0;
}
