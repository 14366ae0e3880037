// SPDX-License-Identifier: GPL-2.0
/*
 * relay - the relay personality of the simulated VMBus (az_blob_relay.ko):
 * the Blob device's host is a process outside the guest.
 *
 * TEST-ONLY. A PCI driver for QEMU's ivshmem-doorbell device (1af4:1110)
 * whose shared memory holds the relay rings of ../../az_blob_host/az_relay.h
 * (the contract with the host VSP, tools/az_blob_host). For each such device
 * whose host is ready it offers one Blob device on the simulated VMBus of
 * az_blob_sim.ko. Every packet the simulated host takes off that device's
 * VMBus ring is copied, as it was on the ring, into the submission ring,
 * and the host's doorbell rung. The host's completions come back through
 * the completion ring and the device's MSI-X vector; a tasklet turns each
 * into the VMBus completion packet the real host would write, and the core
 * delivers it as it does every host packet: into the guest's ring, then the
 * channel interrupt on CPU 0, then the channel's tasklet, then the driver's
 * callback. The host is untrusted: every record it writes is checked.
 *
 *   modprobe az_blob_sim; modprobe az_blob_relay
 *
 * No module parameters: the ivshmem device and its host say it all. See
 * README.md (personalities, stats) and vm/relay-smoke.sh.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/hyperv.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "az_blob_sim.h"
#include "az_relay.h"
#include "vmbus_sim.h"

#define RELAY_NAME		"az_blob_relay"
/* QEMU's ivshmem (plain or doorbell): PCI_VENDOR_ID_REDHAT_QUMRANET */
#define RELAY_PCI_VENDOR	0x1af4
#define RELAY_PCI_DEVICE	0x1110
#define RELAY_BAR_REGS		0
#define RELAY_BAR_SHM		2

#define RELAY_REC_ALIGN		16U
/* The longest VMBus packet: len8 is 16 bits. */
#define RELAY_MAX_PKT		(U16_MAX * 8U)
#define RELAY_MAX_REC		ALIGN(sizeof(struct az_relay_rec) + \
				      RELAY_MAX_PKT, RELAY_REC_ALIGN)
/* A record is at most half a ring: the SQ must take the longest packet. */
#define RELAY_MIN_SQ_SIZE	(2U << 20)
#define RELAY_MIN_CQ_SIZE	4096U
/* CQ records one run of the consumer handles before it lets others run. */
#define RELAY_CQ_BUDGET		256
/* After an allocation failure, the next try at sending a completion. */
#define RELAY_RETRY_MS		10
/* The 12 bytes of a Blob completion the driver gets (PROTOCOL.md). */
#define RELAY_COMP_LEN		12U
/* How long "relay_inject" waits for the host's answer. */
#define RELAY_INJ_WAIT_MS	5000

static_assert(sizeof(struct az_relay_rec) == 16);
static_assert(sizeof(struct az_relay_completion) == 16);
static_assert(RELAY_MIN_SQ_SIZE >= 2 * RELAY_MAX_REC);

enum relay_req_state {
	RR_NONE,		/* done or forgotten */
	RR_BACKLOG,		/* waiting for room in the SQ (r->backlog) */
	RR_SENT,		/* in the SQ or at the host (r->sent) */
	RR_RETRY,		/* answered, completion waiting for memory */
};

/* A request, in vmbus_sim_req.priv; every field under relay.lock. */
struct relay_req {
	struct vmbus_sim_req *req;
	enum relay_req_state state;
	u64 cookie;
	u16 gen;
	struct hlist_node hnode;	/* r->sent, by cookie */
	struct list_head node;		/* r->backlog or r->retry */
	struct az_relay_completion comp;	/* RR_RETRY */
};

/* One ivshmem device, its host and (once offered) its Blob device. */
struct relay {
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0 */
	void *shm;			/* BAR2, mapped write-back */
	struct az_relay_shm *hdr;
	u8 *sq, *cq;			/* the rings' data areas */
	u32 sq_size, cq_size;
	u32 doorbell;			/* host_peer << 16 | vector 0 */
	int irq;

	spinlock_t lock;		/* everything below up to wq */
	u32 sq_write;			/* ours; published as sq.write_index */
	u32 sq_read;			/* the host's sq.read_index, checked */
	u32 cq_read;			/* ours; published as cq.read_index */
	struct list_head backlog;	/* struct relay_req, in order */
	struct list_head retry;		/* struct relay_req */
	DECLARE_HASHTABLE(sent, 8);	/* struct relay_req at the host */
	u64 next_cookie;		/* the last one handed out */
	u64 stale_below;		/* cookies of closed generations */
	u32 gen;			/* channel opens so far */
	u32 at_host;			/* packets of gen not answered */
	bool closing;			/* CLOSE of close_gen sent */
	bool closed;			/* its CLOSED came */
	u16 close_gen;
	bool dead;			/* host gone or broken ring: final */
	const char *why;		/* why dead */
	unsigned long kicks;		/* consumer runs, for the closer */

	wait_queue_head_t wq;		/* closer: room, CLOSED, dead */
	struct tasklet_struct consumer;
	struct delayed_work beat;	/* offer, heartbeat, rescind */
	struct delayed_work retry_work;
	u64 last_beat;
	unsigned long beat_at;		/* jiffies when it last moved */
	unsigned long start;		/* jiffies at probe */
	bool said_starting;
	bool gone_done;			/* the beat work saw it dead */
	bool stopping;
	struct vmbus_sim_dev *sd;	/* our device, once offered */

	struct list_head node;		/* relay_list, under relay_mutex */
	/* "relay_inject": the page its packets name, under relay_mutex */
	struct page *inj_page;
	u64 inj_cookie;			/* under lock: the one at the host */
	bool inj_done;			/* under lock: its answer came */
	struct az_relay_completion inj_comp;	/* under lock: the answer */
};

static struct {
	atomic_long_t packets;
	atomic_long_t completions;
	atomic_long_t dropped;
	atomic_long_t stale;
	atomic_long_t sq_full;
	atomic_long_t closes;
	atomic_long_t close_timeouts;
	atomic_long_t host_gone;
	atomic_long_t injected;
	atomic_t backlog;
	atomic_t at_host;
	atomic_t hosts;
} relay_stats;

/* Every bound ivshmem device, for "relay_inject" and the stats. */
static LIST_HEAD(relay_list);
/* relay_list, the injection state, relay_inj_stats; may be held long. */
static DEFINE_MUTEX(relay_mutex);

