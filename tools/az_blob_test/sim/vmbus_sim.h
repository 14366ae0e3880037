/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulated VMBus core (vmbus_sim.c) as a host personality sees it.
 *
 * TEST-ONLY. The core plays hv_vmbus for the guest driver (bus, channel
 * open/close, ring buffers, requestor, packet iterator, channel callback,
 * rescind, suspend/resume) and the host's half of the ring protocol. It
 * knows nothing of what the packets mean: a device's personality
 * (blob_vsp.c, the primary one, in the same module; relay.c, attached from
 * az_blob_relay.ko) gets every packet the host takes off the guest's ring
 * and answers with packets of its own. See README.md.
 */
#ifndef _VMBUS_SIM_H
#define _VMBUS_SIM_H

#include <linux/bits.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/seq_file.h>
#include <linux/types.h>
#include <linux/uuid.h>

struct vmbus_sim_dev;

/**
 * struct vmbus_sim_req - A packet the host took off the guest's ring.
 * @node: Core: the device's list of requests the host owns.
 * @sd: The device it came from.
 * @trans_id: The descriptor's transaction id, as the guest wrote it.
 * @type: The descriptor's type.
 * @flags: The descriptor's flags.
 * @len: Bytes of @pkt: the descriptor's len8 x 8.
 * @pkt: The whole packet (descriptor first), as it was in the ring.
 * @detached: Core, under the device lock: the channel was closed; the
 *            closer frees the request.
 * @priv: &vmbus_sim_ops.req_priv_size bytes for the personality, zeroed.
 */
struct vmbus_sim_req {
	struct list_head node;
	struct vmbus_sim_dev *sd;
	u64 trans_id;
	u16 type;
	u16 flags;
	u32 len;
	u8 *pkt;
	bool detached;
	u8 priv[] __aligned(8);
};

/**
 * struct vmbus_sim_pkt - A packet the host writes to the guest's ring.
 * @data: With @raw, the whole packet; else its payload after a descriptor
 *        the core builds (offset8 2, len8 covering payload and padding).
 * @len: Bytes at @data.
 * @zeros: Zero bytes after @data (then zero padded to 8 bytes).
 * @type: Descriptor type (not @raw).
 * @flags: Descriptor flags (not @raw).
 * @trans_id: Descriptor transaction id (not @raw).
 * @raw: Write @data as it is: a bogus descriptor stays bogus.
 *
 * The core appends the 8-byte trailer every packet has on the ring.
 */
struct vmbus_sim_pkt {
	const void *data;
	u32 len;
	u32 zeros;
	u16 type;
	u16 flags;
	u64 trans_id;
	bool raw;
};

/**
 * struct vmbus_sim_ops - A host personality.
 * @name: The primary's: the debugfs directory (/sys/kernel/debug/@name);
 *        every one's: "host @name" in the channel file.
 * @class_id: The class GUID of the devices it offers.
 * @req_priv_size: Bytes of &vmbus_sim_req.priv.
 * @dev_priv_size: Bytes of per-device data (vmbus_sim_dev_priv()), zeroed
 *                 at offer.
 * @request: The host took @req off the guest's ring; the personality owns
 *           it until vmbus_sim_send() or vmbus_sim_req_done() gives it
 *           back. @atomic: called from the guest's send path (a rescind
 *           hook, see README.md) with a spinlock held; the personality must
 *           not sleep and should answer at once if it can.
 * @close_req: The channel is closing and the host forgets @req: stop using
 *             it (cancel its work, synchronously). May sleep. The core
 *             frees @req afterwards.
 * @chan_open: The guest opened the channel of @sd (before any request).
 * @chan_close: The channel of @sd was closed (every request gone).
 * @control: A control file command the core does not know; -EINVAL if the
 *           personality does not know it either. "reset" is passed too
 *           (to every personality; others go to the first that knows them).
 * @stats: Append the personality's lines to the stats file.
 */
struct vmbus_sim_ops {
	const char *name;
	guid_t class_id;
	size_t req_priv_size;
	size_t dev_priv_size;
	void (*request)(struct vmbus_sim_req *req, bool atomic);
	void (*close_req)(struct vmbus_sim_req *req);
	void (*chan_open)(struct vmbus_sim_dev *sd);
	void (*chan_close)(struct vmbus_sim_dev *sd);
	int (*control)(const char *cmd);
	void (*stats)(struct seq_file *m);
};

