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
# driver and over the guest's own TCP stack to the same Azurite. Then
# libazblob (lib/) through the driver: its functional suite and the azblob
# CLI, the blobs they wrote read back by the SDK here (check-manifest.js),
# and the SDK's fixtures read by the suite (bytes, content type, MD5 and
# metadata as host-pre.sh says they are: $W/sdk-props).
#
#   tools/az_blob_test/blob/blob-smoke.sh
#   BLOB_DEMO=1 tools/az_blob_test/blob/blob-smoke.sh      (make demo)
#
# BLOB_DEMO=1: `make demo` instead, the same set-up shown step by step for a
# reader (what each step is, what happened, how long it took): the SDK
# uploads two blobs, the guest (demo-init.sh, no network) makes a container,
# puts a 20 MiB file and a text file through /dev/azure_blob, lists them,
# gets the big one back and compares it, reads the SDK's blobs; then the SDK
# reads what the guest wrote and compares SHA-256s. Exit 0 only if every
# step did what it should.
#
# Environment (and relay-smoke.sh's KDIR, IMAGE, GUEST_TIMEOUT):
#   KVER=VERSION           the stock kernel (default: the newest installed
#                          6.12.*+deb12-amd64 with headers, as check.sh picks)
#   BLOB_WORK=DIR          builds and logs (default .cache/blob-smoke;
#                          .cache/blob-demo with BLOB_DEMO=1)
#   BLOB_BENCH_SIZE=N      bench bytes each way (default 64M)
#   BLOB_BENCH_REPEAT=N    bench runs each way, median reported (default 1)
#   BLOB_SUITE_TCP=0       skip the suite over TCP
#   BLOB_FUNC_BIG_MIB=N    libazblob's big streamed transfer in the guest,
#                          MiB (default 300)
#   BLOB_FUNC_ASYNC="1 0"  libazblob's suite once per AZBLOB_DRIVER_ASYNC
#                          value: 1 io_uring only, 0 the ioctl (its big
#                          transfer 64 MiB), auto the library's choice
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
DEMO=${BLOB_DEMO:-0}
LIBBENCH=${BLOB_LIBBENCH:-0}
if [ "$DEMO" = 1 ]; then
	export RELAY_WORK=${BLOB_WORK:-$(cd "$HERE/../../.." && pwd)/.cache/blob-demo}
	export GUEST_TIMEOUT=${GUEST_TIMEOUT:-300}
elif [ "$LIBBENCH" = 1 ]; then
	export RELAY_WORK=${BLOB_WORK:-$(cd "$HERE/../../.." && pwd)/.cache/blob-bench}
	export GUEST_TIMEOUT=${GUEST_TIMEOUT:-3600}
else
	export RELAY_WORK=${BLOB_WORK:-$(cd "$HERE/../../.." && pwd)/.cache/blob-smoke}
