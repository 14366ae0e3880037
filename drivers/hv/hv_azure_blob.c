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
 * Lifetime rules, in short: a request is owned by the host from the moment
 * it is sent until its completion arrives or the channel is closed, and its
 * pages stay pinned for as long. A caller that is killed or times out leaves
 * the request to the host; the channel callback then releases it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
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
#include <linux/workqueue.h>
#include <misc/hv_azure_blob.h>

#include <asm/mshyperv.h>

/* Ring sizes and requestor depth the host's Blob VSP is built for. */
#define AZ_BLOB_RING_SIZE	(128 * 1024)
#define AZ_BLOB_RQSTOR_SIZE	1024

#define AZ_BLOB_VERSION		0
#define AZ_BLOB_OP_USER_REQUEST	0x100

/*
 * The host cancels a request after its timeout and "answers shortly after";
 * a caller that set a timeout gives up this much later than that.
 */
#define AZ_BLOB_TIMEOUT_GRACE_MS	5000
/* How long a sender waits for room in the ring before -EBUSY. */
#define AZ_BLOB_SEND_WAIT_MS		5000
/* How long hibernation waits for the host to complete what it owns. */
#define AZ_BLOB_DRAIN_MS		10000

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

/* The largest packet the host sends: a completion (cf. STORVSC_MAX_PKT_SIZE). */
#define AZ_BLOB_MAX_PKT_SIZE	ALIGN(sizeof(struct vmpacket_descriptor) + \
				      sizeof(struct az_blob_vsp_completion), 8)

enum az_blob_state {
	AZ_BLOB_RUNNING,
	AZ_BLOB_SUSPENDED,	/* channel closed for hibernation */
	AZ_BLOB_GONE,		/* removed or rescinded */
};

/**
 * struct az_blob_stats - Counters shown in debugfs.
 * @submitted: Requests sent to the host.
 * @completed: Completions matched to a request.
 * @abandoned: Requests whose caller stopped waiting before the host answered.
 * @unknown_id: Completions dropped because their id was not outstanding.
 * @bad_packet: Completions that were malformed (completed with -EIO).
 */
struct az_blob_stats {
	atomic64_t submitted;
	atomic64_t completed;
	atomic64_t abandoned;
	atomic64_t unknown_id;
	atomic64_t bad_packet;
};

/**
 * struct az_blob_device - One Blob VSP channel and its misc device.
 * @kref: Held by probe until remove, by each open file, by each request.
 * @hdev: The VMBus device; only valid while @state is not %AZ_BLOB_GONE.
 * @misc: /dev/azure_blob or /dev/azure_blob<index>.
 * @index: Allocated from az_blob_ida; names the misc device.
 * @name: The misc device's name.
 * @lock: Protects @state, @pending and @nr_pending, and is held across every
 *        send so that remove and suspend can close the channel after it.
 * @state: enum az_blob_state.
 * @channel_open: The channel is open (probe or resume succeeded).
 * @pending: Requests the host owns.
 * @nr_pending: Length of @pending.
 * @drain_wq: Woken when @pending becomes empty.
 * @free_list: Requests released in softirq context, to be freed by @free_work.
 * @free_work: Unpins and frees @free_list in process context.
 * @pinned_pages: Pages pinned by requests of this device right now.
 * @stats: Counters.
 * @debugfs: hyperv/<name>/ in debugfs.
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

	struct llist_head free_list;
	struct work_struct free_work;

	atomic_long_t pinned_pages;
	struct az_blob_stats stats;
	struct dentry *debugfs;
};

/**
 * struct az_blob_span - One user buffer of a request.
 * @addr: User address.
 * @len: Length in bytes; 0 for an absent data buffer.
 * @write: The host may write it, so it is pinned writable and dirtied.
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
 * @node: On &az_blob_device.pending while the host owns the request.
 * @free_node: On &az_blob_device.free_list once released in softirq context.
 * @complete: Called once, in the channel callback or on removal, when the
 *            host gave the request back; @error, @status and @response_len
 *            are set by then. See az_blob_complete_t.
 * @done: Completed by the synchronous @complete.
 * @abandoned: The submitter stopped waiting; protected by the device lock.
 * @error: 0, -EIO for a malformed completion, -ENODEV if the device went.
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
	struct list_head node;
	struct llist_node free_node;
	az_blob_complete_t complete;
	struct completion done;
	bool abandoned;

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
static bool az_blob_debugfs_root_created;

static void az_blob_device_release(struct kref *kref)
{
	kfree(container_of(kref, struct az_blob_device, kref));
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
	unsigned int total = 0, first_page = 0;
	int i;

	if (args->flags || !args->request_len || !args->response_len ||
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
		.write = true,
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
		if (addr != s->addr || check_add_overflow(addr, s->len, &end))
			return -EFAULT;

		s->nr_hv_pages = az_blob_span_pages(s->addr, s->len,
						    HV_HYP_PAGE_SHIFT);
		s->nr_pages = az_blob_span_pages(s->addr, s->len, PAGE_SHIFT);
		s->first_page = first_page;
		first_page += s->nr_pages;
		total += s->nr_hv_pages;
	}

	return total > AZ_BLOB_MAX_PAGES ? -E2BIG : 0;
}

/**
 * az_blob_fill_range() - Build the GPA range and the buffers' offsets in it.
 * @req: A request whose pages are all pinned.
 * @pfns: Room for @req->nr_hv_pages host PFNs.
 *
 * The range is the data, request and response buffers' pages in this order;
 * each buffer's offset counts from the start of the range.
 */
