#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh - boot the test kernel and initramfs under QEMU (TCG) with emulated
# pmem, under two watchdogs, with the serial console in
# $RESULTS/serial.log.
#
# -cpu max gives the guest AMD's svm and npt (kvm_amd with nested SVM) and
# x86-64-v2 for the selftests.  thread=single: under multi-threaded TCG the
# guest kernel was seen to oops with int3 in scheduler code while nested
# tests ran (smm_test, guest_print_test); see README.md.
#
# ARCH=arm64: qemu-system-aarch64 -M virt,virtualization=on,gic-version=3
# -cpu max, so the guest kernel boots at EL2 and runs KVM in VHE mode.  The
# virt machine has no pmem device that Linux binds without ACPI, so the
# pmem regions are "pmem-region" nodes added to QEMU's own device tree
# (dumped with the same machine options into build/arm64/dtb, one file
# per set of options) after the 4 GiB that mem=4G leaves the guest; PMEM=0
# boots without -dtb, on QEMU's plain device tree.  See docs/arm64-lane.md.
#
# Two watchdogs stop QEMU: the console has been silent for VM_SILENCE
# seconds (by default the initramfs' runner timeout, which is the largest
# plan timeout plus 30 s, plus 60 s: no test can stay silent longer without
# having timed out), or the whole run
# took VM_TIMEOUT seconds.  QEMU runs under "timeout --foreground", so a
# Ctrl-C reaches it, and a trap stops it on every other exit of this script.
# While the guest runs, each test's "ok"/"not ok" line is printed with the
# time it took.  The QEMU command line is kept in $RESULTS/qemu.cmdline.
#
# Environment: KERNEL, INITRD, VM_TIMEOUT (whole run, seconds), VM_SILENCE
# (silent console, seconds), SHELL_ON=1 (boot to a shell on this terminal
# instead of running the plan: "make shell"), PMEM (1: the legacy pmem
# regions, 0: none), PMEM_GB (the size of each of the first two regions, 1
# by default; the guest keeps 4 GiB of RAM besides), APPEND (extra kernel arguments),
# TCG_THREAD (single or multi), ICOUNT (QEMU's -icount options, e.g.
# "shift=0,sleep=off": the guest's clock then counts the instructions it
# executed, one per nanosecond; needs thread=single), IVSHMEM (x86_64: 1,
# the default, adds an ivshmem-plain PCI device; 0 leaves it out),
# DRY_RUN=1 (print the command only).
# Exit: QEMU's, 124 when a watchdog fired, 130 on Ctrl-C.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

VM_TIMEOUT=${VM_TIMEOUT:-3000}
PMEM=${PMEM:-1}
PMEM_GB=${PMEM_GB:-1}
IVSHMEM=${IVSHMEM:-1}
case $ARCH in
x86_64) qemu=qemu-system-x86_64 qemu_pkg=qemu-system-x86 TCG_THREAD=${TCG_THREAD:-single} ;;
arm64) qemu=qemu-system-aarch64 qemu_pkg=qemu-system-arm TCG_THREAD=${TCG_THREAD:-multi} ;;
esac

command -v "$qemu" >/dev/null ||
	die "$qemu is missing; run 'make setup' or 'apt-get install $qemu_pkg'"
[ -f "$KERNEL" ] || die "no kernel at $KERNEL; run 'make kernel'"
[ -f "$INITRD" ] || die "no initramfs at $INITRD; run 'make initramfs'"

# kvm.tsc_tolerance_ppm: TCG's CPU has no constant_tsc, so the guest's
# built-in KVM keeps the TSC rate of the early boot calibration, which the
# refined one replaces a second later.  When the host is busy, the early one
# falls back to the HPET and was seen up to 850 ppm low (2094.22 against
# 2096.00 MHz), on the minimal and the defconfig kernel alike; past KVM's
# default 250 ppm every VM is created with a TSC rate KVM cannot give it
# ("kvm: user requested TSC rate below hardware speed") and kvm_clock_test
# and hyperv_clock fail (docs/figures.md).  2000 leaves a margin; only
# tsc_scaling_sync and vmx_nested_tsc_scaling_test ask for another TSC
# rate, and both are skipped (no TSC scaling under TCG).
append="console=ttyS0 printk.devkmsg=on panic=-1 kvm_amd.nested=1 kvm.tsc_tolerance_ppm=2000"
# x86_64: q35 puts 2 GiB of RAM below 4G and the rest from 4G up, so the
# guest's 4 + 2 * PMEM_GB + PMEM_1G_GB GiB end at 6 + 2 * PMEM_GB +
# PMEM_1G_GB GiB and memmap= takes the pmem regions out of the RAM from 4G
# up, leaving the guest its 4 GiB: one region for fsdax, one for devdax at
# 2M, and a third, PMEM_1G_GB (2) GiB at a 1G-aligned address, for devdax
# at 1G alignment ("ndctl create-namespace -m devdax -a 1G"), whose data
# starts at the region's first 1G boundary after the namespace's info
# block: 1 GiB of the 2 is mapped with PUDs.  Legacy pmem (E820_TYPE_PRAM)
# regions are never merged, so each is a namespace of its own.  PMEM=0
# boots with the memory it had before the third region came.
PMEM_1G_GB=2
[ "$PMEM" = 1 ] || PMEM_1G_GB=0
pmem_1g_at=$((4 + 2 * PMEM_GB))
if [ "$PMEM" = 1 ]; then
	append+=" memmap=${PMEM_GB}G!4G memmap=${PMEM_GB}G!$((4 + PMEM_GB))G"
	append+=" memmap=${PMEM_1G_GB}G!${pmem_1g_at}G"
