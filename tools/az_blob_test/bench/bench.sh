#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2317,SC2016 # steps are called by name; markdown backquotes
#
# bench.sh: `make bench`. Runs the benchmarks and writes their tables into
# BENCHMARKS.md, each into its own generated section between markers
# ("<!-- bench:NAME:begin -->" ... "<!-- bench:NAME:end -->"), replacing
# what the previous run wrote there; everything outside the markers is
# left alone. Steps (one function each; add a step as another function and
# a line in main):
#
#   transports   libazblob's driver transport (/dev/azure_blob -> the host
#                VSP az_blob_host outside the guest -> Azurite) against its
#                REST transport (libcurl over the guest's virtio-net on a tap
#                in a network namespace -> the same Azurite): upload and
#                download of 1 MiB, 32 MiB and 1 GiB, streamed, in one guest
#                run per kernel (blob-smoke.sh BLOB_LIBBENCH=1, lib-bench.c);
#                MB/s and the guest's CPU seconds per GiB, min/median/max
#   driver       the driver's own numbers against the simulated host's null
#                operation (driver-bench.sh, driver-guest.sh, az_blob_bench):
#                baselines, the ioctl at 1-8 threads, io_uring at queue
#                depths 1-64 with pinned and registered buffers, and the
#                goals of issue 11 as ratios of one run per stock kernel
#
# Environment:
#   BENCH_KERNELS="V ..."   guest kernels (default: the newest installed
#                           6.12.*+deb12-amd64 with headers)
#   BENCH_REPEAT=N          samples per cell (default 3)
#   BENCH_REPEAT_BIG=N      samples for sizes from 1 GiB on (default
#                           BENCH_REPEAT)
#   BENCH_SIZES="1M 32M 1G" sizes (numfmt --from=iec)
#   BENCH_CHECKSUM=none|crc64|md5  the library's checksum (default: its
#                           default, CRC-64)
#   BENCH_STEPS="transports driver"  which steps run (default both)
#   BENCH_WORK=DIR          builds and logs (default .cache/bench)
#   BENCH_MD=FILE           the file to rewrite (default BENCHMARKS.md);
#                           BENCH_MD=- prints the sections instead
#
# A step that fails writes nothing; the exit status is then 1.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../.." && pwd)
WORK=${BENCH_WORK:-$TOP/.cache/bench}
MD=${BENCH_MD:-$TOP/BENCHMARKS.md}
REPEAT=${BENCH_REPEAT:-3}
REPEAT_BIG=${BENCH_REPEAT_BIG:-$REPEAT}
SIZES=${BENCH_SIZES:-1M 32M 1G}
STEPS=${BENCH_STEPS:-transports driver}

