/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv_azure_blob: what the driver's files share. Private to the driver; the
 * user ABI is <misc/hv_azure_blob.h>.
 */
#ifndef _HV_AZURE_BLOB_H
#define _HV_AZURE_BLOB_H

#include <linux/completion.h>
#include <linux/hyperv.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <misc/hv_azure_blob.h>

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
/* How often the deadlines of asynchronous requests are looked at. */
#define AZ_BLOB_WATCHDOG_MS	1000

/*
 * What one user (uid) may have in flight on one device: a quarter of the
 * host's request slots, so that at least three other users keep service,
 * and 1 GiB of pinned memory. Above either, that user's next request waits
 * for its own earlier ones; nobody else waits for it.
 */
#define AZ_BLOB_USER_MAX_REQUESTS	(AZ_BLOB_RQSTOR_SIZE / 4)
#define AZ_BLOB_USER_MAX_PAGES		((1UL << 30) >> PAGE_SHIFT)

/* How a submitter may wait for its user's bound or its turn to send. */
enum az_blob_wait {
	AZ_BLOB_WAIT,		/* killable and freezable */
	AZ_BLOB_WAIT_LOCKED,	/* holds a lock: no bound wait, not freezable */
	AZ_BLOB_NOWAIT,		/* -EAGAIN instead of any wait */
};

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

/* The GPA range of the largest request: one range of every page. */
#define AZ_BLOB_MAX_SEND_DESC						\
	(sizeof(struct vmbus_packet_mpb_array) +			\
	 AZ_BLOB_MAX_PAGES * sizeof(u64))

/* The largest packet we send: that range, and the request. */
#define AZ_BLOB_MAX_SEND_PKT						\
	ALIGN(AZ_BLOB_MAX_SEND_DESC + sizeof(struct az_blob_vsp_request), \
	      sizeof(u64))
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
 * @cancelled: Asynchronous requests whose CQE io_uring's cancellation posted
 *             while the host still held them.
 * @overdue: Asynchronous requests the host held past their deadline.
 * @resets: Channel resets because of overdue requests.
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
	atomic64_t cancelled;
	atomic64_t overdue;
	atomic64_t resets;
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
 * @lock: Protects @state, @pending, @nr_pending, @senders, @send_stalled,
 *        @users and the completion state of asynchronous requests, and is
 *        held across every send so that remove and suspend can close the
 *        channel after it.
 * @state_mutex: Serializes what closes and opens the channel: remove,
 *               suspend, resume and @reset_work.
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
 * @send_desc: The GPA range of the packet being sent, room for
 *             %AZ_BLOB_MAX_PAGES; only the first of @senders uses it, so
 *             that a send allocates nothing.
 * @users: struct az_blob_user of each user with requests in flight.
 * @user_wq: Woken when a request is given back.
 * @free_list: Requests released in softirq context, to be freed by @free_work.
 * @free_work: Unpins and frees @free_list in process context.
 * @watchdog: Looks for asynchronous requests past their deadline while
 *            any are pending.
 * @reset_work: Closes and reopens the channel once one is overdue.
 * @pinned_pages: Pages pinned by requests of this device right now.
 * @fixed_pages: Pages of registered buffers referenced by requests now.
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
	struct mutex state_mutex;	/* see @state_mutex above */
	enum az_blob_state state;
	bool channel_open;
	struct list_head pending;
	unsigned int nr_pending;
	wait_queue_head_t drain_wq;

	struct list_head senders;
	wait_queue_head_t send_wq;
	unsigned long host_progress;
	bool send_stalled;
	struct vmbus_packet_mpb_array *send_desc;

	struct list_head users;
	wait_queue_head_t user_wq;

	struct llist_head free_list;
	struct work_struct free_work;

	struct delayed_work watchdog;
	struct work_struct reset_work;

	atomic_long_t pinned_pages;
	atomic_long_t fixed_pages;
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
 * @nr_pinned: Pages pinned (or, of a registered buffer, referenced) so far.
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
struct io_uring_cmd;
struct iov_iter;
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
 * @fixed: Its pages are in an io_uring registered buffer: the request holds
 *         page references, not pins.
 * @trans_id: Its VMBus transaction id, once sent (for the tracepoints).
 * @async: Submitted through io_uring.
 * @cmd: The io_uring command of an asynchronous request until its CQE is
 *       posted; NULL for the ioctl.
 * @deadline: When the host must have given an asynchronous request back.
 * @armed: The issue of the command is over (it may be cancelled from now).
 * @ready: The host gave the request back; @error and the rest are set.
 * @posted: Somebody took the job of posting the CQE; only one ever does.
 * @overdue: The host held it past @deadline; it ends with -ETIMEDOUT.
 *
 * @armed, @ready, @posted and @overdue are protected by the device lock.
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
	bool fixed;

	u64 trans_id;
	bool async;
	struct io_uring_cmd *cmd;
	unsigned long deadline;
	bool armed;
	bool ready;
	bool posted;
	bool overdue;

	int error;
	u32 status;
	u32 response_len;

	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	unsigned int nr_pages;
	unsigned int nr_hv_pages;
	struct az_blob_vsp_request pkt;
	struct page *pages[] __counted_by(nr_pages);
};