fi
# The newest Debian 6.12 kernel with its headers (check.sh's choice);
# relay-smoke.sh's pinned default when there is none.
if [ -z "${KVER:-}" ]; then
	for kv in /boot/vmlinuz-6.12.*+deb12-amd64; do
		kv=${kv#/boot/vmlinuz-}
		[ -e "/lib/modules/$kv/build/Makefile" ] || continue
		KVER=$(printf '%s\n%s\n' "${KVER:-}" "$kv" | sed '/^$/d' | sort -V | tail -n 1)
	done
	[ -n "${KVER:-}" ] && export KVER
fi
BENCH_SIZE=${BLOB_BENCH_SIZE:-64M}
FUNC_BIG_MIB=${BLOB_FUNC_BIG_MIB:-300}
FUNC_ASYNC=${BLOB_FUNC_ASYNC:-1 0}
AZURITE_KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
BENCH_REPEAT=${BLOB_BENCH_REPEAT:-1}
SUITE_TCP=${BLOB_SUITE_TCP:-1}
NET=${BLOB_NET:-}
[ "$DEMO" = 1 ] && NET=none
[ "$LIBBENCH" = 1 ] && [ "$NET" = none ] &&
	{ echo "blob-smoke: BLOB_LIBBENCH=1 needs a guest network (tap or user)" >&2; exit 1; }
# A kernel without virtio-net (the debug kernel has no network at all):
# no TCP baseline there, only the driver.
if [ -z "$NET" ] && ! modprobe -S "$KVER" --show-depends virtio_net >/dev/null 2>&1 &&
   ! grep -qs '^CONFIG_VIRTIO_NET=y' "$KDIR/.config"; then
	NET=none
	SUITE_TCP=0
fi
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

# libazblob's functional suite and the azblob CLI for the guest: static,
# driver transport only (make -C lib guest, make -C tools/azblob guest).
build_libazblob() {
	if ! make -C "$TOP/tools/azblob" -s O="$W/bin" LIBOUT="$W/lib" guest \
		>"$W/libazblob.log" 2>&1 || [ ! -x "$W/lib/functional-guest" ]; then
		tail -n 20 "$W/libazblob.log"
		die "libazblob guest build failed"
	fi
	cp "$W/lib/functional-guest" "$W/bin/"
}

# The guest's network: QEMU's user network (slirp), where 10.0.2.2 is this
# machine's loopback; or a tap device in a namespace of our own, where
# everything else runs too and a forwarder on the tap's address leads to
# Azurite on the namespace's loopback. The demo's guest has none.
setup_net() {
	NETDEV=""
	GUEST_ADDR=""
	GUEST_GW=""
	GUEST_GW=""
	[ "$NET" = none ] && return
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
	printf '%s\n' "driver bench-up/driver $((BENCH_SEED))" >"$W/bench-blobs"
	[ "$NET" != none ] &&
		printf '%s\n' "tcp bench-up/tcp $((BENCH_SEED + 1))" >>"$W/bench-blobs"
	{
		cat "$W/uploads"
		awk '{ print $2 " " BYTES " " $3 }' BYTES="$BENCH_BYTES" "$W/bench-blobs"
	} >"$W/post"
}

# virtio-net and what it needs (virtio_pci is a module on 6.1), into $1.
add_net_modules() {
	local t
	for t in $( (modprobe -S "$KVER" --show-depends virtio_pci
		     modprobe -S "$KVER" --show-depends virtio_net) 2>/dev/null |
		   awk '$1 == "insmod" { print $2 }' | sort -u); do
		case "$t" in
		*.xz) xz -dc "$t" >"$1/extra/$(basename "${t%.xz}")" ;;
		*) cp "$t" "$1/extra/" ;;
		esac
	done
}

make_initrd() {
	local root=$W/root b=$W/src/tools/az_blob_test/sim t
	local mods=$root/lib/modules/$KVER

	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp} "$mods/extra"
	cp /bin/busybox "$W/bin/az_blob_blob" "$root/bin/"
	[ "$DEMO" = 1 ] || cp "$W/bin/functional-guest" "$W/bin/azblob-guest" "$root/bin/"
	cp "$b/az_blob_sim.ko" "$b/az_blob_relay.ko" "$W/drv/hv_azure_blob.ko" \
		"$mods/extra/"
	if [ "$DEMO" = 1 ]; then
		depmod -b "$root" "$KVER" 2>/dev/null
		install -m 755 "$HERE/demo-init.sh" "$root/init"
		install -m 644 "$HERE/../vm/guest-lib.sh" "$root/lib.sh"
		printf 'SDK_TEXT=%s\nSDK_BIN=%s\nSDK_BIN_SHA256=%s\n' \
			"$SDK_TEXT" "$SDK_BIN" "$SDK_BIN_SHA256" >"$root/blob-env"
		(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"
		return
	fi
	add_net_modules "$mods"
	depmod -b "$root" "$KVER" 2>/dev/null
	install -m 755 "$HERE/guest-init.sh" "$root/init"
	install -m 644 "$HERE/../vm/guest-lib.sh" "$root/lib.sh"
	cp "$W/fixtures" "$root/fixtures"
	# What the SDK's fixtures are, for libazblob's suite (func_cases.c).
	cp "$W/sdk-props" "$root/sdk-props" 2>/dev/null || : >"$root/sdk-props"
	cp "$W/uploads" "$root/uploads"
	cp "$W/bench-blobs" "$root/bench-blobs"
	printf 'TCP=%s:%s\nGUEST_ADDR=%s\nGUEST_GW=%s\nBENCH_SIZE=%s\nBENCH_REPEAT=%s\nSUITE_TCP=%s\nNET=%s\n' \
		"$GUEST_GW" "$PORT" "$GUEST_ADDR" "$GUEST_GW" "$BENCH_BYTES" \
		"$BENCH_REPEAT" "$SUITE_TCP" "$NET" >"$root/blob-env"
	# libazblob's account: the emulator's, at the endpoint the host serves
	# (the driver transport signs for it; the host sends it on).
	printf "AZ_CS='%s'\nFUNC_BIG_MIB=%s\nFUNC_ASYNC='%s'\n" \
		"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=$ENDPOINT/devstoreaccount1" \
		"$FUNC_BIG_MIB" "$FUNC_ASYNC" >>"$root/blob-env"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"
}

