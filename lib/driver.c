// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The driver transport: each request is one IOCTL_AZ_BLOB_DRIVER_USER_REQUEST
 * on /dev/azure_blob (include/uapi/misc/hv_azure_blob.h). The request
 * buffer holds the HsReq001 description the library signed (hsframe.c);
 * the data buffer is the request body, which the host only reads
 * (AZ_BLOB_DATA_HOST_READS, so it may be read-only or file-backed memory),
 * or the memory the response body lands in, straight from the host.
 *
 * The ioctl sleeps until the host completes the request, so requests run
 * in parallel from the worker threads of a transfer (pool.c), all on one
 * file descriptor; the driver and the host bound how many are in flight.
 * A body is at most one driver request (AZB_DRIVER_MAX_BODY, which leaves
 * room in the 8192 pages for the request and response buffers); the
 * transfer code splits larger blobs into blocks and ranges of that size.
 *
 * Asynchronous submission: where the kernel and the device allow it, the
 * same struct az_blob_request_sync goes as an IORING_OP_URING_CMD
 * (AZ_BLOB_URING_CMD_REQUEST) on one SQE128 | CQE32 ring per transport
 * (uring.c), shared by every thread of the context: all of a context's
 * requests are then in flight on one ring, and no thread sleeps in the
 * driver. Chosen when the transport opens (AZBLOB_DRIVER_ASYNC or
 * azblob_ctx_set_driver_async(); auto by default):
 *
 * - auto: set up a ring, check that the kernel knows IORING_OP_URING_CMD,
 *   and probe the device with a command the driver refuses with E2BIG (a
 *   request buffer above AZ_BLOB_MAX_LEN: validated before anything is
 *   pinned or sent). Anything else (ENOSYS, EPERM from
 *   kernel.io_uring_disabled or seccomp, EINVAL from a kernel before 5.19,
 *   EOPNOTSUPP from a driver without ->uring_cmd) keeps the ioctl for the
 *   context's lifetime. Should the first real command still come back
 *   EOPNOTSUPP, the transport falls back to the ioctl then, and repeats
 *   that command through it (nothing was sent).
 * - on: the same checks, and the transport fails to open without them.
 * - off: the ioctl only.
 *
 * A command's timeout must be 1 to AZ_BLOB_URING_MAX_TIMEOUT (4 min) ms:
 * the per-try timeout (30 s plus the body's time at 1 MiB/s by default)
 * is clamped into that range; through the ioctl it goes unchanged.
 * Registered buffers (IORING_URING_CMD_FIXED) are not used: all three
 * buffers of a request would have to lie in one registered buffer, and
 * the library allocates the request, the response and the data apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../include/uapi/misc/hv_azure_blob.h"
#include "hsframe.h"
#include "uring.h"

#define DRV_RESP_LEN		(16 * 1024)	/* Azure heads are ~1 KiB */
#define DRV_RESP_MAX		(2 * 1024 * 1024)
#define DRV_SMALL_BODY		(4 * AZB_MIB)	/* list pages, first try */
/* Commands in flight on the ring at once; more wait for a slot. The
 * driver admits at most 256 per user and device anyway. */
#define DRV_RING_ENTRIES	128

struct drv {
	struct azb_transport t;
	int fd;
	char *device;
	azb_driver_submit_fn submit;
	void *submit_arg;
	enum azblob_driver_async async;
	bool noprobe;
	uint64_t guid_hi;
	atomic_uint_fast64_t seq;
	struct azb_uring *ring;		/* NULL: the ioctl only */
	atomic_bool use_ring;		/* cleared on fallback */
	atomic_bool ring_worked;	/* a command completed through it */
	atomic_ulong n_ring, n_ioctl;
};

static int tfail(struct azb_tfail *f, enum azb_tfail_kind kind,
		 enum azblob_status st, int e, uint32_t host, const char *msg)
{
	f->kind = kind;
	azb_fail(&f->err, st, e, "%s", msg);
	f->err.host_status = host;
	return -1;
}

static int errno_fail(struct drv *d, struct azb_tfail *f, int e)
{
	enum azb_tfail_kind k;
	char msg[256];

	switch (e) {
	case EBUSY:	/* the host's queue stayed full: nothing sent */
	case ENOMEM:	/* the driver could not allocate: nothing sent */
		k = AZB_TF_BUSY;
		break;
	case EAGAIN:	/* suspended: the host may have carried it out */
	case EINTR:
	case ECANCELED:	/* io_uring: the ring went away under it */
		k = AZB_TF_DROPPED;
		break;
	case ETIMEDOUT:	/* io_uring: the host kept it past its timeout
			 * and the driver reset the channel */
		k = AZB_TF_TIMEOUT;
		break;
	default:	/* ENODEV, EIO, E2BIG, EFAULT, EINVAL, ... */
		k = AZB_TF_FATAL;
		break;
	}
	snprintf(msg, sizeof(msg), "driver: %s: %s", d->device, strerror(e));
	return tfail(f, k, AZBLOB_E_DRIVER, e, 0, msg);
}

static int host_fail(struct azb_tfail *f, uint32_t st)
{
	char msg[96];

	switch (st) {
	case HS_CONNECTION_REFUSED:
		return tfail(f, AZB_TF_NOT_SENT, AZBLOB_E_NETWORK, 0, st,
			     "host: cannot connect to the Blob endpoint");
	case HS_CONNECTION_ABORTED:
		return tfail(f, AZB_TF_DROPPED, AZBLOB_E_NETWORK, 0, st,
			     "host: connection to the Blob endpoint dropped");
	case HS_TIMEOUT:
		return tfail(f, AZB_TF_TIMEOUT, AZBLOB_E_TIMEOUT, 0, st,
			     "host: request timed out");
	case HS_OUT_OF_MEMORY:
	case HS_CANCELLED:
		snprintf(msg, sizeof(msg), "host: %s (0x%08x)",
			 st == HS_CANCELLED ? "cancelled" : "out of memory",
			 st);
		return tfail(f, AZB_TF_DROPPED, AZBLOB_E_HOST, 0, st, msg);
	case HS_INVALID_DATA:
	case HS_INVALID_ARG:
	default:
		snprintf(msg, sizeof(msg), "host refused the request: %s (0x%08x)",
			 st == HS_INVALID_DATA ? "invalid data" :
			 st == HS_INVALID_ARG ? "invalid argument" : "status",
			 st);
		return tfail(f, AZB_TF_FATAL, AZBLOB_E_HOST, 0, st, msg);
	}
}

static int proto_fail(struct azb_tfail *f, const char *why)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "host's answer: %s", why);
	return tfail(f, AZB_TF_FATAL, AZBLOB_E_PROTOCOL, 0, 0, msg);
}

