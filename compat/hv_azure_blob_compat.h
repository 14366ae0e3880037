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

#endif /* _HV_AZURE_BLOB_COMPAT_H */
