#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Is hv_azure_blob's device lock (dev->lock, held across the send) the
# bottleneck when many threads send? Runs in the test guest:
#
#   BENCH_SCRIPT=tools/az_blob_test/bench/lock-study.sh \
#   BENCH="secs=5 rep=2 parts=1,2,3 wqmask=2" KERNELS=... tools/az_blob_test/vm/check.sh
#
# secs: measured seconds per run; rep: runs of each part 1 combination;
# wqmask: if set, the CPU mask of every unbound workqueue, so also where
# the simulated host runs (2: CPU 1 only, away from CPU 0, the channel's
# target CPU, which the host then always interrupts with a real IPI);
# parts (default 1,2,3,4):
# 1. throughput and latency, no tracing: NULL requests of 4 KiB and 1 MiB
#    and the two baselines (unknown ioctl, futex ping-pong), 1/2/4/8
#    threads, rep times each;
# 2. lock contention during runs of 1, 2 and 8 threads: what the
#    lock:contention_begin tracepoint sees, then per call site the time
#    spent taking dev->lock and the time it is held (kprobes, hist
#    triggers);
# 3. function_graph durations of vmbus_sendpacket_mpb_desc() (under
#    dev->lock), of the channel callback and of the whole ioctl, at 1 and
#    8 threads, and for the largest packet (8192 PFNs);
# 4. as 2, the time spent taking the other kinds of spinlock (irqsave,
#    plain), per call site, for comparison.
#
# Busybox sh and awk only.

secs=5
rep=2
parts=1,2,3,4
wqmask=
for a in "$@"; do
	case $a in
	secs=*) secs=${a#secs=} ;;
	rep=*) rep=${a#rep=} ;;
	parts=*) parts=${a#parts=} ;;
	wqmask=*) wqmask=${a#wqmask=} ;;
	*) echo "# lock-study: unknown argument $a" ;;
	esac
done
T=/sys/kernel/debug/tracing
ev=$T/events/lock

echo "# lock-study: $secs s per run, $rep runs each; $(nproc) CPUs; $(uname -r)"

stats() {
	echo "# driver stats: $(cat /sys/kernel/debug/*/azure_blob*/stats 2>/dev/null | tr '\n' ' ')"
	echo "# sim stats: $(tr '\n' ' ' </sys/kernel/debug/az_blob_sim/stats 2>/dev/null)"
}

want() {
	case ",$parts," in *",$1,"*) return 0 ;; esac
	return 1
}

if [ -n "$wqmask" ]; then
	echo "$wqmask" >/sys/devices/virtual/workqueue/cpumask
fi
echo "# unbound workqueue cpumask: $(cat /sys/devices/virtual/workqueue/cpumask)"

if want 1; then
	echo "@@ part 1: no tracing"
	az_blob_bench -d "$secs" -w 1 -r "$rep" -t 1,2,4,8 -s 4K,1M ioctl noop wake
	stats
fi

# 2a. The kernel's lock contention tracepoints. They fire only in the
# queued (MCS) part of queued_spin_lock_slowpath(): not for a CPU that
# spins on the pending bit (with 2 CPUs, every spinlock waiter), and not at
# all in a guest with X86_FEATURE_HYPERVISOR and no paravirt spinlocks
# (TCG), where virt_spin_lock() turns every spinlock into a test-and-set
# lock before that point. Counted anyway, to show what they see here.
if want 2 && [ -d "$ev/contention_begin" ]; then
	stk=common_stacktrace	# stacktrace before 6.5
	echo "hist:keys=$stk:vals=hitcount:sort=hitcount.descending" \
		>>"$ev/contention_begin/trigger" 2>/dev/null || stk=stacktrace
	echo "!hist:keys=$stk:vals=hitcount:sort=hitcount.descending" \
		>>"$ev/contention_begin/trigger" 2>/dev/null
	echo "@@ part 2a: lock:contention_begin, 8 threads, 4 KiB"
	echo "hist:keys=$stk:vals=hitcount:sort=hitcount.descending" \
		>>"$ev/contention_begin/trigger"
	az_blob_bench -d "$secs" -w 1 -t 8 -s 4K ioctl | grep '^az_blob_bench'
	echo "# contention_begin events: $(awk '/^ *Hits:/ { print $2 }' "$ev/contention_begin/hist")"
	grep -B2 -A12 'az_blob_' "$ev/contention_begin/hist" | head -n 60 | sed 's/^/#   /'
	echo "!hist:keys=$stk:vals=hitcount:sort=hitcount.descending" \
		>>"$ev/contention_begin/trigger"
fi

