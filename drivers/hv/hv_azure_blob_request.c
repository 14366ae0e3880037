// SPDX-License-Identifier: GPL-2.0
/*
 * hv_azure_blob: what a request is. Its validation before anything is
 * pinned, the layout of its GPA range, its long-term pins and their
 * release, and what it is charged to its user while the host holds it.
 */

#include <linux/bvec.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "hv_azure_blob.h"

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
int __az_blob_check_args(const struct az_blob_request_sync *args,
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
int az_blob_check_args(const struct az_blob_request_sync *args,
		       struct az_blob_span *spans)
{
	return __az_blob_check_args(args, spans, PAGE_SHIFT);
}

/*
 * Always inlined, so that the fill of a request's range calls no function
 * per page (8,192 calls for a 32 MiB request): @hvpfn is a constant there.
 */
static __always_inline void
az_blob_fill_pfns(const struct az_blob_span *spans, unsigned int page_shift,
		  az_blob_page_hvpfn_t hvpfn, const void *ctx, u64 *pfns,
		  u32 *offsets)
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
 * touches. The driver uses the same code for its own page size; this
 * entry lets the KUnit cases check the layout for other page sizes.
 */
void __az_blob_fill_range(const struct az_blob_span *spans,
			  unsigned int page_shift,
			  az_blob_page_hvpfn_t hvpfn, const void *ctx,
			  u64 *pfns, u32 *offsets)
{
	az_blob_fill_pfns(spans, page_shift, hvpfn, ctx, pfns, offsets);
}

static inline u64 az_blob_request_hvpfn(const void *ctx, unsigned int index)
{
	const struct az_blob_request *req = ctx;

	return page_to_hvpfn(req->pages[index]);
}

/* The range of a request whose pages are all pinned, and its offsets. */
void az_blob_fill_range(struct az_blob_request *req, u64 *pfns)
{
	u32 offsets[AZ_BLOB_NR_BUFS];

	az_blob_fill_pfns(req->spans, PAGE_SHIFT, az_blob_request_hvpfn, req,
			  pfns, offsets);
	req->pkt.data_buffer_offset = cpu_to_le32(offsets[AZ_BLOB_BUF_DATA]);
	req->pkt.request_buffer_offset =
		cpu_to_le32(offsets[AZ_BLOB_BUF_REQUEST]);
	req->pkt.response_buffer_offset =
		cpu_to_le32(offsets[AZ_BLOB_BUF_RESPONSE]);
}

/**
 * az_blob_ref_fixed() - Take page references on a span in a registered buffer
 * @req: The request whose page array receives the pages.
 * @s: The span, one of @req->spans.
 * @iter: The bvec iterator io_uring imported for @s.
 *
 * Walks the bvec itself: iov_iter_get_pages2() stops at each segment, which
 * is one call per page for a buffer of small pages. The host gets whole
 * pages: the range must be the user range, page for page, with no piece of
 * a page in between. Pages referenced before a failure stay in @s for
 * az_blob_put_fixed().
 *
 * Return: 0, or -EFAULT for a range the host cannot be given.
 */
int az_blob_ref_fixed(struct az_blob_request *req, struct az_blob_span *s,
		      const struct iov_iter *iter)
{
	struct page **pages = &req->pages[s->first_page];
	const struct bio_vec *bv = iter->bvec;
	unsigned long segs = iter->nr_segs;
	size_t left = iov_iter_count(iter);
	size_t skip = iter->iov_offset;
	size_t head = offset_in_page(s->addr);
	int ret = 0;

	if (!iov_iter_is_bvec(iter))
		return -EFAULT;
	for (; left && segs; bv++, segs--, skip = 0) {
		unsigned int n, k, run;
		size_t off, len;
		struct page *page;

		if (skip >= bv->bv_len)
			continue;
		off = bv->bv_offset + skip;
		len = min(bv->bv_len - skip, left);
		left -= len;
		n = DIV_ROUND_UP(offset_in_page(off) + len, PAGE_SIZE);
		if (offset_in_page(off) != head ||
		    (left && offset_in_page(off + len)) ||
		    n > s->nr_pages - s->nr_pinned) {
			ret = -EFAULT;
			break;
		}
		head = 0;
		page = bv->bv_page + off / PAGE_SIZE;
		for (k = 0; k < n; k += run) {
			struct folio *folio = page_folio(page + k);
			unsigned int j;

			/*
			 * A kernel buffer (7.2 registers some) may hold
			 * kmalloc memory, which a reference does not keep.
			 */
			if (folio_test_slab(folio) ||
			    folio_test_large_kmalloc(folio)) {
				ret = -EFAULT;
				break;
			}
			/* A folio's pages in this segment: one atomic add. */
			run = min_t(unsigned long, n - k,
				    folio_nr_pages(folio) -
				    folio_page_idx(folio, page + k));
			folio_ref_add(folio, run);
			for (j = 0; j < run; j++)
				pages[s->nr_pinned++] = page + k + j;
		}
		if (ret)
			break;
	}
	atomic_long_add(s->nr_pinned, &req->dev->fixed_pages);
	if (!ret && (left || s->nr_pinned != s->nr_pages))
		ret = -EFAULT;
	return ret;
}

/* Page references on a registered buffer, taken by az_blob_ref_fixed(). */
static void az_blob_put_fixed(struct az_blob_request *req,
			      struct az_blob_span *s)
{
	struct page **pages = &req->pages[s->first_page];
	unsigned int i, run;

	for (i = 0; i < s->nr_pinned; i += run) {
		struct folio *folio = page_folio(pages[i]);

		/* Consecutive pages of one folio: one atomic sub. */
		for (run = 1; i + run < s->nr_pinned; run++)
			if (page_folio(pages[i + run]) != folio)
				break;
		/*
		 * As unpin_user_pages_dirty_lock(): a folio seen dirty is
		 * written back after the host's writes, so only a clean one
		 * takes the lock.
		 */
		if (s->write && req->sent && !folio_test_dirty(folio)) {
			folio_lock(folio);
			folio_mark_dirty(folio);
			folio_unlock(folio);
		}
		folio_put_refs(folio, run);
	}
	atomic_long_sub(s->nr_pinned, &req->dev->fixed_pages);
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
		if (req->fixed) {
			az_blob_put_fixed(req, s);
		} else {
			unpin_user_pages_dirty_lock(pages, s->nr_pinned,
						    s->write && req->sent);
			atomic_long_sub(s->nr_pinned, &req->dev->pinned_pages);
		}
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

void az_blob_request_release(struct kref *kref)
{
	az_blob_request_free(container_of(kref, struct az_blob_request, kref));
}

/* The host's reference may be the last one in softirq context. */
void az_blob_request_release_deferred(struct kref *kref)
{
	struct az_blob_request *req =
		container_of(kref, struct az_blob_request, kref);
	struct az_blob_device *dev = req->dev;

	if (llist_add(&req->free_node, &dev->free_list))
		schedule_work(&dev->free_work);
}

void az_blob_free_work(struct work_struct *work)
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
bool az_blob_request_complete_sync(struct az_blob_request *req)
{
	if (req->abandoned)
		return false;
	complete(&req->done);
	return true;
}

struct az_blob_request *
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
int az_blob_pin(struct az_blob_request *req)
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
bool az_blob_user_charge(struct az_blob_device *dev,
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
 * @wait: %AZ_BLOB_WAIT to wait; otherwise -EAGAIN if the request cannot be
 *        charged at once (the wait is as long as the user's own requests
 *        take, too long to hold a lock across).
 *
 * Waits, killable and freezable, while the user's own requests in flight
 * reach %AZ_BLOB_USER_MAX_REQUESTS or %AZ_BLOB_USER_MAX_PAGES; a single
 * request is always admitted when the user has none in flight.
 *
 * Return: 0, -ENOMEM, -EINTR on a fatal signal, -ENODEV or -EAGAIN if the
 * device went away or was suspended meanwhile, -EAGAIN if the request would
 * have to wait and @wait does not allow it.
 */
int az_blob_admit(struct az_blob_device *dev,
		  struct az_blob_request *req, enum az_blob_wait wait)
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

	if (wait != AZ_BLOB_WAIT)
		ret = az_blob_user_charge(dev, user, req) ? 0 : -EAGAIN;
	else
		ret = wait_event_state(dev->user_wq,
				       az_blob_user_charge(dev, user, req),
				       (TASK_KILLABLE | TASK_FREEZABLE)) ?
			-EINTR : 0;

	spin_lock_bh(&dev->lock);
	if (!ret && !req->user)
		ret = az_blob_state_errno(dev);
	/* A charged request takes over the waiter's reference. */
	if (!req->user)
		az_blob_user_put(user);
	spin_unlock_bh(&dev->lock);
	return ret;
}

/* The host gave the request back, or it was never sent. Holds dev->lock. */
void az_blob_unadmit(struct az_blob_device *dev,
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
