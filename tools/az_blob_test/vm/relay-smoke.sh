#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# relay-smoke.sh: the relay personality end to end. A stock 6.12 guest whose
# Blob device is relayed (az_blob_relay.ko, sim/relay.c) through QEMU's
# ivshmem-doorbell device to the host VSP outside it (tools/az_blob_host):
# the driver's requests go out to that process and its completions come back
# through MSI-X, softirq and the channel callback. In the guest: the test
# tool's tests that need no simulator control (echo, fill, sum, ...), the
# relay's counters, malformed packets of the relay's own (the host answers
# each with its error and serves on), a close with a request at the host,
# then the host goes (killed) under load: every request in flight must end,
# the relayed device must be rescinded, and every module must unload.
#
#   tools/az_blob_test/vm/relay-smoke.sh [TEST...]    (default: every test
#                                                      without [sim] in -l)
#
# Environment:
#   KVER=VERSION        the stock kernel (default 6.12.117+deb12-amd64)
#   KDIR=DIR IMAGE=FILE another kernel: its build tree and bzImage (KVER
#                       then its release); it needs CONFIG_PCI_MSI, which
#                       vm/debug.config lacks (check.sh's debug kernel)
#   RELAY_WORK=DIR      builds and logs (default .cache/relay-smoke)
#   RELAY_HOST_STOP=M   how the host goes away after the tests: "kill"
#                       (SIGKILL: its heartbeat stops, its state stays
#                       READY), "term" (SIGTERM: it says GONE), "stop"
#                       (SIGSTOP: its heartbeat stops) or "none" (default
#                       kill)
#   AZ_BLOB_HOST_CMD=C  another host command (default: tools/az_blob_host's
#                       az_blob_host, built in RELAY_WORK); C gets the RAM
#                       file, its size in MiB and the socket appended
#   GUEST_TIMEOUT=S     hard bound on the guest (default 1800)
#
# The building blocks are check.sh's (build_kernel, make_initrd, boot_guest,
# parse_guest), shortened to this one guest; see the README there.
set -u -o pipefail

TOP=$(cd "$(dirname "$0")/../../.." && pwd)
KVER=${KVER:-6.12.117+deb12-amd64}
KDIR=${KDIR:-/lib/modules/$KVER/build}
IMAGE=${IMAGE:-/boot/vmlinuz-$KVER}
W=${RELAY_WORK:-$TOP/.cache/relay-smoke}
STOP=${RELAY_HOST_STOP:-kill}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-1800}
NAME=az-relay-smoke-$$
RAMFILE=/dev/shm/$NAME
SOCK=$W/ivshmem.sock
# Guest RAM, the host's RAM file (the guest's relay_inject test needs it)
RAM_MB=1024
host_pid=""
qemu_pid=""

log() { printf '== %s\n' "$*"; }
die() { printf 'relay-smoke: %s\n' "$*" >&2; exit 1; }

cleanup() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	if [ -n "$host_pid" ]; then
		kill -CONT "$host_pid" 2>/dev/null
		kill -TERM "$host_pid" 2>/dev/null
		wait "$host_pid" 2>/dev/null
	fi
	# A killed host leaves them behind.
	rm -f "$RAMFILE" "$SOCK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ------------------------------------------------------------------ build

