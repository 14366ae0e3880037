// SPDX-License-Identifier: GPL-2.0
/*
 * blob_vsp - the simulated Azure Blob VSP, the personality of az_blob_sim.ko
 * on the simulated VMBus core (vmbus_sim.c).
 *
 * TEST-ONLY. Validates every request packet as the real host would
 * (PROTOCOL.md), then answers the test service of ../az_blob_sim.h: the
 * request buffer starts with a struct az_sim_req that says what to do with
 * the buffers, when to answer and how to misbehave. See README.md.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hyperv.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "az_blob_sim.h"
#include "vmbus_sim.h"

#define BLOB_HOST_TIMEOUT	0x80070102U	/* AZ_BLOB_HOST_TIMEOUT */

/* The Blob VSP's wire format (PROTOCOL.md). */
#define BLOB_MAX_PFNS		8192U
#define BLOB_OP_USER_REQUEST	0x100U
#define BLOB_LAST_FAULT		AZ_SIM_FAULT_FAIL_OPEN
/* Longest completion payload the faulty host builds. */
#define BLOB_MAX_COMP_PAYLOAD	65536U

struct blob_wire_req {
	__le32 version;
	__le32 timeout_ms;
	__le32 data_buffer_offset;
	__le32 data_buffer_length;
	__le32 data_buffer_valid;
	__le32 operation_type;
	__le32 request_buffer_offset;
	__le32 request_buffer_length;
	__le32 response_buffer_offset;
	__le32 response_buffer_length;
	u8 transaction_id[16];
} __packed;

struct blob_wire_comp {
	__le32 length;
	__le32 error;
	__le32 response_len;
} __packed;

static_assert(sizeof(struct blob_wire_req) == 56);
static_assert(sizeof(struct blob_wire_comp) == 12);
static_assert(sizeof(struct az_sim_req) == 32);
static_assert(sizeof(struct az_sim_info) == 80);

enum blob_stage {
	BLOB_STAGE_NEW,		/* just taken off the ring (or released) */
	BLOB_STAGE_ANSWER,	/* delay over: execute and complete */
	BLOB_STAGE_TIMEOUT,	/* timeout over: complete with timeout */
	BLOB_STAGE_COMPLETE,	/* retry a completion (out of memory) */
};

/* A completion the host keeps, to send later. */
struct blob_stash {
	bool valid;
	u16 type;
	u64 trans_id;
	u32 payload;
	struct blob_wire_comp comp;
};

/* A request, in vmbus_sim_req.priv. */
struct blob_req {
	struct vmbus_sim_req *req;
	struct delayed_work work;
	enum blob_stage stage;
	bool atomic;			/* in the guest's send path */
	bool held;			/* waiting for "release" (blob_lock) */
	bool released;			/* was held: answer now */
	bool late;			/* AZ_SIM_FAULT_LATE */
	bool answered;			/* the op ran */
	/* AZ_SIM_FAULT_REUSED_ID copy to send just before this answer. */
	struct blob_stash dup;

	/* For BLOB_STAGE_COMPLETE. */
	u32 c_status;
	u32 c_resp_len;
	bool c_faults;

	/* Parsed by BLOB_STAGE_NEW. */
	struct blob_wire_req wire;
	struct az_sim_req sreq;
	u32 nr_pfns;
	const u64 *pfns;
};

/* Per device, under blob_lock. */
struct blob_dev {
	struct blob_stash long_next;	/* AZ_SIM_FAULT_LONG_NEXT */
	struct blob_stash dup;		/* AZ_SIM_FAULT_REUSED_ID */
};

static struct workqueue_struct *blob_wq;
static DEFINE_SPINLOCK(blob_lock);
static bool blob_hang;

static struct {
	atomic_long_t violations;
	atomic_long_t bad_requests;
	atomic_long_t unpinned_writes;
	atomic_long_t referenced_writes;
	atomic_long_t late_answers;
	atomic_long_t late_writes;
	atomic_long_t late_unpinned;
	atomic_long_t dups_sent;
	atomic64_t null_bytes;		/* read by NULL ops */
	atomic64_t null_ns;		/* and the time it took */
	atomic_t held;
	atomic_t dups_armed;
} blob_stats;

static DEFINE_SPINLOCK(blob_violation_lock);
static char blob_last_violation[128];

