#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2016 # markdown backquotes
#
# driver-bench.sh: the driver's own numbers (issue 11) for `make bench`.
# Boots each kernel once through check.sh's BENCH_SCRIPT mode with
# driver-guest.sh (the simulated host's NULL op: baselines, the ioctl at
# 1/2/4/8 threads, io_uring at queue depths 1-64 with pinned and registered
# buffers, 4 KiB to 32 MiB; the goals as ratios of that run; a profile of
# every missed goal), and writes the tables into BENCHMARKS.md between
# "<!-- bench:driver:begin -->" and "<!-- bench:driver:end -->" (appended
# at the end when the markers are missing); the rest of the file is left
# alone.
#
#   driver-bench.sh --tables OUT  only render one guest's output as markdown
#   driver-bench.sh --render      write the section again from the last
#                                 run's outputs in DRIVER_BENCH_WORK
#
# Environment:
#   DRIVER_BENCH_KERNELS="V ..."  kernels (default: the newest 6.12 and
#                                 6.1 installed, as check.sh picks, and
#                                 "newest"); the word "newest" is the debug
#                                 kernel's source (sid's) built without its
#                                 debugging (check.sh BENCH_NEWEST=1; 4
#                                 minutes more the first time, then cached)
#   DRIVER_BENCH_ARGS="..."       driver-guest.sh's words (default
#                                 "secs=1 warm=0.2 rep=3"; see that script)
#   DRIVER_BENCH_WORK=DIR         builds and logs (default .cache/driver-bench)
#   BENCH_MD=FILE                 the file to rewrite (default BENCHMARKS.md);
#                                 BENCH_MD=- prints the section instead
#   DRIVER_BENCH_TIMEOUT=S        hard bound on one guest (default 1500)
#   AZ_BLOB_CACHE                 as for check.sh
#
# Exit status 0 when every kernel's run finished and the section was
# written; 1 otherwise (then nothing is written). A run takes about 8-10
# minutes per kernel here (2 cores, TCG), boot and build included.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../.." && pwd)
WORK=${DRIVER_BENCH_WORK:-$TOP/.cache/driver-bench}
MD=${BENCH_MD:-$TOP/BENCHMARKS.md}
ARGS=${DRIVER_BENCH_ARGS:-secs=1 warm=0.2 rep=3}

log() { printf '== driver-bench: %s\n' "$*"; }

