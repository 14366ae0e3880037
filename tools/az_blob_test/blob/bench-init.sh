#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of blob-smoke.sh's bench guest (BLOB_LIBBENCH=1, make bench): the
# relayed Blob device (az_blob_sim, az_blob_relay, hv_azure_blob) and
# virtio-net, then lib-bench (lib-bench.c): libazblob's driver transport
# (/dev/azure_blob -> az_blob_host outside the guest -> Azurite) and its
# REST transport (libcurl -> virtio-net -> the same Azurite) side by side,
# each size REPEAT times, the two transports in turns (which goes first
# alternates). Result lines: "bench REP TRANSPORT up|down BYTES OPS WALL_NS
# BUSY_TICKS HZ" (lib-bench's, with the repeat), "ok ...", "FAIL ...".
#
# /blob-env (from blob-smoke.sh): DRV_CS, REST_CS (connection strings: the
# endpoint as the host sees Azurite, and as the guest reaches it),
# GUEST_ADDR, GUEST_GW, SIZES (bytes), REPEAT, REPEAT_BIG (for sizes of
# 1 GiB and more), MIN_BYTES (a sample of a small size is that many bytes
# in back-to-back operations), CHECKSUM (lib-bench's LIB_BENCH_CHECKSUM;
# empty: the library's default).

# shellcheck disable=SC1091 # vm/guest-lib.sh
. /lib.sh
# shellcheck disable=SC1091 # written by blob-smoke.sh
. /blob-env
[ -n "${CHECKSUM:-}" ] && export LIB_BENCH_CHECKSUM="$CHECKSUM"

echo "@@ run load"
relay_up

echo "@@ run net"
net_up

echo "@@ run bench"
echo "# guest: $(nproc) CPUs, $(sed -n 's/^MemTotal: *//p' /proc/meminfo) RAM, $(uname -r), checksum ${CHECKSUM:-default}"
# One lib-bench run: "bench ..." lines get the repeat; exit status checked.
one() {
	rep=$1 t=$2 size=$3 ops=$4 cs=$DRV_CS
	[ "$t" = rest ] && cs=$REST_CS
	lib-bench "$t" "$cs" bench "bench/$t-$size" "$size" "$ops" >/tmp/lb.out 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		sed -n "s/^bench /bench $rep /p" /tmp/lb.out
		echo "ok lib-bench $t $size x$ops (repeat $rep)"
	else
		sed 's/^/# /' /tmp/lb.out
		echo "FAIL lib-bench $t $size x$ops (repeat $rep): exit $rc, $(grep -m1 FAIL /tmp/lb.out)"
	fi
}
for size in $SIZES; do
	ops=$(((MIN_BYTES + size - 1) / size))
	n=$REPEAT
	[ "$size" -ge 1073741824 ] && n=$REPEAT_BIG
	# The program's own share (generator and checker, no transfer).
	one 0 null "$size" "$ops"
	r=1
	while [ $r -le "$n" ]; do
		if [ $((r % 2)) = 1 ]; then
			one $r driver "$size" "$ops"
			one $r rest "$size" "$ops"
		else
			one $r rest "$size" "$ops"
			one $r driver "$size" "$ops"
		fi
		r=$((r + 1))
	done
done

echo "@@ run relay"
grep -E '^(requests|completions|relay_[a-z_]+) ' $S/stats | sed 's/^/# /'
for k in relay_dropped relay_host_gone misuse; do
	v=$(sed -n "s/^$k //p" $S/stats)
	[ "$v" = 0 ] && echo "ok $k 0" || echo "FAIL $k 0: $v"
done

echo "@@ run unload"
for m in hv_azure_blob az_blob_relay az_blob_sim; do
	rmmod $m && echo "ok rmmod $m" || echo "FAIL rmmod $m"
done
echo "@@ dmesg"
dmesg
echo "@@ done"
reboot -f
