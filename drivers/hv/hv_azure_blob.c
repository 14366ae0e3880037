// SPDX-License-Identifier: GPL-2.0
/*
 * Azure Blob accelerated access through the Hyper-V host.
 *
 * The host's Blob VSP executes Azure Blob requests for the guest over the
 * host's own network stack. This VSC is only the data path: it pins the
 * caller's request, response and data buffers, hands them to the host as one
 * GPA-direct range, and sleeps until the host completes the request. The REST
 * semantics live in a userspace library; the request buffer is opaque here.
 *
 * User space opens /dev/azure_blob (further devices: /dev/azure_blob<N>) and
 * calls IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, see
 * Documentation/userspace-api/hv_azure_blob.rst.
 *
 * Lifetime rules, in short: a request is the host's from the moment its
 * packet may be in the ring until its completion arrives or the channel is
 * closed, and its pages stay pinned for as long. The ioctl returns only
 * after that (or on a fatal signal, when the process is going away): no
 * call hands a live caller back memory the host may still write. The host
 * enforces the caller's timeout; the driver keeps no timer of its own.
 *
 * The host contract, for remove and suspend alike: once vmbus_close()
 * returns, the host no longer touches the pages of any request it did not
 * complete. Both first give the host a bounded time to complete what it
 * holds, then close the channel and fail the rest.
 */

#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/hyperv.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <misc/hv_azure_blob.h>

#include <asm/mshyperv.h>

/*
 * Ring payload and requestor depth the host's Blob VSP is built for. The
 * payload is what VMBUS_RING_SIZE() adds the header to, so that a kernel
 * with 64 KiB pages gets the same room for packets as one with 4 KiB pages.
 */
#define AZ_BLOB_RING_PAYLOAD	(128 * 1024)
#define AZ_BLOB_RING_SIZE	VMBUS_RING_SIZE(AZ_BLOB_RING_PAYLOAD)
#define AZ_BLOB_RING_DATA	(AZ_BLOB_RING_SIZE - sizeof(struct hv_ring_buffer))
#define AZ_BLOB_RQSTOR_SIZE	1024

#define AZ_BLOB_VERSION		0
#define AZ_BLOB_OP_USER_REQUEST	0x100

/* How long a sender at the head of the queue waits for room before -EBUSY. */
#define AZ_BLOB_SEND_WAIT_MS	5000
/* How long remove and suspend let the host complete what it holds. */
#define AZ_BLOB_DRAIN_MS	10000
/* Time the channel callback may run before it yields (as storvsc's). */
#define AZ_BLOB_CALLBACK_MS	2

/*
 * What one user (uid) may have in flight on one device: a quarter of the
 * host's request slots, so that at least three other users keep service,
 * and 1 GiB of pinned memory. Above either, that user's next request waits
 * for its own earlier ones; nobody else waits for it.
 */
#define AZ_BLOB_USER_MAX_REQUESTS	(AZ_BLOB_RQSTOR_SIZE / 4)
#define AZ_BLOB_USER_MAX_PAGES		((1UL << 30) >> PAGE_SHIFT)

/* The three buffers, in the order their pages appear in the GPA range. */
enum az_blob_buf {
	AZ_BLOB_BUF_DATA,
	AZ_BLOB_BUF_REQUEST,
	AZ_BLOB_BUF_RESPONSE,
	AZ_BLOB_NR_BUFS,
};

/**
 * struct az_blob_vsp_request - Inline data of a request packet (56 bytes).
 * @version: Protocol version, %AZ_BLOB_VERSION.
 * @timeout_ms: The caller's timeout; 0 means none.
 * @data_buffer_offset: Offset of the data buffer in the GPA range.
 * @data_buffer_length: Length of the data buffer.
 * @data_buffer_valid: Bytes of the data buffer that hold input.
 * @operation_type: %AZ_BLOB_OP_USER_REQUEST.
 * @request_buffer_offset: Offset of the request buffer in the GPA range.
 * @request_buffer_length: Length of the request buffer.
 * @response_buffer_offset: Offset of the response buffer in the GPA range.
 * @response_buffer_length: Length of the response buffer.
 * @transaction_id: The caller's GUID, verbatim.
 */
struct az_blob_vsp_request {
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
	guid_t transaction_id;
} __packed;

/**
 * struct az_blob_vsp_completion - Payload of a completion packet (12 bytes).
 * @length: Unused by the guest.
 * @error: The host's status for the request.
 * @response_len: Bytes the host wrote into the response buffer.
 */
struct az_blob_vsp_completion {
	__le32 length;
	__le32 error;
	__le32 response_len;
} __packed;

static_assert(sizeof(struct az_blob_vsp_request) == 56);
static_assert(sizeof(struct az_blob_vsp_completion) == 12);

/* The largest packet we send: one range of every page, and the request. */
#define AZ_BLOB_MAX_SEND_PKT						\
	ALIGN(sizeof(struct vmbus_packet_mpb_array) +			\
	      AZ_BLOB_MAX_PAGES * sizeof(u64) +				\
	      sizeof(struct az_blob_vsp_request), sizeof(u64))
/*
 * hv_ringbuffer_write() appends a u64 to each packet and wants more room
 * than both: with less, the largest request could never be sent.
 */
static_assert(AZ_BLOB_MAX_SEND_PKT + sizeof(u64) < AZ_BLOB_RING_DATA);

/*
 * hv_pkt_iter_first() copies at most max_pkt_size bytes of a packet and
 * __hv_pkt_iter_next() advances by what it copied: a longer packet would
 * leave the rest of it to be parsed as packets. Nothing in the receive ring
 * can be longer than its data area, so nothing is ever cut.
 */
