#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of blob-smoke.sh's guest: the relayed Blob device (az_blob_sim,
# az_blob_relay, hv_azure_blob) and virtio-net on QEMU's user network, then
# az_blob_blob against the Azurite behind the host VSP: the suite, the SDK's
# fixtures verified, uploads for the SDK to verify, a demo of files, and the
# same bench through the driver and over TCP. Result lines are "ok NAME",
# "FAIL NAME: WHY", "skip NAME: WHY", "# ..."; "@@ run G" names the group.
#
# /blob-env (from blob-smoke.sh) sets TCP (HOST:PORT of Azurite as the
# guest reaches it), GUEST_ADDR and GUEST_GW (eth0), BENCH_SIZE, BENCH_REPEAT, SUITE_TCP (1: the suite
# over TCP too); /fixtures and /uploads are "CONTAINER/BLOB SIZE SEED"
# lists; /sdk-props what the SDK's fixtures are (sdk-pattern.js props, for
# libazblob's suite: AZBLOB_TEST_SDK_FIXTURES); /bench-blobs the two bench
# blobs ("driver" and "tcp" lines);
# AZ_CS the connection string for libazblob (functional-guest, azblob-guest:
# the driver transport, no network) and FUNC_BIG_MIB its big transfer;
# FUNC_ASYNC the AZBLOB_DRIVER_ASYNC values to run the suite with ("1 0").

# shellcheck disable=SC1091 # vm/guest-lib.sh
. /lib.sh
# shellcheck disable=SC1091 # written by blob-smoke.sh
. /blob-env

# Run a command, with a line for its exit status.
step() {
	name=$1
	shift
	"$@"
	rc=$?
	[ $rc = 0 ] || echo "FAIL $name: exit $rc"
}

echo "@@ run load"
relay_up

echo "@@ run net"
# QEMU's user network: 10.0.2.15, the host's loopback is 10.0.2.2; a tap:
# 10.0.3.2, the namespace's forwarder to Azurite 10.0.3.1.
if [ "${NET:-}" = none ]; then
	ip link set lo up 2>/dev/null
	echo "skip eth0 up: a kernel without virtio-net: no TCP baseline"
else
	net_up
fi

echo "@@ run suite"
step "az_blob_blob suite" az_blob_blob suite
if [ "$SUITE_TCP" = 1 ]; then
	echo "@@ run suite-tcp"
	step "az_blob_blob --tcp suite" az_blob_blob --tcp "$TCP" suite
fi

echo "@@ run sdk-to-driver"
while read -r cb size seed; do
	case "$cb" in "#"*|"") continue ;; esac
	az_blob_blob verify "$cb" "$size" "$seed"
done </fixtures

echo "@@ run driver-to-sdk"
for c in $( (grep -v '^#' /uploads | awk '{ print $1 }'
	    awk '{ print $2 }' /bench-blobs) | cut -d/ -f1 | sort -u); do
	az_blob_blob mkcontainer "$c"
done
while read -r cb size seed; do
	case "$cb" in "#"*|"") continue ;; esac
	az_blob_blob put "$cb" "$size" "$seed"
done </uploads

echo "@@ run files"
# The program itself up and down again, a listing.
f=$(awk '$1 == "driver" { print $2 }' /bench-blobs | cut -d/ -f1)
az_blob_blob put-file "$f/files/az_blob_blob" /bin/az_blob_blob
az_blob_blob get-file "$f/files/az_blob_blob" /tmp/az_blob_blob.copy
cmp /bin/az_blob_blob /tmp/az_blob_blob.copy && echo "ok the file came back the same" ||
	echo "FAIL the file came back the same: cmp differs"
az_blob_blob get "$f/files/az_blob_blob" | tee /tmp/get.out
sha=$(sha256sum /bin/az_blob_blob | cut -d' ' -f1)
grep -q "sha256 $sha" /tmp/get.out && echo "ok its SHA-256 as sha256sum says" ||
	echo "FAIL its SHA-256 as sha256sum says: $sha"
az_blob_blob ls "$f"
az_blob_blob rm "$f/files/az_blob_blob"

