#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh - install the Debian 12 packages the harness needs.  As root it
# runs apt-get; otherwise it prints the exact command.  Nothing is
# downloaded from anywhere but Debian.  ccache is used when present but is
# not required, so it is not in the list.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

packages=(
	"$BASE_PKG"			# the default base (tarball in /usr/src)
	build-essential bc bison flex libelf-dev libssl-dev kmod cpio xz-utils
	git perl python3 rsync		# git am/format-patch, checkpatch, report.py, kselftest install
	qemu-system-x86 busybox-static ndctl daxctl e2fsprogs
	sparse coccinelle ocaml-nox	# the series gates (some .cocci scripts need ocamlopt)
	gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu gcc-powerpc64le-linux-gnu gcc-s390x-linux-gnu
	gcc-mips64el-linux-gnuabi64 clang-19 lld-19 llvm-19	# cross builds of virt/kvm (clang: loongarch)
	gnuplot-nox			# make bench's plot
	qemu-system-arm device-tree-compiler	# the arm64 lane's guest and its pmem device tree
	libc6-dev-arm64-cross		# the arm64 KVM selftests link against glibc
)

# The arm64 lane's guest userspace comes from Debian's arm64 packages
# (initramfs.sh fetches them with "apt-get download"), so dpkg must know
# the architecture and apt its package lists.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	[ "$(id -u)" = 0 ] ||
		die "dpkg does not know arm64 (the arm64 guest's packages); as root run: dpkg --add-architecture arm64 && apt-get update"
	say "adding the arm64 architecture to dpkg, for the arm64 guest's packages"
	dpkg --add-architecture arm64
	apt-get update -q >/dev/null || die "apt-get update failed after adding arm64"
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" != 0 ]; then
	die "missing Debian packages; as root run: apt-get update && ${cmd[*]}"
fi
say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${cmd[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && "${cmd[@]}" >/dev/null; } ||
	die "apt-get could not install: ${missing[*]}"
