// SPDX-License-Identifier: GPL-2.0
/*
 * Azure Blob accelerated access through the Hyper-V host.
 *
 * The host's Blob VSP executes Azure Blob requests for the guest over the
 * host's own network stack. This VSC is only the data path: it pins the
 * caller's request, response and data buffers, hands them to the host as one
 * GPA-direct range, and sleeps until the host completes the request. The REST
 * semantics live in a userspace library; the request buffer is opaque here.
 *
 * User space opens /dev/azure_blob (further devices: /dev/azure_blob<N>) and
 * calls IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, see
 * Documentation/userspace-api/hv_azure_blob.rst.
 *
 * Lifetime rules, in short: a request is the host's from the moment its
 * packet may be in the ring until its completion arrives or the channel is
 * closed, and its pages stay pinned for as long. The ioctl returns only
 * after that (or on a fatal signal, when the process is going away): no
 * call hands a live caller back memory the host may still write. The host
 * enforces the caller's timeout; the ioctl keeps no timer of its own.
 * Asynchronous requests through io_uring (hv_azure_blob_uring.c) follow
 * the same rules, and carry a deadline past which the channel is reset.
 *
 * The host contract, for remove and suspend alike: once vmbus_close()
 * returns, the host no longer touches the pages of any request it did not
 * complete. Both first give the host a bounded time to complete what it
 * holds, then close the channel and fail the rest.
 */

#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <asm/mshyperv.h>

#include "hv_azure_blob.h"

#define CREATE_TRACE_POINTS
#include "hv_azure_blob_trace.h"

static DEFINE_IDA(az_blob_ida);
static struct dentry *az_blob_debugfs_root;

static void az_blob_device_release(struct kref *kref)
{
	struct az_blob_device *dev =
		container_of(kref, struct az_blob_device, kref);

	kvfree(dev->send_desc);
	kvfree(dev->ids);
	kfree(dev);
}

void az_blob_device_put(struct az_blob_device *dev)
{
	kref_put(&dev->kref, az_blob_device_release);
}

/*
 * No timer: the host enforces the caller's timeout and completes the
 * request. Only a fatal signal ends the wait early, and the freezer may
 * freeze the caller here.
 */
static int az_blob_wait(struct az_blob_request *req)
{
	return wait_for_completion_state(&req->done,
					 TASK_KILLABLE | TASK_FREEZABLE) ?
		-EINTR : 0;
}

static long az_blob_ioctl_request(struct az_blob_device *dev,
				  struct az_blob_request_sync __user *uargs)
{
	struct az_blob_span spans[AZ_BLOB_NR_BUFS];
	struct az_blob_request_sync args;
	struct az_blob_request *req;
	int ret;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;

	ret = az_blob_check_args(&args, spans);
	if (ret)
		return ret;

	/* Not authoritative (az_blob_send() is); spares a pointless pin. */
	if (READ_ONCE(dev->state) == AZ_BLOB_GONE)
		return -ENODEV;

	req = az_blob_request_alloc(dev, &args, spans);
	if (!req)
		return -ENOMEM;

	ret = az_blob_admit(dev, req, AZ_BLOB_WAIT);
	if (!ret)
		ret = az_blob_pin(req);
	if (!ret)
		ret = az_blob_send(dev, req, AZ_BLOB_WAIT);
	if (ret) {
		spin_lock_bh(&dev->lock);
		az_blob_unadmit(dev, req);
		spin_unlock_bh(&dev->lock);
		goto out;
	}

	ret = az_blob_wait(req);
	if (ret && az_blob_abandon(dev, req)) {
		/* The process is dying; the host still owns the pages. */
		atomic64_inc(&dev->stats.abandoned);
		goto out;
	}
	/* Given back: the host's reference is ours too. */
	kref_put(&req->kref, az_blob_request_release);
	ret = req->error;
	if (!ret) {
		args.response.status = req->status;
		args.response.response_len = req->response_len;
		if (copy_to_user(&uargs->response, &args.response,
				 sizeof(args.response)))
			ret = -EFAULT;
	}
out:
	kref_put(&req->kref, az_blob_request_release);
	return ret;
}

