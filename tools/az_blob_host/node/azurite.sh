#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Start or stop the pinned Azurite (package.json: azurite 3.35.0, node 20)
# that the host VSP's Blob service and its tests talk to. TEST-ONLY.
#
#   azurite.sh start [PORT]   start on 127.0.0.1:PORT (default: a free port,
#                             or $AZURITE_PORT), wait until it answers HTTP,
#                             print "AZURITE_PORT=N" and "AZURITE_URL=..."
#   azurite.sh stop           stop the one this state directory started
#   azurite.sh status         exit 0 and print the port if it runs
#
# State (pid file, port file, log, Azurite's workspace) lives in
# $AZURITE_DIR (default: .cache/azurite next to this script, git-ignored).
# Several instances can run at once with different AZURITE_DIRs. Installs
# node_modules with "npm ci" (the lock file's exact versions) when absent.
#
# Flags: --inMemoryPersistence (tests start from nothing), --disableTelemetry
# (otherwise Azurite tries to reach an outside host), --loose (otherwise it
# refuses x-ms-content-crc64), --skipApiVersionCheck (x-ms-version pinned by
# the clients, but an unknown newer one is not a test failure here).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${AZURITE_DIR:-$here/.cache/azurite}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pidf=$dir/azurite.pid
portf=$dir/azurite.port
log=$dir/azurite.log
wait_s=${AZURITE_WAIT:-60}

die() { echo "azurite.sh: $*" >&2; exit 1; }

# Ours only: the pid in our pid file, still an azurite-blob process.
running_pid() {
	local pid
	[ -f "$pidf" ] || return 1
	pid=$(cat "$pidf")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q azurite-blob ||
		return 1
	echo "$pid"
}

free_port() {
	node -e 'const s = require("net").createServer();
		s.listen(0, "127.0.0.1", () => {
			console.log(s.address().port); s.close(); });'
}

# Any HTTP answer means it listens and parses requests (unsigned: 400/403).
answers() {
	local port=$1
	(
		exec 9<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf 'GET /devstoreaccount1?comp=list HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&9
		reply=$(timeout 5 head -c 12 <&9 || true)
		[[ "$reply" == HTTP/1.1\ * ]]
	) 2>/dev/null
}

start() {
	local port=${1:-${AZURITE_PORT:-}} pid i
	if pid=$(running_pid); then
		port=$(cat "$portf")
		echo "AZURITE_PORT=$port"
		echo "AZURITE_URL=http://127.0.0.1:$port"
		return 0
	fi
	command -v node > /dev/null || die "node is not installed"
	if [ ! -x "$here/node_modules/.bin/azurite-blob" ]; then
		(cd "$here" && npm ci --no-audit --no-fund --ignore-scripts \
			> /dev/null) || die "npm ci failed in $here"
	fi
	mkdir -p "$dir/workspace"
	[ -n "$port" ] || port=$(free_port)
	: > "$log"
	# In $dir/workspace: Azurite writes its debug files to its cwd
	# (--location cannot be combined with --inMemoryPersistence).
	pid=$(cd "$dir/workspace" && { setsid \
		"$here/node_modules/.bin/azurite-blob" \
		--blobHost 127.0.0.1 --blobPort "$port" \
		--inMemoryPersistence \
		--disableTelemetry --loose --skipApiVersionCheck \
		< /dev/null >> "$log" 2>&1 & echo $!; })
	echo "$pid" > "$pidf"
	echo "$port" > "$portf"
	for ((i = 0; i < wait_s * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$pidf"
			tail -5 "$log" >&2
			die "Azurite exited (log: $log)"
		fi
		if answers "$port"; then
			echo "AZURITE_PORT=$port"
			echo "AZURITE_URL=http://127.0.0.1:$port"
			return 0
		fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	rm -f "$pidf"
	die "Azurite did not answer on port $port within ${wait_s}s (log: $log)"
}

stop() {
	local pid i
	pid=$(running_pid) || { rm -f "$pidf"; return 0; }
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	rm -f "$pidf"
}

case "${1:-}" in
start)	start "${2:-}" ;;
stop)	stop ;;
status)	running_pid > /dev/null && cat "$portf" ;;
*)	echo "usage: $0 start [PORT] | stop | status" >&2; exit 2 ;;
esac
