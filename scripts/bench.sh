#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - "make bench": how well KVM maps guest memory of each backing
# (anonymous 4K, anonymous THP, fsdax, devdax at 2M alignment), and what the
# series costs on the fault path, with every figure taken in this one run.
#
# x86_64 by default; ARCH=arm64 benchmarks the arm64 lane's kernel and
# selftests the same way, in build/arm64/bench (arm64's KVM has no SPTE
# statistics: populate_perf_test reports the fault time per 4K page there).
#
# Two kernels are built from $TREE in $KBUILD: the series (HEAD) and the
# base, which is HEAD with the series' kernel changes reverted; tools/ and
# Documentation/ stay, so both kernels run the same selftests.  They boot
# in turn, BENCH_ROUNDS times each, in alternating order (base, series,
# series, base, ...) so that neither always goes first, with two 2 GiB pmem
# regions; every boot runs populate_perf_test on each backing BENCH_RUNS
# times.  scripts/bench.py turns the serial logs into the
# table ($out/bench.txt), a CSV and a PNG plot.
#
# The guests run with QEMU's -icount shift=0,sleep=off: their clock counts
# the instructions they execute, one per nanosecond, so a "second" is 10^9
# instructions of the L1 guest (its kernel's KVM and the emulated nested
# paging included).  That is the work done on the fault path, repeatable to
# a fraction of a percent, where wall-clock time under TCG on a shared host
# varied by 15% between runs of the same kernel.  It does not model cache
# or memory latency.  BENCH_ICOUNT=0 measures wall-clock time instead.
# -icount needs single-threaded TCG, so the arm64 guests run with it too.
#
# Environment: BENCH_MEM (guest memory populated per run, 1G), BENCH_RUNS
# (VMs per backing and boot, 3), BENCH_ROUNDS (boots per kernel, 2),
# BENCH_ICOUNT (1).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$ARCH_BUILD/bench
BENCH_MEM=${BENCH_MEM:-1G}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_ROUNDS=${BENCH_ROUNDS:-2}
BENCH_ICOUNT=${BENCH_ICOUNT:-1}
# What the guests' clock measures, and the QEMU -icount options for it.
clock=icount icount=shift=0,sleep=off
[ "$BENCH_ICOUNT" != 0 ] || clock=wall icount=
image=$KBUILD/arch/${ARCH/x86_64/x86}/boot/$KIMAGE
backings=(anonymous anonymous_thp fsdax devdax)

kernel_changes() {
	git -C "$TREE" diff base HEAD -- . ':(exclude)tools' ':(exclude)Documentation'
}

# The base kernel is HEAD with the series' kernel changes reverted in
# place (tree_guard puts them back on every exit), then the series kernel
# is rebuilt.
build_kernels() {
	cp "$image" "$out/$KIMAGE.series"
	kernel_changes >"$out/series-kernel.diff"
	[ -s "$out/series-kernel.diff" ] || die "the series changes no kernel code"
	tree_guard "the base kernel is built by reverting the series in it"
	say "building the base kernel: HEAD without the series' kernel changes; log: $KBUILD/build.log"
	tree_patch_build "$out/series-kernel.diff" -R || die "the base kernel does not build"
	cp "$image" "$out/$KIMAGE.base"
	tree_restore
	say "rebuilding the series kernel; log: $KBUILD/build.log"
	"$TOP/scripts/kernel.sh" build || die "the series kernel does not rebuild"
	kernel_mark_clean
}

main() {
	local b r k t0=$SECONDS results=()

	rm -rf "$out"
	mkdir -p "$out"
	build_kernels

	for b in "${backings[@]}"; do
		echo "populate_perf_test.$b timeout=1800 -- -s $b -b $BENCH_MEM -r $BENCH_RUNS"
	done >"$out/plan"
	PLAN=$out/plan SKIPLIST=/dev/null pack_plan "$out" ""

	for r in $(seq "$BENCH_ROUNDS"); do
		order="base series"
		[ $((r % 2)) = 1 ] || order="series base"
		for k in $order; do
			say "round $r of $BENCH_ROUNDS: the $k kernel"
			BUILD=$out RESULTS=$out/$k.$r KERNEL=$out/$KIMAGE.$k \
				INITRD="$(arch_dir "$out")/initramfs.cpio" \
				PMEM_GB=2 VM_TIMEOUT=${VM_TIMEOUT:-3600} \
				ICOUNT=$icount TCG_THREAD=${icount:+single} \
				"$TOP/scripts/run.sh" >"$out/$k.$r.log" 2>&1 ||
				die "the $k kernel's run $r failed: $(tail -1 "$out/$k.$r.log"); see $out/$k.$r/"
			results+=("$out/$k.$r")
		done
	done
	"$TOP/scripts/bench.py" --out "$out" --clock "$clock" \
		"${results[@]}"
	say "done in $((SECONDS - t0)) s; table, CSV and plot in $out/"
}

main "$@"
