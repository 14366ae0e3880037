/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What hv_azure_blob needs on kernels older than the one it is written for.
 *
 * Out-of-tree builds only: Kbuild force-includes this header, so the driver
 * itself carries no version checks. An in-tree series leaves it out.
 */
#ifndef _HV_AZURE_BLOB_COMPAT_H
#define _HV_AZURE_BLOB_COMPAT_H

#include <linux/version.h>
#include <linux/compiler.h>
#include <linux/slab.h>

/* 6.6 */
#ifndef __counted_by
#define __counted_by(member)
#endif

/*
 * Typed allocation helpers: 7.0, and stable kernels since (Debian's 6.12
 * has them, 6.1 does not), hence a test for the macro rather than for a
 * version. The driver always passes GFP flags.
 */
#ifndef kzalloc_obj
#define kzalloc_obj(P, GFP)	kzalloc(sizeof(P), GFP)
#endif
#ifndef kvzalloc_obj
#define kvzalloc_obj(P, GFP)	kvzalloc(sizeof(P), GFP)
#endif

/*
 * 6.3 made hv_driver.remove return void. The driver defines
 * "static void az_blob_remove(struct hv_device *hdev)"; on older kernels the
 * function-like macro below turns that definition into a void helper plus
 * the int-returning wrapper that ".remove = az_blob_remove" then names.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define az_blob_remove(arg)						\
	az_blob_remove_void(arg);					\
	static int az_blob_remove(arg)					\
	{								\
		az_blob_remove_void(hdev);				\
		return 0;						\
	}								\
	static void az_blob_remove_void(arg)
#endif

/*
 * io_uring's uring_cmd interface, which hv_azure_blob_uring.c uses as 7.2
 * has it. Kbuild tests the kernel's io_uring headers (stable trees backport
 * pieces, so versions would mislead) and defines, for what is missing:
 *
 *   AZ_BLOB_COMPAT_NO_CMD_SQE        no cmd->sqe, only cmd->cmd (before 6.4)
 *   AZ_BLOB_COMPAT_NO_F_COMPAT       no IO_URING_F_COMPAT
 *   AZ_BLOB_COMPAT_IMPORT_FIXED_5    io_uring_cmd_import_fixed() takes no
 *                                    issue_flags (before 6.15)
 *   AZ_BLOB_COMPAT_NO_CMD_DONE32     only io_uring_cmd_done(cmd, ret, res2,
 *                                    issue_flags) (before 6.18)
 *   AZ_BLOB_COMPAT_OLD_TW            task-work callbacks take (cmd,
 *                                    issue_flags) (before 6.19)
 *   AZ_BLOB_COMPAT_NO_DFL_WQ         no system_dfl_wq
 *
 * The rest is tested on macros of the kernel's headers, which are therefore
 * included here, before the macros below that reuse their names. Before
 * 6.8 <linux/io_uring/cmd.h> is compat/include/linux/io_uring/cmd.h.
 */
#include <linux/io_uring/cmd.h>

/*
 * The 80 bytes of a command's payload in a 128-byte SQE: 7.0. The driver
 * reads them once, as io_uring_sqe128_cmd(cmd->sqe, T).
 */
#ifdef AZ_BLOB_COMPAT_NO_CMD_SQE
/*
 * Before 6.4 a command has no ->sqe, only ->cmd: the payload, in the SQE or
 * in io_uring's copy of it. This macro drops its first argument, which
 * would not compile, and reads ->cmd of the driver's variable "cmd" (a
 * struct io_uring_cmd *, checked by the helper): the one call site must
 * spell it io_uring_sqe128_cmd(cmd->sqe, T).
 */
