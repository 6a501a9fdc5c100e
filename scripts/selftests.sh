#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests.sh - build and install the KVM selftests of $SELFTESTS_TREE with
# the kselftest Makefile itself ("make -C tools/testing/selftests TARGETS=kvm
# install"), out of tree, so the guest gets the upstream runner
# run_kselftest.sh, its TAP and its timeouts.  ARCH=arm64 cross-builds them
# (lib.sh exports ARCH and CROSS_COMPILE) into build/arm64; they link
# dynamically against glibc (libc6-dev-arm64-cross), so the arm64 initramfs
# carries Debian's arm64 libc6.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

obj=$ARCH_BUILD/ksft-obj-$(basename "$SELFTESTS_TREE")
install=$ARCH_BUILD/kselftest
log=$obj/build.log

mkdir -p "$obj"
say "building the $ARCH KVM selftests of $SELFTESTS_TREE; log: $log"
{
	make -C "$SELFTESTS_TREE" O="$obj" headers &&
	rm -rf "$install" &&
	make -C "$SELFTESTS_TREE/tools/testing/selftests" O="$obj" TARGETS=kvm \
		-j"$JOBS" KSFT_INSTALL_PATH="$install" install
} >"$log" 2>&1 || {
	grep -m10 -E 'error|Error' "$log" >&2 || tail -n 20 "$log" >&2
	die "the KVM selftests did not build; full log: $log"
}
say "installed $(grep -c '^kvm:' "$install/kselftest-list.txt") KVM selftests in $install"