static void az_blob_fill_range(struct az_blob_request *req, u64 *pfns)
{
	u32 offsets[AZ_BLOB_NR_BUFS] = { };
	unsigned int n = 0;
	unsigned int i, j;

	for (i = 0; i < AZ_BLOB_NR_BUFS; i++) {
		const struct az_blob_span *s = &req->spans[i];
		u64 base = s->addr & PAGE_MASK;

		if (!s->len)
			continue;
		offsets[i] = n * HV_HYP_PAGE_SIZE + offset_in_hvpage(s->addr);
		for (j = 0; j < s->nr_hv_pages; j++) {
			u64 hva = (s->addr & HV_HYP_PAGE_MASK) +
				  (u64)j * HV_HYP_PAGE_SIZE;
			struct page *page;

			page = req->pages[s->first_page +
					  ((hva - base) >> PAGE_SHIFT)];
			pfns[n++] = page_to_hvpfn(page) +
				    ((hva & ~PAGE_MASK) >> HV_HYP_PAGE_SHIFT);
		}
	}

	req->pkt.data_buffer_offset = cpu_to_le32(offsets[AZ_BLOB_BUF_DATA]);
	req->pkt.request_buffer_offset =
		cpu_to_le32(offsets[AZ_BLOB_BUF_REQUEST]);
	req->pkt.response_buffer_offset =
		cpu_to_le32(offsets[AZ_BLOB_BUF_RESPONSE]);
}