static const struct vmbus_sim_ops relay_ops;
/* The heartbeat (which may sleep in an offer or a rescind) and retries. */
static struct workqueue_struct *relay_wq;

static inline struct relay_req *rr_of(struct vmbus_sim_req *req)
{
	return (struct relay_req *)req->priv;
}

static void relay_ring_doorbell(struct relay *r)
{
	writel(r->doorbell, r->regs + AZ_RELAY_IVSHMEM_DOORBELL);
}

/* Stop talking to the host; the heartbeat work rescinds. Under lock. */
static void relay_kill_locked(struct relay *r, const char *why)
{
	if (r->dead)
		return;
	r->dead = true;
	r->why = why;
	mod_delayed_work(relay_wq, &r->beat, 0);
}

/* ------------------------------------------------------------------ */
/* The submission ring: we produce, the host consumes                  */

/* Is there room for @need bytes? Checks the host's read index. */
static bool relay_sq_room(struct relay *r, u32 need)
{
	/* The host read the records before it moved its index. */
	u32 read = le32_to_cpu(smp_load_acquire(&r->hdr->sq.read_index));

	/* The host may only move its index forward, up to ours. */
	if (read - r->sq_read > r->sq_write - r->sq_read) {
		relay_kill_locked(r, "the host's sq.read_index is out of range");
		return false;
	}
	r->sq_read = read;
	return r->sq_size - (r->sq_write - read) >= need;
}

/*
 * Write one record (header, @len bytes of @data, zeros up to 16) at the
 * producer index, after a PAD record if it would not fit before the end of
 * the data area, and publish it. False if there is no room (the host is
 * then asked to signal when it frees some). Under lock.
 */
static bool relay_sq_push(struct relay *r, u16 type, u16 gen, u64 cookie,
			  const void *data, u32 len)
{
	u32 rec_len = ALIGN(sizeof(struct az_relay_rec) + len, RELAY_REC_ALIGN);
	u32 off = r->sq_write & (r->sq_size - 1);
	u32 pad = off + rec_len > r->sq_size ? r->sq_size - off : 0;
	struct az_relay_rec rec = { };
	u8 *p;

	if (r->dead)
		return false;
	if (!relay_sq_room(r, pad + rec_len)) {
		if (r->dead)
			return false;
		/* Ask, then look again: the host may have just read. */
		WRITE_ONCE(r->hdr->sq.producer_waiting, cpu_to_le32(1));
		/* The flag is visible before the index is read again. */
		smp_mb();
		if (!relay_sq_room(r, pad + rec_len)) {
			atomic_long_inc(&relay_stats.sq_full);
			return false;
		}
	}

	if (pad) {
		rec.len = cpu_to_le32(pad);
		rec.type = cpu_to_le16(AZ_RELAY_REC_PAD);
		memcpy(r->sq + off, &rec, sizeof(rec));
		r->sq_write += pad;
		off = 0;
	}
	rec.len = cpu_to_le32(rec_len);
	rec.type = cpu_to_le16(type);
	rec.gen = cpu_to_le16(gen);
	rec.cookie = cpu_to_le64(cookie);
	p = r->sq + off;
	memcpy(p, &rec, sizeof(rec));
	if (len)
		memcpy(p + sizeof(rec), data, len);
	memset(p + sizeof(rec) + len, 0, rec_len - sizeof(rec) - len);
	r->sq_write += rec_len;
	/* The record before the index that shows it. */
	smp_store_release(&r->hdr->sq.write_index, cpu_to_le32(r->sq_write));
	return true;
}

/* Copy @rr's packet into the SQ. Under lock. */
static bool relay_push_req(struct relay *r, struct relay_req *rr)
{
	struct vmbus_sim_req *req = rr->req;

	if (!relay_sq_push(r, AZ_RELAY_REC_PACKET, rr->gen, rr->cookie,
			   req->pkt, req->len))
		return false;
	rr->state = RR_SENT;
	hash_add(r->sent, &rr->hnode, rr->cookie);
	atomic_inc(&relay_stats.at_host);
	r->at_host++;
	atomic_long_inc(&relay_stats.packets);
	return true;
}

/* Move what fits of the backlog into the SQ. True: ring the doorbell. */
static bool relay_flush_backlog(struct relay *r)
{
	struct relay_req *rr;
	bool pushed = false;

	while ((rr = list_first_entry_or_null(&r->backlog, struct relay_req,
					      node))) {
		if (!relay_push_req(r, rr))
			break;
		list_del_init(&rr->node);
		atomic_dec(&relay_stats.backlog);
		pushed = true;
	}
	return pushed;
}

/* ------------------------------------------------------------------ */
/* Completions to the guest                                            */

/*
 * Give @rr's completion to the core as the VMBus completion packet the real
 * host sends, which frees the request. Under lock (so that close_req()
 * cannot free it meanwhile); from the consumer or the retry work.
 */
static void relay_send_comp(struct relay *r, struct relay_req *rr)
{
	struct vmbus_sim_req *req = rr->req;
	struct vmbus_sim_pkt pk = {
		.len = RELAY_COMP_LEN,
		.type = VM_PKT_COMP,
		.trans_id = req->trans_id,
	};
	u8 comp[RELAY_COMP_LEN];
	int ret;

	memcpy(comp, &rr->comp, sizeof(comp));
	pk.data = comp;
	rr->state = RR_NONE;
	ret = vmbus_sim_send(req->sd, req, &pk, 1, GFP_ATOMIC);
	if (ret == -ENOMEM) {
		rr->state = RR_RETRY;
		list_add_tail(&rr->node, &r->retry);
		mod_delayed_work(relay_wq, &r->retry_work,
				 msecs_to_jiffies(RELAY_RETRY_MS));
		return;
	}
	/* -ENODEV: the core dropped it (rescinded); -ESHUTDOWN: closing. */
	if (!ret)
		atomic_long_inc(&relay_stats.completions);
}

static void relay_retry_work(struct work_struct *work)
{
	struct relay *r = container_of(to_delayed_work(work), struct relay,
				       retry_work);
	struct relay_req *rr;
	LIST_HEAD(list);
	unsigned long flags;

	spin_lock_irqsave(&r->lock, flags);
	list_splice_init(&r->retry, &list);
	while ((rr = list_first_entry_or_null(&list, struct relay_req,
					      node))) {
		list_del_init(&rr->node);
		relay_send_comp(r, rr);
	}
	spin_unlock_irqrestore(&r->lock, flags);
}