log() { printf '== bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# replace_section FILE NAME CONTENT_FILE (md-section.sh)
# shellcheck source-path=SCRIPTDIR source=md-section.sh
. "$HERE/md-section.sh"

# The machine: CPU model and core count, QEMU.
machine() {
	printf '%s, %s cores; %s, TCG' \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
		"$(nproc)" "$(qemu-system-x86_64 --version | head -n 1 | sed 's/ (.*//')"
}

# Default kernels: as blob-smoke.sh picks (the newest 6.12 with headers).
default_kernels() {
	local kv k=""
	for kv in /boot/vmlinuz-6.12.*+deb12-amd64; do
		kv=${kv#/boot/vmlinuz-}
		[ -e "/lib/modules/$kv/build/Makefile" ] || continue
		k=$(printf '%s\n%s\n' "$k" "$kv" | sed '/^$/d' | sort -V | tail -n 1)
	done
	echo "$k"
}

# transports_table BENCH_OUT: the markdown table of one kernel's run from
# lib-bench's lines ("bench REP TRANSPORT DIR BYTES OPS WALL_NS TICKS HZ").
# A cell is "median (min-max)" over the repeats.
transports_table() {
	awk '
	function fmt(v) { return v >= 100 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v) }
	function hsize(b) { return b >= 1073741824 ? b / 1073741824 " GiB" : b >= 1048576 ? b / 1048576 " MiB" : b " B" }
	# "median (min-max)" of the n values in list k (space-separated).
	function cell(k,    n, a, i, j, t, med) {
		if (!(k in L))
			return "-"
		n = split(L[k], a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		MED[k] = med
		if (n == 1)
			return fmt(med)
		return fmt(med) " (" fmt(a[1]) "-" fmt(a[n]) ")"
	}
	function add(k, v) { L[k] = (k in L) ? L[k] " " v : v }
	$1 == "bench" {
		t = $3; d = $4; b = $5 * $6
		if (!(($5) in SEEN)) { SEEN[$5] = 1; S[++ns] = $5 }
		add(t SUBSEP d SUBSEP $5 SUBSEP "mbs", b * 1000 / $7)
		add(t SUBSEP d SUBSEP $5 SUBSEP "cpu", ($8 / $9) / (b / 1073741824))
		if (t != "null")
			N[$5] = (($5) in N && N[$5] > $2) ? N[$5] : $2
		OPS[$5] = $6
	}
	END {
		print "| size | transport | up MB/s | down MB/s | up CPU s/GiB | down CPU s/GiB |"
		print "|---|---|---|---|---|---|"
		for (i = 1; i <= ns; i++) {
			s = S[i]
			sz = hsize(s) (OPS[s] > 1 ? " x" OPS[s] : "") ", n=" N[s]
			for (ti = 1; ti <= 2; ti++) {
				t = ti == 1 ? "driver" : "rest"
				printf "| %s | %s | %s | %s | %s | %s |\n", sz, t,
					cell(t SUBSEP "up" SUBSEP s SUBSEP "mbs"),
					cell(t SUBSEP "down" SUBSEP s SUBSEP "mbs"),
					cell(t SUBSEP "up" SUBSEP s SUBSEP "cpu"),
					cell(t SUBSEP "down" SUBSEP s SUBSEP "cpu")
			}
			r = ""
			for (di = 1; di <= 2; di++) {
				d = di == 1 ? "up" : "down"
				a = MED["driver" SUBSEP d SUBSEP s SUBSEP "mbs"]
				b = MED["rest" SUBSEP d SUBSEP s SUBSEP "mbs"]
				r = r " | " (b > 0 ? sprintf("%.2fx", a / b) : "-")
			}
			for (di = 1; di <= 2; di++) {
				d = di == 1 ? "up" : "down"
				a = MED["driver" SUBSEP d SUBSEP s SUBSEP "cpu"]
				b = MED["rest" SUBSEP d SUBSEP s SUBSEP "cpu"]
				r = r " | " (b > 0 ? sprintf("%.2fx", a / b) : "-")
			}
			printf "| | driver / REST (medians)%s |\n", r
			printf "| | generator + checker alone | | | %s | %s |\n",
				cell("null" SUBSEP "up" SUBSEP s SUBSEP "cpu"),
				cell("null" SUBSEP "down" SUBSEP s SUBSEP "cpu")
		}
	}' "$1"
}

# ------------------------------------------------------------ transports
step_transports() {
	local kernels=${BENCH_KERNELS:-$(default_kernels)} kv w out=$WORK/transports.md
	local t0 secs net guest load0
	[ -n "$kernels" ] || die "no 6.12 kernel with headers (BENCH_KERNELS=...)"
	{
		printf 'Generated by `make bench` (tools/az_blob_test/bench/bench.sh, step\n'
		printf '"transports") on %s; do not edit by hand, the next run\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
		printf 'replaces it. Machine: %s.\n' "$(machine)"
		printf 'Repeats: %s per cell, %s for 1 GiB and more; checksum: %s.\n' \
			"$REPEAT" "$REPEAT_BIG" "${BENCH_CHECKSUM:-the library default (CRC-64)}"
		printf 'Command: `BENCH_KERNELS="%s" BENCH_REPEAT=%s BENCH_REPEAT_BIG=%s make bench`\n' \
			"$kernels" "$REPEAT" "$REPEAT_BIG"
	} >"$out.tmp"
	for kv in $kernels; do
		w=$WORK/transports-$kv
		log "transports: $kv (log $w.log)"
		t0=$(date +%s)
		load0=$(cut -d' ' -f1-3 /proc/loadavg)
		BLOB_LIBBENCH=1 KVER=$kv BLOB_WORK=$w BLOB_LIBBENCH_SIZES=$SIZES \
		BLOB_LIBBENCH_REPEAT=$REPEAT BLOB_LIBBENCH_REPEAT_BIG=$REPEAT_BIG \
		BLOB_LIBBENCH_CHECKSUM=${BENCH_CHECKSUM:-} \
			"$TOP/tools/az_blob_test/blob/blob-smoke.sh" >"$w.log" 2>&1
		rc=$?
		secs=$(($(date +%s) - t0))
		if [ "$rc" != 0 ] || [ ! -s "$w/bench.out" ]; then
			grep '^FAIL' "$w.log" | head -n 20
			tail -n 5 "$w.log"
			log "transports: $kv failed after $secs s; $MD not changed"
			return 1
		fi
		net=$(sed -n 's/^net //p' "$w/bench.info")
		guest=$(sed -n 's/^guest //p' "$w/bench.info")
		log "transports: $kv done in $secs s"
		{
			printf '\n#### %s, guest network %s\n\n' "$kv" "$net"
			printf 'Guest: %s; the run took %s s (boot and build included).\n' \
				"$guest" "$secs"
			printf 'Host load average (1, 5, 15 min) before: %s, after: %s (work\n' \
				"$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
			printf 'of others on the same cores slows the guest and inflates its CPU figures too).\n\n'

			transports_table "$w/bench.out"
		} >>"$out.tmp"
	done
	mv "$out.tmp" "$out"
	[ "$MD" = - ] || cat "$out"
	replace_section "$MD" transports "$out"
}

# ------------------------------------------------------------ driver
# Its knobs are driver-bench.sh's (DRIVER_BENCH_KERNELS, DRIVER_BENCH_ARGS);
# it writes its own section ("driver") of the same file.
step_driver() {
	BENCH_MD=$MD DRIVER_BENCH_WORK=${DRIVER_BENCH_WORK:-$WORK/driver} \
		"$HERE/driver-bench.sh"
}

mkdir -p "$WORK"
rc=0
for step in $STEPS; do
	declare -F "step_$step" >/dev/null || die "no step $step"
	"step_$step" || rc=1
done
exit $rc
