/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Azure Blob accelerated access through the Hyper-V host.
 *
 * User ABI of /dev/azure_blob: one ioctl that hands a request, a response
 * and an optional data buffer to the host's Blob service and returns when
 * the host has completed the request.
 */
#ifndef _UAPI_MISC_HV_AZURE_BLOB_H
#define _UAPI_MISC_HV_AZURE_BLOB_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * AZ_BLOB_MAX_LEN - Largest request, response or data buffer, in bytes.
 */
#define AZ_BLOB_MAX_LEN		(32U << 20)

/**
 * AZ_BLOB_MAX_PAGES - Most 4 KiB pages the three buffers may span together.
 *
 * A buffer spans every 4 KiB page it touches; a page shared by two buffers
 * counts once for each of them.
 */
#define AZ_BLOB_MAX_PAGES	8192U

/**
 * AZ_BLOB_HOST_TIMEOUT - &az_blob_request_sync.response.status the host
 * reports when it cancelled a request after its timeout (an HRESULT).
 */
#define AZ_BLOB_HOST_TIMEOUT	0x80070102U

/**
 * AZ_BLOB_DATA_HOST_READS - &az_blob_request_sync.flags: the host only reads
 * the data buffer (an upload).
 *
 * The data buffer is then pinned read-only, so it may be a read-only or
 * file-backed mapping, and it is never marked dirty. Without this flag the
 * data buffer is pinned writable and is dirtied once the host had it.
 */
#define AZ_BLOB_DATA_HOST_READS	(1U << 0)

/**
 * AZ_BLOB_FLAGS_ALL - Every flag this ABI defines; any other bit is refused.
 */
#define AZ_BLOB_FLAGS_ALL	AZ_BLOB_DATA_HOST_READS

/**
 * struct az_blob_request_sync - One request to the host's Blob service.
 * @guid: Caller's transaction id, passed to the host verbatim for tracing.
 * @timeout: Milliseconds after which the host cancels the request and
 *           completes it with %AZ_BLOB_HOST_TIMEOUT; 0 means no limit.
 * @request_len: Length of @request_buffer in bytes; not 0.
 * @response_len: Length of @response_buffer in bytes; not 0.
 * @data_len: Length of @data_buffer in bytes; 0 when there is no data.
 * @data_valid: Bytes at the start of @data_buffer that hold input for the
 *              host; at most @data_len.
 * @flags: 0 or %AZ_BLOB_DATA_HOST_READS.
 * @request_buffer: User address of the request, which the host reads.
 * @response_buffer: User address of the response, which the host writes.
 * @data_buffer: User address of the data, which the host reads and, unless
 *               @flags has %AZ_BLOB_DATA_HOST_READS, may write; ignored
 *               when @data_len is 0.
 * @response: Filled in by the driver when the ioctl succeeds; the only part
 *            of the structure copied back to the caller.
 * @response.status: The host's status for the request; 0 on success.
 * @response.response_len: Bytes the host wrote at the start of
 *                         @response_buffer; at most @response_len.
 *
 * The layout is the same for 32-bit and 64-bit callers. The buffers may be
 * anywhere in the caller's memory and may share pages; the request buffer
 * (and with %AZ_BLOB_DATA_HOST_READS the data buffer) may be read-only, the
 * others must be writable.
 */
struct az_blob_request_sync {
	__u8 guid[16];
	__u32 timeout;
	__u32 request_len;
	__u32 response_len;
	__u32 data_len;
	__u32 data_valid;
	__u32 flags;
	__aligned_u64 request_buffer;
	__aligned_u64 response_buffer;
	__aligned_u64 data_buffer;
	struct {
		__u32 status;
		__u32 response_len;
	} response;
};

#define AZ_BLOB_MAGIC_NUMBER	'R'

/**
 * IOCTL_AZ_BLOB_DRIVER_USER_REQUEST - Submit a request and wait for the host.
 *
 * Takes a pointer to &struct az_blob_request_sync on an fd of
 * /dev/azure_blob (or of a further device, /dev/azure_blob<N>). Pins the
 * three buffers, hands them to the host, sleeps until the host completes the
 * request, then writes &az_blob_request_sync.response. Process context; may
 * sleep for as long as the host takes: the host enforces
 * &az_blob_request_sync.timeout, the driver keeps no timer. The call never
 * returns while the host may still write the buffers. A fatal signal ends
 * the wait at once; the buffers then stay pinned until the host completes
 * the request or the device goes away. The caller may be frozen while it
 * waits.
 *
 * One user may have at most a quarter of the host's request slots (256) and
 * 1 GiB of buffers in flight on a device; beyond that, the user's next call
 * waits for its own earlier ones.
 *
 * Return: 0 when the host completed the request; its own result is in
 * &az_blob_request_sync.response.status. Otherwise -1 with errno:
 *
 * * ``EINVAL`` - @flags has a bit outside %AZ_BLOB_FLAGS_ALL, @request_len
 *   or @response_len is 0, @data_valid is larger than @data_len, or a
 *   buffer with a non-zero length has a zero address.
 * * ``E2BIG`` - a length is above %AZ_BLOB_MAX_LEN, or the buffers span more
 *   than %AZ_BLOB_MAX_PAGES pages together.
 * * ``EFAULT`` - the structure or a buffer is not mapped with the access the
 *   host needs, or is a mapping the kernel cannot pin for long: from Linux
 *   6.5, a writable shared mapping of a file on a filesystem that tracks
 *   dirty pages (use %AZ_BLOB_DATA_HOST_READS for uploads from such a
 *   mapping, and anonymous or tmpfs memory to download into).
 * * ``EOPNOTSUPP`` - a buffer is in a filesystem DAX mapping.
 * * ``ENOMEM`` - the driver could not allocate its request, or a page could
 *   not be moved out of a movable zone or CMA to be pinned.
 * * ``EBUSY`` - the host's queue stayed full; try again.
 * * ``EIO`` - the host answered with a malformed completion.
 * * ``ENODEV`` - the device was removed, or is being removed.
 * * ``EAGAIN`` - the device is suspended for hibernation, or was suspended
 *   while the host held the request, which the host may or may not have
 *   carried out; also while, and because, the channel is reset after the
 *   host overstayed an asynchronous request's deadline.
 * * ``EINTR`` - a fatal signal ended the wait (the caller never sees it).
 * * ``ENOTTY`` - not this ioctl.
 */
