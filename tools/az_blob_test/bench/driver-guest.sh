#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The driver's own numbers (issue 11), in the test guest: the baselines,
# the ioctl and io_uring against the simulated host's NULL op, the goals as
# ratios of this one run, then, for every goal the run missed, a profile of
# the cell that decides it. driver-bench.sh boots each kernel with it:
#
#   BENCH_SCRIPT=tools/az_blob_test/bench/driver-guest.sh \
#   BENCH="secs=1 warm=0.2 rep=3" KERNELS=... tools/az_blob_test/vm/check.sh
#
# Arguments (words of BENCH):
#   secs=S      measured seconds per cell (default 1)
#   warm=S      warm-up per cell (default 0.2)
#   rep=N       runs per cell, in rounds; the table and goals a-c take the
#               medians (default 3)
#   drep=N      goal d's own pass: N paired runs of pinned and registered
#               buffers per cell, judged by a sign test (default 9)
#   dsizes=LIST its sizes (default 64K,1M,32760K), at QD 1 and 32
#   sizes=LIST  data sizes (default 4K,64K,1M,32760K: 32 MiB of data
#               alone would span all 8192 pages a request may have)
#   threads=L   ioctl threads (default 1,2,4,8)
#   qds=LIST    io_uring queue depths (default 1,2,4,8,16,32,64)
#   profile=missed|all|none|force  which goals get a profile (default
#               missed; force: missed, also on 6.1, see below)
#   psecs=S     measured seconds of a profiled cell (default 0.5)
#   wqmask=M    CPU mask of the unbound workqueues (where the simulated host
#               runs); default: left alone
#
# The profile: function_graph on a fixed list of the driver's, the
# simulated host's and io_uring's functions (those this kernel can trace),
# during one run of the goal's cell; per function its calls and time per
# request (driver-bench.sh adds a "bound" line naming the largest parts).
# The tracer's own cost (a few us per traced call under TCG) is in the
# times; compare the profiled cell's line with the untraced table. Busybox sh and awk only.
# Output lines for driver-bench.sh start with "@@ driver-bench" or are
# az_blob_bench's own.

secs=1
warm=0.2
rep=3
drep=9
dsizes=64K,1M,32760K
sizes=4K,64K,1M,32760K
threads=1,2,4,8
qds=1,2,4,8,16,32,64
profile=missed
psecs=0.5
wqmask=
for a in "$@"; do
	case $a in
	secs=*) secs=${a#secs=} ;;
	warm=*) warm=${a#warm=} ;;
	rep=*) rep=${a#rep=} ;;
	drep=*) drep=${a#drep=} ;;
	dsizes=*) dsizes=${a#dsizes=} ;;
	sizes=*) sizes=${a#sizes=} ;;
	threads=*) threads=${a#threads=} ;;
	qds=*) qds=${a#qds=} ;;
	profile=*) profile=${a#profile=} ;;
	psecs=*) psecs=${a#psecs=} ;;
	wqmask=*) wqmask=${a#wqmask=} ;;
	*) echo "# driver-guest: unknown argument $a" ;;
	esac
done
T=/sys/kernel/debug/tracing
out=/tmp/driver-bench.out

echo "@@ driver-bench info kernel=$(uname -r) cpus=$(nproc) mem_kb=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo) secs=$secs warm=$warm rep=$rep"
if [ -n "$wqmask" ]; then
	echo "$wqmask" >/sys/devices/virtual/workqueue/cpumask
fi
echo "@@ driver-bench info wqmask=$(cat /sys/devices/virtual/workqueue/cpumask 2>/dev/null)"

t0=$(cut -d. -f1 /proc/uptime)
echo "@@ driver-bench table"
{
	az_blob_bench -d "$secs" -w "$warm" -r "$rep" -t "$threads" -T 1 -q "$qds" \
		-s "$sizes" --interleave --goals=abc \
		noop wake read memcpy ioctl uring uring-fixed
	echo "@@ driver-bench rc=$?"
} | tee "$out"
# Goal d: registered vs pinned, paired runs back to back, enough of them
# for a sign test; only its goal lines go into the table's output.
echo "@@ driver-bench info goal_d_rep=$drep goal_d_sizes=$dsizes"
{
	az_blob_bench -d "$secs" -w "$warm" -r "$drep" -q 1,32 -s "$dsizes" \
		--interleave --goals=d uring uring-fixed
	echo "@@ driver-bench drc=$?"
} | sed -e '/^goal d:/b' -e '/^az_blob_bench goal=d /b' -e '/^@@ /b' \
	-e 's/^/@@ driver-bench d /' | tee -a "$out"
echo "@@ driver-bench info table_seconds=$(($(cut -d. -f1 /proc/uptime) - t0))"

[ "$profile" = none ] && exit 0
# On Debian's 6.1 under TCG, turning function_graph on left the shell that
# did it in a soft lockup for good (2026-11-26; lock-study.sh saw guests
# crash on code patching under TCG too): no profile there unless forced.
case $(uname -r) in
6.1.*)
	if [ "$profile" != force ]; then
		echo "@@ driver-bench info profile=skipped61"
		exit 0
	fi ;;
