#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Produce the in-tree patch series (git format-patch, with a cover letter)
# against a kernel source tree, from this repository's files. The in-tree
# driver carries no compat code.
#
#   mkpatches.sh KSRC OUTDIR
#
# Only the files the series touches are read from KSRC, so KSRC may be any
# unpacked tree (a git checkout or not); the patches apply to it with
# `git am` or `patch -p1`.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ksrc=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
series=$top/scripts/series
touched="MAINTAINERS drivers/hv/Kconfig drivers/hv/Makefile drivers/hv/vmbus_drv.c
Documentation/userspace-api/index.rst
Documentation/userspace-api/ioctl/ioctl-number.rst"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for f in $touched; do
	mkdir -p "$work/$(dirname "$f")"
	cp "$ksrc/$f" "$work/$f"
done
cd "$work"
git init -q
git config user.name "$(git -C "$top" config user.name || echo hv_azure_blob developers)"
git config user.email "$(git -C "$top" config user.email || echo dev@hv-azure-blob.invalid)"
git add -A
git commit -q -m base
# The series' commits carry a fixed date so that its files are reproducible.
export GIT_AUTHOR_DATE="2026-11-25T00:00:00Z" GIT_COMMITTER_DATE="2026-11-25T00:00:00Z"

commit() {
	git add -A
	git commit -q -s -F "$series/$1"
}

# Each patch that adds files lists them in our MAINTAINERS section (made by
# the first one, just before the Hyper-V core's).
maintain() {
	python3 - MAINTAINERS "$(git config user.name) <$(git config user.email)>" "$@" <<'EOF'
import sys
p, me, files = sys.argv[1], sys.argv[2], sys.argv[3:]
s = open(p).read()
title = "HYPER-V/AZURE BLOB DRIVER\n"
if title not in s:
    anchor = "Hyper-V/Azure CORE AND DRIVERS\n"
    assert s.count(anchor) == 1, "no Hyper-V section in MAINTAINERS"
    head = (title + "M:\t" + me + "\nL:\tlinux-hyperv@vger.kernel.org\n"
            "S:\tSupported\n\n")
    s = s.replace(anchor, head + anchor)
start = s.index(title)
end = s.index("\n\n", start)
section = s[start:end].split("\n")
fl = sorted(set([l for l in section if l.startswith("F:")] +
                ["F:\t" + f for f in files]))
section = [l for l in section if not l.startswith("F:")] + fl
s = s[:start] + "\n".join(section) + s[end:]
open(p, "w").write(s)
EOF
}

# In 7.x the VMBus core is HYPERV_VMBUS; before, HYPERV was.
if grep -q '^config HYPERV_VMBUS$' drivers/hv/Kconfig; then
	vmbus_sym=HYPERV_VMBUS
else
	vmbus_sym=HYPERV
fi

# 1: the VMBus core leaves Azure Blob's companion PCIe channel alone.
python3 - drivers/hv/vmbus_drv.c <<'EOF'
import re, sys
p = sys.argv[1]
s = open(p).read()
anchor = "static const struct hv_vmbus_device_id *hv_vmbus_get_id("
guid = """/*
 * The host offers Azure Blob with a companion PCIe channel that has no PCIe
 * function behind it; no driver may bind it.
 */
static const guid_t vmbus_blob_vpci_instance =
\tGUID_INIT(0xd4573da2, 0x2caa, 0x4711,
\t\t  0xa8, 0xf9, 0xbb, 0xab, 0xf4, 0xee, 0x96, 0x85);

"""
assert s.count(anchor) == 1, "hv_vmbus_get_id() not found"
s = s.replace(anchor, guid + anchor)
body = s.index(anchor)
decl_end = s.index("\tint ret;\n", body) + len("\tint ret;\n")
check = """
\tif (guid_equal(&dev->dev_instance, &vmbus_blob_vpci_instance))
\t\treturn NULL;
"""
s = s[:decl_end] + check + s[decl_end:]
open(p, "w").write(s)
EOF
commit 0001-vmbus-companion.txt

