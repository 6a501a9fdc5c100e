#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mutants.sh - the mutation gate: re-inject known KVM/DAX bugs on top of the
# series and require the DAX tests to catch each one.
#
# Each tests/mutants/*.patch (or $MUTANTS_DIR/*.patch) is a kernel diff that
# applies on top of the series, headed by comment lines:
#
#   Recreates: the real bug it brings back
#   Undoes:    the upstream fix it undoes in spirit
#   Caught-by: the plan entry expected to fail
#
# For each one: apply it to $TREE, rebuild the kernel incrementally, boot
# and run the DAX subset of the plan (T=$MUTANT_TESTS), report "killed" (a
# test failed, or the kernel-log scan caught a splat: which) or "survived",
# and revert it.  The clean kernel is rebuilt at the end.  Exit non-zero if
# any mutant survives or does not apply.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

MUTANTS_DIR=${MUTANTS_DIR:-$TOP/tests/mutants}
MUTANT_TESTS=${MUTANT_TESTS:-dax_|pmem_teardown}
out=$BUILD/mutants
killed=0 bad=0

header() {
	sed -n "s/^$2: *//p" "$1" | head -1
}

# What failed in a run: each failing result of the table, with its cause.
failures() {
	grep -vE ' (PASS|SKIP)( |$)|^kvm-dax results|^pmem:|^TEST |passed, ' "$1" | sed 's/  */ /g'
}

run_mutant() {
	local m=$1 name res t0=$SECONDS expect

	name=$(basename "$m" .patch)
	expect=$(header "$m" Caught-by)
	if ! git -C "$TREE" apply "$m" 2>"$out/$name.apply.log"; then
		echo "FAIL mutant $name: does not apply to the series ($(head -1 "$out/$name.apply.log"))"
		bad=$((bad + 1))
		return
	fi
	res=$out/$name
	if ! "$TOP/scripts/kernel.sh" build 2>"$out/$name.build.log"; then
		echo "FAIL mutant $name: the kernel does not build with it; see $out/$name.build.log"
		bad=$((bad + 1))
	elif RESULTS=$res "$TOP/scripts/run.sh" >"$out/$name.log" 2>&1; then
		echo "FAIL mutant $name survived ($((SECONDS - t0)) s): no test caught '$(header "$m" Recreates)'; expected $expect to"
		bad=$((bad + 1))
	else
		echo "PASS mutant $name killed ($((SECONDS - t0)) s) by: $(failures "$res/summary.txt" | paste -sd ';' -)"
		failures "$res/summary.txt" | grep -q "$expect" ||
			echo "  note: the expected catcher $expect is not among them"
		killed=$((killed + 1))
	fi
	git -C "$TREE" apply -R "$m"
}

main() {
	local m

	mkdir -p "$out"
	[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
		die "$TREE has uncommitted edits; mutants are applied on top of a clean tree"
	# The DAX subset of the plan, packed once for all mutants.
	KSFT_INSTALL=$BUILD/kselftest BUILD=$out T=$MUTANT_TESTS "$TOP/scripts/initramfs.sh" ||
		die "could not pack the DAX subset of the plan"
	export INITRD=$out/initramfs.cpio
	for m in "$MUTANTS_DIR"/*.patch; do
		[ -e "$m" ] || die "no mutants in $MUTANTS_DIR"
		BUILD=$out run_mutant "$m"
	done
	"$TOP/scripts/kernel.sh" build || die "the clean kernel does not rebuild"
	echo "$killed passed, $bad failed"
	[ $bad = 0 ]
}

main "$@"
