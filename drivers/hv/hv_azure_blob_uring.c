// SPDX-License-Identifier: GPL-2.0
/*
 * hv_azure_blob: asynchronous requests through io_uring (IORING_OP_URING_CMD).
 *
 * A command is the same request as the ioctl's, on the same path to the
 * host; only its end differs. Who posts the CQE is decided once, under the
 * device lock (@armed, @ready and @posted of struct az_blob_request):
 *
 * - the issue, when the host gave the request back before the issue was
 *   over (the command could not be completed before it was armed);
 * - the host's completion, through task work, never from softirq;
 * - io_uring's cancellation at ring exit or exec (-ECANCELED);
 * - the closing of the channel by remove, suspend or a reset, which gives
 *   the request back like the host does (-ENODEV, -EAGAIN, -ETIMEDOUT).
 *
 * Whoever posts drops the command's reference to the request; the host's
 * reference keeps the pages (pinned, or referenced in a registered buffer)
 * until the host gave the request back or the channel was closed, whatever
 * happened to the CQE. A kernel whose io_uring cannot cancel a command
 * waits for it at ring exit, so every command carries a timeout the host
 * enforces, and a host that overstays it by %AZ_BLOB_URING_GRACE_MS gets its
 * channel reset: after the close the host no longer touches the pages.
 */

#include <linux/io_uring/cmd.h>
#include <linux/jiffies.h>
#include <linux/uio.h>

#include "hv_azure_blob.h"
#include "hv_azure_blob_trace.h"

/**
 * struct az_blob_cmd_pdu - What the driver keeps in the command.
 * @req: The request; valid until the CQE is posted.
 */
struct az_blob_cmd_pdu {
	struct az_blob_request *req;
};

static struct az_blob_request *az_blob_cmd_req(struct io_uring_cmd *cmd)
{
	return io_uring_cmd_to_pdu(cmd, struct az_blob_cmd_pdu)->req;
}

/*
 * Post the CQE and drop the command's reference. The caller won @posted.
 * @ret is 0 when the host completed the request.
 */
static void az_blob_cmd_done(struct az_blob_request *req, int ret,
			     unsigned int issue_flags)
{
	struct io_uring_cmd *cmd = req->cmd;
	u64 res2 = 0;

	if (!ret)
		res2 = req->status | (u64)req->response_len << 32;
	req->cmd = NULL;
	io_uring_cmd_done32(cmd, ret, res2, issue_flags);
	kref_put(&req->kref, az_blob_request_release);
}

/* Task work queued by az_blob_cmd_complete(): the host gave it back. */
static void az_blob_cmd_tw(struct io_tw_req tw_req, io_tw_token_t tw)
{
	struct io_uring_cmd *cmd = io_uring_cmd_from_tw(tw_req);
	struct az_blob_request *req = az_blob_cmd_req(cmd);

	/* Also when the task is dying: the command must end. */
	az_blob_cmd_done(req, req->error, IO_URING_CMD_TASK_WORK_ISSUE_FLAGS);
	/* The host's reference, handed over by az_blob_cmd_complete(). */
	kref_put(&req->kref, az_blob_request_release);
}

/*
 * &az_blob_request.complete of a command; the device lock is held, maybe in
 * softirq context. Queues the CQE unless the issue is not over yet (it
 * posts it then) or the CQE was posted already (cancelled).
 */
static bool az_blob_cmd_complete(struct az_blob_request *req)
{
	req->ready = true;
	if (!req->armed || req->posted)
		return false;
	req->posted = true;
	io_uring_cmd_complete_in_task(req->cmd, az_blob_cmd_tw);
	return true;
}

/*
 * Ring exit or exec (IO_URING_F_CANCEL), under the ring's lock. The host
 * may still own the pages: the request keeps them, the CQE goes now.
 */
static int az_blob_cmd_cancel(struct io_uring_cmd *cmd,
			      unsigned int issue_flags)
{
	struct az_blob_request *req = az_blob_cmd_req(cmd);
	struct az_blob_device *dev = req->dev;
	bool post;

	spin_lock_bh(&dev->lock);
	post = !req->posted;
	req->posted = true;
	spin_unlock_bh(&dev->lock);

	/* Else the task work that posts is queued and io_uring runs it. */
	if (post) {
		atomic64_inc(&dev->stats.cancelled);
		trace_az_blob_complete(req, -ECANCELED, true);
		az_blob_cmd_done(req, -ECANCELED, issue_flags);
	}
	return 0;
}