/* The primary personality, from az_blob_sim.ko's init and exit. */
int vmbus_sim_register(const struct vmbus_sim_ops *ops);
void vmbus_sim_unregister(void);

/*
 * Other personalities, from other modules (exported, GPL). attach: its
 * control and stats join the debugfs files (-ENOSPC beyond 4). offer: one
 * more device served by @ops, @data for vmbus_sim_dev_data(), returned
 * with a reference for the caller (vmbus_sim_put()); the driver may probe
 * and send before it returns. rescind: as "rescind N", unless done or under
 * way; returns once the device is unregistered. detach (after rescinding
 * its devices and putting them): no call into @ops after it returns.
 * All may sleep.
 */
int vmbus_sim_attach(const struct vmbus_sim_ops *ops);
void vmbus_sim_detach(const struct vmbus_sim_ops *ops);
struct vmbus_sim_dev *vmbus_sim_offer(const struct vmbus_sim_ops *ops,
				      void *data);
void vmbus_sim_rescind(struct vmbus_sim_dev *sd);
void vmbus_sim_put(struct vmbus_sim_dev *sd);

/*
 * Write @n packets, back to back and in one go, to the guest's ring of
 * @sd, or queue them behind earlier ones while the ring has no room (the
 * host waits for the guest to read). If @done is not NULL, the host is
 * done with that request: it is unlinked and freed.
 *
 * Return: 0 written or queued; -ENODEV dropped, the channel is rescinded
 * or not open (@done is freed all the same); -ENOMEM nothing happened
 * (@done is still the caller's); -ESHUTDOWN the channel was closed and
 * @done detached: the closer owns it, the caller must not touch it again.
 */
int vmbus_sim_send(struct vmbus_sim_dev *sd, struct vmbus_sim_req *done,
		   const struct vmbus_sim_pkt *pkts, unsigned int n, gfp_t gfp);

/* vmbus_sim_send() with nothing to send. */
static inline int vmbus_sim_req_done(struct vmbus_sim_req *req)
{
	return vmbus_sim_send(req->sd, req, NULL, 0, GFP_ATOMIC);
}

/* The next vmbus_open() of @sd's channel fails with -@err (0: disarm). */
void vmbus_sim_fail_next_open(struct vmbus_sim_dev *sd, int err);

void *vmbus_sim_dev_priv(struct vmbus_sim_dev *sd);
/* The @data given to vmbus_sim_offer() (NULL for the primary's devices). */
void *vmbus_sim_dev_data(struct vmbus_sim_dev *sd);
int vmbus_sim_dev_index(const struct vmbus_sim_dev *sd);

typedef void (*vmbus_sim_req_fn)(struct vmbus_sim_req *req, void *ctx);
typedef void (*vmbus_sim_dev_fn)(struct vmbus_sim_dev *sd, void *ctx);

/*
 * For the primary personality: its devices only (those of vmbus_sim_offer()
 * are not visited). Every request the host owns; @fn runs under a
 * spinlock: no sleeping.
 */
void vmbus_sim_visit_reqs(vmbus_sim_req_fn fn, void *ctx);
/* Every device; @fn may sleep but must not offer, rescind, unregister. */
void vmbus_sim_visit_devs(vmbus_sim_dev_fn fn, void *ctx);

/* Guest memory as the host sees it: 4 KiB frames named by Hyper-V PFN. */
#define VMBUS_SIM_HV_PAGE_SHIFT	12
#define VMBUS_SIM_HV_PAGE_SIZE	BIT(VMBUS_SIM_HV_PAGE_SHIFT)

bool vmbus_sim_hvpfn_valid(u64 hvpfn);

typedef void (*vmbus_sim_walk_fn)(struct page *page, u8 *va, size_t n,
				  u64 done, void *ctx);

/*
 * Call @fn for each piece of bytes [@off, @off + @len) of the buffer made
 * of frames @hvpfns (valid, checked by the caller), at most one frame at a
 * time, mapped. @atomic: do not reschedule between frames.
 */
void vmbus_sim_walk(const u64 *hvpfns, u64 off, u64 len, vmbus_sim_walk_fn fn,
		    void *ctx, bool atomic);

#endif /* _VMBUS_SIM_H */
