// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for hv_azure_blob: request validation, the layout of the GPA
 * range for 4 KiB and 64 KiB pages, the checks on what the host sends back,
 * the driver's own transaction ids, the page references on a registered
 * buffer, and the hand-over of a request between its submitter and the
 * host (completion, abandon, give-back, per-user accounting) on a device
 * with no channel. Built into the module: what it tests is the driver's
 * internal interface, hv_azure_blob.h.
 */

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "hv_azure_blob.h"

static const struct az_blob_request_sync az_blob_test_valid = {
	.request_len = 32,
	.response_len = 64,
	.data_len = 8192,
	.data_valid = 100,
	.request_buffer = 0x20000010,
	.response_buffer = 0x20000100,
	.data_buffer = 0x10000800,
};

static void az_blob_test_valid_args(struct kunit *test)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync a = az_blob_test_valid;

	KUNIT_ASSERT_EQ(test, az_blob_check_args(&a, spans), 0);

	/* 8 KiB from 0x800 touches three pages. */
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_DATA].nr_hv_pages, 3);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_DATA].first_page, 0);
	KUNIT_EXPECT_TRUE(test, spans[AZ_BLOB_BUF_DATA].write);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_REQUEST].nr_hv_pages, 1);
	KUNIT_EXPECT_FALSE(test, spans[AZ_BLOB_BUF_REQUEST].write);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_RESPONSE].nr_hv_pages, 1);
	KUNIT_EXPECT_TRUE(test, spans[AZ_BLOB_BUF_RESPONSE].write);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_RESPONSE].first_page,
			spans[AZ_BLOB_BUF_REQUEST].first_page +
			spans[AZ_BLOB_BUF_REQUEST].nr_pages);
}

/* An upload's data buffer is pinned read-only; the response never is. */
static void az_blob_test_host_reads(struct kunit *test)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync a = az_blob_test_valid;

	a.flags = AZ_BLOB_DATA_HOST_READS;
	KUNIT_ASSERT_EQ(test, az_blob_check_args(&a, spans), 0);
	KUNIT_EXPECT_FALSE(test, spans[AZ_BLOB_BUF_DATA].write);
	KUNIT_EXPECT_FALSE(test, spans[AZ_BLOB_BUF_REQUEST].write);
	KUNIT_EXPECT_TRUE(test, spans[AZ_BLOB_BUF_RESPONSE].write);
}

static void az_blob_test_no_data(struct kunit *test)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync a = az_blob_test_valid;

	/* Without data the data address is ignored, even a bad one. */
	a.data_len = 0;
	a.data_valid = 0;
	a.data_buffer = ~0ULL;
	KUNIT_ASSERT_EQ(test, az_blob_check_args(&a, spans), 0);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_DATA].nr_pages, 0);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_DATA].addr, 0);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_REQUEST].first_page, 0);
}

static void az_blob_test_einval(struct kunit *test)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync a;

	a = az_blob_test_valid;
	a.flags = AZ_BLOB_FLAGS_ALL + 1;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EINVAL);

	a = az_blob_test_valid;
	a.flags = 1U << 31;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EINVAL);

	a = az_blob_test_valid;
	a.request_len = 0;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EINVAL);

	a = az_blob_test_valid;
	a.response_len = 0;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EINVAL);

	a = az_blob_test_valid;
	a.data_valid = a.data_len + 1;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EINVAL);

	a = az_blob_test_valid;
	a.request_buffer = 0;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EINVAL);

	a = az_blob_test_valid;
	a.response_buffer = 0;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EINVAL);

	a = az_blob_test_valid;
	a.data_buffer = 0;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EINVAL);
}

static void az_blob_test_e2big(struct kunit *test)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync a;

	a = az_blob_test_valid;
	a.request_len = AZ_BLOB_MAX_LEN + 1;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -E2BIG);

	a = az_blob_test_valid;
	a.response_len = AZ_BLOB_MAX_LEN + 1;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -E2BIG);

	a = az_blob_test_valid;
	a.data_len = AZ_BLOB_MAX_LEN + 1;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -E2BIG);

	/* Exactly AZ_BLOB_MAX_PAGES pages: 8190 of data, one each else. */
	a = az_blob_test_valid;
	a.data_buffer = 0x10000000;
	a.data_len = (AZ_BLOB_MAX_PAGES - 2) * HV_HYP_PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), 0);

	/* One byte further into the data's last page is one page too many. */
	a.data_buffer += 1;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -E2BIG);
}