/* One command on the ring: 0 with s->response filled, or -1 with errno. */
static int ring_submit(struct drv *d, struct az_blob_request_sync *s)
{
	union azb_sqe128 u;
	uint64_t res2 = 0;
	int32_t res;
	int rc;

	memset(&u, 0, sizeof(u));
	u.sqe.opcode = IORING_OP_URING_CMD;
	u.sqe.fd = d->fd;
	u.sqe.cmd_op = AZ_BLOB_URING_CMD_REQUEST;
	_Static_assert(offsetof(struct io_uring_sqe, cmd) +
		       sizeof(*s) <= sizeof(u), "the command area holds it");
	memcpy(u.sqe.cmd, s, sizeof(*s));
	rc = azb_uring_run(d->ring, &u, &res, &res2);
	if (rc) {
		errno = -rc;
		return -1;
	}
	if (res < 0) {
		errno = -res;
		return -1;
	}
	s->response.status = AZ_BLOB_CQE_STATUS(res2);
	s->response.response_len = AZ_BLOB_CQE_RESPONSE_LEN(res2);
	return 0;
}

static unsigned int ring_timeout(unsigned int ms)
{
	return ms < 1 ? 1 : ms > AZ_BLOB_URING_MAX_TIMEOUT ?
			    AZ_BLOB_URING_MAX_TIMEOUT : ms;
}

