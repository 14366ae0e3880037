/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Build Blob request packets the way the Linux VMBus core lays out a
 * GPA-direct packet (vmbus_sendpacket_mpb_desc() in drivers/hv/channel.c):
 * struct vmbus_packet_mpb_array (descriptor, reserved, rangecount, one
 * struct hv_mpb_array {len, offset, pfn_array[]}) then the 56-byte request
 * at dataoffset8 x 8, the whole padded to 8 bytes.
 */
#ifndef AZ_BLOB_HOST_PKTGEN_H
#define AZ_BLOB_HOST_PKTGEN_H

#include <stddef.h>
#include <stdint.h>

struct pktgen_req {
	uint32_t version;
	uint32_t timeout_ms;
	uint32_t data_off;
	uint32_t data_len;
	uint32_t data_valid;
	uint32_t op;
	uint32_t req_off;
	uint32_t req_len;
	uint32_t resp_off;
	uint32_t resp_len;
	uint8_t tid[16];
};

/* Encode the 56-byte request. */
void pktgen_req_bytes(const struct pktgen_req *r, uint8_t out[56]);

/*
 * Write the packet for @nr PFNs and request @r to @out (room for
 * pktgen_size(@nr) bytes); returns its length (len8 x 8).
 */
size_t pktgen_build(uint8_t *out, const uint64_t *pfns, uint32_t nr,
		    const struct pktgen_req *r, uint64_t trans_id);

static inline size_t pktgen_size(uint32_t nr)
{
	return 32 + (size_t)nr * 8 + 56;
}

#endif /* AZ_BLOB_HOST_PKTGEN_H */