# Per call site, from the hists of a synthetic event with fields site and
# ns: calls, mean and total us, and the share of calls above 8 us and
# above 64 us (log2 buckets 2^14 and up, 2^17 and up: a bucket 2^k holds
# (2^(k-1), 2^k] ns). The top 12 sites by total time.
site_table() {
	awk '
		function num(re, off) { return match($0, re) ? substr($0, RSTART + off, RLENGTH - off) + 0 : 0 }
		/^\{ site:/ {
			site = $4; sub(/,$/, "", site)
			c = num("hitcount: *[0-9]+", 9)
			if ($0 ~ /ns: ~ 2\^/) {
				e = num("2\\^[0-9]+", 2)
				if (e >= 14) w[site] += c
				if (e >= 17) l[site] += c
			} else {
				calls[site] = c
				tot[site] = num("ns: *[0-9]+", 3)
			}
		}
		END {
			for (s in calls)
				printf "%d %d %s\n", tot[s], calls[s], s " " w[s] + 0 " " l[s] + 0
		}' "$1" | sort -nr | head -n 12 |
		awk 'BEGIN { printf "#   %8s %9s %10s %6s %6s  %s\n", "calls", "mean us", "total us", ">8us", ">64us", "site" }
		     { printf "#   %8d %9.2f %10.0f %5.1f%% %5.1f%%  %s\n", $2, $1 / 1000 / $2, $1 / 1000,
			      100 * $4 / $2, 100 * $5 / $2, $3 }'
}

# 2b. dev->lock, per call site: time to acquire it and time it is held.
# Three probes: a kprobe at the entry of _raw_spin_lock_bh, a kretprobe at
# its return (its __probe_ret_ip is the call site), a kprobe at the entry
# of _raw_spin_unlock_bh; per task, return - entry goes to the synthetic
# event spin_wait, next unlock - return to spin_hold, each with the site
# that took the lock. A test-and-set waiter spins inside the lock
# function, so the wait is the waiting plus the probes' own cost (the
# 1-thread run shows that cost); the hold includes one kretprobe. dev->lock
# is the only lock the driver takes with spin_lock_bh() and it nests no
# other _bh lock inside it, so the az_blob_* sites are dev->lock. The
# probes lengthen every hold a little, which can only add contention.
# Set up once for all runs (code patching under TCG has crashed guests),
# the hists cleared between runs; timestamps from the global trace clock.
#
# 4. The same wait measurement for the other spinlock flavours, to see
# where else CPUs wait.
SW='hist:keys=site.sym-offset:vals=hitcount,ns:size=4096'
SL='hist:keys=site.sym-offset,ns.log2:vals=hitcount:size=8192'
lock_runs() {
	for r in "-t 1 -s 4K" "-t 2 -s 4K" "-t 8 -s 4K" "-t 8 -s 1M"; do
		echo "@@ part $1: $2 per call site; -d $secs -w 0 $r ioctl"
		for e in $3; do
			echo "$SW:clear" >>"$S/$e/trigger"
			echo "$SL:clear" >>"$S/$e/trigger"
		done
		# shellcheck disable=SC2086
		out=$(az_blob_bench -d "$secs" -w 0 $r ioctl | grep '^az_blob_bench')
		echo "$out"
		for e in $3; do
			echo "# $e"
			site_table "$S/$e/hist"
		done
		[ "$1" = 2b ] || continue
		# How busy dev->lock was: time held at the driver's sites / run time.
		el=$(echo "$out" | sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p')
		awk -v el="$el" '/^\{ site:/ && /az_blob_/ && !/ns: ~/ {
				if (match($0, /ns: *[0-9]+/)) t += substr($0, RSTART + 3, RLENGTH - 3)
			}
			END { if (el > 0) printf "# dev->lock held %.1f ms in %.2f s: busy %.1f%% of the time\n", t / 1e6, el, t / 1e7 / el }' \
			"$S/spin_hold/hist"
		echo "# kprobes hit/missed: $(awk '/az[lw]_/ { printf "%s %s/%s ", $1, $2, $3 }' $T/kprobe_profile)"
	done
}
if { want 2 || want 4; } && [ -w $T/kprobe_events ] && [ -w $T/synthetic_events ]; then
	k=$T/events/kprobes
	S=$T/events/synthetic
	echo global >$T/trace_clock
	echo 'spin_wait u64 site; u64 ns' >>$T/synthetic_events
	echo 'spin_hold u64 site; u64 ns' >>$T/synthetic_events
	for e in spin_wait spin_hold; do
		echo "$SW" >>"$S/$e/trigger"
		echo "$SL" >>"$S/$e/trigger"
	done
fi
if want 2 && [ -d "$S/spin_hold" ]; then
	{
		echo 'p:azl_in _raw_spin_lock_bh'
		echo 'r:azl_out _raw_spin_lock_bh'
		echo 'p:azl_un _raw_spin_unlock_bh'
	} >>$T/kprobe_events
	A='hist:keys=common_pid:t0=common_timestamp'
	# shellcheck disable=SC2016
	B='hist:keys=common_pid:ns=common_timestamp-$t0,s=__probe_ret_ip,t1=common_timestamp:onmatch(kprobes.azl_in).trace(spin_wait,$s,$ns)'
	# shellcheck disable=SC2016
	C='hist:keys=common_pid:h=common_timestamp-$t1,hs=$s:onmatch(kprobes.azl_out).trace(spin_hold,$hs,$h)'
	echo "$A" >>"$k/azl_in/trigger"
	echo "$B" >>"$k/azl_out/trigger"
	echo "$C" >>"$k/azl_un/trigger"
	lock_runs 2b "time to take dev->lock (spin_wait) and time held (spin_hold)" "spin_wait spin_hold"
	echo "!$C" >>"$k/azl_un/trigger"
	echo "!$B" >>"$k/azl_out/trigger"
	echo "!$A" >>"$k/azl_in/trigger"
	{
		echo '-:azl_un'
		echo '-:azl_out'
		echo '-:azl_in'
	} >>$T/kprobe_events
fi
if want 4 && [ -d "$S/spin_wait" ]; then
	for fn in _raw_spin_lock_irqsave _raw_spin_lock; do
		echo "p:azw_in $fn" >>$T/kprobe_events
		echo "r:azw_out $fn" >>$T/kprobe_events
		A='hist:keys=common_pid:t0=common_timestamp'
		# shellcheck disable=SC2016
		B='hist:keys=common_pid:ns=common_timestamp-$t0,s=__probe_ret_ip:onmatch(kprobes.azw_in).trace(spin_wait,$s,$ns)'
		echo "$A" >>"$k/azw_in/trigger"
		echo "$B" >>"$k/azw_out/trigger"
		lock_runs 4 "time in $fn" spin_wait
		echo "!$B" >>"$k/azw_out/trigger"
		echo "!$A" >>"$k/azw_in/trigger"
		echo '-:azw_out' >>$T/kprobe_events
		echo '-:azw_in' >>$T/kprobe_events
	done
fi
if [ -d "${S:-/nonexistent}/spin_wait" ]; then
	for e in spin_wait spin_hold; do
		echo "!$SL" >>"$S/$e/trigger"
		echo "!$SW" >>"$S/$e/trigger"
	done
	echo '!spin_hold u64 site; u64 ns' >>$T/synthetic_events
	echo '!spin_wait u64 site; u64 ns' >>$T/synthetic_events
	echo local >$T/trace_clock
fi

# Durations (us) of the traced functions in $T/trace: count, mean, p50, p99.
graph_summary() {
	awk '
		/ us / {
			for (i = 1; i < NF; i++) if ($(i + 1) == "us") d = $i
			f = ""
			if (match($0, /\/\* [a-zA-Z_0-9]+/)) f = substr($0, RSTART + 3, RLENGTH - 3)
			else if (match($0, /[a-zA-Z_0-9]+( \[[a-zA-Z_0-9]+\])?\(\);/)) {
				f = substr($0, RSTART, RLENGTH)
				sub(/[ (].*/, "", f)
			}
			if (f == "") next
			print f, d
		}' $T/trace | sort -k1,1 -k2,2n | awk '
		{ v[$1, ++n[$1]] = $2; s[$1] += $2 }
		END {
			for (f in n) {
				c = n[f]
				printf "# %-28s calls %7d mean %9.1f us p50 %9.1f us p99 %9.1f us\n",
				       f, c, s[f] / c, v[f, int(c * 0.5) + 1], v[f, int(c * 0.99) + 1]
			}
		}'
	echo "# trace entries lost: $(grep -h overrun $T/per_cpu/cpu*/stats | awk '{ s += $2 } END { print s }')"
}

graph() {
	echo "@@ part 3: function_graph, $*"
	echo 0 >$T/tracing_on
	echo function_graph >$T/current_tracer
	echo funcgraph-tail >$T/trace_options
	echo 32768 >$T/buffer_size_kb
	echo 'az_blob_ioctl vmbus_sendpacket_mpb_desc az_blob_on_channel' >$T/set_ftrace_filter
	echo >$T/trace
	echo 1 >$T/tracing_on
	az_blob_bench "$@"
	echo 0 >$T/tracing_on
	graph_summary
	echo nop >$T/current_tracer
	echo >$T/set_ftrace_filter
}
if want 3 && grep -q function_graph $T/available_tracers; then
	graph -d 2 -w 1 -t 1 -s 4K ioctl
	graph -d 2 -w 1 -t 8 -s 4K ioctl
	graph -d 2 -w 1 -t 8 -s 1M ioctl
	# The largest packet: 8192 PFNs (8190 data pages, request, response).
	graph -d "$secs" -w 1 -t 1 -s 32760K ioctl
	graph -d "$secs" -w 1 -t 8 -s 32760K ioctl
fi
stats
