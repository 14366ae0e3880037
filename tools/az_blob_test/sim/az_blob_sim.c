// SPDX-License-Identifier: GPL-2.0
/*
 * az_blob_sim - a simulated VMBus with a simulated Azure Blob VSP behind it.
 *
 * TEST-ONLY. Exports the hv_vmbus functions that the hv_azure_blob driver
 * calls, so that the driver can be loaded and exercised in a guest without
 * Hyper-V (hv_vmbus.ko absent). Build the driver with
 * KBUILD_EXTRA_SYMBOLS=<this directory>/Module.symvers. See README.md.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/bits.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/hyperv.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "az_blob_sim.h"

#define SIM_HOST_TIMEOUT	0x80070102U	/* AZ_BLOB_HOST_TIMEOUT */

/* The Blob VSP's wire format (PROTOCOL.md). */
#define SIM_HOST_PAGE_SHIFT	12
#define SIM_HOST_PAGE_SIZE	BIT(SIM_HOST_PAGE_SHIFT)
#define SIM_MAX_PFNS		8192U
#define SIM_OP_USER_REQUEST	0x100U
#define SIM_MAX_DEVICES		256

struct sim_wire_req {
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

struct sim_wire_comp {
	__le32 length;
	__le32 error;
	__le32 response_len;
} __packed;

static_assert(sizeof(struct sim_wire_req) == 56);
static_assert(sizeof(struct sim_wire_comp) == 12);
static_assert(sizeof(struct az_sim_req) == 32);
static_assert(sizeof(struct az_sim_info) == 80);

/* Longest completion payload the faulty host builds. */
#define SIM_MAX_COMP_PAYLOAD	65536U

static const guid_t sim_class_guid =
	GUID_INIT(0x0590b792, 0xdb64, 0x45cc,
		  0x81, 0xdb, 0xb8, 0xd7, 0x0c, 0x57, 0x7c, 0x9e);

/* One simulated device: the hv_device and its (only) channel. */
struct sim_dev {
	struct hv_device hdev;
	struct vmbus_channel chan;
	int index;
	struct list_head node;		/* sim_devs, under sim_mutex */

	/* Everything below is under lock. */
	spinlock_t lock;
	bool open;
	bool rqstor_alloced;
	u32 send_size;
	u32 recv_size;
	u32 userdatalen;
	u32 pending;			/* bytes on the send ring */
	struct list_head reqs;		/* struct sim_req the host owns */
	struct list_head inbound;	/* struct sim_inpkt to the guest */
	u8 *pkt_buf;			/* max_pkt_size bytes, while open */

	struct tasklet_struct tasklet;	/* calls onchannel_callback */
};

enum sim_stage {
	SIM_STAGE_NEW,		/* just taken off the ring */
	SIM_STAGE_ANSWER,	/* delay over: execute and complete */
	SIM_STAGE_TIMEOUT,	/* timeout over: complete with timeout */
	SIM_STAGE_COMPLETE,	/* retry a completion (out of memory) */
};

/* A request packet as the host copied it off the ring. */
struct sim_req {
	struct list_head node;		/* sim_dev.reqs */
	struct delayed_work work;
	struct sim_dev *sd;
	u64 trans_id;
	u32 cost;			/* bytes it took on the ring */
	u32 desc_size;
	u32 bufferlen;
	enum sim_stage stage;
	bool taken;			/* off the ring */
	bool held;			/* waiting for "release" */
	bool released;			/* was held: answer now */
	bool detached;			/* channel closed: closer frees it */

	/* For SIM_STAGE_COMPLETE. */
	u32 c_status;
	u32 c_resp_len;
	bool c_faults;

	/* Parsed by SIM_STAGE_NEW. */
	struct sim_wire_req wire;
	struct az_sim_req sreq;
	u32 nr_pfns;
	const u64 *pfns;

