# SPDX-License-Identifier: GPL-2.0
#
# Convenience targets around the kernel's own build (see Kbuild).
#
#   make                 build hv_azure_blob.ko for the running kernel
#   make KVER=6.12.x     ... or for another installed kernel
#   make check           the whole test suite (static checks + QEMU guests)
#   make demo            boot one guest and show requests going through

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
SIM := $(CURDIR)/tools/az_blob_test/sim

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

check:
	tools/az_blob_test/vm/check.sh

demo:
	tools/az_blob_test/vm/check.sh --demo

.PHONY: all modules sim clean check demo