/* A COMPLETION record for @cookie. Under lock. */
static void relay_completion(struct relay *r, u64 cookie,
			     const struct az_relay_completion *comp)
{
	struct relay_req *rr;

	/* The answer to "relay_inject" (its waiter wakes after the run). */
	if (r->inj_cookie && cookie == r->inj_cookie && !r->inj_done) {
		r->inj_comp = *comp;
		r->inj_done = true;
		return;
	}
	hash_for_each_possible(r->sent, rr, hnode, cookie) {
		if (rr->cookie != cookie)
			continue;
		hash_del(&rr->hnode);
		atomic_dec(&relay_stats.at_host);
		if (r->at_host)
			r->at_host--;
		rr->comp = *comp;
		relay_send_comp(r, rr);
		return;
	}
	/* Answered before its channel closed, or a host bug. */
	if (cookie < r->stale_below)
		atomic_long_inc(&relay_stats.stale);
	else
		atomic_long_inc(&relay_stats.dropped);
}

/* ------------------------------------------------------------------ */
/* The completion ring: the host produces, we consume                  */

/* Handle one record (its header is @rec, a checked copy). Under lock. */
static void relay_cq_record(struct relay *r, const struct az_relay_rec *rec,
			    u32 off, u32 len)
{
	struct az_relay_completion comp;
	u64 cookie = le64_to_cpu(rec->cookie);

	switch (le16_to_cpu(rec->type)) {
	case AZ_RELAY_REC_PAD:
		return;
	case AZ_RELAY_REC_COMPLETION:
		if (len < sizeof(*rec) + sizeof(comp))
			break;
		/* One copy: the host may change the ring under us. */
		memcpy(&comp, r->cq + off + sizeof(*rec), sizeof(comp));
		relay_completion(r, cookie, &comp);
		return;
	case AZ_RELAY_REC_CLOSED:
		if (r->closing && !r->closed && cookie == r->close_gen) {
			r->closed = true;
			return;
		}
		break;
	}
	atomic_long_inc(&relay_stats.dropped);
}

/*
 * The tasklet the MSI-X vector schedules: move the backlog into the SQ if
 * the host made room, then take every record off the CQ.
 */
static void relay_consume(struct tasklet_struct *t)
{
	struct relay *r = from_tasklet(r, t, consumer);
	int budget = RELAY_CQ_BUDGET;
	struct az_relay_rec rec;
	bool ring = false;
	unsigned long flags;
	u32 write, off, len;

	spin_lock_irqsave(&r->lock, flags);
	r->kicks++;
	if (r->dead)
		goto out;
	ring = relay_flush_backlog(r);

	/* The host wrote the records before the index that shows them. */
	write = le32_to_cpu(smp_load_acquire(&r->hdr->cq.write_index));
	if (write - r->cq_read > r->cq_size) {
		relay_kill_locked(r, "the host's cq.write_index is out of range");
		goto out;
	}
	while (r->cq_read != write) {
		if (!budget--) {
			tasklet_schedule(&r->consumer);
			break;
		}
		off = r->cq_read & (r->cq_size - 1);
		memcpy(&rec, r->cq + off, sizeof(rec));
		len = le32_to_cpu(rec.len);
		if (len % RELAY_REC_ALIGN || len < sizeof(rec) ||
		    len > r->cq_size / 2 || len > write - r->cq_read ||
		    off + len > r->cq_size) {
			relay_kill_locked(r, "unframeable record in the completion ring");
			goto out;
		}
		relay_cq_record(r, &rec, off, len);
		r->cq_read += len;
	}
	/* Every record read before the host may reuse its bytes. */
	smp_store_release(&r->hdr->cq.read_index, cpu_to_le32(r->cq_read));
	/* The index is visible before the host's flag is read. */
	smp_mb();
	if (READ_ONCE(r->hdr->cq.producer_waiting)) {
		WRITE_ONCE(r->hdr->cq.producer_waiting, 0);
		ring = true;
	}
out:
	spin_unlock_irqrestore(&r->lock, flags);
	wake_up(&r->wq);
	if (ring)
		relay_ring_doorbell(r);
}

static irqreturn_t relay_irq(int irq, void *data)
{
	struct relay *r = data;

	tasklet_schedule(&r->consumer);
	return IRQ_HANDLED;
}

/* ------------------------------------------------------------------ */
/* The personality's hooks                                             */

static void relay_request(struct vmbus_sim_req *req, bool atomic)
{
	struct relay *r = vmbus_sim_dev_data(req->sd);
	struct relay_req *rr = rr_of(req);
	unsigned long flags;
	bool ring = false;

	rr->req = req;
	INIT_LIST_HEAD(&rr->node);
	INIT_HLIST_NODE(&rr->hnode);
	spin_lock_irqsave(&r->lock, flags);
	rr->cookie = ++r->next_cookie;
	rr->gen = (u16)r->gen;
	/* In order: nothing overtakes the backlog. */
	if (list_empty(&r->backlog) && relay_push_req(r, rr)) {
		ring = true;
	} else {
		rr->state = RR_BACKLOG;
		list_add_tail(&rr->node, &r->backlog);
		atomic_inc(&relay_stats.backlog);
	}
	spin_unlock_irqrestore(&r->lock, flags);
	if (ring)
		relay_ring_doorbell(r);
}

/* The channel closes: forget @req (the host's CLOSE is chan_close's). */
static void relay_close_req(struct vmbus_sim_req *req)
{
	struct relay *r = vmbus_sim_dev_data(req->sd);
	struct relay_req *rr = rr_of(req);
	unsigned long flags;

	spin_lock_irqsave(&r->lock, flags);
	switch (rr->state) {
	case RR_BACKLOG:
		list_del_init(&rr->node);
		atomic_dec(&relay_stats.backlog);
		break;
	case RR_SENT:
		hash_del(&rr->hnode);
		atomic_dec(&relay_stats.at_host);
		break;
	case RR_RETRY:
		list_del_init(&rr->node);
		break;
	case RR_NONE:
		break;
	}
	rr->state = RR_NONE;
	r->stale_below = r->next_cookie + 1;
	spin_unlock_irqrestore(&r->lock, flags);
}

static void relay_chan_open(struct vmbus_sim_dev *sd)
{
	struct relay *r = vmbus_sim_dev_data(sd);
	unsigned long flags;

	spin_lock_irqsave(&r->lock, flags);
	r->gen++;
	r->at_host = 0;
	r->stale_below = r->next_cookie + 1;
	spin_unlock_irqrestore(&r->lock, flags);
}

