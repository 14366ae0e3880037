#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# blob-smoke.sh: Azure Blob requests end to end. A pinned Azurite on this
# machine; the host VSP (tools/az_blob_host) serving Blob requests against
# it; a stock kernel guest whose Blob device is relayed to that host
# (relay-smoke.sh's set-up) and which also has virtio-net on QEMU's user
# network. In the guest, az_blob_blob: its suite through the driver (and
# over TCP), the SDK's fixtures verified through the driver, uploads through
# the driver that the SDK then verifies, and the same bench through the
# driver and over the guest's own TCP stack to the same Azurite.
#
#   tools/az_blob_test/blob/blob-smoke.sh
#
# Environment (and relay-smoke.sh's KVER, KDIR, IMAGE, GUEST_TIMEOUT):
#   BLOB_WORK=DIR          builds and logs (default .cache/blob-smoke)
#   BLOB_BENCH_SIZE=N      bench bytes each way (default 64M)
#   BLOB_BENCH_REPEAT=N    bench runs each way, median reported (default 1)
#   BLOB_SUITE_TCP=0       skip the suite over TCP
#   BLOB_NET=tap|user      the guest's network for the TCP baseline: a tap
#                          device in a network namespace of its own, where
#                          Azurite, the host and QEMU run (Azurite reached
#                          through tcp-forward.js); or QEMU's user network
#                          (slirp, about 3x slower here). Default: tap as
#                          root with /dev/net/tun, else user
#
# relay-smoke.sh's building blocks are reused as they are (build, verdict,
# cleanup; it is sourced up to its main part); the initramfs, the host's
# start (with --blob-endpoint) and the QEMU command line (with a network)
# are this script's.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RELAY_SMOKE=$HERE/../vm/relay-smoke.sh
export RELAY_WORK=${BLOB_WORK:-$(cd "$HERE/../../.." && pwd)/.cache/blob-smoke}
BENCH_SIZE=${BLOB_BENCH_SIZE:-64M}
BENCH_REPEAT=${BLOB_BENCH_REPEAT:-1}
SUITE_TCP=${BLOB_SUITE_TCP:-1}
NET=${BLOB_NET:-}
if [ -z "$NET" ]; then
	NET=user
	[ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] && NET=tap
fi

# relay-smoke.sh's functions, without its main part.
# shellcheck source=../vm/relay-smoke.sh
RELAY_SMOKE_LIB=1 . "$RELAY_SMOKE"
for f in build cleanup verdict; do
	declare -F "$f" >/dev/null ||
		{ echo "blob-smoke: relay-smoke.sh has no $f()" >&2; exit 1; }
done

AZURITE=$TOP/tools/az_blob_host/node/azurite.sh
export AZURITE_DIR=$W/azurite
azurite_started=0
NS=""		# the network namespace (BLOB_NET=tap)
NSX=()		# the prefix that runs a command in it
fwd_pid=""
log() { printf '== %s\n' "$*"; }
die() { printf 'blob-smoke: %s\n' "$*" >&2; exit 1; }

# shellcheck disable=SC2317 # called by the trap
all_cleanup() {
	cleanup
	if [ "$azurite_started" = 1 ]; then
		"$AZURITE" stop
	fi
	[ -n "$fwd_pid" ] && kill "$fwd_pid" 2>/dev/null
	[ -n "$NS" ] && ip netns del "$NS"
}
trap all_cleanup EXIT

build_blob() {
	make -C "$HERE" -s O="$W/bin" >"$W/blob.log" 2>&1 ||
		{ cat "$W/blob.log"; die "az_blob_blob build failed"; }
	if grep -E 'warning:|error:' "$W/blob.log"; then
		die "az_blob_blob: build diagnostics above"
	fi
}

