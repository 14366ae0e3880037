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
#   debug-kernel.sh CACHE_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
cache=$(cd "$1" && pwd)
mkdir -p "$cache/newest"
# One build at a time (two checks may share the cache).
exec 9>"$cache/newest/.lock"
flock 9
src=$("$here/fetch-newest-source.sh" "$cache/newest")
frag=$here/debug.config
out=$cache/newest/debug-build
stamp=$out/.az-debug-config

# Rebuild when the source, the fragment or the compiler changed.
want=$( (cat "$src/.debian-version" "$frag"; gcc --version | head -n 1) | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -f "$out/arch/x86/boot/bzImage" ] && [ -f "$out/Module.symvers" ]; then
	printf '%s\n' "$out"
	exit 0
fi

echo "debug-kernel: configuring $(basename "$src") $(cat "$src/.debian-version")" >&2
jobs=$(nproc)
mkdir -p "$out"
make -C "$src" O="$out" -s tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
make -C "$src" O="$out" -s olddefconfig >&2
# Every option of the fragment must have survived (a dependency may drop one).
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n|CONFIG_*=0|"#"*|"") continue ;;
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