static void az_blob_unpin(struct az_blob_request *req)
{
	int i;

	for (i = 0; i < AZ_BLOB_NR_BUFS; i++) {
		struct az_blob_span *s = &req->spans[i];
		struct page **pages = &req->pages[s->first_page];

		if (!s->nr_pinned)
			continue;
		if (s->write)
			unpin_user_pages_dirty_lock(pages, s->nr_pinned, true);
		else
			unpin_user_pages(pages, s->nr_pinned);
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

static int az_blob_pin(struct az_blob_request *req)
{
	int i;

	for (i = 0; i < AZ_BLOB_NR_BUFS; i++) {
		struct az_blob_span *s = &req->spans[i];
		unsigned long start = s->addr & PAGE_MASK;
		unsigned int gup_flags = s->write ? FOLL_WRITE : 0;

		while (s->nr_pinned < s->nr_pages) {
			int ret;

			ret = pin_user_pages_fast(start +
						  s->nr_pinned * PAGE_SIZE,
						  s->nr_pages - s->nr_pinned,
						  gup_flags,
						  &req->pages[s->first_page +
							      s->nr_pinned]);
			if (ret <= 0)
				return ret == -ENOMEM ? -ENOMEM : -EFAULT;
			s->nr_pinned += ret;
			atomic_long_add(ret, &req->dev->pinned_pages);
		}
	}
	return 0;
}

/* Caller holds dev->lock. */
static void az_blob_pending_del(struct az_blob_device *dev,
				struct az_blob_request *req)
{
	list_del_init(&req->node);
	if (!--dev->nr_pending)
		wake_up_all(&dev->drain_wq);
}

/**
 * az_blob_send() - Hand a pinned request to the host.
 * @dev: The device.
 * @req: The request; on success the host holds a reference to it.
 *
 * Return: 0, -ENODEV or -EAGAIN if the device is gone or suspended, -EBUSY
 * if the ring stayed full, -EINTR on a fatal signal, -ENOMEM.
 */
static int az_blob_send(struct az_blob_device *dev, struct az_blob_request *req)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(AZ_BLOB_SEND_WAIT_MS);
	struct vmbus_packet_mpb_array *desc;
	u32 desc_size;
	int ret;

	desc_size = struct_size(desc, range.pfn_array, req->nr_hv_pages);
	desc = kvmalloc(desc_size, GFP_KERNEL | __GFP_NOWARN);
	if (!desc)
		return -ENOMEM;
	desc->rangecount = 1;
	desc->range.offset = 0;
	desc->range.len = req->nr_hv_pages * HV_HYP_PAGE_SIZE;
	az_blob_fill_range(req, desc->range.pfn_array);

	for (;;) {
		spin_lock_bh(&dev->lock);
		if (dev->state != AZ_BLOB_RUNNING) {
			ret = dev->state == AZ_BLOB_GONE ? -ENODEV : -EAGAIN;
			spin_unlock_bh(&dev->lock);
			break;
		}
		/* The host's reference: it may complete before we return. */
		kref_get(&req->kref);
		list_add_tail(&req->node, &dev->pending);
		dev->nr_pending++;
		ret = vmbus_sendpacket_mpb_desc(dev->hdev->channel, desc,
						desc_size, &req->pkt,
						sizeof(req->pkt),
						(unsigned long)req);
		if (ret) {
			az_blob_pending_del(dev, req);
			/* Not the last reference: the submitter holds one. */
			kref_put(&req->kref, az_blob_request_release_deferred);
		}
		spin_unlock_bh(&dev->lock);

		if (ret != -EAGAIN)
			break;
		/* The ring or the requestor is full: the host will drain it. */
		if (time_after(jiffies, deadline)) {
			ret = -EBUSY;
			break;
		}
		schedule_timeout_killable(1);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}

	kvfree(desc);
	if (!ret)
		atomic64_inc(&dev->stats.submitted);
	return ret;
}

static int az_blob_wait(struct az_blob_request *req, u32 timeout_ms)
{
	unsigned long limit;
	long left;

	if (!timeout_ms)
		return wait_for_completion_killable(&req->done) ? -EINTR : 0;

	limit = msecs_to_jiffies(timeout_ms) +
		msecs_to_jiffies(AZ_BLOB_TIMEOUT_GRACE_MS);
	left = wait_for_completion_killable_timeout(&req->done, limit);
	if (left < 0)
		return -EINTR;
	return left ? 0 : -ETIMEDOUT;
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

	ret = az_blob_pin(req);
	if (!ret)
		ret = az_blob_send(dev, req);
	if (!ret) {
		ret = az_blob_wait(req, args.timeout);
		if (ret && az_blob_abandon(dev, req)) {
			/* The host still owns the request and its pages. */
			atomic64_inc(&dev->stats.abandoned);
		} else {
			/* Given back: the host's reference is ours too. */
			kref_put(&req->kref, az_blob_request_release);
			ret = req->error;
		}
		if (!ret) {
			args.response.status = req->status;
			args.response.response_len = req->response_len;
			if (copy_to_user(&uargs->response, &args.response,
					 sizeof(args.response)))
				ret = -EFAULT;
		}
	}

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
 * @desc: The packet, as copied out of the ring by the VMBus core.
 * @response_cap: Length of the request's response buffer.
 * @status: Set to the host's status.
 * @response_len: Set to the host's response length.
 *
 * Return: 0, or -EIO if the packet is not a completion, is too short, or
 * claims more response than the buffer holds.
 */
static int az_blob_check_completion(const struct vmpacket_descriptor *desc,
				    u32 response_cap, u32 *status,
				    u32 *response_len)
{
	const struct az_blob_vsp_completion *cmp;

	if (desc->type != VM_PKT_COMP || hv_pkt_datalen(desc) < sizeof(*cmp))
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

	addr = vmbus_request_addr(dev->hdev->channel, desc->trans_id);
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
				     "malformed completion: type %u, %u bytes, response %u of %u\n",
				     desc->type, hv_pkt_datalen(desc),
				     response_len, cap);
		status = 0;
		response_len = 0;
	} else {
		atomic64_inc(&dev->stats.completed);
	}
	az_blob_give_back(dev, req, error, status, response_len);
}

/* Called by the VMBus core in softirq context. */
static void az_blob_on_channel(void *context)
{
	struct az_blob_device *dev = context;
	const struct vmpacket_descriptor *desc;

	foreach_vmbus_pkt(desc, dev->hdev->channel)
		az_blob_on_packet(dev, desc);
}

/* After vmbus_close(): the host can no longer complete anything. */
static void az_blob_fail_pending(struct az_blob_device *dev)
{
	struct az_blob_request *req;

	for (;;) {
		spin_lock_bh(&dev->lock);
		req = list_first_entry_or_null(&dev->pending,
					       struct az_blob_request, node);
		spin_unlock_bh(&dev->lock);
		if (!req)
			break;
		az_blob_give_back(dev, req, -ENODEV, 0, 0);
	}
	/* Releases queued by the channel callback before it was closed. */
	flush_work(&dev->free_work);
}