/*
 * The channel is closed, every request forgotten. If the host still has
 * packets of this generation, tell it (CLOSE, after them in the SQ) and
 * wait for its CLOSED: only then has it stopped touching their pages,
 * which vmbus_close() promises the driver.
 */
static void relay_chan_close(struct vmbus_sim_dev *sd)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(AZ_RELAY_CLOSE_WAIT_MS);
	struct relay *r = vmbus_sim_dev_data(sd);
	unsigned long flags, kicks;
	bool need, pushed = false;
	long left;
	u16 gen;

	spin_lock_irqsave(&r->lock, flags);
	gen = (u16)r->gen;
	need = r->at_host && !r->dead;
	r->at_host = 0;
	r->stale_below = r->next_cookie + 1;
	r->closing = need;
	r->closed = false;
	r->close_gen = gen;
	spin_unlock_irqrestore(&r->lock, flags);
	if (!need)
		return;

	for (;;) {
		spin_lock_irqsave(&r->lock, flags);
		kicks = r->kicks;
		if (list_empty(&r->backlog))
			pushed = relay_sq_push(r, AZ_RELAY_REC_CLOSE, 0, gen,
					       NULL, 0);
		need = !r->dead;
		spin_unlock_irqrestore(&r->lock, flags);
		if (pushed || !need)
			break;
		/* No room: the host signals when it has read. */
		left = (long)(deadline - jiffies);
		if (left <= 0 ||
		    !wait_event_timeout(r->wq, READ_ONCE(r->kicks) != kicks ||
					READ_ONCE(r->dead), left))
			break;
	}
	if (pushed) {
		atomic_long_inc(&relay_stats.closes);
		relay_ring_doorbell(r);
		left = (long)(deadline - jiffies);
		if (left > 0)
			wait_event_timeout(r->wq, READ_ONCE(r->closed) ||
					   READ_ONCE(r->dead), left);
	}

	spin_lock_irqsave(&r->lock, flags);
	if (!r->closed && !r->dead) {
		atomic_long_inc(&relay_stats.close_timeouts);
		dev_warn(&r->pdev->dev,
			 "no CLOSED for generation %u within %u ms: the host may still use the closed requests' pages\n",
			 gen, AZ_RELAY_CLOSE_WAIT_MS);
	}
	r->closing = false;
	spin_unlock_irqrestore(&r->lock, flags);
}

/* ------------------------------------------------------------------ */
/* Packets of the relay's own: what the host does with malformed ones  */

/*
 * "relay_inject KIND [ARG]" writes one packet of KIND into the submission
 * ring, built by the relay (the driver never sees it), with a cookie of
 * its own, and waits for the host's answer. Every packet names the relay's
 * page: a valid ECHO request (64 bytes at 0, response of 64 at 2048) in a
 * known pattern; KIND breaks one thing of it. After the answer the page
 * must hold the pattern, plus the echo if the host answered 0 with 64
 * bytes: nothing else may have changed.
 */
enum relay_inj_kind {
	RI_VALID,		/* the valid packet: answered 0, 64 bytes */
	RI_PFN,			/* a second PFN, ARG (the range is 2 pages) */
	RI_MAX_PFNS,		/* 8192 PFNs (the page, again and again) */
	RI_TOO_MANY_PFNS,	/* 8193 */
	RI_EMPTY,		/* a record with no packet bytes at all */
	RI_LEN_BEYOND,		/* len8 beyond the record */
	RI_BAD_TYPE,		/* VM_PKT_DATA_INBAND */
	RI_NO_COMPLETION,	/* flags 0: no completion requested */
	RI_BAD_DESC,		/* offset8 beyond len8 */
	RI_RANGECOUNT,		/* rangecount 2 */
	RI_SHORT_REQ,		/* 48 bytes of request instead of 56 */
	RI_LONG_REQ,		/* 64 */
	RI_RANGE_OFFSET,	/* range offset 1 */
	RI_RANGE_LEN,		/* range len 4097 for one PFN */
	RI_VERSION,		/* request version 1 */
	RI_BAD_OP,		/* operation_type 0x101 */
	RI_NO_REQUEST,		/* request_buffer_length 0 */
	RI_NO_RESPONSE,		/* response_buffer_length 0 */
	RI_DATA_VALID,		/* data_buffer_valid 1 of length 0 */
	RI_REQ_OUTSIDE,		/* request at 4064, 64 bytes: past the range */
	RI_RESP_OUTSIDE,	/* response at 0xffffffc0, 128: wraps in u32 */
	RI_DATA_OUTSIDE,	/* data of 4097 bytes in one page */
	RI_NO_SERVICE,		/* valid, but the request is not "ABST" */
	RI_NR,
};

static const char *const relay_inj_names[RI_NR] = {
	[RI_VALID] = "valid",
	[RI_PFN] = "pfn",
	[RI_MAX_PFNS] = "max_pfns",
	[RI_TOO_MANY_PFNS] = "too_many_pfns",
	[RI_EMPTY] = "empty",
	[RI_LEN_BEYOND] = "len_beyond",
	[RI_BAD_TYPE] = "bad_type",
	[RI_NO_COMPLETION] = "no_completion",
	[RI_BAD_DESC] = "bad_desc",
	[RI_RANGECOUNT] = "rangecount",
	[RI_SHORT_REQ] = "short_req",
	[RI_LONG_REQ] = "long_req",
	[RI_RANGE_OFFSET] = "range_offset",
	[RI_RANGE_LEN] = "range_len",
	[RI_VERSION] = "version",
	[RI_BAD_OP] = "bad_op",
	[RI_NO_REQUEST] = "no_request",
	[RI_NO_RESPONSE] = "no_response",
	[RI_DATA_VALID] = "data_valid",
	[RI_REQ_OUTSIDE] = "req_outside",
	[RI_RESP_OUTSIDE] = "resp_outside",
	[RI_DATA_OUTSIDE] = "data_outside",
	[RI_NO_SERVICE] = "no_service",
};

/* What the host answered each kind; under relay_mutex. */
static struct relay_inj_stat {
	unsigned long sent;
	unsigned long answered;
	u32 status;
	u32 response_len;
	bool page_ok;
} relay_inj_stats[RI_NR];

#define RELAY_INJ_MAX_PFNS	8192U	/* PROTOCOL.md's limit */
#define RELAY_INJ_REQ_LEN	64U
#define RELAY_INJ_RESP_OFF	2048U
#define RELAY_INJ_PAGE		VMBUS_SIM_HV_PAGE_SIZE