#define AZ_BLOB_MAX_PKT_SIZE	AZ_BLOB_RING_DATA

enum az_blob_state {
	AZ_BLOB_RUNNING,
	AZ_BLOB_SUSPENDED,	/* channel closed for hibernation */
	AZ_BLOB_GONE,		/* removed, rescinded, or failed to resume */
};

/**
 * struct az_blob_stats - Counters shown in debugfs.
 * @submitted: Requests whose packet went into the ring.
 * @completed: Completions matched to a request.
 * @abandoned: Requests whose caller was killed before the host answered.
 * @failed: Requests the host still held when the channel was closed.
 * @unknown_id: Completions dropped because their id was not outstanding.
 * @bad_packet: Completions that were malformed (completed with -EIO).
 * @not_completion: Packets of another type than a completion, dropped.
 * @ring_full: Sends that found the ring or the requestor full.
 */
struct az_blob_stats {
	atomic64_t submitted;
	atomic64_t completed;
	atomic64_t abandoned;
	atomic64_t failed;
	atomic64_t unknown_id;
	atomic64_t bad_packet;
	atomic64_t not_completion;
	atomic64_t ring_full;
};

/**
 * struct az_blob_user - What one user has in flight on one device.
 * @node: On &az_blob_device.users.
 * @uid: The user.
 * @refs: Admitted requests not yet given back, plus waiters.
 * @requests: Admitted requests not yet given back.
 * @pages: Pages of those requests.
 */
struct az_blob_user {
	struct list_head node;
	kuid_t uid;
	unsigned int refs;
	unsigned int requests;
	unsigned long pages;
};

/**
 * struct az_blob_slot - One of the host's request slots.
 * @id: The transaction id of the request in it; 0 when free.
 * @addr: The request.
 * @uses: How often the slot was taken; makes each id unique.
 * @next_free: The next free slot while this one is free.
 */
struct az_blob_slot {
	u64 id;
	u64 addr;
	u64 uses;
	u32 next_free;
};

/**
 * struct az_blob_ids - The driver's own requestor.
 * @lock: Protects everything here. Taken with interrupts off: the VMBus
 *        core calls in under its ring lock.
 * @free: The first free slot; %AZ_BLOB_RQSTOR_SIZE if none.
 * @slot: The slots.
 *
 * The VMBus core's requestor hands a freed id out again at once, so a late
 * or repeated completion from the host would complete whichever request
 * holds that id by then. Here the n-th use of slot i has the id
 * n * %AZ_BLOB_RQSTOR_SIZE + i + 1: a completion for an earlier use of a
 * slot is unknown, not someone else's.
 */
struct az_blob_ids {
	spinlock_t lock;	/* see @lock above */
	u32 free;
	struct az_blob_slot slot[AZ_BLOB_RQSTOR_SIZE];
};

/**
 * struct az_blob_device - One Blob VSP channel and its misc device.
 * @kref: Held by probe until remove, by each open file, by each request.
 * @hdev: The VMBus device; only valid while @state is not %AZ_BLOB_GONE.
 * @misc: /dev/azure_blob or /dev/azure_blob<index>.
 * @index: Allocated from az_blob_ida; names the misc device.
 * @name: The misc device's name.
 * @lock: Protects @state, @pending, @nr_pending, @senders, @send_stalled
 *        and @users, and is held across every send so that remove and
 *        suspend can close the channel after it.
 * @state: enum az_blob_state; written under @lock, read locklessly as a hint.
 * @channel_open: The channel is open (probe or resume succeeded).
 * @pending: Requests the host owns.
 * @nr_pending: Length of @pending.
 * @drain_wq: Woken when @pending becomes empty.
 * @senders: Senders in arrival order; only the first one sends, so that a
 *           large request is not overtaken forever by small ones.
 * @send_wq: Woken when the host took packets off the ring, and when the
 *           first sender leaves.
 * @host_progress: Bumped by the channel callback after it handled packets.
 * @send_stalled: The first sender found no room for %AZ_BLOB_SEND_WAIT_MS;
 *                queued senders give up too until the host makes progress.
 * @users: struct az_blob_user of each user with requests in flight.
 * @user_wq: Woken when a request is given back.
 * @free_list: Requests released in softirq context, to be freed by @free_work.
 * @free_work: Unpins and frees @free_list in process context.
 * @pinned_pages: Pages pinned by requests of this device right now.
 * @stats: Counters.
 * @debugfs: This device's directory in debugfs.
 * @ids: Transaction ids of the requests the host holds.
 */
struct az_blob_device {
	struct kref kref;
	struct hv_device *hdev;
	struct miscdevice misc;
	int index;
	char name[24];

	spinlock_t lock;	/* see @lock above */
	enum az_blob_state state;
	bool channel_open;
	struct list_head pending;
	unsigned int nr_pending;
	wait_queue_head_t drain_wq;

	struct list_head senders;
	wait_queue_head_t send_wq;
	unsigned long host_progress;
	bool send_stalled;

	struct list_head users;
	wait_queue_head_t user_wq;

	struct llist_head free_list;
	struct work_struct free_work;

	atomic_long_t pinned_pages;
	struct az_blob_stats stats;
	struct dentry *debugfs;
	struct az_blob_ids *ids;
};

