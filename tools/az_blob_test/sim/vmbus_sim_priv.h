/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the simulated VMBus core: shared by vmbus_sim.c (channels, rings,
 * requestor, host side) and vmbus_sim_bus.c (bus, devices, debugfs).
 * Personalities use vmbus_sim.h only.
 */
#ifndef _VMBUS_SIM_PRIV_H
#define _VMBUS_SIM_PRIV_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/hyperv.h>
#include <linux/mutex.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "vmbus_sim.h"

#define SIM_MAX_DEVICES		256
/* drivers/hv/hyperv_vmbus.h: where non-performance channels interrupt */
#define VMBUS_CONNECT_CPU	0
/* drivers/hv/ring_buffer.c */
#define VMBUS_PKT_TRAILER	8
/* How long the "completed" rescind hook waits for the guest's callback
 * to start, then to finish reading.
 */
#define SIM_RACE_START_NS	(5000 * NSEC_PER_MSEC)
#define SIM_RACE_RUN_NS		(1000 * NSEC_PER_MSEC)

/* "rescind_on_send": what the host has done when the rescind arrives. */
enum sim_hook {
	SIM_HOOK_NONE,
	SIM_HOOK_COMMIT,	/* nothing: the packet is in the ring */
	SIM_HOOK_TAKEN,		/* took the packet off the ring */
	SIM_HOOK_COMPLETED,	/* took it and answered it */
	SIM_NR_HOOKS,
};

/* One simulated device: the hv_device, its (only) channel, the host side. */
struct vmbus_sim_dev {
	struct hv_device hdev;
	struct vmbus_channel chan;
	int index;
	const struct vmbus_sim_ops *ops;	/* its personality */
	void *data;			/* the personality's, from the offer */
	struct list_head node;		/* sim_devs, under sim_mutex */
	struct completion rescinded;	/* unregistered by a rescind */

	/* The host's side; everything below is under lock unless noted. */
	spinlock_t lock;
	bool host_open;			/* the host serves the rings */
	bool stalled;			/* "stall": it takes nothing off */
	bool ring_broken;		/* it met a packet it cannot frame */
	bool reader_blocked;		/* a send with the rescind hook runs */
	bool cb_running;		/* the callback runs (chan.sched_lock) */
	bool hook_written;		/* the hook request's answer is out */
	enum sim_hook hook;		/* armed for the next send */
	int fail_open;			/* the next open fails with -this */
	u32 gen;			/* opens so far */
	u32 userdatalen;
	u32 nr_backlog;
	u32 hook_end;			/* inbound write index after it */
	const struct vmbus_sim_req *hook_req;
	struct list_head reqs;		/* struct vmbus_sim_req the host owns */
	struct list_head backlog;	/* struct sim_bpkt */

	struct work_struct host_work;	/* the host's reader and writer */
	struct work_struct rescind_work;
	call_single_data_t csd;		/* the channel interrupt */
	atomic_t irq_inflight;

	u8 priv[] __aligned(8);
};

struct sim_stats {
	atomic_long_t requests;
	atomic_long_t completions;
	atomic_long_t ring_full;
	atomic_long_t rqstor_full;
	atomic_long_t rescind_after_commit;
	atomic_long_t race_consumed;
	atomic_long_t race_deferred;
	atomic_long_t dropped;
	atomic_long_t cut;
	atomic_long_t ring_errors;
	atomic_long_t open_failures;
	atomic_long_t misuse;
};

extern const struct vmbus_sim_ops *sim_ops;
extern struct workqueue_struct *sim_wq;
extern struct sim_stats sim_stats;

static inline struct vmbus_sim_dev *chan_to_sd(struct vmbus_channel *channel)
{
	return container_of(channel, struct vmbus_sim_dev, chan);
}

/* vmbus_sim_bus.c */
void sim_misuse(const char *what);

/* vmbus_sim.c */
void sim_chan_irq(void *info);
void sim_on_event(struct tasklet_struct *t);
void sim_host_work(struct work_struct *work);
void sim_reset_channel_cb(struct vmbus_channel *channel);

#endif /* _VMBUS_SIM_PRIV_H */
