#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: static checks on the host, then the driver against the
# simulated Blob host in a QEMU/TCG guest for each Debian kernel.
# make demo:  one guest, showing requests going through /dev/azure_blob.
#
# Nothing here depends on the speed of the machine: a guest is stopped only
# when it has printed nothing for GUEST_SILENCE seconds (every suite prints
# progress far more often), never by a wall-clock limit of its own.
#
# Environment:
#   AZ_BLOB_CACHE=DIR      the build cache, shared by every clone on the
#                          machine (default ${XDG_CACHE_HOME:-~/.cache}/hv_azure_blob):
#                          kernel sources, the debug kernel, the in-tree builds
#   CHECK_WORK=DIR         this run's builds and logs (default .cache/check)
#   EXTRA_GUEST_TESTS=DIR  every executable in DIR also runs in each guest
#   KERNELS="KVER ..."     the stock kernels to test (default: newest 6.1 and 6.12)
#   GUEST_SILENCE=SECONDS  a guest silent this long has hung (default 600)
#   GUEST_TIMEOUT=SECONDS  optional hard bound on one guest (default none)
#   AZ_TEST_ARGS="..."     arguments for az_blob_test in the guests (default -S)
#   FUZZ_CALLS, FUZZ32_CALLS, URING_FUZZ_CALLS, URING_FUZZ32_CALLS,
#   LIFECYCLE_ITERS, FAILINJECT_ITERS
#                          sizes of the long suites on the stock kernels
#                          (default 1000000, 200000, 800000, 200000, 20, 2000)
#   DEBUG_FUZZ_CALLS, DEBUG_FUZZ32_CALLS, DEBUG_URING_FUZZ_CALLS,
#   DEBUG_URING_FUZZ32_CALLS, DEBUG_LIFECYCLE_ITERS,
#   DEBUG_FAILINJECT_ITERS the same on the debug kernel, which is there for
#                          KASAN/lockdep/kmemleak breadth, not volume
#                          (default 100000, 20000, 60000, 30000, 10, 2000)
#   DEBUG_KERNEL=0         skip the debug kernel (and the series on its tree)
#   INTREE=0               no effect: the in-tree series is written for the
#                          newest kernel and tested on its tree only (the
#                          debug kernel's); older kernels build it out of
#                          tree with compat/ (DKMS)
#   OUTSIDE_HOST=0         skip the guests served by the host VSP outside
#                          them (relay-smoke.sh, blob-smoke.sh with Azurite)
#   OUTSIDE_TIMEOUT=S      hard bound on each of those guests (default 1200)
#   BENCH="ARGS"           instead of the checks: boot each of KERNELS and run
#                          az_blob_bench ARGS there (tools/az_blob_test/bench)
#   BENCH_SCRIPT=FILE      as BENCH, but run the shell script FILE in the
#                          guest instead, with BENCH's words as arguments
#                          (az_blob_bench is in its PATH)
#   BENCH_NEWEST=1         with BENCH: also the bench kernel, the debug
#                          kernel's source and config without the debugging
#                          (vm/bench.config; KERNELS=none: that one alone)
set -u -o pipefail

TOP=$(cd "$(dirname "$0")/../../.." && pwd)
VM=$TOP/tools/az_blob_test/vm
CACHE=${AZ_BLOB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/hv_azure_blob}
WORK=${CHECK_WORK:-$TOP/.cache/check}
GUEST_SILENCE=${GUEST_SILENCE:-600}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-0}
MODE=check
[ "${1:-}" = "--demo" ] && MODE=demo
[ -n "${BENCH:-}${BENCH_SCRIPT:-}" ] && MODE=bench

passed=0
failed=0
skipped=0
failures=()
figures=()
phases=()
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

# Run a command as a child and wait for it: a trapped signal interrupts
# `wait` at once, where a foreground child would delay the trap until it
# ended.
bg() {
	"$@" &
	wait $!
}

# Time one phase: phase NAME FUNCTION [ARGS...]
phase() {
	local name=$1 t0 rc
	t0=$(date +%s)
	shift
	"$@"
	rc=$?
	phases+=("$(printf '%6d s  %s' $(($(date +%s) - t0)) "$name")")
	return $rc
}

# Every process below this shell, deepest first.
descendants() {
	local p
	for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		descendants "$p"
		printf '%s\n' "$p"
	done
}

# Stop the guests, builds and servers this run started.
stop_children() {
	local pids
	pids=$(descendants $$)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	sleep 1
	pids=$(descendants $$)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	return 0
}

