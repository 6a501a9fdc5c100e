#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - the test command ("make check"): the series gates, the VM run
# of the whole test plan, the mutation gate, and the harness's own tests.  Each step's results
# are added up into one closing line "N passed, N failed, N skipped"; the
# exit status is non-zero when anything failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

passed=0 failed=0 skipped=0 out=$BUILD/check
mkdir -p "$out"

# Add the "N passed, N failed[, N skipped]" line of a step's output.
count() {
	local line

	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	[ -n "$line" ] || { failed=$((failed + 1)); say "error: $2 printed no result line; see $1"; return; }
	read -r p _ f _ s _ <<<"${line//,/}"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
}

step() {
	local name=$1

	shift
	say "== $name"
	"$@" 2>&1 | tee "$out/$name.log"
	return "${PIPESTATUS[0]}"
}

started=$SECONDS
if ! step tree make -s -C "$TOP" tree; then
	echo "0 passed, 1 failed"
	die "the series does not apply; see $out/tree.log"
fi

step gates "$TOP/scripts/gates.sh"
passed=$((passed + $(grep -c '^PASS' "$out/gates.log")))
failed=$((failed + $(grep -c '^FAIL' "$out/gates.log")))

if step build make -s -C "$TOP" kernel initramfs; then
	step run "$TOP/scripts/run.sh"
	count "$out/run.log" "the VM run"
	step mutants "$TOP/scripts/mutants.sh"
	count "$out/mutants.log" "the mutation gate"
else
	failed=$((failed + 1))
	say "error: the build failed, so the VM run and the mutants were skipped; see $out/build.log"
fi

step harness "$TOP/tests/harness/run.sh"
count "$out/harness.log" "the harness tests"

say "make check took $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s; logs in $out"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
