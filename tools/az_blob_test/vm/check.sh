#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: static checks on the host, then the driver against the
# simulated Blob host in a QEMU/TCG guest for each Debian kernel.
# make demo:  one guest, showing requests going through /dev/azure_blob.
#
# Environment:
#   EXTRA_GUEST_TESTS=DIR  every executable in DIR also runs in each guest
#   KERNELS="KVER ..."     the kernels to test (default: newest 6.1 and 6.12)
#   GUEST_TIMEOUT=SECONDS  bound on one guest run (default 900)
#   AZ_TEST_ARGS="..."     arguments for az_blob_test in the guests (default -S)
#   FUZZ_CALLS, FUZZ32_CALLS, LIFECYCLE_ITERS, FAILINJECT_ITERS
#                          sizes of the long suites (default 1000000,
#                          200000, 20, 2000)
#   DEBUG_KERNEL=0         skip the debug kernel (and the series on its tree)
#   INTREE=0               skip the in-tree series test on 6.12
#   CHECK_WORK=DIR         where builds and logs go (default .cache/check)
set -u -o pipefail

TOP=$(cd "$(dirname "$0")/../../.." && pwd)
VM=$TOP/tools/az_blob_test/vm
CACHE=$TOP/.cache
WORK=${CHECK_WORK:-$CACHE/check}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-900}
MODE=check
[ "${1:-}" = "--demo" ] && MODE=demo

passed=0
failed=0
skipped=0
failures=()
figures=()
demo_rc=1
start=$(date +%s)

