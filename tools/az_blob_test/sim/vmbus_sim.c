// SPDX-License-Identifier: GPL-2.0
/*
 * vmbus_sim - the simulated VMBus core of az_blob_sim.ko.
 *
 * TEST-ONLY. Exports the hv_vmbus functions a VMBus driver such as
 * hv_azure_blob calls, so that it can be loaded and exercised in a guest
 * without Hyper-V. Where the driver can see it, the core does what
 * drivers/hv/ring_buffer.c and drivers/hv/channel.c of Linux 7.2 do: the
 * rings are real hv_ring_buffer_info byte rings of the sizes the driver
 * asked for, written and read with the same arithmetic; the channel
 * callback runs in a tasklet scheduled from an interrupt on the channel's
 * target CPU. It plays the host's half of the ring protocol too, and hands
 * every packet it takes off the guest's ring to the device's personality
 * (blob_vsp.c, or relay.c in az_blob_relay.ko).
 * README.md lists what differs from the real core, and why.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/hyperv.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/reciprocal_div.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "vmbus_sim_priv.h"

/* A host packet waiting for room in the guest's ring. */
struct sim_bpkt {
	struct list_head node;
	u32 total;			/* bytes, a multiple of 8, no trailer */
	u8 data[] __aligned(8);
};

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

	/* Last slot (no more available slots) */
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
	/* Not in the real one: a late use is caught instead of a UAF. */
	rqstor->req_arr = NULL;
	rqstor->req_bitmap = NULL;
}

/* Freed by vmbus_close() and used again: the real one reads freed memory. */
static bool sim_rqstor_freed(struct vmbus_requestor *rqstor)
{
	if (rqstor->req_arr || !rqstor->size)
		return false;
	sim_misuse("requestor used after vmbus_close()");
	return true;
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
	if (sim_rqstor_freed(rqstor)) {
		unlock_requestor(channel, flags);
		return VMBUS_RQST_ERROR;
	}
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

	if (sim_rqstor_freed(rqstor))
		return VMBUS_RQST_ERROR;

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
/* Ring buffers, as drivers/hv/ring_buffer.c and channel.c             */

/* hv_ringbuffer_init(): header page, then the data pages mapped twice. */
static int sim_ringbuffer_init(struct hv_ring_buffer_info *ring_info,
			       struct page *pages, u32 page_cnt,
			       u32 max_pkt_size)
{
	struct page **pages_wraparound;
	u32 i;

	/* The real one asks for 2^32 - 1 pointers here, and fails. */
	if (!page_cnt)
		return -ENOMEM;

	pages_wraparound = kcalloc(page_cnt * 2 - 1, sizeof(struct page *),
				   GFP_KERNEL);
	if (!pages_wraparound)
		return -ENOMEM;

	pages_wraparound[0] = pages;
	for (i = 0; i < 2 * (page_cnt - 1); i++)
		pages_wraparound[i + 1] = &pages[i % (page_cnt - 1) + 1];

	ring_info->ring_buffer = vmap(pages_wraparound, page_cnt * 2 - 1,
				      VM_MAP, PAGE_KERNEL);
	kfree(pages_wraparound);
	if (!ring_info->ring_buffer)
		return -ENOMEM;

	memset(ring_info->ring_buffer, 0, HV_HYP_PAGE_SIZE);
	ring_info->ring_buffer->read_index = 0;
	ring_info->ring_buffer->write_index = 0;
	/* Set the feature bit for enabling flow control. */
	ring_info->ring_buffer->feature_bits.value = 1;

	ring_info->ring_size = page_cnt << PAGE_SHIFT;
	ring_info->ring_size_div10_reciprocal =
		reciprocal_value(ring_info->ring_size / 10);
	ring_info->ring_datasize = ring_info->ring_size -
		sizeof(struct hv_ring_buffer);
	ring_info->priv_read_index = 0;

	/* Initialize buffer that holds copies of incoming packets */
	if (max_pkt_size) {
		ring_info->pkt_buffer = kzalloc(max_pkt_size, GFP_KERNEL);
		if (!ring_info->pkt_buffer)
			return -ENOMEM;
		ring_info->pkt_buffer_size = max_pkt_size;
	}

	spin_lock_init(&ring_info->ring_lock);
	return 0;
}

static void sim_ringbuffer_cleanup(struct hv_ring_buffer_info *ring_info)
{
	mutex_lock(&ring_info->ring_buffer_mutex);
	vunmap(ring_info->ring_buffer);
	ring_info->ring_buffer = NULL;
	mutex_unlock(&ring_info->ring_buffer_mutex);

	kfree(ring_info->pkt_buffer);
	ring_info->pkt_buffer = NULL;
	ring_info->pkt_buffer_size = 0;
}

/* vmbus_alloc_ring() */
static int sim_alloc_ring(struct vmbus_channel *newchannel, u32 send_size,
			  u32 recv_size)
{
	struct page *page;
	int order;

	if (send_size % PAGE_SIZE || recv_size % PAGE_SIZE)
		return -EINVAL;
	/* get_order(0) is undefined; the real allocation fails. */
	if (!send_size && !recv_size)
		return -ENOMEM;

	order = get_order(send_size + recv_size);
	page = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, order);
	if (!page)
		return -ENOMEM;

	newchannel->ringbuffer_page = page;
	newchannel->ringbuffer_pagecount = (send_size + recv_size) >> PAGE_SHIFT;
	newchannel->ringbuffer_send_offset = send_size >> PAGE_SHIFT;
	return 0;
}

/* vmbus_free_ring() */
static void sim_free_ring(struct vmbus_channel *channel)
{
	sim_ringbuffer_cleanup(&channel->outbound);
	sim_ringbuffer_cleanup(&channel->inbound);

	if (channel->ringbuffer_page) {
		__free_pages(channel->ringbuffer_page,
			     get_order(channel->ringbuffer_pagecount << PAGE_SHIFT));
		channel->ringbuffer_page = NULL;
	}
}