static inline const void *
az_blob_compat_cmd_payload(const struct io_uring_cmd *ioucmd)
{
	return ioucmd->cmd;
}
#define io_uring_sqe128_cmd(sqe, type)	({				\
	BUILD_BUG_ON(sizeof(type) > 2 * sizeof(struct io_uring_sqe) -	\
				    offsetof(struct io_uring_sqe, cmd));\
	(const type *)az_blob_compat_cmd_payload(cmd);			\
})
#elif !defined(io_uring_sqe128_cmd)
#define io_uring_sqe128_cmd(sqe, type)	({				\
	BUILD_BUG_ON(sizeof(type) > 2 * sizeof(struct io_uring_sqe) -	\
				    offsetof(struct io_uring_sqe, cmd));\
	(const type *)(sqe)->cmd;					\
})
#endif

/*
 * The uring_cmd_flags user space may set (the uapi macro came with 6.7's
 * kernel-internal top bits); 6.1 accepts IORING_URING_CMD_FIXED only.
 */
#ifndef IORING_URING_CMD_MASK
#define IORING_URING_CMD_MASK	IORING_URING_CMD_FIXED
#endif

/* Typed access to the command's 32 free bytes: 6.10 (6.1 has cmd->pdu). */
#ifndef io_uring_cmd_to_pdu
#define io_uring_cmd_to_pdu(cmd, pdu_type)	({			\
	BUILD_BUG_ON(sizeof(pdu_type) >					\
		     sizeof_field(struct io_uring_cmd, pdu));		\
	(pdu_type *)&(cmd)->pdu;					\
})
#endif

/*
 * 6.7 lets ring exit and exec cancel a command: ->uring_cmd() is called
 * again with IO_URING_F_CANCEL. Before, nothing cancels a command, so the
 * flag never occurs (0: the driver's cancel path is dead code) and there is
 * nothing to register for. Such a kernel waits for every command it issued
 * (ring exit, execve() of the submitter): the driver bounds each command's
 * life itself, by its cap on the request's timeout and its own deadline.
 */
#ifndef IORING_URING_CMD_CANCELABLE
#define IO_URING_F_CANCEL	0
static inline void io_uring_cmd_mark_cancelable(struct io_uring_cmd *cmd,
						unsigned int issue_flags)
{
}
#endif

/*
 * From 6.4 (cmd->sqe) until the SQE copy was reworked with
 * IORING_URING_CMD_REISSUE (6.16), a command that returned -EAGAIN is
 * issued again from io-wq with cmd->sqe still pointing into the SQ ring,
 * which user space may have refilled by then: io_uring copies the SQE but
 * does not point the command at the copy (seen on 6.12.117). There the
 * driver must not ask to be issued again after it read the payload, so it
 * never sees IO_URING_F_NONBLOCK. Issued inline it then holds the ring's
 * lock (no IO_URING_F_UNLOCKED): it waits for room in the host's ring as
 * the ioctl does (killable, at most AZ_BLOB_SEND_WAIT_MS, not freezable),
 * and does not wait for its user's bound but completes with -EAGAIN; with
 * IOSQE_ASYNC, io_uring copies the SQE first and the worker waits.
 * Defined after <linux/io_uring/cmd.h>, so only the driver's code sees it.
 */
#if !defined(AZ_BLOB_COMPAT_NO_CMD_SQE) && !defined(IORING_URING_CMD_REISSUE)
#undef IO_URING_F_NONBLOCK
#define IO_URING_F_NONBLOCK	0
#endif

/* 6.17's name for the unbound system workqueue (Debian's 6.12 has it). */
#ifdef AZ_BLOB_COMPAT_NO_DFL_WQ
#define system_dfl_wq	system_unbound_wq
#endif

/*
 * Before large kmalloc folios had a page type, kfree() of one dropped a
 * reference like any compound page: a reference kept it.
 */
#ifdef AZ_BLOB_COMPAT_NO_LARGE_KMALLOC
struct folio;
static inline bool folio_test_large_kmalloc(const struct folio *folio)
{
	return false;
}
#endif

/*
 * Set for rings of 32-bit tasks. Where the kernel does not say, it is never
 * set: the driver's uapi has one layout for both, so it may use the flag
 * only for what a 64-bit layout already gets right.
 */
