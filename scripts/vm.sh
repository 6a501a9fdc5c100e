#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh - boot the test kernel and initramfs under QEMU (TCG) with emulated
# pmem, under a wall-clock watchdog, with the serial console in
# $RESULTS/serial.log.
#
# -cpu max gives the guest AMD's svm and npt (kvm_amd with nested SVM) and
# x86-64-v2 for the selftests.  thread=single: under multi-threaded TCG the
# guest kernel was seen to oops with int3 in scheduler code while nested
# tests ran (smm_test, guest_print_test); see README.md.
#
# Environment: KERNEL, INITRD, VM_TIMEOUT (watchdog, seconds), PMEM (1: two
# legacy pmem regions, 0: none), PMEM_GB (the size of each region, 1 by
# default; the guest keeps 4 GiB of RAM besides), APPEND (extra kernel arguments),
# TCG_THREAD (single or multi), ICOUNT (QEMU's -icount options, e.g.
# "shift=0,sleep=off": the guest's clock then counts the instructions it
# executed, one per nanosecond; needs thread=single), DRY_RUN=1 (print the
# command only).
# Exit: QEMU's, or 124 when the watchdog fired.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KERNEL=${KERNEL:-$KBUILD/arch/x86/boot/bzImage}
INITRD=${INITRD:-$BUILD/initramfs.cpio}
VM_TIMEOUT=${VM_TIMEOUT:-3000}
PMEM=${PMEM:-1}
PMEM_GB=${PMEM_GB:-1}
TCG_THREAD=${TCG_THREAD:-single}

command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 is missing; run 'make setup' or 'apt-get install qemu-system-x86'"
[ -f "$KERNEL" ] || die "no kernel at $KERNEL; run 'make kernel'"
[ -f "$INITRD" ] || die "no initramfs at $INITRD; run 'make initramfs'"

append="console=ttyS0 printk.devkmsg=on panic=-1 kvm_amd.nested=1"
if [ "$PMEM" = 1 ]; then
	append+=" memmap=${PMEM_GB}G!4G memmap=${PMEM_GB}G!$((4 + PMEM_GB))G"
else
	append+=" kvm_dax.pmem=0"
fi
append+=" ${APPEND:-}"

cmd=(qemu-system-x86_64 -machine q35 -cpu max -accel tcg,thread="$TCG_THREAD" ${ICOUNT:+-icount "$ICOUNT"}
	-smp 2 -m $((4 + 2 * PMEM_GB))G -nodefaults -display none -no-reboot
	-serial file:"$RESULTS/serial.log"
	-kernel "$KERNEL" -initrd "$INITRD" -append "$append")

if [ "${DRY_RUN:-0}" = 1 ]; then
	printf '%q ' timeout -k 10 "$VM_TIMEOUT" "${cmd[@]}"
	echo
	exit 0
fi

mkdir -p "$RESULTS"
say "booting $KERNEL (TCG thread=$TCG_THREAD, pmem=$PMEM, watchdog ${VM_TIMEOUT}s); serial log: $RESULTS/serial.log"
rc=0
timeout -k 10 "$VM_TIMEOUT" "${cmd[@]}" </dev/null || rc=$?
[ $rc != 124 ] || say "the watchdog stopped the guest after ${VM_TIMEOUT}s"
exit $rc