static __printf(1, 2) void blob_violation(const char *fmt, ...)
{
	unsigned long flags;
	va_list args;

	atomic_long_inc(&blob_stats.violations);
	spin_lock_irqsave(&blob_violation_lock, flags);
	va_start(args, fmt);
	vsnprintf(blob_last_violation, sizeof(blob_last_violation), fmt, args);
	va_end(args);
	spin_unlock_irqrestore(&blob_violation_lock, flags);
}

static inline struct blob_req *blob_of(struct vmbus_sim_req *req)
{
	return (struct blob_req *)req->priv;
}

/* ------------------------------------------------------------------ */
/* Guest memory                                                        */

struct blob_walk {
	struct blob_req *b;
	u8 *dst;
	const u8 *src;
	u64 src_off;			/* ECHO: offset of the request buffer */
	u32 seed;
	u64 hash;
};

/*
 * The host owns the pages from the request until its completion, and the
 * driver pins them (FOLL_PIN) for as long, or, for a registered buffer
 * whose registration went away with the request still the host's, keeps
 * page references (get_page) on pages io_uring had pinned.
 *
 * A page still pinned is written (the exact check). A page not pinned but
 * still referenced (refcount > 0) is written too and counted in
 * "referenced_writes": that is the driver's own reference on a registered
 * buffer's page, or a page it released and someone else now holds; a
 * refcount cannot tell the two apart, so the tests allow this counter to
 * move only where they expect it. A page with refcount 0 is free, and the
 * shared zero page (which GUP no longer pins, 6.5 on) and reserved pages
 * are never the guest's to give: a real host would write them all the
 * same; this one counts "unpinned_writes" and skips them, so that the
 * guest survives to report.
 */
static bool blob_may_write(struct blob_req *b, struct page *page)
{
	bool pinned = folio_maybe_dma_pinned(page_folio(page));
	bool referenced = !pinned && page_count(page) > 0 &&
			  !is_zero_pfn(page_to_pfn(page)) &&
			  !PageReserved(page);

	if (b->late)
		atomic_long_inc(pinned || referenced ? &blob_stats.late_writes :
				&blob_stats.late_unpinned);
	if (referenced)
		atomic_long_inc(&blob_stats.referenced_writes);
	else if (!pinned)
		atomic_long_inc(&blob_stats.unpinned_writes);
	return pinned || referenced;
}

static void blob_walk_from(struct page *page, u8 *va, size_t n, u64 done,
			   void *ctx)
{
	struct blob_walk *w = ctx;

	memcpy(w->dst + done, va, n);
}

static void copy_from_guest(struct blob_req *b, void *dst, u64 off, u64 len)
{
	struct blob_walk w = { .b = b, .dst = dst };

	vmbus_sim_walk(b->pfns, off, len, blob_walk_from, &w, b->atomic);
}

static void blob_walk_to(struct page *page, u8 *va, size_t n, u64 done,
			 void *ctx)
{
	struct blob_walk *w = ctx;

	if (blob_may_write(w->b, page))
		memcpy(va, w->src + done, n);
}

static void copy_to_guest(struct blob_req *b, u64 off, const void *src,
			  u64 len)
{
	struct blob_walk w = { .b = b, .src = src };

	vmbus_sim_walk(b->pfns, off, len, blob_walk_to, &w, b->atomic);
}

/* ECHO: one response frame piece at a time, from the request buffer. */
static void blob_walk_echo(struct page *page, u8 *va, size_t n, u64 done,
			   void *ctx)
{
	struct blob_walk *w = ctx;
	u8 bounce[256];
	size_t k, c;

	if (!blob_may_write(w->b, page))
		return;
	for (k = 0; k < n; k += c) {
		c = min(n - k, sizeof(bounce));
		copy_from_guest(w->b, bounce, w->src_off + done + k, c);
		memcpy(va + k, bounce, c);
	}
}

static void blob_walk_fill(struct page *page, u8 *va, size_t n, u64 done,
			   void *ctx)
{
	struct blob_walk *w = ctx;
	size_t i;

	if (!blob_may_write(w->b, page))
		return;
	for (i = 0; i < n; i++)
		va[i] = az_sim_pattern(w->seed, done + i);
}

