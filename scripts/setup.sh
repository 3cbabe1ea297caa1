#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package the build, the tests, the benchmarks and the
# demo need. Idempotent and quiet: apt-get runs only when something is missing.
set -euo pipefail

packages=(
	# build
	make gcc gcc-multilib libc6-dev pkg-config libnl-3-dev libnl-genl-3-dev
	# colod: QMP (json-c), its configuration (inih), dm (libdevmapper), sd_notify,
	# membership and quorum (corosync's libcpg and libquorum; corosync for the tests)
	libjson-c-dev libinih-dev libdevmapper-dev libsystemd-dev libcpg-dev libquorum-dev corosync
	linux-headers-amd64 dkms openssl
	# the kernel the tests boot, and the VM around it
	linux-image-amd64 qemu-system-x86 busybox-static kmod cpio file
	# in-kernel tests, benchmarks, demo
	iproute2 nftables dmsetup nbd-client nbd-server socat fio python3 python3-yaml iperf3 procps strace
	# the DRBD 8.4 baseline of the blk benchmark (drbdsetup-84, drbdmeta)
	drbd-utils
	# the end-to-end test guest: its kernel is built from Debian's sources
	linux-source-6.1 bc flex bison libelf-dev xz-utils gzip
	# unit tests and fuzzing
	clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" > /tmp/colo-setup-apt.log 2>&1 || {
	tail -20 /tmp/colo-setup-apt.log >&2
	exit 1
}
