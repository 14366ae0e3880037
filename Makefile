# SPDX-License-Identifier: GPL-2.0
#
# Convenience targets around the kernel's own build (see Kbuild).
#
#   make                 build hv_azure_blob.ko for the running kernel
#   make KVER=6.12.x     ... or for another installed kernel
#   make check           the whole test suite (static checks + QEMU guests)
#   make demo            files through /dev/azure_blob to Azure Blob Storage
#                        (Azurite) and back, from a QEMU guest served by the
#                        host VSP outside it; the Azure SDK reads them too
#   make demo-sim        one guest against the simulated host inside it
#   make bench           the benchmarks, written into BENCHMARKS.md (see
#                        tools/az_blob_test/bench/bench.sh for the knobs)
#   make dkms-install    add, build and install with DKMS for KVER
#   make dkms-remove     remove it again from every kernel
#   make install-udev    group azureblob may use /dev/azure_blob*
#   make patches KSRC=/path/to/linux [OUT=patches]
#                        the in-tree series (git format-patch) against KSRC

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
SIM := $(CURDIR)/tools/az_blob_test/sim
DKMS_NAME := hv_azure_blob
DKMS_VER := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC := /usr/src/$(DKMS_NAME)-$(DKMS_VER)
# What DKMS needs to build the module, nothing else.
DKMS_FILES := Kbuild dkms.conf compat $(wildcard drivers/hv/hv_azure_blob*) \
	include/uapi/misc/hv_azure_blob.h

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The driver against the simulated VMBus (tests only).
sim:
	$(MAKE) -C $(KDIR) M=$(SIM) modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) KBUILD_EXTRA_SYMBOLS=$(SIM)/Module.symvers modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C $(KDIR) M=$(SIM) clean

dkms-add:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	tar -cf - $(DKMS_FILES) | tar -xf - -C $(DKMS_SRC)
	dkms status -m $(DKMS_NAME) -v $(DKMS_VER) | grep -q . || \
		dkms add -m $(DKMS_NAME) -v $(DKMS_VER)

dkms-build: dkms-add
	dkms build --force -m $(DKMS_NAME) -v $(DKMS_VER) -k $(KVER)

dkms-install: dkms-build
	dkms install --force -m $(DKMS_NAME) -v $(DKMS_VER) -k $(KVER)

dkms-remove:
	-dkms remove -m $(DKMS_NAME) -v $(DKMS_VER) --all
	rm -rf $(DKMS_SRC)

install-udev:
	getent group azureblob >/dev/null || groupadd --system azureblob
	install -m 0644 udev/60-hv-azure-blob.rules /etc/udev/rules.d/
	-udevadm control --reload

patches:
	@test -n "$(KSRC)" || { echo "make patches KSRC=/path/to/linux"; exit 2; }
	scripts/mkpatches.sh $(KSRC) $(or $(OUT),patches)

check:
	tools/az_blob_test/vm/check.sh

demo:
	@tools/az_blob_test/vm/install-deps.sh
	@BLOB_DEMO=1 tools/az_blob_test/blob/blob-smoke.sh

demo-sim:
	tools/az_blob_test/vm/check.sh --demo

bench:
	@tools/az_blob_test/vm/install-deps.sh
	tools/az_blob_test/bench/bench.sh

.PHONY: all modules sim clean check demo demo-sim bench dkms-add dkms-build dkms-install \
	dkms-remove install-udev patches