on_signal() {
	trap - INT TERM HUP
	printf '\n'
	log "interrupted by SIG$1: stopping guests, builds and servers"
	stop_children
	fail "make check" "interrupted by SIG$1"
	summary
	exit $((128 + $2))
}
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP
trap stop_children EXIT

summary() {
	local s
	if [ ${#figures[@]} -gt 0 ]; then
		log "figures"
		printf '   %s\n' "${figures[@]}"
		printf '   kernel reports (warnings, BUGs, KASAN, lockdep, kmemleak): %s\n' \
			"$(printf '%s\n' "${failures[@]}" | grep -c 'kernel log free' || true)"
	fi
	if [ ${#phases[@]} -gt 0 ]; then
		log "where the time went"
		printf '%s\n' "${phases[@]}"
	fi
	log "finished in $(($(date +%s) - start)) s (cache: $CACHE)"
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
	if ! bg "$@" >"$logf" 2>&1; then
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

# linux-source-6.12, unpacked once per package version into the cache:
# checkpatch, kernel-doc and the in-tree test use it.
checkpatch_tree() {
	local src=$CACHE/linux-source-6.12 ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null)
	if [ -f "$src/Makefile" ] && [ -x "$src/scripts/checkpatch.pl" ] &&
	   [ "$(cat "$src/.debian-version" 2>/dev/null)" = "$ver" ]; then
		return 0
	fi
	rm -rf "$src"
	mkdir -p "$CACHE"
	bg tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$CACHE" || return 1
	printf '%s\n' "$ver" >"$src/.debian-version"
}

# The in-tree series against one kernel tree (see intree-check.sh).
intree() {
	local line
	log "in-tree series against $1 ($2)"
	while IFS= read -r line; do
		case "$line" in
		"ok "*) pass "${line#ok }" ;;
		"FAIL "*)
			# "FAIL TREE: CHECK: WHY"
			line=${line#FAIL }
			rest=${line#*: }
			fail "${line%%: *}: ${rest%%: *}" "${rest#*: }" ;;
		*) printf '    %s\n' "$line" ;;
		esac
	done < <("$VM/intree-check.sh" "$1" "$2" "$CACHE/intree-$1" "$3" "$4" "$5" 2>&1)
}

static_checks() {
	local cp=$CACHE/linux-source-6.12/scripts/checkpatch.pl out
	local kd=$CACHE/linux-source-6.12/scripts/kernel-doc
	local srcs="drivers/hv/hv_azure_blob*.[ch] include/uapi/misc/hv_azure_blob.h"

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
	log "test tool"
	mkdir -p "$WORK/bin"
	build_clean "az_blob_test (64-bit and 32-bit)" "$WORK/tool.log" \
		make -C "$TOP/tools/az_blob_test" -s O="$WORK/bin" all
	# bench: the check mode needs az_blob_bench too (its short run)
	if [ "$MODE" != demo ]; then
		build_clean "az_blob_bench" "$WORK/bench.log" \
			make -C "$TOP/tools/az_blob_test/bench" -s O="$WORK/bin" all
	fi
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
	if [ "$kind" = bench ]; then
		build_clean "$kver: driver builds W=1 clean" "$b/test.log" \
			make -C "$kdir" M="$b/test" "${extra[@]}" W=1 modules
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
		if ! bg make -C "$TOP" -s dkms-install KVER="$k" >>"$logf" 2>&1; then
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
	bg make -C "$TOP" -s dkms-remove >>"$logf" 2>&1
	if [ -z "$(find /lib/modules/*/updates -name 'hv_azure_blob.ko*' 2>/dev/null)" ] &&
	   ! dkms status -m hv_azure_blob 2>/dev/null | grep -q .; then
		pass "dkms remove leaves nothing behind"
	else
		fail "dkms remove leaves nothing behind" "see $logf"
	fi
}

# The sizes of the long suites for one kind of kernel, as "NAME=VALUE" lines.
suite_sizes() {
	if [ "$1" = debug ]; then
		printf 'FUZZ_CALLS=%s\nFUZZ32_CALLS=%s\nURING_FUZZ_CALLS=%s\nURING_FUZZ32_CALLS=%s\nLIFECYCLE_ITERS=%s\nFAILINJECT_ITERS=%s\n' \
			"${DEBUG_FUZZ_CALLS:-100000}" "${DEBUG_FUZZ32_CALLS:-20000}" \
			"${DEBUG_URING_FUZZ_CALLS:-60000}" "${DEBUG_URING_FUZZ32_CALLS:-30000}" \
			"${DEBUG_LIFECYCLE_ITERS:-10}" "${DEBUG_FAILINJECT_ITERS:-2000}"
	else
		printf 'FUZZ_CALLS=%s\nFUZZ32_CALLS=%s\nURING_FUZZ_CALLS=%s\nURING_FUZZ32_CALLS=%s\nLIFECYCLE_ITERS=%s\nFAILINJECT_ITERS=%s\n' \
			"${FUZZ_CALLS:-1000000}" "${FUZZ32_CALLS:-200000}" \
			"${URING_FUZZ_CALLS:-800000}" "${URING_FUZZ32_CALLS:-200000}" \
			"${LIFECYCLE_ITERS:-20}" "${FAILINJECT_ITERS:-2000}"
	fi
}

# Assemble the initramfs for one kernel.
make_initrd() {
	local kver=$1 kind=$2 b=$WORK/$1 root=$WORK/$1/root t
	local mods=$root/lib/modules/$kver

	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,tests} "$mods/extra"
	cp /bin/busybox "$root/bin/busybox"
	cp "$b/test/hv_azure_blob.ko" "$b/sim/az_blob_sim.ko" "$mods/extra/"
	# A RAM disk and ext4 (for ext2), for the tests that need a file on a
	# filesystem that tracks dirty pages; the debug kernel has no modules.
	if [ "$kind" = stock ]; then
		for t in $( (modprobe -S "$kver" --show-depends brd
			     modprobe -S "$kver" --show-depends ext4) 2>/dev/null |
			   awk '$1 == "insmod" { print $2 }'); do
			case "$t" in
			*.xz) xz -dc "$t" >"$mods/extra/$(basename "${t%.xz}")" ;;
			*) cp "$t" "$mods/extra/" ;;
			esac
		done
	fi
	depmod -b "$root" "$kver" 2>/dev/null
	cp "$WORK/bin/az_blob_test" "$WORK/bin/az_blob_test32" "$root/bin/" 2>/dev/null
	cp "$VM/guest-init" "$root/init"
	chmod 755 "$root/init"
	install -m 644 "$VM/guest-lib.sh" "$root/lib.sh"
	if [ "$MODE" = bench ]; then
		cp "$WORK/bin/az_blob_bench" "$root/bin/"
		printf '%s\n' "${BENCH:-}" >"$root/bench-args"
		[ -n "${BENCH_SCRIPT:-}" ] && install -m 755 "$BENCH_SCRIPT" "$root/bench.sh"
	fi
	# bench: az_blob_bench --short as an extra test, so the bench cannot
	# rot (tools/az_blob_test/bench/bench-short.sh; no timing judged)
	if [ "$MODE" = check ]; then
		cp "$WORK/bin/az_blob_bench" "$root/bin/"
		install -m 755 "$TOP/tools/az_blob_test/bench/bench-short.sh" \
			"$root/tests/az_blob_bench-short"
	fi
	# end bench
	if [ -n "${EXTRA_GUEST_TESTS:-}" ]; then
		for t in "$EXTRA_GUEST_TESTS"/*; do
			[ -f "$t" ] && [ -x "$t" ] && cp "$t" "$root/tests/"
		done
	fi
	printf '%s\n' "$MODE" >"$root/mode"
	printf '%s\n' "${AZ_TEST_ARGS--S}" >"$root/test-args"
	suite_sizes "$kind" >"$root/suite-args"
	log "guest $kver suite sizes: $(tr '\n' ' ' <"$root/suite-args")"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$b/initrd.gz"
}

# Boot one guest once; sets guest_rc and guest_why. It is stopped only
# when it has been silent for GUEST_SILENCE seconds (or past the optional
# GUEST_TIMEOUT); the longest silence seen is printed so that the limit
# can be judged.
boot_guest() {
	local kver=$1 image=$2 b=$WORK/$1 logf=$WORK/$1/guest.log
	local append="console=ttyS0 loglevel=4 panic=-1 oops=panic rdinit=/init"
	local t0 now size last=-1 changed qpid gap longest=0

	[ "$MODE" = demo ] && append="$append quiet"
	: >"$logf"
	t0=$(date +%s)
	changed=$t0
	guest_why=""
	# The guest dies with this shell, however it dies.
	setpriv --pdeathsig KILL qemu-system-x86_64 \
		-machine q35,accel=tcg -cpu max -smp 2 -m 2048 \
		-nodefaults -no-reboot -display none \
		-serial "file:$logf" \
		-kernel "$image" -initrd "$b/initrd.gz" \
		-append "$append" >"$b/qemu.log" 2>&1 &
	qpid=$!
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 2 &
		wait $!
		now=$(date +%s)
		size=$(stat -c %s "$logf" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			gap=$((now - changed))
			[ $gap -gt $longest ] && longest=$gap
			last=$size
			changed=$now
		elif [ $((now - changed)) -ge "$GUEST_SILENCE" ]; then
			guest_why="silent for $((now - changed)) s (GUEST_SILENCE=$GUEST_SILENCE)"
		fi
		if [ "$GUEST_TIMEOUT" -gt 0 ] && [ $((now - t0)) -ge "$GUEST_TIMEOUT" ]; then
			guest_why="running for $((now - t0)) s (GUEST_TIMEOUT=$GUEST_TIMEOUT)"
		fi
		if [ -n "$guest_why" ]; then
			kill -TERM "$qpid" 2>/dev/null
			break
		fi
	done
	wait "$qpid"
	guest_rc=$?
	log "guest $kver ran $(($(date +%s) - t0)) s, longest silence $longest s"
	tr -d '\r' <"$logf" >"$logf.txt"
}

# Boot one guest and judge what it printed. A kernel that crashes before
# /init runs (none of our code is loaded yet; seen once: an int3 oops in
# sched_clock_cpu under TCG with two vCPUs on a loaded host) is booted once
# more, and the run says so.
run_guest() {
	local kver=$1 image=$2 logf=$WORK/$1/guest.log first

	log "guest $kver (log: $logf)"
	boot_guest "$kver" "$image"
	if ! grep -q '^@@ run boot' "$logf.txt" &&
	   first=$(grep -m 1 -E 'Oops|BUG:|Kernel panic' "$logf.txt"); then
		cp "$logf.txt" "$logf.crashed-before-init.txt"
		log "guest $kver crashed before /init ($first): booting it again"
		figures+=("$kver: booted twice, the first kernel crashed before /init: $first (log: $logf.crashed-before-init.txt)")
		boot_guest "$kver" "$image"
	fi

	if [ "$MODE" = demo ]; then
		sed -n '/^@@ demo/,/^@@ end demo/p' "$logf.txt" | sed '1d;$d'
		grep -q "^@@ end demo" "$logf.txt" && demo_rc=0
		return
	fi
	if [ "$MODE" = bench ]; then
		sed -n '/^@@ bench/,/^@@ end bench/p' "$logf.txt" | sed '1d;$d'
		if grep -q "^@@ end bench" "$logf.txt"; then
			pass "$kver: bench finished (log: $logf.txt)"
		else
			fail "$kver: bench finished" "no end marker; see $logf.txt"
		fi
		return
	fi

	if [ -n "$guest_why" ]; then
		fail "$kver: guest finished" "stopped: $guest_why; see $logf"
		tail -n 30 "$logf.txt" | sed 's/^/    /'
	elif [ "$guest_rc" -ne 0 ] || ! grep -q '^@@ done' "$logf.txt"; then
		fail "$kver: guest finished" "qemu exit $guest_rc, no completion marker; see $logf"
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
			"# figure "*)
				figures+=("$kver: $group: ${line#\# figure }") ;;
			"# suite "*" took "*)
				[[ $line =~ ^#\ suite\ ([^ ]+)\ took\ ([0-9]+) ]] &&
					phases+=("$(printf '%6s s      in guest %s: %s' \
						"${BASH_REMATCH[2]}" "$kver" "${BASH_REMATCH[1]}")") ;;
			esac ;;
		esac
	done < <(grep -E '^(@@ run |ok |FAIL |skip |# )' "$logf" | grep -vE '^# [a-z_0-9]+: [0-9]+%, ')

	# kmemleak's own scan-area allocation may meet failslab (failinject):
	# it then scans the whole object, a note and not a finding.
	bad=$(grep -nE 'WARNING:|BUG:|Oops|Call Trace|general protection|UBSAN|KASAN|kmemleak:|unreferenced object|ODEBUG|DEBUG_LOCKS_WARN_ON|suspicious RCU usage|sleeping function called from invalid context|INFO: task .* blocked|possible circular locking|possible recursive locking|inconsistent lock state|list_(add|del) corruption|refcount_t:|stack-protector' "$logf" | grep -v 'kmemleak: Kernel memory leak detector initialized' | grep -v 'kmemleak: Automatic memory scanning thread' |
		grep -v 'kmemleak: Cannot allocate a scan area, scanning the full object' | head -n 20)
	if [ -z "$bad" ]; then
		pass "$kver: kernel log free of warnings, BUGs, oopses and leaks"
	else
		fail "$kver: kernel log free of warnings, BUGs, oopses and leaks" "$bad"
	fi
}

# The debug kernel from the newest Debian source, and the series on that tree.
debug_kernel() {
	local tree k
	log "debug kernel from the newest Debian source (cached in $CACHE/newest)"
	if tree=$(bg "$VM/debug-kernel.sh" "$CACHE" 2>"$WORK/debug-kernel.log") &&
	   NEWEST_SPARSE=$(bg "$VM/newest-sparse.sh" "$CACHE/newest" 2>>"$WORK/debug-kernel.log"); then
		SPARSE_VERSION=$(basename "$CACHE"/newest/sparse-src/sparse_*.dsc .dsc | sed 's/^sparse_//')
		k=$(make -s -C "$tree" kernelrelease)
		grep -E 'built in|configuring|fetch-newest-source: using' "$WORK/debug-kernel.log" | sed 's/^/    /'
		pass "debug kernel $k ($(cat "$tree/.debian-version")) built"
		targets+=("$k $tree/arch/x86/boot/bzImage $tree debug")
		NEWEST_TREE=$(ls -d "$CACHE"/newest/linux-source-* | head -n 1)
	else
		fail "debug kernel builds" "see $WORK/debug-kernel.log"
		tail -n 20 "$WORK/debug-kernel.log" | sed 's/^/    /'
	fi
}

# The debug kernel's tree without its debugging, for BENCH runs.
bench_kernel() {
	local tree k
	log "bench kernel from the newest Debian source (cached in $CACHE/newest)"
	if tree=$(bg "$VM/debug-kernel.sh" "$CACHE" bench 2>"$WORK/bench-kernel.log"); then
		k=$(make -s -C "$tree" kernelrelease)
		grep -E 'built in|configuring|fetch-newest-source: using' "$WORK/bench-kernel.log" | sed 's/^/    /'
		pass "bench kernel $k ($(cat "$tree/.debian-version")) built"
		targets+=("$k $tree/arch/x86/boot/bzImage $tree bench")
	else
		fail "bench kernel builds" "see $WORK/bench-kernel.log"
		tail -n 20 "$WORK/bench-kernel.log" | sed 's/^/    /'
	fi
}

stock_kernels() {
	local t name image kdir kind
	for t in "${targets[@]}"; do
		read -r name image kdir kind <<<"$t"
		[ "$kind" = stock ] && printf '%s ' "$name"
	done
}

guest() {
	build_kernel "$1" "$3" "$4" || return
	make_initrd "$1" "$4"
	run_guest "$1" "$2"
}

# The host VSP's unit and integration tests and its Blob service's tests
# against Azurite, under AddressSanitizer and UBSan; one result line each.
host_vsp_tests() {
	local logf=$WORK/host-vsp-check.log line
	log "host VSP tests (log: $logf)"
	mkdir -p "$WORK/host-vsp"
	bg make -C "$TOP/tools/az_blob_host" O="$WORK/host-vsp" check >"$logf" 2>&1
	local rc=$?
	while IFS= read -r line; do
		printf '   host VSP: %s\n' "$line"
	done < <(grep -E '^# (unit|integration): [0-9]+ cases|^# [0-9]+ passed' "$logf")
	if [ $rc -eq 0 ]; then
		pass "host VSP: make -C tools/az_blob_host check"
	else
		fail "host VSP: make -C tools/az_blob_host check" "exit $rc; see $logf"
		grep -E 'FAIL|ERROR|error:' "$logf" | head -n 10 | sed 's/^/    /'
	fi
}

# The userspace library (unit tests; the functional suite over REST, the
# driver transport through the host VSP's Blob service, and HTTPS, against
# Azurite, with the Azure SDK checking every blob) and the CLI.
lib_tests() {
	local d logf rc
	for d in lib tools/azblob; do
		logf=$WORK/$(basename "$d")-check.log
		bg make -C "$TOP/$d" check >"$logf" 2>&1
		rc=$?
		grep -E '^# .*[0-9]+ passed' "$logf" | sed "s|^|   $d: |"
		if [ $rc -eq 0 ]; then
			pass "$d: make check"
		else
			fail "$d: make check" "exit $rc; see $logf"
			grep -E '^(FAIL|not ok)|error:' "$logf" | head -n 10 | sed 's/^/    /'
		fi
	done
}

# The host VSP outside the guest (tools/az_blob_host), reached through the
# relay personality and QEMU's ivshmem-doorbell: the test tool's suites
# against it, a channel close and the host going away (relay-smoke.sh);
# then real Blob requests to Azurite through the driver, every blob checked
# by the Azure SDK both ways, and the driver against the guest's own TCP
# path (blob-smoke.sh). Both print guest logs in parse_guest's format.
outside_host() {
	local kver=$1 image=$2 kdir=$3 w=$WORK/$1/outside s logf
	mkdir -p "$w"
	for s in relay blob; do
		logf=$w/$s/guest.log.txt
		rm -f "$logf"
		case $s in
		relay) bg env KVER="$kver" KDIR="$kdir" IMAGE="$image" RELAY_WORK="$w/$s" \
			GUEST_TIMEOUT="${OUTSIDE_TIMEOUT:-1200}" \
			"$VM/relay-smoke.sh" >"$w/$s.log" 2>&1 ;;
		blob) bg env KVER="$kver" KDIR="$kdir" IMAGE="$image" BLOB_WORK="$w/$s" \
			GUEST_TIMEOUT="${OUTSIDE_TIMEOUT:-1200}" \
			"$TOP/tools/az_blob_test/blob/blob-smoke.sh" >"$w/$s.log" 2>&1 ;;
		esac
		if [ -f "$logf" ] && grep -q '^@@ done' "$logf"; then
			pass "$kver: $s guest (outside host) finished"
		else
			fail "$kver: $s guest (outside host) finished" "see $w/$s.log"
			tail -n 20 "$w/$s.log" | sed 's/^/    /'
		fi
		[ -f "$logf" ] && parse_guest "$kver: outside host $s" "$logf"
	done
}

main() {
	local k kernels t name image kdir kind
	targets=()
	NEWEST_TREE=""

	log "installing what is missing"
	phase "apt: install what is missing" "$VM/install-deps.sh" ||
		{ fail "install dependencies" "install-deps.sh failed"; summary; exit 1; }

	kernels=${KERNELS:-"$(newest_kernel '6.1.0-*-amd64') $(newest_kernel '6.12.*+deb12-amd64')"}
	[ "$MODE" = demo ] && kernels=$(printf '%s\n' $kernels | tail -n 1)
	log "kernels: $kernels; cache: $CACHE"

	mkdir -p "$WORK" "$CACHE"
	if [ "$MODE" = check ]; then
		phase "static checks (and unpacking linux-source-6.12)" static_checks
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
		phase "debug kernel (fetch, build; cached)" debug_kernel
		# The debug kernel's exports stand for vmlinux's: same source.
		[ -n "$NEWEST_TREE" ] && phase "in-tree series on ${NEWEST_TREE##*linux-source-}" \
			intree "${NEWEST_TREE##*linux-source-}" "$NEWEST_TREE" "$NEWEST_SPARSE" docs \
			"$CACHE/newest/debug-build/Module.symvers"
	fi
	[ "$MODE" = bench ] && [ "${BENCH_NEWEST:-0}" = 1 ] &&
		phase "bench kernel (fetch, build; cached)" bench_kernel
	if [ "$MODE" = check ]; then
		# shellcheck disable=SC2046
		phase "DKMS" dkms_check $(stock_kernels)
	fi

	phase "test tool" build_tools
	[ "$MODE" = check ] && phase "host VSP: its own tests (ASan, UBSan, Azurite)" host_vsp_tests
	[ "$MODE" = check ] && phase "libazblob and azblob: their tests (ASan, UBSan, Azurite)" lib_tests
	for t in "${targets[@]}"; do
		read -r name image kdir kind <<<"$t"
		phase "guest $name ($kind): build and run" guest "$name" "$image" "$kdir" "$kind"
		[ "$MODE" = check ] && [ "${OUTSIDE_HOST:-1}" = 1 ] &&
			phase "guest $name ($kind): host VSP outside, Azurite" \
				outside_host "$name" "$image" "$kdir"
	done
	if [ "$MODE" = demo ]; then
		[ "$demo_rc" -eq 0 ] && log "demo finished" || log "demo FAILED, see $WORK"
		exit "$demo_rc"
	fi
	summary
}

main "$@"