static long az_blob_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct az_blob_device *dev = file->private_data;

	switch (cmd) {
	case IOCTL_AZ_BLOB_DRIVER_USER_REQUEST:
		return az_blob_ioctl_request(dev, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int az_blob_open(struct inode *inode, struct file *file)
{
	struct az_blob_device *dev = container_of(file->private_data,
						  struct az_blob_device, misc);

	/* misc_open() holds misc_mtx: remove has not passed misc_deregister. */
	kref_get(&dev->kref);
	file->private_data = dev;
	return nonseekable_open(inode, file);
}

static int az_blob_release(struct inode *inode, struct file *file)
{
	az_blob_device_put(file->private_data);
	return 0;
}

static const struct file_operations az_blob_fops = {
	.owner = THIS_MODULE,
	.open = az_blob_open,
	.release = az_blob_release,
	.unlocked_ioctl = az_blob_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.uring_cmd = az_blob_uring_cmd,
};

static int az_blob_stats_show(struct seq_file *s, void *unused)
{
	struct az_blob_device *dev = s->private;
	unsigned int outstanding;

	spin_lock_bh(&dev->lock);
	outstanding = dev->nr_pending;
	spin_unlock_bh(&dev->lock);

	seq_printf(s, "outstanding %u\n", outstanding);
	seq_printf(s, "pinned_pages %ld\n", atomic_long_read(&dev->pinned_pages));
	seq_printf(s, "fixed_pages %ld\n", atomic_long_read(&dev->fixed_pages));
	seq_printf(s, "submitted %lld\n", atomic64_read(&dev->stats.submitted));
	seq_printf(s, "completed %lld\n", atomic64_read(&dev->stats.completed));
	seq_printf(s, "abandoned %lld\n", atomic64_read(&dev->stats.abandoned));
	seq_printf(s, "failed %lld\n", atomic64_read(&dev->stats.failed));
	seq_printf(s, "unknown_id %lld\n", atomic64_read(&dev->stats.unknown_id));
	seq_printf(s, "bad_packet %lld\n", atomic64_read(&dev->stats.bad_packet));
	seq_printf(s, "not_completion %lld\n",
		   atomic64_read(&dev->stats.not_completion));
	seq_printf(s, "ring_full %lld\n", atomic64_read(&dev->stats.ring_full));
	seq_printf(s, "cancelled %lld\n", atomic64_read(&dev->stats.cancelled));
	seq_printf(s, "overdue %lld\n", atomic64_read(&dev->stats.overdue));
	seq_printf(s, "resets %lld\n", atomic64_read(&dev->stats.resets));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(az_blob_stats);

/* A device with no channel yet: the state a request's hand-over needs. */
struct az_blob_device *az_blob_device_alloc(void)
{
	struct az_blob_device *dev = kzalloc_obj(*dev, GFP_KERNEL);

	if (!dev)
		return NULL;
	kref_init(&dev->kref);
	spin_lock_init(&dev->lock);
	mutex_init(&dev->state_mutex);
	INIT_DELAYED_WORK(&dev->watchdog, az_blob_watchdog);
	INIT_WORK(&dev->reset_work, az_blob_reset_work);
	INIT_LIST_HEAD(&dev->pending);
	init_waitqueue_head(&dev->drain_wq);
	INIT_LIST_HEAD(&dev->senders);
	init_waitqueue_head(&dev->send_wq);
	INIT_LIST_HEAD(&dev->users);
	init_waitqueue_head(&dev->user_wq);
	init_llist_head(&dev->free_list);
	INIT_WORK(&dev->free_work, az_blob_free_work);
	return dev;
}

static int az_blob_probe(struct hv_device *hdev,
			 const struct hv_vmbus_device_id *dev_id)
{
	struct az_blob_device *dev;
	int ret;

	/*
	 * The host reads guest pages directly; an isolated VM cannot share
	 * them. -ENODEV: the driver core adds no line of its own.
	 */
	if (hv_is_isolation_supported()) {
		dev_err(&hdev->device, "not supported in an isolated VM\n");
		return -ENODEV;
	}

	dev = az_blob_device_alloc();
	if (!dev)
		return -ENOMEM;
	dev->hdev = hdev;
	hv_set_drvdata(hdev, dev);
	dev->ids = az_blob_ids_alloc();
	dev->send_desc = kvmalloc(AZ_BLOB_MAX_SEND_DESC, GFP_KERNEL);
	if (!dev->ids || !dev->send_desc) {
		ret = -ENOMEM;
		goto err_put;
	}

	ret = az_blob_connect(dev);
	if (ret) {
		dev_err(&hdev->device, "cannot open the channel: %d\n", ret);
		goto err_put;
	}

	ret = ida_alloc(&az_blob_ida, GFP_KERNEL);
	if (ret < 0)
		goto err_close;
	dev->index = ret;
	if (dev->index)
		snprintf(dev->name, sizeof(dev->name), "azure_blob%d", dev->index);
	else
		strscpy(dev->name, "azure_blob", sizeof(dev->name));

	dev->debugfs = debugfs_create_dir(dev->name, az_blob_debugfs_root);
	debugfs_create_file("stats", 0400, dev->debugfs, dev,
			    &az_blob_stats_fops);

	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = dev->name;
	dev->misc.fops = &az_blob_fops;
	dev->misc.parent = &hdev->device;
	ret = misc_register(&dev->misc);
	if (ret) {
		dev_err(&hdev->device, "cannot register %s: %d\n", dev->name, ret);
		goto err_debugfs;
	}
	return 0;

err_debugfs:
	debugfs_remove(dev->debugfs);
	ida_free(&az_blob_ida, dev->index);
err_close:
	az_blob_disconnect(dev);
err_put:
	hv_set_drvdata(hdev, NULL);
	az_blob_device_put(dev);
	return ret;
}

static void az_blob_remove(struct hv_device *hdev)
{
	struct az_blob_device *dev = hv_get_drvdata(hdev);

	/* Open files see -ENODEV from the state change on. */
	misc_deregister(&dev->misc);
	mutex_lock(&dev->state_mutex);
	az_blob_quiesce(dev, AZ_BLOB_GONE, -ENODEV, true);
	mutex_unlock(&dev->state_mutex);
	/* Neither re-arms on a device that is gone. */
	cancel_delayed_work_sync(&dev->watchdog);
	cancel_work_sync(&dev->reset_work);

	debugfs_remove(dev->debugfs);
	ida_free(&az_blob_ida, dev->index);
	hv_set_drvdata(hdev, NULL);
	dev->hdev = NULL;
	az_blob_device_put(dev);
}

/*
 * Hibernation: what the host does not complete within the drain time ends
 * with -EAGAIN, so that suspend never fails because of a slow host.
 */
static int az_blob_suspend(struct hv_device *hdev)
{
	struct az_blob_device *dev = hv_get_drvdata(hdev);

	mutex_lock(&dev->state_mutex);
	az_blob_quiesce(dev, AZ_BLOB_SUSPENDED, -EAGAIN, true);
	mutex_unlock(&dev->state_mutex);
	return 0;
}

/* Opens the channel again after a quiesce; the caller holds state_mutex. */
int az_blob_reopen(struct az_blob_device *dev)
{
	int ret;

	ret = az_blob_connect(dev);
	spin_lock_bh(&dev->lock);
	WRITE_ONCE(dev->state, ret ? AZ_BLOB_GONE : AZ_BLOB_RUNNING);
	dev->send_stalled = false;
	/* A sender that waited for room across the close: the ring is new. */
	WRITE_ONCE(dev->host_progress, dev->host_progress + 1);
	spin_unlock_bh(&dev->lock);
	wake_up_all(&dev->send_wq);
	if (ret)
		dev_err(&dev->hdev->device, "cannot reopen the channel: %d\n",
			ret);
	return ret;
}

static int az_blob_resume(struct hv_device *hdev)
{
	struct az_blob_device *dev = hv_get_drvdata(hdev);
	int ret;

	mutex_lock(&dev->state_mutex);
	ret = az_blob_reopen(dev);
	mutex_unlock(&dev->state_mutex);
	return ret;
}

static const struct hv_vmbus_device_id az_blob_id_table[] = {
	{ .guid = GUID_INIT(0x0590b792, 0xdb64, 0x45cc, 0x81, 0xdb,
			    0xb8, 0xd7, 0x0c, 0x57, 0x7c, 0x9e) },
	{ },
};
MODULE_DEVICE_TABLE(vmbus, az_blob_id_table);

static struct hv_driver az_blob_drv = {
	.name = KBUILD_MODNAME,
	.id_table = az_blob_id_table,
	.probe = az_blob_probe,
	.remove = az_blob_remove,
	.suspend = az_blob_suspend,
	.resume = az_blob_resume,
	.driver = {
		.probe_type = PROBE_PREFER_ASYNCHRONOUS,
	},
};

static int __init az_blob_init(void)
{
	int ret;

	/*
	 * hyperv/<device>/ in debugfs. The VMBus core owns "hyperv" when it
	 * has one (HYPERV_TESTING); our devices then go to a root of ours.
	 */
	az_blob_debugfs_root = debugfs_create_dir("hyperv", NULL);
	if (IS_ERR(az_blob_debugfs_root))
		az_blob_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);

	ret = vmbus_driver_register(&az_blob_drv);
	if (ret)
		debugfs_remove(az_blob_debugfs_root);
	return ret;
}

static void __exit az_blob_exit(void)
{
	vmbus_driver_unregister(&az_blob_drv);
	debugfs_remove(az_blob_debugfs_root);
}

module_init(az_blob_init);
module_exit(az_blob_exit);

MODULE_DESCRIPTION("Microsoft Azure Blob accelerated access through Hyper-V");
MODULE_LICENSE("GPL");
