#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of `make demo`'s guest (blob-smoke.sh with BLOB_DEMO=1): the
# relayed Blob device as in guest-init.sh (az_blob_sim, az_blob_relay,
# hv_azure_blob; no network), then files up and down through
# /dev/azure_blob with az_blob_blob, to the Azurite behind the host VSP.
#
# Lines for the reader start "DEMO|" and are shown live by blob-smoke.sh:
# "DEMO|step WHAT", "DEMO|info TEXT", "DEMO|done WHAT HAPPENED (T s)",
# "DEMO|fail WHY (T s)"; times are the guest's (/proc/uptime). The rest is
# for the log: az_blob_blob's "ok"/"FAIL" lines (blob-smoke.sh's verdict
# counts them) and "# demo sha256 C/B HEX SIZE" for the host's SDK check.
# The first failing step ends the run.
#
# /blob-env (from blob-smoke.sh) sets SDK_TEXT and SDK_BIN ("C/B" of the
# blobs the SDK uploaded before the boot) and SDK_BIN_SHA256.

# shellcheck disable=SC1091 # vm/guest-lib.sh
. /lib.sh
# shellcheck disable=SC1091 # written by blob-smoke.sh
. /blob-env
MiB=1048576

up() { cut -d' ' -f1 /proc/uptime; }
t0=$(up)
took() { awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.2f s", b - a }'; }
step() { echo "DEMO|step $*"; t0=$(up); }
info() { echo "DEMO|info $*"; }
done_() { echo "DEMO|done $* ($(took))"; }
finish() {
	echo "@@ dmesg"
	dmesg
	echo "@@ done"
	reboot -f
	sleep 60
}
fail() {
	echo "FAIL demo: $*"
	echo "DEMO|fail $* ($(took))"
	finish
}
# blob CMD ARGS: az_blob_blob, its lines into the log and /tmp/out.
blob() {
	az_blob_blob "$@" >/tmp/out 2>&1
	rc=$?
	cat /tmp/out
	return $rc
}
# What az_blob_blob said about a transfer: "N bytes in T s, R MB/s".
figure() { sed -n 's/^# [a-z]* [^:]*: \([0-9]* bytes in [0-9.]* s, [0-9.]* MB\/s\).*/\1/p' /tmp/out; }
why() { grep -m 1 -E '^FAIL|az_blob_blob:' /tmp/out | sed 's/^FAIL //'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

echo "@@ run demo"
t0=0	# the boot's time: since the kernel started
done_ "Linux $(uname -r) is up and runs /init: $(nproc) vCPUs, $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB of RAM, no Hyper-V"

step "Load the modules: az_blob_sim (a VMBus bus, standing in for Hyper-V's), az_blob_relay (hands the device's rings to the host VSP through the ivshmem PCI device), hv_azure_blob (the driver)"
modprobe az_blob_sim || fail "modprobe az_blob_sim"
# The relayed device is to be the only one: the in-guest host's goes first.
echo "rescind 0" >$S/control
modprobe az_blob_relay || fail "modprobe az_blob_relay"
wait_until "grep -q 'host az_blob_relay' $S/channel" 100 ||
	fail "the host VSP offered no device (az_blob_relay: $(dmesg | grep az_blob_relay | tail -n 1))"
modprobe hv_azure_blob || fail "modprobe hv_azure_blob"
wait_until "[ -e /dev/azure_blob ]" 100 || fail "hv_azure_blob made no /dev/azure_blob"
dev=$(basename "$(readlink /sys/class/misc/azure_blob/device)")
info "VMBus device $dev, class $(cat "/sys/bus/vmbus/devices/$dev/class_id" 2>/dev/null) (Azure Blob)"
info "its host: the az_blob_host process outside the guest ($(dmesg | sed -n 's/^\[[ 0-9.]*\] az_blob_relay [0-9a-f:.]*: //p' | tail -n 1))"
echo "ok demo: driver bound to the relayed device"
done_ "/dev/azure_blob is there: character device $(cat /sys/class/misc/azure_blob/dev), bound to $dev"

step "Create the container \"demo\" (a Create Container request through /dev/azure_blob)"
blob mkcontainer demo || fail "mkcontainer demo: $(why)"
done_ "HTTP $(sed -n 's/^ok mkcontainer demo (http \([0-9]*\)).*/\1/p' /tmp/out) from Azurite$(grep -q 'http 409' /tmp/out && echo ': it was there already')"

step "Make two files in the guest: random.bin (20 MiB from /dev/urandom) and hello.txt (one line)"
dd if=/dev/urandom of=/tmp/random.bin bs=$MiB count=20 2>/dev/null || fail "dd from /dev/urandom"
echo "Hello from the guest: Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M:%S UTC'), through /dev/azure_blob" >/tmp/hello.txt
RAND_SHA=$(sha /tmp/random.bin)
HELLO_SHA=$(sha /tmp/hello.txt)
echo "# demo sha256 demo/random.bin $RAND_SHA $(stat -c %s /tmp/random.bin)"
echo "# demo sha256 demo/hello.txt $HELLO_SHA $(stat -c %s /tmp/hello.txt)"
done_ "random.bin $(stat -c %s /tmp/random.bin) bytes, sha256 $RAND_SHA"

step "Upload both through /dev/azure_blob (az_blob_blob put-file: Put Blob requests; the driver hands them to the host VSP, which sends them on to Azurite)"
blob put-file demo/random.bin /tmp/random.bin || fail "put-file demo/random.bin: $(why)"
up_fig=$(figure)
blob put-file demo/hello.txt /tmp/hello.txt || fail "put-file demo/hello.txt: $(why)"
done_ "random.bin: $up_fig; hello.txt: $(stat -c %s /tmp/hello.txt) bytes"

step "List the container \"demo\" through the driver (List Blobs)"
blob ls demo || fail "ls demo: $(why)"
sed -n 's/^# *\([0-9]*\) \(.*\)/\2: \1 bytes/p' /tmp/out | while read -r l; do info "$l"; done
{ grep -q ' random.bin$' /tmp/out && grep -q ' hello.txt$' /tmp/out; } ||
	fail "random.bin and hello.txt are not both listed"
done_ "$(sed -n 's/^ok ls demo (\(.*\))/\1/p' /tmp/out) listed"

step "Download demo/random.bin through the driver into another file and compare the bytes (cmp)"
blob get-file demo/random.bin /tmp/random.back || fail "get-file demo/random.bin: $(why)"
down_fig=$(figure)
cmp /tmp/random.bin /tmp/random.back || fail "the downloaded file differs: $(cmp /tmp/random.bin /tmp/random.back 2>&1)"
echo "ok demo: random.bin came back the same"
done_ "identical: $down_fig, sha256 $(sha /tmp/random.back)"

step "Read what the Azure SDK on the host uploaded before the boot: $SDK_TEXT and $SDK_BIN"
blob get-file "$SDK_TEXT" /tmp/sdk.txt || fail "get-file $SDK_TEXT: $(why)"
info "${SDK_TEXT#*/} says: $(cat /tmp/sdk.txt)"
blob get-file "$SDK_BIN" /tmp/sdk.bin || fail "get-file $SDK_BIN: $(why)"
got=$(sha /tmp/sdk.bin)
[ "$got" = "$SDK_BIN_SHA256" ] || fail "${SDK_BIN#*/}: sha256 $got, the SDK uploaded $SDK_BIN_SHA256"
echo "ok demo: the SDK's blobs read through the driver"
done_ "${SDK_BIN#*/}: $(stat -c %s /tmp/sdk.bin) bytes, sha256 $got, as the SDK uploaded"

step "Unload the driver and the VMBus stand-in"
p=$(st relay_packets)
c=$(st relay_completions)
for k in relay_dropped relay_host_gone misuse; do
	[ "$(st $k)" = 0 ] || fail "$k $(st $k), not 0"
done
[ "$p" = "$c" ] || fail "$p requests went to the host, $c completions came back"
for m in hv_azure_blob az_blob_relay az_blob_sim; do
	rmmod $m || fail "rmmod $m"
done
echo "ok demo: unloaded"
done_ "$p requests went to the host VSP, $c answers came back, none dropped; modules unloaded"
finish