static void az_blob_test_efault(struct kunit *test)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync a;

	a = az_blob_test_valid;
	a.response_buffer = ~0ULL - 10;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EFAULT);

	a = az_blob_test_valid;
	a.data_buffer = ~0ULL - a.data_len + 2;
	KUNIT_EXPECT_EQ(test, az_blob_check_args(&a, spans), -EFAULT);
}

static void az_blob_test_free_pages(void *pages)
{
	struct page **p = pages;
	int i;

	for (i = 0; i < 4; i++)
		if (p[i])
			__free_page(p[i]);
}

static void az_blob_test_range_layout(struct kunit *test)
{
	struct az_blob_request_sync a = az_blob_test_valid;
	struct az_blob_request *req;
	u64 pfns[5];
	int i, ret;

	if (PAGE_SIZE != HV_HYP_PAGE_SIZE)
		kunit_skip(test, "az_blob_test_range_layout_64k covers this kernel");

	/* Data spans two pages; request and response share one page. */
	a.data_len = 4096;
	a.data_valid = 0;
	req = kunit_kzalloc(test, struct_size(req, pages, 4), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, req);
	req->nr_pages = 4;
	KUNIT_ASSERT_EQ(test, az_blob_check_args(&a, req->spans), 0);
	KUNIT_ASSERT_EQ(test, req->spans[AZ_BLOB_BUF_RESPONSE].first_page +
			req->spans[AZ_BLOB_BUF_RESPONSE].nr_pages, 4);
	req->nr_hv_pages = 4;

	ret = kunit_add_action_or_reset(test, az_blob_test_free_pages,
					req->pages);
	KUNIT_ASSERT_EQ(test, ret, 0);
	for (i = 0; i < 4; i++) {
		req->pages[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, req->pages[i]);
	}

	memset(pfns, 0xff, sizeof(pfns));
	az_blob_fill_range(req, pfns);

	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, pfns[i], page_to_hvpfn(req->pages[i]));
	KUNIT_EXPECT_EQ(test, pfns[4], ~0ULL);

	KUNIT_EXPECT_EQ(test, le32_to_cpu(req->pkt.data_buffer_offset), 0x800);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(req->pkt.request_buffer_offset),
			2 * 4096 + 0x10);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(req->pkt.response_buffer_offset),
			3 * 4096 + 0x100);
}

/* Kernel page @index of a request is host page 0x100000 + 16 * @index. */
static u64 az_blob_test_hvpfn_64k(const void *ctx, unsigned int index)
{
	return 0x100000 + 16 * (u64)index;
}

/*
 * The layout for a kernel with 64 KiB pages, computed by hand: host pages
 * are 4 KiB whatever the kernel's page size, so one kernel page gives up
 * to 16 PFNs, and only those the buffer touches.
 */