else
	append+=" kvm_dax.pmem=0"
fi
append+=" ${APPEND:-}"

# ivshmem-plain: a PCI device whose BAR 2 is 4 MiB of shared host memory.
# The guest mmap()s it through /sys/bus/pci/devices/*/resource2, which gives
# a VM_IO|VM_PFNMAP mapping of memory without struct pages: what the pfnmap
# selftests need to test KVM on such memory (pfnmap_test,
# svm_pfnmap_map_test).  ivshmem-plain takes any shared memory backend.
ivshmem=()
[ "$IVSHMEM" != 1 ] ||
	ivshmem=(-object memory-backend-memfd,id=ivshmem,size=4M,share=on
		-device ivshmem-plain,memdev=ivshmem)

cmd=(qemu-system-x86_64 -machine q35 -cpu max -accel tcg,thread="$TCG_THREAD" ${ICOUNT:+-icount "$ICOUNT"}
	-smp 2 -m $((4 + 2 * PMEM_GB + PMEM_1G_GB))G -nodefaults -display none -no-reboot "${ivshmem[@]}"
	-serial file:"$RESULTS/serial.log"
	-kernel "$KERNEL" -initrd "$INITRD" -append "$append")

# The arm64 guest's device tree with the two pmem regions, made once per
# set of machine options: QEMU's own (dumpdtb) plus two pmem-region nodes
# right after the guest's 4 GiB of RAM, which starts at 1 GiB.
arm64_machine=(-M virt,virtualization=on,gic-version=3 -cpu max -smp 2 -m $((4 + 2 * PMEM_GB))G)
pmem_dtb() {
	local dir key base=$((0x40000000 + (4 << 30))) size=$((PMEM_GB << 30)) r a

	dir=$(arch_dir "$BUILD")/dtb
	key=$(echo "${arm64_machine[*]} pmem=${PMEM_GB}G" | sha256sum | cut -c1-12)
	if [ ! -s "$dir/virt-pmem-$key.dtb" ]; then
		mkdir -p "$dir"
		"$qemu" "${arm64_machine[@]/#virt,/virt,dumpdtb=$dir/virt-$key.dtb,}" \
			-nodefaults -display none >/dev/null 2>&1 &&
		dtc -q -I dtb -O dts -o "$dir/virt-$key.dts" "$dir/virt-$key.dtb" ||
			die "could not dump QEMU's device tree (dtc: run 'make setup')"
		{
			cat "$dir/virt-$key.dts"
			echo "/ {"
			for r in 0 1; do
				a=$((base + r * size))
				printf '\tpmem@%x {\n\t\tcompatible = "pmem-region";\n' $a
				printf '\t\treg = <0x%x 0x%x 0x%x 0x%x>;\n\t};\n' \
					$((a >> 32)) $((a & 0xffffffff)) $((size >> 32)) $((size & 0xffffffff))
			done
			echo "};"
		} >"$dir/virt-pmem-$key.dts"
		dtc -q -I dts -O dtb -o "$dir/virt-pmem-$key.dtb" "$dir/virt-pmem-$key.dts" ||
			die "dtc could not compile $dir/virt-pmem-$key.dts"
	fi
	echo "$dir/virt-pmem-$key.dtb"
}

