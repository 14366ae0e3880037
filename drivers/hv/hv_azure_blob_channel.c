// SPDX-License-Identifier: GPL-2.0
/*
 * hv_azure_blob: the VMBus channel. The driver's own requestor, the send
 * path with its queue of senders, the channel callback that takes the
 * host's completions, and the one way the channel is stopped (remove and
 * suspend alike).
 */

#include <linux/hyperv.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "hv_azure_blob.h"
#include "hv_azure_blob_trace.h"

/* Every slot free; the generations go on, so no old id matches again. */
void az_blob_ids_reset(struct az_blob_ids *ids)
{
	unsigned long flags;
	u32 i;

	spin_lock_irqsave(&ids->lock, flags);
	for (i = 0; i < AZ_BLOB_RQSTOR_SIZE; i++) {
		ids->slot[i].id = 0;
		ids->slot[i].addr = 0;
		ids->slot[i].next_free = i + 1;
	}
	ids->free = 0;
	spin_unlock_irqrestore(&ids->lock, flags);
}

struct az_blob_ids *az_blob_ids_alloc(void)
{
	struct az_blob_ids *ids = kvzalloc_obj(*ids, GFP_KERNEL);

	if (ids) {
		spin_lock_init(&ids->lock);
		az_blob_ids_reset(ids);
	}
	return ids;
}

/* A new id for @addr, or VMBUS_RQST_ERROR if every slot is taken. */
u64 az_blob_ids_get(struct az_blob_ids *ids, u64 addr)
{
	struct az_blob_slot *slot;
	unsigned long flags;
	u64 id = VMBUS_RQST_ERROR;
	u32 i;

	spin_lock_irqsave(&ids->lock, flags);
	i = ids->free;
	if (i < AZ_BLOB_RQSTOR_SIZE) {
		slot = &ids->slot[i];
		ids->free = slot->next_free;
		slot->uses++;
		slot->id = slot->uses * AZ_BLOB_RQSTOR_SIZE + i + 1;
		slot->addr = addr;
		id = slot->id;
	}
	spin_unlock_irqrestore(&ids->lock, flags);
	return id;
}

/* The request of @id, whose slot is freed; VMBUS_RQST_ERROR if unknown. */
u64 az_blob_ids_put(struct az_blob_ids *ids, u64 id)
{
	struct az_blob_slot *slot;
	unsigned long flags;
	u64 addr = VMBUS_RQST_ERROR;
	u32 i;

	if (!id || id == VMBUS_RQST_ERROR)
		return VMBUS_RQST_ERROR;
	i = (id - 1) % AZ_BLOB_RQSTOR_SIZE;
	slot = &ids->slot[i];

	spin_lock_irqsave(&ids->lock, flags);
	if (slot->id == id) {
		addr = slot->addr;
		slot->id = 0;
		slot->addr = 0;
		slot->next_free = ids->free;
		ids->free = i;
	}
	spin_unlock_irqrestore(&ids->lock, flags);
	return addr;
}

/* &vmbus_channel.next_request_id_callback: called under the ring lock. */
static u64 az_blob_next_request_id(struct vmbus_channel *chan, u64 addr)
{
	struct az_blob_device *dev = chan->channel_callback_context;
	u64 id = az_blob_ids_get(dev->ids, addr);

	if (id != VMBUS_RQST_ERROR)
		((struct az_blob_request *)(unsigned long)addr)->trans_id = id;
	return id;
}

/*
 * &vmbus_channel.request_addr_callback: the channel callback, and the VMBus
 * core when a rescind stopped a send after its packet was committed.
 */
static u64 az_blob_request_addr(struct vmbus_channel *chan, u64 id)
{
	struct az_blob_device *dev = chan->channel_callback_context;

	return az_blob_ids_put(dev->ids, id);
}