# relay-smoke.sh's run_guest, with a network and no host stop. The demo's
# lines are shown as the guest prints them.
run_guest() {
	local logf=$W/guest.log t0 net=() show_pid=""
	: >"$logf"
	t0=$(date +%s)
	[ -n "$NETDEV" ] && net=(-netdev "$NETDEV" -device "virtio-net-pci,netdev=n0")
	setpriv --pdeathsig KILL "${NSX[@]}" qemu-system-x86_64 \
		-machine q35,accel=tcg,memory-backend=ram -cpu max -smp 2 -m 1G \
		-object memory-backend-file,id=ram,size=1G,mem-path="$RAMFILE",share=on \
		-chardev socket,path="$SOCK",id=ivsh \
		-device ivshmem-doorbell,chardev=ivsh,vectors=1 \
		"${net[@]}" \
		-nodefaults -no-reboot -display none -serial "file:$logf" \
		-kernel "$IMAGE" -initrd "$W/initrd.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 oops=panic rdinit=/init" \
		>"$W/qemu.log" 2>&1 &
	qemu_pid=$!
	if [ "$DEMO" = 1 ]; then
		tail -n +1 -f --pid="$qemu_pid" "$logf" |
			sed -un 's/\r$//; s/^DEMO|//p' | demo_show &
		show_pid=$!
	fi
	while kill -0 "$qemu_pid" 2>/dev/null; do
		sleep 1
		if [ $(($(date +%s) - t0)) -ge "$GUEST_TIMEOUT" ]; then
			log "guest still running after $GUEST_TIMEOUT s: stopping it"
			kill "$qemu_pid"
		fi
	done
	wait "$qemu_pid"
	guest_rc=$?
	guest_s=$(($(date +%s) - t0))
	[ -n "$show_pid" ] && wait "$show_pid"
	[ "$DEMO" = 1 ] || log "guest ran $guest_s s (qemu exit $guest_rc)"
	qemu_pid=""
	tr -d '\r' <"$logf" >"$logf.raw"
}

# ------------------------------------------------------------ make demo
# Each step: a line saying what it is ("host  | ..." or "guest | ..."),
# then one saying what happened and how long it took ("      |   -> ...").
# The guest's steps are demo-init.sh's "DEMO|" lines, shown as they come.
SDK_JS=$TOP/tools/az_blob_host/node/sdk.js
SDK_TEXT=from-host/hello-from-host.txt
SDK_BIN=from-host/random-4M.bin
SDK_BIN_SHA256=""
T_DEMO=$EPOCHREALTIME
T_STEP=$EPOCHREALTIME
guest_s=0

secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
dstep() { printf '%-5s | %s\n' "$1" "$2"; T_STEP=$EPOCHREALTIME; }
dinfo() { printf '      |      %s\n' "$*"; }
ddone() { printf '      |   -> %s (%s s)\n' "$*" "$(secs_since "$T_STEP")"; }
dfail() {
	printf '      |   -> FAILED: %s (%s s)\n' "$*" "$(secs_since "$T_STEP")"
	exit 1
}
demo_show() {
	local line kind text
	while IFS= read -r line; do
		kind=${line%% *}
		text=${line#* }
		case $kind in
		step) printf 'guest | %s\n' "$text" ;;
		info) dinfo "$text" ;;
		done) printf '      |   -> %s\n' "$text" ;;
		fail) printf '      |   -> FAILED: %s\n' "$text" ;;
		esac
	done
}
# The Azure SDK on this machine, straight to Azurite.
sdk() { node "$SDK_JS" "$ENDPOINT" "$@" 2>>"$W/sdk.err"; }
sdk_why() { tail -n 1 "$W/sdk.err"; }