static int drv_submit(struct drv *d, struct az_blob_request_sync *s)
{
	if (d->submit)
		return d->submit(d->submit_arg, d->fd, s);
	if (atomic_load(&d->use_ring)) {
		unsigned int t = s->timeout;
		int r;

		s->timeout = ring_timeout(t);
		r = ring_submit(d, s);
		s->timeout = t;
		if (!r) {
			atomic_store(&d->ring_worked, true);
			atomic_fetch_add(&d->n_ring, 1);
			return 0;
		}
		/* The first command came back EOPNOTSUPP (a device without
		 * ->uring_cmd behind the path since the probe, or a ring set
		 * up without probing): the ioctl from now on, this command
		 * included (nothing was sent). */
		if (errno != EOPNOTSUPP || atomic_load(&d->ring_worked) ||
		    d->async == AZBLOB_DRIVER_ASYNC_ON)
			return -1;
		atomic_store(&d->use_ring, false);
	}
	atomic_fetch_add(&d->n_ioctl, 1);
	return ioctl(d->fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, s);
}

static int drv_exec(struct azb_transport *t, const struct azb_req *req,
		    struct azb_resp *resp, unsigned int timeout_ms,
		    struct azb_tfail *f)
{
	struct drv *d = (struct drv *)t;
	bool idem = req->flags & AZB_REQ_IDEMPOTENT;
	struct azb_buf rq = { 0 };
	unsigned char *rb = NULL;
	size_t rlen = DRV_RESP_LEN;
	unsigned char *data = NULL, *own = NULL;
	size_t data_len = 0, data_valid = 0;
	uint32_t flags = 0;
	int rc = -1;