/* Caller holds dev->lock. */
static void az_blob_pending_del(struct az_blob_device *dev,
				struct az_blob_request *req)
{
	list_del_init(&req->node);
	WRITE_ONCE(dev->nr_pending, dev->nr_pending - 1);
	if (!dev->nr_pending)
		wake_up_all(&dev->drain_wq);
}

/*
 * Put the packet into the ring; the caller holds dev->lock and is the first
 * sender. Returns -EAGAIN if the ring or the requestor is full.
 */
static int az_blob_send_locked(struct az_blob_device *dev,
			       struct az_blob_request *req,
			       struct vmbus_packet_mpb_array *desc,
			       u32 desc_size)
{
	int ret;

	/* The host's reference: it may complete before we return. */
	kref_get(&req->kref);
	/* The host's time starts now, not when the command was issued. */
	if (req->async)
		req->deadline = jiffies +
			msecs_to_jiffies(le32_to_cpu(req->pkt.timeout_ms) +
					 AZ_BLOB_URING_GRACE_MS);
	list_add_tail(&req->node, &dev->pending);
	WRITE_ONCE(dev->nr_pending, dev->nr_pending + 1);
	req->sent = true;
	ret = vmbus_sendpacket_mpb_desc(dev->hdev->channel, desc, desc_size,
					&req->pkt, sizeof(req->pkt),
					(unsigned long)req);
	/*
	 * -ENODEV: rescinded. hv_ringbuffer_write() may have committed the
	 * packet before it saw the rescind, and the host may have taken it
	 * and even completed it already (the callback then waits for our
	 * lock). Either way the request stays the host's until it is
	 * completed or remove closes the channel and fails it.
	 */
	if (!ret || ret == -ENODEV) {
		atomic64_inc(&dev->stats.submitted);
		trace_az_blob_submit(req);
		return 0;
	}

	/* Nothing was committed: no id, the host never saw it. */
	req->sent = false;
	az_blob_pending_del(dev, req);
	/* Not the last reference: the submitter holds one. */
	kref_put(&req->kref, az_blob_request_release_deferred);
	if (ret == -EAGAIN)
		atomic64_inc(&dev->stats.ring_full);
	return ret;
}

/* Caller holds dev->lock. */
static bool az_blob_first_sender(struct az_blob_device *dev,
				 struct list_head *me)
{
	return dev->senders.next == me;
}

static bool az_blob_send_turn(struct az_blob_device *dev,
			      struct list_head *me)
{
	bool turn;

	spin_lock_bh(&dev->lock);
	turn = az_blob_first_sender(dev, me) || dev->state != AZ_BLOB_RUNNING;
	spin_unlock_bh(&dev->lock);
	return turn;
}

/**
 * az_blob_send() - Hand a pinned request to the host.
 * @dev: The device.
 * @req: The request; on success the host holds a reference to it.
 * @wait: How the sender may wait; %AZ_BLOB_NOWAIT: -EAGAIN instead.
 *
 * Senders queue in arrival order and only the first one sends. When the
 * ring or the host's requestor is full, it asks the host (pending_send_sz)
 * to signal once there is room for its packet, and waits for the channel
 * callback, which runs on that signal as on completions. After
 * %AZ_BLOB_SEND_WAIT_MS without either it gives up with -EBUSY, and so
 * does every sender after it whose packet does not fit at its turn, until
 * the host makes progress again. With %AZ_BLOB_NOWAIT it never waits: a
 * sender that would wait returns -EAGAIN instead; with
 * %AZ_BLOB_WAIT_LOCKED its waits are not freezable.
 *
 * Return: 0, -ENODEV or -EAGAIN if the device is gone or suspended, -EBUSY
 * if the ring stayed full, -EINTR on a fatal signal, -EAGAIN if
 * %AZ_BLOB_NOWAIT and the sender would have had to wait.
 */