/**
 * struct az_blob_span - One user buffer of a request.
 * @addr: User address.
 * @len: Length in bytes; 0 for an absent data buffer.
 * @write: The host may write it: pinned writable, dirtied once sent.
 * @first_page: Index of its first page in &az_blob_request.pages.
 * @nr_pages: Pages (PAGE_SIZE) it spans.
 * @nr_hv_pages: Host pages (HV_HYP_PAGE_SIZE) it spans.
 * @nr_pinned: Pages pinned so far.
 */
struct az_blob_span {
	u64 addr;
	u32 len;
	bool write;
	unsigned int first_page;
	unsigned int nr_pages;
	unsigned int nr_hv_pages;
	unsigned int nr_pinned;
};

struct az_blob_request;
/*
 * Called with the device lock held when the host gives a request back.
 * Returns true to take over the host's reference (so that the last one is
 * dropped, and the pages unpinned, in process context by its new owner).
 */
typedef bool (*az_blob_complete_t)(struct az_blob_request *req);

/**
 * struct az_blob_request - A request, from the ioctl to the host and back.
 * @kref: One reference for the submitter, one for the host while it owns it.
 * @dev: The device; the request holds a reference on it.
 * @user: The user it is charged to, from admission until it is given back.
 * @node: On &az_blob_device.pending while the host owns the request.
 * @free_node: On &az_blob_device.free_list once released in softirq context.
 * @complete: Called once, in the channel callback or after the channel was
 *            closed, when the host gave the request back; @error, @status
 *            and @response_len are set by then. See az_blob_complete_t.
 * @done: Completed by the synchronous @complete.
 * @abandoned: The submitter stopped waiting; protected by the device lock.
 * @sent: Its packet may have reached the host, which may have written the
 *        writable buffers: they are dirtied when unpinned.
 * @error: 0, -EIO for a malformed completion, or the error of the closing
 *         of the channel (-ENODEV removed, -EAGAIN suspended).
 * @status: The host's status.
 * @response_len: Bytes of response the host wrote.
 * @spans: The three buffers, in &enum az_blob_buf order.
 * @nr_pages: Length of @pages.
 * @nr_hv_pages: PFNs in the GPA range.
 * @pkt: The packet's inline data.
 * @pages: Pinned pages of all three buffers, in &enum az_blob_buf order.
 */
struct az_blob_request {
	struct kref kref;
	struct az_blob_device *dev;
	struct az_blob_user *user;
	struct list_head node;
	struct llist_node free_node;
	az_blob_complete_t complete;
	struct completion done;
	bool abandoned;
	bool sent;

	int error;
	u32 status;
	u32 response_len;

	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	unsigned int nr_pages;
	unsigned int nr_hv_pages;
	struct az_blob_vsp_request pkt;
	struct page *pages[] __counted_by(nr_pages);
};

static DEFINE_IDA(az_blob_ida);
static struct dentry *az_blob_debugfs_root;

static void az_blob_device_release(struct kref *kref)
{
	struct az_blob_device *dev =
		container_of(kref, struct az_blob_device, kref);

	kvfree(dev->ids);
	kfree(dev);
}

/* Every slot free; the generations go on, so no old id matches again. */
static void az_blob_ids_reset(struct az_blob_ids *ids)
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

static struct az_blob_ids *az_blob_ids_alloc(void)
{
	struct az_blob_ids *ids = kvzalloc_obj(*ids, GFP_KERNEL);

	if (ids) {
		spin_lock_init(&ids->lock);
		az_blob_ids_reset(ids);
	}
	return ids;
}

/* A new id for @addr, or VMBUS_RQST_ERROR if every slot is taken. */
static u64 az_blob_ids_get(struct az_blob_ids *ids, u64 addr)
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
static u64 az_blob_ids_put(struct az_blob_ids *ids, u64 id)
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

	return az_blob_ids_get(dev->ids, addr);
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

static void az_blob_device_put(struct az_blob_device *dev)
{
	kref_put(&dev->kref, az_blob_device_release);
}

/* Pages of @len bytes at @addr, in units of 1 << @shift. */
static unsigned int az_blob_span_pages(u64 addr, u32 len, unsigned int shift)
{
	u64 first = addr >> shift;
	u64 last = (addr + len - 1) >> shift;

	return len ? last - first + 1 : 0;
}

/*
 * az_blob_check_args() for a kernel whose pages are 1 << @page_shift bytes
 * (KUnit lays requests out for other page sizes than the running one).
 */
static int __az_blob_check_args(const struct az_blob_request_sync *args,
				struct az_blob_span *spans,
				unsigned int page_shift)
{
	unsigned int total = 0, first_page = 0;
	int i;

	if ((args->flags & ~AZ_BLOB_FLAGS_ALL) ||
	    !args->request_len || !args->response_len ||
	    args->data_valid > args->data_len ||
	    !args->request_buffer || !args->response_buffer ||
	    (args->data_len && !args->data_buffer))
		return -EINVAL;

	if (args->request_len > AZ_BLOB_MAX_LEN ||
	    args->response_len > AZ_BLOB_MAX_LEN ||
	    args->data_len > AZ_BLOB_MAX_LEN)
		return -E2BIG;

	spans[AZ_BLOB_BUF_DATA] = (struct az_blob_span) {
		.addr = args->data_len ? args->data_buffer : 0,
		.len = args->data_len,
		.write = !(args->flags & AZ_BLOB_DATA_HOST_READS),
	};
	spans[AZ_BLOB_BUF_REQUEST] = (struct az_blob_span) {
		.addr = args->request_buffer,
		.len = args->request_len,
	};
	spans[AZ_BLOB_BUF_RESPONSE] = (struct az_blob_span) {
		.addr = args->response_buffer,
		.len = args->response_len,
		.write = true,
	};

	for (i = 0; i < AZ_BLOB_NR_BUFS; i++) {
		struct az_blob_span *s = &spans[i];
		unsigned long addr = s->addr, end;

		if (!s->len)
			continue;
		if (addr != s->addr || check_add_overflow(addr, s->len, &end) ||
		    !access_ok((void __user *)addr, s->len))
			return -EFAULT;

		s->nr_hv_pages = az_blob_span_pages(s->addr, s->len,
						    HV_HYP_PAGE_SHIFT);
		s->nr_pages = az_blob_span_pages(s->addr, s->len, page_shift);
		s->first_page = first_page;
		first_page += s->nr_pages;
		total += s->nr_hv_pages;
	}

	return total > AZ_BLOB_MAX_PAGES ? -E2BIG : 0;
}

