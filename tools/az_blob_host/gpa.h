/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM as the host VSP sees it: the file QEMU's memory-backend-file
 * maps (share=on), mapped here MAP_SHARED, and the q35 rule that turns a
 * guest-physical address into an offset in that file.
 *
 * q35 (QEMU 7.2, verified in TESTING.md): with less than 2816 MiB of RAM,
 * all of it sits at GPA 0 and GPA == file offset. From 2816 MiB on, the
 * first 2 GiB sit at GPA 0 and the rest at 4 GiB (file offset = GPA - 4 GiB
 * + 2 GiB); the GPAs in between are the PCI hole, not RAM.
 */
#ifndef AZ_BLOB_HOST_GPA_H
#define AZ_BLOB_HOST_GPA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define AZ_HV_PAGE_SHIFT	12
#define AZ_HV_PAGE_SIZE		(1U << AZ_HV_PAGE_SHIFT)

#define AZ_Q35_SPLIT		(2816ULL << 20)	/* RAM from which it splits */
#define AZ_Q35_LOW_SPLIT	(2ULL << 30)	/* RAM below 4 GiB then */
#define AZ_Q35_HIGH_BASE	(4ULL << 30)	/* where the rest starts */

/**
 * struct az_ram_layout - Where guest RAM is, in the guest and in the file.
 * @base: The file mapped (MAP_SHARED), @size bytes.
 * @size: Bytes of guest RAM (the file's size).
 * @low: Bytes of it at GPA 0; the rest (@size - @low) sits at 4 GiB.
 */
struct az_ram_layout {
	uint8_t *base;
	uint64_t size;
	uint64_t low;
};

/* The q35 layout of @size bytes of RAM mapped at @base. */
void az_ram_layout_init(struct az_ram_layout *l, uint8_t *base, uint64_t size);

/*
 * File offset of the 4 KiB page @pfn (a Hyper-V PFN: GPA >> 12), if the
 * whole page is guest RAM: true and *@off set; else false.
 */
bool az_pfn_to_off(const struct az_ram_layout *l, uint64_t pfn, uint64_t *off);

/*
 * The pieces of bytes [@off, @off + @len) of the buffer made of the pages
 * whose file offsets are @page_off[0..@nr_pages) (checked by the caller),
 * as iovecs over the mapping: pages contiguous in the file become one
 * piece. Returns the number of pieces (0 for @len 0), or -1 if the bytes
 * are not inside the pages or need more than @max pieces.
 */
int az_ram_iov(const struct az_ram_layout *l, const uint64_t *page_off,
	       uint32_t nr_pages, uint64_t off, uint64_t len,
	       struct iovec *iov, unsigned int max);

/* Pages that bytes [@off, @off + @len) touch (0 for @len 0). */
static inline uint32_t az_pages_spanned(uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	return (uint32_t)(((off + len - 1) >> AZ_HV_PAGE_SHIFT) -
			  (off >> AZ_HV_PAGE_SHIFT) + 1);
}

/**
 * struct az_ram - The guest RAM file this process created.
 * @layout: Its mapping and q35 layout.
 * @fd: Open file.
 * @path: Its path, removed by az_ram_destroy().
 */
struct az_ram {
	struct az_ram_layout layout;
	int fd;
	char *path;
};

/*
 * Create @path (refused if it exists, unless @force), size it to @size and
 * map it. On failure writes a message to @err and returns -1 (nothing left
 * behind).
 */
int az_ram_create(struct az_ram *ram, const char *path, uint64_t size,
		  bool force, char *err, size_t errlen);

/*
 * Make the mapping point at private anonymous memory instead of the file,
 * in one step: whoever still writes through an iovec after this writes
 * nowhere that the guest sees. For shutdown when a service does not stop.
 */
int az_ram_revoke(struct az_ram *ram);

/* Unmap, close and remove the file. */
void az_ram_destroy(struct az_ram *ram);

#endif /* AZ_BLOB_HOST_GPA_H */