static void az_blob_test_range_layout_64k(struct kunit *test)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync a = az_blob_test_valid;
	u32 offsets[AZ_BLOB_NR_BUFS];
	static const u64 want[] = {
		/* data 0x1000f800 + 8 KiB: pages 0x1000 (host 15), 0x1001 (0, 1) */
		0x100000 + 15, 0x100010 + 0, 0x100010 + 1,
		/* request 0x20000010, 32 bytes: kernel page 2, host page 0 */
		0x100020,
		/* response 0x2000f100, 64 bytes: kernel page 3, host page 15 */
		0x100030 + 15,
	};
	u64 pfns[ARRAY_SIZE(want) + 1];
	int i;

	a.data_buffer = 0x1000f800;
	a.response_buffer = 0x2000f100;
	KUNIT_ASSERT_EQ(test, __az_blob_check_args(&a, spans, 16), 0);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_DATA].nr_pages, 2);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_DATA].nr_hv_pages, 3);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_REQUEST].first_page, 2);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_RESPONSE].first_page, 3);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_RESPONSE].nr_pages, 1);

	memset(pfns, 0xff, sizeof(pfns));
	__az_blob_fill_range(spans, 16, az_blob_test_hvpfn_64k, NULL, pfns,
			     offsets);
	for (i = 0; i < ARRAY_SIZE(want); i++)
		KUNIT_EXPECT_EQ_MSG(test, pfns[i], want[i], "pfn %d", i);
	KUNIT_EXPECT_EQ(test, pfns[ARRAY_SIZE(want)], ~0ULL);
	KUNIT_EXPECT_EQ(test, offsets[AZ_BLOB_BUF_DATA], 0x800);
	KUNIT_EXPECT_EQ(test, offsets[AZ_BLOB_BUF_REQUEST], 3 * 4096 + 0x10);
	KUNIT_EXPECT_EQ(test, offsets[AZ_BLOB_BUF_RESPONSE], 4 * 4096 + 0x100);

	/* The page limit counts host pages, whatever the kernel's size. */
	a = az_blob_test_valid;
	a.data_buffer = 0x10000000;
	a.data_len = (AZ_BLOB_MAX_PAGES - 2) * HV_HYP_PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, __az_blob_check_args(&a, spans, 16), 0);
	KUNIT_EXPECT_EQ(test, spans[AZ_BLOB_BUF_DATA].nr_pages,
			DIV_ROUND_UP(AZ_BLOB_MAX_PAGES - 2, 16));
	a.data_buffer += 1;
	KUNIT_EXPECT_EQ(test, __az_blob_check_args(&a, spans, 16), -E2BIG);
}

/* A completion packet as the VMBus core hands it over. */
struct az_blob_test_pkt {
	struct vmpacket_descriptor desc;
	struct az_blob_vsp_completion cmp;
	u8 pad[12];
} __packed;

static void az_blob_test_pkt_init(struct az_blob_test_pkt *p, u16 type,
				  u32 payload, u32 status, u32 response_len)
{
	memset(p, 0, sizeof(*p));
	p->desc.type = type;
	p->desc.offset8 = sizeof(p->desc) >> 3;
	p->desc.len8 = ALIGN(sizeof(p->desc) + payload, 8) >> 3;
	p->cmp.length = cpu_to_le32(sizeof(p->cmp));
	p->cmp.error = cpu_to_le32(status);
	p->cmp.response_len = cpu_to_le32(response_len);
}

static void az_blob_test_completion(struct kunit *test)
{
	struct az_blob_test_pkt p;
	u32 status, len;

	az_blob_test_pkt_init(&p, VM_PKT_COMP, 12, 0xc0000001, 64);
	KUNIT_EXPECT_EQ(test, az_blob_check_completion(&p.desc, 64, &status,
						       &len), 0);
	KUNIT_EXPECT_EQ(test, status, 0xc0000001);
	KUNIT_EXPECT_EQ(test, len, 64);

	/* Longer than a completion: the rest is ignored. */
	az_blob_test_pkt_init(&p, VM_PKT_COMP, 24, 0, 1);
	KUNIT_EXPECT_EQ(test, az_blob_check_completion(&p.desc, 64, &status,
						       &len), 0);

	/* 8 bytes of payload cannot hold a completion. */
	az_blob_test_pkt_init(&p, VM_PKT_COMP, 8, 0, 1);
	KUNIT_EXPECT_EQ(test, az_blob_check_completion(&p.desc, 64, &status,
						       &len), -EIO);

	az_blob_test_pkt_init(&p, VM_PKT_COMP, 12, 0, 65);
	KUNIT_EXPECT_EQ(test, az_blob_check_completion(&p.desc, 64, &status,
						       &len), -EIO);
}