/* hv_copyto_ringbuffer(): the double mapping takes care of the wrap. */
static u32 sim_copyto_ring(struct hv_ring_buffer_info *ring_info, u32 start,
			   const void *src, u32 srclen)
{
	void *ring_buffer = hv_get_ring_buffer(ring_info);
	u32 ring_buffer_size = ring_info->ring_datasize;

	memcpy(ring_buffer + start, src, srclen);

	start += srclen;
	if (start >= ring_buffer_size)
		start -= ring_buffer_size;

	return start;
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */

/* vmbus_setevent(): the guest signals the host. */
static void sim_setevent(struct vmbus_channel *channel)
{
	struct vmbus_sim_dev *sd = chan_to_sd(channel);

	++channel->sig_events;
	queue_work(sim_wq, &sd->host_work);
}

/*
 * vmbus_chan_sched() for one channel, in hard IRQ on its target CPU. As
 * vmbus_isr() does, it tells lockdep that the spinlock_t it takes there
 * is fine on a kernel without PREEMPT_RT (which the simulator is not for).
 */
void sim_chan_irq(void *info)
{
	static DEFINE_WAIT_OVERRIDE_MAP(sim_isr_map, LD_WAIT_CONFIG);
	struct vmbus_sim_dev *sd = info;
	struct vmbus_channel *channel = &sd->chan;
	void (*callback_fn)(void *context);

	if (channel->rescind)
		goto out;

	lock_map_acquire_try(&sim_isr_map);
	spin_lock(&channel->sched_lock);
	callback_fn = channel->onchannel_callback;
	if (unlikely(!callback_fn))
		goto unlock;

	++channel->interrupts;

	switch (channel->callback_mode) {
	case HV_CALL_ISR:
		(*callback_fn)(channel->channel_callback_context);
		break;
	case HV_CALL_BATCHED:
		hv_begin_read(&channel->inbound);
		fallthrough;
	case HV_CALL_DIRECT:
		tasklet_schedule(&channel->callback_event);
	}
unlock:
	spin_unlock(&channel->sched_lock);
	lock_map_release(&sim_isr_map);
out:
	atomic_dec(&sd->irq_inflight);
}

/*
 * The host interrupts the guest: on the channel's target CPU. The caller
 * counted it in irq_inflight while the host still served the channel
 * (under sd->lock), so that a close waits for it.
 */
static void sim_signal_guest(struct vmbus_sim_dev *sd)
{
	unsigned long flags;
	int ret;

	ret = smp_call_function_single_async(READ_ONCE(sd->chan.target_cpu),
					     &sd->csd);
	if (ret == -EBUSY) {
		/* One is on its way already: the event flag is set. */
		atomic_dec(&sd->irq_inflight);
	} else if (ret) {
		local_irq_save(flags);
		sim_chan_irq(sd);
		local_irq_restore(flags);
	}
}

/* vmbus_on_event(): the channel's tasklet. */
void sim_on_event(struct tasklet_struct *t)
{
	struct vmbus_channel *channel = from_tasklet(channel, t, callback_event);
	struct vmbus_sim_dev *sd = chan_to_sd(channel);
	void (*callback_fn)(void *context);
	unsigned long flags;

	/* cb_running: not in the real one, see sim_rescind_now() */
	spin_lock_irqsave(&channel->sched_lock, flags);
	callback_fn = channel->onchannel_callback;
	sd->cb_running = !!callback_fn;
	spin_unlock_irqrestore(&channel->sched_lock, flags);
	if (unlikely(!callback_fn))
		return;

	(*callback_fn)(channel->channel_callback_context);

	spin_lock_irqsave(&channel->sched_lock, flags);
	sd->cb_running = false;
	spin_unlock_irqrestore(&channel->sched_lock, flags);

	if (channel->callback_mode != HV_CALL_BATCHED)
		return;

	if (likely(hv_end_read(&channel->inbound) == 0))
		return;

	hv_begin_read(&channel->inbound);
	tasklet_schedule(&channel->callback_event);
}

/* vmbus_reset_channel_cb() */
void sim_reset_channel_cb(struct vmbus_channel *channel)
{
	unsigned long flags;

	tasklet_disable(&channel->callback_event);

	spin_lock_irqsave(&channel->sched_lock, flags);
	channel->onchannel_callback = NULL;
	spin_unlock_irqrestore(&channel->sched_lock, flags);

	channel->sc_creation_callback = NULL;

	tasklet_enable(&channel->callback_event);
}

/* ------------------------------------------------------------------ */
/* The host writes to the guest's (inbound) ring                       */

static void sim_free_backlog(struct list_head *list)
{
	struct sim_bpkt *p, *tmp;

	list_for_each_entry_safe(p, tmp, list, node) {
		list_del(&p->node);
		kfree(p);
	}
}

/*
 * Write what fits of the backlog, in order, with the rule the guest's
 * hv_ringbuffer_write() applies to its own ring (strictly more room than
 * packet and trailer); else leave pending_send_sz for hv_pkt_iter_close().
 * Caller holds sd->lock, the host serves the rings. True: interrupt the
 * guest (hv_signal_on_write(): only if not masked and it was empty).
 */
static bool sim_flush_locked(struct vmbus_sim_dev *sd)
{
	struct hv_ring_buffer_info *rbi = &sd->chan.inbound;
	struct hv_ring_buffer *rb = rbi->ring_buffer;
	u32 old_write = rb->write_index, w, need;
	struct sim_bpkt *p;
	bool wrote = false;
	u64 trailer;

	while ((p = list_first_entry_or_null(&sd->backlog, struct sim_bpkt,
					     node))) {
		if (sd->chan.rescind)
			break;
		need = p->total + VMBUS_PKT_TRAILER;
		if (need < rbi->ring_datasize &&
		    hv_get_bytes_to_write(rbi) <= need) {
			WRITE_ONCE(rb->pending_send_sz, need);
			break;
		}
		if (need >= rbi->ring_datasize) {
			/* Can never fit: a host would not send it. */
			atomic_long_inc(&sim_stats.dropped);
		} else {
			w = rb->write_index;
			trailer = (u64)w << 32;
			w = sim_copyto_ring(rbi, w, p->data, p->total);
			w = sim_copyto_ring(rbi, w, &trailer, sizeof(trailer));
			/* Data before index, as a host does (store release). */
			virt_mb();
			WRITE_ONCE(rb->write_index, w);
			atomic_long_inc(&sim_stats.completions);
			wrote = true;
		}
		list_del(&p->node);
		sd->nr_backlog--;
		kfree(p);
	}
	if (list_empty(&sd->backlog))
		WRITE_ONCE(rb->pending_send_sz, 0);
	if (!wrote)
		return false;

	/* write_index visible before the guest's mask is read */
	virt_mb();
	if (READ_ONCE(rb->interrupt_mask))
		return false;
	/* mask read before read_index */
	virt_rmb();
	return old_write == READ_ONCE(rb->read_index);
}

static void sim_flush(struct vmbus_sim_dev *sd)
{
	unsigned long flags;
	bool signal = false;

	spin_lock_irqsave(&sd->lock, flags);
	if (sd->host_open && sim_flush_locked(sd)) {
		atomic_inc(&sd->irq_inflight);
		signal = true;
	}
	spin_unlock_irqrestore(&sd->lock, flags);
	if (signal)
		sim_signal_guest(sd);
}

static struct sim_bpkt *sim_serialize(const struct vmbus_sim_pkt *pk,
				      gfp_t gfp)
{
	u32 hdr = pk->raw ? 0 : sizeof(struct vmpacket_descriptor);
	u64 total = ALIGN((u64)hdr + pk->len + pk->zeros, 8);
	struct vmpacket_descriptor *d;
	struct sim_bpkt *p;

	if (!total || total > (u64)U16_MAX * 8)
		return ERR_PTR(-EMSGSIZE);
	p = kzalloc(struct_size(p, data, total), gfp | __GFP_NOWARN);
	if (!p)
		return ERR_PTR(-ENOMEM);
	p->total = total;
	if (!pk->raw) {
		d = (struct vmpacket_descriptor *)p->data;
		d->type = pk->type;
		d->offset8 = sizeof(*d) >> 3;
		d->len8 = total >> 3;
		d->flags = pk->flags;
		d->trans_id = pk->trans_id;
	}
	if (pk->len)
		memcpy(p->data + hdr, pk->data, pk->len);
	return p;
}

static void sim_free_req(struct vmbus_sim_req *req)
{
	kvfree(req->pkt);
	kfree(req);
}

int vmbus_sim_send(struct vmbus_sim_dev *sd, struct vmbus_sim_req *done,
		   const struct vmbus_sim_pkt *pkts, unsigned int n, gfp_t gfp)
{
	struct sim_bpkt *p;
	unsigned long flags;
	bool signal = false;
	LIST_HEAD(list);
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		p = sim_serialize(&pkts[i], gfp);
		if (IS_ERR(p)) {
			sim_free_backlog(&list);
			if (PTR_ERR(p) == -ENOMEM)
				return -ENOMEM;
			WARN_ONCE(1, "host packet of %u + %u bytes\n",
				  pkts[i].len, pkts[i].zeros);
			return -EINVAL;
		}
		list_add_tail(&p->node, &list);
	}

	spin_lock_irqsave(&sd->lock, flags);
	if (done && done->detached) {
		spin_unlock_irqrestore(&sd->lock, flags);
		sim_free_backlog(&list);
		return -ESHUTDOWN;
	}
	if (done)
		list_del(&done->node);
	if (!sd->host_open || sd->chan.rescind) {
		/* A rescinded channel's host sends nothing any more. */
		atomic_long_add(n, &sim_stats.dropped);
		ret = -ENODEV;
	} else if (n) {
		sd->nr_backlog += n;
		list_splice_tail_init(&list, &sd->backlog);
		signal = sim_flush_locked(sd);
		if (signal)
			atomic_inc(&sd->irq_inflight);
		if (done && done == sd->hook_req && list_empty(&sd->backlog)) {
			sd->hook_written = true;
			sd->hook_end = sd->chan.inbound.ring_buffer->write_index;
		}
	}
	spin_unlock_irqrestore(&sd->lock, flags);

	sim_free_backlog(&list);
	if (done)
		sim_free_req(done);
	if (signal)
		sim_signal_guest(sd);
	return ret;
}
EXPORT_SYMBOL_GPL(vmbus_sim_send);

