#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bookworm's sparse (0.6.4) is too old for the newest kernels (no
# __typeof_unqual__). Build sparse from Debian sid's source package, once,
# under DEST, and print the path of the binary.
#
#   newest-sparse.sh DEST
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dest=$(cd "$1" && pwd)
# shellcheck source=sid-apt.sh
. "$here/sid-apt.sh"

bin=$dest/sparse/sparse
if [ -x "$bin" ]; then
	printf '%s\n' "$bin"
	exit 0
fi
sid_apt_setup "$dest"
rm -rf "$dest/sparse-src" "$dest/sparse"
mkdir -p "$dest/sparse-src"
(cd "$dest/sparse-src" && apt-get "${sid_opts[@]}" -q --download-only source sparse >&2)
tar -xzf "$dest"/sparse-src/sparse_*.orig.tar.gz -C "$dest/sparse-src"
mv "$dest"/sparse-src/sparse-*/ "$dest/sparse"
make -C "$dest/sparse" -s -j"$(nproc)" sparse >&2
echo "newest-sparse: built from $(basename "$dest"/sparse-src/sparse_*.dsc .dsc)" >&2
printf '%s\n' "$bin"
