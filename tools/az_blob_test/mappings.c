// SPDX-License-Identifier: GPL-2.0
/*
 * az_blob_test: buffers in shared file mappings, and what the driver's
 * long-term pins (FOLL_LONGTERM) allow on each kernel. The guest's /init
 * mounts an ext2 filesystem on a RAM disk at /mnt/disk (stock kernels),
 * where the kernel tracks dirty pages; /tmp is a tmpfs, where it does not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define DISK_DIR	"/mnt/disk"
#define MAP_PAGES	4

/* Whether the running kernel is at least @maj.@min. */
static int kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 0;
	return a > maj || (a == maj && b >= min);
}

/* A MAP_SHARED, writable mapping of a new file of @len bytes in @dir. */
static uint8_t *map_file(const char *dir, size_t len)
{
	char path[PATH_MAX];
	uint8_t *p;
	int fd;

	snprintf(path, sizeof(path), "%s/az_blob_test.%d", dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		fail("open %s: %s", path, strerror(errno));
		return NULL;
	}
	unlink(path);
	if (ftruncate(fd, (off_t)len)) {
		fail("ftruncate %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fail("mmap %s: %s", path, strerror(errno));
		return NULL;
	}
	track(RES_MAP, -1, p, len);
	return p;
}

/* The host fills @data (a download); returns the errno of the call. */
static int download(int fd, struct arena *a, uint8_t *data, size_t len,
		    uint32_t seed)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;

	sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
	rq_init(&r, put_req(a, PG, 48, &h), 48, at(a, 2 * PG), 64, data, len,
		0);
	return blob_ioctl(fd, &r);
}

/* The host hashes @data (an upload, read-only for it). */
static int upload(int fd, struct arena *a, const uint8_t *data, size_t len)
{
	uint64_t want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, data, len), got;
	struct az_blob_request_sync r;
	struct az_sim_req h;
	int err;

	sim_hdr(&h, AZ_SIM_OP_SUM, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	rq_init(&r, put_req(a, PG, 48, &h), 48, at(a, 2 * PG), 64,
		(void *)data, len, len);
	r.flags = AZ_BLOB_DATA_HOST_READS;
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, 8))
		return TEST_FAIL;
	got = get_u64(at(a, 2 * PG));
	if (got != want)
		return fail("upload: FNV-1a of %zu bytes: expected 0x%016" PRIx64 ", got 0x%016" PRIx64,
			    len, want, got);
	return 0;
}

static int check_filled(const uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != az_sim_pattern(seed, i))
			return fail("byte %zu of the download: expected 0x%02x, got 0x%02x",
				    i, az_sim_pattern(seed, i), p[i]);
	return 0;
}

/*
 * tmpfs (shmem) pages may be pinned long-term for writing on every kernel:
 * a download into a shared mapping of a /tmp file works.
 */
int t_shmem_file_mapping(void)
{
	const size_t len = MAP_PAGES * PG;
	struct arena *a = arena_new(4);
	int fd = dev_open(), err;
	uint8_t *p;

	if (!a || fd < 0)
		return TEST_FAIL;
	p = map_file("/tmp", len);
	if (!p)
		return TEST_FAIL;
	err = download(fd, a, p, len, 7);
	if (err)
		return fail("download into a tmpfs MAP_SHARED mapping: %s, expected success",
			    errname(err));
	if (check_filled(p, len, 7))
		return TEST_FAIL;
	return upload(fd, a, p, len);
}

/*
 * A file on a filesystem that tracks dirty pages: from 6.5 the kernel
 * refuses writable long-term pins of such a mapping (EFAULT), 6.1 allows
 * them. An upload, pinned read-only with AZ_BLOB_DATA_HOST_READS, works on
 * every kernel.
 */
int t_longterm_file_mapping(void)
{
	const size_t len = MAP_PAGES * PG;
	int refuse = kernel_at_least(6, 5);
	struct arena *a = arena_new(4);
	int fd = dev_open(), err;
	uint8_t *p;
	size_t i;

	if (!a || fd < 0)
		return TEST_FAIL;
	if (access(DISK_DIR "/lost+found", F_OK)) {
		fail("no filesystem at " DISK_DIR " (no RAM disk or ext4 in this kernel)");
		return TEST_SKIP;
	}
	p = map_file(DISK_DIR, len);
	if (!p)
		return TEST_FAIL;
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 1);

	err = download(fd, a, p, len, 9);
	if (refuse && err != EFAULT)
		return fail("download into an ext2 MAP_SHARED mapping on %s: %s, expected EFAULT (no writable long-term pin of a file that needs dirty tracking)",
			    kernel_at_least(7, 0) ? "7.x" : "6.5+", errname(err));
	if (!refuse) {
		if (err)
			return fail("download into an ext2 MAP_SHARED mapping before 6.5: %s, expected success",
				    errname(err));
		if (check_filled(p, len, 9))
			return TEST_FAIL;
	}
	if (drv_stat("pinned_pages") || drv_stat("outstanding"))
		return fail("after the download: pinned_pages %ld, outstanding %ld; expected 0, 0",
			    drv_stat("pinned_pages"), drv_stat("outstanding"));
	return upload(fd, a, p, len);
}