#ifdef AZ_BLOB_COMPAT_NO_F_COMPAT
#define IO_URING_F_COMPAT	0
#endif

/* 6.15 added issue_flags (for the ring lock) and typed the command. */
#ifdef AZ_BLOB_COMPAT_IMPORT_FIXED_5
#define io_uring_cmd_import_fixed(ubuf, len, rw, iter, ioucmd, issue_flags) \
	io_uring_cmd_import_fixed(ubuf, len, rw, iter, ioucmd)
#endif

/*
 * 6.18 split completion: io_uring_cmd_done() posts a 16-byte CQE,
 * io_uring_cmd_done32() also res2 in big_cqe[0]. The old function fills
 * big_cqe[0] whenever the ring has 32-byte CQEs.
 */
#ifdef AZ_BLOB_COMPAT_NO_CMD_DONE32
static inline void io_uring_cmd_done32(struct io_uring_cmd *ioucmd, s32 ret,
				       u64 res2, unsigned int issue_flags)
{
	io_uring_cmd_done(ioucmd, ret, res2, issue_flags);
}
#define io_uring_cmd_done(ioucmd, ret, issue_flags)			\
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags)
#endif

/*
 * 6.19 gave task-work callbacks the type io_req_tw_func_t. The driver
 * defines "static void az_blob_cmd_tw(struct io_tw_req tw_req,
 * io_tw_token_t tw)" and only ever names it (never calls it); on older
 * kernels the function-like macro below makes that definition a helper
 * plus the old-style callback that io_uring_cmd_complete_in_task() then
 * gets, which builds both arguments.
 *
 * tw.cancel is 7.2's io_should_terminate_tw(): the callback does not run
 * in the submitter's context, or the ring is going away; it must still
 * complete the command. IO_URING_CMD_TASK_WORK_ISSUE_FLAGS: 6.12's old
 * callbacks get exactly that (plus IO_URING_F_TASK_DEAD in 6.12.117, which
 * io_uring_cmd_done() ignores); 6.1's get 0 or IO_URING_F_UNLOCKED, and
 * its io_uring_cmd_done() ignores them (it takes the completion lock
 * itself). Kernels in between (some pass IO_URING_F_UNLOCKED to callbacks
 * that run without the ring's lock) are not supported.
 */
#ifdef AZ_BLOB_COMPAT_OLD_TW
struct az_blob_compat_tw_req {
	struct io_uring_cmd *cmd;
};

struct az_blob_compat_tw_token {
	bool cancel;
};

#define io_tw_req	az_blob_compat_tw_req
#define io_tw_token_t	struct az_blob_compat_tw_token

static inline struct io_uring_cmd *io_uring_cmd_from_tw(struct io_tw_req tw_req)
{
	return tw_req.cmd;
}

static inline io_tw_token_t az_blob_compat_tw_token(struct io_uring_cmd *ioucmd)
{
	return (io_tw_token_t) {
		.cancel = (current->flags & (PF_EXITING | PF_KTHREAD)) ||
			  percpu_ref_is_dying(&cmd_to_io_kiocb(ioucmd)->ctx->refs),
	};
}

#define IO_URING_CMD_TASK_WORK_ISSUE_FLAGS	IO_URING_F_COMPLETE_DEFER

#define az_blob_cmd_tw(...)						\
	az_blob_cmd_tw_new(__VA_ARGS__);				\
	static void az_blob_cmd_tw(struct io_uring_cmd *ioucmd,		\
				   unsigned int issue_flags)		\
	{								\
		az_blob_cmd_tw_new((struct io_tw_req){ .cmd = ioucmd },	\
				   az_blob_compat_tw_token(ioucmd));	\
	}								\
	static void az_blob_cmd_tw_new(__VA_ARGS__)
#endif

#endif /* _HV_AZURE_BLOB_COMPAT_H */