static void blob_walk_sum(struct page *page, u8 *va, size_t n, u64 done,
			  void *ctx)
{
	struct blob_walk *w = ctx;

	w->hash = az_sim_fnv1a(w->hash, va, n);
}

/* NULL: every byte read once, eight at a time, as cheaply as a host can. */
static void blob_walk_read(struct page *page, u8 *va, size_t n, u64 done,
			   void *ctx)
{
	struct blob_walk *w = ctx;
	u64 acc = 0, v;
	size_t i;

	for (i = 0; i + sizeof(v) <= n; i += sizeof(v)) {
		memcpy(&v, va + i, sizeof(v));
		acc ^= v;
	}
	for (; i < n; i++)
		acc ^= va[i];
	w->hash ^= acc;
}

/* ------------------------------------------------------------------ */
/* Completions                                                         */

static struct vmbus_sim_pkt blob_pkt(const struct blob_stash *s)
{
	struct vmbus_sim_pkt p = {
		.data = &s->comp,
		.len = min_t(u32, s->payload, sizeof(s->comp)),
		.type = s->type,
		.trans_id = s->trans_id,
	};

	p.zeros = s->payload - p.len;
	return p;
}

static void blob_retry(struct blob_req *b, u32 status, u32 resp_len,
		       bool faults)
{
	b->stage = BLOB_STAGE_COMPLETE;
	b->c_status = status;
	b->c_resp_len = resp_len;
	b->c_faults = faults;
	queue_delayed_work(blob_wq, &b->work, msecs_to_jiffies(10));
}

/* A kept REUSED_ID copy left the host: sent (@sent) or dropped. */
static void blob_dup_gone(bool sent)
{
	atomic_dec(&blob_stats.dups_armed);
	if (sent)
		atomic_long_inc(&blob_stats.dups_sent);
}

/*
 * Send the completion(s) of @b, with its fault if @faults, and give the
 * request back to the core. @b is gone afterwards.
 */
