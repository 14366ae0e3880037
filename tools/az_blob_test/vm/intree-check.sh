#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Test the in-tree patch series against one kernel source tree: it applies
# cleanly, checkpatch --strict is clean on every patch, the driver builds
# in-tree as a module with W=1 and C=2, the uapi header passes the kernel's
# header test, and kernel-doc is silent. Prints ok/FAIL lines.
#
#   intree-check.sh NAME KSRC WORKDIR SPARSE docs|nodocs SYMVERS...
#
# SYMVERS are Module.symvers files of kernels built from the same source:
# the driver's references to vmlinux are checked against them.
#
# With "docs", also render Documentation/userspace-api with the kernel's
# Sphinx build and require no warning from the driver's document.
#
# The pristine KSRC is never written: the patched tree is a hard-linked copy
# (patch(1) replaces the files it changes), and the build goes to
# WORKDIR/out. Both are kept, so a second run only rebuilds what changed.
set -uo pipefail

name=$1
ksrc=$(cd "$2" && pwd)
mkdir -p "$3"
work=$(cd "$3" && pwd)
sparse=${4:-sparse}
docs=${5:-}
shift 5
symvers="$*"
top=$(cd "$(dirname "$0")/../../.." && pwd)
src=$work/src
out=$work/out
logf=$work/build.log
failed=0

pass() { printf 'ok %s: %s\n' "$name" "$1"; }
fail() {
	failed=1
	printf 'FAIL %s: %s: %s\n' "$name" "$1" "$2"
}

rm -rf "$work/patches"
if ! "$top/scripts/mkpatches.sh" "$ksrc" "$work/patches" >"$work/mkpatches.log" 2>&1; then
	fail "make patches" "$(tail -n 5 "$work/mkpatches.log")"
	exit 1
fi
pass "make patches: $(ls "$work"/patches/*.patch | wc -l) files (cover letter + series)"

out_cp=$( (cd "$ksrc" && perl scripts/checkpatch.pl --strict --terse "$work"/patches/000[1-9]*.patch) 2>&1)
if [ $? -eq 0 ]; then
	pass "checkpatch --strict on the patches"
else
	fail "checkpatch --strict on the patches" "$(grep -E 'ERROR|WARNING|CHECK' <<<"$out_cp" | head -n 10)"
fi

# A fresh patched copy whenever the series or the pristine tree changed; a
# new tree also starts a new build directory.
tree_ver=$(cat "$ksrc/.debian-version" 2>/dev/null || echo unknown)
if [ "$(cat "$out/.az-tree" 2>/dev/null)" != "$tree_ver" ]; then
	rm -rf "$out"
	mkdir -p "$out"
	printf '%s\n' "$tree_ver" >"$out/.az-tree"
fi
want=$( (printf '%s\n' "$tree_ver"; cat "$work"/patches/000[1-9]*.patch) |
	sed '/^From [0-9a-f]* /d' | sha256sum | cut -d' ' -f1)
if [ ! -f "$src/.az-series" ] || [ "$(cat "$src/.az-series")" != "$want" ]; then
	rm -rf "$src"
	cp -al "$ksrc" "$src"
	applied=1
	for p in "$work"/patches/000[1-9]*.patch; do
		if ! res=$(patch -d "$src" -p1 --fuzz=0 --no-backup-if-mismatch <"$p" 2>&1) ||
		   grep -qE 'offset|fuzz|FAILED|rejects' <<<"$res"; then
			fail "series applies cleanly" "$(basename "$p"): $res"
			applied=0
			break
		fi
	done
	[ $applied -eq 1 ] || exit 1
	if grep -q hv_azure_blob "$ksrc/drivers/hv/Makefile"; then
		fail "pristine tree untouched" "patch wrote through a hard link"
		exit 1
	fi
	printf '%s\n' "$want" >"$src/.az-series"
fi
pass "series applies cleanly (no offset, no fuzz)"

vmbus=HYPERV
grep -q '^config HYPERV_VMBUS$' "$src/drivers/hv/Kconfig" && vmbus=HYPERV_VMBUS
mkdir -p "$out"
{
	printf 'CONFIG_64BIT=y\nCONFIG_SMP=y\nCONFIG_PCI=y\nCONFIG_PRINTK=y\n'
	printf 'CONFIG_HYPERVISOR_GUEST=y\nCONFIG_X86_LOCAL_APIC=y\n'
	printf 'CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_DEBUG_FS=y\n'
	printf 'CONFIG_DEBUG_INFO_NONE=y\nCONFIG_KUNIT=y\n'
	printf 'CONFIG_HEADERS_INSTALL=y\nCONFIG_UAPI_HEADER_TEST=y\n'
	if [ "$vmbus" = HYPERV_VMBUS ]; then
		printf 'CONFIG_HYPERV=y\nCONFIG_HYPERV_VMBUS=m\n'
	else
		printf 'CONFIG_HYPERV=m\n'
	fi
	printf 'CONFIG_HYPERV_AZURE_BLOB=m\nCONFIG_HYPERV_AZURE_BLOB_KUNIT_TEST=y\n'
} >"$work/intree.config"

: >"$logf"
make -C "$src" O="$out" -s tinyconfig >>"$logf" 2>&1 &&
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$work/intree.config" >>"$logf" 2>&1 &&
	make -C "$src" O="$out" -s olddefconfig >>"$logf" 2>&1
for opt in HYPERV_AZURE_BLOB=m HYPERV_AZURE_BLOB_KUNIT_TEST=y UAPI_HEADER_TEST=y; do
	if ! grep -qx "CONFIG_$opt" "$out/.config"; then
		fail "Kconfig" "CONFIG_$opt did not survive olddefconfig (see $logf)"
		exit 1
	fi