# The newest installed kernel of a Debian series with its headers.
newest() {
	local kv k=""
	for kv in /boot/vmlinuz-$1; do
		kv=${kv#/boot/vmlinuz-}
		[ -e "/lib/modules/$kv/build/Makefile" ] || continue
		k=$(printf '%s\n%s\n' "$k" "$kv" | sed '/^$/d' | sort -V | tail -n 1)
	done
	echo "$k"
}

KERNELS=${DRIVER_BENCH_KERNELS:-$(newest '6.12.*+deb12-amd64') $(newest '6.1.0-*-amd64') newest}

# replace_section FILE NAME CONTENT_FILE (md-section.sh)
# shellcheck source-path=SCRIPTDIR source=md-section.sh
. "$HERE/md-section.sh"

machine() {
	printf '%s, %s cores, %s GiB; %s, TCG, guest 2 vCPUs 2 GiB' \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
		"$(nproc)" "$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" \
		"$(qemu-system-x86_64 --version | head -n 1 | sed 's/ (.*//')"
}

# tables OUT: markdown of one kernel's guest output (az_blob_bench lines,
# "goal" lines, "@@ driver-bench" lines).
tables() {
	awk '
	function kv(line, k,    m) {
		if (match(line, " " k "=[^ ]*")) { m = substr(line, RSTART + length(k) + 2, RLENGTH - length(k) - 2); return m }
		return ""
	}
	function n(v) {
		if (v == "") return "-"
		v += 0
		if (v >= 100000) return sprintf("%.0fK", v / 1000)
		if (v >= 1000) return sprintf("%.0f", v)
		if (v >= 100) return sprintf("%.0f", v)
		if (v >= 10) return sprintf("%.1f", v)
		return sprintf("%.2f", v)
	}
	function hs(b) {
		b += 0
		return b >= 1048576 && b % 1048576 == 0 ? b / 1048576 " MiB" : b >= 1024 && b % 1024 == 0 ? b / 1024 " KiB" : b " B"
	}
	/^az_blob_bench (median n=[0-9]+ )?mode=/ {
		m = kv($0, "mode"); t = kv($0, "threads"); q = kv($0, "qd"); s = kv($0, "size")
		key = m SUBSEP t SUBSEP q SUBSEP s
		OPS[key] = kv($0, "ops_per_s"); MB[key] = kv($0, "mb_per_s")
		P50[key] = kv($0, "p50_us"); P99[key] = kv($0, "p99_us")
		CPU[key] = kv($0, "cpu_busy_pct"); CPO[key] = kv($0, "cpu_us_per_op")
		SYS[key] = kv($0, "sys_pct"); IRQ[key] = kv($0, "irq_pct")
		ERR[key] = kv($0, "errors"); HOST[key] = kv($0, "host_us_per_op")
		if (!(s in SS) && s != 0) { SS[s] = 1; SZ[++ns] = s }
		if (m == "ioctl" && !(t in TT)) { TT[t] = 1; TH[++nt] = t }
		if (m ~ /^uring/ && !(q in QQ)) { QQ[q] = 1; QD[++nq] = q }
		next
	}
	/^goal [a-d]:/ { G[++ng] = $0; next }
	# A profile block: its traced line, its functions, then a "bound" line
	# from them: the CPUs, the largest parts that call no other traced
	# function, commands that io_uring issued again from a worker.
	function bound(    i, j, t, f, sum, line) {
		if (!nf) return
		for (i = 1; i <= nf; i++)
			for (j = i; j > 1 && UPO[FN[j - 1]] < UPO[FN[j]]; j--) { t = FN[j]; FN[j] = FN[j - 1]; FN[j - 1] = t }
		line = sprintf("  bound: CPU busy %s%% of 2 vCPUs (%s us per request)", BUSY, n(CPOP))
		t = 0
		for (i = 1; i <= nf && t < 3; i++) {
			f = FN[i]
			if ((f in WRAP) || (f in INNER)) continue
			line = line (t ? ", " : "; largest parts: ") sprintf("%s %s us", f, n(UPO[f]))
			if (WALL > 0) line = line sprintf(" (%.0f%%)", 100 * UPO[f] / WALL)
			t++
		}
		sum = 0
		for (i = 1; i <= nf; i++) if (!(FN[i] in WRAP) && !(FN[i] in INNER)) sum += UPO[FN[i]]
		if (WALL > 0) line = line sprintf("; these parts add up to %s us of the %s us between two completions", n(sum), n(WALL))
		if (CPOC["io_wq_submit_work"] > 0.01) line = line sprintf("; %.0f%% of the commands were issued again from an io-wq worker", 100 * CPOC["io_wq_submit_work"])
		if (CPOC["az_blob_uring_cmd"] > 1.01) line = line sprintf("; %.2f issues per command", CPOC["az_blob_uring_cmd"])
		P[++np] = line
		nf = 0
		split("", CPOC)
		split("", UPO)
	}
	BEGIN {
		split("az_blob_ioctl __x64_sys_io_uring_enter az_blob_uring_cmd blob_new io_wq_submit_work io_uring_cmd_work az_blob_request_release", w, " ")
		for (i in w) WRAP[w[i]] = 1
		# Called from inside another traced part: not added twice.
		split("pin_user_pages_fast io_uring_cmd_import_fixed vmbus_sendpacket_mpb_desc unpin_user_pages unpin_user_pages_dirty_lock az_blob_cmd_complete az_blob_cmd_done", w, " ")
		for (i in w) INNER[w[i]] = 1
	}
	/^@@ driver-bench profile / { bound(); P[++np] = "profile " substr($0, length("@@ driver-bench profile ") + 1); next }
	/^@@ driver-bench traced / {
		l = substr($0, length("@@ driver-bench traced ") + 1)
		P[++np] = sprintf("  traced run: %s/s, p50 %s us, CPU busy %s%% of 2 vCPUs, %s us CPU per request (sys %s%%, irq %s%%)",
			n(kv(l, "ops_per_s")), n(kv(l, "p50_us")), kv(l, "cpu_busy_pct"), n(kv(l, "cpu_us_per_op")), kv(l, "sys_pct"), kv(l, "irq_pct"))
		WALL = kv(l, "ops_per_s") > 0 ? 1e6 / kv(l, "ops_per_s") : 0
		BUSY = kv(l, "cpu_busy_pct"); CPOP = kv(l, "cpu_us_per_op")
		next
	}
	# Profiles before "psecs= pwarm=" was printed traced a 0.2 s warm-up
	# too (0.5 s measured): per request figures are scaled to the
	# measured requests.
	/^@@ driver-bench info psecs=/ { PSECS = kv(" " substr($0, 17), "psecs"); PWARM = kv(" " substr($0, 17), "pwarm"); next }
	/^@@ driver-bench prof / {
		f = $4
		if (PSECS == "") { PSECS = 0.5; PWARM = 0.2 }
		sc = PSECS / (PSECS + PWARM)
		FN[++nf] = f; UPO[f] = sc * kv($0, "us_per_op"); CPOC[f] = sc * kv($0, "calls_per_op")
		P[++np] = sprintf("  %-28s %6s calls, %8s us each, %8s us per request (%s of the request interval)",
			f, n(CPOC[f]), n(kv($0, "mean_us")), n(UPO[f]),
			(WALL > 0 ? sprintf("%.0f%%", 100 * UPO[f] / WALL) : "-"))
		next
	}
	/^@@ driver-bench info profile=lockedup/ { NOTE = "No profile: this run was stopped at its profile step, where turning function_graph on had left the guest in a soft lockup (6.1 under TCG); driver-guest.sh now skips the profile on 6.1 (profile=force runs it)."; next }
	/^@@ driver-bench info profile=skipped61/ { NOTE = "No profile: function_graph under TCG locked up Debian'"'"'s 6.1 guest (a soft lockup in the shell that turned it on), so driver-guest.sh skips it there (profile=force runs it)."; next }
	/^@@ driver-bench info trace_lost=/ { P[++np] = "  trace entries lost: " kv(" " substr($0, 17), "trace_lost"); next }
	/^@@ driver-bench info table_seconds=/ { TS = kv(" " substr($0, 17), "table_seconds"); next }
	/^@@ driver-bench info goal_d_rep=/ { DREP = kv(" " substr($0, 17), "goal_d_rep"); DSIZES = kv(" " substr($0, 17), "goal_d_sizes"); next }
	END {
		bound()
		if (TS != "") printf "The table cells took %s s in the guest.\n\n", TS
		print "Baselines (one thread):"
		print ""
		print "| what | size | ops/s | MB/s | p50 us | p99 us |"
		print "|---|---|---|---|---|---|"
		k = "noop" SUBSEP 1 SUBSEP 0 SUBSEP 0
		printf "| no-op ioctl (ENOTTY) | - | %s | - | %s | %s |\n", n(OPS[k]), n(P50[k]), n(P99[k])
		k = "wake" SUBSEP 1 SUBSEP 0 SUBSEP 0
		printf "| futex ping-pong round trip | - | %s | - | %s | %s |\n", n(OPS[k]), n(P50[k]), n(P99[k])
		for (i = 1; i <= ns; i++) {
			s = SZ[i]
			k = "read" SUBSEP 1 SUBSEP 0 SUBSEP s
			printf "| one read pass | %s | %s | %s | %s | %s |\n", hs(s), n(OPS[k]), n(MB[k]), n(P50[k]), n(P99[k])
			k = "memcpy" SUBSEP 1 SUBSEP 0 SUBSEP s
			printf "| memcpy | %s | %s | %s | %s | %s |\n", hs(s), n(OPS[k]), n(MB[k]), n(P50[k]), n(P99[k])
		}
		print ""
		print "The ioctl (NULL op, the host reads the data once; host read: its time reading it, per request, from the simulated host'"'"'s stats):"
		print ""
		print "| size | threads | requests/s | MB/s | p50 us | p99 us | CPU busy | CPU us/request | host read us/request |"
		print "|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= ns; i++)
			for (j = 1; j <= nt; j++) {
				k = "ioctl" SUBSEP TH[j] SUBSEP 0 SUBSEP SZ[i]
				if (!(k in OPS)) continue
				printf "| %s | %s | %s | %s | %s | %s | %s%% | %s | %s |%s\n", hs(SZ[i]), TH[j], n(OPS[k]), n(MB[k]),
					n(P50[k]), n(P99[k]), CPU[k], n(CPO[k]), n(HOST[k]), (ERR[k] > 0 ? " ERRORS" : "")
			}
		print ""
		print "io_uring, one thread (pinned: buffers pinned per command; registered: IORING_URING_CMD_FIXED):"
		print ""
		print "| size | QD | pinned req/s | MB/s | p50 us | p99 us | registered req/s | MB/s | p50 us | p99 us | reg/pin | CPU busy pin/reg |"
		print "|---|---|---|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= ns; i++)
			for (j = 1; j <= nq; j++) {
				a = "uring" SUBSEP 1 SUBSEP QD[j] SUBSEP SZ[i]
				b = "uring-fixed" SUBSEP 1 SUBSEP QD[j] SUBSEP SZ[i]
				if (!(a in OPS) && !(b in OPS)) continue
				printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%%/%s%% |%s\n", hs(SZ[i]), QD[j],
					n(OPS[a]), n(MB[a]), n(P50[a]), n(P99[a]),
					n(OPS[b]), n(MB[b]), n(P50[b]), n(P99[b]),
					(OPS[a] > 0 ? sprintf("%.2fx", OPS[b] / OPS[a]) : "-"), CPU[a], CPU[b],
					(ERR[a] + ERR[b] > 0 ? " ERRORS" : "")
			}
		print ""
		if (DREP != "") print "Goals (a-c: ratios of the cells above; d: a pass of its own right after them, " DREP " runs a cell at " DSIZES ", QD 1 and 32, pinned and registered back to back; a pair counts when registered is faster, and a one-sided sign test over the pairs must give p <= 0.05):"
		else print "Goals (ratios of the cells above, same run):"
		print ""
		for (i = 1; i <= ng; i++) {
			g = G[i]
			sub(/ PASS$/, " **PASS**", g); sub(/ MISS$/, " **MISS**", g)
			sub(/ PASS; /, " **PASS**; ", g); sub(/ MISS; /, " **MISS**; ", g)
			print "- " g
		}
		if (NOTE != "") { print ""; print NOTE }
		if (np) {
			print ""
			print "Profiles of the missed goals (function_graph on the functions below, one"
			print "run of the deciding cell; the tracer adds its own cost to every traced"
			print "call, so compare the traced run with the cell in the table):"
			print ""
			print "```"
			for (i = 1; i <= np; i++) print P[i]
			print "```"
		}
	}' "$1"
}

run_kernel() {
	local kv=$1 w=$WORK/$1 t0 rc secs others release=$1 ks=$1 newest=0
	mkdir -p "$w"
	log "$kv: booting (log $w.log)"
	others=$(pgrep -c qemu-system-x86 || true)
	t0=$(date +%s)
	[ "$kv" = newest ] && { ks=none; newest=1; }
	GUEST_TIMEOUT=${DRIVER_BENCH_TIMEOUT:-1500} BENCH_NEWEST=$newest \
	KERNELS=$ks CHECK_WORK=$w BENCH_SCRIPT="$HERE/driver-guest.sh" BENCH="$ARGS" \
		"$TOP/tools/az_blob_test/vm/check.sh" >"$w.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	# check.sh names the bench kernel's directory by its release.
	[ "$kv" = newest ] && release=$(sed -n 's/.*bench kernel \([^ ]*\) (.*) built$/\1/p' "$w.log" | head -n 1)
	sed -n '/^@@ bench$/,/^@@ end bench$/p' "$w/$release/guest.log.txt" 2>/dev/null |
		sed '1d;$d' >"$w/out.txt"
	if [ $rc != 0 ] || ! grep -q '^@@ driver-bench rc=0' "$w/out.txt" ||
	   grep -q '^@@ driver-bench drc=[^0]' "$w/out.txt" ||
	   ! grep -q '^az_blob_bench goal=' "$w/out.txt"; then
		log "$kv: failed after $secs s (exit $rc); see $w.log and $w/$release/guest.log.txt"
		grep -E '^FAIL|az_blob_bench: ' "$w.log" "$w/out.txt" | head -n 10
		return 1
	fi
	log "$kv: done in $secs s"
	printf 'secs="%s s"\nload="%s"\nothers="%s"\ntree="%s"\nrelease="%s"\n' "$secs" \
		"$(cut -d' ' -f1-3 /proc/loadavg)" "$others" \
		"$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)" \
		"$release" >"$w/meta"
}

# render_kernel KVER: its part of the section, from $WORK/KVER/out.txt and
# meta.
render_kernel() {
	local kv=$1 w=$WORK/$1 secs='?' load='?' others='?' tree='?' release=$1
	[ -s "$w/out.txt" ] || { log "$kv: no $w/out.txt"; return 1; }
	# shellcheck disable=SC1091
	[ -f "$w/meta" ] && . "$w/meta"
	{
		if [ "$kv" = newest ]; then
			printf '\n### %s (sid'"'"'s source, built here without debugging)\n\n' "$release"
		else
			printf '\n### %s\n\n' "$kv"
		fi
		printf 'Guest run: %s (build and boot included); %s. The host'"'"'s\n' "$secs" \
			"$(sed -n 's/^@@ driver-bench info \(kernel=.*\)/\1/p' "$w/out.txt" | head -n 1)"
		printf 'load average: %s; other QEMU guests running at the start: %s.\n' \
			"$load" "$others"
		printf 'Source tree (git describe): %s.\n\n' "$tree"
		tables "$w/out.txt"
	} >"$w/section.md"
}

# driver-bench.sh --tables FILE: only render a guest output (the part
# between "@@ bench" and "@@ end bench") as markdown.
if [ "${1:-}" = --tables ]; then
	tables "$2"
	exit
fi

mkdir -p "$WORK"
out=$WORK/driver.md
{
	printf 'Generated by `tools/az_blob_test/bench/driver-bench.sh` on %s; do not\n' \
		"$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'edit by hand, the next run replaces it. Machine: %s.\n' "$(machine)"
	printf 'Every cell: %s (measured seconds, warm-up, runs; a figure is the\n' "$ARGS"
	printf 'median of the runs, which take turns size by size); requests are the simulated\n' 
	printf 'host'"'"'s NULL op (reads each data byte once, answers at once) inside the\n'
	printf 'guest, so the host'"'"'s work competes with the driver for the 2 vCPUs.\n'
	printf 'TCG emulates every guest instruction: absolute figures are many times\n'
	printf 'below real hardware; the ratios of one run are what the goals judge.\n'
	printf 'io_uring cells share one data buffer between the commands in flight;\n'
	printf 'ioctl threads have one each. Reproduce:\n\n'
	# shellcheck disable=SC2086,SC2116 # one line, single spaces
	printf '    DRIVER_BENCH_KERNELS="%s" DRIVER_BENCH_ARGS="%s" \\\n' "$(echo $KERNELS)" "$ARGS"
	printf '      tools/az_blob_test/bench/driver-bench.sh\n'
} >"$out.tmp"
rc=0
for kv in $KERNELS; do
	# --render: the section again from the last run's outputs, no guest.
	if { [ "${1:-}" = --render ] || run_kernel "$kv"; } && render_kernel "$kv"; then
		cat "$WORK/$kv/section.md" >>"$out.tmp"
	else
		rc=1
	fi
done
if [ $rc != 0 ]; then
	log "a kernel failed; $MD not changed"
	exit 1
fi
mv "$out.tmp" "$out"
replace_section "$MD" driver "$out"
[ "$MD" = - ] || log "wrote the driver section of $MD"
