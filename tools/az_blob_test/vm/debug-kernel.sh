#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once, cached) a small debug kernel from the newest kernel source
# Debian offers (sid's linux-source-X.Y): KASAN, lockdep, kmemleak,
# DEBUG_OBJECTS, fault injection, KUnit, io_uring. Prints the build tree
# (bzImage in arch/x86/boot, ready for external modules) on stdout.
#
#   debug-kernel.sh CACHE_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
cache=$(cd "$1" && pwd)
src=$("$here/fetch-newest-source.sh" "$cache/newest")
frag=$here/debug.config
stamp=$src/.az-debug-config

# Rebuild when the source or the fragment changed.
want=$(cat "$src/.debian-version" "$frag" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -f "$src/arch/x86/boot/bzImage" ] && [ -f "$src/Module.symvers" ]; then
	printf '%s\n' "$src"
	exit 0
fi

echo "debug-kernel: configuring $(basename "$src") $(cat "$src/.debian-version")" >&2
jobs=$(nproc)
make -C "$src" -s tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$frag" >/dev/null
make -C "$src" -s olddefconfig >&2
# Every option of the fragment must have survived (a dependency may drop one).
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n|CONFIG_*=0|"#"*|"") continue ;;
	esac
	if ! grep -qx "$line" "$src/.config"; then
		echo "debug-kernel: not set: $line" >&2
		missing=1
	fi
done <"$frag"
[ $missing -eq 0 ] || exit 1

echo "debug-kernel: building with $jobs jobs" >&2
t0=$(date +%s)
make -C "$src" -s -j"$jobs" bzImage modules >&2
make -C "$src" -s modules_prepare >&2
echo "debug-kernel: built in $(($(date +%s) - t0)) s" >&2
printf '%s\n' "$want" >"$stamp"
printf '%s\n' "$src"