	u8 pkt[] __aligned(8);		/* desc_size + bufferlen bytes */
};

/* A packet on the inbound (host to guest) ring. */
struct sim_inpkt {
	struct list_head node;
	u32 len;
	u8 data[] __aligned(8);
};

static struct bus_type sim_bus;
static struct device *sim_root;
static struct workqueue_struct *sim_wq;
static struct dentry *sim_debugfs;
static DEFINE_MUTEX(sim_mutex);		/* sim_devs */
static LIST_HEAD(sim_devs);
static DEFINE_IDA(sim_ida);
static bool sim_hang;

static struct {
	atomic_long_t requests;
	atomic_long_t completions;
	atomic_long_t violations;
	atomic_long_t bad_requests;
	atomic_long_t ring_full;
	atomic_t held;
} sim_stats;

static DEFINE_SPINLOCK(sim_violation_lock);
static char sim_last_violation[128];

static inline struct sim_dev *chan_to_sd(struct vmbus_channel *channel)
{
	return container_of(channel, struct sim_dev, chan);
}

static inline struct sim_dev *dev_to_sd(const struct device *dev)
{
	return container_of(dev, struct sim_dev, hdev.device);
}

static inline struct hv_driver *sim_drv(const struct device_driver *drv)
{
	return container_of(drv, struct hv_driver, driver);
}

/* ------------------------------------------------------------------ */
/* The requestor, as drivers/hv/channel.c                              */

static u64 *sim_request_arr_init(u32 size)
{
	u64 *req_arr;
	u32 i;

	req_arr = kcalloc(size, sizeof(u64), GFP_KERNEL);
	if (!req_arr)
		return NULL;

	for (i = 0; i < size - 1; i++)
		req_arr[i] = i + 1;

	/* Data for the last available request */
	req_arr[i] = U64_MAX;

	return req_arr;
}

static int sim_alloc_requestor(struct vmbus_requestor *rqstor, u32 size)
{
	unsigned long *bitmap;
	u64 *rqst_arr;

	rqst_arr = sim_request_arr_init(size);
	if (!rqst_arr)
		return -ENOMEM;

	bitmap = bitmap_zalloc(size, GFP_KERNEL);
	if (!bitmap) {
		kfree(rqst_arr);
		return -ENOMEM;
	}

	rqstor->req_arr = rqst_arr;
	rqstor->req_bitmap = bitmap;
	rqstor->size = size;
	rqstor->next_request_id = 0;
	spin_lock_init(&rqstor->req_lock);

	return 0;
}

static void sim_free_requestor(struct vmbus_requestor *rqstor)
{
	kfree(rqstor->req_arr);
	bitmap_free(rqstor->req_bitmap);
	/* Not in the real one: make a late lookup fail instead of a UAF. */
	rqstor->req_arr = NULL;
	rqstor->req_bitmap = NULL;
	rqstor->size = 0;
}

u64 vmbus_next_request_id(struct vmbus_channel *channel, u64 rqst_addr)
{
	struct vmbus_requestor *rqstor = &channel->requestor;
	unsigned long flags;
	u64 current_id;

	/* Check rqstor has been initialized */
	if (!channel->rqstor_size)
		return VMBUS_NO_RQSTOR;

	lock_requestor(channel, flags);
	current_id = rqstor->next_request_id;

	/* Requestor array is full */
	if (current_id >= rqstor->size) {
		unlock_requestor(channel, flags);
		return VMBUS_RQST_ERROR;
	}

	rqstor->next_request_id = rqstor->req_arr[current_id];
	rqstor->req_arr[current_id] = rqst_addr;

	/* The already held spin lock provides atomicity */
	bitmap_set(rqstor->req_bitmap, current_id, 1);

	unlock_requestor(channel, flags);

	/* Id 0 is reserved for unsolicited messages from the host. */
	return current_id + 1;
}
EXPORT_SYMBOL_GPL(vmbus_next_request_id);

u64 __vmbus_request_addr_match(struct vmbus_channel *channel, u64 trans_id,
			       u64 rqst_addr)
{
	struct vmbus_requestor *rqstor = &channel->requestor;
	u64 req_addr;

	/* Check rqstor has been initialized */
	if (!channel->rqstor_size)
		return VMBUS_NO_RQSTOR;

	/* Hyper-V can send an unsolicited message with ID of 0 */
	if (!trans_id)
		return VMBUS_RQST_ERROR;

	/* Data corresponding to trans_id is stored at trans_id - 1 */
	trans_id--;

	/* Invalid trans_id */
	if (trans_id >= rqstor->size || !test_bit(trans_id, rqstor->req_bitmap))
		return VMBUS_RQST_ERROR;

	req_addr = rqstor->req_arr[trans_id];
	if (rqst_addr == VMBUS_RQST_ADDR_ANY || req_addr == rqst_addr) {
		rqstor->req_arr[trans_id] = rqstor->next_request_id;
		rqstor->next_request_id = trans_id;

		/* The already held spin lock provides atomicity */
		bitmap_clear(rqstor->req_bitmap, trans_id, 1);
	}

	return req_addr;
}
EXPORT_SYMBOL_GPL(__vmbus_request_addr_match);

u64 vmbus_request_addr_match(struct vmbus_channel *channel, u64 trans_id,
			     u64 rqst_addr)
{
	unsigned long flags;
	u64 req_addr;

	lock_requestor(channel, flags);
	req_addr = __vmbus_request_addr_match(channel, trans_id, rqst_addr);
	unlock_requestor(channel, flags);

	return req_addr;
}
EXPORT_SYMBOL_GPL(vmbus_request_addr_match);

u64 vmbus_request_addr(struct vmbus_channel *channel, u64 trans_id)
{
	return vmbus_request_addr_match(channel, trans_id, VMBUS_RQST_ADDR_ANY);
}
EXPORT_SYMBOL_GPL(vmbus_request_addr);

/* ------------------------------------------------------------------ */
/* Inbound ring (host to guest)                                        */

static void sim_tasklet_fn(struct tasklet_struct *t)
{
	struct sim_dev *sd = from_tasklet(sd, t, tasklet);
	void (*cb)(void *context) = NULL;
	unsigned long flags;
	void *ctx = NULL;

	spin_lock_irqsave(&sd->lock, flags);
	if (sd->open) {
		cb = sd->chan.onchannel_callback;
		ctx = sd->chan.channel_callback_context;
	}
	spin_unlock_irqrestore(&sd->lock, flags);

	if (cb)
		cb(ctx);
}

struct vmpacket_descriptor *hv_pkt_iter_first(struct vmbus_channel *channel)
{
	struct sim_dev *sd = chan_to_sd(channel);
	struct vmpacket_descriptor *desc = NULL, *src;
	u32 bytes_avail, pkt_len, pkt_offset;
	struct sim_inpkt *p;
	unsigned long flags;

	spin_lock_irqsave(&sd->lock, flags);
	p = list_first_entry_or_null(&sd->inbound, struct sim_inpkt, node);
	if (!p || !sd->pkt_buf || p->len < sizeof(*desc))
		goto out;

	/* As ring_buffer.c: never more than the packet buffer holds. */
	bytes_avail = min(channel->max_pkt_size, p->len);
	src = (struct vmpacket_descriptor *)p->data;
	pkt_len = (u32)src->len8 << 3;
	pkt_offset = (u32)src->offset8 << 3;

	if (pkt_len < sizeof(*desc) || pkt_len > bytes_avail)
		pkt_len = bytes_avail;
	if (pkt_offset < sizeof(*desc) || pkt_offset > pkt_len)
		pkt_offset = sizeof(*desc);

