#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once, cached) a small debug kernel from the newest kernel source
# Debian offers (sid's linux-source-X.Y): KASAN, lockdep, kmemleak,
# DEBUG_OBJECTS, fault injection, KUnit, io_uring. The source tree stays
# pristine (the in-tree patch series is tested on a copy of it); the build
# goes to CACHE_DIR/newest/debug-build, whose path is printed on stdout
# (bzImage in arch/x86/boot, ready for external modules).
#
# With "bench", the same kernel without the debugging (bench.config over
# debug.config), for the driver's benchmarks on the newest kernel; it goes
# to CACHE_DIR/newest/bench-build.
#
#   debug-kernel.sh CACHE_DIR [debug|bench]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kind=${2:-debug}
mkdir -p "$1"
cache=$(cd "$1" && pwd)
mkdir -p "$cache/newest"
# One build at a time (two checks may share the cache).
exec 9>"$cache/newest/.lock"
flock 9
src=$("$here/fetch-newest-source.sh" "$cache/newest")
case $kind in
debug) frags=("$here/debug.config") ;;
bench) frags=("$here/debug.config" "$here/bench.config") ;;
*) echo "debug-kernel: unknown kind $kind" >&2; exit 2 ;;
esac
# The options to check: the last fragment's (it overrides the first).
frag=${frags[-1]}
out=$cache/newest/$kind-build
stamp=$out/.az-$kind-config

# Rebuild when the source, the fragments or the compiler changed.
want=$( (cat "$src/.debian-version" "${frags[@]}"; gcc --version | head -n 1) | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -f "$out/arch/x86/boot/bzImage" ] && [ -f "$out/Module.symvers" ]; then
	printf '%s\n' "$out"
	exit 0
fi

echo "debug-kernel: configuring $kind $(basename "$src") $(cat "$src/.debian-version")" >&2
jobs=$(nproc)
mkdir -p "$out"
make -C "$src" O="$out" -s tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
make -C "$src" O="$out" -s olddefconfig >&2
# Every option of the fragment must have survived (a dependency may drop one).
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		if grep -q "^${line%=n}=" "$out/.config"; then
			echo "debug-kernel: still set: ${line%=n}" >&2
			missing=1
		fi
		continue ;;
	CONFIG_*=0|"#"*|"") continue ;;
	esac
	if ! grep -qx "$line" "$out/.config"; then
		echo "debug-kernel: not set: $line" >&2
		missing=1
	fi
done <"$frag"
[ $missing -eq 0 ] || exit 1

echo "debug-kernel: building with $jobs jobs" >&2
t0=$(date +%s)
make -C "$src" O="$out" -s -j"$jobs" bzImage modules >&2
make -C "$src" O="$out" -s modules_prepare >&2
echo "debug-kernel: built in $(($(date +%s) - t0)) s" >&2
cp "$src/.debian-version" "$out/.debian-version"
printf '%s\n' "$want" >"$stamp"
printf '%s\n' "$out"