# The guest's network: QEMU's user network (slirp), where 10.0.2.2 is this
# machine's loopback; or a tap device in a namespace of our own, where
# everything else runs too and a forwarder on the tap's address leads to
# Azurite on the namespace's loopback.
setup_net() {
	if [ "$NET" = user ]; then
		NETDEV="user,id=n0"
		GUEST_ADDR=10.0.2.15/24
		GUEST_GW=10.0.2.2
		return
	fi
	[ "$NET" = tap ] || die "BLOB_NET=$NET: user or tap"
	NS=azblob-$$
	if ! { ip netns add "$NS" &&
	       ip -n "$NS" link set lo up &&
	       ip -n "$NS" tuntap add dev tap0 mode tap &&
	       ip -n "$NS" addr add 10.0.3.1/24 dev tap0 &&
	       ip -n "$NS" link set tap0 up; }; then
		die "cannot set up network namespace $NS (BLOB_NET=user avoids it)"
	fi
	NSX=(ip netns exec "$NS")
	NETDEV="tap,id=n0,ifname=tap0,script=no,downscript=no"
	GUEST_ADDR=10.0.3.2/24
	GUEST_GW=10.0.3.1
}

start_azurite() {
	local out
	out=$("${NSX[@]}" "$AZURITE" start) || die "Azurite did not start"
	azurite_started=1
	PORT=$(sed -n 's/^AZURITE_PORT=//p' <<<"$out")
	ENDPOINT=http://127.0.0.1:$PORT
	log "Azurite at $ENDPOINT (state in $AZURITE_DIR)"
	if [ "$NET" = tap ]; then
		"${NSX[@]}" node "$HERE/tcp-forward.js" "$GUEST_GW" "$PORT" \
			127.0.0.1 "$PORT" >"$W/forward.out" 2>&1 &
		fwd_pid=$!
		for _ in $(seq 100); do
			grep -q '^ready' "$W/forward.out" && break
			sleep 0.1
		done
		grep -q '^ready' "$W/forward.out" || die "tcp-forward.js: $(cat "$W/forward.out")"
		log "network namespace $NS: guest $GUEST_ADDR, Azurite at $GUEST_GW:$PORT"
	fi
}

# relay-smoke.sh's start_host, with the Blob service.
start_host() {
	rm -f "$RAMFILE" "$SOCK"
	"${NSX[@]}" "$W/host/az_blob_host" --ram-file "$RAMFILE" --ram-size 1G \
		--socket "$SOCK" --blob-endpoint "$ENDPOINT" >"$W/host.out" 2>&1 &
	host_pid=$!
	for _ in $(seq 100); do
		grep -q '^ready' "$W/host.out" && return 0
		kill -0 "$host_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/host.out"
	die "the host did not get ready"
}

# The lists both sides use: fixtures (written by host-pre.sh), uploads and
# bench blobs (checked by host-post.sh).
make_lists() {
	local seed=200 size
	printf '%s\n' "# uploads through the driver, for host-post.sh" >"$W/uploads"
	for size in 0 1 4096 65537 $((4 * 1048576 - 1)) $((32 * 1048576 + 1)); do
		printf 'drv-up/%s %s %s\n' "$size" "$size" "$seed" >>"$W/uploads"
		seed=$((seed + 1))
	done
	printf '%s\n' "driver bench-up/driver $((BENCH_SEED))" \
		"tcp bench-up/tcp $((BENCH_SEED + 1))" >"$W/bench-blobs"
	{
		cat "$W/uploads"
		awk '{ print $2 " " BYTES " " $3 }' BYTES="$BENCH_BYTES" "$W/bench-blobs"
	} >"$W/post"
}