	desc = (struct vmpacket_descriptor *)sd->pkt_buf;
	memcpy(desc, src, pkt_len);
	desc->len8 = pkt_len >> 3;
	desc->offset8 = pkt_offset >> 3;
out:
	spin_unlock_irqrestore(&sd->lock, flags);
	return desc;
}
EXPORT_SYMBOL_GPL(hv_pkt_iter_first);

struct vmpacket_descriptor *
__hv_pkt_iter_next(struct vmbus_channel *channel,
		   const struct vmpacket_descriptor *pkt)
{
	struct sim_dev *sd = chan_to_sd(channel);
	struct sim_inpkt *p;
	unsigned long flags;

	spin_lock_irqsave(&sd->lock, flags);
	p = list_first_entry_or_null(&sd->inbound, struct sim_inpkt, node);
	if (p)
		list_del(&p->node);
	spin_unlock_irqrestore(&sd->lock, flags);
	kfree(p);

	return hv_pkt_iter_first(channel);
}
EXPORT_SYMBOL_GPL(__hv_pkt_iter_next);

void hv_pkt_iter_close(struct vmbus_channel *channel)
{
}
EXPORT_SYMBOL_GPL(hv_pkt_iter_close);

/* ------------------------------------------------------------------ */
/* Guest memory, as the host sees it: 4 KiB frames named by PFN        */

typedef void (*sim_walk_fn)(u8 *va, size_t n, u64 done, void *ctx);

static void sim_walk(const struct sim_req *req, u64 off, u64 len,
		     sim_walk_fn fn, void *ctx)
{
	u64 done = 0;

	while (done < len) {
		u64 pos = off + done;
		u64 hvpfn = req->pfns[pos >> SIM_HOST_PAGE_SHIFT];
		size_t in = pos & (SIM_HOST_PAGE_SIZE - 1);
		size_t n = min_t(u64, len - done, SIM_HOST_PAGE_SIZE - in);
		unsigned long kpfn = hvpfn >> (PAGE_SHIFT - SIM_HOST_PAGE_SHIFT);
		size_t kofs = ((hvpfn << SIM_HOST_PAGE_SHIFT) & ~PAGE_MASK) + in;
		u8 *va;

		va = kmap_local_page(pfn_to_page(kpfn));
		fn(va + kofs, n, done, ctx);
		kunmap_local(va);
		done += n;
		cond_resched();
	}
}

static void sim_walk_from(u8 *va, size_t n, u64 done, void *ctx)
{
	memcpy((u8 *)ctx + done, va, n);
}

static void sim_walk_to(u8 *va, size_t n, u64 done, void *ctx)
{
	memcpy(va, (const u8 *)ctx + done, n);
}

static void copy_from_guest(const struct sim_req *req, void *dst, u64 off,
			    u64 len)
{
	sim_walk(req, off, len, sim_walk_from, dst);
}

static void copy_to_guest(const struct sim_req *req, u64 off, const void *src,
			  u64 len)
{
	sim_walk(req, off, len, sim_walk_to, (void *)src);
}

static void sim_walk_fill(u8 *va, size_t n, u64 done, void *ctx)
{
	u32 seed = *(u32 *)ctx;
	size_t i;

	for (i = 0; i < n; i++)
		va[i] = az_sim_pattern(seed, done + i);
}

static void sim_walk_sum(u8 *va, size_t n, u64 done, void *ctx)
{
	u64 *h = ctx;

	*h = az_sim_fnv1a(*h, va, n);
}

/* ------------------------------------------------------------------ */
/* Completions                                                         */

static struct sim_inpkt *sim_mkpkt(u16 type, u64 id, u32 payload,
				   const struct sim_wire_comp *comp)
{
	u32 total = ALIGN(sizeof(struct vmpacket_descriptor) + payload, 8);
	struct vmpacket_descriptor *d;
	struct sim_inpkt *p;

	p = kzalloc(struct_size(p, data, total), GFP_KERNEL);
	if (!p)
		return NULL;
	d = (struct vmpacket_descriptor *)p->data;
	d->type = type;
	d->offset8 = sizeof(*d) >> 3;
	d->len8 = total >> 3;
	d->flags = 0;
	d->trans_id = id;
	memcpy(p->data + sizeof(*d), comp, min_t(u32, payload, sizeof(*comp)));
	p->len = total;
	return p;
}

/*
 * Send the completion(s) of @req and free it, unless the channel was closed
 * meanwhile (then vmbus_close() frees it). @faults: apply the request's fault.
 */
static void sim_complete(struct sim_req *req, u32 status, u32 resp_len,
			 bool faults)
{
	struct sim_dev *sd = req->sd;
	u32 fault = faults ? req->sreq.fault : AZ_SIM_FAULT_NONE;
	u32 arg = req->sreq.arg;
	struct sim_inpkt *pk[2] = { NULL, NULL };
	struct sim_wire_comp comp;
	u32 payload = sizeof(comp);
	u16 type = VM_PKT_COMP;
	unsigned long flags;
	bool sent = false;
	int i;

	switch (fault) {
	case AZ_SIM_FAULT_SHORT:
		payload = min(arg ? arg : 8, SIM_MAX_COMP_PAYLOAD);
		break;
	case AZ_SIM_FAULT_LONG:
		payload = min(arg ? arg : 4096, SIM_MAX_COMP_PAYLOAD);
		break;
	case AZ_SIM_FAULT_RESPLEN:
		resp_len = arg;
		break;
	case AZ_SIM_FAULT_BAD_TYPE:
		type = VM_PKT_DATA_INBAND;
		break;
	}

	comp.length = cpu_to_le32(sizeof(comp));
	comp.error = cpu_to_le32(status);
	comp.response_len = cpu_to_le32(resp_len);

	switch (fault) {
	case AZ_SIM_FAULT_UNKNOWN_ID:
		pk[0] = sim_mkpkt(type, arg ? arg : 0xdead, payload, &comp);
		break;
	case AZ_SIM_FAULT_ID_ZERO:
		pk[0] = sim_mkpkt(type, 0, payload, &comp);
		break;
	case AZ_SIM_FAULT_DUPLICATE:
		pk[0] = sim_mkpkt(type, req->trans_id, payload, &comp);
		break;
	}
	pk[1] = sim_mkpkt(type, req->trans_id, payload, &comp);
	if (!pk[1] || (!pk[0] && (fault == AZ_SIM_FAULT_UNKNOWN_ID ||
				  fault == AZ_SIM_FAULT_ID_ZERO ||
				  fault == AZ_SIM_FAULT_DUPLICATE))) {
		/* Out of memory: the host retries a little later. */
		kfree(pk[0]);
		kfree(pk[1]);
		req->stage = SIM_STAGE_COMPLETE;
		req->c_status = status;
		req->c_resp_len = resp_len;
		req->c_faults = faults;
		queue_delayed_work(sim_wq, &req->work, msecs_to_jiffies(10));
		return;
	}

	spin_lock_irqsave(&sd->lock, flags);
	if (!req->detached) {
		list_del(&req->node);
		/* A rescinded channel's host answers nothing any more. */
		if (!READ_ONCE(sd->chan.rescind)) {
			for (i = 0; i < 2; i++) {
				if (!pk[i])
					continue;
				list_add_tail(&pk[i]->node, &sd->inbound);
				atomic_long_inc(&sim_stats.completions);
				pk[i] = NULL;
			}
			sent = true;
		}
	} else {
		req = NULL;	/* vmbus_close() frees it */
	}
	spin_unlock_irqrestore(&sd->lock, flags);

	if (sent)
		tasklet_schedule(&sd->tasklet);
	kfree(pk[0]);
	kfree(pk[1]);
	kfree(req);
}

/* ------------------------------------------------------------------ */
/* The Blob VSP                                                        */

static __printf(1, 2) void sim_violation(const char *fmt, ...)
{
	unsigned long flags;
	va_list args;

	atomic_long_inc(&sim_stats.violations);
	spin_lock_irqsave(&sim_violation_lock, flags);
	va_start(args, fmt);
	vsnprintf(sim_last_violation, sizeof(sim_last_violation), fmt, args);
	va_end(args);
	spin_unlock_irqrestore(&sim_violation_lock, flags);
}

static bool sim_buf_ok(const char *what, u32 off, u32 len, u32 range_len)
{
	if ((u64)off + len <= range_len)
		return true;
	sim_violation("%s buffer [%u, +%u) outside the range of %u bytes",
		      what, off, len, range_len);
	return false;
}

/* Validate the packet as a real host would. False: a violation. */
static bool sim_validate(struct sim_req *req)
{
	const struct vmbus_packet_mpb_array *d = (const void *)req->pkt;
	const u32 hdr = sizeof(struct vmbus_packet_mpb_array);
	struct sim_wire_req *w = &req->wire;
	u32 inline_len, range_len, nr, i;

	if (req->desc_size < hdr || req->desc_size % 8) {
		sim_violation("descriptor of %u bytes", req->desc_size);
		return false;
	}
	if (d->type != VM_PKT_DATA_USING_GPA_DIRECT) {
		sim_violation("packet type %u", d->type);
		return false;
	}
	if (d->flags != VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED) {
		sim_violation("packet flags %#x", d->flags);
		return false;
	}
	if (d->rangecount != 1) {
		sim_violation("rangecount %u", d->rangecount);
		return false;
	}
	if ((u32)d->length8 * 8 < (u32)d->dataoffset8 * 8) {
		sim_violation("length8 %u < dataoffset8 %u", d->length8,
			      d->dataoffset8);
		return false;
	}
	inline_len = ((u32)d->length8 - d->dataoffset8) * 8;
	if (inline_len != sizeof(*w) || req->bufferlen != sizeof(*w)) {
		sim_violation("inline data of %u bytes (%u sent), want %zu",
			      inline_len, req->bufferlen, sizeof(*w));
		return false;
	}
	memcpy(w, req->pkt + req->desc_size, sizeof(*w));

	nr = (req->desc_size - hdr) / 8;
	range_len = d->range.len;
	req->nr_pfns = nr;
	req->pfns = (const u64 *)(req->pkt + hdr);

	if (d->range.offset) {
		sim_violation("range offset %u", d->range.offset);
		return false;
	}
	if (nr > SIM_MAX_PFNS) {
		sim_violation("%u pfns, at most %u", nr, SIM_MAX_PFNS);
		return false;
	}
	if ((u64)range_len != (u64)nr * SIM_HOST_PAGE_SIZE) {
		sim_violation("range len %u with %u pfns", range_len, nr);
		return false;
	}
	if (le32_to_cpu(w->version) != 0) {
		sim_violation("version %u", le32_to_cpu(w->version));
		return false;
	}
	if (le32_to_cpu(w->operation_type) != SIM_OP_USER_REQUEST) {
		sim_violation("operation_type %#x",
			      le32_to_cpu(w->operation_type));
		return false;
	}
	if (!le32_to_cpu(w->request_buffer_length)) {
		sim_violation("request_buffer_length 0");
		return false;
	}
	if (!le32_to_cpu(w->response_buffer_length)) {
		sim_violation("response_buffer_length 0");
		return false;
	}
	if (le32_to_cpu(w->data_buffer_valid) >
	    le32_to_cpu(w->data_buffer_length)) {
		sim_violation("data_buffer_valid %u > data_buffer_length %u",
			      le32_to_cpu(w->data_buffer_valid),
			      le32_to_cpu(w->data_buffer_length));
		return false;
	}
	if (!sim_buf_ok("request", le32_to_cpu(w->request_buffer_offset),
			le32_to_cpu(w->request_buffer_length), range_len) ||
	    !sim_buf_ok("response", le32_to_cpu(w->response_buffer_offset),
			le32_to_cpu(w->response_buffer_length), range_len))
		return false;
	if (le32_to_cpu(w->data_buffer_length) &&
	    !sim_buf_ok("data", le32_to_cpu(w->data_buffer_offset),
			le32_to_cpu(w->data_buffer_length), range_len))
		return false;

	for (i = 0; i < nr; i++) {
		u64 kpfn = req->pfns[i] >> (PAGE_SHIFT - SIM_HOST_PAGE_SHIFT);

		if (!pfn_valid((unsigned long)kpfn)) {
			sim_violation("pfn %#llx (index %u) not valid",
				      req->pfns[i], i);
			return false;
		}
	}
	return true;
}

/* Hold @req until "release" or close. False: the channel was closed. */
static bool sim_hold(struct sim_req *req)
{
	struct sim_dev *sd = req->sd;
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&sd->lock, flags);
	ok = !req->detached;
	if (ok) {
		req->held = true;
		atomic_inc(&sim_stats.held);
	}
	spin_unlock_irqrestore(&sd->lock, flags);
	return ok;
}