/* ------------------------------------------------------------------ */
/* The host reads the guest's (outbound) ring                          */

static bool sim_host_can_read(struct vmbus_sim_dev *sd, bool hook)
{
	return sd->host_open && !sd->chan.rescind && !sd->ring_broken &&
	       (hook || (!sd->reader_blocked && !sd->stalled));
}

/*
 * Take the packet at the host's read index off the guest's ring: copy it
 * and advance read_index past it and its trailer. Returns 1 (*@out set),
 * 0 nothing to take, -ENOMEM, -EIO the ring cannot be framed.
 */
static int sim_take_one(struct vmbus_sim_dev *sd, bool hook,
			struct vmbus_sim_req **out)
{
	struct hv_ring_buffer_info *rbi = &sd->chan.outbound;
	gfp_t gfp = hook ? GFP_ATOMIC : GFP_KERNEL;
	u32 avail, len, read = 0, next, gen = 0, pending;
	struct vmbus_sim_req *req = NULL;
	struct vmpacket_descriptor *d;
	unsigned long flags;
	bool signal = false;

	spin_lock_irqsave(&sd->lock, flags);
	for (;;) {
		if (!sim_host_can_read(sd, hook))
			goto none;
		avail = hv_get_bytes_to_read(rbi);
		if (!avail)
			goto none;
		/* Pairs with the guest's barrier before its write_index. */
		virt_rmb();
		read = rbi->ring_buffer->read_index;
		d = hv_get_ring_buffer(rbi) + read;
		len = (u32)READ_ONCE(d->len8) << 3;
		if (len < sizeof(*d) || len + VMBUS_PKT_TRAILER > avail) {
			sd->ring_broken = true;
			spin_unlock_irqrestore(&sd->lock, flags);
			atomic_long_inc(&sim_stats.ring_errors);
			pr_warn_ratelimited("device %d: cannot frame a packet of %u bytes at %u (%u to read); the host stops reading\n",
					    sd->index, len, read, avail);
			if (req)
				sim_free_req(req);
			return -EIO;
		}
		if (req && req->len == len && gen == sd->gen &&
		    read == rbi->ring_buffer->read_index)
			break;
		gen = sd->gen;
		spin_unlock_irqrestore(&sd->lock, flags);
		if (req)
			sim_free_req(req);
		req = kzalloc(struct_size(req, priv, sd->ops->req_priv_size),
			      gfp | __GFP_NOWARN);
		if (req) {
			req->len = len;
			req->pkt = hook ? kmalloc(len, gfp | __GFP_NOWARN) :
					  kvmalloc(len, gfp);
			if (!req->pkt) {
				kfree(req);
				req = NULL;
			}
		}
		if (!req)
			return -ENOMEM;
		spin_lock_irqsave(&sd->lock, flags);
	}