	if (hs_build_request(req, &rq, &f->err)) {
		f->kind = AZB_TF_FATAL;
		return -1;
	}
	if (req->body_len) {
		data = (unsigned char *)(uintptr_t)req->body;
		data_len = data_valid = req->body_len;
		flags = AZ_BLOB_DATA_HOST_READS;
	} else if (req->method == AZB_GET && req->dst) {
		data = req->dst;
		data_len = req->dst_cap;
	} else if (req->method == AZB_GET) {
		data_len = req->body_max && req->body_max < DRV_SMALL_BODY ?
			   req->body_max : DRV_SMALL_BODY;
		data = own = malloc(data_len);
		if (!own)
			goto oom;
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		struct az_blob_request_sync s;
		struct hs_answer a;
		const char *why = NULL;
		uint64_t seq = atomic_fetch_add(&d->seq, 1);
		int r;

		free(rb);
		rb = malloc(rlen);
		if (!rb)
			goto oom;
		memset(&s, 0, sizeof(s));
		memcpy(s.guid, &d->guid_hi, 8);
		memcpy(s.guid + 8, &seq, 8);
		s.timeout = timeout_ms;
		s.request_len = (uint32_t)rq.len;
		s.response_len = (uint32_t)rlen;
		s.data_len = (uint32_t)data_len;
		s.data_valid = (uint32_t)data_valid;
		s.flags = flags;
		s.request_buffer = (uintptr_t)rq.p;
		s.response_buffer = (uintptr_t)rb;
		s.data_buffer = (uintptr_t)data;
		r = drv_submit(d, &s);
		if (r < 0) {
			rc = errno_fail(d, f, errno);
			goto out;
		}
		if (s.response.status != HS_OK &&
		    s.response.status != HS_INSUFFICIENT_BUFFER) {
			rc = host_fail(f, s.response.status);
			goto out;
		}
		if (s.response.response_len > rlen) {
			rc = proto_fail(f, "response_len beyond the buffer");
			goto out;
		}
		azb_resp_reset(resp);
		if (hs_parse_response(rb, s.response.response_len, &a,
				      &resp->hdrs, &resp->body, &why)) {
			rc = proto_fail(f, why);
			goto out;
		}
		if ((s.response.status == HS_INSUFFICIENT_BUFFER) !=
		    a.header_only) {
			rc = proto_fail(f, "status and response length disagree");
			goto out;
		}
		if (a.body_bytes > (data_valid ? 0 : data_len)) {
			rc = proto_fail(f, "more body bytes than the data buffer");
			goto out;
		}
		resp->status = (int)a.http_status;
		if (a.header_only) {
			/* Executed, but the fields did not fit: again with
			 * room for them if repeating is safe. */
			if (idem && a.needed > rlen && a.needed <= DRV_RESP_MAX) {
				rlen = a.needed;
				continue;
			}
		}
		if (data_valid || !data_len) {
			rc = 0;		/* an inline body, if any */
			goto out;
		}
		if (req->dst && resp->status >= 200 && resp->status < 300) {
			if (a.truncated) {
				rc = proto_fail(f, "body longer than the range asked for");
				goto out;
			}
			if (a.have_length && a.content_length != a.body_bytes &&
			    !a.header_only) {
				rc = proto_fail(f, "body shorter than announced");
				goto out;
			}
			resp->dst_len = a.body_bytes;
			rc = 0;
			goto out;
		}
		if (a.truncated && own && idem && a.have_length &&
		    a.content_length <= AZB_MAX_SMALL_BODY &&
		    a.content_length > data_len) {
			unsigned char *bigger = realloc(own, a.content_length);

			if (!bigger)
				goto oom;
			data = own = bigger;
			data_len = a.content_length;
			continue;
		}
		if (a.truncated && resp->status >= 200 && resp->status < 300) {
			rc = proto_fail(f, "answer longer than the data buffer");
			goto out;
		}
		azb_buf_add(&resp->body, data, a.body_bytes);
		if (resp->body.oom)
			goto oom;
		rc = 0;
		goto out;
	}
	rc = proto_fail(f, "answer did not fit after growing the buffers");
	goto out;
oom:
	rc = tfail(f, AZB_TF_FATAL, AZBLOB_E_NOMEM, ENOMEM, 0, "out of memory");
out:
	free(own);
	free(rb);
	azb_buf_free(&rq);
	return rc;
}

static void drv_destroy(struct azb_transport *t)
{
	struct drv *d = (struct drv *)t;

	azb_uring_close(d->ring);
	if (d->fd >= 0)
		close(d->fd);
	free(d->device);
	free(d);
}

/*
 * Whether @fd takes AZ_BLOB_URING_CMD_REQUEST on @ring: a request buffer
 * above AZ_BLOB_MAX_LEN, which the driver refuses with E2BIG before it
 * pins or sends anything. Returns 0 or the errno that says why not.
 */
int azb_driver_probe_ring(struct azb_uring *ring, int fd)
{
	static unsigned char dummy[64];
	struct az_blob_request_sync s;
	union azb_sqe128 u;
	int32_t res;
	int rc;

	if (!azb_uring_op_supported(ring, IORING_OP_URING_CMD))
		return EINVAL;
	memset(&s, 0, sizeof(s));
	s.timeout = 1;
	s.request_len = AZ_BLOB_MAX_LEN + 1;
	s.response_len = sizeof(dummy);
	s.request_buffer = (uintptr_t)dummy;
	s.response_buffer = (uintptr_t)dummy;
	memset(&u, 0, sizeof(u));
	u.sqe.opcode = IORING_OP_URING_CMD;
	u.sqe.fd = fd;
	u.sqe.cmd_op = AZ_BLOB_URING_CMD_REQUEST;
	memcpy(u.sqe.cmd, &s, sizeof(s));
	rc = azb_uring_run(ring, &u, &res, NULL);
	if (rc)
		return -rc;
	if (res == -E2BIG)
		return 0;
	return res < 0 ? -res : EPROTO;
}

