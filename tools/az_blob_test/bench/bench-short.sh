#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make check's smoke test of az_blob_bench, so that the bench cannot rot:
# check.sh installs it as an extra guest test (az_blob_bench-short).
# Runs `az_blob_bench --short` (every mode, 4 KiB and 64 KiB, ioctl at 1
# and 2 threads, io_uring at queue depths 1 and 4 with pinned and
# registered buffers, 0.2 s a cell) and checks that it exits 0 and prints
# what driver-bench.sh parses: one key=value line per cell with ops > 0
# and no errors, the table's header and rows, the four goal lines. No
# timing is judged. Exit 0 if all is there, 1 with the reason otherwise.
# Busybox sh and awk only.

out=/tmp/az_blob_bench-short.out
az_blob_bench --short "$@" >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc != 0 ]; then
	echo "az_blob_bench --short exited $rc"
	exit 1
fi
awk '
	BEGIN {
		n = split("ioctl,noop,wake,read,memcpy,uring,uring-fixed", M, ",")
		for (i = 1; i <= n; i++) want[M[i]] = 1
		# Cells of --short: mode, threads or qd, sizes.
		cells["ioctl"] = 4; cells["noop"] = 2; cells["wake"] = 2
		cells["read"] = 2; cells["memcpy"] = 2
		cells["uring"] = 4; cells["uring-fixed"] = 4
	}
	/^az_blob_bench mode=/ {
		split($2, a, "="); m = a[2]
		lines[m]++
		if ($0 !~ / ops=[1-9][0-9]* / || $0 !~ / errors=0 / || $0 !~ / p99_us=[0-9.]+ /) {
			print "bad cell line: " $0; bad = 1
		}
		if (m ~ /^uring/ && $0 ~ / qd=4 /) deep[m] = 1
		next
	}
	/^mode +threads +qd +size +ops\/s +MB\/s +p50 us/ { header = 1; next }
	header && NF >= 15 && ($1 in want) { rows[$1]++; if ($0 ~ /ERRORS/) { print "row with errors: " $0; bad = 1 } next }
	/^az_blob_bench goal=[a-d] / { split($2, g, "="); goal[g[2]] = 1; next }
	END {
		if (!header) { print "no table header"; bad = 1 }
		for (m in cells) {
			if (lines[m] != cells[m]) { printf "%s: %d cell lines, want %d\n", m, lines[m], cells[m]; bad = 1 }
			if (rows[m] != cells[m]) { printf "%s: %d table rows, want %d\n", m, rows[m], cells[m]; bad = 1 }
		}
		if (!deep["uring"] || !deep["uring-fixed"]) { print "no io_uring cell at QD 4, pinned and registered"; bad = 1 }
		for (i = 1; i <= 4; i++) {
			c = substr("abcd", i, 1)
			if (!(c in goal)) { print "no line for goal " c; bad = 1 }
		}
		exit bad
	}' "$out" || exit 1
echo "az_blob_bench --short: every cell, the table and the goal lines are there"