/* Execute the op and complete. */
static void sim_answer(struct sim_req *req)
{
	const struct sim_wire_req *w = &req->wire;
	const struct az_sim_req *s = &req->sreq;
	u32 req_off = le32_to_cpu(w->request_buffer_offset);
	u32 req_len = le32_to_cpu(w->request_buffer_length);
	u32 resp_off = le32_to_cpu(w->response_buffer_offset);
	u32 resp_len = le32_to_cpu(w->response_buffer_length);
	u32 data_off = le32_to_cpu(w->data_buffer_offset);
	u32 data_len = le32_to_cpu(w->data_buffer_length);
	u32 data_valid = le32_to_cpu(w->data_buffer_valid);
	const struct vmbus_packet_mpb_array *d = (const void *)req->pkt;
	struct az_sim_info info;
	u32 written = 0;
	__le64 v64;
	u64 h;

	switch (s->op) {
	case AZ_SIM_OP_ECHO: {
		u32 n = min(req_len, resp_len), done = 0;
		u8 bounce[256];

		while (done < n) {
			u32 c = min_t(u32, n - done, sizeof(bounce));

			copy_from_guest(req, bounce, (u64)req_off + done, c);
			copy_to_guest(req, (u64)resp_off + done, bounce, c);
			done += c;
		}
		written = n;
		break;
	}
	case AZ_SIM_OP_INFO:
		memset(&info, 0, sizeof(info));
		memcpy(info.packet, w, sizeof(info.packet));
		info.range_offset = d->range.offset;
		info.range_len = d->range.len;
		info.nr_pfns = req->nr_pfns;
		info.pkt_type = d->type;
		info.pkt_flags = d->flags;
		info.rangecount = d->rangecount;
		written = min_t(u32, resp_len, sizeof(info));
		copy_to_guest(req, resp_off, &info, written);
		break;
	case AZ_SIM_OP_FILL: {
		u32 seed = s->seed;

		if (data_len)
			sim_walk(req, data_off, data_len, sim_walk_fill, &seed);
		v64 = cpu_to_le64(data_len);
		written = min_t(u32, resp_len, sizeof(v64));
		copy_to_guest(req, resp_off, &v64, written);
		break;
	}
	case AZ_SIM_OP_SUM:
		h = AZ_SIM_FNV1A_INIT;
		if (data_valid)
			sim_walk(req, data_off, data_valid, sim_walk_sum, &h);
		v64 = cpu_to_le64(h);
		written = min_t(u32, resp_len, sizeof(v64));
		copy_to_guest(req, resp_off, &v64, written);
		break;
	}

	sim_complete(req, s->status, written, true);
}