static void blob_complete(struct blob_req *b, u32 status, u32 resp_len,
			  bool faults)
{
	struct vmbus_sim_req *req = b->req;
	struct blob_dev *bd = vmbus_sim_dev_priv(req->sd);
	u32 fault = faults ? b->sreq.fault : AZ_SIM_FAULT_NONE;
	gfp_t gfp = b->atomic ? GFP_ATOMIC : GFP_KERNEL;
	struct blob_stash own = {
		.valid = true,
		.type = VM_PKT_COMP,
		.trans_id = req->trans_id,
		.payload = sizeof(struct blob_wire_comp),
	};
	struct blob_stash first, prev = { }, dup;
	struct vmbus_sim_pkt pk[4];
	bool stashed = false;
	u32 arg = b->sreq.arg;
	unsigned int n = 0;
	unsigned long flags;
	int ret;

	switch (fault) {
	case AZ_SIM_FAULT_SHORT:
		own.payload = min(arg ? arg : 8, BLOB_MAX_COMP_PAYLOAD);
		break;
	case AZ_SIM_FAULT_LONG:
		own.payload = min(arg ? arg : 4096, BLOB_MAX_COMP_PAYLOAD);
		break;
	case AZ_SIM_FAULT_LONG_NEXT:
		own.payload = min(arg ? arg : 40, BLOB_MAX_COMP_PAYLOAD);
		break;
	case AZ_SIM_FAULT_RESPLEN:
		resp_len = arg;
		break;
	case AZ_SIM_FAULT_BAD_TYPE:
		own.type = VM_PKT_DATA_INBAND;
		break;
	}
	own.comp.length = cpu_to_le32(sizeof(own.comp));
	own.comp.error = cpu_to_le32(status);
	own.comp.response_len = cpu_to_le32(resp_len);

	first = own;
	switch (fault) {
	case AZ_SIM_FAULT_UNKNOWN_ID:
		first.trans_id = arg ? arg : 0xdead;
		break;
	case AZ_SIM_FAULT_ID_ZERO:
		first.trans_id = 0;
		break;
	case AZ_SIM_FAULT_DUPLICATE:
		break;
	case AZ_SIM_FAULT_INBAND:
		first.type = VM_PKT_DATA_INBAND;
		first.payload = clamp_t(u32, arg, sizeof(first.comp),
					BLOB_MAX_COMP_PAYLOAD);
		first.comp.error = cpu_to_le32(AZ_SIM_STATUS_INBAND);
		first.comp.response_len = 0;
		break;
	default:
		first.valid = false;
	}

	spin_lock_irqsave(&blob_lock, flags);
	if (bd->long_next.valid) {
		prev = bd->long_next;
		bd->long_next.valid = false;
		atomic_dec(&blob_stats.held);
	} else if (fault == AZ_SIM_FAULT_LONG_NEXT) {
		bd->long_next = own;
		atomic_inc(&blob_stats.held);
		stashed = true;
	}
	if (fault == AZ_SIM_FAULT_REUSED_ID) {
		/* Armed before the guest can see the id free. */
		if (!bd->dup.valid)
			atomic_inc(&blob_stats.dups_armed);
		bd->dup = own;
	}
	spin_unlock_irqrestore(&blob_lock, flags);

	/* Read before the send: @b may be gone (or the closer's) after it. */
	dup = b->dup;
	if (stashed) {
		/* This answer waits; the copy goes out now, still before it. */
		if (dup.valid) {
			pk[0] = blob_pkt(&dup);
			ret = vmbus_sim_send(req->sd, NULL, pk, 1, gfp);
			if (ret == -ENOMEM) {
				blob_retry(b, status, resp_len, faults);
				return;
			}
			b->dup.valid = false;
			blob_dup_gone(!ret);
		}
		vmbus_sim_req_done(req);
		return;
	}
	if (prev.valid)
		pk[n++] = blob_pkt(&prev);
	if (dup.valid)
		pk[n++] = blob_pkt(&dup);
	if (first.valid)
		pk[n++] = blob_pkt(&first);
	pk[n++] = blob_pkt(&own);

	ret = vmbus_sim_send(req->sd, req, pk, n, gfp);
	if (ret != -ENOMEM) {
		/* -ESHUTDOWN: the closer owns @b and drops its copy. */
		if (dup.valid && ret != -ESHUTDOWN)
			blob_dup_gone(!ret);
		return;
	}

	/* Out of memory: put back what was taken, try again shortly. */
	if (prev.valid) {
		spin_lock_irqsave(&blob_lock, flags);
		if (!bd->long_next.valid) {
			bd->long_next = prev;
			atomic_inc(&blob_stats.held);
		}
		spin_unlock_irqrestore(&blob_lock, flags);
	}
	blob_retry(b, status, resp_len, faults);
}

/*
 * AZ_SIM_FAULT_REUSED_ID: the next request taken off the ring, whatever its
 * id, carries the kept copy; it goes out just before that request's answer.
 * Under the VMBus core's requestor that request holds the old request's
 * freed id (last freed, first reused), so the copy completes it.
 */
static void blob_take_dup(struct blob_req *b)
{
	struct blob_dev *bd = vmbus_sim_dev_priv(b->req->sd);
	unsigned long flags;

	spin_lock_irqsave(&blob_lock, flags);
	if (bd->dup.valid) {
		b->dup = bd->dup;
		bd->dup.valid = false;
	}
	spin_unlock_irqrestore(&blob_lock, flags);
}

/* ------------------------------------------------------------------ */
/* The Blob VSP                                                        */

static bool blob_buf_ok(const char *what, u32 off, u32 len, u32 range_len)
{
	if ((u64)off + len <= range_len)
		return true;
	blob_violation("%s buffer [%u, +%u) outside the range of %u bytes",
		       what, off, len, range_len);
	return false;
}