/* struct vmbus_packet_mpb_array with one range, little-endian. */
struct relay_inj_pkt {
	__le16 type;
	__le16 offset8;
	__le16 len8;
	__le16 flags;
	__le64 trans_id;
	__le32 reserved;
	__le32 rangecount;
	__le32 range_len;
	__le32 range_offset;
	__le64 pfns[];
};

/* The 56-byte request (PROTOCOL.md). */
struct relay_inj_req {
	__le32 version;
	__le32 timeout_ms;
	__le32 data_offset;
	__le32 data_length;
	__le32 data_valid;
	__le32 operation_type;
	__le32 request_offset;
	__le32 request_length;
	__le32 response_offset;
	__le32 response_length;
	u8 transaction_id[16];
};

static_assert(sizeof(struct relay_inj_pkt) == 32);
static_assert(sizeof(struct relay_inj_req) == 56);

/* The page's pattern, its request header (the test service's ECHO) on top. */
static void relay_inj_fill(u8 *va, bool service)
{
	struct az_sim_req h = {
		.magic = service ? AZ_SIM_MAGIC : 0x21544f4e,	/* "NOT!" */
		.op = AZ_SIM_OP_ECHO,
	};
	u32 i;

	for (i = 0; i < RELAY_INJ_PAGE; i++)
		va[i] = (u8)(i * 131 + 0x5a) ^ (u8)(i >> 8);
	memcpy(va, &h, sizeof(h));
}

/* Build the packet of @kind naming @pfn; its length in *@lenp. */
static void *relay_inj_build(unsigned int kind, u64 arg, u64 pfn, u64 id,
			     u32 *lenp)
{
	u32 npfn = 1, inl = sizeof(struct relay_inj_req), hdr, len, i;
	struct relay_inj_pkt *p;
	struct relay_inj_req *q;

	switch (kind) {
	case RI_PFN:
		npfn = 2;
		break;
	case RI_MAX_PFNS:
		npfn = RELAY_INJ_MAX_PFNS;
		break;
	case RI_TOO_MANY_PFNS:
		npfn = RELAY_INJ_MAX_PFNS + 1;
		break;
	case RI_SHORT_REQ:
		inl = 48;
		break;
	case RI_LONG_REQ:
		inl = 64;
		break;
	}
	hdr = sizeof(*p) + npfn * sizeof(p->pfns[0]);
	len = hdr + inl;
	p = kvzalloc(len, GFP_KERNEL);
	if (!p)
		return NULL;
	p->type = cpu_to_le16(VM_PKT_DATA_USING_GPA_DIRECT);
	p->offset8 = cpu_to_le16(hdr / 8);
	p->len8 = cpu_to_le16(len / 8);
	p->flags = cpu_to_le16(VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED);
	p->trans_id = cpu_to_le64(id);
	p->rangecount = cpu_to_le32(1);
	p->range_len = cpu_to_le32(npfn * RELAY_INJ_PAGE);
	for (i = 0; i < npfn; i++)
		p->pfns[i] = cpu_to_le64(pfn);
	q = (struct relay_inj_req *)((u8 *)p + hdr);
	if (inl >= sizeof(*q)) {
		q->operation_type = cpu_to_le32(0x100);
		q->request_length = cpu_to_le32(RELAY_INJ_REQ_LEN);
		q->response_offset = cpu_to_le32(RELAY_INJ_RESP_OFF);
		q->response_length = cpu_to_le32(RELAY_INJ_REQ_LEN);
	}

	switch (kind) {
	case RI_PFN:
		p->pfns[1] = cpu_to_le64(arg);
		break;
	case RI_EMPTY:
		len = 0;
		break;
	case RI_LEN_BEYOND:
		p->len8 = cpu_to_le16(len / 8 + 8);
		break;
	case RI_BAD_TYPE:
		p->type = cpu_to_le16(VM_PKT_DATA_INBAND);
		break;
	case RI_NO_COMPLETION:
		p->flags = 0;
		break;
	case RI_BAD_DESC:
		p->offset8 = cpu_to_le16(len / 8 + 1);
		break;
	case RI_RANGECOUNT:
		p->rangecount = cpu_to_le32(2);
		break;
	case RI_RANGE_OFFSET:
		p->range_offset = cpu_to_le32(1);
		break;
	case RI_RANGE_LEN:
		p->range_len = cpu_to_le32(RELAY_INJ_PAGE + 1);
		break;
	case RI_VERSION:
		q->version = cpu_to_le32(1);
		break;
	case RI_BAD_OP:
		q->operation_type = cpu_to_le32(0x101);
		break;
	case RI_NO_REQUEST:
		q->request_length = 0;
		break;
	case RI_NO_RESPONSE:
		q->response_length = 0;
		break;
	case RI_DATA_VALID:
		q->data_valid = cpu_to_le32(1);
		break;
	case RI_REQ_OUTSIDE:
		q->request_offset = cpu_to_le32(RELAY_INJ_PAGE - 32);
		break;
	case RI_RESP_OUTSIDE:
		q->response_offset = cpu_to_le32(0xffffffc0);
		q->response_length = cpu_to_le32(0x80);
		break;
	case RI_DATA_OUTSIDE:
		q->data_length = cpu_to_le32(RELAY_INJ_PAGE + 1);
		break;
	}
	*lenp = len;
	return p;
}