#define IOCTL_AZ_BLOB_DRIVER_USER_REQUEST \
	_IOWR(AZ_BLOB_MAGIC_NUMBER, 0xf0, struct az_blob_request_sync)

/**
 * AZ_BLOB_URING_CMD_REQUEST - &io_uring_sqe.cmd_op of an asynchronous request.
 *
 * Submitted with ``IORING_OP_URING_CMD`` on an fd of /dev/azure_blob, on a
 * ring set up with ``IORING_SETUP_SQE128`` and ``IORING_SETUP_CQE32`` and
 * without ``IORING_SETUP_IOPOLL``. The 80-byte command area of the SQE
 * (``sqe->cmd``) holds a &struct az_blob_request_sync; its @response member
 * is ignored. The driver copies the command area once when the SQE is
 * issued: the caller may reuse the SQE at once, but the three buffers
 * belong to the host until the CQE is posted.
 *
 * The same checks as for %IOCTL_AZ_BLOB_DRIVER_USER_REQUEST apply, plus one:
 * &az_blob_request_sync.timeout must be 1 to %AZ_BLOB_URING_MAX_TIMEOUT, so
 * that the host ends every command before io_uring gives up waiting for it
 * when the ring is torn down.
 *
 * ``sqe->uring_cmd_flags`` may hold ``IORING_URING_CMD_FIXED``: the three
 * buffers must then all lie inside the registered buffer ``sqe->buf_index``,
 * and the driver takes page references instead of pinning them again.
 * Read-only memory cannot be registered; a read-only request buffer goes
 * without the flag.
 *
 * The CQE: ``res`` is 0 when the host completed the request, else a
 * negative errno: those of the ioctl, and
 *
 * * ``EOPNOTSUPP`` - the ring lacks SQE128 or CQE32, or is an IOPOLL ring.
 * * ``EINVAL`` - ``sqe->uring_cmd_flags`` has an unknown bit, or the timeout
 *   is out of range.
 * * ``ECANCELED`` - the ring was torn down (or its task called exec) while
 *   the host held the request; the buffers stay pinned until the host is
 *   done with them.
 * * ``ETIMEDOUT`` - the host kept the request %AZ_BLOB_URING_GRACE_MS past
 *   its timeout; the driver reset the channel, after which the host no
 *   longer touches the buffers. Other requests the host held then end with
 *   ``EAGAIN``.
 *
 * When ``res`` is 0, ``big_cqe[0]`` holds the host's status in its low 32
 * bits and the length of the response it wrote in its high 32 bits: see
 * AZ_BLOB_CQE_STATUS() and AZ_BLOB_CQE_RESPONSE_LEN().
 *
 * Never valid as an ioctl (``ENOTTY``).
 */
#define AZ_BLOB_URING_CMD_REQUEST \
	_IOWR(AZ_BLOB_MAGIC_NUMBER, 0xf1, struct az_blob_request_sync)

/**
 * AZ_BLOB_URING_MAX_TIMEOUT - Longest &az_blob_request_sync.timeout of an
 * asynchronous request, in milliseconds (4 minutes).
 */
#define AZ_BLOB_URING_MAX_TIMEOUT	240000U

/**
 * AZ_BLOB_URING_GRACE_MS - How long past its timeout the driver lets the
 * host hold an asynchronous request before it resets the channel.
 */
#define AZ_BLOB_URING_GRACE_MS		15000U

/**
 * AZ_BLOB_CQE_STATUS - The host's status, from ``big_cqe[0]`` of a CQE.
 * @res2: ``big_cqe[0]``.
 */
#define AZ_BLOB_CQE_STATUS(res2)	((__u32)(res2))

/**
 * AZ_BLOB_CQE_RESPONSE_LEN - Response bytes, from ``big_cqe[0]`` of a CQE.
 * @res2: ``big_cqe[0]``.
 */
#define AZ_BLOB_CQE_RESPONSE_LEN(res2)	((__u32)((__u64)(res2) >> 32))

#endif /* _UAPI_MISC_HV_AZURE_BLOB_H */