/* A request just taken off the ring (or released). */
static void sim_new(struct sim_req *req)
{
	struct az_sim_req *s = &req->sreq;
	u32 delay, timeout;

	if (!sim_validate(req)) {
		sim_complete(req, AZ_SIM_STATUS_VIOLATION, 0, false);
		return;
	}

	if (le32_to_cpu(req->wire.request_buffer_length) < sizeof(*s))
		goto bad;
	copy_from_guest(req, s, le32_to_cpu(req->wire.request_buffer_offset),
			sizeof(*s));
	s->magic = le32_to_cpu((__force __le32)s->magic);
	s->op = le32_to_cpu((__force __le32)s->op);
	s->fault = le32_to_cpu((__force __le32)s->fault);
	s->delay_ms = le32_to_cpu((__force __le32)s->delay_ms);
	s->status = le32_to_cpu((__force __le32)s->status);
	s->seed = le32_to_cpu((__force __le32)s->seed);
	s->arg = le32_to_cpu((__force __le32)s->arg);
	if (s->magic != AZ_SIM_MAGIC ||
	    s->op < AZ_SIM_OP_ECHO || s->op > AZ_SIM_OP_SUM ||
	    s->fault > AZ_SIM_FAULT_BAD_TYPE)
		goto bad;

	if (req->released) {
		sim_answer(req);
		return;
	}
	if (s->fault == AZ_SIM_FAULT_NEVER) {
		sim_hold(req);
		return;
	}

	delay = s->delay_ms;
	timeout = le32_to_cpu(req->wire.timeout_ms);
	if (timeout && timeout <= delay) {
		req->stage = SIM_STAGE_TIMEOUT;
		queue_delayed_work(sim_wq, &req->work,
				   msecs_to_jiffies(timeout));
	} else if (delay) {
		req->stage = SIM_STAGE_ANSWER;
		queue_delayed_work(sim_wq, &req->work, msecs_to_jiffies(delay));
	} else {
		sim_answer(req);
	}
	return;

bad:
	memset(s, 0, sizeof(*s));
	atomic_long_inc(&sim_stats.bad_requests);
	sim_complete(req, AZ_SIM_STATUS_BAD_REQUEST, 0, false);
}