/* One injection into @r and its answer; under relay_mutex. */
static int relay_inject_one(struct relay *r, unsigned int kind, u64 arg)
{
	struct relay_inj_stat *s = &relay_inj_stats[kind];
	struct az_relay_completion comp;
	unsigned long flags;
	bool pushed, done;
	u8 *va, *want;
	u32 len = 0;
	void *pkt;
	u64 pfn;

	spin_lock_irqsave(&r->lock, flags);
	done = !r->inj_cookie || r->inj_done;
	spin_unlock_irqrestore(&r->lock, flags);
	/* The host still has the last one: its page is not ours to reuse. */
	if (!done)
		return -EBUSY;
	if (!r->inj_page) {
		r->inj_page = alloc_page(GFP_KERNEL);
		if (!r->inj_page)
			return -ENOMEM;
	}
	want = kmalloc(RELAY_INJ_PAGE, GFP_KERNEL);
	if (!want)
		return -ENOMEM;
	va = page_address(r->inj_page);
	pfn = page_to_phys(r->inj_page) >> VMBUS_SIM_HV_PAGE_SHIFT;
	relay_inj_fill(va, kind != RI_NO_SERVICE);
	memcpy(want, va, RELAY_INJ_PAGE);
	pkt = relay_inj_build(kind, arg, pfn, kind, &len);
	if (!pkt) {
		kfree(want);
		return -ENOMEM;
	}

	spin_lock_irqsave(&r->lock, flags);
	r->inj_cookie = ++r->next_cookie;
	r->inj_done = false;
	pushed = relay_sq_push(r, AZ_RELAY_REC_PACKET, (u16)r->gen,
			       r->inj_cookie, pkt, len);
	if (!pushed)
		r->inj_cookie = 0;
	spin_unlock_irqrestore(&r->lock, flags);
	kvfree(pkt);
	if (!pushed) {
		kfree(want);
		return READ_ONCE(r->dead) ? -ENODEV : -EAGAIN;
	}
	atomic_long_inc(&relay_stats.injected);
	s->sent++;
	relay_ring_doorbell(r);

	wait_event_timeout(r->wq, READ_ONCE(r->inj_done) || READ_ONCE(r->dead),
			   msecs_to_jiffies(RELAY_INJ_WAIT_MS));
	spin_lock_irqsave(&r->lock, flags);
	done = r->inj_done;
	comp = r->inj_comp;
	spin_unlock_irqrestore(&r->lock, flags);
	if (!done) {
		/* inj_cookie stays: a late answer is taken, not dropped. */
		kfree(want);
		return READ_ONCE(r->dead) ? -ENODEV : -ETIMEDOUT;
	}
	s->answered++;
	s->status = le32_to_cpu(comp.error);
	s->response_len = le32_to_cpu(comp.response_len);
	if (!s->status && s->response_len == RELAY_INJ_REQ_LEN)
		memcpy(want + RELAY_INJ_RESP_OFF, want, RELAY_INJ_REQ_LEN);
	s->page_ok = !memcmp(va, want, RELAY_INJ_PAGE);
	kfree(want);
	return 0;
}

/* "relay_inject KIND [ARG]": into the first device whose host serves. */
static int relay_inject(const char *args)
{
	char buf[48], *p = buf, *name;
	unsigned int kind;
	struct relay *r;
	u64 arg = 0;
	int ret;

	if (strscpy(buf, args, sizeof(buf)) < 0)
		return -EINVAL;
	name = strsep(&p, " ");
	for (kind = 0; kind < RI_NR; kind++)
		if (!strcmp(name, relay_inj_names[kind]))
			break;
	if (kind == RI_NR)
		return -EINVAL;
	/* An argument for "pfn", and for nothing else. */
	if (p ? kind != RI_PFN || kstrtou64(p, 0, &arg) : kind == RI_PFN)
		return -EINVAL;

	mutex_lock(&relay_mutex);
	ret = -ENODEV;
	list_for_each_entry(r, &relay_list, node) {
		if (!READ_ONCE(r->sd) || READ_ONCE(r->dead))
			continue;
		ret = relay_inject_one(r, kind, arg);
		break;
	}
	mutex_unlock(&relay_mutex);
	return ret;
}

static int relay_control(const char *cmd)
{
	if (!strncmp(cmd, "relay_inject ", 13))
		return relay_inject(cmd + 13);
	if (!strcmp(cmd, "reset")) {
		atomic_long_set(&relay_stats.packets, 0);
		atomic_long_set(&relay_stats.completions, 0);
		atomic_long_set(&relay_stats.dropped, 0);
		atomic_long_set(&relay_stats.stale, 0);
		atomic_long_set(&relay_stats.sq_full, 0);
		atomic_long_set(&relay_stats.closes, 0);
		atomic_long_set(&relay_stats.close_timeouts, 0);
		atomic_long_set(&relay_stats.host_gone, 0);
		atomic_long_set(&relay_stats.injected, 0);
		mutex_lock(&relay_mutex);
		memset(relay_inj_stats, 0, sizeof(relay_inj_stats));
		mutex_unlock(&relay_mutex);
		return 0;
	}
	return -EINVAL;
}

static const char *relay_state_name(u32 state)
{
	switch (state) {
	case AZ_RELAY_HOST_STARTING:
		return "starting";
	case AZ_RELAY_HOST_READY:
		return "ready";
	case AZ_RELAY_HOST_GONE:
		return "gone";
	}
	return "unknown";
}

static void relay_stats_show(struct seq_file *m)
{
	const struct relay_inj_stat *s;
	struct relay *r;
	unsigned int i;

#define RELAY_STAT(name) \
	seq_printf(m, "relay_" #name " %ld\n", \
		   atomic_long_read(&relay_stats.name))
	seq_printf(m, "relay_hosts %d\n", atomic_read(&relay_stats.hosts));
	RELAY_STAT(packets);
	RELAY_STAT(completions);
	RELAY_STAT(dropped);
	RELAY_STAT(stale);
	seq_printf(m, "relay_backlog %d\n", atomic_read(&relay_stats.backlog));
	RELAY_STAT(sq_full);
	RELAY_STAT(closes);
	RELAY_STAT(close_timeouts);
	RELAY_STAT(host_gone);
	seq_printf(m, "relay_at_host %d\n", atomic_read(&relay_stats.at_host));
	RELAY_STAT(injected);
#undef RELAY_STAT
	mutex_lock(&relay_mutex);
	/* What each host's header says now, as the heartbeat work reads it. */
	list_for_each_entry(r, &relay_list, node) {
		seq_printf(m, "relay_host_state %s\n",
			   relay_state_name(le32_to_cpu(READ_ONCE(r->hdr->host_state))));
		seq_printf(m, "relay_heartbeat %llu\n",
			   le64_to_cpu(READ_ONCE(r->hdr->heartbeat)));
	}
	for (i = 0; i < RI_NR; i++) {
		s = &relay_inj_stats[i];
		if (!s->sent)
			continue;
		seq_printf(m, "relay_inject_%s sent %lu answered %lu status 0x%08x response_len %u page %s\n",
			   relay_inj_names[i], s->sent, s->answered, s->status,
			   s->response_len, s->page_ok ? "ok" : "changed");
	}
	mutex_unlock(&relay_mutex);
}

static const struct vmbus_sim_ops relay_ops = {
	.name = RELAY_NAME,
	/* The Azure Blob class (PROTOCOL.md), as blob_vsp's. */
	.class_id = GUID_INIT(0x0590b792, 0xdb64, 0x45cc,
			      0x81, 0xdb, 0xb8, 0xd7, 0x0c, 0x57, 0x7c, 0x9e),
	.req_priv_size = sizeof(struct relay_req),
	.request = relay_request,
	.close_req = relay_close_req,
	.chan_open = relay_chan_open,
	.chan_close = relay_chan_close,
	.control = relay_control,
	.stats = relay_stats_show,
};

