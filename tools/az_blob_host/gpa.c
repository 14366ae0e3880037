// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM: the shared file, the q35 GPA rule, iovecs over guest pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpa.h"

void az_ram_layout_init(struct az_ram_layout *l, uint8_t *base, uint64_t size)
{
	l->base = base;
	l->size = size;
	l->low = size >= AZ_Q35_SPLIT ? AZ_Q35_LOW_SPLIT : size;
}

bool az_pfn_to_off(const struct az_ram_layout *l, uint64_t pfn, uint64_t *off)
{
	uint64_t gpa;

	/* A PFN whose GPA does not fit in 64 bits is nobody's page. */
	if (pfn > (UINT64_MAX >> AZ_HV_PAGE_SHIFT))
		return false;
	gpa = pfn << AZ_HV_PAGE_SHIFT;
	if (gpa < l->low) {
		if (l->low - gpa < AZ_HV_PAGE_SIZE)
			return false;
		*off = gpa;
		return true;
	}
	if (gpa < AZ_Q35_HIGH_BASE)
		return false;		/* the PCI hole, or above small RAM */
	gpa -= AZ_Q35_HIGH_BASE;
	if (gpa >= l->size - l->low || l->size - l->low - gpa < AZ_HV_PAGE_SIZE)
		return false;
	*off = l->low + gpa;
	return true;
}

int az_ram_iov(const struct az_ram_layout *l, const uint64_t *page_off,
	       uint32_t nr_pages, uint64_t off, uint64_t len,
	       struct iovec *iov, unsigned int max)
{
	uint64_t page, in, end_off = 0;
	unsigned int n = 0;

	if (!len)
		return 0;
	if (off > (uint64_t)nr_pages * AZ_HV_PAGE_SIZE ||
	    len > (uint64_t)nr_pages * AZ_HV_PAGE_SIZE - off)
		return -1;
	page = off >> AZ_HV_PAGE_SHIFT;
	in = off & (AZ_HV_PAGE_SIZE - 1);
	while (len) {
		uint64_t chunk = AZ_HV_PAGE_SIZE - in;
		uint64_t foff = page_off[page] + in;

		if (chunk > len)
			chunk = len;
		if (foff > l->size || chunk > l->size - foff)
			return -1;	/* the caller's offsets are wrong */
		if (n && foff == end_off) {
			iov[n - 1].iov_len += chunk;
		} else {
			if (n == max)
				return -1;
			iov[n].iov_base = l->base + foff;
			iov[n].iov_len = chunk;
			n++;
		}
		end_off = foff + chunk;
		len -= chunk;
		in = 0;
		page++;
	}
	return (int)n;
}

int az_ram_create(struct az_ram *ram, const char *path, uint64_t size,
		  bool force, char *err, size_t errlen)
{
	int flags = O_RDWR | O_CREAT | O_CLOEXEC;
	void *base;
	int fd;

	memset(ram, 0, sizeof(*ram));
	ram->fd = -1;
	if (!size || size % AZ_HV_PAGE_SIZE) {
		snprintf(err, errlen, "RAM size %llu is not a positive multiple of 4096",
			 (unsigned long long)size);
		return -1;
	}
	if (force)
		unlink(path);
	fd = open(path, flags | O_EXCL, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			 errno == EEXIST ? " (remove it or use --force)" : "");
		return -1;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		snprintf(err, errlen, "%s: cannot size it to %llu bytes: %s",
			 path, (unsigned long long)size, strerror(errno));
		goto fail_unlink;
	}
	base = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (base == MAP_FAILED) {
		snprintf(err, errlen, "%s: cannot map %llu bytes: %s", path,
			 (unsigned long long)size, strerror(errno));
		goto fail_unlink;
	}
	ram->path = strdup(path);
	if (!ram->path) {
		snprintf(err, errlen, "out of memory");
		munmap(base, size);
		goto fail_unlink;
	}
	ram->fd = fd;
	az_ram_layout_init(&ram->layout, base, size);
	return 0;

fail_unlink:
	unlink(path);
	close(fd);
	return -1;
}

int az_ram_revoke(struct az_ram *ram)
{
	void *p;

	if (!ram->layout.base)
		return 0;
	p = mmap(ram->layout.base, ram->layout.size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	return p == MAP_FAILED ? -1 : 0;
}

void az_ram_destroy(struct az_ram *ram)
{
	if (ram->layout.base)
		munmap(ram->layout.base, ram->layout.size);
	if (ram->fd >= 0)
		close(ram->fd);
	if (ram->path) {
		unlink(ram->path);
		free(ram->path);
	}
	memset(ram, 0, sizeof(*ram));
	ram->fd = -1;
}
