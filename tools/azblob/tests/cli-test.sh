#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TEST-ONLY: azblob driven as a user would, against the pinned Azurite
# (tools/az_blob_host/node) on a free port: a directory tree copied in and
# out and compared with diff -r, stdin and stdout, ls, stat, rm, mb, rb,
# the exit code of each class of failure, the progress bar under a
# pseudo-terminal (and silence without one), Ctrl-C during an upload.
#
#   cli-test.sh AZBLOB_BINARY WORKDIR

set -uo pipefail

A=$1
work=$2/cli-test
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_dir=$(cd "$here/../../az_blob_host/node" && pwd)
state=$2/azurite
pass=0
failed=0
n=0

stop() { AZURITE_DIR=$state "$node_dir/azurite.sh" stop; }
trap stop EXIT

ok() {		# ok NAME COMMAND...: the command succeeds
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		pass=$((pass + 1)); echo "ok $n $name"
	else
		failed=$((failed + 1)); echo "not ok $n $name"
	fi
}

code() {	# code NAME WANT COMMAND...: the command exits with WANT
	local name=$1 want=$2 got
	shift 2
	"$@" > "$work/out" 2> "$work/err"
	got=$?
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1)); echo "ok $n $name (exit $got: $(head -c 120 "$work/err" | tr '\n' ' '))"
	else
		failed=$((failed + 1)); echo "not ok $n $name (exit $got, want $want)"
		sed 's/^/#   /' "$work/err"
	fi
}

if ! command -v node > /dev/null; then
	echo "# node not found: the CLI test needs Azurite; skipped"
	exit 0
fi
rm -rf "$work"
mkdir -p "$work" "$state"
url=$(AZURITE_DIR=$state "$node_dir/azurite.sh" start | sed -n 's/^AZURITE_URL=//p')
[ -n "$url" ] || exit 1
echo "# Azurite at $url"
export AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true;BlobEndpoint=$url/devstoreaccount1"
unset AZBLOB_TRANSPORT

# A tree: nested directories, odd names, empty and large files.
tree=$work/tree
mkdir -p "$tree/a/b/c" "$tree/sub dir/déjà vu" "$tree/x"
: > "$tree/empty"
printf 'one byte' | head -c 1 > "$tree/x/1"
head -c 4194303 /dev/urandom > "$tree/a/b/c/4mib-1"
head -c 33554433 /dev/urandom > "$tree/a/33mib+1"
echo "hello, world" > "$tree/sub dir/déjà vu/h e l l o.txt"
for i in $(seq 1 30); do echo "$i" > "$tree/x/f$i"; done

code "mb az://clitest" 0 "$A" mb az://clitest
code "mb again: exists" 4 "$A" mb az://clitest
code "cp -r tree in" 0 "$A" cp -r "$tree" az://clitest/tree
ok "cp quiet when stderr is not a terminal" test ! -s "$work/err"
code "ls -r lists every file" 0 "$A" ls -r az://clitest/tree/
ok "ls -r: 35 blobs" test "$(wc -l < "$work/out")" = 35
code "ls (directories)" 0 "$A" ls az://clitest/tree/
ok "ls: a/, sub dir/, x/, empty" test "$(sort "$work/out" | tr '\n' '|')" = "tree/a/|tree/empty|tree/sub dir/|tree/x/|"
code "ls containers" 0 "$A" ls
ok "ls containers: clitest" grep -qx clitest "$work/out"
code "cp -r tree out" 0 "$A" -j 8 -b 1M cp -r az://clitest/tree "$work/out-tree"
ok "diff -r: the tree came back unchanged" diff -r "$tree" "$work/out-tree"
code "cat" 0 "$A" cat "az://clitest/tree/sub dir/déjà vu/h e l l o.txt"
ok "cat: the content" test "$(cat "$work/out")" = "hello, world"
code "cp from stdin" 0 sh -c "cat '$tree/a/33mib+1' | '$A' cp - az://clitest/stdin"
code "cp to stdout" 0 sh -c "'$A' cp az://clitest/stdin - | cmp - '$tree/a/33mib+1'"
code "cp file to a directory" 0 "$A" cp az://clitest/stdin "$work"
ok "cp file to a directory: named after the blob" cmp "$work/stdin" "$tree/a/33mib+1"
code "cp file to az://C/DIR/ keeps the name" 0 "$A" cp "$tree/x/1" az://clitest/dir/
code "stat" 0 "$A" stat az://clitest/dir/1
ok "stat: size 1" grep -q '^size: *1$' "$work/out"
code "transport rest, concurrency, block size" 0 "$A" --transport rest -j 2 -b 256K cp "$tree/a/b/c/4mib-1" az://clitest/small-blocks

# Failures, by class.
code "usage: no command" 2 "$A"
code "usage: unknown command" 2 "$A" frobnicate
code "usage: cp of a directory without -r" 2 "$A" cp "$tree" az://clitest/t
code "not found: blob" 3 "$A" cat az://clitest/no-such-blob
code "not found: container" 3 "$A" ls az://no-such-container
code "not found: stat" 3 "$A" stat az://clitest/no-such-blob
code "bad key: not authorized" 5 env AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true;BlobEndpoint=$url/devstoreaccount1;AccountKey=AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==" "$A" ls az://clitest
code "network: nobody listening" 6 env AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1" "$A" ls
code "driver: no device" 7 env AZBLOB_DEVICE=/nonexistent "$A" --transport driver ls
code "local file: missing source" 8 "$A" cp "$work/no-such-file" az://clitest/x
code "configuration: no credentials" 10 env -u AZURE_STORAGE_CONNECTION_STRING -u AZURE_STORAGE_ACCOUNT "$A" ls
code "help" 0 "$A" --help

# The progress bar: on a terminal (script(1) gives one), not otherwise.
code "progress bar under a pseudo-terminal" 0 script -qec "'$A' cp '$tree/a/33mib+1' az://clitest/tty" /dev/null
ok "progress bar: percent, rate, size" grep -q "100%.*32.0 MiB.*MB/s" "$work/out"

# Ctrl-C during an upload: exit 130, nothing committed, nothing staged.
( head -c 20000000 /dev/zero; sleep 4; head -c 1000 /dev/zero ) |
	"$A" -b 1M cp - az://clitest/interrupted 2> "$work/err" &
pid=$!
sleep 2
kill -INT "$pid"
wait "$pid"
got=$?
n=$((n + 1))
if [ "$got" = 130 ]; then pass=$((pass + 1)); echo "ok $n Ctrl-C: exit 130"
else failed=$((failed + 1)); echo "not ok $n Ctrl-C: exit $got"; cat "$work/err"; fi
code "Ctrl-C: no blob left" 3 "$A" stat az://clitest/interrupted

code "rm" 0 "$A" rm az://clitest/stdin
code "rm -r" 0 "$A" rm -r az://clitest/tree/
code "ls -r after rm -r" 0 "$A" ls -r az://clitest/tree/
ok "ls -r after rm -r: empty" test ! -s "$work/out"
code "rb" 0 "$A" rb az://clitest
code "rb again: not found" 3 "$A" rb az://clitest

echo "# cli: $pass passed, $failed failed"
[ "$failed" = 0 ]
