// SPDX-License-Identifier: GPL-2.0
/*
 * GPA translation (the q35 rule), iovecs over guest pages, the RAM file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../gpa.h"
#include "unit.h"

#define MIB	(1ULL << 20)
#define GIB	(1ULL << 30)
#define PG	4096ULL

/* Translation never touches memory: a fake base is enough. */
static uint8_t *const fake_base = (uint8_t *)(uintptr_t)0x10000000;

static uint64_t off_of(const struct az_ram_layout *l, uint64_t gpa, bool *ok)
{
	uint64_t off = ~0ULL;

	*ok = az_pfn_to_off(l, gpa / PG, &off);
	return off;
}

static void t_gpa_layout(void)
{
	struct az_ram_layout l;

	az_ram_layout_init(&l, fake_base, 1 * GIB);
	CHECK_EQ(l.low, 1 * GIB);
	az_ram_layout_init(&l, fake_base, 2815 * MIB);
	CHECK_EQ(l.low, 2815 * MIB);
	az_ram_layout_init(&l, fake_base, 2816 * MIB);
	CHECK_EQ(l.low, 2 * GIB);
	az_ram_layout_init(&l, fake_base, 8 * GIB);
	CHECK_EQ(l.low, 2 * GIB);
}

static void t_gpa_small(void)
{
	struct az_ram_layout l;
	bool ok;

	az_ram_layout_init(&l, fake_base, 1 * GIB);
	CHECK_EQ(off_of(&l, 0, &ok), 0);
	CHECK(ok);
	CHECK_EQ(off_of(&l, 0x12345000, &ok), 0x12345000);
	CHECK(ok);
	CHECK_EQ(off_of(&l, 1 * GIB - PG, &ok), 1 * GIB - PG);
	CHECK(ok);
	off_of(&l, 1 * GIB, &ok);
	CHECK(!ok);
	off_of(&l, 4 * GIB, &ok);		/* no high RAM at all */
	CHECK(!ok);
	off_of(&l, 3 * GIB, &ok);
	CHECK(!ok);
}

static void t_gpa_below_split(void)
{
	struct az_ram_layout l;
	bool ok;

	/* 2815 MiB: one piece at 0, GPA == file offset, up to its end. */
	az_ram_layout_init(&l, fake_base, 2815 * MIB);
	CHECK_EQ(off_of(&l, 2815 * MIB - PG, &ok), 2815 * MIB - PG);
	CHECK(ok);
	CHECK_EQ(off_of(&l, 2 * GIB, &ok), 2 * GIB);
	CHECK(ok);
	off_of(&l, 2815 * MIB, &ok);
	CHECK(!ok);
	off_of(&l, 4 * GIB, &ok);
	CHECK(!ok);
}

static void t_gpa_split(void)
{
	struct az_ram_layout l;
	bool ok;

	/* 2816 MiB: 2 GiB at 0, 768 MiB at 4 GiB. */
	az_ram_layout_init(&l, fake_base, 2816 * MIB);
	CHECK_EQ(off_of(&l, 2 * GIB - PG, &ok), 2 * GIB - PG);
	CHECK(ok);
	off_of(&l, 2 * GIB, &ok);		/* the PCI hole */
	CHECK(!ok);
	off_of(&l, 2816 * MIB - PG, &ok);	/* below the size, but a hole */
	CHECK(!ok);
	off_of(&l, 4 * GIB - PG, &ok);
	CHECK(!ok);
	CHECK_EQ(off_of(&l, 4 * GIB, &ok), 2 * GIB);
	CHECK(ok);
	CHECK_EQ(off_of(&l, 4 * GIB + 0x1234000, &ok), 2 * GIB + 0x1234000);
	CHECK(ok);
	CHECK_EQ(off_of(&l, 4 * GIB + 768 * MIB - PG, &ok), 2816 * MIB - PG);
	CHECK(ok);
	off_of(&l, 4 * GIB + 768 * MIB, &ok);
	CHECK(!ok);

	/* 8 GiB: 6 GiB at 4 GiB. */
	az_ram_layout_init(&l, fake_base, 8 * GIB);
	CHECK_EQ(off_of(&l, 10 * GIB - PG, &ok), 8 * GIB - PG);
	CHECK(ok);
	off_of(&l, 10 * GIB, &ok);
	CHECK(!ok);
}

static void t_gpa_huge_pfn(void)
{
	struct az_ram_layout l;
	uint64_t off = 77;

	az_ram_layout_init(&l, fake_base, 8 * GIB);
	CHECK(!az_pfn_to_off(&l, UINT64_MAX, &off));
	CHECK(!az_pfn_to_off(&l, 1ULL << 52, &off));
	CHECK(!az_pfn_to_off(&l, (1ULL << 52) - 1, &off));
	/* A PFN whose GPA wraps to a valid one must not pass. */
	CHECK(!az_pfn_to_off(&l, (1ULL << 52) + 1, &off));
	CHECK_EQ(off, 77);
}

