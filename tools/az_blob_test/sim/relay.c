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
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

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
	atomic_t backlog;
	atomic_t hosts;
} relay_stats;

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

	hash_for_each_possible(r->sent, rr, hnode, cookie) {
		if (rr->cookie != cookie)
			continue;
		hash_del(&rr->hnode);
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

static int relay_control(const char *cmd)
{
	if (!strcmp(cmd, "reset")) {
		atomic_long_set(&relay_stats.packets, 0);
		atomic_long_set(&relay_stats.completions, 0);
		atomic_long_set(&relay_stats.dropped, 0);
		atomic_long_set(&relay_stats.stale, 0);
		atomic_long_set(&relay_stats.sq_full, 0);
		atomic_long_set(&relay_stats.closes, 0);
		atomic_long_set(&relay_stats.close_timeouts, 0);
		atomic_long_set(&relay_stats.host_gone, 0);
		return 0;
	}
	return -EINVAL;
}

static void relay_stats_show(struct seq_file *m)
{
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
#undef RELAY_STAT
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
