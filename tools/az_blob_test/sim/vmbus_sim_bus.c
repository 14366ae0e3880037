// SPDX-License-Identifier: GPL-2.0
/*
 * vmbus_sim - the simulated VMBus core of az_blob_sim.ko: the bus.
 *
 * TEST-ONLY. Bus "vmbus" with its driver registration, the simulated
 * devices (offer, rescind as vmbus_onoffer_rescind() does it, the driver's
 * suspend and resume), and the debugfs files through which a test drives
 * the core and its personalities. See README.md.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/hyperv.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>
#include <linux/version.h>

#include "vmbus_sim_priv.h"

const struct vmbus_sim_ops *sim_ops;
struct workqueue_struct *sim_wq;
struct sim_stats sim_stats;

static struct bus_type sim_bus;
static struct device *sim_root;
static struct dentry *sim_debugfs;
static DEFINE_MUTEX(sim_mutex);		/* sim_devs */
static LIST_HEAD(sim_devs);
static DEFINE_IDA(sim_ida);
static DEFINE_SPINLOCK(sim_misuse_lock);
static char sim_last_misuse[128];
/* Personalities of other modules (vmbus_sim_attach()), under sim_ops_mutex. */
#define SIM_MAX_EXTRA_OPS	4
static DEFINE_MUTEX(sim_ops_mutex);
static const struct vmbus_sim_ops *sim_extra_ops[SIM_MAX_EXTRA_OPS];

static const char *const sim_hook_names[SIM_NR_HOOKS] = {
	[SIM_HOOK_NONE] = "off",
	[SIM_HOOK_COMMIT] = "commit",
	[SIM_HOOK_TAKEN] = "taken",
	[SIM_HOOK_COMPLETED] = "completed",
};

static inline struct vmbus_sim_dev *dev_to_sd(const struct device *dev)
{
	return container_of(dev, struct vmbus_sim_dev, hdev.device);
}

static inline struct hv_driver *sim_drv(const struct device_driver *drv)
{
	return container_of(drv, struct hv_driver, driver);
}

/*
 * A call the real core would answer with a crash or a use after free.
 * The simulator refuses it, counts it and says so.
 */
void sim_misuse(const char *what)
{
	unsigned long flags;

	atomic_long_inc(&sim_stats.misuse);
	spin_lock_irqsave(&sim_misuse_lock, flags);
	strscpy(sim_last_misuse, what, sizeof(sim_last_misuse));
	spin_unlock_irqrestore(&sim_misuse_lock, flags);
	pr_err_ratelimited("driver misuse: %s\n", what);
}

/* The visitors see the primary personality's devices only: its callers. */
void vmbus_sim_visit_reqs(vmbus_sim_req_fn fn, void *ctx)
{
	struct vmbus_sim_req *req;
	struct vmbus_sim_dev *sd;
	unsigned long flags;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		if (sd->ops != sim_ops)
			continue;
		spin_lock_irqsave(&sd->lock, flags);
		list_for_each_entry(req, &sd->reqs, node)
			fn(req, ctx);
		spin_unlock_irqrestore(&sd->lock, flags);
	}
	mutex_unlock(&sim_mutex);
}

void vmbus_sim_visit_devs(vmbus_sim_dev_fn fn, void *ctx)
{
	struct vmbus_sim_dev *sd;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node)
		if (sd->ops == sim_ops)
			fn(sd, ctx);
	mutex_unlock(&sim_mutex);
}

/* ------------------------------------------------------------------ */
/* The bus                                                             */

static ssize_t class_id_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "{%pUl}\n",
			  &dev_to_sd(dev)->chan.offermsg.offer.if_type);
}
static DEVICE_ATTR_RO(class_id);

static ssize_t device_id_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "{%pUl}\n",
			  &dev_to_sd(dev)->chan.offermsg.offer.if_instance);
}
static DEVICE_ATTR_RO(device_id);

