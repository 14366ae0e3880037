/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv_azure_blob's tracepoints: events hv_azure_blob:az_blob_submit and
 * hv_azure_blob:az_blob_complete, for perf, bpftrace and tracefs.
 *
 * hv_azure_blob_main.c defines CREATE_TRACE_POINTS before including this
 * header; it is built with -I to this directory (TRACE_INCLUDE_PATH is .).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hv_azure_blob

#if !defined(_HV_AZURE_BLOB_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _HV_AZURE_BLOB_TRACE_H

#include <linux/tracepoint.h>
#include <linux/types.h>
#include "hv_azure_blob.h"

/*
 * A request's packet went into the ring. @id is the VMBus transaction id,
 * which az_blob_complete reports too (ids are unique per device: a slot's
 * id changes with every use).
 */
TRACE_EVENT(az_blob_submit,
	    TP_PROTO(const struct az_blob_request *req),
	    TP_ARGS(req),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(int, dev)
			     __field(u32, timeout)
			     __field(u32, request_len)
			     __field(u32, response_len)
			     __field(u32, data_len)
			     __field(u32, data_valid)
			     __field(u32, nr_hv_pages)
			     __field(bool, async)
			     __field(bool, fixed)),
	    TP_fast_assign(__entry->id = req->trans_id;
			   __entry->dev = req->dev->index;
			   __entry->timeout = le32_to_cpu(req->pkt.timeout_ms);
			   __entry->request_len = le32_to_cpu(req->pkt.request_buffer_length);
			   __entry->response_len = le32_to_cpu(req->pkt.response_buffer_length);
			   __entry->data_len = le32_to_cpu(req->pkt.data_buffer_length);
			   __entry->data_valid = le32_to_cpu(req->pkt.data_buffer_valid);
			   __entry->nr_hv_pages = req->nr_hv_pages;
			   __entry->async = req->async;
			   __entry->fixed = req->fixed;),
	    TP_printk("dev=%d id=%llu timeout=%u request_len=%u response_len=%u data_len=%u data_valid=%u pages=%u async=%d fixed=%d",
		      __entry->dev, __entry->id, __entry->timeout,
		      __entry->request_len, __entry->response_len,
		      __entry->data_len, __entry->data_valid, __entry->nr_hv_pages,
		      __entry->async, __entry->fixed)
);

/*
 * How request @id ended for its caller: @error is the errno the caller
 * gets (0 when the host answered; -ENODEV, -EAGAIN, -ETIMEDOUT when the
 * channel was closed; -ECANCELED), @status and @response_len the host's
 * answer. @early: the CQE went out while the host still held the request
 * (io_uring's cancellation); the pages stay with the request until the
 * host gives it back, which fires this event once more, with early=0.
 */
TRACE_EVENT(az_blob_complete,
	    TP_PROTO(const struct az_blob_request *req, int error, bool early),
	    TP_ARGS(req, error, early),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(int, dev)
			     __field(int, error)
			     __field(u32, status)
			     __field(u32, response_len)
			     __field(bool, early)),
	    TP_fast_assign(__entry->id = req->trans_id;
			   __entry->dev = req->dev->index;
			   __entry->error = error;
			   __entry->status = early ? 0 : req->status;
			   __entry->response_len = early ? 0 : req->response_len;
			   __entry->early = early;),
	    TP_printk("dev=%d id=%llu error=%d status=%#x response_len=%u early=%d",
		      __entry->dev, __entry->id, __entry->error, __entry->status,
		      __entry->response_len, __entry->early)
);

#endif /* _HV_AZURE_BLOB_TRACE_H */

/* Outside the guard: define_trace.h reads this header again. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE hv_azure_blob_trace
#include <trace/define_trace.h>