/* Ids are unique per use of a slot: a stale one is unknown, not reused. */
static void az_blob_test_ids(struct kunit *test)
{
	struct az_blob_ids *ids = az_blob_ids_alloc();
	u64 a, b, c;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, ids);
	a = az_blob_ids_get(ids, 0xa);
	KUNIT_EXPECT_EQ(test, az_blob_ids_put(ids, a), 0xa);
	/* The same slot again, under a new id. */
	b = az_blob_ids_get(ids, 0xb);
	KUNIT_EXPECT_NE(test, a, b);
	KUNIT_EXPECT_EQ(test, (a - 1) % AZ_BLOB_RQSTOR_SIZE,
			(b - 1) % AZ_BLOB_RQSTOR_SIZE);
	/* The host repeats a's completion: unknown, b stays outstanding. */
	KUNIT_EXPECT_EQ(test, az_blob_ids_put(ids, a), VMBUS_RQST_ERROR);
	KUNIT_EXPECT_EQ(test, az_blob_ids_put(ids, 0), VMBUS_RQST_ERROR);
	KUNIT_EXPECT_EQ(test, az_blob_ids_put(ids, VMBUS_RQST_ERROR),
			VMBUS_RQST_ERROR);
	KUNIT_EXPECT_EQ(test, az_blob_ids_put(ids, b + AZ_BLOB_RQSTOR_SIZE),
			VMBUS_RQST_ERROR);
	KUNIT_EXPECT_EQ(test, az_blob_ids_put(ids, b), 0xb);
	KUNIT_EXPECT_EQ(test, az_blob_ids_put(ids, b), VMBUS_RQST_ERROR);

	/* Every slot taken: no id until one is given back. */
	for (i = 0; i < AZ_BLOB_RQSTOR_SIZE; i++)
		KUNIT_ASSERT_NE(test, az_blob_ids_get(ids, 0x1000 + i),
				VMBUS_RQST_ERROR);
	KUNIT_EXPECT_EQ(test, az_blob_ids_get(ids, 0xc), VMBUS_RQST_ERROR);

	/* A reset (the channel reopened) forgets every outstanding id. */
	c = b + 2 * AZ_BLOB_RQSTOR_SIZE;
	az_blob_ids_reset(ids);
	KUNIT_EXPECT_EQ(test, az_blob_ids_put(ids, c), VMBUS_RQST_ERROR);
	KUNIT_EXPECT_NE(test, az_blob_ids_get(ids, 0xd), VMBUS_RQST_ERROR);
	kvfree(ids);
}

/* A device with no channel: what the hand-over of a request needs. */
static struct az_blob_device *az_blob_test_dev(struct kunit *test)
{
	struct az_blob_device *dev = az_blob_device_alloc();

	KUNIT_ASSERT_NOT_NULL(test, dev);
	return dev;
}

/* A request of az_blob_test_valid, neither pinned nor charged. */
static struct az_blob_request *az_blob_test_req(struct kunit *test,
						struct az_blob_device *dev)
{
	struct az_blob_request_sync a = az_blob_test_valid;
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request *req;

	KUNIT_ASSERT_EQ(test, az_blob_check_args(&a, spans), 0);
	req = az_blob_request_alloc(dev, &a, spans);
	KUNIT_ASSERT_NOT_NULL(test, req);
	return req;
}

/* A request charged to the current user and handed to the "host". */
static struct az_blob_request *az_blob_test_sent(struct kunit *test,
						 struct az_blob_device *dev)
{
	struct az_blob_request *req = az_blob_test_req(test, dev);

	KUNIT_ASSERT_EQ(test, az_blob_admit(dev, req, AZ_BLOB_WAIT), 0);
	KUNIT_ASSERT_NOT_NULL(test, req->user);
	KUNIT_EXPECT_EQ(test, req->user->requests, 1);
	KUNIT_EXPECT_EQ(test, req->user->pages, req->nr_pages);

	spin_lock_bh(&dev->lock);
	kref_get(&req->kref);
	list_add_tail(&req->node, &dev->pending);
	dev->nr_pending++;
	req->sent = true;
	spin_unlock_bh(&dev->lock);
	return req;
}

/* The device holds only its own reference and nothing is charged. */
static void az_blob_test_dev_idle(struct kunit *test, struct az_blob_device *dev)
{
	flush_work(&dev->free_work);
	KUNIT_EXPECT_EQ(test, kref_read(&dev->kref), 1);
	KUNIT_EXPECT_EQ(test, dev->nr_pending, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&dev->users));
	az_blob_device_put(dev);
}