/**
 * az_blob_check_args() - Validate a request and lay out its buffers.
 * @args: The caller's request, as copied in.
 * @spans: Filled with the three buffers on success.
 *
 * Runs before anything is pinned or allocated.
 *
 * Return: 0, -EINVAL for a malformed request, -E2BIG for one above the
 * host's limits, or -EFAULT for a buffer that cannot be a user address.
 */
static int az_blob_check_args(const struct az_blob_request_sync *args,
			      struct az_blob_span *spans)
{
	return __az_blob_check_args(args, spans, PAGE_SHIFT);
}

/* The host PFN of the first 4 KiB of kernel page @index of a request. */
typedef u64 (*az_blob_page_hvpfn_t)(const void *ctx, unsigned int index);

/**
 * __az_blob_fill_range() - Build the GPA range and the buffers' offsets.
 * @spans: The three buffers, laid out for 1 << @page_shift byte pages.
 * @page_shift: PAGE_SHIFT of the kernel the pages belong to.
 * @hvpfn: Gives the host PFN of each of the request's kernel pages.
 * @ctx: Passed to @hvpfn.
 * @pfns: Room for the host PFNs of all three buffers.
 * @offsets: Set to each buffer's offset in the range.
 *
 * The range is the data, request and response buffers' host pages in this
 * order; each buffer's offset counts from the start of the range. A kernel
 * page larger than a host page contributes only the host pages the buffer
 * touches.
 */
static void __az_blob_fill_range(const struct az_blob_span *spans,
				 unsigned int page_shift,
				 az_blob_page_hvpfn_t hvpfn, const void *ctx,
				 u64 *pfns, u32 *offsets)
{
	u64 page_mask = ~((1ULL << page_shift) - 1);
	unsigned int n = 0;
	unsigned int i, j;

	for (i = 0; i < AZ_BLOB_NR_BUFS; i++) {
		const struct az_blob_span *s = &spans[i];
		u64 base = s->addr & page_mask;

		offsets[i] = 0;
		if (!s->len)
			continue;
		offsets[i] = n * HV_HYP_PAGE_SIZE + offset_in_hvpage(s->addr);
		for (j = 0; j < s->nr_hv_pages; j++) {
			u64 hva = (s->addr & HV_HYP_PAGE_MASK) +
				  (u64)j * HV_HYP_PAGE_SIZE;

			pfns[n++] = hvpfn(ctx, s->first_page +
					  ((hva - base) >> page_shift)) +
				    ((hva & ~page_mask) >> HV_HYP_PAGE_SHIFT);
		}
	}
}

static u64 az_blob_request_hvpfn(const void *ctx, unsigned int index)
{
	const struct az_blob_request *req = ctx;

	return page_to_hvpfn(req->pages[index]);
}

/* The range of a request whose pages are all pinned, and its offsets. */
static void az_blob_fill_range(struct az_blob_request *req, u64 *pfns)
{
	u32 offsets[AZ_BLOB_NR_BUFS];

	__az_blob_fill_range(req->spans, PAGE_SHIFT, az_blob_request_hvpfn,
			     req, pfns, offsets);
	req->pkt.data_buffer_offset = cpu_to_le32(offsets[AZ_BLOB_BUF_DATA]);
	req->pkt.request_buffer_offset =
		cpu_to_le32(offsets[AZ_BLOB_BUF_REQUEST]);
	req->pkt.response_buffer_offset =
		cpu_to_le32(offsets[AZ_BLOB_BUF_RESPONSE]);
}

/* Only pages the host had and may have written are dirtied. */
static void az_blob_unpin(struct az_blob_request *req)
{
	int i;

	for (i = 0; i < AZ_BLOB_NR_BUFS; i++) {
		struct az_blob_span *s = &req->spans[i];
		struct page **pages = &req->pages[s->first_page];

		if (!s->nr_pinned)
			continue;
		unpin_user_pages_dirty_lock(pages, s->nr_pinned,
					    s->write && req->sent);
		atomic_long_sub(s->nr_pinned, &req->dev->pinned_pages);
		s->nr_pinned = 0;
	}
}

/* Process context only: unpinning may sleep. */
static void az_blob_request_free(struct az_blob_request *req)
{
	struct az_blob_device *dev = req->dev;

	az_blob_unpin(req);
	kvfree(req);
	az_blob_device_put(dev);
}

static void az_blob_request_release(struct kref *kref)
{
	az_blob_request_free(container_of(kref, struct az_blob_request, kref));
}

/* The host's reference may be the last one in softirq context. */
static void az_blob_request_release_deferred(struct kref *kref)
{
	struct az_blob_request *req =
		container_of(kref, struct az_blob_request, kref);
	struct az_blob_device *dev = req->dev;

	if (llist_add(&req->free_node, &dev->free_list))
		schedule_work(&dev->free_work);
}