static void sim_host_work(struct work_struct *work)
{
	struct sim_req *req = container_of(to_delayed_work(work),
					   struct sim_req, work);
	struct sim_dev *sd = req->sd;
	unsigned long flags;
	bool hold = false;

	spin_lock_irqsave(&sd->lock, flags);
	if (req->detached) {
		spin_unlock_irqrestore(&sd->lock, flags);
		return;
	}
	if (!req->taken) {
		req->taken = true;
		sd->pending -= req->cost;
	}
	if (req->stage == SIM_STAGE_NEW && !req->released &&
	    READ_ONCE(sim_hang)) {
		req->held = true;
		atomic_inc(&sim_stats.held);
		hold = true;
	}
	spin_unlock_irqrestore(&sd->lock, flags);
	if (hold)
		return;

	switch (req->stage) {
	case SIM_STAGE_NEW:
		sim_new(req);
		break;
	case SIM_STAGE_ANSWER:
		sim_answer(req);
		break;
	case SIM_STAGE_TIMEOUT:
		sim_complete(req, SIM_HOST_TIMEOUT, 0, true);
		break;
	case SIM_STAGE_COMPLETE:
		sim_complete(req, req->c_status, req->c_resp_len,
			     req->c_faults);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Channel                                                             */

int vmbus_sendpacket_mpb_desc(struct vmbus_channel *channel,
			      struct vmbus_packet_mpb_array *desc,
			      u32 desc_size, void *buffer, u32 bufferlen,
			      u64 requestid)
{
	struct sim_dev *sd = chan_to_sd(channel);
	u32 packetlen = desc_size + bufferlen;
	u32 packetlen_aligned = ALIGN(packetlen, sizeof(u64));
	u32 cost = packetlen_aligned + sizeof(u64);	/* + ring trailer */
	struct sim_req *req = NULL;
	unsigned long flags;
	u64 rqst_id;
	int ret = 0;

	/* The descriptor, as the real function fills it in. */
	desc->type = VM_PKT_DATA_USING_GPA_DIRECT;
	desc->flags = VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED;
	desc->dataoffset8 = desc_size >> 3;
	desc->length8 = (u16)(packetlen_aligned >> 3);
	desc->transactionid = VMBUS_RQST_ERROR;
	desc->reserved = 0;

	spin_lock_irqsave(&sd->lock, flags);
	if (channel->rescind) {
		ret = -ENODEV;
		goto unlock;
	}
	if (!sd->open) {
		ret = -EINVAL;
		goto unlock;
	}
	/* hv_ringbuffer_write(): full unless strictly more room than needed */
	if (sd->send_size - PAGE_SIZE - sd->pending <= cost) {
		atomic_long_inc(&sim_stats.ring_full);
		ret = -EAGAIN;
		goto unlock;
	}
	req = kzalloc(struct_size(req, pkt, packetlen_aligned),
		      GFP_ATOMIC | __GFP_NOWARN);
	if (!req) {
		ret = -EAGAIN;	/* see README.md */
		goto unlock;
	}
	req->sd = sd;
	req->cost = cost;
	req->desc_size = desc_size;
	req->bufferlen = bufferlen;
	req->stage = SIM_STAGE_NEW;
	INIT_DELAYED_WORK(&req->work, sim_host_work);
	memcpy(req->pkt, desc, desc_size);
	memcpy(req->pkt + desc_size, buffer, bufferlen);

	if (channel->next_request_id_callback) {
		rqst_id = channel->next_request_id_callback(channel, requestid);
		if (rqst_id == VMBUS_RQST_ERROR) {
			ret = -EAGAIN;
			goto unlock;
		}
	} else {
		rqst_id = VMBUS_NO_RQSTOR;
	}
	req->trans_id = rqst_id == VMBUS_NO_RQSTOR ? requestid : rqst_id;
	((struct vmbus_packet_mpb_array *)req->pkt)->transactionid =
		req->trans_id;
	sd->pending += cost;
	list_add_tail(&req->node, &sd->reqs);
	atomic_long_inc(&sim_stats.requests);
	queue_delayed_work(sim_wq, &req->work, 0);
	req = NULL;
unlock:
	spin_unlock_irqrestore(&sd->lock, flags);
	kfree(req);
	return ret;
}
EXPORT_SYMBOL_GPL(vmbus_sendpacket_mpb_desc);

int vmbus_open(struct vmbus_channel *channel, u32 send_ringbuffer_size,
	       u32 recv_ringbuffer_size, void *userdata, u32 userdatalen,
	       void (*onchannelcallback)(void *context), void *context)
{
	struct sim_dev *sd = chan_to_sd(channel);
	unsigned long flags;
	u32 max_pkt_size;
	u8 *pkt_buf;
	int ret;

	/* vmbus_alloc_ring() */
	if (send_ringbuffer_size % PAGE_SIZE || recv_ringbuffer_size % PAGE_SIZE)
		return -EINVAL;
	/* Each ring starts with a header page (struct hv_ring_buffer). */
	if (send_ringbuffer_size < PAGE_SIZE || recv_ringbuffer_size < PAGE_SIZE)
		return -EINVAL;
	/* __vmbus_open() */
	if (userdatalen > MAX_USER_DEFINED_BYTES)
		return -EINVAL;
	if (channel->state != CHANNEL_OPEN_STATE)
		return -EINVAL;
	if (channel->rescind)
		return -ENODEV;

	max_pkt_size = channel->max_pkt_size ?: VMBUS_DEFAULT_MAX_PKT_SIZE;
	pkt_buf = kzalloc(max_pkt_size, GFP_KERNEL);
	if (!pkt_buf)
		return -ENOMEM;

	if (channel->rqstor_size) {
		ret = sim_alloc_requestor(&channel->requestor,
					  channel->rqstor_size);
		if (ret) {
			kfree(pkt_buf);
			return ret;
		}
	}

	spin_lock_irqsave(&sd->lock, flags);
	sd->rqstor_alloced = channel->rqstor_size != 0;
	channel->max_pkt_size = max_pkt_size;
	channel->onchannel_callback = onchannelcallback;
	channel->channel_callback_context = context;
	sd->send_size = send_ringbuffer_size;
	sd->recv_size = recv_ringbuffer_size;
	sd->userdatalen = userdatalen;
	sd->pending = 0;
	sd->pkt_buf = pkt_buf;
	sd->open = true;
	channel->state = CHANNEL_OPENED_STATE;
	spin_unlock_irqrestore(&sd->lock, flags);

	return 0;
}
EXPORT_SYMBOL_GPL(vmbus_open);

static void sim_close(struct sim_dev *sd)
{
	struct vmbus_channel *channel = &sd->chan;
	struct sim_inpkt *p, *ptmp;
	struct sim_req *req, *rtmp;
	unsigned long flags;
	LIST_HEAD(reqs);
	LIST_HEAD(inbound);
	bool was_open;
	u8 *pkt_buf;

	/* vmbus_reset_channel_cb(): wait for a running callback. */
	tasklet_disable(&sd->tasklet);

	spin_lock_irqsave(&sd->lock, flags);
	was_open = sd->open;
	sd->open = false;
	channel->onchannel_callback = NULL;
	list_for_each_entry(req, &sd->reqs, node) {
		req->detached = true;
		if (req->held)
			atomic_dec(&sim_stats.held);
	}
	list_splice_init(&sd->reqs, &reqs);
	list_splice_init(&sd->inbound, &inbound);
	sd->pending = 0;
	pkt_buf = sd->pkt_buf;
	sd->pkt_buf = NULL;
	if (was_open)
		channel->state = CHANNEL_OPEN_STATE;
	spin_unlock_irqrestore(&sd->lock, flags);

	tasklet_enable(&sd->tasklet);

	/* The host forgets every request of the channel. */
	list_for_each_entry_safe(req, rtmp, &reqs, node) {
		cancel_delayed_work_sync(&req->work);
		list_del(&req->node);
		kfree(req);
	}
	list_for_each_entry_safe(p, ptmp, &inbound, node) {
		list_del(&p->node);
		kfree(p);
	}
	kfree(pkt_buf);

	if (was_open && sd->rqstor_alloced) {
		sim_free_requestor(&channel->requestor);
		sd->rqstor_alloced = false;
	}
}

void vmbus_close(struct vmbus_channel *channel)
{
	sim_close(chan_to_sd(channel));
}
EXPORT_SYMBOL_GPL(vmbus_close);

/* ------------------------------------------------------------------ */
/* The bus                                                             */

static ssize_t class_id_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "{%pUl}\n",
			  &dev_to_sd(dev)->chan.offermsg.offer.if_type);
}
static DEVICE_ATTR_RO(class_id);

static ssize_t device_id_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "{%pUl}\n",
			  &dev_to_sd(dev)->chan.offermsg.offer.if_instance);
}
static DEVICE_ATTR_RO(device_id);

static ssize_t modalias_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "vmbus:%*phN\n", UUID_SIZE,
			  &dev_to_sd(dev)->hdev.dev_type);
}
static DEVICE_ATTR_RO(modalias);

static struct attribute *sim_dev_attrs[] = {
	&dev_attr_class_id.attr,
	&dev_attr_device_id.attr,
	&dev_attr_modalias.attr,
	NULL,
};
ATTRIBUTE_GROUPS(sim_dev);