if [ "$ARCH" = arm64 ]; then
	# Pseudo-NMIs: the hard-lockup detector's backtrace IPI then reaches
	# a CPU that spins with interrupts masked (config/arm64.config).
	append="console=ttyAMA0 printk.devkmsg=on panic=-1 irqchip.gicv3_pseudo_nmi=1"
	dtb=()
	if [ "$PMEM" = 1 ]; then
		append+=" mem=4G"
		dtb=(-dtb "$(pmem_dtb)")
	else
		append+=" kvm_dax.pmem=0"
	fi
	append+=" ${APPEND:-}"
	cmd=("$qemu" "${arm64_machine[@]}" -accel tcg,thread="$TCG_THREAD" ${ICOUNT:+-icount "$ICOUNT"}
		-nodefaults -display none -no-reboot "${dtb[@]}"
		-serial file:"$RESULTS/serial.log"
		-kernel "$KERNEL" -initrd "$INITRD" -append "$append")
fi

# The largest plan timeout, from the kselftest settings of the initramfs.
plan_timeout() {
	sed -n 's/^timeout=//p' "${INITRD%.cpio}/kselftest/kvm-dax/settings" 2>/dev/null || echo 600
}
VM_SILENCE=${VM_SILENCE:-$(($(plan_timeout) + 60))}
serial=$RESULTS/serial.log

if [ "${SHELL_ON:-0}" = 1 ]; then
	cmd=("${cmd[@]/#file:$serial/mon:stdio}")
	append+=" kvm_dax.shell=1"
	cmd[-1]=$append
fi

if [ "${DRY_RUN:-0}" = 1 ]; then
	printf '%q ' timeout --foreground -k 10 "$VM_TIMEOUT" "${cmd[@]}"
	echo
	exit 0
fi

mkdir -p "$RESULTS"
printf '%q ' "${cmd[@]}" >"$RESULTS/qemu.cmdline"
echo >>"$RESULTS/qemu.cmdline"

if [ "${SHELL_ON:-0}" = 1 ]; then
	say "booting $KERNEL to a shell (pmem=$PMEM); leave it with 'poweroff -f' or Ctrl-A X"
	exec "${cmd[@]}"
fi

# Print each test's result line as the guest prints it, with its time.
progress() {
	local line t0=$SECONDS

	while IFS= read -r line; do
		case $line in
		*"$TAP_PREFIX# selftests: "*) t0=$SECONDS ;;
		*"${TAP_PREFIX}ok "[0-9]*|*"${TAP_PREFIX}not ok "[0-9]*)
			say "${line#*"$TAP_PREFIX"} ($((SECONDS - t0)) s)" ;;
		*"${TAP_PREFIX}pmem: "*) say "${line#*"$TAP_PREFIX"}" ;;
		esac
	done
}

# Stop QEMU (through timeout, which passes the signal on) when the serial
# log has not grown for VM_SILENCE seconds.
silence_watchdog() {
	local size=-1 now quiet=0

	while sleep 5; do
		now=$(stat -c %s "$serial" 2>/dev/null || echo 0)
		if [ "$now" != "$size" ]; then
			size=$now quiet=0
			continue
		fi
		quiet=$((quiet + 5))
		[ $quiet -ge "$VM_SILENCE" ] || continue
		say "the console was silent for ${VM_SILENCE}s (VM_SILENCE): stopping the guest"
		touch "$RESULTS/.silent"
		kill -TERM "$qemu" 2>/dev/null
		return
	done
}

# shellcheck disable=SC2317  # called from the traps
stop_vm() {
	kill -TERM "$qemu" ${watchdog:+"$watchdog"} ${follower:+"$follower"} 2>/dev/null
	wait "$qemu" 2>/dev/null
	return 0
}

rm -f "$serial" "$RESULTS/.silent"
: >"$serial"
say "booting $KERNEL (TCG thread=$TCG_THREAD, pmem=$PMEM, watchdogs: ${VM_SILENCE}s of silence, ${VM_TIMEOUT}s in all); serial log: $serial"
timeout --foreground -k 10 "$VM_TIMEOUT" "${cmd[@]}" </dev/null &
qemu=$!
watchdog='' follower=''
trap 'stop_vm' EXIT
trap 'say "interrupted: stopping the guest"; stop_vm; trap - INT EXIT; kill -INT $$' INT
trap 'stop_vm; trap - TERM EXIT; kill -TERM $$' TERM
silence_watchdog &
watchdog=$!
tail -n +1 -F --pid="$qemu" "$serial" 2>/dev/null | progress &
follower=$!
rc=0
wait "$qemu" || rc=$?
kill "$watchdog" 2>/dev/null
wait "$follower" 2>/dev/null
trap - EXIT
if [ -e "$RESULTS/.silent" ]; then
	rm -f "$RESULTS/.silent"
	rc=124
elif [ $rc = 124 ]; then
	say "the watchdog stopped the guest after ${VM_TIMEOUT}s (VM_TIMEOUT)"
fi
exit $rc
