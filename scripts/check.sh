#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - the test command ("make check"): the data files, the series
# gates, the VM run of the whole test plan, the mutation gate, the same
# three for the arm64 lane, and the harness's own tests.
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

step data make -s -C "$TOP" validate
if ! step tree make -s -C "$TOP" tree; then
	step_skipped gates "the series does not apply"
	step_skipped build "the series does not apply"
else
	step -c gates "$TOP/scripts/gates.sh"
	if step build make -s -C "$TOP" kernel initramfs; then
		step -c run "$TOP/scripts/run.sh"
		step -c mutants "$TOP/scripts/mutants.sh"
	else
		step_skipped run "the build failed"
		step_skipped mutants "the build failed"
	fi
	# The arm64 lane: its minimal kernel, selftests and initramfs, the VM
	# run of tests/plan.arm64, and the arm64 mutants (Arch: arm64).
	if step build-arm64 env ARCH=arm64 make -s -C "$TOP" kernel initramfs; then
		step -c run-arm64 env ARCH=arm64 "$TOP/scripts/run.sh"
		step -c mutants-arm64 env ARCH=arm64 "$TOP/scripts/mutants.sh"
	else
		step_skipped run-arm64 "the arm64 build failed"
		step_skipped mutants-arm64 "the arm64 build failed"
	fi
fi
step -c harness "$TOP/tests/harness/run.sh"
steps_end
