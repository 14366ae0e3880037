/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CRC-64/NVME, the CRC Azure Storage calls CRC-64 (x-ms-content-crc64):
 * reflected polynomial 0x9A6C9329AC4BC9B5, initial value and final xor all
 * ones; "123456789" gives 0xAE8B14860A799888. The request and response
 * buffers of the Blob service (HsReq001/HsRes001) carry it too.
 */
#ifndef AZ_BLOB_HOST_CRC64_H
#define AZ_BLOB_HOST_CRC64_H

#include <stddef.h>
#include <stdint.h>

#define AZ_CRC64_CHECK	0xAE8B14860A799888ULL

/*
 * The CRC of @len bytes at @buf, continuing @crc: the CRC of the bytes
 * before them, 0 for the first piece. az_crc64(az_crc64(0, a, n), b, m) is
 * the CRC of a followed by b.
 */
uint64_t az_crc64(uint64_t crc, const void *buf, size_t len);

#endif /* AZ_BLOB_HOST_CRC64_H */