/*
 * The registration pinned the pages of a registered buffer already, but
 * only for as long as the buffer stays registered: the request takes page
 * references of its own, which outlive an unregistration while the host
 * owns the pages.
 */
static int az_blob_import_fixed(struct az_blob_request *req,
				struct io_uring_cmd *cmd,
				unsigned int issue_flags)
{
	int i;

	for (i = 0; i < AZ_BLOB_NR_BUFS; i++) {
		struct az_blob_span *s = &req->spans[i];
		struct iov_iter iter;
		int ret;

		if (!s->len)
			continue;
		ret = io_uring_cmd_import_fixed(s->addr, s->len,
						s->write ? ITER_DEST : ITER_SOURCE,
						&iter, cmd, issue_flags);
		if (!ret)
			ret = az_blob_ref_fixed(req, s, &iter);
		if (ret)
			return ret;
	}
	return 0;
}

static int az_blob_cmd_check(struct io_uring_cmd *cmd,
			     unsigned int issue_flags)
{
	const unsigned int big = IO_URING_F_SQE128 | IO_URING_F_CQE32;

	if (cmd->cmd_op != AZ_BLOB_URING_CMD_REQUEST)
		return -ENOTTY;
	/*
	 * No polling: VMBus completes in its interrupt path only. io_uring
	 * runs a command of an IOPOLL ring as an ordinary one when the file
	 * cannot poll (7.x), so the ring's setup is what says it.
	 */
	if ((issue_flags & big) != big || (issue_flags & IO_URING_F_IOPOLL) ||
	    (cmd_to_io_kiocb(cmd)->ctx->flags & IORING_SETUP_IOPOLL))
		return -EOPNOTSUPP;
	if (cmd->flags & IORING_URING_CMD_MASK & ~IORING_URING_CMD_FIXED)
		return -EINVAL;
	return 0;
}

/**
 * az_blob_uring_cmd() - &file_operations.uring_cmd of /dev/azure_blob.
 * @cmd: The command.
 * @issue_flags: io_uring's issue flags.
 *
 * Validates a copy of the SQE's payload as the ioctl does, pins the
 * buffers (or takes references in a registered buffer) and sends the
 * request. Without blocking (%IO_URING_F_NONBLOCK), a request that would
 * wait for admission or for its turn to send returns -EAGAIN, and io_uring
 * issues it again from a worker that may wait. Issued with the ring's lock
 * held but allowed to block (6.12, see compat), it does not wait for its
 * user's bound, and its CQE says -EAGAIN; any other -EAGAIN goes into the
 * CQE too, so that io_uring never issues it again from the SQE.
 *
 * Return: -EIOCBQUEUED once sent, else the errno the CQE carries.
 */
int az_blob_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct az_blob_device *dev = cmd->file->private_data;
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	enum az_blob_wait wait = AZ_BLOB_WAIT;
	struct az_blob_request_sync args;
	struct az_blob_request *req;
	bool post;
	int ret;

	if (issue_flags & IO_URING_F_CANCEL)
		return az_blob_cmd_cancel(cmd, issue_flags);

	ret = az_blob_cmd_check(cmd, issue_flags);
	if (ret)
		return ret;
	/* The SQE may be in memory the caller writes: read it once. */
	memcpy(&args, io_uring_sqe128_cmd(cmd->sqe, struct az_blob_request_sync),
	       sizeof(args));
	ret = az_blob_check_args(&args, spans);
	if (ret)
		return ret;
	if (!args.timeout || args.timeout > AZ_BLOB_URING_MAX_TIMEOUT)
		return -EINVAL;

	if (READ_ONCE(dev->state) == AZ_BLOB_GONE)
		return -ENODEV;

	req = az_blob_request_alloc(dev, &args, spans);
	if (!req)
		return -ENOMEM;
	req->complete = az_blob_cmd_complete;
	req->async = true;
	req->cmd = cmd;
	req->fixed = cmd->flags & IORING_URING_CMD_FIXED;
	io_uring_cmd_to_pdu(cmd, struct az_blob_cmd_pdu)->req = req;

	if (issue_flags & IO_URING_F_NONBLOCK)
		wait = AZ_BLOB_NOWAIT;
	else if (!(issue_flags & IO_URING_F_UNLOCKED))
		wait = AZ_BLOB_WAIT_LOCKED;
	ret = az_blob_admit(dev, req, wait);
	if (!ret)
		ret = req->fixed ? az_blob_import_fixed(req, cmd, issue_flags) :
				   az_blob_pin(req);
	if (!ret)
		ret = az_blob_send(dev, req, wait);
	if (ret) {
		spin_lock_bh(&dev->lock);
		az_blob_unadmit(dev, req);
		spin_unlock_bh(&dev->lock);
		req->cmd = NULL;
		kref_put(&req->kref, az_blob_request_release);
		if (ret != -EAGAIN || wait == AZ_BLOB_NOWAIT)
			return ret;
		io_uring_cmd_done32(cmd, ret, 0, issue_flags);
		return -EIOCBQUEUED;
	}
	az_blob_watch(dev);

	/*
	 * From here on the command ends only through io_uring_cmd_done*().
	 * Issued from io-wq, it may be cancelled as soon as it is marked, and
	 * the host may give the request back meanwhile: keep it alive.
	 */
	kref_get(&req->kref);
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
	spin_lock_bh(&dev->lock);
	req->armed = true;
	post = req->ready && !req->posted;
	if (post)
		req->posted = true;
	spin_unlock_bh(&dev->lock);
	if (post)
		az_blob_cmd_done(req, req->error, issue_flags);
	kref_put(&req->kref, az_blob_request_release);
	return -EIOCBQUEUED;
}