static void t_ram_iov(void)
{
	static uint8_t ram[16 * 4096] __attribute__((aligned(4096)));
	struct az_ram_layout l;
	/* Range pages: 3, 4 (contiguous), 1, 1 again, 9. */
	const uint64_t po[] = { 3 * PG, 4 * PG, 1 * PG, 1 * PG, 9 * PG };
	struct iovec iov[8];
	int n;

	az_ram_layout_init(&l, ram, sizeof(ram));
	/* 100 bytes into page 0, up to 10 bytes into page 4. */
	n = az_ram_iov(&l, po, 5, 100, 4 * PG - 100 + 10, iov, 8);
	CHECK_EQ(n, 4);
	CHECK(iov[0].iov_base == ram + 3 * PG + 100);
	CHECK_EQ(iov[0].iov_len, 2 * PG - 100);	/* pages 3 and 4 merged */
	CHECK(iov[1].iov_base == ram + 1 * PG);
	CHECK_EQ(iov[1].iov_len, PG);
	CHECK(iov[2].iov_base == ram + 1 * PG);	/* same page, not merged */
	CHECK_EQ(iov[2].iov_len, PG);
	CHECK(iov[3].iov_base == ram + 9 * PG);
	CHECK_EQ(iov[3].iov_len, 10);

	/* Inside one page. */
	n = az_ram_iov(&l, po, 5, 2 * PG + 7, 9, iov, 8);
	CHECK_EQ(n, 1);
	CHECK(iov[0].iov_base == ram + 1 * PG + 7);
	CHECK_EQ(iov[0].iov_len, 9);

	/* Nothing. */
	CHECK_EQ(az_ram_iov(&l, po, 5, 0, 0, iov, 0), 0);
	/* Exactly the whole range; then one byte more. */
	CHECK_EQ(az_ram_iov(&l, po, 5, 0, 5 * PG, iov, 8), 4);
	CHECK_EQ(az_ram_iov(&l, po, 5, 0, 5 * PG + 1, iov, 8), -1);
	CHECK_EQ(az_ram_iov(&l, po, 5, 5 * PG, 1, iov, 8), -1);
	CHECK_EQ(az_ram_iov(&l, po, 5, UINT64_MAX, 2, iov, 8), -1);
	/* Too few iovecs. */
	CHECK_EQ(az_ram_iov(&l, po, 5, 0, 5 * PG, iov, 3), -1);
	/* A page offset outside the mapping is refused, not followed. */
	{
		const uint64_t bad[] = { 16 * PG };

		CHECK_EQ(az_ram_iov(&l, bad, 1, 0, 1, iov, 8), -1);
	}
}

static void t_ram_file(void)
{
	char path[64], err[256];
	struct az_ram ram, ram2;
	struct stat st;
	uint8_t b = 0;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/az_blob_host_unit.%d",
		 (int)getpid());
	unlink(path);
	CHECK_EQ(az_ram_create(&ram, path, 3 * PG + 1, false, err,
			       sizeof(err)), -1);
	CHECK_EQ(az_ram_create(&ram, path, 0, false, err, sizeof(err)), -1);
	CHECK(access(path, F_OK) < 0);

	CHECK_EQ(az_ram_create(&ram, path, 64 * PG, false, err, sizeof(err)),
		 0);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ(st.st_size, 64 * PG);
	CHECK_EQ(ram.layout.size, 64 * PG);
	CHECK_EQ(ram.layout.low, 64 * PG);

	/* A second one on the same path is refused, unless forced. */
	CHECK_EQ(az_ram_create(&ram2, path, 64 * PG, false, err,
			       sizeof(err)), -1);
	CHECK(strstr(err, "--force") != NULL);

	/* Writes land in the file; after a revoke they no longer do. */
	ram.layout.base[5 * PG] = 0xa5;
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(pread(fd, &b, 1, 5 * PG), 1);
	CHECK_EQ(b, 0xa5);
	CHECK_EQ(az_ram_revoke(&ram), 0);
	ram.layout.base[5 * PG] = 0x5a;
	CHECK_EQ(pread(fd, &b, 1, 5 * PG), 1);
	CHECK_EQ(b, 0xa5);
	close(fd);

	az_ram_destroy(&ram);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);

	CHECK_EQ(az_ram_create(&ram, path, 4 * PG, false, err, sizeof(err)),
		 0);
	CHECK_EQ(az_ram_create(&ram2, path, 8 * PG, true, err, sizeof(err)),
		 0);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ(st.st_size, 8 * PG);
	az_ram_destroy(&ram2);
	ram.path[0] = '\0';	/* already gone: do not unlink again */
	az_ram_destroy(&ram);
}

const struct az_test az_gpa_tests[] = {
	{ "gpa_layout", t_gpa_layout },
	{ "gpa_small_ram", t_gpa_small },
	{ "gpa_2815MiB_no_split", t_gpa_below_split },
	{ "gpa_2816MiB_split", t_gpa_split },
	{ "gpa_huge_pfn", t_gpa_huge_pfn },
	{ "gpa_iov_merge_and_bounds", t_ram_iov },
	{ "gpa_ram_file", t_ram_file },
	{ NULL, NULL },
};