	memcpy(req->pkt, hv_get_ring_buffer(rbi) + read, len);
	d = (struct vmpacket_descriptor *)req->pkt;
	req->sd = sd;
	req->trans_id = d->trans_id;
	req->type = d->type;
	req->flags = d->flags;

	next = read + len + VMBUS_PKT_TRAILER;
	if (next >= rbi->ring_datasize)
		next -= rbi->ring_datasize;
	/* Reads done before the guest may reuse the space. */
	virt_mb();
	pending = READ_ONCE(rbi->ring_buffer->pending_send_sz);
	signal = pending && hv_get_bytes_to_write(rbi) <= pending;
	WRITE_ONCE(rbi->ring_buffer->read_index, next);
	/* read_index visible before the room is computed again */
	virt_mb();
	signal = signal && hv_get_bytes_to_write(rbi) > pending;
	if (signal)
		atomic_inc(&sd->irq_inflight);
	list_add_tail(&req->node, &sd->reqs);
	spin_unlock_irqrestore(&sd->lock, flags);
	if (signal)
		sim_signal_guest(sd);
	*out = req;
	return 1;

none:
	spin_unlock_irqrestore(&sd->lock, flags);
	if (req)
		sim_free_req(req);
	return 0;
}

/* Set the host's interrupt mask on the guest's ring, if it serves it. */
static void sim_host_mask(struct vmbus_sim_dev *sd, u32 mask)
{
	unsigned long flags;

	spin_lock_irqsave(&sd->lock, flags);
	if (sd->host_open)
		WRITE_ONCE(sd->chan.outbound.ring_buffer->interrupt_mask, mask);
	spin_unlock_irqrestore(&sd->lock, flags);
	/* the mask set before the ring is looked at again */
	virt_mb();
}

/*
 * The host's side of a channel: drain what waits for the guest's ring,
 * take every packet off the guest's ring (masking the guest's signals
 * meanwhile, then checking again, as ring_buffer.c describes the host).
 */
void sim_host_work(struct work_struct *work)
{
	struct vmbus_sim_dev *sd = container_of(work, struct vmbus_sim_dev,
						host_work);
	struct vmbus_sim_req *req;
	int ret;

	sim_flush(sd);
	do {
		sim_host_mask(sd, 1);
		for (;;) {
			ret = sim_take_one(sd, false, &req);
			if (ret == -ENOMEM) {
				schedule_timeout_uninterruptible(1);
				continue;
			}
			if (ret <= 0)
				break;
			sd->ops->request(req, false);
			cond_resched();
		}
		sim_host_mask(sd, 0);
		ret = 0;
		spin_lock_irq(&sd->lock);
		if (sim_host_can_read(sd, false))
			ret = hv_get_bytes_to_read(&sd->chan.outbound);
		spin_unlock_irq(&sd->lock);
	} while (ret);
}

/* ------------------------------------------------------------------ */
/* The guest's send path: vmbus_sendpacket_mpb_desc()                  */

static void sim_rescind_later(struct vmbus_sim_dev *sd)
{
	get_device(&sd->hdev.device);
	if (!queue_work(sim_wq, &sd->rescind_work))
		put_device(&sd->hdev.device);
}

/* Has the guest read past the hook request's answer? */
static bool sim_hook_consumed(struct vmbus_sim_dev *sd)
{
	struct hv_ring_buffer_info *rbi = &sd->chan.inbound;
	u32 dsize = rbi->ring_datasize, r, w;

	if (!dsize)
		return false;
	r = READ_ONCE(rbi->ring_buffer->read_index);
	w = READ_ONCE(rbi->ring_buffer->write_index);
	return (w - r + dsize) % dsize <= (w - sd->hook_end + dsize) % dsize;
}

/*
 * Wait for the guest's callback on the target CPU to read past the hook
 * request's answer and return: first for it to start (the interrupt may be
 * slow to come on a loaded TCG host), then for it to finish. True if it
 * did; false if it never started or still runs (maybe spinning on a lock
 * this sender holds).
 */
static bool sim_hook_wait(struct vmbus_sim_dev *sd)
{
	u64 t0 = ktime_get_ns(), started = 0, now;
	bool consumed, running;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&sd->lock, flags);
		consumed = sim_hook_consumed(sd);
		spin_unlock_irqrestore(&sd->lock, flags);
		running = READ_ONCE(sd->cb_running);
		if (consumed && !running)
			return true;
		now = ktime_get_ns();
		if (!started && (running || consumed))
			started = now;
		if (started ? now - started > SIM_RACE_RUN_NS :
			      now - t0 > SIM_RACE_START_NS)
			return false;
		cpu_relax();
	}
}

