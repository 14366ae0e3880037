// SPDX-License-Identifier: GPL-2.0
/*
 * Blob request packets, laid out as the Linux VMBus core sends them.
 */
#include <endian.h>
#include <string.h>

#include "pktgen.h"

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

void pktgen_req_bytes(const struct pktgen_req *r, uint8_t out[56])
{
	put32(out + 0, r->version);
	put32(out + 4, r->timeout_ms);
	put32(out + 8, r->data_off);
	put32(out + 12, r->data_len);
	put32(out + 16, r->data_valid);
	put32(out + 20, r->op);
	put32(out + 24, r->req_off);
	put32(out + 28, r->req_len);
	put32(out + 32, r->resp_off);
	put32(out + 36, r->resp_len);
	memcpy(out + 40, r->tid, 16);
}

size_t pktgen_build(uint8_t *out, const uint64_t *pfns, uint32_t nr,
		    const struct pktgen_req *r, uint64_t trans_id)
{
	uint32_t desc_size = 32 + nr * 8;	/* mpb header + pfn_array */
	uint32_t len = desc_size + 56;		/* already 8-byte aligned */
	uint32_t i;

	put16(out + 0, 9);			/* VM_PKT_DATA_USING_GPA_DIRECT */
	put16(out + 2, (uint16_t)(desc_size >> 3));	/* dataoffset8 */
	put16(out + 4, (uint16_t)(len >> 3));		/* length8 */
	put16(out + 6, 1);			/* completion requested */
	put64(out + 8, trans_id);
	put32(out + 16, 0);			/* reserved */
	put32(out + 20, 1);			/* rangecount */
	put32(out + 24, nr * 4096);		/* range.len */
	put32(out + 28, 0);			/* range.offset */
	for (i = 0; i < nr; i++)
		put64(out + 32 + (size_t)i * 8, pfns[i]);
	pktgen_req_bytes(r, out + desc_size);
	return len;
}
