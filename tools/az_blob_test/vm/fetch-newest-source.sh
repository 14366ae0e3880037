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
apt_dir=$dest/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"

# The mirror this machine already uses, whatever it is.
uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$uri" ] || uri=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
[ -n "$uri" ] || { echo "fetch-newest-source: no Debian mirror configured" >&2; exit 1; }

printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' "$uri" >"$apt_dir/sources.list"
opts=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
      -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Get::List-Cleanup=0)

if [ -z "$(find "$apt_dir/lists" -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
	apt-get "${opts[@]}" -q update >&2
fi
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
