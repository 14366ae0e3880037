#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install what `make check` needs on a Debian 12 machine, as root.
# Package names only: the newest 6.1 and 6.12 kernels are whatever the
# metapackages point at today.
set -eu

PKGS="build-essential bc bison flex cpio kmod xz-utils zstd libelf-dev
libssl-dev sparse qemu-system-x86 busybox-static linux-image-amd64
linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64
linux-source-6.12 gcc-multilib python3 dkms
python3-sphinx python3-yaml groff-base libcurl4-openssl-dev libexpat1-dev
pkg-config openssl util-linux"

# Azurite and the Azure SDK (tools/az_blob_host/node, pinned by its
# package-lock.json) run on node; machines of this kind come with node 20
# and npm, Debian's own packages are the fallback.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