/* Completed while the submitter waits: the host's reference is its own. */
static void az_blob_test_give_back_waiting(struct kunit *test)
{
	struct az_blob_device *dev = az_blob_test_dev(test);
	struct az_blob_request *req = az_blob_test_sent(test, dev);

	az_blob_give_back(dev, req, 0, 0xc0000001, 7);
	KUNIT_EXPECT_TRUE(test, completion_done(&req->done));
	KUNIT_EXPECT_EQ(test, kref_read(&req->kref), 2);
	KUNIT_EXPECT_EQ(test, req->status, 0xc0000001);
	KUNIT_EXPECT_EQ(test, req->response_len, 7);
	KUNIT_EXPECT_NULL(test, req->user);
	KUNIT_EXPECT_TRUE(test, list_empty(&req->node));
	/* Too late to abandon: the submitter keeps both references. */
	KUNIT_EXPECT_FALSE(test, az_blob_abandon(dev, req));
	KUNIT_EXPECT_FALSE(test, req->abandoned);
	kref_put(&req->kref, az_blob_request_release);
	kref_put(&req->kref, az_blob_request_release);
	az_blob_test_dev_idle(test, dev);
}

/* Abandoned first: the host's reference is dropped when it gives it back. */
static void az_blob_test_abandon_then_give_back(struct kunit *test)
{
	struct az_blob_device *dev = az_blob_test_dev(test);
	struct az_blob_request *req = az_blob_test_sent(test, dev);

	KUNIT_EXPECT_TRUE(test, az_blob_abandon(dev, req));
	KUNIT_EXPECT_TRUE(test, req->abandoned);
	/* The submitter leaves; the host's reference keeps the request. */
	kref_put(&req->kref, az_blob_request_release);
	KUNIT_EXPECT_EQ(test, kref_read(&req->kref), 1);
	KUNIT_EXPECT_EQ(test, dev->nr_pending, 1);
	KUNIT_EXPECT_FALSE(test, list_empty(&dev->users));

	/* As from softirq: the last reference goes to the free work. */
	local_bh_disable();
	az_blob_give_back(dev, req, 0, 0, 0);
	local_bh_enable();
	az_blob_test_dev_idle(test, dev);
}

/* What the channel's closing fails carries its error to the submitter. */
static void az_blob_test_fail_pending(struct kunit *test)
{
	struct az_blob_device *dev = az_blob_test_dev(test);
	struct az_blob_request *req = az_blob_test_sent(test, dev);

	az_blob_fail_pending(dev, -EAGAIN);
	KUNIT_EXPECT_TRUE(test, completion_done(&req->done));
	KUNIT_EXPECT_EQ(test, req->error, -EAGAIN);
	KUNIT_EXPECT_EQ(test, atomic64_read(&dev->stats.failed), 1);
	kref_put(&req->kref, az_blob_request_release);
	kref_put(&req->kref, az_blob_request_release);
	az_blob_test_dev_idle(test, dev);
}

/* A user at either bound waits; a user with nothing in flight never. */
static void az_blob_test_user_limit(struct kunit *test)
{
	struct az_blob_device *dev = az_blob_test_dev(test);
	struct az_blob_request *req = az_blob_test_sent(test, dev);
	struct az_blob_request *next = az_blob_test_req(test, dev);
	struct az_blob_user *user = req->user;
	unsigned long pages = user->pages;

	user->requests = AZ_BLOB_USER_MAX_REQUESTS;
	KUNIT_EXPECT_FALSE(test, az_blob_user_charge(dev, user, next));
	user->requests = 1;
	user->pages = AZ_BLOB_USER_MAX_PAGES;
	KUNIT_EXPECT_FALSE(test, az_blob_user_charge(dev, user, next));
	KUNIT_EXPECT_NULL(test, next->user);

	/* Not running: the wait ends uncharged, with the state's errno. */
	dev->state = AZ_BLOB_SUSPENDED;
	KUNIT_EXPECT_TRUE(test, az_blob_user_charge(dev, user, next));
	KUNIT_EXPECT_NULL(test, next->user);
	KUNIT_EXPECT_EQ(test, az_blob_state_errno(dev), -EAGAIN);
	dev->state = AZ_BLOB_RUNNING;

	user->pages = pages;
	KUNIT_EXPECT_TRUE(test, az_blob_user_charge(dev, user, next));
	KUNIT_EXPECT_PTR_EQ(test, next->user, user);
	KUNIT_EXPECT_EQ(test, user->requests, 2);
	/* Charging took no reference of its own: hand it the test's one. */
	user->refs++;
	spin_lock_bh(&dev->lock);
	az_blob_unadmit(dev, next);
	spin_unlock_bh(&dev->lock);
	kref_put(&next->kref, az_blob_request_release);

	az_blob_give_back(dev, req, 0, 0, 0);
	kref_put(&req->kref, az_blob_request_release);
	kref_put(&req->kref, az_blob_request_release);
	az_blob_test_dev_idle(test, dev);
}