/*
 * vmbus_reset_channel_cb() and vmbus_rescind_cleanup() where this context
 * cannot wait: stop the callback and set rescind, unless the callback
 * runs (then the real one would still be waiting for it). False if so.
 */
static bool sim_rescind_now(struct vmbus_sim_dev *sd)
{
	struct vmbus_channel *chan = &sd->chan;
	unsigned long flags;
	bool done = false;

	spin_lock_irqsave(&chan->sched_lock, flags);
	if (!sd->cb_running) {
		chan->onchannel_callback = NULL;
		WRITE_ONCE(chan->rescind, true);
		done = true;
	}
	spin_unlock_irqrestore(&chan->sched_lock, flags);

	spin_lock_irqsave(&sd->lock, flags);
	sd->reader_blocked = false;
	sd->hook_req = NULL;
	spin_unlock_irqrestore(&sd->lock, flags);
	return done;
}

/*
 * Called between the commit of a packet (ending at @end in the guest's
 * ring) and hv_ringbuffer_write()'s second rescind check, with the hook
 * that send claimed. The host has done what @hook says, then the rescind
 * arrives as vmbus_onoffer_rescind() delivers it: callback stopped, then
 * channel->rescind set. That waits for a running callback: if one runs,
 * the rescind is set only later (after this send), by the rescind work.
 */
static void sim_rescind_hook(struct vmbus_sim_dev *sd, enum sim_hook hook,
			     u32 end)
{
	struct hv_ring_buffer_info *out = &sd->chan.outbound;
	struct vmbus_sim_req *req, *mine = NULL;
	bool consumed = false;
	unsigned long flags;

	/* The host takes everything up to and including this packet. */
	while (hook >= SIM_HOOK_TAKEN && !mine) {
		if (sim_take_one(sd, true, &req) <= 0)
			break;
		if (READ_ONCE(out->ring_buffer->read_index) == end)
			mine = req;
		else
			sd->ops->request(req, true);
	}

	if (mine && hook == SIM_HOOK_COMPLETED) {
		spin_lock_irqsave(&sd->lock, flags);
		sd->hook_req = mine;
		sd->hook_written = false;
		spin_unlock_irqrestore(&sd->lock, flags);
		sd->ops->request(mine, true);
		mine = NULL;
		/*
		 * The answer is in the guest's ring and its interrupt on the
		 * way to the target CPU. Give the guest there the time to
		 * read it, unless it is this CPU (its callback cannot run
		 * before this send returns).
		 */
		if (READ_ONCE(sd->hook_written) &&
		    raw_smp_processor_id() != READ_ONCE(sd->chan.target_cpu))
			consumed = sim_hook_wait(sd);
	}

	if (!sim_rescind_now(sd)) {
		atomic_long_inc(&sim_stats.race_deferred);
		/* A packet the host did not take: it will now. */
		queue_work(sim_wq, &sd->host_work);
	} else if (consumed) {
		atomic_long_inc(&sim_stats.race_consumed);
	}
	if (mine)
		sd->ops->request(mine, true);
	sim_rescind_later(sd);
}

/* Claim the rescind hook for this send; it blocks the host's reader. */
static enum sim_hook sim_claim_hook(struct vmbus_sim_dev *sd)
{
	enum sim_hook hook;
	unsigned long flags;

	if (likely(!READ_ONCE(sd->hook)))
		return SIM_HOOK_NONE;
	spin_lock_irqsave(&sd->lock, flags);
	hook = sd->hook;
	sd->hook = SIM_HOOK_NONE;
	if (hook)
		sd->reader_blocked = true;
	spin_unlock_irqrestore(&sd->lock, flags);
	return hook;
}

/* Nothing was committed: the hook stays armed for the next send. */
static void sim_unclaim_hook(struct vmbus_sim_dev *sd, enum sim_hook hook)
{
	unsigned long flags;

	if (!hook)
		return;
	spin_lock_irqsave(&sd->lock, flags);
	if (!sd->hook)
		sd->hook = hook;
	sd->reader_blocked = false;
	spin_unlock_irqrestore(&sd->lock, flags);
	queue_work(sim_wq, &sd->host_work);
}

/* hv_signal_on_write() */
static void sim_signal_on_write(u32 old_write, struct vmbus_channel *channel)
{
	struct hv_ring_buffer_info *rbi = &channel->outbound;

	/* write_index visible before the host's mask is read */
	virt_mb();
	if (READ_ONCE(rbi->ring_buffer->interrupt_mask))
		return;

	/* check interrupt_mask before read_index */
	virt_rmb();
	/* Only when the ring goes from empty to non-empty. */
	if (old_write == READ_ONCE(rbi->ring_buffer->read_index)) {
		++channel->intr_out_empty;
		sim_setevent(channel);
	}
}

