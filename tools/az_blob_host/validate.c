// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of a Blob VSP request packet, as the real host does it
 * (PROTOCOL.md), in the order of the in-guest simulator's blob_validate().
 */
#include <endian.h>
#include <string.h>

#include "gpa.h"
#include "validate.h"

static const char *const az_pkt_errs[AZ_PKT_NR_STATUS] = {
	[AZ_PKT_OK] = "ok",
	[AZ_PKT_SHORT] = "shorter than a descriptor",
	[AZ_PKT_LEN] = "packet length below a descriptor or beyond the record",
	[AZ_PKT_TYPE] = "packet type not GPA direct",
	[AZ_PKT_FLAGS] = "packet flags not completion-requested",
	[AZ_PKT_DESC] = "descriptor size outside the packet",
	[AZ_PKT_RANGECOUNT] = "rangecount not 1",
	[AZ_PKT_INLINE] = "inline data not the 56-byte request",
	[AZ_PKT_RANGE_OFFSET] = "range offset not 0",
	[AZ_PKT_TOO_MANY_PFNS] = "more than 8192 pfns",
	[AZ_PKT_RANGE_LEN] = "range len not pfns x 4096",
	[AZ_PKT_VERSION] = "request version not 0",
	[AZ_PKT_OPERATION] = "operation_type not 0x100",
	[AZ_PKT_NO_REQUEST] = "request_buffer_length 0",
	[AZ_PKT_NO_RESPONSE] = "response_buffer_length 0",
	[AZ_PKT_DATA_VALID] = "data_buffer_valid above data_buffer_length",
	[AZ_PKT_REQUEST_RANGE] = "request buffer outside the range",
	[AZ_PKT_RESPONSE_RANGE] = "response buffer outside the range",
	[AZ_PKT_DATA_RANGE] = "data buffer outside the range",
	[AZ_PKT_BAD_PFN] = "pfn outside guest RAM",
};

const char *az_pkt_strerror(enum az_pkt_status s)
{
	if ((unsigned int)s < AZ_PKT_NR_STATUS && az_pkt_errs[s])
		return az_pkt_errs[s];
	return "unknown";
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

uint64_t az_packet_pfn(const struct az_packet *p, uint32_t i)
{
	return get64(p->pfns + (size_t)i * 8);
}

static void az_decode_req(const uint8_t *b, struct az_wire_req *w)
{
	w->version = get32(b + 0);
	w->timeout_ms = get32(b + 4);
	w->data_offset = get32(b + 8);
	w->data_length = get32(b + 12);
	w->data_valid = get32(b + 16);
	w->operation_type = get32(b + 20);
	w->request_offset = get32(b + 24);
	w->request_length = get32(b + 28);
	w->response_offset = get32(b + 32);
	w->response_length = get32(b + 36);
	memcpy(w->transaction_id, b + 40, sizeof(w->transaction_id));
}

static int az_buf_inside(uint32_t off, uint32_t len, uint32_t range_len)
{
	return (uint64_t)off + len <= range_len;
}

enum az_pkt_status az_packet_parse(const uint8_t *buf, size_t buflen,
				   struct az_packet *p)
{
	const struct az_wire_req *w = &p->req;
	uint32_t desc_size;

	memset(p, 0, sizeof(*p));
	if (buflen < AZ_VMPACKET_DESC_SIZE)
		return AZ_PKT_SHORT;
	p->type = get16(buf + AZ_PKT_OFF_TYPE);
	p->flags = get16(buf + AZ_PKT_OFF_FLAGS);
	p->trans_id = get64(buf + AZ_PKT_OFF_TRANS_ID);
	p->len = (uint32_t)get16(buf + AZ_PKT_OFF_LEN8) * 8;
	if (p->len < AZ_VMPACKET_DESC_SIZE || p->len > buflen)
		return AZ_PKT_LEN;
	if (p->type != AZ_VM_PKT_DATA_USING_GPA_DIRECT)
		return AZ_PKT_TYPE;
	if (p->flags != AZ_VMBUS_FLAG_COMPLETION_REQUESTED)
		return AZ_PKT_FLAGS;
	desc_size = (uint32_t)get16(buf + AZ_PKT_OFF_OFFSET8) * 8;
	if (desc_size < AZ_MPB_HDR_SIZE || desc_size > p->len)
		return AZ_PKT_DESC;
	p->rangecount = get32(buf + AZ_PKT_OFF_RANGECOUNT);
	if (p->rangecount != 1)
		return AZ_PKT_RANGECOUNT;
	if (p->len - desc_size != AZ_BLOB_REQ_SIZE)
		return AZ_PKT_INLINE;
	memcpy(p->raw_req, buf + desc_size, AZ_BLOB_REQ_SIZE);
	az_decode_req(p->raw_req, &p->req);

	p->range_len = get32(buf + AZ_PKT_OFF_RANGE_LEN);
	p->range_offset = get32(buf + AZ_PKT_OFF_RANGE_OFFSET);
	p->nr_pfns = (desc_size - AZ_MPB_HDR_SIZE) / 8;
	p->pfns = buf + AZ_PKT_OFF_PFNS;
	if (p->range_offset)
		return AZ_PKT_RANGE_OFFSET;
	if (p->nr_pfns > AZ_BLOB_MAX_PFNS)
		return AZ_PKT_TOO_MANY_PFNS;
	if ((uint64_t)p->range_len != (uint64_t)p->nr_pfns * AZ_HV_PAGE_SIZE)
		return AZ_PKT_RANGE_LEN;
	if (w->version)
		return AZ_PKT_VERSION;
	if (w->operation_type != AZ_BLOB_OP_USER_REQUEST)
		return AZ_PKT_OPERATION;
	if (!w->request_length)
		return AZ_PKT_NO_REQUEST;
	if (!w->response_length)
		return AZ_PKT_NO_RESPONSE;
	if (w->data_valid > w->data_length)
		return AZ_PKT_DATA_VALID;
	if (!az_buf_inside(w->request_offset, w->request_length, p->range_len))
		return AZ_PKT_REQUEST_RANGE;
	if (!az_buf_inside(w->response_offset, w->response_length,
			   p->range_len))
		return AZ_PKT_RESPONSE_RANGE;
	if (w->data_length &&
	    !az_buf_inside(w->data_offset, w->data_length, p->range_len))
		return AZ_PKT_DATA_RANGE;
	return AZ_PKT_OK;
}