/* az_blob_test_valid's request as a FIXED one, on a device with no channel. */
static struct az_blob_request *az_blob_test_fixed_req(struct kunit *test,
						      struct az_blob_device *dev)
{
	struct az_blob_request *req = az_blob_test_req(test, dev);

	req->fixed = true;
	return req;
}

/*
 * The data span (8 KiB from offset 0x800 of a page: three pages) from
 * @nr bvec segments; returns what az_blob_ref_fixed() says of it.
 */
static int az_blob_test_ref(struct az_blob_request *req, struct bio_vec *bv,
			    unsigned int nr)
{
	struct iov_iter iter;

	iov_iter_bvec(&iter, ITER_DEST, bv, nr, 8192);
	return az_blob_ref_fixed(req, &req->spans[AZ_BLOB_BUF_DATA], &iter);
}

/*
 * Three pages in three segments: one reference each, counted in
 * fixed_pages, dirtied and dropped when the request goes.
 */
static void az_blob_test_fixed_refs(struct kunit *test)
{
	struct az_blob_device *dev = az_blob_test_dev(test);
	struct az_blob_request *req = az_blob_test_fixed_req(test, dev);
	struct page *p[3];
	struct bio_vec bv[3];
	int i;

	for (i = 0; i < 3; i++) {
		p[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
	}
	bvec_set_page(&bv[0], p[0], 0x800, 0x800);
	bvec_set_page(&bv[1], p[1], PAGE_SIZE, 0);
	bvec_set_page(&bv[2], p[2], 0x800, 0);
	KUNIT_EXPECT_EQ(test, az_blob_test_ref(req, bv, 3), 0);
	KUNIT_EXPECT_EQ(test, req->spans[AZ_BLOB_BUF_DATA].nr_pinned, 3);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dev->fixed_pages), 3);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_PTR_EQ(test, req->pages[i], p[i]);
		KUNIT_EXPECT_EQ(test, page_ref_count(p[i]), 2);
	}

	/* The host had the pages and may have written them. */
	req->sent = true;
	kref_put(&req->kref, az_blob_request_release);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dev->fixed_pages), 0);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, page_ref_count(p[i]), 1);
		KUNIT_EXPECT_TRUE(test, PageDirty(p[i]));
		ClearPageDirty(p[i]);
		__free_page(p[i]);
	}
	az_blob_test_dev_idle(test, dev);
}

/* One segment of a 4-page folio: three references on the folio. */
static void az_blob_test_fixed_folio(struct kunit *test)
{
	struct az_blob_device *dev = az_blob_test_dev(test);
	struct az_blob_request *req = az_blob_test_fixed_req(test, dev);
	struct page *p = alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
	struct bio_vec bv;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	bvec_set_page(&bv, p, 8192, 0x800);
	KUNIT_EXPECT_EQ(test, az_blob_test_ref(req, &bv, 1), 0);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_PTR_EQ(test, req->pages[i], p + i);
	KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(p)), 4);
	kref_put(&req->kref, az_blob_request_release);
	KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(p)), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&dev->fixed_pages), 0);
	__free_pages(p, 2);
	az_blob_test_dev_idle(test, dev);
}

/*
 * Ranges the host cannot be given as whole pages: -EFAULT, and what was
 * referenced before the fault is dropped with the request.
 */
