#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - the test command ("make check"): the data files, the series
# gates (in the background, in a tree of their own), the build, the VM run
# of the whole test plan and the mutation gate of the x86_64 lane and then
# of the arm64 lane, and the harness's own tests.  "check.sh arm64" ("make
# check-arm64") runs the arm64 lane's steps only.
#
# Every step ends with a line "N passed, N failed, N skipped" (KTAP steps
# print it after their plan); those are added up.  Fail closed: a step that
# exits non-zero but counts no failure, or prints no such line, counts as
# one failure.  The end is a table of the steps with their result and
# duration, then the one line "N passed, N failed, N skipped" that CI
# reads; the exit status is non-zero when anything failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

steps_begin "$BUILD/check"

# Run a command in the arm64 lane: lib.sh, sourced above for the x86_64
# lane, exported that lane's build and results directories.
arm64() {
	env -u KBUILD -u RESULTS ARCH=arm64 "$@"
}

# steps_arm64_vm STATUS: the arm64 lane's VM run of tests/plan.arm64 and
# its mutants (Arch: arm64), when its build ended with STATUS 0.
steps_arm64_vm() {
	if [ "$1" = 0 ]; then
		step -c run-arm64 arm64 "$TOP/scripts/run.sh"
		step -c mutants-arm64 arm64 "$TOP/scripts/mutants.sh"
	else
		step_skipped run-arm64 "the arm64 build failed"
		step_skipped mutants-arm64 "the arm64 build failed"
	fi
}

# The arm64 lane: its minimal kernel, selftests and initramfs, then the VM.
steps_arm64() {
	step build-arm64 arm64 make -s -C "$TOP" kernel initramfs
	steps_arm64_vm $?
}

# "check.sh arm64" ("make check-arm64"): the arm64 lane's steps only.
if [ "${1:-}" = arm64 ]; then
	steps_begin "$BUILD/check-arm64"
	step data make -s -C "$TOP" validate
	if step tree make -s -C "$TOP" tree; then
		steps_arm64
	else
		step_skipped build-arm64 "the series does not apply"
	fi
	steps_end
	exit
fi

# run_again NAME T APPEND [SAME]: the plan entries that match T once more,
# in a boot whose kernel command line adds APPEND, with an initramfs and
# results of their own in $BUILD/NAME; or with the initramfs that step SAME
# packed for the same T.  They cover what the run step's boot cannot:
#   run-unsafe   svm_pfnmap_map_test with kvm.allow_unsafe_mappings=1 (the
#                parameter is read-only, and the run step boots with N)
#   run-npt0     the DAX tests on shadow paging (kvm_amd.npt=0):
#                FNAME(page_fault) and FNAME(prefetch_gpte)
#   run-tdpmmu0  the DAX tests on TDP without the TDP MMU (kvm.tdp_mmu=0)
run_again() {
	local dir=$BUILD/$1

	if [ -z "${4:-}" ]; then
		pack_plan "$dir" "$2" || return
	fi
	INITRD=$BUILD/${4:-$1}/initramfs.cpio RESULTS=$dir/results APPEND=$3 "$TOP/scripts/run.sh"
}

# gates_run: the gates (every KVM architecture's arch/<arch>/kvm/, all
# eight configurations) in a tree and build directories of their own, under
# $BUILD/gates-build: a git worktree of build/linux at its HEAD, which
# their bisect walk checks out commit by commit while the other steps
# build, boot and patch build/linux.  Niced, they take what the VM runs
# (TCG, one thread) leave of the two cores.  Logs in $BUILD/gates.
gates_run() {
	local gb=$BUILD/gates-build head

	head=$(git -C "$TREE" rev-parse HEAD) || return 1
	if git -C "$gb/linux" cat-file -e "$head" 2>/dev/null; then
		git -C "$gb/linux" checkout -q -f --detach "$head"
	else
		# Not yet, or a worktree of an earlier build/linux.
		rm -rf "$gb/linux" && git -C "$TREE" worktree prune &&
			git -C "$TREE" worktree add -q --detach "$gb/linux" "$head"
	fi || return 1
	env BUILD="$gb" TREE="$gb/linux" SELFTESTS_TREE="$gb/linux" KBUILD="$gb/kbuild" \
		GATES_LOGS="$BUILD/gates" nice -n 10 "$TOP/scripts/gates.sh"
}

step data make -s -C "$TOP" validate
if step tree make -s -C "$TOP" tree; then
	if step build make -s -C "$TOP" kernel initramfs; then
		# The arm64 lane's build (nice, in the background) uses the
		# core that the x86 VM runs leave idle (TCG, one thread); they
		# do not touch the tree.  The x86 mutants patch it, so they
		# wait for the arm64 build.
		step_bg build-arm64 arm64 nice make -s -C "$TOP" kernel initramfs
		step -c run "$TOP/scripts/run.sh"
		step -c run-unsafe run_again run-unsafe '^svm_pfnmap_map_test$' kvm.allow_unsafe_mappings=1
		step -c run-npt0 run_again run-npt0 '^dax_' kvm_amd.npt=0
		step -c run-tdpmmu0 run_again run-tdpmmu0 '^dax_' kvm.tdp_mmu=0 run-npt0
		# Not before: under load, the x86 guest's early TSC
		# calibration can be off by more than kvm.tsc_tolerance_ppm,
		# or its clocksource watchdog can mark the TSC unstable, and
		# kvm_clock_test and hyperv_clock fail or skip (vm.sh).
		step_bg -c gates gates_run
		step_wait build-arm64
		arm64_built=$?
		step -c mutants "$TOP/scripts/mutants.sh"
		# The harness's tests boot the x86 kernel, which the x86
		# mutants were rebuilding; beside the arm64 VM steps (one TCG
		# thread, arm64 files only) they use the other core.
		step_bg -c harness "$TOP/tests/harness/run.sh"
		steps_arm64_vm $arm64_built
		step_wait harness
	else
		step_bg -c gates gates_run
		step_skipped run "the build failed"
		for s in run-unsafe run-npt0 run-tdpmmu0 mutants; do
			step_skipped $s "the build failed"
		done
		steps_arm64
	fi
	step_wait gates
else
	for s in gates build run run-unsafe run-npt0 run-tdpmmu0 mutants build-arm64 run-arm64 mutants-arm64; do
		step_skipped $s "the series does not apply"
	done
fi
[ -n "${steps_bg_pid[harness]:-}" ] || step -c harness "$TOP/tests/harness/run.sh"
steps_end