build() {
	local src=$W/src b
	log "build for $KVER in $W"
	rm -rf "$W/src" "$W/drv" "$W/root"
	mkdir -p "$W/bin" "$src/tools/az_blob_test" "$src/tools/az_blob_host" "$W/drv"
	make -C "$TOP/tools/az_blob_test" -s O="$W/bin" "$W/bin/az_blob_test" ||
		die "test tool build failed"

	# The sim with its relay (Kbuild finds ../../az_blob_host/az_relay.h).
	cp -r "$TOP/tools/az_blob_test/sim" "$src/tools/az_blob_test/"
	cp "$TOP/tools/az_blob_test/az_blob_sim.h" "$src/tools/az_blob_test/"
	cp "$TOP/tools/az_blob_host/az_relay.h" "$src/tools/az_blob_host/"
	b=$src/tools/az_blob_test/sim
	make -C "$KDIR" M="$b" W=1 modules >"$W/sim.log" 2>&1 ||
		{ tail -n 20 "$W/sim.log"; die "sim build failed"; }
	[ -f "$b/az_blob_relay.ko" ] || die "az_blob_relay.ko not built"

	cp -r "$TOP/Kbuild" "$TOP/compat" "$TOP/drivers" "$TOP/include" "$W/drv/"
	make -C "$KDIR" M="$W/drv" KBUILD_EXTRA_SYMBOLS="$b/Module.symvers" \
		W=1 modules >"$W/drv.log" 2>&1 ||
		{ tail -n 20 "$W/drv.log"; die "driver build failed"; }
	if grep -E 'warning:|error:' "$W/sim.log" "$W/drv.log"; then
		die "build diagnostics above"
	fi

	# Requests the host holds, for the close and host-gone phases.
	cat >"$W/relay-req.c" <<'EOF'
/*
 * relay-req DELAY_MS [COUNT]: 64-byte echoes the host answers after
 * DELAY_MS, one after the other on one open file: COUNT of them (default
 * 1; 0: until one fails). The line it prints: how the last one ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <misc/hv_azure_blob.h>
#include "az_blob_sim.h"

int main(int argc, char **argv)
{
	struct az_sim_req sreq = { .magic = AZ_SIM_MAGIC, .op = AZ_SIM_OP_ECHO };
	unsigned long count = argc > 2 ? strtoul(argv[2], NULL, 0) : 1, done = 0;
	unsigned char req[64] = { 0 }, resp[64];
	struct az_blob_request_sync r;
	int fd = open("/dev/azure_blob", O_RDWR), ret;

	if (fd < 0) {
		printf("relay-req: open: %s\n", strerror(errno));
		return 1;
	}
	sreq.delay_ms = argc > 1 ? atoi(argv[1]) : 0;
	memcpy(req, &sreq, sizeof(sreq));
	for (;;) {
		memset(&r, 0, sizeof(r));
		r.request_len = sizeof(req);
		r.response_len = sizeof(resp);
		r.request_buffer = (unsigned long)req;
		r.response_buffer = (unsigned long)resp;
		ret = ioctl(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &r);
		if (ret || r.response.status ||
		    r.response.response_len != sizeof(req) ||
		    memcmp(req, resp, sizeof(req)))
			break;
		if (++done == count)
			break;
	}
	printf("relay-req: ret %d (%s) status %#x response_len %u after %lu ok\n",
	       ret, ret ? strerror(errno) : "ok", r.response.status,
	       r.response.response_len, done);
	return done == count ? 0 : 1;
}
EOF
	gcc -static -O2 -Wall -Werror -I"$TOP/include/uapi" \
		-I"$TOP/tools/az_blob_test" "$W/relay-req.c" -o "$W/bin/relay-req" ||
		die "relay-req build failed"

	if [ -z "${AZ_BLOB_HOST_CMD:-}" ]; then
		mkdir -p "$W/host"
		make -C "$TOP/tools/az_blob_host" -s O="$W/host" >"$W/host.log" 2>&1 ||
			{ tail -n 20 "$W/host.log"; die "host build failed"; }
	fi
}

# ------------------------------------------------------------------ guest

make_initrd() {
	local root=$W/root b=$W/src/tools/az_blob_test/sim t
	local mods=$root/lib/modules/$KVER

	mkdir -p "$root"/{bin,dev,proc,sys,tmp} "$mods/extra"
	cp /bin/busybox "$root/bin/"
	cp "$W/bin/az_blob_test" "$W/bin/relay-req" "$root/bin/"
	cp "$b/az_blob_sim.ko" "$b/az_blob_relay.ko" "$W/drv/hv_azure_blob.ko" \
		"$mods/extra/"
	# brd and ext4, for the file-mapping tests (as check.sh's make_initrd)
	for t in $( (modprobe -S "$KVER" --show-depends brd
		     modprobe -S "$KVER" --show-depends ext4) 2>/dev/null |
		   awk '$1 == "insmod" { print $2 }'); do
		case "$t" in
		*.xz) xz -dc "$t" >"$mods/extra/$(basename "${t%.xz}")" ;;
		*) cp "$t" "$mods/extra/" ;;
		esac
	done
	depmod -b "$root" "$KVER" 2>/dev/null
	printf '%s\n' "$*" >"$root/tests"
	printf '%s\n' "$STOP" >"$root/host-stop"
	printf '%s\n' $((RAM_MB * 256)) >"$root/ram-pages"
	install -m 644 "$TOP/tools/az_blob_test/vm/guest-lib.sh" "$root/lib.sh"
	cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# The relay guest: simulated bus, relay, driver, tests, host gone, unload.
. /lib.sh
ram_disk

ok() { echo "ok $*"; }
fail() { echo "FAIL $*"; }

echo "@@ run load"
modprobe az_blob_sim && ok "load az_blob_sim" || fail "load az_blob_sim: modprobe"
# The relayed device is to be the only one: the in-guest host's goes first.
echo "rescind 0" >$S/control
if modprobe az_blob_relay; then
	ok "load az_blob_relay"
else
	fail "load az_blob_relay: modprobe"
fi
if wait_until "grep -q 'host az_blob_relay' $S/channel" 100; then
	ok "relay offered a device: $(cut -d' ' -f1,2 $S/channel)"
else
	fail "relay offered a device: none in $S/channel"
fi
modprobe hv_azure_blob
if wait_until "[ -e /dev/azure_blob ]" 100; then
	ok "driver bound to the relayed device"
else
	fail "driver bound to the relayed device: no /dev/azure_blob"
fi

echo "@@ run az_blob_test"
tests=$(cat /tests)
[ -n "$tests" ] || tests=$(az_blob_test -l | grep -v '\[sim\]' | awk '{ print $1 }')
# shellcheck disable=SC2086
az_blob_test $tests
rc=$?
[ $rc = 0 ] && ok "az_blob_test exited 0" || fail "az_blob_test exited $rc"

echo "@@ run relay"
grep -E '^(requests|completions|dropped|misuse|relay_[a-z_]+) ' $S/stats | sed 's/^/# /'
[ "$(st relay_packets)" -gt 0 ] 2>/dev/null &&
	ok "packets went to the host: $(st relay_packets)" ||
	fail "packets went to the host: relay_packets $(st relay_packets)"
for k in relay_dropped relay_backlog relay_close_timeouts relay_host_gone misuse; do
	[ "$(st $k)" = 0 ] && ok "$k 0" || fail "$k 0: $(st $k)"
done
# The in-guest host's commands leave the relayed device alone; the core's
# work on it: a suspend closes and reopens its channel.
echo release >$S/control && echo "hang 0" >$S/control &&
	ok "release, hang: blob_vsp's only" || fail "release, hang"
echo "suspend 0" >$S/control && az_blob_test echo_small >/tmp/s.out 2>&1 &&
	ok "suspend 0, then a request" || fail "suspend 0, then a request: $(tr '\n' ' ' </tmp/s.out)"

echo "@@ run malformed"
# Packets the relay builds itself, past the driver ("relay_inject KIND",
# sim/README.md), each naming a page of the relay's own that holds a valid
# ECHO request in a known pattern. The host must answer each at once: 0
# and the echo for the valid ones, 0x8007000D for every protocol violation
# (tools/az_blob_host/validate.c, gpa.c), 0x80070057 for a request no
# service takes; and write nothing but the echo into the page ("page ok").
# Each "# refused:" line is the reason the host must log (it runs with -v):
# the script compares them with host.out's (verdict).
OK=0x00000000
V=0x8007000d
P=$(cat /ram-pages)
n=0
# inject KIND[:ARG] STATUS RESPONSE_LEN [REASON]
inject() {
	n=$((n + 1))
	k=${1%%:*}
	cmd="relay_inject $k"
	[ "$k" = "$1" ] || cmd="$cmd ${1#*:}"
	want="status $2 response_len $3 page ok"
	[ -n "${4:-}" ] && echo "# refused: $4"
	if ! echo "$cmd" 2>/tmp/inj.err >$S/control; then
		fail "$1 answered $want: write: $(cat /tmp/inj.err)"
		return
	fi
	got=$(st "relay_inject_$k")
	case "$got" in
	*" $want") ok "$1 answered $want" ;;
	*) fail "$1 answered $want: $got" ;;
	esac
}
PFN="pfn outside guest RAM"
inject valid $OK 64
inject pfn:$((P - 1)) $OK 64			# the last page of guest RAM
inject pfn:$P $V 0 "$PFN"			# the first page past it
inject pfn:0xc0000 $V 0 "$PFN"			# 3 GiB: the q35 PCI hole
inject pfn:0x100000 $V 0 "$PFN"			# 4 GiB: high RAM, none here
inject pfn:$((1 << 40)) $V 0 "$PFN"
inject pfn:0xffffffffffffffff $V 0 "$PFN"	# its GPA overflows 64 bits
inject max_pfns $OK 64				# 8192 PFNs
inject too_many_pfns $V 0 "more than 8192 pfns"
inject empty $V 0 "shorter than a descriptor"
inject len_beyond $V 0 "packet length below a descriptor or beyond the record"
inject bad_type $V 0 "packet type not GPA direct"
inject no_completion $V 0 "packet flags not completion-requested"
inject bad_desc $V 0 "descriptor size outside the packet"
inject rangecount $V 0 "rangecount not 1"
inject short_req $V 0 "inline data not the 56-byte request"
inject long_req $V 0 "inline data not the 56-byte request"
inject range_offset $V 0 "range offset not 0"
inject range_len $V 0 "range len not pfns x 4096"
inject version $V 0 "request version not 0"
inject bad_op $V 0 "operation_type not 0x100"
inject no_request $V 0 "request_buffer_length 0"
inject no_response $V 0 "response_buffer_length 0"
inject data_valid $V 0 "data_buffer_valid above data_buffer_length"
inject req_outside $V 0 "request buffer outside the range"
inject resp_outside $V 0 "response buffer outside the range"
inject data_outside $V 0 "data buffer outside the range"
inject no_service 0x80070057 0 "no service for it"
grep '^relay_inject_' $S/stats | sed 's/^/# /'
# The host lived through it: it still beats, says READY, serves the driver.
hb=$(st relay_heartbeat)
sleep 1
[ "$(st relay_heartbeat)" -gt "$hb" ] 2>/dev/null &&
	ok "the host still beats: heartbeat $hb, then $(st relay_heartbeat)" ||
	fail "the host still beats: heartbeat $hb, then $(st relay_heartbeat)"
[ "$(st relay_host_state)" = ready ] && ok "host_state ready" ||
	fail "host_state ready: $(st relay_host_state)"
az_blob_test echo_small fill_data >/tmp/m.out 2>&1 &&
	ok "the host serves the driver after them" ||
	fail "the host serves the driver after them: $(tr '\n' ' ' </tmp/m.out)"
[ "$(st relay_injected)" = $n ] && ok "relay_injected $n" ||
	fail "relay_injected $n: $(st relay_injected)"
for k in relay_dropped relay_stale relay_host_gone misuse; do
	[ "$(st $k)" = 0 ] && ok "$k 0" || fail "$k 0: $(st $k)"
done

echo "@@ run close"
# A request the host holds past the driver's drain time (10 s): the unbind
# closes the channel under it, so the relay sends CLOSE and waits for CLOSED.
c0=$(st relay_closes)
relay-req 20000 >/tmp/held.out 2>&1 &
held=$!
wait_until "grep -q '^outstanding 1' /sys/kernel/debug/hyperv/azure_blob/stats" 50
vm=$(basename "$(readlink /sys/class/misc/azure_blob/device)")
echo "$vm" >/sys/bus/vmbus/drivers/hv_azure_blob/unbind
wait $held
sed 's/^/# /' /tmp/held.out
[ "$(st relay_closes)" = $((c0 + 1)) ] && ok "CLOSE at the close" ||
	fail "CLOSE at the close: relay_closes $(st relay_closes), was $c0"
[ "$(st relay_close_timeouts)" = 0 ] && ok "CLOSED came back" ||
	fail "CLOSED came back: relay_close_timeouts $(st relay_close_timeouts)"
grep -q 'ret -1' /tmp/held.out && ok "the held request failed at the close" ||
	fail "the held request failed at the close: $(cat /tmp/held.out)"
echo "$vm" >/sys/bus/vmbus/drivers/hv_azure_blob/bind
wait_until "[ -e /dev/azure_blob ]" 50
az_blob_test echo_small fill_data >/tmp/again.out 2>&1 &&
	ok "the next generation works" ||
	fail "the next generation works: $(tr '\n' ' ' </tmp/again.out)"

echo "@@ run host gone"
# The host goes (/host-stop: killed, so only its heartbeat stops) under
# load: 4 requests it holds for 60 s, 4 submitters looping on 100 ms echoes.
# The relay must see it gone (AZ_RELAY_DEAD_MS without a heartbeat) and
# rescind the device; every submitter must then end, its last request with
# ENODEV, and nothing may stay pinned or outstanding.
D=/sys/kernel/debug/hyperv/azure_blob
drv() { sed -n "s/^$1 //p" $D/stats 2>/dev/null; }
# Pages pinned (FOLL_PIN) in the guest now: the driver pins the callers'.
# stat_refresh folds the per-CPU counts first.
pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '$1 == "nr_foll_pin_acquired" { a = $2 }
	     $1 == "nr_foll_pin_released" { r = $2 } END { print a - r }' /proc/vmstat
}
ended() {
	for p in $pids; do
		kill -0 $p 2>/dev/null && return 1
	done
	return 0
}
echo "# pinned pages before the load: $(pins)"
c0=$(drv completed)
pids=""
for i in 1 2 3 4; do
	relay-req 60000 >/tmp/load$i.out 2>&1 &
	pids="$pids $!"
done
for i in 5 6 7 8; do
	relay-req 100 0 >/tmp/load$i.out 2>&1 &
	pids="$pids $!"
done
wait_until '[ "$(drv outstanding)" -ge 6 ]' 100 &&
	ok "load in flight: outstanding $(drv outstanding), pinned_pages $(drv pinned_pages)" ||
	fail "load in flight: outstanding $(drv outstanding)"
# The echoes' first answers, so that each submitter was served before
# the stop (only they complete: the host holds the others 60 s).
wait_until '[ "$(drv completed)" -ge $((c0 + 8)) ]' 300 ||
	fail "echoes answered before the stop: completed $(drv completed), $c0 before the load"
p0=$(pins)
[ "$p0" -gt 0 ] && ok "pages pinned in flight: $p0" ||
	fail "pages pinned in flight: $p0"
echo "# before the stop: $(tr '\n' ' ' <$D/stats)"
t0=$(date +%s)
echo "@@ stop host"
if wait_until "[ ! -e /dev/azure_blob ]" 300; then
	ok "the host went away: device rescinded after $(($(date +%s) - t0)) s"
else
	fail "the host went away: device rescinded: /dev/azure_blob still there"
fi
if wait_until ended 300; then
	ok "every submitter ended, $(($(date +%s) - t0)) s after the stop"
else
	fail "every submitter ended: still running after $(($(date +%s) - t0)) s:$(for p in $pids; do kill -0 $p 2>/dev/null && echo " $p"; done)"
	# so that the rest runs (a submitter stuck in the kernel stays)
	kill -KILL $pids 2>/dev/null
fi
for p in $pids; do
	wait $p
done
for i in 1 2 3 4 5 6 7 8; do
	sed 's/^/# /' /tmp/load$i.out
	grep -q 'ret -1 (No such device)' /tmp/load$i.out &&
		ok "submitter $i: its last request failed ENODEV" ||
		fail "submitter $i: its last request failed ENODEV: $(cat /tmp/load$i.out)"
done
for i in 5 6 7 8; do
	grep -q 'after [1-9][0-9]* ok' /tmp/load$i.out &&
		ok "submitter $i: served until the host went" ||
		fail "submitter $i: served until the host went: $(cat /tmp/load$i.out)"
done
case $(cat /host-stop) in
kill|stop) why="no heartbeat" ;;
term) why="host_state GONE" ;;
*) why="?" ;;
esac
dmesg | grep -q "host gone ($why): rescinding" && ok "the relay saw: $why" ||
	fail "the relay saw: $why: $(dmesg | grep 'host gone')"
[ "$(st relay_host_gone)" = 1 ] && ok "relay_host_gone 1" ||
	fail "relay_host_gone 1: $(st relay_host_gone)"
grep -q 'host az_blob_relay' $S/channel &&
	fail "no relayed channel left: $(cat $S/channel)" ||
	ok "no relayed channel left"
for k in relay_at_host relay_backlog open_channels backlog; do
	[ "$(st $k)" = 0 ] && ok "$k 0" || fail "$k 0: $(st $k)"
done
[ ! -e $D ] && ok "the driver's device and its stats are gone" ||
	fail "the driver's device and its stats are gone: $(cat $D/stats)"
[ "$(pins)" = 0 ] && ok "no page pinned" || fail "no page pinned: $(pins)"

echo "@@ run unload"
for m in hv_azure_blob az_blob_relay az_blob_sim; do
	rmmod $m && ok "rmmod $m" || fail "rmmod $m"
done
if [ -e /sys/kernel/debug/kmemleak ]; then
	# Objects must be older than 5 s before kmemleak reports them.
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak
	n=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	[ "$n" = 0 ] && ok "no leak (kmemleak scan)" || fail "no leak (kmemleak scan): $n"
	cat /sys/kernel/debug/kmemleak
fi
echo "@@ dmesg"
dmesg
echo "@@ done"
reboot -f
EOF
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"
}

start_host() {
	rm -f "$RAMFILE" "$SOCK"
	if [ -n "${AZ_BLOB_HOST_CMD:-}" ]; then
		# shellcheck disable=SC2086
		$AZ_BLOB_HOST_CMD "$RAMFILE" "$RAM_MB" "$SOCK" >"$W/host.out" 2>&1 &
	else
		# -v: a line per request, the refused ones with their reason
		"$W/host/az_blob_host" --ram-file "$RAMFILE" --ram-size "${RAM_MB}M" \
			--socket "$SOCK" -v >"$W/host.out" 2>&1 &
	fi
	host_pid=$!
	# It says "ready" once the socket listens (the fake one says nothing).
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && [ -e "$RAMFILE" ] &&
			{ [ -n "${AZ_BLOB_HOST_CMD:-}" ] || grep -q '^ready' "$W/host.out"; } &&
			return 0
		kill -0 "$host_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/host.out"
	die "the host did not create $SOCK and $RAMFILE"
}

stop_host() {
	log "stopping the host ($STOP)"
	case "$STOP" in
	# It cannot clean up: cleanup() removes its RAM file and socket.
	kill) kill -KILL "$host_pid" ;;
	term) kill -TERM "$host_pid" ;;
	stop) kill -STOP "$host_pid" ;;
	esac
}

run_guest() {
	local logf=$W/guest.log t0 stopped=0
	: >"$logf"
	t0=$(date +%s)
	setpriv --pdeathsig KILL qemu-system-x86_64 \
		-machine q35,accel=tcg,memory-backend=ram -cpu max -smp 2 -m "${RAM_MB}M" \
		-object memory-backend-file,id=ram,"size=${RAM_MB}M,mem-path=$RAMFILE,share=on" \
		-chardev socket,path="$SOCK",id=ivsh \
		-device ivshmem-doorbell,chardev=ivsh,vectors=1 \
		-nodefaults -no-reboot -display none -serial "file:$logf" \
		-kernel "$IMAGE" -initrd "$W/initrd.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 oops=panic rdinit=/init" \
		>"$W/qemu.log" 2>&1 &
	qemu_pid=$!
	while kill -0 "$qemu_pid" 2>/dev/null; do
		sleep 1
		if [ $stopped = 0 ] && grep -q '^@@ stop host' "$logf"; then
			stop_host
			stopped=1
		fi
		if [ $(($(date +%s) - t0)) -ge "$GUEST_TIMEOUT" ]; then
			log "guest still running after $GUEST_TIMEOUT s: stopping it"
			kill "$qemu_pid"
		fi
	done
	wait "$qemu_pid"
	log "guest ran $(($(date +%s) - t0)) s (qemu exit $?)"
	qemu_pid=""
	tr -d '\r' <"$logf" >"$logf.txt"
}

# ------------------------------------------------------------------ verdict

verdict() {
	local logf=$W/guest.log.txt passed failed bad want got
	grep -E '^(@@ run |ok |FAIL |skip |# )' "$logf"
	passed=$(grep -c '^ok ' "$logf")
	failed=$(grep -c '^FAIL ' "$logf")
	grep -q '^@@ done' "$logf" || { echo "FAIL guest finished: see $logf"; failed=$((failed + 1)); }
	# check.sh's parse_guest list
	bad=$(grep -nE 'WARNING:|BUG:|Oops|Call Trace|general protection|UBSAN|KASAN|kmemleak:|unreferenced object|ODEBUG|DEBUG_LOCKS_WARN_ON|suspicious RCU usage|sleeping function called from invalid context|INFO: task .* blocked|possible circular locking|possible recursive locking|inconsistent lock state|list_(add|del) corruption|refcount_t:|stack-protector' "$logf" |
		grep -vE 'kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread|Cannot allocate a scan area)' | head -n 20)
	if [ -n "$bad" ]; then
		printf 'FAIL kernel log free of warnings:\n%s\n' "$bad"
		failed=$((failed + 1))
	fi
	# The host's side, also appended to the guest log for check.sh.
	echo "@@ run host (outside the guest)" >>"$logf"
	# Nothing the guest sent (malformed packets included) broke the relay.
	if grep -q 'broke the relay' "$W/host.out"; then
		printf 'FAIL host served to the end: %s\n' "$(grep 'broke the relay' "$W/host.out")" |
			tee -a "$logf"
		failed=$((failed + 1))
	else
		echo "ok host served to the end" | tee -a "$logf"
		passed=$((passed + 1))
	fi
	# The packets the host refused, for the reasons the guest expects.
	if [ -z "${AZ_BLOB_HOST_CMD:-}" ] && grep -q '^# refused: ' "$logf"; then
		want=$(sed -n 's/^# refused: //p' "$logf")
		# The injections come last; the test tool's io_uring fuzzer
		# (uring_fuzz_short) sent requests the host refused before them.
		n=$(printf '%s\n' "$want" | wc -l)
		all=$(sed -n 's/.* refused: \(.*\) -> status .*/\1/p' "$W/host.out")
		got=$(printf '%s\n' "$all" | tail -n "$n")
		printf '# the host refused %d requests before the injections (the test tool'"'"'s fuzzers)\n' \
			"$(($(printf '%s\n' "$all" | grep -c .) - n))" | tee -a "$logf"
		if [ "$want" = "$got" ]; then
			echo "ok the host refused each malformed packet for its reason ($(grep -c '^# refused: ' "$logf"))" |
				tee -a "$logf"
			passed=$((passed + 1))
		else
			echo "FAIL the host refused each malformed packet for its reason: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')" |
				tee -a "$logf"
			failed=$((failed + 1))
		fi
	fi
	log "host output: $W/host.out; guest log: $logf"
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" = 0 ]
}

# Sourced for its functions (blob-smoke.sh): stop here.
[ "${RELAY_SMOKE_LIB:-0}" = 1 ] && return 0
{ [ -e "$IMAGE" ] && [ -e "$KDIR/Makefile" ]; } || die "no kernel $KVER with headers"
[ -x /bin/busybox ] || die "no /bin/busybox (busybox-static)"
mkdir -p "$W"
build
make_initrd "$@"
start_host
log "host pid $host_pid; booting $KVER"
run_guest
verdict