int az_blob_send(struct az_blob_device *dev, struct az_blob_request *req,
		 enum az_blob_wait wait)
{
	struct vmbus_packet_mpb_array *desc = dev->send_desc;
	unsigned int state = TASK_KILLABLE;
	bool asked = false, filled = false;
	struct list_head me;
	unsigned long progress;
	u32 desc_size;
	long left;
	int ret;

	if (wait == AZ_BLOB_WAIT)
		state |= TASK_FREEZABLE;
	desc_size = struct_size(desc, range.pfn_array, req->nr_hv_pages);

	spin_lock_bh(&dev->lock);
	list_add_tail(&me, &dev->senders);
	for (;;) {
		ret = az_blob_state_errno(dev);
		if (ret)
			break;
		if (!az_blob_first_sender(dev, &me)) {
			if (wait == AZ_BLOB_NOWAIT) {
				ret = -EAGAIN;
				break;
			}
			spin_unlock_bh(&dev->lock);
			ret = wait_event_state(dev->send_wq,
					       az_blob_send_turn(dev, &me),
					       state);
			spin_lock_bh(&dev->lock);
			if (ret) {
				ret = -EINTR;
				break;
			}
			continue;
		}

		if (!filled) {
			/*
			 * The first sender owns @desc until it leaves
			 * @senders; up to 8,192 PFNs are written outside the
			 * lock, and the loop looks at the state again.
			 */
			spin_unlock_bh(&dev->lock);
			desc->rangecount = 1;
			desc->range.offset = 0;
			desc->range.len = req->nr_hv_pages * HV_HYP_PAGE_SIZE;
			az_blob_fill_range(req, desc->range.pfn_array);
			spin_lock_bh(&dev->lock);
			filled = true;
			continue;
		}

		progress = READ_ONCE(dev->host_progress);
		ret = az_blob_send_locked(dev, req, desc, desc_size);
		if (ret != -EAGAIN || wait == AZ_BLOB_NOWAIT)
			break;
		if (dev->send_stalled) {
			ret = -EBUSY;
			break;
		}
		if (!asked) {
			/*
			 * The host signals when the packet and its trailer
			 * fit. It may have made room before it could see the
			 * request: look once more.
			 */
			set_channel_pending_send_size(dev->hdev->channel,
						      ALIGN(desc_size + sizeof(req->pkt),
							    sizeof(u64)) + sizeof(u64));
			/* pending_send_sz before the ring's indices */
			virt_mb();
			asked = true;
			continue;
		}
		/* Bounded, so killable is enough for the freezer. */
		spin_unlock_bh(&dev->lock);
		left = wait_event_killable_timeout(dev->send_wq,
						   READ_ONCE(dev->host_progress) != progress ||
						   READ_ONCE(dev->state) != AZ_BLOB_RUNNING,
						   msecs_to_jiffies(AZ_BLOB_SEND_WAIT_MS));
		spin_lock_bh(&dev->lock);
		if (left < 0) {
			ret = -EINTR;
			break;
		}
		if (!left && READ_ONCE(dev->host_progress) == progress) {
			dev->send_stalled = true;
			ret = -EBUSY;
			break;
		}
	}
	list_del(&me);
	/*
	 * Only on a running device: hdev and the ring are valid while the
	 * state is, and a close resets the ring anyway.
	 */
	if (asked && dev->state == AZ_BLOB_RUNNING)
		set_channel_pending_send_size(dev->hdev->channel, 0);
	spin_unlock_bh(&dev->lock);
	/* The next sender's turn. */
	wake_up_all(&dev->send_wq);
	return ret;
}

/*
 * The submitter stops waiting. Returns false if the host gave the request
 * back meanwhile: then its reference is the submitter's, as on completion.
 */
bool az_blob_abandon(struct az_blob_device *dev,
		     struct az_blob_request *req)
{
	bool pending;

	spin_lock_bh(&dev->lock);
	pending = !list_empty(&req->node);
	if (pending)
		req->abandoned = true;
	spin_unlock_bh(&dev->lock);
	return pending;
}

