/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Blob VSP request packet (PROTOCOL.md), parsed and validated as the real
 * host does: a GPA-direct VMBus packet (struct vmbus_packet_mpb_array with
 * its PFN list) requesting a completion, exactly one range of offset 0 and
 * length pfns x 4 KiB, at most 8192 PFNs, followed by the 56-byte request
 * whose three buffers lie inside the range.
 */
#ifndef AZ_BLOB_HOST_VALIDATE_H
#define AZ_BLOB_HOST_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#define AZ_BLOB_MAX_PFNS	8192U
#define AZ_BLOB_REQ_SIZE	56U
#define AZ_BLOB_OP_USER_REQUEST	0x100U

/* include/linux/hyperv.h */
#define AZ_VM_PKT_DATA_USING_GPA_DIRECT	9U
#define AZ_VMBUS_FLAG_COMPLETION_REQUESTED	1U
#define AZ_VMPACKET_DESC_SIZE	16U	/* struct vmpacket_descriptor */
#define AZ_MPB_HDR_SIZE		32U	/* struct vmbus_packet_mpb_array */
/* Largest packet a VMBus descriptor can describe (len8 is a u16). */
#define AZ_VMBUS_MAX_PKT	(0xffffU * 8U)

/* Byte offsets in the packet (struct vmbus_packet_mpb_array). */
#define AZ_PKT_OFF_TYPE		0
#define AZ_PKT_OFF_OFFSET8	2
#define AZ_PKT_OFF_LEN8		4
#define AZ_PKT_OFF_FLAGS	6
#define AZ_PKT_OFF_TRANS_ID	8
#define AZ_PKT_OFF_RESERVED	16
#define AZ_PKT_OFF_RANGECOUNT	20
#define AZ_PKT_OFF_RANGE_LEN	24	/* struct hv_mpb_array: len first */
#define AZ_PKT_OFF_RANGE_OFFSET	28
#define AZ_PKT_OFF_PFNS		32

/**
 * struct az_wire_req - The 56-byte request, decoded to host order.
 */
struct az_wire_req {
	uint32_t version;
	uint32_t timeout_ms;
	uint32_t data_offset;
	uint32_t data_length;
	uint32_t data_valid;
	uint32_t operation_type;
	uint32_t request_offset;
	uint32_t request_length;
	uint32_t response_offset;
	uint32_t response_length;
	uint8_t transaction_id[16];
};

/**
 * struct az_packet - A packet as received, from the host's own copy.
 * @type: Descriptor type.
 * @flags: Descriptor flags.
 * @trans_id: Descriptor transaction id (the relay's business, not ours).
 * @len: Bytes of the packet (len8 x 8).
 * @rangecount: Ranges in the packet.
 * @range_offset: The range's offset field.
 * @range_len: The range's len field.
 * @nr_pfns: PFNs in the range.
 * @pfns: @nr_pfns little-endian u64, inside the copy that was parsed.
 * @raw_req: The 56 request bytes as they were.
 * @req: Them decoded.
 */
struct az_packet {
	uint16_t type;
	uint16_t flags;
	uint64_t trans_id;
	uint32_t len;
	uint32_t rangecount;
	uint32_t range_offset;
	uint32_t range_len;
	uint32_t nr_pfns;
	const uint8_t *pfns;
	uint8_t raw_req[AZ_BLOB_REQ_SIZE];
	struct az_wire_req req;
};

/* Why a packet is refused: the first check it fails, in this order. */
enum az_pkt_status {
	AZ_PKT_OK = 0,
	AZ_PKT_SHORT,		/* fewer bytes than a descriptor */
	AZ_PKT_LEN,		/* len8 x 8 below a descriptor or beyond the bytes */
	AZ_PKT_TYPE,		/* not VM_PKT_DATA_USING_GPA_DIRECT */
	AZ_PKT_FLAGS,		/* not exactly "completion requested" */
	AZ_PKT_DESC,		/* offset8 x 8 below the mpb header or beyond len */
	AZ_PKT_RANGECOUNT,	/* not exactly one range */
	AZ_PKT_INLINE,		/* inline data is not the 56-byte request */
	AZ_PKT_RANGE_OFFSET,	/* range offset not 0 */
	AZ_PKT_TOO_MANY_PFNS,	/* more than 8192 PFNs */
	AZ_PKT_RANGE_LEN,	/* range len not PFNs x 4 KiB */
	AZ_PKT_VERSION,		/* request version not 0 */
	AZ_PKT_OPERATION,	/* operation_type not 0x100 */
	AZ_PKT_NO_REQUEST,	/* request_buffer_length 0 */
	AZ_PKT_NO_RESPONSE,	/* response_buffer_length 0 */
	AZ_PKT_DATA_VALID,	/* data_buffer_valid > data_buffer_length */
	AZ_PKT_REQUEST_RANGE,	/* request buffer outside the range */
	AZ_PKT_RESPONSE_RANGE,	/* response buffer outside the range */
	AZ_PKT_DATA_RANGE,	/* data buffer outside the range */
	AZ_PKT_BAD_PFN,		/* a PFN outside guest RAM (checked by the core) */
	AZ_PKT_NR_STATUS,
};

const char *az_pkt_strerror(enum az_pkt_status s);

/*
 * Parse and check the packet in @buf (@buflen bytes: the relay record's
 * payload, copied by the caller; the packet is its first len8 x 8 bytes).
 * Fills @p as far as it got; AZ_PKT_OK when the packet is valid. PFNs are
 * not checked here: they need the guest's RAM layout.
 */
enum az_pkt_status az_packet_parse(const uint8_t *buf, size_t buflen,
				   struct az_packet *p);

/* PFN @i of a parsed packet. */
uint64_t az_packet_pfn(const struct az_packet *p, uint32_t i);

#endif /* AZ_BLOB_HOST_VALIDATE_H */