log() { printf '== %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf 'ok %s\n' "$1"; }
fail() {
	failed=$((failed + 1))
	failures+=("$1")
	printf 'FAIL %s: %s\n' "$1" "$2"
}
skip() { skipped=$((skipped + 1)); printf 'skip %s: %s\n' "$1" "$2"; }

summary() {
	local s
	if [ ${#figures[@]} -gt 0 ]; then
		log "figures"
		printf '   %s\n' "${figures[@]}"
		printf '   kernel reports (warnings, BUGs, KASAN, lockdep, kmemleak): %s\n' \
			"$(printf '%s\n' "${failures[@]}" | grep -c 'kernel log free' || true)"
	fi
	log "finished in $(($(date +%s) - start)) s"
	for s in "${failures[@]}"; do
		printf '   failed: %s\n' "$s"
	done
	if [ "$skipped" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	else
		printf '%d passed, %d failed\n' "$passed" "$failed"
	fi
	[ "$failed" -eq 0 ]
}

# The newest installed kernel of a Debian series with its headers.
newest_kernel() {
	local pattern=$1 v best=""
	for v in /boot/vmlinuz-$pattern; do
		[ -e "$v" ] || continue
		v=${v#/boot/vmlinuz-}
		[ -e "/lib/modules/$v/build/Makefile" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)
	done
	printf '%s' "$best"
}

# Run a build; any compiler or sparse diagnostic fails it.
build_clean() {
	local name=$1 logf=$2
	shift 2
	if ! "$@" >"$logf" 2>&1; then
		fail "$name" "build failed, see $logf"
		tail -n 20 "$logf" | sed 's/^/    /'
		return 1
	fi
	if grep -E 'warning:|error:|: sparse:' "$logf" >/dev/null; then
		fail "$name" "diagnostics, see $logf"
		grep -E 'warning:|error:|: sparse:' "$logf" | head -n 20 | sed 's/^/    /'
		return 1
	fi
	pass "$name"
}

# The whole linux-source-6.12 tree: checkpatch, kernel-doc, the in-tree test.
checkpatch_tree() {
	local src=$CACHE/linux-source-6.12
	[ -f "$src/Makefile" ] && [ -x "$src/scripts/checkpatch.pl" ] && return 0
	rm -rf "$src"
	mkdir -p "$CACHE"
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$CACHE"
}

# The in-tree series against one kernel tree (see intree-check.sh).
intree() {
	local line
	log "in-tree series against $1 ($2)"
	while IFS= read -r line; do
		case "$line" in
		"ok "*) pass "${line#ok }" ;;
		"FAIL "*) line=${line#FAIL }; fail "${line%%: *}" "${line#*: }" ;;
		*) printf '    %s\n' "$line" ;;
		esac
	done < <("$VM/intree-check.sh" "$1" "$2" "$CACHE/intree-$1" "${3:-sparse}" "${4:-}" 2>&1)
}

static_checks() {
	local cp=$CACHE/linux-source-6.12/scripts/checkpatch.pl out
	local kd=$CACHE/linux-source-6.12/scripts/kernel-doc
	local srcs="drivers/hv/hv_azure_blob.c include/uapi/misc/hv_azure_blob.h"

	log "static checks"
	checkpatch_tree || { fail checkpatch "cannot extract checkpatch.pl"; return; }
	# shellcheck disable=SC2086
	if out=$(cd "$TOP" && perl "$cp" --no-tree --strict --terse -f $srcs 2>&1); then
		pass "checkpatch --strict"
	else
		fail "checkpatch --strict" "$(printf '%s' "$out" | head -n 10)"
	fi
	# shellcheck disable=SC2086
	out=$(cd "$TOP" && perl "$kd" -none -Wall $srcs 2>&1)
	if [ -z "$out" ]; then
		pass "kernel-doc"
	else
		fail "kernel-doc" "$(printf '%s' "$out" | head -n 10)"
	fi

	out=$(groff -man -ww -z "$TOP/tools/az_blob_test/az_blob_test.1" 2>&1)
	if [ -z "$out" ]; then
		pass "man page az_blob_test.1 renders without warnings"
	else
		fail "man page az_blob_test.1 renders without warnings" "$out"
	fi

	mkdir -p "$WORK"
	printf '#include <misc/hv_azure_blob.h>\n' >"$WORK/uapi.c"
	cp "$WORK/uapi.c" "$WORK/uapi.cc"
	if gcc -Wall -Wextra -Werror -std=c99 -I"$TOP/include/uapi" -c "$WORK/uapi.c" -o /dev/null &&
	   gcc -m32 -Wall -Wextra -Werror -I"$TOP/include/uapi" -c "$WORK/uapi.c" -o /dev/null &&
	   g++ -Wall -Wextra -Werror -I"$TOP/include/uapi" -c "$WORK/uapi.cc" -o /dev/null; then
		pass "uapi header compiles alone (C, C -m32, C++)"
	else
		fail "uapi header compiles alone (C, C -m32, C++)" "compiler errors above"
	fi
}

build_tools() {
	local cflags="-O2 -Wall -Wextra -Werror -static -pthread -I$TOP/include/uapi -I$TOP/tools/az_blob_test"

	log "test tool"
	mkdir -p "$WORK/bin"
	# shellcheck disable=SC2086
	build_clean "az_blob_test (64-bit)" "$WORK/tool64.log" \
		gcc $cflags "$TOP/tools/az_blob_test/az_blob_test.c" -o "$WORK/bin/az_blob_test"
	# shellcheck disable=SC2086
	build_clean "az_blob_test (32-bit)" "$WORK/tool32.log" \
		gcc -m32 $cflags "$TOP/tools/az_blob_test/az_blob_test.c" -o "$WORK/bin/az_blob_test32"
}

# Build the production driver (checks) and the test pair for one kernel.
# A debug kernel has no VMBus core to link against: there the driver is
# checked as built against the simulated VMBus, with its KUnit tests.
build_kernel() {
	local kver=$1 kdir=$2 kind=$3 b=$WORK/$1 info
	local extra=(KBUILD_EXTRA_SYMBOLS="$b/sim/Module.symvers")

	log "build for $kver"
	rm -rf "$b"
	mkdir -p "$b/drv" "$b/test" "$b/sim"
	cp -r "$TOP/Kbuild" "$TOP/compat" "$TOP/drivers" "$TOP/include" "$b/drv/"
	cp -r "$TOP/Kbuild" "$TOP/compat" "$TOP/drivers" "$TOP/include" "$b/test/"
	cp -r "$TOP/tools/az_blob_test/sim/." "$b/sim/"
	cp "$TOP/tools/az_blob_test/az_blob_sim.h" "$b/"

	build_clean "$kver: simulated host builds W=1 clean" "$b/sim.log" \
		make -C "$kdir" M="$b/sim" W=1 modules || return 1

	if [ "$kind" = debug ]; then
		build_clean "$kver: driver and its KUnit tests build W=1 C=2 (sparse $SPARSE_VERSION) clean" \
			"$b/test.log" make -C "$kdir" M="$b/test" "${extra[@]}" \
			AZ_BLOB_KUNIT=y W=1 C=2 CHECK="$NEWEST_SPARSE" modules
		return
	fi

	build_clean "$kver: driver builds W=1 C=2 (sparse) clean" "$b/drv.log" \
		make -C "$kdir" M="$b/drv" W=1 C=2 modules || return 1
	info=$(modinfo "$b/drv/hv_azure_blob.ko")
	if grep -q '^alias: *vmbus:92b7900564dbcc4581dbb8d70c577c9e$' <<<"$info" &&
	   grep -q '^license: *GPL$' <<<"$info" &&
	   grep -q '^description: *.*Azure Blob' <<<"$info" &&
	   grep -q "^vermagic: *$kver " <<<"$info"; then
		pass "$kver: modinfo alias, license, description, vermagic"
	else
		fail "$kver: modinfo alias, license, description, vermagic" "$info"
	fi
	build_clean "$kver: driver builds against the simulated host" "$b/test.log" \
		make -C "$kdir" M="$b/test" "${extra[@]}" W=1 modules
}

# DKMS: install for each stock kernel, check what was installed, remove.
dkms_check() {
	local k f info logf=$WORK/dkms.log

	log "DKMS"
	: >"$logf"
	for k in "$@"; do
		if ! make -C "$TOP" -s dkms-install KVER="$k" >>"$logf" 2>&1; then
			fail "$k: dkms install" "see $logf"
			continue
		fi
		f=$(find "/lib/modules/$k/updates" -name 'hv_azure_blob.ko*' 2>/dev/null | head -n 1)
		info=$(modinfo "$f" 2>&1)
		if [ -n "$f" ] &&
		   grep -q '^alias: *vmbus:92b7900564dbcc4581dbb8d70c577c9e$' <<<"$info" &&
		   grep -q "^vermagic: *$k " <<<"$info" &&
		   grep -q '^license: *GPL$' <<<"$info" &&
		   grep -q '^description: *.*Azure Blob' <<<"$info" &&
		   modprobe -n -S "$k" hv_azure_blob >>"$logf" 2>&1; then
			pass "$k: dkms install ($f; alias, vermagic, license, description; modprobe finds it)"
		else
			fail "$k: dkms install" "$f: $info"
		fi
	done
	make -C "$TOP" -s dkms-remove >>"$logf" 2>&1
	if [ -z "$(find /lib/modules/*/updates -name 'hv_azure_blob.ko*' 2>/dev/null)" ] &&
	   ! dkms status -m hv_azure_blob 2>/dev/null | grep -q .; then
		pass "dkms remove leaves nothing behind"
	else
		fail "dkms remove leaves nothing behind" "see $logf"
	fi
}

# Assemble the initramfs for one kernel.
make_initrd() {
	local kver=$1 b=$WORK/$1 root=$WORK/$1/root t
	local mods=$root/lib/modules/$kver

	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,tests} "$mods/extra"
	cp /bin/busybox "$root/bin/busybox"
	cp "$b/test/hv_azure_blob.ko" "$b/sim/az_blob_sim.ko" "$mods/extra/"
	depmod -b "$root" "$kver" 2>/dev/null
	cp "$WORK/bin/az_blob_test" "$WORK/bin/az_blob_test32" "$root/bin/" 2>/dev/null
	cp "$VM/guest-init" "$root/init"
	chmod 755 "$root/init"
	if [ -n "${EXTRA_GUEST_TESTS:-}" ]; then
		for t in "$EXTRA_GUEST_TESTS"/*; do
			[ -f "$t" ] && [ -x "$t" ] && cp "$t" "$root/tests/"
		done
	fi
	printf '%s\n' "$MODE" >"$root/mode"
	printf '%s\n' "${AZ_TEST_ARGS--S}" >"$root/test-args"
	printf 'FUZZ_CALLS=%s\nFUZZ32_CALLS=%s\nLIFECYCLE_ITERS=%s\nFAILINJECT_ITERS=%s\n' \
		"${FUZZ_CALLS:-1000000}" "${FUZZ32_CALLS:-200000}" \
		"${LIFECYCLE_ITERS:-20}" "${FAILINJECT_ITERS:-2000}" >"$root/suite-args"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$b/initrd.gz"
}

run_guest() {
	local kver=$1 image=$2 b=$WORK/$1 logf=$WORK/$1/guest.log rc t0
	local append="console=ttyS0 loglevel=4 panic=-1 oops=panic rdinit=/init"

	log "guest $kver (log: $logf)"
	t0=$(date +%s)
	[ "$MODE" = demo ] && append="$append quiet"
	timeout "$GUEST_TIMEOUT" qemu-system-x86_64 \
		-machine q35,accel=tcg -cpu max -smp 2 -m 2048 \
		-nodefaults -no-reboot -display none \
		-serial "file:$logf" \
		-kernel "$image" -initrd "$b/initrd.gz" \
		-append "$append" >"$b/qemu.log" 2>&1
	rc=$?
	log "guest $kver ran $(($(date +%s) - t0)) s"
	tr -d '\r' <"$logf" >"$logf.txt"

	if [ "$MODE" = demo ]; then
		sed -n '/^@@ demo/,/^@@ end demo/p' "$logf.txt" | sed '1d;$d'
		grep -q "^@@ end demo" "$logf.txt" && demo_rc=0
		return
	fi

	if [ $rc -ne 0 ] || ! grep -q '^@@ done' "$logf.txt"; then
		fail "$kver: guest finished" "qemu exit $rc, no completion marker; see $logf"
		tail -n 30 "$logf.txt" | sed 's/^/    /'
	else
		pass "$kver: guest finished"
	fi
	parse_guest "$kver" "$logf.txt"
}

# Turn the guest's result lines into ours, and fail on kernel complaints.
parse_guest() {
	local kver=$1 logf=$2 group="" line name bad
	while IFS= read -r line; do
		case "$line" in
		"@@ run "*) group=${line#@@ run } ;;
		"ok "*) pass "$kver: $group: ${line#ok }" ;;
		"FAIL "*) name=${line#FAIL }; fail "$kver: $group: ${name%%: *}" "${name#*: }" ;;
		"skip "*) name=${line#skip }; skip "$kver: $group: ${name%%: *}" "${name#*: }" ;;
		"# "*)
			printf '   %s: %s: %s\n' "$kver" "$group" "$line"
			case "$line" in
			*" calls in "*|*injected*|*"iterations per case"*)
				figures+=("$kver: $group: ${line#\# }") ;;
			esac ;;
		esac
	done < <(grep -E '^(@@ run |ok |FAIL |skip |# )' "$logf" | grep -vE '^# [a-z_0-9]+: [0-9]+%, ')

	bad=$(grep -nE 'WARNING:|BUG:|Oops|Call Trace|general protection|UBSAN|KASAN|kmemleak:|unreferenced object|ODEBUG|DEBUG_LOCKS_WARN_ON|suspicious RCU usage|sleeping function called from invalid context|INFO: task .* blocked|possible circular locking|possible recursive locking|inconsistent lock state|list_(add|del) corruption|refcount_t:|stack-protector' "$logf" | grep -v 'kmemleak: Kernel memory leak detector initialized' | grep -v 'kmemleak: Automatic memory scanning thread' | head -n 20)
	if [ -z "$bad" ]; then
		pass "$kver: kernel log free of warnings, BUGs, oopses and leaks"
	else
		fail "$kver: kernel log free of warnings, BUGs, oopses and leaks" "$bad"
	fi
}

main() {
	local k kernels t name image kdir kind tree targets=()

	log "installing what is missing"
	"$VM/install-deps.sh" || { fail "install dependencies" "install-deps.sh failed"; summary; exit 1; }

	kernels=${KERNELS:-"$(newest_kernel '6.1.0-*-amd64') $(newest_kernel '6.12.*+deb12-amd64')"}
	[ "$MODE" = demo ] && kernels=$(printf '%s\n' $kernels | tail -n 1)
	log "kernels: $kernels"

	mkdir -p "$WORK"
	if [ "$MODE" = check ]; then
		static_checks
	fi
	for k in $kernels; do
		[ "$k" = none ] && continue
		if [ ! -e "/boot/vmlinuz-$k" ]; then
			fail "$k: kernel image" "missing /boot/vmlinuz-$k"
			continue
		fi
		targets+=("$k /boot/vmlinuz-$k /lib/modules/$k/build stock")
	done
	if [ "$MODE" = check ] && [ "${DEBUG_KERNEL:-1}" = 1 ]; then
		log "debug kernel from the newest Debian source (cached in $CACHE/newest)"
		if tree=$("$VM/debug-kernel.sh" "$CACHE" 2>"$WORK/debug-kernel.log") &&
		   NEWEST_SPARSE=$("$VM/newest-sparse.sh" "$CACHE/newest" 2>>"$WORK/debug-kernel.log"); then
			SPARSE_VERSION=$(basename "$CACHE"/newest/sparse-src/sparse_*.dsc .dsc | sed 's/^sparse_//')
			k=$(make -s -C "$tree" kernelrelease)
			pass "debug kernel $k ($(cat "$tree/.debian-version")) built"
			targets+=("$k $tree/arch/x86/boot/bzImage $tree debug")
			tree=$(ls -d "$CACHE"/newest/linux-source-* | head -n 1)
			intree "${tree##*linux-source-}" "$tree" "$NEWEST_SPARSE" docs
		else
			fail "debug kernel builds" "see $WORK/debug-kernel.log"
			tail -n 20 "$WORK/debug-kernel.log" | sed 's/^/    /'
		fi
	fi

	if [ "$MODE" = check ] && [ "${INTREE:-1}" = 1 ]; then
		intree 6.12 "$CACHE/linux-source-6.12"
	fi
	if [ "$MODE" = check ]; then
		# shellcheck disable=SC2086
		dkms_check $(for t in "${targets[@]}"; do
			read -r name image kdir kind <<<"$t"
			[ "$kind" = stock ] && printf '%s ' "$name"
		done)
	fi

	build_tools
	for t in "${targets[@]}"; do
		read -r name image kdir kind <<<"$t"
		build_kernel "$name" "$kdir" "$kind" || continue
		make_initrd "$name"
		run_guest "$name" "$image"
	done
	if [ "$MODE" = demo ]; then
		[ "$demo_rc" -eq 0 ] && log "demo finished" || log "demo FAILED, see $WORK"
		exit "$demo_rc"
	fi
	summary
}

main "$@"