/* ------------------------------------------------------------------ */
/* The host's liveness: offer when ready, rescind when gone            */

static void relay_beat_work(struct work_struct *work)
{
	struct relay *r = container_of(to_delayed_work(work), struct relay,
				       beat);
	struct device *dev = &r->pdev->dev;
	struct vmbus_sim_dev *sd;
	unsigned long flags;
	const char *why;
	u32 state;
	u64 beat;
	bool dead;

	state = le32_to_cpu(READ_ONCE(r->hdr->host_state));
	beat = le64_to_cpu(READ_ONCE(r->hdr->heartbeat));

	spin_lock_irqsave(&r->lock, flags);
	if (!r->dead) {
		if (state == AZ_RELAY_HOST_GONE)
			relay_kill_locked(r, "host_state GONE");
		else if (state != AZ_RELAY_HOST_STARTING &&
			 state != AZ_RELAY_HOST_READY)
			relay_kill_locked(r, "host_state unknown");
		else if (r->sd && beat == r->last_beat &&
			 time_after(jiffies, r->beat_at +
				    msecs_to_jiffies(AZ_RELAY_DEAD_MS)))
			relay_kill_locked(r, "no heartbeat");
	}
	if (beat != r->last_beat) {
		r->last_beat = beat;
		r->beat_at = jiffies;
	}
	dead = r->dead;
	why = r->why;
	spin_unlock_irqrestore(&r->lock, flags);

	if (dead) {
		/* Final: wake the closer, rescind (once), stop beating. */
		wake_up_all(&r->wq);
		if (READ_ONCE(r->stopping) || r->gone_done)
			return;
		r->gone_done = true;
		atomic_long_inc(&relay_stats.host_gone);
		if (r->sd) {
			dev_warn(dev, "host gone (%s): rescinding VMBus device %d\n",
				 why, vmbus_sim_dev_index(r->sd));
			vmbus_sim_rescind(r->sd);
		} else {
			dev_warn(dev, "host gone (%s) before it was ready\n",
				 why);
		}
		return;
	}

	if (!r->sd && state == AZ_RELAY_HOST_READY && !READ_ONCE(r->stopping)) {
		r->beat_at = jiffies;
		sd = vmbus_sim_offer(&relay_ops, r);
		if (IS_ERR(sd)) {
			dev_err(dev, "cannot offer a VMBus device: %ld\n",
				PTR_ERR(sd));
			return;
		}
		r->sd = sd;
		dev_info(dev, "host ready: VMBus device %d relays to it\n",
			 vmbus_sim_dev_index(sd));
	} else if (!r->sd && !r->said_starting &&
		   time_after(jiffies, r->start +
			      msecs_to_jiffies(AZ_RELAY_DEAD_MS))) {
		r->said_starting = true;
		dev_info(dev, "waiting for the host to be ready\n");
	}
	if (!READ_ONCE(r->stopping))
		queue_delayed_work(relay_wq, &r->beat,
				   msecs_to_jiffies(AZ_RELAY_HEARTBEAT_MS));
}

/* ------------------------------------------------------------------ */
/* The ivshmem device                                                  */

static bool relay_ring_ok(u32 offset, u32 size, u32 shm_size, u32 min)
{
	return is_power_of_2(size) && size >= min &&
	       offset >= sizeof(struct az_relay_shm) &&
	       IS_ALIGNED(offset, RELAY_REC_ALIGN) &&
	       offset <= shm_size && size <= shm_size - offset;
}

/* Is the header the host wrote one we can work with? */
static int relay_check_header(struct relay *r, resource_size_t bar_len)
{
	const struct az_relay_shm *h = r->hdr;
	struct device *dev = &r->pdev->dev;
	u32 shm_size = le32_to_cpu(h->shm_size);
	u32 sq_off = le32_to_cpu(h->sq_offset);
	u32 sq_size = le32_to_cpu(h->sq_size);
	u32 cq_off = le32_to_cpu(h->cq_offset);
	u32 cq_size = le32_to_cpu(h->cq_size);
	u32 peer = le32_to_cpu(h->host_peer);
	u32 state = le32_to_cpu(h->host_state);

	if (le64_to_cpu(h->magic) != AZ_RELAY_MAGIC) {
		dev_err(dev, "no relay header in BAR2 (magic %#llx)\n",
			le64_to_cpu(h->magic));
		return -ENODEV;
	}
	if (le32_to_cpu(h->version) != AZ_RELAY_VERSION) {
		dev_err(dev, "relay version %u, not %u\n",
			le32_to_cpu(h->version), AZ_RELAY_VERSION);
		return -ENODEV;
	}
	if (shm_size < sizeof(*h) || shm_size > bar_len ||
	    !relay_ring_ok(sq_off, sq_size, shm_size, RELAY_MIN_SQ_SIZE) ||
	    !relay_ring_ok(cq_off, cq_size, shm_size, RELAY_MIN_CQ_SIZE) ||
	    (sq_off < cq_off + cq_size && cq_off < sq_off + sq_size)) {
		dev_err(dev, "bad relay layout: shm %u (BAR2 %llu), sq %u+%u, cq %u+%u\n",
			shm_size, (unsigned long long)bar_len, sq_off, sq_size,
			cq_off, cq_size);
		return -ENODEV;
	}
	if (peer > U16_MAX) {
		dev_err(dev, "bad host peer %u\n", peer);
		return -ENODEV;
	}
	if (state != AZ_RELAY_HOST_STARTING && state != AZ_RELAY_HOST_READY) {
		dev_err(dev, "the host is not serving (host_state %u)\n",
			state);
		return -ENODEV;
	}
	r->sq = (u8 *)r->shm + sq_off;
	r->sq_size = sq_size;
	r->cq = (u8 *)r->shm + cq_off;
	r->cq_size = cq_size;
	r->doorbell = peer << 16;
	return 0;
}

/* Where the previous user of the rings (a reloaded module) left them. */
static int relay_take_rings(struct relay *r)
{
	u32 sqw = le32_to_cpu(READ_ONCE(r->hdr->sq.write_index));
	u32 sqr = le32_to_cpu(READ_ONCE(r->hdr->sq.read_index));
	u32 cqw = le32_to_cpu(READ_ONCE(r->hdr->cq.write_index));
	u32 cqr = le32_to_cpu(READ_ONCE(r->hdr->cq.read_index));

	if (sqw - sqr > r->sq_size || cqw - cqr > r->cq_size ||
	    sqw % RELAY_REC_ALIGN || cqr % RELAY_REC_ALIGN) {
		dev_err(&r->pdev->dev, "bad ring indices: sq %u/%u, cq %u/%u\n",
			sqr, sqw, cqr, cqw);
		return -ENODEV;
	}
	r->sq_write = sqw;
	r->sq_read = sqr;
	r->cq_read = cqr;
	return 0;
}

