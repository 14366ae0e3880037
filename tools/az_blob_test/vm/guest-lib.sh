# SPDX-License-Identifier: GPL-2.0
#
# /lib.sh of every test guest's initramfs, sourced first by its /init
# (vm/guest-init, relay-smoke.sh's guest, blob/*-init.sh): busybox's
# applets, the kernel's file systems, and what more than one /init needs.
# Lines for the host are "ok NAME", "FAIL NAME: WHY", "# ...".

/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
echo 0 >/proc/sys/kernel/printk_ratelimit 2>/dev/null
S=/sys/kernel/debug/az_blob_sim

# st KEY: a value of the simulator's stats
st() { sed -n "s/^$1 //p" $S/stats; }

# Wait up to $2 tenths of a second for command $1 to succeed.
wait_until() {
	i=0
	while ! eval "$1" && [ $i -lt "$2" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	eval "$1"
}

# A file system on a block device, where the kernel tracks dirty pages of
# shared file mappings (stock kernels; the tests skip what needs it
# elsewhere). ext4 wants crc32c, which the kernel cannot modprobe here.
ram_disk() {
	modprobe crc32c_generic 2>/dev/null
	if modprobe brd rd_nr=1 rd_size=16384 2>/dev/null &&
	   modprobe ext4 2>/dev/null &&
	   mke2fs -q /dev/ram0 >/dev/null 2>&1 && mkdir -p /mnt/disk &&
	   mount -t ext2 /dev/ram0 /mnt/disk 2>/dev/null; then
		echo "# ext2 on /dev/ram0 at /mnt/disk"
	fi
}

# The relayed Blob device as the only one (the in-guest host's goes
# first): az_blob_sim, az_blob_relay, then hv_azure_blob bound to it.
relay_up() {
	modprobe az_blob_sim && echo "ok load az_blob_sim" ||
		echo "FAIL load az_blob_sim: modprobe"
	echo "rescind 0" >$S/control
	modprobe az_blob_relay && echo "ok load az_blob_relay" ||
		echo "FAIL load az_blob_relay: modprobe"
	wait_until "grep -q 'host az_blob_relay' $S/channel" 100 &&
		echo "ok relay offered a device" ||
		echo "FAIL relay offered a device: none in $S/channel"
	modprobe hv_azure_blob
	wait_until "[ -e /dev/azure_blob ]" 100 &&
		echo "ok driver bound to the relayed device" ||
		echo "FAIL driver bound to the relayed device: no /dev/azure_blob"
}

# virtio-net as eth0 with GUEST_ADDR, the default route via GUEST_GW.
net_up() {
	# virtio_pci is a module on 6.1, built in on 6.12.
	modprobe virtio_pci 2>/dev/null
	modprobe virtio_net 2>/dev/null
	ip link set lo up 2>/dev/null
	if wait_until "[ -e /sys/class/net/eth0 ]" 100; then
		ip link set eth0 up
		ip addr add "$GUEST_ADDR" dev eth0
		ip route add default via "$GUEST_GW"
		echo "ok eth0 up (virtio-net, $GUEST_ADDR via $GUEST_GW)"
	else
		echo "FAIL eth0 up: no eth0 after modprobe virtio_net"
	fi
}