/* The host PFN of the first 4 KiB of kernel page @index of a request. */
typedef u64 (*az_blob_page_hvpfn_t)(const void *ctx, unsigned int index);

/* Caller holds dev->lock. */
static inline int az_blob_state_errno(struct az_blob_device *dev)
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

/* hv_azure_blob_main.c */
void az_blob_device_put(struct az_blob_device *dev);
struct az_blob_device *az_blob_device_alloc(void);

/* hv_azure_blob_request.c */
int __az_blob_check_args(const struct az_blob_request_sync *args,
			 struct az_blob_span *spans,
			 unsigned int page_shift);
int az_blob_check_args(const struct az_blob_request_sync *args,
		       struct az_blob_span *spans);
void __az_blob_fill_range(const struct az_blob_span *spans,
			  unsigned int page_shift,
			  az_blob_page_hvpfn_t hvpfn, const void *ctx,
			  u64 *pfns, u32 *offsets);
void az_blob_fill_range(struct az_blob_request *req, u64 *pfns);
int az_blob_pin(struct az_blob_request *req);
int az_blob_ref_fixed(struct az_blob_request *req, struct az_blob_span *s,
		      const struct iov_iter *iter);
struct az_blob_request *
az_blob_request_alloc(struct az_blob_device *dev,
		      const struct az_blob_request_sync *args,
		      const struct az_blob_span *spans);
void az_blob_request_release(struct kref *kref);
void az_blob_request_release_deferred(struct kref *kref);
void az_blob_free_work(struct work_struct *work);
bool az_blob_request_complete_sync(struct az_blob_request *req);
bool az_blob_user_charge(struct az_blob_device *dev,
			 struct az_blob_user *user,
			 struct az_blob_request *req);
int az_blob_admit(struct az_blob_device *dev,
		  struct az_blob_request *req, enum az_blob_wait wait);
void az_blob_unadmit(struct az_blob_device *dev,
		     struct az_blob_request *req);

/* hv_azure_blob_channel.c */
struct az_blob_ids *az_blob_ids_alloc(void);
void az_blob_ids_reset(struct az_blob_ids *ids);
u64 az_blob_ids_get(struct az_blob_ids *ids, u64 addr);
u64 az_blob_ids_put(struct az_blob_ids *ids, u64 id);
int az_blob_send(struct az_blob_device *dev, struct az_blob_request *req,
		 enum az_blob_wait wait);
bool az_blob_abandon(struct az_blob_device *dev,
		     struct az_blob_request *req);
void az_blob_give_back(struct az_blob_device *dev,
		       struct az_blob_request *req, int error,
		       u32 status, u32 response_len);
int az_blob_check_completion(const struct vmpacket_descriptor *desc,
			     u32 response_cap, u32 *status,
			     u32 *response_len);
void az_blob_fail_pending(struct az_blob_device *dev, int error);
int az_blob_connect(struct az_blob_device *dev);
void az_blob_disconnect(struct az_blob_device *dev);
void az_blob_quiesce(struct az_blob_device *dev,
		     enum az_blob_state state, int error, bool drain);

/* hv_azure_blob_uring.c */
int az_blob_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);
void az_blob_watch(struct az_blob_device *dev);
void az_blob_watchdog(struct work_struct *work);
void az_blob_reset_work(struct work_struct *work);
int az_blob_reopen(struct az_blob_device *dev);

#endif /* _HV_AZURE_BLOB_H */
