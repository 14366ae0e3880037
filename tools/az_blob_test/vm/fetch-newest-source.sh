#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Download the newest linux-source-X.Y that Debian sid offers, through a
# private apt configuration (the machine's own apt state is left alone), and
# unpack it under DEST. Prints the path of the unpacked tree on stdout.
#
#   fetch-newest-source.sh DEST
set -euo pipefail

mkdir -p "$1"
dest=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=sid-apt.sh
. "$here/sid-apt.sh"
sid_apt_setup "$dest"
opts=("${sid_opts[@]}")
apt_dir=$dest/apt

pkg=$(apt-cache "${opts[@]}" search --names-only '^linux-source-[0-9.]+$' | awk '{ print $1 }' | sort -V | tail -n 1)
[ -n "$pkg" ] || { echo "fetch-newest-source: sid offers no linux-source" >&2; exit 1; }
ver=$(apt-cache "${opts[@]}" show "$pkg" | sed -n 's/^Version: //p' | sort -V | tail -n 1)
series=${pkg#linux-source-}
tree=$dest/linux-source-$series
stamp=$tree/.debian-version

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$ver" ]; then
	echo "fetch-newest-source: $pkg $ver" >&2
	(cd "$apt_dir/cache/archives" && rm -f "${pkg}"_*.deb && apt-get "${opts[@]}" -q download "$pkg=$ver" >&2)
	deb=$(ls "$apt_dir/cache/archives/${pkg}"_*.deb)
	rm -rf "$tree" "$dest/deb"
	mkdir -p "$dest/deb"
	dpkg-deb -x "$deb" "$dest/deb"
	tar -xf "$dest/deb/usr/src/linux-source-$series.tar."* -C "$dest"
	rm -rf "$dest/deb"
	printf '%s\n' "$ver" >"$stamp"
fi
echo "fetch-newest-source: using $pkg $ver" >&2
printf '%s\n' "$tree"