make_initrd() {
	local root=$W/root b=$W/src/tools/az_blob_test/sim t
	local mods=$root/lib/modules/$KVER

	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp} "$mods/extra"
	cp /bin/busybox "$W/bin/az_blob_blob" "$root/bin/"
	cp "$b/az_blob_sim.ko" "$b/az_blob_relay.ko" "$W/drv/hv_azure_blob.ko" \
		"$mods/extra/"
	# virtio-net and what it needs (virtio_pci is a module on 6.1).
	for t in $( (modprobe -S "$KVER" --show-depends virtio_pci
		     modprobe -S "$KVER" --show-depends virtio_net) 2>/dev/null |
		   awk '$1 == "insmod" { print $2 }' | sort -u); do
		case "$t" in
		*.xz) xz -dc "$t" >"$mods/extra/$(basename "${t%.xz}")" ;;
		*) cp "$t" "$mods/extra/" ;;
		esac
	done
	depmod -b "$root" "$KVER" 2>/dev/null
	install -m 755 "$HERE/guest-init.sh" "$root/init"
	cp "$W/fixtures" "$root/fixtures"
	cp "$W/uploads" "$root/uploads"
	cp "$W/bench-blobs" "$root/bench-blobs"
	printf 'TCP=%s:%s\nGUEST_ADDR=%s\nGUEST_GW=%s\nBENCH_SIZE=%s\nBENCH_REPEAT=%s\nSUITE_TCP=%s\n' \
		"$GUEST_GW" "$PORT" "$GUEST_ADDR" "$GUEST_GW" "$BENCH_BYTES" \
		"$BENCH_REPEAT" "$SUITE_TCP" >"$root/blob-env"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"
}

# relay-smoke.sh's run_guest, with a network and no host stop.
run_guest() {
	local logf=$W/guest.log t0
	: >"$logf"
	t0=$(date +%s)
	setpriv --pdeathsig KILL "${NSX[@]}" qemu-system-x86_64 \
		-machine q35,accel=tcg,memory-backend=ram -cpu max -smp 2 -m 1G \
		-object memory-backend-file,id=ram,size=1G,mem-path="$RAMFILE",share=on \
		-chardev socket,path="$SOCK",id=ivsh \
		-device ivshmem-doorbell,chardev=ivsh,vectors=1 \
		-netdev "$NETDEV" -device virtio-net-pci,netdev=n0 \
		-nodefaults -no-reboot -display none -serial "file:$logf" \
		-kernel "$IMAGE" -initrd "$W/initrd.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 oops=panic rdinit=/init" \
		>"$W/qemu.log" 2>&1 &
	qemu_pid=$!
	while kill -0 "$qemu_pid" 2>/dev/null; do
		sleep 1
		if [ $(($(date +%s) - t0)) -ge "$GUEST_TIMEOUT" ]; then
			log "guest still running after $GUEST_TIMEOUT s: stopping it"
			kill "$qemu_pid"
		fi
	done
	wait "$qemu_pid"
	log "guest ran $(($(date +%s) - t0)) s (qemu exit $?)"
	qemu_pid=""
	tr -d '\r' <"$logf" >"$logf.raw"
}

{ [ -e "$IMAGE" ] && [ -e "$KDIR/Makefile" ]; } || die "no kernel $KVER with headers"
[ -x /bin/busybox ] || die "no /bin/busybox (busybox-static)"
command -v node >/dev/null || die "no node (tools/az_blob_host/node needs node 20)"
mkdir -p "$W"
BENCH_BYTES=$(numfmt --from=iec "$BENCH_SIZE") || die "BLOB_BENCH_SIZE=$BENCH_SIZE"
BENCH_SEED=64
build
build_blob
setup_net
start_azurite
start_host
log "host pid $host_pid, Blob endpoint $ENDPOINT"
"${NSX[@]}" "$HERE/host-pre.sh" "$ENDPOINT" sdk-fixtures "$W/fixtures" >"$W/host-pre.out" 2>&1
make_lists
make_initrd
log "booting $KVER"
run_guest
"${NSX[@]}" "$HERE/host-post.sh" "$ENDPOINT" "$W/post" >"$W/host-post.out" 2>&1

# One log for relay-smoke.sh's verdict: host-pre, the guest, host-post.
{
	echo "@@ run host-pre"
	cat "$W/host-pre.out"
	cat "$W/guest.log.raw"
	echo "@@ run host-post"
	cat "$W/host-post.out"
} >"$W/guest.log.txt"
verdict
rc=$?
log "figures ($KVER, TCG, guest network $NET; bench $BENCH_BYTES bytes each way)"
grep '^# figure bench' "$W/guest.log.txt" | sed 's/^# figure /   /'
exit $rc