static void az_blob_free_work(struct work_struct *work)
{
	struct az_blob_device *dev =
		container_of(work, struct az_blob_device, free_work);
	struct az_blob_request *req, *tmp;
	struct llist_node *list;

	/* Each request holds a device reference: @dev outlives this loop. */
	list = llist_del_all(&dev->free_list);
	llist_for_each_entry_safe(req, tmp, list, free_node)
		az_blob_request_free(req);
}

/* The waiter, if still there, owns the host's reference from now on. */
static bool az_blob_request_complete_sync(struct az_blob_request *req)
{
	if (req->abandoned)
		return false;
	complete(&req->done);
	return true;
}

static struct az_blob_request *
az_blob_request_alloc(struct az_blob_device *dev,
		      const struct az_blob_request_sync *args,
		      const struct az_blob_span *spans)
{
	const struct az_blob_span *last = &spans[AZ_BLOB_BUF_RESPONSE];
	unsigned int nr_pages = last->first_page + last->nr_pages;
	struct az_blob_request *req;
	int i;

	/* Sized by the caller: ENOMEM, not a warning, if it is too much. */
	req = kvzalloc(struct_size(req, pages, nr_pages),
		       GFP_KERNEL | __GFP_NOWARN);
	if (!req)
		return NULL;

	kref_init(&req->kref);
	kref_get(&dev->kref);
	req->dev = dev;
	INIT_LIST_HEAD(&req->node);
	req->complete = az_blob_request_complete_sync;
	init_completion(&req->done);
	req->nr_pages = nr_pages;
	memcpy(req->spans, spans, sizeof(req->spans));
	for (i = 0; i < AZ_BLOB_NR_BUFS; i++)
		req->nr_hv_pages += spans[i].nr_hv_pages;

	req->pkt.version = cpu_to_le32(AZ_BLOB_VERSION);
	req->pkt.timeout_ms = cpu_to_le32(args->timeout);
	req->pkt.data_buffer_length = cpu_to_le32(args->data_len);
	req->pkt.data_buffer_valid = cpu_to_le32(args->data_valid);
	req->pkt.operation_type = cpu_to_le32(AZ_BLOB_OP_USER_REQUEST);
	req->pkt.request_buffer_length = cpu_to_le32(args->request_len);
	req->pkt.response_buffer_length = cpu_to_le32(args->response_len);
	import_guid(&req->pkt.transaction_id, args->guid);

	return req;
}

/*
 * What GUP says of a buffer, as the ioctl documents it: a fatal signal, no
 * memory, a page to retry, a DAX mapping; anything else is a bad buffer.
 */
static int az_blob_pin_errno(int ret)
{
	switch (ret) {
	case -EINTR:
	case -ENOMEM:
	case -EAGAIN:
	case -EOPNOTSUPP:
		return ret;
	default:
		return -EFAULT;
	}
}

/*
 * The host may hold a request for as long as it likes, so its pins are
 * long-term ones: pages are migrated out of CMA and movable zones first,
 * and the kernel refuses what it cannot pin for long (fsdax, and from 6.5
 * writable shared mappings of files that need dirty tracking).
 */
static int az_blob_pin(struct az_blob_request *req)
{
	int i;

	for (i = 0; i < AZ_BLOB_NR_BUFS; i++) {
		struct az_blob_span *s = &req->spans[i];
		unsigned long start = s->addr & PAGE_MASK;
		unsigned int gup_flags = FOLL_LONGTERM;

		if (s->write)
			gup_flags |= FOLL_WRITE;
		while (s->nr_pinned < s->nr_pages) {
			int ret;

			ret = pin_user_pages_fast(start +
						  s->nr_pinned * PAGE_SIZE,
						  s->nr_pages - s->nr_pinned,
						  gup_flags,
						  &req->pages[s->first_page +
							      s->nr_pinned]);
			if (!ret)
				return -EFAULT;
			if (ret < 0)
				return az_blob_pin_errno(ret);
			s->nr_pinned += ret;
			atomic_long_add(ret, &req->dev->pinned_pages);
		}
	}
	return 0;
}

/* Caller holds dev->lock. */
static int az_blob_state_errno(struct az_blob_device *dev)
{
	switch (dev->state) {
	case AZ_BLOB_RUNNING:
		return 0;
	case AZ_BLOB_SUSPENDED:
		return -EAGAIN;
	default:
		return -ENODEV;
	}
}

