/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <linux/io_uring/cmd.h> for kernels before 6.8, which declare the
 * uring_cmd interface in <linux/io_uring.h>. Kbuild adds this directory
 * with -idirafter, so a kernel that has the real header uses it. What the
 * old interface lacks, compat/hv_azure_blob_compat.h adds.
 */
#ifndef _HV_AZURE_BLOB_COMPAT_IO_URING_CMD_H
#define _HV_AZURE_BLOB_COMPAT_IO_URING_CMD_H

#include <linux/io_uring.h>
#include <linux/io_uring_types.h>

#endif /* _HV_AZURE_BLOB_COMPAT_IO_URING_CMD_H */