# libazblob's functional suite (lib/tests/functional.c) with the driver
# transport: "ok N name (T s)" -> "ok libazblob: name (T s)", "not ok N
# name" -> FAIL, "skip N name: why" -> skip. No node here: the SDK checks
# go to a manifest, printed below for the host (check-manifest.js), and
# the blobs are kept for it. Once per AZBLOB_DRIVER_ASYNC in FUNC_ASYNC
# (default "1 0"): 1 through io_uring only (the suite fails if a request
# went through the ioctl), then 0 through the ioctl from worker threads,
# with a smaller big transfer (FUNC_BIG_MIB_IOCTL).
run_libazblob() {	# AZBLOB_DRIVER_ASYNC NAME BIG_MIB
	t0=$(date +%s)
	AZBLOB_TRANSPORT=driver AZBLOB_DRIVER_ASYNC=$1 AZBLOB_TEST_KEEP=1 \
	AZBLOB_TEST_MANIFEST=/tmp/manifest AZBLOB_TEST_BIG_MIB="$3" \
	AZBLOB_TEST_SDK_FIXTURES=/sdk-props \
	AZBLOB_TEST_CONNECTION_STRING="$AZ_CS" functional-guest >/tmp/func.out 2>&1
	rc=$?
	sed -e "s/^ok [0-9]* /ok $2: /" \
	    -e "s/^not ok [0-9]* /FAIL $2: /" \
	    -e "s/^not ok: /FAIL $2: /" \
	    -e "s/^skip [0-9]* /skip $2: /" \
	    -e "s/^Bail out! /FAIL $2 bail out: /" \
	    -e '/^\(ok\|FAIL\|skip\|#\) /!s/^/# /' /tmp/func.out
	echo "# $2: functional-guest exit $rc in $(($(date +%s) - t0)) s (big transfer $3 MiB, AZBLOB_DRIVER_ASYNC=$1)"
	[ $rc = 0 ] && echo "ok $2 functional-guest exit 0" ||
		echo "FAIL $2 functional-guest exit 0: exit $rc"
	# Its "deletes" case (func_big.c) removes sizes/mem-1 after its SDK
	# line was written: the SDK is to find it gone.
	c=$(sed -n 's/^# functional: .* container \([^ ,]*\).*/\1/p' /tmp/func.out)
	[ -n "$c" ] && grep -q "^ok [0-9]* deletes" /tmp/func.out &&
		echo "absent $c sizes/mem-1" >>/tmp/absent
}
if [ -x /bin/functional-guest ]; then
	: >/tmp/absent
	for m in ${FUNC_ASYNC:-1 0}; do
		case $m in
		1) echo "@@ run libazblob"
		   run_libazblob 1 libazblob "$FUNC_BIG_MIB"
		   grep -q "^# driver: [1-9][0-9]* requests through io_uring" /tmp/func.out &&
			echo "ok libazblob went through io_uring ($(sed -n 's/^# driver: //p' /tmp/func.out))" ||
			echo "FAIL libazblob went through io_uring: no request did"
		   ;;
		0) echo "@@ run libazblob-ioctl"
		   run_libazblob 0 libazblob-ioctl "${FUNC_BIG_MIB_IOCTL:-64}" ;;
		*) echo "@@ run libazblob-$m"
		   run_libazblob "$m" "libazblob-$m" "${FUNC_BIG_MIB_IOCTL:-64}" ;;
		esac
	done
	# The driver's counters after both (io_uring and ioctl requests).
	for f in /sys/kernel/debug/hyperv/*/stats /sys/kernel/debug/hv_azure_blob/*/stats; do
		[ -f "$f" ] && sed "s|^|# $f: |" "$f"
	done
	[ -s /tmp/manifest ] && echo "ok libazblob manifest written ($(wc -l </tmp/manifest) blobs)" ||
		echo "FAIL libazblob manifest written: empty"
	echo "@@ manifest"
	cat /tmp/manifest 2>/dev/null
	cat /tmp/absent
	echo "@@ end manifest"
else
	echo "@@ run libazblob"
	echo "skip libazblob: no functional-guest in the initramfs"
fi

