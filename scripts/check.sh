#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - the test command ("make check"): the data files, the series
# gates, the VM run of the whole test plan, the mutation gate, and the
# harness's own tests.
#
# Every step ends with a line "N passed, N failed, N skipped" (KTAP steps
# print it after their plan); those are added up.  Fail closed: a step that
# exits non-zero but counts no failure, or prints no such line, counts as
# one failure.  The end is a table of the steps with their result and
# duration, then the one line "N passed, N failed, N skipped" that CI
# reads; the exit status is non-zero when anything failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

passed=0 failed=0 skipped=0 out=$BUILD/check
table=()
mkdir -p "$out"

# step NAME CMD...: run CMD with its output in $out/NAME.log (and on the
# terminal), add up its closing line, and add a row to the table.
step() {
	local name=$1 log=$out/$1.log t0=$SECONDS rc line p=0 f=0 s=0 res

	shift
	say "== $name; log: $log"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -n "$line" ]; then
		read -r p _ f _ s _ <<<"${line//,/}"
		s=${s:-0}
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		say "error: $name exited with status $rc but counted no failure; counted as one; see $log"
	elif [ -z "$line" ] && [ "$counted" = 1 ]; then
		f=1
		say "error: $name printed no result line; counted as a failure; see $log"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	res=pass
	[ "$f" = 0 ] || res=FAIL
	table+=("$(printf '%-10s %-5s %8s  %s' "$name" "$res" "$(duration $((SECONDS - t0)))" \
		"${line:-exit status $rc}")")
	return "$rc"
}

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# A step that only has to succeed (no counts of its own).
counted=0
skip_step() {
	table+=("$(printf '%-10s %-5s %8s  %s' "$1" skip - "$2")")
}

started=$SECONDS
step data make -s -C "$TOP" validate
if ! step tree make -s -C "$TOP" tree; then
	skip_step gates "the series does not apply"
	skip_step build "the series does not apply"
else
	counted=1
	step gates "$TOP/scripts/gates.sh"
	counted=0
	if step build make -s -C "$TOP" kernel initramfs; then
		counted=1
		step run "$TOP/scripts/run.sh"
		step mutants "$TOP/scripts/mutants.sh"
	else
		skip_step run "the build failed"
		skip_step mutants "the build failed"
	fi
fi
counted=1
step harness "$TOP/tests/harness/run.sh"

{
	echo
	printf '%-10s %-5s %8s  %s\n' STEP RESULT TIME COUNTS
	printf '%s\n' "${table[@]}"
	echo "make check took $(duration $((SECONDS - started))); logs in $out"
} | tee "$out/steps.txt"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
