// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the pure parts of hv_azure_blob: request validation, the
 * layout of the GPA range, and the checks on what the host sends back.
 * Included by hv_azure_blob.c so that its static functions can be tested.
 */

#include <kunit/test.h>

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
	a.flags = 1;
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
		kunit_skip(test, "layout expectations assume 4 KiB pages");

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

	az_blob_test_pkt_init(&p, VM_PKT_DATA_INBAND, 12, 0, 1);
	KUNIT_EXPECT_EQ(test, az_blob_check_completion(&p.desc, 64, &status,
						       &len), -EIO);

	az_blob_test_pkt_init(&p, VM_PKT_COMP, 12, 0, 65);
	KUNIT_EXPECT_EQ(test, az_blob_check_completion(&p.desc, 64, &status,
						       &len), -EIO);
}

static struct kunit_case az_blob_test_cases[] = {
	KUNIT_CASE(az_blob_test_valid_args),
	KUNIT_CASE(az_blob_test_no_data),
	KUNIT_CASE(az_blob_test_einval),
	KUNIT_CASE(az_blob_test_e2big),
	KUNIT_CASE(az_blob_test_efault),
	KUNIT_CASE(az_blob_test_range_layout),
	KUNIT_CASE(az_blob_test_completion),
	{}
};

static struct kunit_suite az_blob_test_suite = {
	.name = "hv_azure_blob",
	.test_cases = az_blob_test_cases,
};

kunit_test_suite(az_blob_test_suite);