# 2: the uapi header and its ioctl number.
mkdir -p include/uapi/misc
cp "$top/include/uapi/misc/hv_azure_blob.h" include/uapi/misc/
python3 - Documentation/userspace-api/ioctl/ioctl-number.rst "$top/Documentation/userspace-api/ioctl/ioctl-number.rst.entry" <<'EOF'
import sys
p, entry = sys.argv[1], open(sys.argv[2]).read()
lines = open(p).read().split("\n")
# After the last 'R' entry (and its continuation lines).
last = max(i for i, l in enumerate(lines) if l.startswith("'R'"))
while last + 1 < len(lines) and lines[last + 1].startswith(" "):
    last += 1
lines.insert(last + 1, entry.rstrip("\n"))
open(p, "w").write("\n".join(lines))
EOF
maintain include/uapi/misc/hv_azure_blob.h
commit 0002-uapi.txt

# 3: the driver, its KUnit tests, Kconfig, Makefile, MAINTAINERS.
cp "$top"/drivers/hv/hv_azure_blob*.h "$top"/drivers/hv/hv_azure_blob_*.c drivers/hv/
python3 - drivers/hv/Kconfig "$vmbus_sym" <<'EOF'
import sys
p, dep = sys.argv[1], sys.argv[2]
s = open(p).read()
entry = f"""config HYPERV_AZURE_BLOB
\ttristate "Microsoft Azure Blob driver"
\tdepends on {dep}
\thelp
\t  Select this option to enable the driver for accelerated access to
\t  Microsoft Azure Blob storage: user space hands Blob requests to
\t  /dev/azure_blob and the Hyper-V host executes them over its own
\t  network path, reading and writing the caller's buffers directly.

\t  To compile this driver as a module, choose M here: the module will
\t  be called hv_azure_blob.

config HYPERV_AZURE_BLOB_KUNIT_TEST
\tbool "KUnit tests for the Azure Blob driver" if !KUNIT_ALL_TESTS
\tdepends on HYPERV_AZURE_BLOB && KUNIT=y
\tdefault KUNIT_ALL_TESTS
\thelp
\t  Builds KUnit tests of the driver's request validation, GPA range
\t  layout and completion checks into the driver.

\t  If unsure, say N.

"""
i = s.rindex("endmenu")
s = s[:i] + entry + s[i:]
open(p, "w").write(s)
EOF
cat >>drivers/hv/Makefile <<'EOF'
obj-$(CONFIG_HYPERV_AZURE_BLOB)	+= hv_azure_blob.o
hv_azure_blob-y			:= hv_azure_blob_main.o hv_azure_blob_request.o \
				   hv_azure_blob_channel.o hv_azure_blob_uring.o
# hv_azure_blob_trace.h, for the file that defines the tracepoints
CFLAGS_hv_azure_blob_main.o	:= -I$(src)
hv_azure_blob-$(CONFIG_HYPERV_AZURE_BLOB_KUNIT_TEST) += hv_azure_blob_test.o
EOF
maintain drivers/hv/hv_azure_blob*.h drivers/hv/hv_azure_blob_*.c
commit 0003-driver.txt

# 4: the userspace-api document.
cp "$top/Documentation/userspace-api/hv_azure_blob.rst" Documentation/userspace-api/
python3 - Documentation/userspace-api/index.rst <<'EOF'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
i = lines.index("Devices and I/O")
# The end of that section's toctree: the first blank line after an entry.
j = i + 1
while not lines[j].startswith("   ") or lines[j].startswith("   :"):
    j += 1
while j < len(lines) and lines[j].startswith("   "):
    j += 1
lines.insert(j, "   hv_azure_blob")
open(p, "w").write("\n".join(lines))
EOF
maintain Documentation/userspace-api/hv_azure_blob.rst
commit 0004-docs.txt

rm -f "$out"/*.patch
git format-patch -q --cover-letter --thread=shallow -o "$out" HEAD~4
cover=$(ls "$out"/0000-*.patch)
python3 - "$cover" "$series/0000-cover.txt" <<'EOF'
import sys
p, blurb = sys.argv[1], open(sys.argv[2]).read()
s = open(p).read()
subject, body = blurb.split("\n", 1)
s = s.replace("*** SUBJECT HERE ***", subject)
s = s.replace("*** BLURB HERE ***", body.strip("\n"))
open(p, "w").write(s)
EOF
ls "$out"/*.patch