# shellcheck disable=SC2317 # called by the trap
demo_exit() {
	local rc=$?
	all_cleanup >/dev/null 2>&1
	if [ "$rc" = 0 ]; then
		printf '\nmake demo: PASSED in %s s (logs in %s)\n' "$(secs_since "$T_DEMO")" "$W"
	else
		printf '\nmake demo: FAILED after %s s; logs in %s (guest.log.txt, host.out, build.out)\n' \
			"$(secs_since "$T_DEMO")" "$W"
	fi
	exit "$rc"
}

demo_main() {
	local out n cb want size got text
	trap demo_exit EXIT
	# What failed is said on the step's line.
	die() { dfail "$*"; }
	rm -f "$W/sdk.err" "$W/guest.log.txt"
	cat <<-EOT
	make demo: a Linux guest keeps files in Azure Blob Storage through the
	hv_azure_blob driver (/dev/azure_blob), on a machine without Hyper-V.
	  guest (QEMU)  az_blob_blob -> /dev/azure_blob -> hv_azure_blob -> VMBus ring
	                (az_blob_sim stands in for Hyper-V's VMBus; az_blob_relay
	                takes the ring to the host through QEMU's ivshmem device)
	  this machine  az_blob_host (the device's host side, the VSP) -> HTTP -> Azurite
	                (Microsoft's Azure Storage emulator); the Azure SDK for
	                JavaScript reads and writes the same blobs, as a cross-check
	Work directory: $W

	EOT

	dstep host "Build for Linux $KVER: the driver, the guest's VMBus stand-in (az_blob_sim, az_blob_relay), the host VSP (az_blob_host), the guest's client (az_blob_blob); compiled every run, 10 to 60 s"
	if ! (build && build_blob) >"$W/build.out" 2>&1; then
		tail -n 15 "$W/build.out" | while IFS= read -r out; do dinfo "$out"; done
		dfail "the build (log: $W/build.out)"
	fi
	ddone "hv_azure_blob.ko, az_blob_sim.ko, az_blob_relay.ko, az_blob_host, az_blob_blob built"

	setup_net
	dstep host "Start Azurite, the Blob service, on this machine (blobs are kept in its memory; the first run installs it and the SDK with npm ci)"
	# One left over from an interrupted demo would still hold its blobs.
	"$AZURITE" stop >/dev/null 2>&1
	start_azurite >"$W/azurite.out"
	ddone "listening at $ENDPOINT"

	dstep host "Start az_blob_host, the device's host side: it maps the guest's RAM (a shared file), is rung through QEMU's ivshmem doorbell, and sends each Blob request on to Azurite"
	start_host
	ddone "ready (pid $host_pid): guest RAM $RAMFILE, doorbell socket $SOCK"

	dstep host "The Azure SDK on this machine (node, @azure/storage-blob) uploads two blobs for the guest to read: $SDK_TEXT, $SDK_BIN (4 MiB of random bytes)"
	printf 'Hello from the host: uploaded by the Azure SDK at %s\n' \
		"$(date -u '+%Y-%m-%d %H:%M:%S UTC')" >"$W/hello-from-host.txt"
	head -c 4M /dev/urandom >"$W/random-4M.bin"
	SDK_BIN_SHA256=$(sha256sum "$W/random-4M.bin" | cut -d' ' -f1)
	{ sdk mkcontainer "${SDK_TEXT%%/*}" &&
	  sdk put "${SDK_TEXT%%/*}" "${SDK_TEXT#*/}" "$W/hello-from-host.txt" &&
	  sdk put "${SDK_BIN%%/*}" "${SDK_BIN#*/}" "$W/random-4M.bin"; } ||
		dfail "SDK upload: $(sdk_why)"
	ddone "uploaded; ${SDK_BIN#*/} has sha256 $SDK_BIN_SHA256"

	make_initrd
	dstep host "Boot the guest: QEMU with a software CPU (TCG), Linux $KVER, 2 vCPUs, 1 GiB of RAM shared with az_blob_host, the ivshmem doorbell; no network"
	run_guest
	tr -d '\r' <"$W/guest.log" >"$W/guest.log.txt"
	printf 'host  | The guest is off again: it ran %s s, boot included\n' "$guest_s"
	grep -q '^@@ done' "$W/guest.log.txt" ||
		dfail "the guest did not finish (qemu exit $guest_rc; see $W/guest.log.txt)"
	grep -q '^FAIL' "$W/guest.log.txt" &&
		dfail "the guest's step above (see $W/guest.log.txt)"
	dstep host "The Azure SDK lists the container \"demo\" (straight from Azurite, not through the driver)"
	out=$(sdk list demo) || dfail "SDK list: $(sdk_why)"
	while read -r size cb; do dinfo "$cb: $size bytes"; done <<<"$out"
	n=$(grep -c . <<<"$out")
	ddone "$n blobs, as the guest listed them"

	dstep host "The Azure SDK downloads what the guest uploaded through /dev/azure_blob and hashes it"
	n=0
	while read -r _ _ _ cb want size; do
		got=$(sdk sha256 "${cb%%/*}" "${cb#*/}") || dfail "SDK download $cb: $(sdk_why)"
		[ "$got" = "$size $want" ] ||
			dfail "$cb: the SDK reads $got (bytes, sha256), the guest uploaded $size $want"
		dinfo "${cb#*/}: $size bytes, sha256 $want, as in the guest"
		n=$((n + 1))
	done < <(grep '^# demo sha256 ' "$W/guest.log.txt")
	[ "$n" = 2 ] || dfail "the guest reported $n sha256s, not 2"
	text=$(sdk get demo hello.txt -) || dfail "SDK download demo/hello.txt: $(sdk_why)"
	dinfo "hello.txt says: $text"
	ddone "both blobs hold the very bytes the guest wrote"

	dstep host "Check the logs: every guest step passed, no warning in the guest's kernel log, the host VSP served to the end"
	if ! verdict >"$W/verdict.out"; then
		grep '^FAIL' "$W/verdict.out" | while IFS= read -r out; do dinfo "$out"; done
		dfail "$(tail -n 1 "$W/verdict.out")"
	fi
	ddone "$(tail -n 1 "$W/verdict.out")"
}

# ------------------------------------------------------------ make bench
# BLOB_LIBBENCH=1: lib-bench (lib-bench.c) in the guest, through the driver
# and over REST to the same Azurite. lib-bench is dynamic (libcurl): the
# initramfs gets what ldd lists, at the same paths.
LB_SIZES=${BLOB_LIBBENCH_SIZES:-1M 32M 1G}
LB_REPEAT=${BLOB_LIBBENCH_REPEAT:-3}
LB_REPEAT_BIG=${BLOB_LIBBENCH_REPEAT_BIG:-$LB_REPEAT}
LB_MIN_BYTES=${BLOB_LIBBENCH_MIN_BYTES:-32M}
LB_CHECKSUM=${BLOB_LIBBENCH_CHECKSUM:-}	# none|crc64|md5; the library's default

build_libbench() {
	make -C "$HERE" -s O="$W/bin" LIBOUT="$W/lib" lib-bench >"$W/lib-bench.log" 2>&1 ||
		{ tail -n 20 "$W/lib-bench.log"; die "lib-bench build failed"; }
	if grep -E 'warning:|error:' "$W/lib-bench.log"; then
		die "lib-bench: build diagnostics above"
	fi
}

make_bench_initrd() {
	local root=$W/root b=$W/src/tools/az_blob_test/sim f sizes="" s
	local mods=$root/lib/modules/$KVER

	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp} "$mods/extra"
	cp /bin/busybox "$W/bin/lib-bench" "$root/bin/"
	for f in $(ldd "$W/bin/lib-bench" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
	cp "$b/az_blob_sim.ko" "$b/az_blob_relay.ko" "$W/drv/hv_azure_blob.ko" \
		"$mods/extra/"
	add_net_modules "$mods"
	depmod -b "$root" "$KVER" 2>/dev/null
	install -m 755 "$HERE/bench-init.sh" "$root/init"
	install -m 644 "$HERE/../vm/guest-lib.sh" "$root/lib.sh"
	for s in $LB_SIZES; do
		sizes="$sizes $(numfmt --from=iec "$s")" || die "BLOB_LIBBENCH_SIZES: $s"
	done
	{
		printf "DRV_CS='%s'\nREST_CS='%s'\n" \
			"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=$ENDPOINT/devstoreaccount1" \
			"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://$GUEST_GW:$PORT/devstoreaccount1"
		printf "GUEST_ADDR=%s\nGUEST_GW=%s\nSIZES='%s'\nREPEAT=%s\nREPEAT_BIG=%s\nMIN_BYTES=%s\nCHECKSUM=%s\n" \
			"$GUEST_ADDR" "$GUEST_GW" "${sizes# }" "$LB_REPEAT" "$LB_REPEAT_BIG" \
			"$(numfmt --from=iec "$LB_MIN_BYTES")" "$LB_CHECKSUM"
	} >"$root/blob-env"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"
}

libbench_main() {
	build
	build_libbench
	setup_net
	start_azurite
	start_host
	log "host pid $host_pid, Blob endpoint $ENDPOINT; lib-bench sizes $LB_SIZES, repeat $LB_REPEAT (1 GiB and more: $LB_REPEAT_BIG)"
	make_bench_initrd
	log "booting $KVER (initramfs $(du -k "$W/initrd.gz" | cut -f1) KiB)"
	run_guest
	cp "$W/guest.log.raw" "$W/guest.log.txt"
	grep '^bench ' "$W/guest.log.txt" >"$W/bench.out"
	{
		printf 'net %s\n' "$NET"
		printf 'guest_s %s\n' "$guest_s"
		sed -n 's/^# guest: /guest /p' "$W/guest.log.txt"
	} >"$W/bench.info"
	verdict
}

{ [ -e "$IMAGE" ] && [ -e "$KDIR/Makefile" ]; } || die "no kernel $KVER with headers"
[ -x /bin/busybox ] || die "no /bin/busybox (busybox-static)"
command -v node >/dev/null || die "no node (tools/az_blob_host/node needs node 20)"
mkdir -p "$W"
if [ "$DEMO" = 1 ]; then
	demo_main
	exit 0
fi
if [ "$LIBBENCH" = 1 ]; then
	libbench_main
	exit $?
fi
BENCH_BYTES=$(numfmt --from=iec "$BENCH_SIZE") || die "BLOB_BENCH_SIZE=$BENCH_SIZE"
BENCH_SEED=64
build
build_blob
build_libazblob
setup_net
start_azurite
start_host
log "host pid $host_pid, Blob endpoint $ENDPOINT"
"${NSX[@]}" "$HERE/host-pre.sh" "$ENDPOINT" sdk-fixtures "$W/fixtures" "$W/sdk-props" \
	>"$W/host-pre.out" 2>&1
make_lists
make_initrd
log "booting $KVER"
run_guest
"${NSX[@]}" "$HERE/host-post.sh" "$ENDPOINT" "$W/post" >"$W/host-post.out" 2>&1
# The SDK checks the guest's libazblob and azblob runs wrote down (between
# "@@ manifest" and "@@ end manifest" in its log).
sed -n '/^@@ manifest$/,/^@@ end manifest$/{/^@@/d;p}' "$W/guest.log.raw" >"$W/manifest"
"${NSX[@]}" node "$TOP/lib/tests/check-manifest.js" "$ENDPOINT" "$W/manifest" \
	>"$W/libazblob-sdk.out" 2>&1

# One log for relay-smoke.sh's verdict: host-pre, the guest, host-post.
{
	echo "@@ run host-pre"
	cat "$W/host-pre.out"
	cat "$W/guest.log.raw"
	echo "@@ run host-post"
	cat "$W/host-post.out"
	echo "@@ run libazblob-sdk"
	cat "$W/libazblob-sdk.out"
} >"$W/guest.log.txt"
verdict
rc=$?
log "figures ($KVER, TCG, guest network $NET; bench $BENCH_BYTES bytes each way)"
grep '^# figure bench' "$W/guest.log.txt" | sed 's/^# figure /   /'
exit $rc