/**
 * az_blob_give_back() - The host is done with a request.
 * @dev: The device.
 * @req: A request on @dev->pending.
 * @error: 0, or the error the submitter sees.
 * @status: The host's status.
 * @response_len: The host's response length, already checked.
 *
 * Hands the host's reference to the submitter if it still waits, else
 * drops it, possibly in softirq context.
 */
void az_blob_give_back(struct az_blob_device *dev,
		       struct az_blob_request *req, int error,
		       u32 status, u32 response_len)
{
	bool taken;

	spin_lock_bh(&dev->lock);
	az_blob_pending_del(dev, req);
	az_blob_unadmit(dev, req);
	req->error = error;
	req->status = status;
	req->response_len = response_len;
	trace_az_blob_complete(req, error, false);
	taken = req->complete(req);
	spin_unlock_bh(&dev->lock);

	if (!taken)
		kref_put(&req->kref, az_blob_request_release_deferred);
}

/**
 * az_blob_check_completion() - Read a completion the host sent.
 * @desc: A completion packet, as copied out of the ring by the VMBus core.
 * @response_cap: Length of the request's response buffer.
 * @status: Set to the host's status.
 * @response_len: Set to the host's response length.
 *
 * A completion longer than ours is accepted: the host may add fields.
 *
 * Return: 0, or -EIO if the packet is too short or claims more response
 * than the buffer holds.
 */
int az_blob_check_completion(const struct vmpacket_descriptor *desc,
			     u32 response_cap, u32 *status,
			     u32 *response_len)
{
	const struct az_blob_vsp_completion *cmp;

	if (hv_pkt_datalen(desc) < sizeof(*cmp))
		return -EIO;
	cmp = hv_pkt_data(desc);
	*status = le32_to_cpu(cmp->error);
	*response_len = le32_to_cpu(cmp->response_len);
	return *response_len > response_cap ? -EIO : 0;
}

static void az_blob_on_packet(struct az_blob_device *dev,
			      const struct vmpacket_descriptor *desc)
{
	u32 status = 0, response_len = 0, cap;
	struct az_blob_request *req;
	int error;
	u64 addr;

	/*
	 * Only a completion gives a request back: looking up the id frees
	 * it, so any other packet must not even look.
	 */
	if (desc->type != VM_PKT_COMP) {
		atomic64_inc(&dev->stats.not_completion);
		dev_warn_ratelimited(&dev->hdev->device,
				     "dropped a packet of type %u\n", desc->type);
		return;
	}

	addr = az_blob_ids_put(dev->ids, desc->trans_id);
	if (addr == VMBUS_RQST_ERROR || !addr) {
		atomic64_inc(&dev->stats.unknown_id);
		dev_warn_ratelimited(&dev->hdev->device,
				     "dropped a completion for unknown request %llu\n",
				     desc->trans_id);
		return;
	}
	req = (struct az_blob_request *)(unsigned long)addr;
	cap = req->spans[AZ_BLOB_BUF_RESPONSE].len;

	/* The id was ours, so the host is done with the pages either way. */
	error = az_blob_check_completion(desc, cap, &status, &response_len);
	if (error) {
		atomic64_inc(&dev->stats.bad_packet);
		dev_warn_ratelimited(&dev->hdev->device,
				     "malformed completion: %u bytes, response %u of %u\n",
				     hv_pkt_datalen(desc), response_len, cap);
		status = 0;
		response_len = 0;
	} else {
		atomic64_inc(&dev->stats.completed);
	}
	az_blob_give_back(dev, req, error, status, response_len);
}

/*
 * Called by the VMBus core in softirq context. Yields after
 * %AZ_BLOB_CALLBACK_MS; the core calls again for what is left.
 */