static int relay_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t bar_len;
	struct relay *r;
	int ret;

	r = devm_kzalloc(&pdev->dev, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->pdev = pdev;
	spin_lock_init(&r->lock);
	INIT_LIST_HEAD(&r->backlog);
	INIT_LIST_HEAD(&r->retry);
	hash_init(r->sent);
	init_waitqueue_head(&r->wq);
	tasklet_setup(&r->consumer, relay_consume);
	INIT_DELAYED_WORK(&r->beat, relay_beat_work);
	INIT_DELAYED_WORK(&r->retry_work, relay_retry_work);
	/* Above every cookie an earlier load of the module handed out. */
	r->next_cookie = ktime_get_ns();
	r->stale_below = r->next_cookie + 1;

	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	ret = pci_request_regions(pdev, RELAY_NAME);
	if (ret)
		goto err_disable;

	bar_len = pci_resource_len(pdev, RELAY_BAR_SHM);
	if (pci_resource_len(pdev, RELAY_BAR_REGS) <
	    AZ_RELAY_IVSHMEM_DOORBELL + 4 || bar_len < sizeof(*r->hdr) ||
	    !(pci_resource_flags(pdev, RELAY_BAR_SHM) & IORESOURCE_MEM)) {
		dev_err(&pdev->dev, "not an ivshmem device with shared memory\n");
		ret = -ENODEV;
		goto err_regions;
	}
	r->regs = pci_iomap(pdev, RELAY_BAR_REGS, 0);
	if (!r->regs) {
		ret = -ENOMEM;
		goto err_regions;
	}
	/* Plain RAM on the host's side: map it as memory, not as I/O. */
	r->shm = memremap(pci_resource_start(pdev, RELAY_BAR_SHM), bar_len,
			  MEMREMAP_WB);
	if (!r->shm) {
		ret = -ENOMEM;
		goto err_regs;
	}
	r->hdr = r->shm;
	ret = relay_check_header(r, bar_len);
	if (!ret)
		ret = relay_take_rings(r);
	if (ret)
		goto err_shm;

	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(&pdev->dev, "no MSI-X vector: %d\n", ret);
		goto err_shm;
	}
	r->irq = pci_irq_vector(pdev, 0);
	ret = request_irq(r->irq, relay_irq, 0, RELAY_NAME, r);
	if (ret)
		goto err_vectors;

	pci_set_drvdata(pdev, r);
	atomic_inc(&relay_stats.hosts);
	mutex_lock(&relay_mutex);
	list_add_tail(&r->node, &relay_list);
	mutex_unlock(&relay_mutex);
	r->start = jiffies;
	r->beat_at = jiffies;
	r->last_beat = le64_to_cpu(READ_ONCE(r->hdr->heartbeat));
	/* Offers at once if the host is ready; completions may be waiting. */
	queue_delayed_work(relay_wq, &r->beat, 0);
	tasklet_schedule(&r->consumer);
	return 0;

err_vectors:
	pci_free_irq_vectors(pdev);
err_shm:
	memunmap(r->shm);
err_regs:
	pci_iounmap(pdev, r->regs);
err_regions:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static void relay_remove(struct pci_dev *pdev)
{
	struct relay *r = pci_get_drvdata(pdev);
	unsigned long flags;

	/* After any injection in progress. */
	mutex_lock(&relay_mutex);
	list_del(&r->node);
	mutex_unlock(&relay_mutex);
	WRITE_ONCE(r->stopping, true);
	cancel_delayed_work_sync(&r->beat);
	if (r->sd) {
		/* The driver closes the channel: the host gets its CLOSE. */
		vmbus_sim_rescind(r->sd);
		vmbus_sim_put(r->sd);
		r->sd = NULL;
	}
	/* Nothing of the device is left to answer; stop listening. */
	spin_lock_irqsave(&r->lock, flags);
	relay_kill_locked(r, "removed");
	spin_unlock_irqrestore(&r->lock, flags);
	cancel_delayed_work_sync(&r->beat);
	cancel_delayed_work_sync(&r->retry_work);
	free_irq(r->irq, r);
	pci_free_irq_vectors(pdev);
	tasklet_kill(&r->consumer);
	WARN_ON(!list_empty(&r->backlog) || !list_empty(&r->retry) ||
		!hash_empty(r->sent));
	if (r->inj_page && r->inj_cookie && !r->inj_done)
		/* A host that may come back may still write it: leave it. */
		dev_warn(&pdev->dev, "the host never answered an injected packet: its page is leaked\n");
	else if (r->inj_page)
		__free_page(r->inj_page);
	atomic_dec(&relay_stats.hosts);
	memunmap(r->shm);
	pci_iounmap(pdev, r->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
}

static const struct pci_device_id relay_pci_ids[] = {
	{ PCI_DEVICE(RELAY_PCI_VENDOR, RELAY_PCI_DEVICE) },
	{ }
};

/*
 * No MODULE_DEVICE_TABLE: a test module loaded by hand, which must not
 * claim an ivshmem device that serves something else (it refuses any
 * device without a relay header anyway).
 */
static struct pci_driver relay_pci_driver = {
	.name = RELAY_NAME,
	.id_table = relay_pci_ids,
	.probe = relay_probe,
	.remove = relay_remove,
};

static int __init relay_init(void)
{
	int ret;

	relay_wq = alloc_workqueue(RELAY_NAME, WQ_UNBOUND, 0);
	if (!relay_wq)
		return -ENOMEM;
	ret = vmbus_sim_attach(&relay_ops);
	if (ret)
		goto err_wq;
	ret = pci_register_driver(&relay_pci_driver);
	if (ret)
		goto err_detach;
	return 0;

err_detach:
	vmbus_sim_detach(&relay_ops);
err_wq:
	destroy_workqueue(relay_wq);
	return ret;
}

static void __exit relay_exit(void)
{
	pci_unregister_driver(&relay_pci_driver);
	vmbus_sim_detach(&relay_ops);
	destroy_workqueue(relay_wq);
}

module_init(relay_init);
module_exit(relay_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated VMBus: Azure Blob VSP relayed to a host process over ivshmem (test only)");