/* Set up the ring as @d->async asks. 0, or -1 with @err (forced only). */
static int ring_open(struct drv *d, azblob_error *err)
{
	const char *why;
	int e;

	if (d->async == AZBLOB_DRIVER_ASYNC_OFF || d->submit)
		return 0;
	e = -azb_uring_open(&d->ring, DRV_RING_ENTRIES);
	why = "io_uring_setup (SQE128|CQE32)";
	if (!e && !d->noprobe) {
		e = azb_driver_probe_ring(d->ring, d->fd);
		why = e == EINVAL ? "IORING_OP_URING_CMD" :
				    "AZ_BLOB_URING_CMD_REQUEST";
	}
	if (!e) {
		atomic_store(&d->use_ring, true);
		return 0;
	}
	azb_uring_close(d->ring);
	d->ring = NULL;
	if (d->async != AZBLOB_DRIVER_ASYNC_ON)
		return 0;	/* auto: the ioctl */
	azb_fail(err, AZBLOB_E_UNSUPPORTED, e,
		 "driver: %s: asynchronous requests: %s: %s", d->device, why,
		 strerror(e));
	return -1;
}

void azb_driver_stats(struct azblob_ctx *ctx, struct azb_driver_stats *st)
{
	struct azb_transport *t = atomic_load(&ctx->transport_ready);
	struct drv *d = (struct drv *)t;

	memset(st, 0, sizeof(*st));
	if (!t || t->kind != AZBLOB_TRANSPORT_DRIVER)
		return;
	st->ring = atomic_load(&d->use_ring);
	st->ring_requests = atomic_load(&d->n_ring);
	st->ioctl_requests = atomic_load(&d->n_ioctl);
	if (d->ring) {
		struct azb_uring_stats us;

		azb_uring_get_stats(d->ring, &us);
		st->ring_peak = us.peak;
		st->ring_entries = us.entries;
	}
}

void azb_ctx_set_driver_ring_noprobe(struct azblob_ctx *ctx, bool noprobe)
{
	ctx->driver_ring_noprobe = noprobe;
}

void azb_ctx_set_driver_submit(struct azblob_ctx *ctx, azb_driver_submit_fn fn,
			       void *arg)
{
	ctx->driver_submit = fn;
	ctx->driver_submit_arg = arg;
}

int azb_driver_open(struct azblob_ctx *ctx, struct azb_transport **out,
		    azblob_error *err)
{
	struct drv *d = calloc(1, sizeof(*d));

	if (!d)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	d->t.kind = AZBLOB_TRANSPORT_DRIVER;
	d->t.name = "driver";
	d->t.max_body = AZB_DRIVER_MAX_BODY;
	d->t.exec = drv_exec;
	d->t.destroy = drv_destroy;
	d->fd = -1;
	d->device = strdup(ctx->device);
	d->submit = ctx->driver_submit;
	d->submit_arg = ctx->driver_submit_arg;
	d->async = ctx->driver_async;
	d->noprobe = ctx->driver_ring_noprobe;
	azb_random(&d->guid_hi, sizeof(d->guid_hi));
	if (!d->device) {
		drv_destroy(&d->t);
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	}
	if (!d->submit) {
		d->fd = open(ctx->device, O_RDWR | O_CLOEXEC);
		if (d->fd < 0) {
			int e = errno;

			drv_destroy(&d->t);
			return azb_fail(err, AZBLOB_E_DRIVER, e, "driver: %s: %s",
					ctx->device, strerror(e));
		}
	}
	if (ring_open(d, err)) {
		drv_destroy(&d->t);
		return AZBLOB_E_UNSUPPORTED;
	}
	*out = &d->t;
	return AZBLOB_OK;
}