/*
 * A command was sent, or may still be pending: make sure its deadline is
 * looked at. Never once the device stopped running: remove cancels the
 * watchdog after the state changed, and nothing may queue it again.
 */
void az_blob_watch(struct az_blob_device *dev)
{
	spin_lock_bh(&dev->lock);
	if (dev->state == AZ_BLOB_RUNNING)
		queue_delayed_work(system_dfl_wq, &dev->watchdog,
				   msecs_to_jiffies(AZ_BLOB_WATCHDOG_MS));
	spin_unlock_bh(&dev->lock);
}

/*
 * Marks the commands the host holds past their deadline, and has the
 * channel reset if there is one. Runs while commands are pending.
 */
void az_blob_watchdog(struct work_struct *work)
{
	struct az_blob_device *dev =
		container_of(to_delayed_work(work), struct az_blob_device,
			     watchdog);
	struct az_blob_request *req;
	bool overdue = false, more = false;

	spin_lock_bh(&dev->lock);
	if (dev->state == AZ_BLOB_RUNNING) {
		list_for_each_entry(req, &dev->pending, node) {
			if (!req->async)
				continue;
			if (time_after_eq(jiffies, req->deadline)) {
				if (!req->overdue)
					atomic64_inc(&dev->stats.overdue);
				req->overdue = true;
				overdue = true;
			} else {
				more = true;
			}
		}
	}
	spin_unlock_bh(&dev->lock);

	if (overdue)
		queue_work(system_dfl_wq, &dev->reset_work);
	else if (more)
		az_blob_watch(dev);
}

/*
 * A host that holds a command past its deadline broke its contract: only
 * closing the channel makes sure it no longer writes the pages. The
 * overdue commands end with -ETIMEDOUT, everything else the host held with
 * -EAGAIN (it may or may not have been carried out), and the channel is
 * opened again.
 */
void az_blob_reset_work(struct work_struct *work)
{
	struct az_blob_device *dev =
		container_of(work, struct az_blob_device, reset_work);
	struct az_blob_request *req;
	bool overdue = false;

	mutex_lock(&dev->state_mutex);
	spin_lock_bh(&dev->lock);
	if (dev->state == AZ_BLOB_RUNNING)
		list_for_each_entry(req, &dev->pending, node)
			overdue |= req->overdue;
	spin_unlock_bh(&dev->lock);

	if (overdue) {
		dev_warn(&dev->hdev->device,
			 "the host held a request %u ms past its timeout; resetting the channel\n",
			 AZ_BLOB_URING_GRACE_MS);
		atomic64_inc(&dev->stats.resets);
		az_blob_quiesce(dev, AZ_BLOB_SUSPENDED, -EAGAIN, false);
		az_blob_reopen(dev);
	}
	mutex_unlock(&dev->state_mutex);
	/* The host gave the overdue ones back meanwhile: watch the rest. */
	if (!overdue)
		az_blob_watch(dev);
}