/* Caller holds dev->lock. */
static struct az_blob_user *az_blob_user_find(struct az_blob_device *dev,
					      kuid_t uid)
{
	struct az_blob_user *user;

	list_for_each_entry(user, &dev->users, node)
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

/* Caller holds dev->lock. */
static void az_blob_user_put(struct az_blob_user *user)
{
	if (--user->refs)
		return;
	list_del(&user->node);
	kfree(user);
}

/*
 * Charges @req to @user if the user's bounds allow it (a user with nothing
 * in flight always may). Returns true when the wait is over: charged, or
 * the device stopped running.
 */
static bool az_blob_user_charge(struct az_blob_device *dev,
				struct az_blob_user *user,
				struct az_blob_request *req)
{
	bool done = true;

	spin_lock_bh(&dev->lock);
	if (dev->state != AZ_BLOB_RUNNING) {
		/* Not charged: the caller returns the state's errno. */
	} else if (user->requests < AZ_BLOB_USER_MAX_REQUESTS &&
		   (!user->requests ||
		    user->pages + req->nr_pages <= AZ_BLOB_USER_MAX_PAGES)) {
		user->requests++;
		user->pages += req->nr_pages;
		req->user = user;
	} else {
		done = false;
	}
	spin_unlock_bh(&dev->lock);
	return done;
}

/**
 * az_blob_admit() - Charge a request to the calling user.
 * @dev: The device.
 * @req: The request, not yet pinned.
 *
 * Waits, killable and freezable, while the user's own requests in flight
 * reach %AZ_BLOB_USER_MAX_REQUESTS or %AZ_BLOB_USER_MAX_PAGES; a single
 * request is always admitted when the user has none in flight.
 *
 * Return: 0, -ENOMEM, -EINTR on a fatal signal, -ENODEV or -EAGAIN if the
 * device went away or was suspended meanwhile.
 */
static int az_blob_admit(struct az_blob_device *dev,
			 struct az_blob_request *req)
{
	struct az_blob_user *user, *spare;
	kuid_t uid = current_uid();
	int ret;

	spare = kzalloc_obj(*spare, GFP_KERNEL);
	if (!spare)
		return -ENOMEM;

	spin_lock_bh(&dev->lock);
	user = az_blob_user_find(dev, uid);
	if (!user) {
		user = spare;
		spare = NULL;
		user->uid = uid;
		list_add(&user->node, &dev->users);
	}
	user->refs++;
	spin_unlock_bh(&dev->lock);
	kfree(spare);

	ret = wait_event_state(dev->user_wq,
			       az_blob_user_charge(dev, user, req),
			       (TASK_KILLABLE | TASK_FREEZABLE));

	spin_lock_bh(&dev->lock);
	if (ret)
		ret = -EINTR;
	else if (!req->user)
		ret = az_blob_state_errno(dev);
	/* A charged request takes over the waiter's reference. */
	if (!req->user)
		az_blob_user_put(user);
	spin_unlock_bh(&dev->lock);
	return ret;
}

/* The host gave the request back, or it was never sent. Holds dev->lock. */
static void az_blob_unadmit(struct az_blob_device *dev,
			    struct az_blob_request *req)
{
	struct az_blob_user *user = req->user;

	if (!user)
		return;
	req->user = NULL;
	user->requests--;
	user->pages -= req->nr_pages;
	az_blob_user_put(user);
	if (wq_has_sleeper(&dev->user_wq))
		wake_up_all(&dev->user_wq);
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
 *
 * Senders queue in arrival order and only the first one sends. When the
 * ring or the host's requestor is full, it asks the host (pending_send_sz)
 * to signal once there is room for its packet, and waits for the channel
 * callback, which runs on that signal as on completions. After
 * %AZ_BLOB_SEND_WAIT_MS without either it gives up with -EBUSY, and so
 * does every sender after it whose packet does not fit at its turn, until
 * the host makes progress again.
 *
 * Return: 0, -ENODEV or -EAGAIN if the device is gone or suspended, -EBUSY
 * if the ring stayed full, -EINTR on a fatal signal, -ENOMEM.
 */
static int az_blob_send(struct az_blob_device *dev, struct az_blob_request *req)
{
	struct vmbus_packet_mpb_array *desc;
	bool asked = false;
	struct list_head me;
	unsigned long progress;
	u32 desc_size;
	long left;
	int ret;

	desc_size = struct_size(desc, range.pfn_array, req->nr_hv_pages);
	desc = kvmalloc(desc_size, GFP_KERNEL | __GFP_NOWARN);
	if (!desc)
		return -ENOMEM;
	desc->rangecount = 1;
	desc->range.offset = 0;
	desc->range.len = req->nr_hv_pages * HV_HYP_PAGE_SIZE;
	az_blob_fill_range(req, desc->range.pfn_array);

	spin_lock_bh(&dev->lock);
	list_add_tail(&me, &dev->senders);
	for (;;) {
		ret = az_blob_state_errno(dev);
		if (ret)
			break;
		if (!az_blob_first_sender(dev, &me)) {
			spin_unlock_bh(&dev->lock);
			ret = wait_event_state(dev->send_wq,
					       az_blob_send_turn(dev, &me),
					       (TASK_KILLABLE | TASK_FREEZABLE));
			spin_lock_bh(&dev->lock);
			if (ret) {
				ret = -EINTR;
				break;
			}
			continue;
		}

		progress = READ_ONCE(dev->host_progress);
		ret = az_blob_send_locked(dev, req, desc, desc_size);
		if (ret != -EAGAIN)
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

	kvfree(desc);
	return ret;
}

/*
 * No timer: the host enforces the caller's timeout and completes the
 * request. Only a fatal signal ends the wait early, and the freezer may
 * freeze the caller here.
 */
static int az_blob_wait(struct az_blob_request *req)
{
	return wait_for_completion_state(&req->done,
					 TASK_KILLABLE | TASK_FREEZABLE) ?
		-EINTR : 0;
}

/*
 * The submitter stops waiting. Returns false if the host gave the request
 * back meanwhile: then its reference is the submitter's, as on completion.
 */
static bool az_blob_abandon(struct az_blob_device *dev,
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

static long az_blob_ioctl_request(struct az_blob_device *dev,
				  struct az_blob_request_sync __user *uargs)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync args;
	struct az_blob_request *req;
	int ret;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;

	ret = az_blob_check_args(&args, spans);
	if (ret)
		return ret;

	/* Not authoritative (az_blob_send() is); spares a pointless pin. */
	if (READ_ONCE(dev->state) == AZ_BLOB_GONE)
		return -ENODEV;

	req = az_blob_request_alloc(dev, &args, spans);
	if (!req)
		return -ENOMEM;

	ret = az_blob_admit(dev, req);
	if (!ret)
		ret = az_blob_pin(req);
	if (!ret)
		ret = az_blob_send(dev, req);
	if (ret) {
		spin_lock_bh(&dev->lock);
		az_blob_unadmit(dev, req);
		spin_unlock_bh(&dev->lock);
		goto out;
	}

	ret = az_blob_wait(req);
	if (ret && az_blob_abandon(dev, req)) {
		/* The process is dying; the host still owns the pages. */
		atomic64_inc(&dev->stats.abandoned);
		goto out;
	}
	/* Given back: the host's reference is ours too. */
	kref_put(&req->kref, az_blob_request_release);
	ret = req->error;
	if (!ret) {
		args.response.status = req->status;
		args.response.response_len = req->response_len;
		if (copy_to_user(&uargs->response, &args.response,
				 sizeof(args.response)))
			ret = -EFAULT;
	}
out:
	kref_put(&req->kref, az_blob_request_release);
	return ret;
}

static long az_blob_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct az_blob_device *dev = file->private_data;

	switch (cmd) {
	case IOCTL_AZ_BLOB_DRIVER_USER_REQUEST:
		return az_blob_ioctl_request(dev, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int az_blob_open(struct inode *inode, struct file *file)
{
	struct az_blob_device *dev = container_of(file->private_data,
						  struct az_blob_device, misc);

	/* misc_open() holds misc_mtx: remove has not passed misc_deregister. */
	kref_get(&dev->kref);
	file->private_data = dev;
	return nonseekable_open(inode, file);
}

static int az_blob_release(struct inode *inode, struct file *file)
{
	az_blob_device_put(file->private_data);
	return 0;
}

static const struct file_operations az_blob_fops = {
	.owner = THIS_MODULE,
	.open = az_blob_open,
	.release = az_blob_release,
	.unlocked_ioctl = az_blob_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

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
static void az_blob_give_back(struct az_blob_device *dev,
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
static int az_blob_check_completion(const struct vmpacket_descriptor *desc,
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

/* After vmbus_close(): the host no longer touches any request's pages. */
static void az_blob_fail_pending(struct az_blob_device *dev, int error)
{
	struct az_blob_request *req;

	for (;;) {
		spin_lock_bh(&dev->lock);
		req = list_first_entry_or_null(&dev->pending,
					       struct az_blob_request, node);
		spin_unlock_bh(&dev->lock);
		if (!req)
			break;
		atomic64_inc(&dev->stats.failed);
		az_blob_give_back(dev, req, error, 0, 0);
	}
	/* Releases queued by the channel callback before it was closed. */
	flush_work(&dev->free_work);
}

static int az_blob_connect(struct az_blob_device *dev)
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

static void az_blob_disconnect(struct az_blob_device *dev)
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
 *
 * No new request is sent after the state changes. Unless the channel was
 * rescinded, the host gets %AZ_BLOB_DRAIN_MS to complete what it holds;
 * then the channel is closed, after which the host no longer touches any
 * request's pages, and the rest fail with @error.
 */
static void az_blob_quiesce(struct az_blob_device *dev,
			    enum az_blob_state state, int error)
{
	spin_lock_bh(&dev->lock);
	WRITE_ONCE(dev->state, state);
	spin_unlock_bh(&dev->lock);
	wake_up_all(&dev->send_wq);
	wake_up_all(&dev->user_wq);

	if (dev->channel_open && !dev->hdev->channel->rescind)
		wait_event_timeout(dev->drain_wq, !READ_ONCE(dev->nr_pending),
				   msecs_to_jiffies(AZ_BLOB_DRAIN_MS));
	az_blob_disconnect(dev);
	az_blob_fail_pending(dev, error);
}

static int az_blob_stats_show(struct seq_file *s, void *unused)
{
	struct az_blob_device *dev = s->private;
	unsigned int outstanding;

	spin_lock_bh(&dev->lock);
	outstanding = dev->nr_pending;
	spin_unlock_bh(&dev->lock);

	seq_printf(s, "outstanding %u\n", outstanding);
	seq_printf(s, "pinned_pages %ld\n", atomic_long_read(&dev->pinned_pages));
	seq_printf(s, "submitted %lld\n", atomic64_read(&dev->stats.submitted));
	seq_printf(s, "completed %lld\n", atomic64_read(&dev->stats.completed));
	seq_printf(s, "abandoned %lld\n", atomic64_read(&dev->stats.abandoned));
	seq_printf(s, "failed %lld\n", atomic64_read(&dev->stats.failed));
	seq_printf(s, "unknown_id %lld\n", atomic64_read(&dev->stats.unknown_id));
	seq_printf(s, "bad_packet %lld\n", atomic64_read(&dev->stats.bad_packet));
	seq_printf(s, "not_completion %lld\n",
		   atomic64_read(&dev->stats.not_completion));
	seq_printf(s, "ring_full %lld\n", atomic64_read(&dev->stats.ring_full));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(az_blob_stats);

/* A device with no channel yet: the state a request's hand-over needs. */
static struct az_blob_device *az_blob_device_alloc(void)
{
	struct az_blob_device *dev = kzalloc_obj(*dev, GFP_KERNEL);

	if (!dev)
		return NULL;
	kref_init(&dev->kref);
	spin_lock_init(&dev->lock);
	INIT_LIST_HEAD(&dev->pending);
	init_waitqueue_head(&dev->drain_wq);
	INIT_LIST_HEAD(&dev->senders);
	init_waitqueue_head(&dev->send_wq);
	INIT_LIST_HEAD(&dev->users);
	init_waitqueue_head(&dev->user_wq);
	init_llist_head(&dev->free_list);
	INIT_WORK(&dev->free_work, az_blob_free_work);
	return dev;
}

static int az_blob_probe(struct hv_device *hdev,
			 const struct hv_vmbus_device_id *dev_id)
{
	struct az_blob_device *dev;
	int ret;

	/*
	 * The host reads guest pages directly; an isolated VM cannot share
	 * them. -ENODEV: the driver core adds no line of its own.
	 */
	if (hv_is_isolation_supported()) {
		dev_err(&hdev->device, "not supported in an isolated VM\n");
		return -ENODEV;
	}

	dev = az_blob_device_alloc();
	if (!dev)
		return -ENOMEM;
	dev->hdev = hdev;
	hv_set_drvdata(hdev, dev);
	dev->ids = az_blob_ids_alloc();
	if (!dev->ids) {
		ret = -ENOMEM;
		goto err_put;
	}

	ret = az_blob_connect(dev);
	if (ret) {
		dev_err(&hdev->device, "cannot open the channel: %d\n", ret);
		goto err_put;
	}

	ret = ida_alloc(&az_blob_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_close;
	dev->index = ret;
	if (dev->index)
		snprintf(dev->name, sizeof(dev->name), "azure_blob%d", dev->index);
	else
		strscpy(dev->name, "azure_blob", sizeof(dev->name));

	dev->debugfs = debugfs_create_dir(dev->name, az_blob_debugfs_root);
	debugfs_create_file("stats", 0400, dev->debugfs, dev,
			    &az_blob_stats_fops);

	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = dev->name;
	dev->misc.fops = &az_blob_fops;
	dev->misc.parent = &hdev->device;
	ret = misc_register(&dev->misc);
	if (ret) {
		dev_err(&hdev->device, "cannot register %s: %d\n", dev->name, ret);
		goto err_debugfs;
	}
	return 0;

err_debugfs:
	debugfs_remove(dev->debugfs);
	ida_free(&az_blob_ida, dev->index);
err_close:
	az_blob_disconnect(dev);
err_put:
	hv_set_drvdata(hdev, NULL);
	az_blob_device_put(dev);
	return ret;
}

static void az_blob_remove(struct hv_device *hdev)
{
	struct az_blob_device *dev = hv_get_drvdata(hdev);

	/* Open files see -ENODEV from the state change on. */
	misc_deregister(&dev->misc);
	az_blob_quiesce(dev, AZ_BLOB_GONE, -ENODEV);

	debugfs_remove(dev->debugfs);
	ida_free(&az_blob_ida, dev->index);
	hv_set_drvdata(hdev, NULL);
	dev->hdev = NULL;
	az_blob_device_put(dev);
}

/*
 * Hibernation: what the host does not complete within the drain time ends
 * with -EAGAIN, so that suspend never fails because of a slow host.
 */
static int az_blob_suspend(struct hv_device *hdev)
{
	az_blob_quiesce(hv_get_drvdata(hdev), AZ_BLOB_SUSPENDED, -EAGAIN);
	return 0;
}

static int az_blob_resume(struct hv_device *hdev)
{
	struct az_blob_device *dev = hv_get_drvdata(hdev);
	int ret;

	ret = az_blob_connect(dev);
	spin_lock_bh(&dev->lock);
	WRITE_ONCE(dev->state, ret ? AZ_BLOB_GONE : AZ_BLOB_RUNNING);
	dev->send_stalled = false;
	spin_unlock_bh(&dev->lock);
	if (ret)
		dev_err(&hdev->device, "cannot reopen the channel: %d\n", ret);
	return ret;
}

static const struct hv_vmbus_device_id az_blob_id_table[] = {
	{ .guid = GUID_INIT(0x0590b792, 0xdb64, 0x45cc, 0x81, 0xdb,
			    0xb8, 0xd7, 0x0c, 0x57, 0x7c, 0x9e) },
	{ },
};
MODULE_DEVICE_TABLE(vmbus, az_blob_id_table);

static struct hv_driver az_blob_drv = {
	.name = KBUILD_MODNAME,
	.id_table = az_blob_id_table,
	.probe = az_blob_probe,
	.remove = az_blob_remove,
	.suspend = az_blob_suspend,
	.resume = az_blob_resume,
	.driver = {
		.probe_type = PROBE_PREFER_ASYNCHRONOUS,
	},
};

static int __init az_blob_init(void)
{
	int ret;

	/*
	 * hyperv/<device>/ in debugfs. The VMBus core owns "hyperv" when it
	 * has one (HYPERV_TESTING); our devices then go to a root of ours.
	 */
	az_blob_debugfs_root = debugfs_create_dir("hyperv", NULL);
	if (IS_ERR(az_blob_debugfs_root))
		az_blob_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);

	ret = vmbus_driver_register(&az_blob_drv);
	if (ret)
		debugfs_remove(az_blob_debugfs_root);
	return ret;
}

static void __exit az_blob_exit(void)
{
	vmbus_driver_unregister(&az_blob_drv);
	debugfs_remove(az_blob_debugfs_root);
}

module_init(az_blob_init);
module_exit(az_blob_exit);

#if IS_ENABLED(CONFIG_HYPERV_AZURE_BLOB_KUNIT_TEST)
#include "hv_azure_blob_test.c"
#endif

MODULE_DESCRIPTION("Microsoft Azure Blob accelerated access through Hyper-V");
MODULE_LICENSE("GPL");