echo "@@ run azblob"
# The CLI through the driver: a tree up (cp -r), back down, diff -r; ls,
# stat, cat, rm. What stays (cli-tree/tree/...) goes to the manifest too,
# for the SDK on the host.
az() { azblob-guest --transport driver --connection-string="$AZ_CS" -q "$@"; }
chk() {
	name=$1
	shift
	if "$@" >/tmp/chk.out 2>&1; then
		echo "ok azblob $name"
	else
		echo "FAIL azblob $name: $(tail -n 3 /tmp/chk.out | tr '\n' ' ')"
	fi
}
if [ -x /bin/azblob-guest ]; then
	T=/tmp/tree
	mkdir -p $T/a/b/c $T/d
	: >$T/empty
	printf x >$T/a/one
	printf 'hello from the guest\n' >$T/a/b/hello.txt
	dd if=/dev/urandom of=$T/a/b/c/big bs=1048576 count=5 2>/dev/null
	dd if=/dev/urandom of=$T/d/odd bs=65537 count=3 2>/dev/null
	chk "mb az://cli-tree" az mb az://cli-tree
	chk "cp -r tree up" az cp -r $T az://cli-tree/tree
	chk "cp -r tree back" az cp -r az://cli-tree/tree /tmp/back
	chk "diff -r the tree came back the same" diff -r $T /tmp/back
	n=$(az ls -r az://cli-tree/tree | wc -l)
	[ "$n" = 5 ] && echo "ok azblob ls -r lists 5 blobs" ||
		echo "FAIL azblob ls -r lists 5 blobs: $n ($(az ls -r az://cli-tree/tree | tr '\n' ' '))"
	l=$(az ls az://cli-tree/tree/ | tr -s ' \n' '  ')
	case "$l" in
	*tree/a/*tree/d/*tree/empty*) echo "ok azblob ls one level: $l" ;;
	*) echo "FAIL azblob ls one level: $l" ;;
	esac
	sz=$(az stat az://cli-tree/tree/a/b/c/big | sed -n 's/^size: *//p')
	[ "$sz" = 5242880 ] && echo "ok azblob stat size 5242880" ||
		echo "FAIL azblob stat size 5242880: $sz"
	sz=$(az stat az://cli-tree/tree/empty | sed -n 's/^size: *//p')
	[ "$sz" = 0 ] && echo "ok azblob stat size 0" || echo "FAIL azblob stat size 0: $sz"
	[ "$(az cat az://cli-tree/tree/a/b/hello.txt)" = "hello from the guest" ] &&
		echo "ok azblob cat" || echo "FAIL azblob cat: $(az cat az://cli-tree/tree/a/b/hello.txt 2>&1)"
	az cat az://cli-tree/tree/a/b/c/big | cmp - $T/a/b/c/big &&
		echo "ok azblob cat 5 MiB = the file" || echo "FAIL azblob cat 5 MiB = the file: cmp"
	az cp -r $T az://cli-tree/gone >/dev/null 2>&1
	chk "rm one blob" az rm az://cli-tree/gone/a/one
	az stat az://cli-tree/gone/a/one >/dev/null 2>&1 &&
		echo "FAIL azblob stat after rm fails: it succeeds" ||
		echo "ok azblob stat after rm fails"
	chk "rm -r" az rm -r az://cli-tree/gone
	n=$(az ls -r az://cli-tree/gone | wc -l)
	[ "$n" = 0 ] && echo "ok azblob ls -r after rm -r: empty" ||
		echo "FAIL azblob ls -r after rm -r: empty: $n blobs"
	az cat az://cli-tree/nonexistent >/dev/null 2>&1 &&
		echo "FAIL azblob cat of a missing blob fails: it succeeds" ||
		echo "ok azblob cat of a missing blob fails"
	echo "@@ manifest"
	(cd $T && find . -type f | sed 's|^\./||' | while read -r f; do
		echo "sha256 cli-tree tree/$f $(wc -c <"$f") $(sha256sum "$f" | cut -d' ' -f1)"
		echo "absent cli-tree gone/$f"
	done)
	echo "@@ end manifest"
	rm -rf $T /tmp/back
else
	echo "skip azblob: no azblob-guest in the initramfs"
fi

echo "@@ run bench"
echo "# $BENCH_SIZE bytes, $BENCH_REPEAT time(s) each way; MB/s = 10^6 bytes/s"
while read -r how cb seed; do
	if [ "$how" = tcp ]; then
		az_blob_blob --tcp "$TCP" bench "$cb" "$BENCH_SIZE" "$seed" "$BENCH_REPEAT"
	else
		az_blob_blob bench "$cb" "$BENCH_SIZE" "$seed" "$BENCH_REPEAT"
	fi
done </bench-blobs

echo "@@ run relay"
grep -E '^(requests|completions|relay_[a-z_]+) ' $S/stats | sed 's/^/# /'
sed 's/^/# driver: /' /sys/kernel/debug/hyperv/azure_blob/stats 2>/dev/null
for k in relay_dropped relay_host_gone misuse; do
	[ "$(st $k)" = 0 ] && echo "ok $k 0" || echo "FAIL $k 0: $(st $k)"
done

echo "@@ run unload"
for m in hv_azure_blob az_blob_relay az_blob_sim; do
	rmmod $m && echo "ok rmmod $m" || echo "FAIL rmmod $m"
done
echo "@@ dmesg"
dmesg
echo "@@ done"
reboot -f