/* Validate the packet, as it was in the ring, as a real host would. */
static bool blob_validate(struct blob_req *b)
{
	struct vmbus_sim_req *req = b->req;
	const struct vmbus_packet_mpb_array *d = (const void *)req->pkt;
	const u32 hdr = sizeof(struct vmbus_packet_mpb_array);
	u32 desc_size = (u32)d->dataoffset8 * 8, range_len, nr, i;
	struct blob_wire_req *w = &b->wire;

	if (req->type != VM_PKT_DATA_USING_GPA_DIRECT) {
		blob_violation("packet type %u", req->type);
		return false;
	}
	if (req->flags != VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED) {
		blob_violation("packet flags %#x", req->flags);
		return false;
	}
	if (desc_size < hdr || desc_size > req->len) {
		blob_violation("descriptor of %u bytes in a packet of %u",
			       desc_size, req->len);
		return false;
	}
	if (d->rangecount != 1) {
		blob_violation("rangecount %u", d->rangecount);
		return false;
	}
	if (req->len - desc_size != sizeof(*w)) {
		blob_violation("inline data of %u bytes, want %zu",
			       req->len - desc_size, sizeof(*w));
		return false;
	}
	memcpy(w, req->pkt + desc_size, sizeof(*w));

	nr = (desc_size - hdr) / 8;
	range_len = d->range.len;
	b->nr_pfns = nr;
	b->pfns = (const u64 *)(req->pkt + hdr);

	if (d->range.offset) {
		blob_violation("range offset %u", d->range.offset);
		return false;
	}
	if (nr > BLOB_MAX_PFNS) {
		blob_violation("%u pfns, at most %u", nr, BLOB_MAX_PFNS);
		return false;
	}
	if ((u64)range_len != (u64)nr * VMBUS_SIM_HV_PAGE_SIZE) {
		blob_violation("range len %u with %u pfns", range_len, nr);
		return false;
	}
	if (le32_to_cpu(w->version) != 0) {
		blob_violation("version %u", le32_to_cpu(w->version));
		return false;
	}
	if (le32_to_cpu(w->operation_type) != BLOB_OP_USER_REQUEST) {
		blob_violation("operation_type %#x",
			       le32_to_cpu(w->operation_type));
		return false;
	}
	if (!le32_to_cpu(w->request_buffer_length)) {
		blob_violation("request_buffer_length 0");
		return false;
	}
	if (!le32_to_cpu(w->response_buffer_length)) {
		blob_violation("response_buffer_length 0");
		return false;
	}
	if (le32_to_cpu(w->data_buffer_valid) >
	    le32_to_cpu(w->data_buffer_length)) {
		blob_violation("data_buffer_valid %u > data_buffer_length %u",
			       le32_to_cpu(w->data_buffer_valid),
			       le32_to_cpu(w->data_buffer_length));
		return false;
	}
	if (!blob_buf_ok("request", le32_to_cpu(w->request_buffer_offset),
			 le32_to_cpu(w->request_buffer_length), range_len) ||
	    !blob_buf_ok("response", le32_to_cpu(w->response_buffer_offset),
			 le32_to_cpu(w->response_buffer_length), range_len))
		return false;
	if (le32_to_cpu(w->data_buffer_length) &&
	    !blob_buf_ok("data", le32_to_cpu(w->data_buffer_offset),
			 le32_to_cpu(w->data_buffer_length), range_len))
		return false;

	for (i = 0; i < nr; i++) {
		if (!vmbus_sim_hvpfn_valid(b->pfns[i])) {
			blob_violation("pfn %#llx (index %u) not valid",
				       b->pfns[i], i);
			return false;
		}
	}
	return true;
}

static void blob_hold(struct blob_req *b)
{
	unsigned long flags;

	spin_lock_irqsave(&blob_lock, flags);
	b->held = true;
	atomic_inc(&blob_stats.held);
	spin_unlock_irqrestore(&blob_lock, flags);
}