/* hv_ringbuffer_write() of 7.2, line for line where the driver can see. */
static int sim_ringbuffer_write(struct vmbus_channel *channel,
				const struct kvec *kv_list, u32 kv_count,
				u64 requestid, u64 *trans_id)
{
	struct vmbus_sim_dev *sd = chan_to_sd(channel);
	struct hv_ring_buffer_info *outring_info = &channel->outbound;
	struct vmpacket_descriptor *desc = kv_list[0].iov_base;
	u32 totalbytes_towrite = sizeof(u64);
	u64 __trans_id, rqst_id = VMBUS_NO_RQSTOR;
	u32 bytes_avail_towrite;
	u32 next_write_location;
	enum sim_hook hook;
	unsigned long flags;
	u64 prev_indices;
	u32 old_write;
	u32 i;

	if (channel->rescind)
		return -ENODEV;

	for (i = 0; i < kv_count; i++)
		totalbytes_towrite += kv_list[i].iov_len;

	if (!outring_info->ring_buffer) {
		sim_misuse("send on a channel that is not open");
		return -EINVAL;
	}
	hook = sim_claim_hook(sd);

	spin_lock_irqsave(&outring_info->ring_lock, flags);

	bytes_avail_towrite = hv_get_bytes_to_write(outring_info);

	/*
	 * If there is only room for the packet, assume it is full.
	 * Otherwise, the next time around, we think the ring buffer
	 * is empty since the read index == write index.
	 */
	if (bytes_avail_towrite <= totalbytes_towrite) {
		++channel->out_full_total;

		if (!channel->out_full_flag) {
			++channel->out_full_first;
			channel->out_full_flag = true;
		}

		spin_unlock_irqrestore(&outring_info->ring_lock, flags);
		atomic_long_inc(&sim_stats.ring_full);
		sim_unclaim_hook(sd, hook);
		return -EAGAIN;
	}

	channel->out_full_flag = false;

	/* Write to the ring buffer */
	next_write_location = outring_info->ring_buffer->write_index;
	old_write = next_write_location;

	for (i = 0; i < kv_count; i++) {
		next_write_location = sim_copyto_ring(outring_info,
						      next_write_location,
						      kv_list[i].iov_base,
						      kv_list[i].iov_len);
	}

	/* The request id, after the copy: its owner may complete it now. */
	if (desc->flags == VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED) {
		if (channel->next_request_id_callback) {
			rqst_id = channel->next_request_id_callback(channel,
								    requestid);
			if (rqst_id == VMBUS_RQST_ERROR) {
				spin_unlock_irqrestore(&outring_info->ring_lock,
						       flags);
				atomic_long_inc(&sim_stats.rqstor_full);
				sim_unclaim_hook(sd, hook);
				return -EAGAIN;
			}
		}
	}
	desc = hv_get_ring_buffer(outring_info) + old_write;
	__trans_id = (rqst_id == VMBUS_NO_RQSTOR) ? requestid : rqst_id;
	WRITE_ONCE(desc->trans_id, __trans_id);
	if (trans_id)
		*trans_id = __trans_id;

	/* Set previous packet start */
	prev_indices = (u64)outring_info->ring_buffer->write_index << 32;
	next_write_location = sim_copyto_ring(outring_info, next_write_location,
					      &prev_indices, sizeof(u64));

	/* Issue a full memory barrier before updating the write index */
	virt_mb();

	/* Now, update the write location */
	WRITE_ONCE(outring_info->ring_buffer->write_index, next_write_location);

	spin_unlock_irqrestore(&outring_info->ring_lock, flags);
	atomic_long_inc(&sim_stats.requests);

	if (hook)
		sim_rescind_hook(sd, hook, next_write_location);
	else
		sim_signal_on_write(old_write, channel);

	if (channel->rescind) {
		if (rqst_id != VMBUS_NO_RQSTOR) {
			/* Reclaim request ID to avoid leak of IDs */
			if (channel->request_addr_callback)
				channel->request_addr_callback(channel, rqst_id);
		}
		atomic_long_inc(&sim_stats.rescind_after_commit);
		return -ENODEV;
	}

	return 0;
}

int vmbus_sendpacket_mpb_desc(struct vmbus_channel *channel,
			      struct vmbus_packet_mpb_array *desc,
			      u32 desc_size, void *buffer, u32 bufferlen,
			      u64 requestid)
{
	u32 packetlen = desc_size + bufferlen;
	u32 packetlen_aligned = ALIGN(packetlen, sizeof(u64));
	struct kvec bufferlist[3];
	u64 aligned_data = 0;

	/* Setup the descriptor; the caller has set rangecount. */
	desc->type = VM_PKT_DATA_USING_GPA_DIRECT;
	desc->flags = VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED;
	desc->dataoffset8 = desc_size >> 3; /* in 8-bytes granularity */
	desc->length8 = (u16)(packetlen_aligned >> 3);
	desc->transactionid = VMBUS_RQST_ERROR; /* set by the ring write */
	desc->reserved = 0;

	bufferlist[0].iov_base = desc;
	bufferlist[0].iov_len = desc_size;
	bufferlist[1].iov_base = buffer;
	bufferlist[1].iov_len = bufferlen;
	bufferlist[2].iov_base = &aligned_data;
	bufferlist[2].iov_len = (packetlen_aligned - packetlen);

	return sim_ringbuffer_write(channel, bufferlist, 3, requestid, NULL);
}
EXPORT_SYMBOL_GPL(vmbus_sendpacket_mpb_desc);

/* ------------------------------------------------------------------ */
/* The guest reads its (inbound) ring: ring_buffer.c's iterator        */

/* hv_pkt_iter_avail(): bytes after the iterator's private read index. */
static u32 sim_pkt_iter_avail(const struct hv_ring_buffer_info *rbi)
{
	u32 priv_read_loc = rbi->priv_read_index;
	u32 write_loc;

	/* The host writes the data, then store-releases write_index. */
	write_loc = virt_load_acquire(&rbi->ring_buffer->write_index);

	if (write_loc >= priv_read_loc)
		return write_loc - priv_read_loc;
	return (rbi->ring_datasize - priv_read_loc) + write_loc;
}

struct vmpacket_descriptor *hv_pkt_iter_first(struct vmbus_channel *channel)
{
	struct hv_ring_buffer_info *rbi = &channel->inbound;
	struct vmpacket_descriptor *desc, *desc_copy;
	u32 bytes_avail, pkt_len, pkt_offset;

	if (!rbi->ring_buffer) {
		sim_misuse("reading the ring of a channel that is not open");
		return NULL;
	}

	bytes_avail = sim_pkt_iter_avail(rbi);
	if (bytes_avail < sizeof(struct vmpacket_descriptor))
		return NULL;
	bytes_avail = min(rbi->pkt_buffer_size, bytes_avail);