static ssize_t modalias_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "vmbus:%*phN\n", UUID_SIZE,
			  &dev_to_sd(dev)->hdev.dev_type);
}
static DEVICE_ATTR_RO(modalias);

static struct attribute *sim_dev_attrs[] = {
	&dev_attr_class_id.attr,
	&dev_attr_device_id.attr,
	&dev_attr_modalias.attr,
	NULL,
};
ATTRIBUTE_GROUPS(sim_dev);

static const struct hv_vmbus_device_id *
sim_get_id(const struct hv_driver *drv, const struct hv_device *hdev)
{
	const struct hv_vmbus_device_id *id = drv->id_table;

	if (!id)
		return NULL;
	for (; !guid_is_null(&id->guid); id++)
		if (guid_equal(&id->guid, &hdev->dev_type))
			return id;
	return NULL;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static int sim_bus_match(struct device *dev, const struct device_driver *drv)
#else
static int sim_bus_match(struct device *dev, struct device_driver *drv)
#endif
{
	return !!sim_get_id(sim_drv(drv), &dev_to_sd(dev)->hdev);
}

static int sim_bus_probe(struct device *dev)
{
	struct hv_driver *drv = sim_drv(dev->driver);
	struct hv_device *hdev = &dev_to_sd(dev)->hdev;
	int ret;

	if (!drv->probe)
		return -ENODEV;
	ret = drv->probe(hdev, sim_get_id(drv, hdev));
	if (ret)
		pr_err("probe failed for device %s (%d)\n", dev_name(dev), ret);
	return ret;
}

static void sim_bus_remove(struct device *dev)
{
	struct hv_device *hdev = &dev_to_sd(dev)->hdev;
	struct hv_driver *drv;

	if (!dev->driver)
		return;
	drv = sim_drv(dev->driver);
	if (drv->remove)
		drv->remove(hdev);
}

static void sim_bus_shutdown(struct device *dev)
{
	struct hv_driver *drv;

	if (!dev->driver)
		return;
	drv = sim_drv(dev->driver);
	if (drv->shutdown)
		drv->shutdown(&dev_to_sd(dev)->hdev);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
static int sim_bus_uevent(const struct device *dev, struct kobj_uevent_env *env)
#else
static int sim_bus_uevent(struct device *dev, struct kobj_uevent_env *env)
#endif
{
	return add_uevent_var(env, "MODALIAS=vmbus:%*phN", UUID_SIZE,
			      &dev_to_sd(dev)->hdev.dev_type);
}

static struct bus_type sim_bus = {
	.name = "vmbus",
	.dev_groups = sim_dev_groups,
	.match = sim_bus_match,
	.probe = sim_bus_probe,
	.remove = sim_bus_remove,
	.shutdown = sim_bus_shutdown,
	.uevent = sim_bus_uevent,
};

int __vmbus_driver_register(struct hv_driver *hv_driver, struct module *owner,
			    const char *mod_name)
{
	hv_driver->driver.name = hv_driver->name;
	hv_driver->driver.owner = owner;
	hv_driver->driver.mod_name = mod_name;
	hv_driver->driver.bus = &sim_bus;

	spin_lock_init(&hv_driver->dynids.lock);
	INIT_LIST_HEAD(&hv_driver->dynids.list);

	return driver_register(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(__vmbus_driver_register);

void vmbus_driver_unregister(struct hv_driver *hv_driver)
{
	driver_unregister(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(vmbus_driver_unregister);

/* ------------------------------------------------------------------ */
/* Devices                                                             */

static void sim_dev_release(struct device *dev)
{
	struct vmbus_sim_dev *sd = dev_to_sd(dev);

	if (sd->chan.state == CHANNEL_OPENED_STATE) {
		pr_warn("device %d released with its channel open\n",
			sd->index);
		vmbus_close(&sd->chan);
	}
	/* A control command or a hook may have queued it after the close. */
	cancel_work_sync(&sd->host_work);
	while (atomic_read(&sd->irq_inflight))
		usleep_range(100, 200);
	tasklet_kill(&sd->chan.callback_event);
	ida_free(&sim_ida, sd->index);
	kfree(sd);
}

/* vmbus_onoffer_rescind(): callback stopped, rescind set, device gone. */
static void sim_rescind(struct vmbus_sim_dev *sd)
{
	unsigned long flags;

	sim_reset_channel_cb(&sd->chan);
	spin_lock_irqsave(&sd->lock, flags);
	WRITE_ONCE(sd->chan.rescind, true);
	spin_unlock_irqrestore(&sd->lock, flags);
	if (sd->chan.chn_rescind_callback)
		sd->chan.chn_rescind_callback(&sd->chan);
	/* The unregister may drop the last reference but ours. */
	get_device(&sd->hdev.device);
	device_unregister(&sd->hdev.device);
	complete_all(&sd->rescinded);
	put_device(&sd->hdev.device);
}

/*
 * Rescind @sd unless that is done or under way; either way, return once
 * the device is unregistered (its driver's remove has run). May sleep.
 */
void vmbus_sim_rescind(struct vmbus_sim_dev *sd)
{
	bool mine;

	mutex_lock(&sim_mutex);
	mine = !list_empty(&sd->node);
	list_del_init(&sd->node);
	mutex_unlock(&sim_mutex);
	if (mine)
		sim_rescind(sd);
	else
		wait_for_completion(&sd->rescinded);
}
EXPORT_SYMBOL_GPL(vmbus_sim_rescind);

void vmbus_sim_put(struct vmbus_sim_dev *sd)
{
	put_device(&sd->hdev.device);
}
EXPORT_SYMBOL_GPL(vmbus_sim_put);

/* The rest of a rescind that the rescind_on_send hook started. */
static void sim_rescind_work(struct work_struct *work)
{
	struct vmbus_sim_dev *sd = container_of(work, struct vmbus_sim_dev,
						rescind_work);
	bool mine;

	mutex_lock(&sim_mutex);
	mine = !list_empty(&sd->node);
	list_del_init(&sd->node);
	mutex_unlock(&sim_mutex);
	if (mine)
		sim_rescind(sd);
	put_device(&sd->hdev.device);
}

/*
 * Offer one more device, served by @ops with @data (vmbus_sim_dev_data()).
 * With @hold, the caller gets a reference (vmbus_sim_put()).
 */
static struct vmbus_sim_dev *sim_offer(const struct vmbus_sim_ops *ops,
				       void *data, bool hold)
{
	struct vmbus_channel *chan;
	struct vmbus_sim_dev *sd;
	int index, ret;

	index = ida_alloc_max(&sim_ida, SIM_MAX_DEVICES - 1, GFP_KERNEL);
	if (index < 0)
		return ERR_PTR(index);
	sd = kzalloc(struct_size(sd, priv, ops->dev_priv_size), GFP_KERNEL);
	if (!sd) {
		ida_free(&sim_ida, index);
		return ERR_PTR(-ENOMEM);
	}
	sd->index = index;
	sd->ops = ops;
	sd->data = data;
	init_completion(&sd->rescinded);
	INIT_LIST_HEAD(&sd->node);
	spin_lock_init(&sd->lock);
	INIT_LIST_HEAD(&sd->reqs);
	INIT_LIST_HEAD(&sd->backlog);
	INIT_WORK(&sd->host_work, sim_host_work);
	INIT_WORK(&sd->rescind_work, sim_rescind_work);
	INIT_CSD(&sd->csd, sim_chan_irq, sd);
	atomic_set(&sd->irq_inflight, 0);

	/* alloc_channel(), vmbus_process_offer() */
	chan = &sd->chan;
	INIT_LIST_HEAD(&chan->listentry);
	INIT_LIST_HEAD(&chan->sc_list);
	spin_lock_init(&chan->sched_lock);
	init_completion(&chan->rescind_event);
	mutex_init(&chan->inbound.ring_buffer_mutex);
	mutex_init(&chan->outbound.ring_buffer_mutex);
	tasklet_setup(&chan->callback_event, sim_on_event);
	chan->state = CHANNEL_OPEN_STATE;
	chan->callback_mode = HV_CALL_BATCHED;
	/* init_vp_index(): not a performance device class */
	chan->target_cpu = VMBUS_CONNECT_CPU;
	chan->device_obj = &sd->hdev;
	chan->offermsg.offer.if_type = ops->class_id;
	chan->offermsg.offer.if_instance =
		GUID_INIT(0x8e8b3c1a, 0x5c2f, 0x4a3e, 0x9d, 0x6b,
			  0, 0, 0, 0, index >> 8, index & 0xff);
	chan->offermsg.child_relid = index + 1;
	chan->probe_done = true;

	sd->hdev.dev_type = chan->offermsg.offer.if_type;
	sd->hdev.dev_instance = chan->offermsg.offer.if_instance;
	sd->hdev.vendor_id = 0x1414;
	sd->hdev.channel = chan;

	device_initialize(&sd->hdev.device);
	sd->hdev.device.bus = &sim_bus;
	sd->hdev.device.parent = sim_root;
	sd->hdev.device.release = sim_dev_release;
	sd->hdev.device.dma_parms = &sd->hdev.dma_parms;
	sd->hdev.device.dma_mask = &sd->hdev.dma_mask;
	sd->hdev.dma_mask = DMA_BIT_MASK(64);
	sd->hdev.device.coherent_dma_mask = DMA_BIT_MASK(64);
	ret = dev_set_name(&sd->hdev.device, "%pUl", &sd->hdev.dev_instance);
	if (!ret)
		ret = device_add(&sd->hdev.device);
	if (ret) {
		put_device(&sd->hdev.device);
		return ERR_PTR(ret);
	}
	if (hold)
		get_device(&sd->hdev.device);

	mutex_lock(&sim_mutex);
	list_add_tail(&sd->node, &sim_devs);
	mutex_unlock(&sim_mutex);
	return sd;
}

struct vmbus_sim_dev *vmbus_sim_offer(const struct vmbus_sim_ops *ops,
				      void *data)
{
	return sim_offer(ops, data, true);
}
EXPORT_SYMBOL_GPL(vmbus_sim_offer);

/* Take device @index off the list; NULL if there is none. */
static struct vmbus_sim_dev *sim_take(unsigned int index)
{
	struct vmbus_sim_dev *sd;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		if (sd->index == index) {
			list_del_init(&sd->node);
			mutex_unlock(&sim_mutex);
			return sd;
		}
	}
	mutex_unlock(&sim_mutex);
	return NULL;
}

/* Device @index with a reference, or NULL. */
static struct vmbus_sim_dev *sim_get(unsigned int index)
{
	struct vmbus_sim_dev *sd, *found = NULL;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		if (sd->index == index) {
			found = sd;
			get_device(&sd->hdev.device);
			break;
		}
	}
	mutex_unlock(&sim_mutex);
	return found;
}

/* vmbus_suspend() then vmbus_resume() of one device. */
static int sim_suspend_resume(unsigned int index)
{
	struct vmbus_sim_dev *sd = sim_get(index);
	struct hv_driver *drv;
	struct device *dev;
	int ret = 0;

	if (!sd)
		return -ENODEV;

	dev = &sd->hdev.device;
	device_lock(dev);
	if (dev->driver) {
		drv = sim_drv(dev->driver);
		if (!drv->suspend || !drv->resume) {
			ret = -EOPNOTSUPP;
		} else {
			ret = drv->suspend(&sd->hdev);
			/* vmbus_bus_suspend() unloads the whole connection. */
			if (!ret && sd->chan.state == CHANNEL_OPENED_STATE)
				sim_misuse("channel left open by suspend()");
			if (!ret)
				ret = drv->resume(&sd->hdev);
		}
	}
	device_unlock(dev);
	put_device(dev);
	return ret;
}

/* ------------------------------------------------------------------ */
/* debugfs                                                             */

static int sim_dev_cmd(const char *name, char **argv, int argc)
{
	struct vmbus_sim_dev *sd;
	unsigned long flags;
	unsigned int n, v;
	int ret, i;

	if (argc < 2 || kstrtouint(argv[1], 10, &n))
		return -EINVAL;

	if (!strcmp(name, "rescind") && argc == 2) {
		sd = sim_take(n);
		if (!sd)
			return -ENODEV;
		sim_rescind(sd);
		return 0;
	}
	if (!strcmp(name, "suspend") && argc == 2)
		return sim_suspend_resume(n);
	if (argc != 3)
		return -EINVAL;

	sd = sim_get(n);
	if (!sd)
		return -ENODEV;
	ret = -EINVAL;
	spin_lock_irqsave(&sd->lock, flags);
	if (!strcmp(name, "stall") && !kstrtouint(argv[2], 10, &v) && v <= 1) {
		sd->stalled = v;
		ret = 0;
	} else if (!strcmp(name, "fail_open") &&
		   !kstrtouint(argv[2], 10, &v) && v < MAX_ERRNO) {
		sd->fail_open = v;
		ret = 0;
	} else if (!strcmp(name, "rescind_on_send")) {
		for (i = 0; i < SIM_NR_HOOKS; i++) {
			if (!strcmp(argv[2], sim_hook_names[i])) {
				sd->hook = i;
				ret = 0;
			}
		}
	}
	spin_unlock_irqrestore(&sd->lock, flags);
	if (!ret)
		queue_work(sim_wq, &sd->host_work);
	put_device(&sd->hdev.device);
	return ret;
}

static void sim_reset_stats(void)
{
	atomic_long_t *c = (atomic_long_t *)&sim_stats;
	size_t i;

	for (i = 0; i < sizeof(sim_stats) / sizeof(*c); i++)
		atomic_long_set(&c[i], 0);
	spin_lock_irq(&sim_misuse_lock);
	sim_last_misuse[0] = '\0';
	spin_unlock_irq(&sim_misuse_lock);
}

/*
 * A command for the personalities: the primary one first, then the others
 * until one knows it; "reset" goes to every one.
 */
static int sim_ops_control(const char *cmd)
{
	bool all = !strcmp(cmd, "reset");
	int ret, i;

	ret = sim_ops->control(cmd);
	if (ret != -EINVAL && !all)
		return ret;
	mutex_lock(&sim_ops_mutex);
	for (i = 0; i < SIM_MAX_EXTRA_OPS; i++) {
		int r;

		if (!sim_extra_ops[i])
			continue;
		r = sim_extra_ops[i]->control(cmd);
		if (all ? !ret : ret == -EINVAL)
			ret = r;
		if (!all && ret != -EINVAL)
			break;
	}
	mutex_unlock(&sim_ops_mutex);
	return ret;
}

static ssize_t sim_control_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[64], copy[64], *argv[4], *p, *cmd;
	int argc = 0, ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	cmd = strim(buf);
	strscpy(copy, cmd, sizeof(copy));
	p = copy;
	while (argc < ARRAY_SIZE(argv) && (argv[argc] = strsep(&p, " \t")))
		if (*argv[argc])
			argc++;
	if (!argc || p)
		return -EINVAL;

	if (!strcmp(argv[0], "offer") && argc == 1) {
		ret = PTR_ERR_OR_ZERO(sim_offer(sim_ops, NULL, false));
	} else if (!strcmp(argv[0], "reset") && argc == 1) {
		sim_reset_stats();
		ret = sim_ops_control(cmd);
	} else if (!strcmp(argv[0], "rescind") ||
		   !strcmp(argv[0], "suspend") ||
		   !strcmp(argv[0], "stall") ||
		   !strcmp(argv[0], "fail_open") ||
		   !strcmp(argv[0], "rescind_on_send")) {
		ret = sim_dev_cmd(argv[0], argv, argc);
	} else {
		ret = sim_ops_control(cmd);
	}

	return ret ? ret : count;
}

static const struct file_operations sim_control_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_control_write,
	.llseek = noop_llseek,
};

static int sim_stats_show(struct seq_file *m, void *v)
{
	unsigned int open = 0, devices = 0, backlog = 0;
	struct vmbus_sim_dev *sd;
	unsigned long flags;
	int i;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		devices++;
		spin_lock_irqsave(&sd->lock, flags);
		open += sd->host_open;
		backlog += sd->nr_backlog;
		spin_unlock_irqrestore(&sd->lock, flags);
	}
	mutex_unlock(&sim_mutex);

#define SIM_STAT(name) \
	seq_printf(m, #name " %ld\n", atomic_long_read(&sim_stats.name))
	SIM_STAT(requests);
	SIM_STAT(completions);
	SIM_STAT(ring_full);
	SIM_STAT(rqstor_full);
	SIM_STAT(rescind_after_commit);
	SIM_STAT(race_consumed);
	SIM_STAT(race_deferred);
	SIM_STAT(dropped);
	SIM_STAT(cut);
	SIM_STAT(ring_errors);
	SIM_STAT(open_failures);
	SIM_STAT(misuse);
#undef SIM_STAT
	seq_printf(m, "backlog %u\n", backlog);
	seq_printf(m, "open_channels %u\n", open);
	seq_printf(m, "devices %u\n", devices);
	sim_ops->stats(m);
	mutex_lock(&sim_ops_mutex);
	for (i = 0; i < SIM_MAX_EXTRA_OPS; i++)
		if (sim_extra_ops[i])
			sim_extra_ops[i]->stats(m);
	mutex_unlock(&sim_ops_mutex);
	spin_lock_irq(&sim_misuse_lock);
	seq_printf(m, "last_misuse %s\n",
		   sim_last_misuse[0] ? sim_last_misuse : "-");
	spin_unlock_irq(&sim_misuse_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_stats);

static int sim_channel_show(struct seq_file *m, void *v)
{
	u32 ri, wi, ro, wo, priv;
	struct vmbus_channel *c;
	struct vmbus_sim_dev *sd;
	unsigned long flags;

	mutex_lock(&sim_mutex);
	list_for_each_entry(sd, &sim_devs, node) {
		c = &sd->chan;
		spin_lock_irqsave(&sd->lock, flags);
		ri = 0;
		wi = 0;
		ro = 0;
		wo = 0;
		priv = 0;
		if (sd->host_open) {
			ro = READ_ONCE(c->outbound.ring_buffer->read_index);
			wo = READ_ONCE(c->outbound.ring_buffer->write_index);
			ri = READ_ONCE(c->inbound.ring_buffer->read_index);
			wi = READ_ONCE(c->inbound.ring_buffer->write_index);
			priv = READ_ONCE(c->inbound.priv_read_index);
		}
		seq_printf(m, "%d %pUl open %d send_ring %u recv_ring %u userdatalen %u rqstor_size %u max_pkt_size %u rescind %d",
			   sd->index, &sd->hdev.dev_instance, sd->host_open,
			   c->ringbuffer_send_offset << PAGE_SHIFT,
			   (c->ringbuffer_pagecount - c->ringbuffer_send_offset)
				<< PAGE_SHIFT,
			   sd->userdatalen, c->rqstor_size, c->max_pkt_size,
			   c->rescind);
		seq_printf(m, " target_cpu %u out_read %u out_write %u in_read %u in_write %u in_priv %u backlog %u stalled %d broken %d rescind_on_send %s fail_open %d host %s\n",
			   c->target_cpu, ro, wo, ri, wi, priv, sd->nr_backlog,
			   sd->stalled, sd->ring_broken,
			   sim_hook_names[sd->hook], sd->fail_open,
			   sd->ops->name);
		spin_unlock_irqrestore(&sd->lock, flags);
	}
	mutex_unlock(&sim_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_channel);

/* ------------------------------------------------------------------ */

int vmbus_sim_register(const struct vmbus_sim_ops *ops)
{
	int ret;

	sim_ops = ops;
	sim_wq = alloc_workqueue("vmbus_sim", WQ_UNBOUND, 0);
	if (!sim_wq)
		return -ENOMEM;

	ret = bus_register(&sim_bus);
	if (ret)
		goto err_wq;

	sim_root = root_device_register("vmbus_sim");
	if (IS_ERR(sim_root)) {
		ret = PTR_ERR(sim_root);
		goto err_bus;
	}

	ret = PTR_ERR_OR_ZERO(sim_offer(ops, NULL, false));
	if (ret)
		goto err_root;

	sim_debugfs = debugfs_create_dir(ops->name, NULL);
	debugfs_create_file("control", 0200, sim_debugfs, NULL,
			    &sim_control_fops);
	debugfs_create_file("stats", 0444, sim_debugfs, NULL,
			    &sim_stats_fops);
	debugfs_create_file("channel", 0444, sim_debugfs, NULL,
			    &sim_channel_fops);
	return 0;

err_root:
	root_device_unregister(sim_root);
err_bus:
	bus_unregister(&sim_bus);
err_wq:
	destroy_workqueue(sim_wq);
	return ret;
}

/* Rescind every device of @ops (all if NULL). */
static void sim_rescind_all(const struct vmbus_sim_ops *ops)
{
	struct vmbus_sim_dev *sd, *found;

	for (;;) {
		found = NULL;
		mutex_lock(&sim_mutex);
		list_for_each_entry(sd, &sim_devs, node) {
			if (!ops || sd->ops == ops) {
				found = sd;
				list_del_init(&sd->node);
				break;
			}
		}
		mutex_unlock(&sim_mutex);
		if (!found)
			break;
		sim_rescind(found);
	}
}

int vmbus_sim_attach(const struct vmbus_sim_ops *ops)
{
	int i, ret = -ENOSPC;

	mutex_lock(&sim_ops_mutex);
	for (i = 0; i < SIM_MAX_EXTRA_OPS; i++) {
		if (!sim_extra_ops[i]) {
			sim_extra_ops[i] = ops;
			ret = 0;
			break;
		}
	}
	mutex_unlock(&sim_ops_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(vmbus_sim_attach);

void vmbus_sim_detach(const struct vmbus_sim_ops *ops)
{
	int i;

	mutex_lock(&sim_ops_mutex);
	for (i = 0; i < SIM_MAX_EXTRA_OPS; i++)
		if (sim_extra_ops[i] == ops)
			sim_extra_ops[i] = NULL;
	mutex_unlock(&sim_ops_mutex);

	/* Normally none: the personality rescinded its own. */
	sim_rescind_all(ops);
	/* Rescind works still queued may hold its devices. */
	flush_workqueue(sim_wq);
}
EXPORT_SYMBOL_GPL(vmbus_sim_detach);

void vmbus_sim_unregister(void)
{
	/* Waits for control writes in progress. */
	debugfs_remove_recursive(sim_debugfs);

	sim_rescind_all(NULL);

	/* Rescind works still queued hold the last device references. */
	flush_workqueue(sim_wq);
	root_device_unregister(sim_root);
	bus_unregister(&sim_bus);
	destroy_workqueue(sim_wq);
	ida_destroy(&sim_ida);
}