done
pass "Kconfig: HYPERV_AZURE_BLOB=m (depends on $vmbus), KUNIT_TEST=y"

# No vmlinux: what the series needs is the prepared tree, the modules of
# drivers/hv (the VMBus core and the driver) and the uapi header test.
# modpost then cannot see vmlinux's exports, so it only warns about them;
# every symbol the driver takes from outside drivers/hv must be exported
# somewhere in the tree, which is checked below instead.
t0=$(date +%s)
if ! make -C "$src" O="$out" -s -j"$(nproc)" modules_prepare >>"$logf" 2>&1 ||
   ! make -C "$src" O="$out" -s -j"$(nproc)" KBUILD_MODPOST_WARN=1 modules >>"$logf" 2>&1 ||
   ! make -C "$src" O="$out" -s -j"$(nproc)" usr/ >>"$logf" 2>&1; then
	fail "modules and uapi header test build with the series" "$(grep -E 'error|Error' "$logf" | head -n 10)"
	exit 1
fi
pass "modules of drivers/hv and the uapi header test build with the series ($(($(date +%s) - t0)) s)"
if [ -f "$out/usr/include/misc/hv_azure_blob.hdrtest" ]; then
	pass "uapi header passes the kernel's header test (usr/include)"
else
	fail "uapi header test" "no usr/include/misc/hv_azure_blob.hdrtest"
fi

# The driver again, alone, with every check; then link it with the rest.
objs=$(cd "$src" && ls drivers/hv/hv_azure_blob_*.c | sed 's/\.c$/.o/')
# shellcheck disable=SC2086
(cd "$out" && rm -f $objs drivers/hv/hv_azure_blob.o drivers/hv/hv_azure_blob.ko)
# shellcheck disable=SC2086
if ! make -C "$src" O="$out" W=1 C=2 CHECK="$sparse" $objs >"$work/driver.log" 2>&1 ||
   ! make -C "$src" O="$out" -s -j"$(nproc)" KBUILD_MODPOST_WARN=1 modules >"$work/modpost.log" 2>&1; then
	fail "driver builds in-tree W=1 C=2" "$(tail -n 10 "$work/driver.log" "$work/modpost.log")"
elif grep -E 'warning:|error:' "$work/driver.log" >/dev/null; then
	fail "driver builds in-tree W=1 C=2" "$(grep -E 'warning:|error:' "$work/driver.log" | head -n 10)"
elif [ ! -f "$out/drivers/hv/hv_azure_blob.ko" ]; then
	fail "driver builds in-tree W=1 C=2" "no hv_azure_blob.ko"
else
	pass "driver builds in-tree (=m) W=1 C=2 clean, KUnit tests included"
fi

# What modpost could not resolve without vmlinux: each must be exported by
# this tree's VMBus core (built above) or by a vmlinux of the same source
# (SYMVERS: Module.symvers of a kernel built from it).
need=$(nm -u "$out/drivers/hv/hv_azure_blob.ko" | awk '{ print $2 }' |
	grep -vE '^(__fentry__|__x86_indirect_thunk_.*|__x86_return_thunk|__stack_chk_fail)$' | sort -u)
exported=$(cat "$out/modules-only.symvers" $symvers 2>/dev/null | awk '{ print $2 }' | sort -u)
missing=""
for sym in $(comm -23 <(printf '%s\n' "$need") <(printf '%s\n' "$exported")); do
	# Built in here but not in that kernel (KUnit): its export in the source.
	grep -rqsE --include='*.c' "EXPORT_SYMBOL(_GPL)?(_NS(_GPL)?)?\\([[:space:]]*$sym\\b" \
		"$src/lib" "$src/kernel" "$src/mm" "$src/drivers/base" ||
		missing="$missing $sym"
done
if [ -z "$need" ]; then
	fail "every symbol the driver uses is exported" "nm found no undefined symbol"
elif [ -n "$missing" ]; then
	fail "every symbol the driver uses is exported" "not exported:$missing"
else
	pass "every symbol the driver uses ($(wc -l <<<"$need")) is exported by the tree"
fi

kd=$( (cd "$src" && perl scripts/kernel-doc -none -Wall drivers/hv/hv_azure_blob*.[ch] \
	include/uapi/misc/hv_azure_blob.h) 2>&1)
if [ -z "$kd" ]; then
	pass "scripts/kernel-doc -Wall silent on the driver and the uapi header"
else
	fail "scripts/kernel-doc" "$(head -n 10 <<<"$kd")"
fi
if [ "$docs" = docs ]; then
	rm -rf "$work/docs"
	make -C "$src" O="$work/docs" PYTHON3=/usr/bin/python3 SPHINXDIRS=userspace-api \
		htmldocs >"$work/docs.log" 2>&1
	html=$work/docs/Documentation/output/userspace-api/hv_azure_blob.html
	# Only what concerns the document or the header it renders (the
	# kernel's own documents have warnings of their own).
	warn=$(grep -E 'userspace-api/hv_azure_blob|misc/hv_azure_blob\.h' "$work/docs.log" |
		grep -iE 'warning|error')
	if [ ! -f "$html" ]; then
		fail "Sphinx renders the userspace-api document" "no $html; see $work/docs.log"
	elif [ -n "$warn" ]; then
		fail "Sphinx renders the userspace-api document" "$(head -n 5 <<<"$warn")"
	elif ! grep -q 'IOCTL_AZ_BLOB_DRIVER_USER_REQUEST' "$html"; then
		fail "Sphinx renders the userspace-api document" "the uapi kernel-doc is missing"
	else
		pass "Sphinx (make htmldocs SPHINXDIRS=userspace-api) renders the document, uapi kernel-doc included, no warning from it"
	fi
fi
exit $failed