	desc = (struct vmpacket_descriptor *)(hv_get_ring_buffer(rbi) +
					      rbi->priv_read_index);

	pkt_len = READ_ONCE(desc->len8) << 3;
	pkt_offset = READ_ONCE(desc->offset8) << 3;

	/*
	 * If pkt_len is invalid, set it to the smaller of hv_pkt_iter_avail()
	 * and rbi->pkt_buffer_size
	 */
	if (pkt_len < sizeof(struct vmpacket_descriptor) ||
	    pkt_len > bytes_avail) {
		if (pkt_len > bytes_avail)
			atomic_long_inc(&sim_stats.cut);
		pkt_len = bytes_avail;
	}

	/*
	 * If pkt_offset is invalid, arbitrarily set it to
	 * the size of vmpacket_descriptor
	 */
	if (pkt_offset < sizeof(struct vmpacket_descriptor) ||
	    pkt_offset > pkt_len)
		pkt_offset = sizeof(struct vmpacket_descriptor);

	/* Copy the Hyper-V packet out of the ring buffer */
	desc_copy = (struct vmpacket_descriptor *)rbi->pkt_buffer;
	memcpy(desc_copy, desc, pkt_len);

	/* len8 and offset8 consistent with the copy just made */
	desc_copy->len8 = pkt_len >> 3;
	desc_copy->offset8 = pkt_offset >> 3;

	return desc_copy;
}
EXPORT_SYMBOL_GPL(hv_pkt_iter_first);

struct vmpacket_descriptor *
__hv_pkt_iter_next(struct vmbus_channel *channel,
		   const struct vmpacket_descriptor *desc)
{
	struct hv_ring_buffer_info *rbi = &channel->inbound;
	u32 packetlen = desc->len8 << 3;
	u32 dsize = rbi->ring_datasize;

	/* bump offset to next potential packet */
	rbi->priv_read_index += packetlen + VMBUS_PKT_TRAILER;
	if (rbi->priv_read_index >= dsize)
		rbi->priv_read_index -= dsize;

	/* more data? */
	return hv_pkt_iter_first(channel);
}
EXPORT_SYMBOL_GPL(__hv_pkt_iter_next);

/* hv_pkt_iter_bytes_read() */
static u32 sim_pkt_iter_bytes_read(const struct hv_ring_buffer_info *rbi,
				   u32 start_read_index)
{
	if (rbi->priv_read_index >= start_read_index)
		return rbi->priv_read_index - start_read_index;
	return rbi->ring_datasize - start_read_index + rbi->priv_read_index;
}

void hv_pkt_iter_close(struct vmbus_channel *channel)
{
	struct hv_ring_buffer_info *rbi = &channel->inbound;
	u32 curr_write_sz, pending_sz, bytes_read, start_read_index;

	if (!rbi->ring_buffer) {
		sim_misuse("closing the read of a channel that is not open");
		return;
	}

	/* All reads done before the host may write over them. */
	virt_rmb();
	start_read_index = rbi->ring_buffer->read_index;
	WRITE_ONCE(rbi->ring_buffer->read_index, rbi->priv_read_index);

	if (!rbi->ring_buffer->feature_bits.feat_pending_send_sz)
		return;

	/* read_index committed before pending_send_sz is read */
	virt_mb();

	pending_sz = READ_ONCE(rbi->ring_buffer->pending_send_sz);
	if (!pending_sz)
		return;

	/* pending_send_sz read before write_index */
	virt_rmb();
	curr_write_sz = hv_get_bytes_to_write(rbi);
	bytes_read = sim_pkt_iter_bytes_read(rbi, start_read_index);

	/* Signal only on the transition to "enough space" for the host. */
	if (curr_write_sz - bytes_read > pending_sz)
		return;

	if (curr_write_sz <= pending_sz)
		return;

	++channel->intr_in_full;
	sim_setevent(channel);
}
EXPORT_SYMBOL_GPL(hv_pkt_iter_close);

/* ------------------------------------------------------------------ */
/* For the personality                                                 */

void vmbus_sim_fail_next_open(struct vmbus_sim_dev *sd, int err)
{
	unsigned long flags;

	spin_lock_irqsave(&sd->lock, flags);
	sd->fail_open = err;
	spin_unlock_irqrestore(&sd->lock, flags);
}

void *vmbus_sim_dev_priv(struct vmbus_sim_dev *sd)
{
	return sd->priv;
}
EXPORT_SYMBOL_GPL(vmbus_sim_dev_priv);

void *vmbus_sim_dev_data(struct vmbus_sim_dev *sd)
{
	return sd->data;
}
EXPORT_SYMBOL_GPL(vmbus_sim_dev_data);

int vmbus_sim_dev_index(const struct vmbus_sim_dev *sd)
{
	return sd->index;
}
EXPORT_SYMBOL_GPL(vmbus_sim_dev_index);

bool vmbus_sim_hvpfn_valid(u64 hvpfn)
{
	u64 kpfn = hvpfn >> (PAGE_SHIFT - VMBUS_SIM_HV_PAGE_SHIFT);

	return kpfn == (unsigned long)kpfn && pfn_valid((unsigned long)kpfn);
}

void vmbus_sim_walk(const u64 *hvpfns, u64 off, u64 len, vmbus_sim_walk_fn fn,
		    void *ctx, bool atomic)
{
	u64 done = 0;

	while (done < len) {
		u64 pos = off + done;
		u64 hvpfn = hvpfns[pos >> VMBUS_SIM_HV_PAGE_SHIFT];
		size_t in = pos & (VMBUS_SIM_HV_PAGE_SIZE - 1);
		size_t n = min_t(u64, len - done, VMBUS_SIM_HV_PAGE_SIZE - in);
		unsigned long kpfn = hvpfn >>
				     (PAGE_SHIFT - VMBUS_SIM_HV_PAGE_SHIFT);
		size_t kofs = ((hvpfn << VMBUS_SIM_HV_PAGE_SHIFT) & ~PAGE_MASK) +
			      in;
		struct page *page = pfn_to_page(kpfn);
		u8 *va;

		va = kmap_local_page(page);
		fn(page, va + kofs, n, done, ctx);
		kunmap_local(va);
		done += n;
		if (!atomic)
			cond_resched();
	}
}