static const struct hv_vmbus_device_id *
sim_get_id(const struct hv_driver *drv, const struct hv_device *hdev)
{
	const struct hv_vmbus_device_id *id = drv->id_table;

	if (!id)
		return NULL;
	for (; !guid_is_null(&id->guid); id++)
		if (guid_equal(&id->guid, &hdev->dev_type))
			return id;
	return NULL;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static int sim_bus_match(struct device *dev, const struct device_driver *drv)
#else
static int sim_bus_match(struct device *dev, struct device_driver *drv)
#endif
{
	return !!sim_get_id(sim_drv(drv), &dev_to_sd(dev)->hdev);
}

static int sim_bus_probe(struct device *dev)
{
	struct hv_driver *drv = sim_drv(dev->driver);
	struct hv_device *hdev = &dev_to_sd(dev)->hdev;
	int ret;

	if (!drv->probe)
		return -ENODEV;
	ret = drv->probe(hdev, sim_get_id(drv, hdev));
	if (ret)
		pr_err("probe failed for device %s (%d)\n", dev_name(dev), ret);
	return ret;
}

static void sim_bus_remove(struct device *dev)
{
	struct hv_device *hdev = &dev_to_sd(dev)->hdev;
	struct hv_driver *drv;

	if (!dev->driver)
		return;
	drv = sim_drv(dev->driver);
	if (drv->remove)
		drv->remove(hdev);
}

static void sim_bus_shutdown(struct device *dev)
{
	struct hv_driver *drv;

	if (!dev->driver)
		return;
	drv = sim_drv(dev->driver);
	if (drv->shutdown)
		drv->shutdown(&dev_to_sd(dev)->hdev);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
static int sim_bus_uevent(const struct device *dev, struct kobj_uevent_env *env)
#else
static int sim_bus_uevent(struct device *dev, struct kobj_uevent_env *env)
#endif
{
	return add_uevent_var(env, "MODALIAS=vmbus:%*phN", UUID_SIZE,
			      &dev_to_sd(dev)->hdev.dev_type);
}

static struct bus_type sim_bus = {
	.name = "vmbus",
	.dev_groups = sim_dev_groups,
	.match = sim_bus_match,
	.probe = sim_bus_probe,
	.remove = sim_bus_remove,
	.shutdown = sim_bus_shutdown,
	.uevent = sim_bus_uevent,
};

int __vmbus_driver_register(struct hv_driver *hv_driver, struct module *owner,
			    const char *mod_name)
{
	hv_driver->driver.name = hv_driver->name;
	hv_driver->driver.owner = owner;
	hv_driver->driver.mod_name = mod_name;
	hv_driver->driver.bus = &sim_bus;

	spin_lock_init(&hv_driver->dynids.lock);
	INIT_LIST_HEAD(&hv_driver->dynids.list);

	return driver_register(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(__vmbus_driver_register);

void vmbus_driver_unregister(struct hv_driver *hv_driver)
{
	driver_unregister(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(vmbus_driver_unregister);

static void sim_dev_release(struct device *dev)
{
	struct sim_dev *sd = dev_to_sd(dev);

	if (sd->open) {
		pr_warn("device %d released with its channel open\n",
			sd->index);
		sim_close(sd);
	}
	tasklet_kill(&sd->tasklet);
	ida_free(&sim_ida, sd->index);
	kfree(sd);
}

static int sim_offer(void)
{
	struct vmbus_channel *chan;
	struct sim_dev *sd;
	int index, ret;

	index = ida_alloc_max(&sim_ida, SIM_MAX_DEVICES - 1, GFP_KERNEL);
	if (index < 0)
		return index;
	sd = kzalloc(sizeof(*sd), GFP_KERNEL);
	if (!sd) {
		ida_free(&sim_ida, index);
		return -ENOMEM;
	}
	sd->index = index;
	INIT_LIST_HEAD(&sd->node);
	spin_lock_init(&sd->lock);
	INIT_LIST_HEAD(&sd->reqs);
	INIT_LIST_HEAD(&sd->inbound);
	tasklet_setup(&sd->tasklet, sim_tasklet_fn);

	chan = &sd->chan;
	INIT_LIST_HEAD(&chan->listentry);
	INIT_LIST_HEAD(&chan->sc_list);
	spin_lock_init(&chan->sched_lock);
	init_completion(&chan->rescind_event);
	chan->state = CHANNEL_OPEN_STATE;
	chan->callback_mode = HV_CALL_BATCHED;
	chan->device_obj = &sd->hdev;
	chan->offermsg.offer.if_type = sim_class_guid;
	chan->offermsg.offer.if_instance =
		GUID_INIT(0x8e8b3c1a, 0x5c2f, 0x4a3e, 0x9d, 0x6b,
			  0, 0, 0, 0, index >> 8, index & 0xff);
	chan->offermsg.child_relid = index + 1;

	sd->hdev.dev_type = chan->offermsg.offer.if_type;
	sd->hdev.dev_instance = chan->offermsg.offer.if_instance;
	sd->hdev.vendor_id = 0x1414;
	sd->hdev.channel = chan;

	device_initialize(&sd->hdev.device);
	sd->hdev.device.bus = &sim_bus;
	sd->hdev.device.parent = sim_root;
	sd->hdev.device.release = sim_dev_release;
	sd->hdev.device.dma_parms = &sd->hdev.dma_parms;
	sd->hdev.device.dma_mask = &sd->hdev.dma_mask;
	sd->hdev.dma_mask = DMA_BIT_MASK(64);
	sd->hdev.device.coherent_dma_mask = DMA_BIT_MASK(64);
	ret = dev_set_name(&sd->hdev.device, "%pUl", &sd->hdev.dev_instance);
	if (!ret)
		ret = device_add(&sd->hdev.device);
	if (ret) {
		put_device(&sd->hdev.device);
		return ret;
	}

	mutex_lock(&sim_mutex);
	list_add_tail(&sd->node, &sim_devs);
	mutex_unlock(&sim_mutex);
	return 0;
}

static void sim_rescind(struct sim_dev *sd)
{
	unsigned long flags;

	spin_lock_irqsave(&sd->lock, flags);
	WRITE_ONCE(sd->chan.rescind, true);
	spin_unlock_irqrestore(&sd->lock, flags);
	if (sd->chan.chn_rescind_callback)
		sd->chan.chn_rescind_callback(&sd->chan);
	device_unregister(&sd->hdev.device);
}

/* Take device @index off the list; NULL if there is none. */
static struct sim_dev *sim_take(unsigned int index)
{
	struct sim_dev *sd;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		if (sd->index == index) {
			list_del_init(&sd->node);
			mutex_unlock(&sim_mutex);
			return sd;
		}
	}
	mutex_unlock(&sim_mutex);
	return NULL;
}

static int sim_suspend_resume(unsigned int index)
{
	struct sim_dev *sd, *found = NULL;
	struct hv_driver *drv;
	struct device *dev;
	int ret = 0;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		if (sd->index == index) {
			found = sd;
			get_device(&sd->hdev.device);
			break;
		}
	}
	mutex_unlock(&sim_mutex);
	if (!found)
		return -ENODEV;

	dev = &found->hdev.device;
	device_lock(dev);
	if (dev->driver) {
		drv = sim_drv(dev->driver);
		if (!drv->suspend || !drv->resume) {
			ret = -EOPNOTSUPP;
		} else {
			ret = drv->suspend(&found->hdev);
			if (!ret)
				ret = drv->resume(&found->hdev);
		}
	}
	device_unlock(dev);
	put_device(dev);
	return ret;
}

static void sim_release_held(void)
{
	struct sim_req *req;
	struct sim_dev *sd;
	unsigned long flags;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		spin_lock_irqsave(&sd->lock, flags);
		list_for_each_entry(req, &sd->reqs, node) {
			if (!req->held)
				continue;
			req->held = false;
			req->released = true;
			req->stage = SIM_STAGE_NEW;
			atomic_dec(&sim_stats.held);
			queue_delayed_work(sim_wq, &req->work, 0);
		}
		spin_unlock_irqrestore(&sd->lock, flags);
	}
	mutex_unlock(&sim_mutex);
}

/* ------------------------------------------------------------------ */
/* debugfs                                                             */

static ssize_t sim_control_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[64], *cmd;
	unsigned int n;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	cmd = strim(buf);

	if (!strcmp(cmd, "offer")) {
		ret = sim_offer();
	} else if (!strcmp(cmd, "release")) {
		sim_release_held();
		ret = 0;
	} else if (!strcmp(cmd, "reset")) {
		atomic_long_set(&sim_stats.requests, 0);
		atomic_long_set(&sim_stats.completions, 0);
		atomic_long_set(&sim_stats.violations, 0);
		atomic_long_set(&sim_stats.bad_requests, 0);
		atomic_long_set(&sim_stats.ring_full, 0);
		spin_lock_irq(&sim_violation_lock);
		sim_last_violation[0] = '\0';
		spin_unlock_irq(&sim_violation_lock);
		ret = 0;
	} else if (!strncmp(cmd, "hang ", 5)) {
		ret = kstrtouint(cmd + 5, 10, &n);
		if (!ret && n > 1)
			ret = -EINVAL;
		if (!ret)
			WRITE_ONCE(sim_hang, n);
	} else if (!strncmp(cmd, "rescind ", 8)) {
		ret = kstrtouint(cmd + 8, 10, &n);
		if (!ret) {
			struct sim_dev *sd = sim_take(n);

			if (sd)
				sim_rescind(sd);
			else
				ret = -ENODEV;
		}
	} else if (!strncmp(cmd, "suspend ", 8)) {
		ret = kstrtouint(cmd + 8, 10, &n);
		if (!ret)
			ret = sim_suspend_resume(n);
	} else {
		ret = -EINVAL;
	}

	return ret ? ret : count;
}

static const struct file_operations sim_control_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_control_write,
	.llseek = noop_llseek,
};

static int sim_stats_show(struct seq_file *m, void *v)
{
	unsigned int open = 0, devices = 0;
	struct sim_dev *sd;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		devices++;
		if (READ_ONCE(sd->open))
			open++;
	}
	mutex_unlock(&sim_mutex);

	seq_printf(m, "requests %ld\n", atomic_long_read(&sim_stats.requests));
	seq_printf(m, "completions %ld\n",
		   atomic_long_read(&sim_stats.completions));
	seq_printf(m, "violations %ld\n",
		   atomic_long_read(&sim_stats.violations));
	seq_printf(m, "bad_requests %ld\n",
		   atomic_long_read(&sim_stats.bad_requests));
	seq_printf(m, "held %d\n", atomic_read(&sim_stats.held));
	seq_printf(m, "ring_full %ld\n",
		   atomic_long_read(&sim_stats.ring_full));
	seq_printf(m, "open_channels %u\n", open);
	seq_printf(m, "devices %u\n", devices);
	spin_lock_irq(&sim_violation_lock);
	seq_printf(m, "last_violation %s\n",
		   sim_last_violation[0] ? sim_last_violation : "-");
	spin_unlock_irq(&sim_violation_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_stats);

static int sim_channel_show(struct seq_file *m, void *v)
{
	struct sim_dev *sd;
	unsigned long flags;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		spin_lock_irqsave(&sd->lock, flags);
		seq_printf(m, "%d %pUl open %d send_ring %u recv_ring %u userdatalen %u rqstor_size %u max_pkt_size %u rescind %d\n",
			   sd->index, &sd->hdev.dev_instance, sd->open,
			   sd->send_size, sd->recv_size, sd->userdatalen,
			   sd->chan.rqstor_size, sd->chan.max_pkt_size,
			   sd->chan.rescind);
		spin_unlock_irqrestore(&sd->lock, flags);
	}
	mutex_unlock(&sim_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_channel);

/* ------------------------------------------------------------------ */

static int __init sim_init(void)
{
	int ret;

	sim_wq = alloc_workqueue("az_blob_sim", WQ_UNBOUND, 0);
	if (!sim_wq)
		return -ENOMEM;

	ret = bus_register(&sim_bus);
	if (ret)
		goto err_wq;

	sim_root = root_device_register("vmbus_sim");
	if (IS_ERR(sim_root)) {
		ret = PTR_ERR(sim_root);
		goto err_bus;
	}

	ret = sim_offer();
	if (ret)
		goto err_root;

	sim_debugfs = debugfs_create_dir("az_blob_sim", NULL);
	debugfs_create_file("control", 0200, sim_debugfs, NULL,
			    &sim_control_fops);
	debugfs_create_file("stats", 0444, sim_debugfs, NULL,
			    &sim_stats_fops);
	debugfs_create_file("channel", 0444, sim_debugfs, NULL,
			    &sim_channel_fops);
	return 0;

err_root:
	root_device_unregister(sim_root);
err_bus:
	bus_unregister(&sim_bus);
err_wq:
	destroy_workqueue(sim_wq);
	return ret;
}

static void __exit sim_exit(void)
{
	struct sim_dev *sd;

	/* Waits for control writes in progress. */
	debugfs_remove_recursive(sim_debugfs);

	for (;;) {
		mutex_lock(&sim_mutex);
		sd = list_first_entry_or_null(&sim_devs, struct sim_dev, node);
		if (sd)
			list_del_init(&sd->node);
		mutex_unlock(&sim_mutex);
		if (!sd)
			break;
		sim_rescind(sd);
	}

	root_device_unregister(sim_root);
	bus_unregister(&sim_bus);
	destroy_workqueue(sim_wq);
	ida_destroy(&sim_ida);
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated VMBus and Azure Blob VSP for testing hv_azure_blob (test only)");