static void az_blob_on_channel(void *context)
{
	unsigned long limit = jiffies + msecs_to_jiffies(AZ_BLOB_CALLBACK_MS);
	struct az_blob_device *dev = context;
	struct vmbus_channel *chan = dev->hdev->channel;
	const struct vmpacket_descriptor *desc;
	bool any = false;

	foreach_vmbus_pkt(desc, chan) {
		/* Before the packet: it is consumed only by the next step. */
		if (any && time_after(jiffies, limit)) {
			hv_pkt_iter_close(chan);
			break;
		}
		any = true;
		az_blob_on_packet(dev, desc);
	}

	/*
	 * Completions, or the host's signal that the send ring has the room
	 * a waiting sender asked for: either way, wake the senders.
	 */
	spin_lock_bh(&dev->lock);
	WRITE_ONCE(dev->host_progress, dev->host_progress + 1);
	dev->send_stalled = false;
	spin_unlock_bh(&dev->lock);
	if (wq_has_sleeper(&dev->send_wq))
		wake_up_all(&dev->send_wq);
}

/*
 * After vmbus_close(): the host no longer touches any request's pages. A
 * request the host held past its deadline ends with -ETIMEDOUT.
 */
void az_blob_fail_pending(struct az_blob_device *dev, int error)
{
	struct az_blob_request *req;
	bool overdue;

	for (;;) {
		spin_lock_bh(&dev->lock);
		req = list_first_entry_or_null(&dev->pending,
					       struct az_blob_request, node);
		overdue = req && req->overdue;
		spin_unlock_bh(&dev->lock);
		if (!req)
			break;
		atomic64_inc(&dev->stats.failed);
		az_blob_give_back(dev, req, overdue ? -ETIMEDOUT : error, 0, 0);
	}
	/* Releases queued by the channel callback before it was closed. */
	flush_work(&dev->free_work);
}

int az_blob_connect(struct az_blob_device *dev)
{
	struct vmbus_channel *chan = dev->hdev->channel;
	int ret;

	chan->max_pkt_size = AZ_BLOB_MAX_PKT_SIZE;
	/* Our own requestor (struct az_blob_ids), not the core's. */
	chan->rqstor_size = 0;
	chan->next_request_id_callback = az_blob_next_request_id;
	chan->request_addr_callback = az_blob_request_addr;
	az_blob_ids_reset(dev->ids);

	ret = vmbus_open(chan, AZ_BLOB_RING_SIZE, AZ_BLOB_RING_SIZE, NULL, 0,
			 az_blob_on_channel, dev);
	if (ret)
		return ret;
	dev->channel_open = true;
	return 0;
}

void az_blob_disconnect(struct az_blob_device *dev)
{
	if (dev->channel_open) {
		vmbus_close(dev->hdev->channel);
		dev->channel_open = false;
	}
}

/**
 * az_blob_quiesce() - Stop the device, the same way for remove and suspend.
 * @dev: The device.
 * @state: %AZ_BLOB_GONE or %AZ_BLOB_SUSPENDED.
 * @error: What the requests the host did not complete end with.
 * @drain: Let the host complete what it holds first.
 *
 * No new request is sent after the state changes. With @drain, and unless
 * the channel was rescinded, the host gets %AZ_BLOB_DRAIN_MS to complete
 * what it holds; then the channel is closed, after which the host no longer
 * touches any request's pages, and the rest fail with @error. The caller
 * holds @dev->state_mutex.
 */
void az_blob_quiesce(struct az_blob_device *dev,
		     enum az_blob_state state, int error, bool drain)
{
	spin_lock_bh(&dev->lock);
	WRITE_ONCE(dev->state, state);
	spin_unlock_bh(&dev->lock);
	wake_up_all(&dev->send_wq);
	wake_up_all(&dev->user_wq);

	if (drain && dev->channel_open && !dev->hdev->channel->rescind)
		wait_event_timeout(dev->drain_wq, !READ_ONCE(dev->nr_pending),
				   msecs_to_jiffies(AZ_BLOB_DRAIN_MS));
	az_blob_disconnect(dev);
	az_blob_fail_pending(dev, error);
}