/* Execute the op on the guest's buffers; returns the response length. */
static u32 blob_run_op(struct blob_req *b)
{
	const struct blob_wire_req *w = &b->wire;
	const struct vmbus_packet_mpb_array *d = (const void *)b->req->pkt;
	u32 resp_off = le32_to_cpu(w->response_buffer_offset);
	u32 resp_len = le32_to_cpu(w->response_buffer_length);
	u32 data_off = le32_to_cpu(w->data_buffer_offset);
	u32 data_len = le32_to_cpu(w->data_buffer_length);
	u32 data_valid = le32_to_cpu(w->data_buffer_valid);
	struct blob_walk wk = { .b = b };
	struct az_sim_info info;
	u32 written = 0;
	__le64 v64;

	b->answered = true;
	if (b->late)
		atomic_long_inc(&blob_stats.late_answers);

	switch (b->sreq.op) {
	case AZ_SIM_OP_ECHO:
		written = min(le32_to_cpu(w->request_buffer_length), resp_len);
		wk.src_off = le32_to_cpu(w->request_buffer_offset);
		vmbus_sim_walk(b->pfns, resp_off, written, blob_walk_echo, &wk,
			       b->atomic);
		break;
	case AZ_SIM_OP_INFO:
		memset(&info, 0, sizeof(info));
		memcpy(info.packet, w, sizeof(info.packet));
		info.range_offset = d->range.offset;
		info.range_len = d->range.len;
		info.nr_pfns = b->nr_pfns;
		info.pkt_type = d->type;
		info.pkt_flags = d->flags;
		info.rangecount = d->rangecount;
		written = min_t(u32, resp_len, sizeof(info));
		copy_to_guest(b, resp_off, &info, written);
		break;
	case AZ_SIM_OP_FILL:
		wk.seed = b->sreq.seed;
		if (data_len)
			vmbus_sim_walk(b->pfns, data_off, data_len,
				       blob_walk_fill, &wk, b->atomic);
		v64 = cpu_to_le64(data_len);
		written = min_t(u32, resp_len, sizeof(v64));
		copy_to_guest(b, resp_off, &v64, written);
		break;
	case AZ_SIM_OP_SUM:
		wk.hash = AZ_SIM_FNV1A_INIT;
		if (data_valid)
			vmbus_sim_walk(b->pfns, data_off, data_valid,
				       blob_walk_sum, &wk, b->atomic);
		v64 = cpu_to_le64(wk.hash);
		written = min_t(u32, resp_len, sizeof(v64));
		copy_to_guest(b, resp_off, &v64, written);
		break;
	case AZ_SIM_OP_NULL:
		if (data_valid) {
			u64 t0 = ktime_get_ns();

			vmbus_sim_walk(b->pfns, data_off, data_valid,
				       blob_walk_read, &wk, b->atomic);
			/* az_blob_bench tells the host's part from the rest. */
			atomic64_add(ktime_get_ns() - t0, &blob_stats.null_ns);
			atomic64_add(data_valid, &blob_stats.null_bytes);
		}
		break;
	}
	return written;
}

static void blob_answer(struct blob_req *b)
{
	u32 written = blob_run_op(b);

	blob_complete(b, b->sreq.status, written, true);
}

static void blob_bad_request(struct blob_req *b)
{
	memset(&b->sreq, 0, sizeof(b->sreq));
	atomic_long_inc(&blob_stats.bad_requests);
	blob_complete(b, AZ_SIM_STATUS_BAD_REQUEST, 0, false);
}

/*
 * A request just taken off the ring (@reader: in the host's ring reader,
 * which must not be held up by an op) or released.
 */
static void blob_new(struct blob_req *b, bool reader)
{
	struct az_sim_req *s = &b->sreq;
	u32 delay, timeout;

	if (!b->released && READ_ONCE(blob_hang)) {
		blob_hold(b);
		return;
	}
	if (!blob_validate(b)) {
		blob_complete(b, AZ_SIM_STATUS_VIOLATION, 0, false);
		return;
	}

	if (le32_to_cpu(b->wire.request_buffer_length) < sizeof(*s)) {
		blob_bad_request(b);
		return;
	}
	copy_from_guest(b, s, le32_to_cpu(b->wire.request_buffer_offset),
			sizeof(*s));
	s->magic = le32_to_cpu((__force __le32)s->magic);
	s->op = le32_to_cpu((__force __le32)s->op);
	s->fault = le32_to_cpu((__force __le32)s->fault);
	s->delay_ms = le32_to_cpu((__force __le32)s->delay_ms);
	s->status = le32_to_cpu((__force __le32)s->status);
	s->seed = le32_to_cpu((__force __le32)s->seed);
	s->arg = le32_to_cpu((__force __le32)s->arg);
	if (s->magic != AZ_SIM_MAGIC ||
	    s->op < AZ_SIM_OP_ECHO || s->op > AZ_SIM_OP_NULL ||
	    s->fault > BLOB_LAST_FAULT ||
	    (s->fault == AZ_SIM_FAULT_FAIL_OPEN && s->arg >= MAX_ERRNO)) {
		blob_bad_request(b);
		return;
	}

	if (s->fault == AZ_SIM_FAULT_FAIL_OPEN)
		vmbus_sim_fail_next_open(b->req->sd, s->arg ? s->arg : EAGAIN);
	if (b->released) {
		blob_answer(b);
		return;
	}
	if (s->fault == AZ_SIM_FAULT_NEVER) {
		blob_hold(b);
		return;
	}

	delay = s->delay_ms;
	timeout = le32_to_cpu(b->wire.timeout_ms);
	b->late = s->fault == AZ_SIM_FAULT_LATE;
	if (timeout && timeout <= delay && !b->late) {
		b->stage = BLOB_STAGE_TIMEOUT;
		queue_delayed_work(blob_wq, &b->work,
				   msecs_to_jiffies(timeout));
	} else if (delay) {
		b->stage = BLOB_STAGE_ANSWER;
		queue_delayed_work(blob_wq, &b->work, msecs_to_jiffies(delay));
	} else if (reader && s->op != AZ_SIM_OP_NULL) {
		/* The op runs beside the reader, which takes the next packet. */
		b->stage = BLOB_STAGE_ANSWER;
		queue_delayed_work(blob_wq, &b->work, 0);
	} else {
		/* NULL: answered by the reader itself, no work in between. */
		blob_answer(b);
	}
}