/* ------------------------------------------------------------------ */
/* Open and close, as drivers/hv/channel.c                             */

/* __vmbus_open(), without the messages: the host answers at once. */
static int sim_open(struct vmbus_channel *newchannel, void *userdata,
		    u32 userdatalen, void (*onchannelcallback)(void *context),
		    void *context)
{
	struct vmbus_sim_dev *sd = chan_to_sd(newchannel);
	struct page *page = newchannel->ringbuffer_page;
	u32 send_pages, recv_pages;
	unsigned long flags;
	int err;

	if (userdatalen > MAX_USER_DEFINED_BYTES)
		return -EINVAL;

	send_pages = newchannel->ringbuffer_send_offset;
	recv_pages = newchannel->ringbuffer_pagecount - send_pages;

	if (newchannel->state != CHANNEL_OPEN_STATE)
		return -EINVAL;

	/* Create and init requestor */
	if (newchannel->rqstor_size) {
		if (sim_alloc_requestor(&newchannel->requestor,
					newchannel->rqstor_size))
			return -ENOMEM;
	}

	newchannel->state = CHANNEL_OPENING_STATE;
	newchannel->onchannel_callback = onchannelcallback;
	newchannel->channel_callback_context = context;

	if (!newchannel->max_pkt_size)
		newchannel->max_pkt_size = VMBUS_DEFAULT_MAX_PKT_SIZE;

	err = sim_ringbuffer_init(&newchannel->outbound, page, send_pages, 0);
	if (err)
		goto error_clean_ring;

	err = sim_ringbuffer_init(&newchannel->inbound, &page[send_pages],
				  recv_pages, newchannel->max_pkt_size);
	if (err)
		goto error_clean_ring;

	if (newchannel->rescind) {
		err = -ENODEV;
		goto error_clean_ring;
	}

	/* The host's answer to the open message. */
	spin_lock_irqsave(&sd->lock, flags);
	err = -sd->fail_open;
	sd->fail_open = 0;
	spin_unlock_irqrestore(&sd->lock, flags);
	if (err) {
		atomic_long_inc(&sim_stats.open_failures);
		goto error_clean_ring;
	}

	sd->ops->chan_open(sd);
	spin_lock_irqsave(&sd->lock, flags);
	sd->gen++;
	sd->userdatalen = userdatalen;
	sd->ring_broken = false;
	sd->host_open = true;
	spin_unlock_irqrestore(&sd->lock, flags);

	newchannel->state = CHANNEL_OPENED_STATE;
	return 0;

error_clean_ring:
	sim_ringbuffer_cleanup(&newchannel->outbound);
	sim_ringbuffer_cleanup(&newchannel->inbound);
	sim_free_requestor(&newchannel->requestor);
	newchannel->state = CHANNEL_OPEN_STATE;
	return err;
}

int vmbus_open(struct vmbus_channel *newchannel, u32 send_ringbuffer_size,
	       u32 recv_ringbuffer_size, void *userdata, u32 userdatalen,
	       void (*onchannelcallback)(void *context), void *context)
{
	int err;

	if (newchannel->state == CHANNEL_OPENED_STATE) {
		/* The real one would free the live rings here. */
		sim_misuse("opening a channel that is open");
		return -EINVAL;
	}

	err = sim_alloc_ring(newchannel, send_ringbuffer_size,
			     recv_ringbuffer_size);
	if (err)
		return err;

	err = sim_open(newchannel, userdata, userdatalen, onchannelcallback,
		       context);
	if (err)
		sim_free_ring(newchannel);

	return err;
}
EXPORT_SYMBOL_GPL(vmbus_open);

/*
 * The close message and the ring's GPADL teardown: the host lets go of the
 * channel. It forgets every request it took (the personality stops working
 * on each), drops what waits for the guest's ring, and is done with the
 * rings before this returns.
 */
static void sim_host_close(struct vmbus_sim_dev *sd)
{
	struct vmbus_sim_req *req, *tmp;
	unsigned long flags;
	LIST_HEAD(backlog);
	LIST_HEAD(reqs);

	spin_lock_irqsave(&sd->lock, flags);
	sd->host_open = false;
	sd->reader_blocked = false;
	sd->hook_req = NULL;
	list_for_each_entry(req, &sd->reqs, node)
		req->detached = true;
	list_splice_init(&sd->reqs, &reqs);
	list_splice_init(&sd->backlog, &backlog);
	atomic_long_add(sd->nr_backlog, &sim_stats.dropped);
	sd->nr_backlog = 0;
	spin_unlock_irqrestore(&sd->lock, flags);

	cancel_work_sync(&sd->host_work);
	while (atomic_read(&sd->irq_inflight))
		usleep_range(100, 200);

	list_for_each_entry_safe(req, tmp, &reqs, node) {
		sd->ops->close_req(req);
		list_del(&req->node);
		sim_free_req(req);
	}
	sim_free_backlog(&backlog);
	sd->ops->chan_close(sd);
}

/* vmbus_close_internal() */
static int sim_close_internal(struct vmbus_channel *channel)
{
	sim_reset_channel_cb(channel);

	if (channel->state != CHANNEL_OPENED_STATE)
		return -EINVAL;

	channel->state = CHANNEL_OPEN_STATE;
	sim_host_close(chan_to_sd(channel));
	sim_free_requestor(&channel->requestor);
	return 0;
}

void vmbus_close(struct vmbus_channel *channel)
{
	if (sim_close_internal(channel) == 0)
		sim_free_ring(channel);
}
EXPORT_SYMBOL_GPL(vmbus_close);