static void az_blob_test_fixed_gaps(struct kunit *test)
{
	static const struct {
		unsigned int len[3], off[3], nr, referenced;
	} c[] = {
		/* The first page at another offset than the user's. */
		{ { 0x800, PAGE_SIZE, 0x800 }, { 0, 0, 0 }, 3, 0 },
		/* A piece of a page in the middle. */
		{ { 0x800, 0x800, 0x1000 }, { 0x800, 0, 0 }, 3, 1 },
		{ { 0x800, PAGE_SIZE, 0x800 }, { 0x800, 0x100, 0 }, 3, 1 },
		/* Short of the span: 6 KiB of 8. */
		{ { 0x800, PAGE_SIZE, 0 }, { 0x800, 0, 0 }, 2, 2 },
	};
	struct az_blob_device *dev = az_blob_test_dev(test);
	struct page *p[3];
	unsigned int i, k;

	for (k = 0; k < 3; k++) {
		p[k] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p[k]);
	}
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct az_blob_request *req = az_blob_test_fixed_req(test, dev);
		struct bio_vec bv[3];

		for (k = 0; k < c[i].nr; k++)
			bvec_set_page(&bv[k], p[k], c[i].len[k], c[i].off[k]);
		KUNIT_EXPECT_EQ_MSG(test, az_blob_test_ref(req, bv, c[i].nr),
				    -EFAULT, "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, req->spans[AZ_BLOB_BUF_DATA].nr_pinned,
				    c[i].referenced, "case %u", i);
		KUNIT_EXPECT_EQ(test, atomic_long_read(&dev->fixed_pages),
				c[i].referenced);
		kref_put(&req->kref, az_blob_request_release);
		KUNIT_EXPECT_EQ(test, atomic_long_read(&dev->fixed_pages), 0);
		/* Never sent: the host had none of them, none is dirtied. */
		for (k = 0; k < 3; k++) {
			KUNIT_EXPECT_EQ(test, page_ref_count(p[k]), 1);
			KUNIT_EXPECT_FALSE(test, PageDirty(p[k]));
		}
	}
	for (k = 0; k < 3; k++)
		__free_page(p[k]);
	az_blob_test_dev_idle(test, dev);
}

/*
 * A kernel buffer of kmalloc memory: a slab page, or a large kmalloc
 * folio that kfree() frees whatever its references. Neither is taken.
 */
static void az_blob_test_fixed_kmalloc(struct kunit *test)
{
	static const size_t sizes[] = { 64, 4 * PAGE_SIZE };
	struct az_blob_device *dev = az_blob_test_dev(test);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct az_blob_request *req = az_blob_test_fixed_req(test, dev);
		void *buf = kmalloc(sizes[i], GFP_KERNEL);
		struct page *page;
		struct bio_vec bv;

		KUNIT_ASSERT_NOT_NULL(test, buf);
		page = virt_to_page(buf);
		bvec_set_page(&bv, page, 0x800, 0x800);
		KUNIT_EXPECT_EQ_MSG(test, az_blob_test_ref(req, &bv, 1), -EFAULT,
				    "kmalloc(%zu)", sizes[i]);
		KUNIT_EXPECT_EQ(test, req->spans[AZ_BLOB_BUF_DATA].nr_pinned, 0);
		KUNIT_EXPECT_EQ(test, atomic_long_read(&dev->fixed_pages), 0);
		kref_put(&req->kref, az_blob_request_release);
		kfree(buf);
	}
	az_blob_test_dev_idle(test, dev);
}

static struct kunit_case az_blob_test_cases[] = {
	KUNIT_CASE(az_blob_test_valid_args),
	KUNIT_CASE(az_blob_test_no_data),
	KUNIT_CASE(az_blob_test_einval),
	KUNIT_CASE(az_blob_test_e2big),
	KUNIT_CASE(az_blob_test_efault),
	KUNIT_CASE(az_blob_test_host_reads),
	KUNIT_CASE(az_blob_test_range_layout),
	KUNIT_CASE(az_blob_test_range_layout_64k),
	KUNIT_CASE(az_blob_test_completion),
	KUNIT_CASE(az_blob_test_ids),
	KUNIT_CASE(az_blob_test_give_back_waiting),
	KUNIT_CASE(az_blob_test_abandon_then_give_back),
	KUNIT_CASE(az_blob_test_fail_pending),
	KUNIT_CASE(az_blob_test_user_limit),
	KUNIT_CASE(az_blob_test_fixed_refs),
	KUNIT_CASE(az_blob_test_fixed_folio),
	KUNIT_CASE(az_blob_test_fixed_gaps),
	KUNIT_CASE(az_blob_test_fixed_kmalloc),
	{}
};

static struct kunit_suite az_blob_test_suite = {
	.name = "hv_azure_blob",
	.test_cases = az_blob_test_cases,
};

kunit_test_suite(az_blob_test_suite);