static void blob_work(struct work_struct *work)
{
	struct blob_req *b = container_of(to_delayed_work(work),
					  struct blob_req, work);

	b->atomic = false;
	switch (b->stage) {
	case BLOB_STAGE_NEW:
		blob_new(b, false);
		break;
	case BLOB_STAGE_ANSWER:
		blob_answer(b);
		break;
	case BLOB_STAGE_TIMEOUT:
		blob_complete(b, BLOB_HOST_TIMEOUT, 0, true);
		break;
	case BLOB_STAGE_COMPLETE:
		blob_complete(b, b->c_status, b->c_resp_len, b->c_faults);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* The personality's hooks                                             */

static void blob_request(struct vmbus_sim_req *req, bool atomic)
{
	struct blob_req *b = blob_of(req);

	b->req = req;
	b->atomic = atomic;
	b->stage = BLOB_STAGE_NEW;
	INIT_DELAYED_WORK(&b->work, blob_work);

	blob_take_dup(b);
	/* Parsed here; an op other than NULL then runs in its work. */
	blob_new(b, !atomic);
}

static void blob_close_req(struct vmbus_sim_req *req)
{
	struct blob_req *b = blob_of(req);
	unsigned long flags;

	cancel_delayed_work_sync(&b->work);
	spin_lock_irqsave(&blob_lock, flags);
	if (b->held) {
		b->held = false;
		atomic_dec(&blob_stats.held);
	}
	spin_unlock_irqrestore(&blob_lock, flags);
	if (b->dup.valid) {
		b->dup.valid = false;
		blob_dup_gone(false);
	}

	/* A late host still writes the pages; its answer goes nowhere. */
	if (b->late && !b->answered) {
		b->atomic = false;
		blob_run_op(b);
	}
}

static void blob_chan_reset(struct vmbus_sim_dev *sd)
{
	struct blob_dev *bd = vmbus_sim_dev_priv(sd);
	unsigned long flags;

	spin_lock_irqsave(&blob_lock, flags);
	if (bd->long_next.valid)
		atomic_dec(&blob_stats.held);
	if (bd->dup.valid)
		atomic_dec(&blob_stats.dups_armed);
	memset(bd, 0, sizeof(*bd));
	spin_unlock_irqrestore(&blob_lock, flags);
}

static void blob_release_req(struct vmbus_sim_req *req, void *ctx)
{
	struct blob_req *b = blob_of(req);

	spin_lock(&blob_lock);
	if (b->held) {
		b->held = false;
		b->released = true;
		b->stage = BLOB_STAGE_NEW;
		atomic_dec(&blob_stats.held);
		queue_delayed_work(blob_wq, &b->work, 0);
	}
	spin_unlock(&blob_lock);
}

static void blob_release_dev(struct vmbus_sim_dev *sd, void *ctx)
{
	struct blob_dev *bd = vmbus_sim_dev_priv(sd);
	struct blob_stash s = { };
	struct vmbus_sim_pkt pk;
	unsigned long flags;

	spin_lock_irqsave(&blob_lock, flags);
	if (bd->long_next.valid) {
		s = bd->long_next;
		bd->long_next.valid = false;
		atomic_dec(&blob_stats.held);
	}
	spin_unlock_irqrestore(&blob_lock, flags);
	if (s.valid) {
		pk = blob_pkt(&s);
		vmbus_sim_send(sd, NULL, &pk, 1, GFP_KERNEL);
	}
}

static int blob_control(const char *cmd)
{
	unsigned int n;
	int ret;

	if (!strcmp(cmd, "release")) {
		vmbus_sim_visit_devs(blob_release_dev, NULL);
		vmbus_sim_visit_reqs(blob_release_req, NULL);
		return 0;
	}
	if (!strcmp(cmd, "reset")) {
		atomic_long_set(&blob_stats.violations, 0);
		atomic_long_set(&blob_stats.bad_requests, 0);
		atomic_long_set(&blob_stats.unpinned_writes, 0);
		atomic_long_set(&blob_stats.referenced_writes, 0);
		atomic_long_set(&blob_stats.late_answers, 0);
		atomic_long_set(&blob_stats.late_writes, 0);
		atomic_long_set(&blob_stats.late_unpinned, 0);
		atomic_long_set(&blob_stats.dups_sent, 0);
		atomic64_set(&blob_stats.null_bytes, 0);
		atomic64_set(&blob_stats.null_ns, 0);
		spin_lock_irq(&blob_violation_lock);
		blob_last_violation[0] = '\0';
		spin_unlock_irq(&blob_violation_lock);
		return 0;
	}
	if (!strncmp(cmd, "hang ", 5)) {
		ret = kstrtouint(cmd + 5, 10, &n);
		if (!ret && n > 1)
			ret = -EINVAL;
		if (!ret)
			WRITE_ONCE(blob_hang, n);
		return ret;
	}
	return -EINVAL;
}

static void blob_stats_show(struct seq_file *m)
{
#define BLOB_STAT(name) \
	seq_printf(m, #name " %ld\n", atomic_long_read(&blob_stats.name))
	BLOB_STAT(violations);
	BLOB_STAT(bad_requests);
	seq_printf(m, "held %d\n", atomic_read(&blob_stats.held));
	BLOB_STAT(unpinned_writes);
	BLOB_STAT(referenced_writes);
	BLOB_STAT(late_answers);
	BLOB_STAT(late_writes);
	BLOB_STAT(late_unpinned);
	seq_printf(m, "dups_armed %d\n", atomic_read(&blob_stats.dups_armed));
	BLOB_STAT(dups_sent);
#undef BLOB_STAT
	seq_printf(m, "null_bytes %lld\n", atomic64_read(&blob_stats.null_bytes));
	seq_printf(m, "null_ns %lld\n", atomic64_read(&blob_stats.null_ns));
	spin_lock_irq(&blob_violation_lock);
	seq_printf(m, "last_violation %s\n",
		   blob_last_violation[0] ? blob_last_violation : "-");
	spin_unlock_irq(&blob_violation_lock);
}

static const struct vmbus_sim_ops blob_vsp_ops = {
	.name = "az_blob_sim",
	.class_id = GUID_INIT(0x0590b792, 0xdb64, 0x45cc,
			      0x81, 0xdb, 0xb8, 0xd7, 0x0c, 0x57, 0x7c, 0x9e),
	.req_priv_size = sizeof(struct blob_req),
	.dev_priv_size = sizeof(struct blob_dev),
	.request = blob_request,
	.close_req = blob_close_req,
	.chan_open = blob_chan_reset,
	.chan_close = blob_chan_reset,
	.control = blob_control,
	.stats = blob_stats_show,
};

static int __init blob_vsp_init(void)
{
	int ret;

	blob_wq = alloc_workqueue("az_blob_sim", WQ_UNBOUND, 0);
	if (!blob_wq)
		return -ENOMEM;
	ret = vmbus_sim_register(&blob_vsp_ops);
	if (ret)
		destroy_workqueue(blob_wq);
	return ret;
}

static void __exit blob_vsp_exit(void)
{
	vmbus_sim_unregister();
	destroy_workqueue(blob_wq);
}

module_init(blob_vsp_init);
module_exit(blob_vsp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated VMBus and Azure Blob VSP for testing hv_azure_blob (test only)");