static int az_blob_connect(struct az_blob_device *dev)
{
	struct vmbus_channel *chan = dev->hdev->channel;
	int ret;

	chan->max_pkt_size = AZ_BLOB_MAX_PKT_SIZE;
	chan->rqstor_size = AZ_BLOB_RQSTOR_SIZE;
	chan->next_request_id_callback = vmbus_next_request_id;
	chan->request_addr_callback = vmbus_request_addr;

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
	seq_printf(s, "unknown_id %lld\n", atomic64_read(&dev->stats.unknown_id));
	seq_printf(s, "bad_packet %lld\n", atomic64_read(&dev->stats.bad_packet));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(az_blob_stats);

static int az_blob_probe(struct hv_device *hdev,
			 const struct hv_vmbus_device_id *dev_id)
{
	struct az_blob_device *dev;
	int ret;

	/* The host reads guest pages directly; an isolated VM cannot share them. */
	if (hv_is_isolation_supported()) {
		dev_err(&hdev->device, "not supported in an isolated VM\n");
		return -EOPNOTSUPP;
	}

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	kref_init(&dev->kref);
	dev->hdev = hdev;
	spin_lock_init(&dev->lock);
	INIT_LIST_HEAD(&dev->pending);
	init_waitqueue_head(&dev->drain_wq);
	init_llist_head(&dev->free_list);
	INIT_WORK(&dev->free_work, az_blob_free_work);
	hv_set_drvdata(hdev, dev);

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

	/* No new send after this; open files see -ENODEV from now on. */
	spin_lock_bh(&dev->lock);
	dev->state = AZ_BLOB_GONE;
	spin_unlock_bh(&dev->lock);

	misc_deregister(&dev->misc);
	az_blob_disconnect(dev);
	az_blob_fail_pending(dev);

	debugfs_remove(dev->debugfs);
	ida_free(&az_blob_ida, dev->index);
	hv_set_drvdata(hdev, NULL);
	dev->hdev = NULL;
	az_blob_device_put(dev);
}

static int az_blob_suspend(struct hv_device *hdev)
{
	struct az_blob_device *dev = hv_get_drvdata(hdev);
	unsigned int left;

	spin_lock_bh(&dev->lock);
	dev->state = AZ_BLOB_SUSPENDED;
	spin_unlock_bh(&dev->lock);

	wait_event_timeout(dev->drain_wq, !READ_ONCE(dev->nr_pending),
			   msecs_to_jiffies(AZ_BLOB_DRAIN_MS));

	spin_lock_bh(&dev->lock);
	left = dev->nr_pending;
	if (left)
		dev->state = AZ_BLOB_RUNNING;
	spin_unlock_bh(&dev->lock);

	if (left) {
		dev_err(&hdev->device,
			"host still owns %u requests, cannot hibernate\n", left);
		return -EBUSY;
	}

	az_blob_disconnect(dev);
	flush_work(&dev->free_work);
	return 0;
}

static int az_blob_resume(struct hv_device *hdev)
{
	struct az_blob_device *dev = hv_get_drvdata(hdev);
	int ret;

	ret = az_blob_connect(dev);
	if (ret) {
		dev_err(&hdev->device, "cannot reopen the channel: %d\n", ret);
		return ret;
	}

	spin_lock_bh(&dev->lock);
	dev->state = AZ_BLOB_RUNNING;
	spin_unlock_bh(&dev->lock);
	return 0;
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

	/* The VMBus core owns "hyperv" when it has one (HYPERV_TESTING). */
	az_blob_debugfs_root = debugfs_lookup("hyperv", NULL);
	if (!az_blob_debugfs_root) {
		az_blob_debugfs_root = debugfs_create_dir("hyperv", NULL);
		az_blob_debugfs_root_created = true;
	}

	ret = vmbus_driver_register(&az_blob_drv);
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	if (az_blob_debugfs_root_created)
		debugfs_remove(az_blob_debugfs_root);
	else
		dput(az_blob_debugfs_root);
	return ret;
}

static void __exit az_blob_exit(void)
{
	vmbus_driver_unregister(&az_blob_drv);
	if (az_blob_debugfs_root_created)
		debugfs_remove(az_blob_debugfs_root);
	else
		dput(az_blob_debugfs_root);
}

module_init(az_blob_init);
module_exit(az_blob_exit);

#if IS_ENABLED(CONFIG_HYPERV_AZURE_BLOB_KUNIT_TEST)
#include "hv_azure_blob_test.c"
#endif

MODULE_DESCRIPTION("Microsoft Azure Blob accelerated access through Hyper-V");
MODULE_LICENSE("GPL");