esac
if ! grep -q function_graph $T/available_tracers 2>/dev/null; then
	echo "@@ driver-bench info profile=unavailable (no function_graph tracer)"
	exit 0
fi

# Functions to time: the request's steps in the driver, the simulated
# host's work, io_uring's submit. Static functions the compiler inlined are
# not in available_filter_functions and drop out.
want_funcs="az_blob_ioctl az_blob_uring_cmd __x64_sys_io_uring_enter
	az_blob_admit az_blob_pin pin_user_pages_fast az_blob_import_fixed
	io_uring_cmd_import_fixed az_blob_send az_blob_fill_range
	kvmalloc_node __kvmalloc_node_noprof kvfree vmbus_sendpacket_mpb_desc
	blob_new blob_answer vmbus_sim_walk az_blob_on_channel
	az_blob_cmd_complete az_blob_cmd_tw az_blob_unpin unpin_user_pages
	unpin_user_pages_dirty_lock az_blob_put_fixed az_blob_request_release
	az_blob_cmd_done io_wq_submit_work io_uring_cmd_work"
funcs=""
for f in $want_funcs; do
	grep -q "^$f\( \|$\)" $T/available_filter_functions && funcs="$funcs $f"
done
echo "@@ driver-bench info psecs=$psecs pwarm=0"
echo "@@ driver-bench info traced=$(echo "$funcs" | sed 's/^ //' | tr ' ' ',')"

# Per function: calls per request, mean us, us per request, from the
# function_graph output (durations on the "func();" line of a leaf and on
# the "} /* func */" line of a caller).
graph_summary() {
	ops=$1
	awk '
		/ us / {
			for (i = 1; i < NF; i++) if ($(i + 1) == "us") d = $i
			f = ""
			if (match($0, /\/\* [a-zA-Z_0-9.]+/)) f = substr($0, RSTART + 3, RLENGTH - 3)
			else if (match($0, /[a-zA-Z_0-9.]+( \[[a-zA-Z_0-9]+\])?\(\);/)) {
				f = substr($0, RSTART, RLENGTH)
				sub(/[ (].*/, "", f)
			}
			if (f == "") next
			n[f]++; s[f] += d
		}
		END { for (f in n) print f, n[f], s[f] }' $T/trace |
	awk -v ops="$ops" '{ printf "@@ driver-bench prof %s calls_per_op=%.2f mean_us=%.2f us_per_op=%.2f\n", $1, $2 / ops, $3 / $2, $3 / ops }' |
		sort -t= -k4 -n -r
	echo "@@ driver-bench info trace_lost=$(grep -h overrun $T/per_cpu/cpu*/stats | awk '{ s += $2 } END { print s + 0 }')"
}

# profile GOAL WHAT ARGS...: one traced run of az_blob_bench ARGS.
prof() {
	goal=$1
	what=$2
	shift 2
	echo "@@ driver-bench profile goal=$goal cell=$what"
	echo 0 >$T/tracing_on
	echo function_graph >$T/current_tracer
	echo funcgraph-tail >$T/trace_options
	echo 32768 >$T/buffer_size_kb
	# shellcheck disable=SC2086
	echo $funcs >$T/set_ftrace_filter
	echo >$T/trace
	echo 1 >$T/tracing_on
	# No warm-up: the trace then holds the measured requests only.
	line=$(az_blob_bench -d "$psecs" -w 0 "$@" | grep '^az_blob_bench mode=')
	echo 0 >$T/tracing_on
	echo "@@ driver-bench traced $line"
	ops=$(echo "$line" | sed -n 's/.* ops=\([0-9]*\) .*/\1/p')
	[ "${ops:-0}" -gt 0 ] && graph_summary "$ops"
	echo nop >$T/current_tracer
	echo >$T/set_ftrace_filter
}

missed() {
	[ "$profile" = all ] && return 0
	[ "$profile" = force ] && profile=missed
	grep -q "^az_blob_bench goal=$1 .*result=MISS" "$out"
}

missed a && prof a "ioctl 4K 1 thread" -t 1 -s 4K ioctl
big=${sizes##*,}
missed b && prof b "ioctl $big 1 thread" -t 1 -s "$big" ioctl
if missed c; then
	prof c "uring QD32 4K" -q 32 -s 4K uring
	prof c "ioctl 4K 8 threads" -t 8 -s 4K ioctl
fi
if missed d; then
	prof d "uring QD1 64K" -q 1 -s 64K uring
	prof d "uring-fixed QD1 64K" -q 1 -s 64K uring-fixed
	prof d "uring QD1 1M" -q 1 -s 1M uring
	prof d "uring-fixed QD1 1M" -q 1 -s 1M uring-fixed
fi
echo "@@ driver-bench info total_seconds=$(($(cut -d. -f1 /proc/uptime) - t0))"
