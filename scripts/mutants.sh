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
#   Caught-by: the plan entries that must fail, each by itself, because of
#              it, separated by spaces (a program name stands for all its
#              variants)
#   Arch:      the lane it is for, x86_64 (when absent) or arm64; a run
#              takes the mutants of its own lane ($ARCH), which it builds
#              and boots with that lane's kernel, plan and VM
#   Append:    kernel command-line options for its boot, for a mutant of
#              code that only another mode runs (kvm_amd.npt=0: shadow
#              paging); optional
#
# For each one: apply it to $TREE, rebuild the kernel incrementally, boot
# and run its Caught-by: test (the plan entries of that name, in an
# initramfs packed once per name), and read the run's results.json.  The
# mutant is killed when the Caught-by: test failed by itself (its exit
# status, a timeout or a guest crash during it); it survived when nothing
# failed.  A mutant whose Caught-by: test failed only through a kernel
# splat printed while it ran is not killed either: the log scan is a second
# line of defence, and the mutant must show that the test itself can fail.
# With INITRD set, every mutant boots that initramfs instead, and a run
# where only other tests failed is a failure ("caught by the wrong test").  The tree is put back after each mutant and on
# every exit, Ctrl-C included (tree_guard); the clean kernel is rebuilt at
# the end.
#
# Output: KTAP, one result per mutant, then "N passed, N failed, N skipped".
# (INITRD is read before lib.sh sets its default, the whole plan's.)
set -uo pipefail
initrd_given=${INITRD:-}
. "$(dirname "$0")/lib.sh"

MUTANTS_DIR=${MUTANTS_DIR:-$TOP/tests/mutants}
out=$BUILD/mutants

header() {
	sed -n "s/^$2: *//p" "$1" | head -1
}

mutant_arch() {
	local a

	a=$(header "$1" Arch)
	echo "${a:-x86_64}"
}

run_mutant() {
	local m=$1 name res t0=$SECONDS expect caught append initrd alone e miss=

	name=$(basename "$m" .patch)
	expect=$(header "$m" Caught-by)
	res=$out/$name
	if [ -z "$expect" ]; then
		ktap fail "$name" "$m has no Caught-by: header"
		return
	fi
	say "mutant $name: applying and rebuilding; log: $KBUILD/build.log"
	tree_patch_build "$m" >"$out/$name.build.log" 2>&1
	case $? in
	0) ;;
	2) ktap fail "$name" "does not apply to the series: $(grep -m1 error "$out/$name.build.log")"
	   tree_restore; return ;;
	*) ktap fail "$name" "the kernel does not build with it; see $out/$name.build.log"
	   tree_restore; return ;;
	esac
	initrd=$initrd_given
	if [ -z "$initrd" ]; then
		# The plan entries named by Caught-by: (a program name stands
		# for all its variants), packed once per set of names.
		initrd=$(arch_dir "$out/initramfs-${expect// /+}")/initramfs.cpio
		[ -f "$initrd" ] ||
		pack_plan "$out/initramfs-${expect// /+}" "^(${expect// /|})(\.[^.]+)?\$" \
			>"$out/$name.pack.log" 2>&1 ||
			{ ktap fail "$name" "could not pack $expect; see $out/$name.pack.log"; tree_restore; return; }
	fi
	append=$(header "$m" Append)
	say "mutant $name: booting${append:+ with $append}; serial log: $res/serial.log"
	ALLOW_PATCHED_KERNEL=1 INITRD=$initrd RESULTS=$res APPEND=${append:-${APPEND:-}} \
		"$TOP/scripts/run.sh" >"$out/$name.log" 2>&1
	tree_restore
	caught=$("$TOP/scripts/report.py" --failed "$res") ||
		{ ktap fail "$name" "no results in $res"; return; }
	# Every Caught-by: name must have failed by itself; the first that
	# did not says why the mutant is not killed.
	alone=$("$TOP/scripts/report.py" --failed-alone "$res")
	for e in $expect; do
		grep -qE "^$e(\.[^ ]+)? " <<<"$alone" || { miss=$e; break; }
	done
	if [ -z "$caught" ]; then
		ktap fail "$name" "survived ($((SECONDS - t0)) s): no test caught '$(header "$m" Recreates)'; $expect must"
	elif [ -z "$miss" ]; then
		ktap pass "$name" "killed ($((SECONDS - t0)) s) by: $(paste -sd ';' - <<<"$caught")"
	elif grep -qE "^$miss(\.[^ ]+)? " <<<"$caught"; then
		ktap fail "$name" "caught only by the kernel-log scan ($((SECONDS - t0)) s): $miss passed by itself" \
			"$caught"
	else
		ktap fail "$name" "caught by the wrong test ($((SECONDS - t0)) s): $miss did not fail; only $(cut -d' ' -f1 <<<"$caught" | paste -sd ' ' -) did" \
			"$caught"
	fi
}

main() {
	local m mutants

	# run.sh and kernel.sh write into the lane's directory of $out.
	mkdir -p "$(arch_dir "$out")"
	mutants=()
	for m in "$MUTANTS_DIR"/*.patch; do
		[ ! -e "$m" ] || [ "$(mutant_arch "$m")" != "$ARCH" ] || mutants+=("$m")
	done
	[ ${#mutants[@]} -gt 0 ] || die "no $ARCH mutants in $MUTANTS_DIR"
	tree_guard "the mutants are applied to it in place"
	rm -rf "$out"/initramfs-*
	ktap_begin
	for m in "${mutants[@]}"; do
		BUILD=$out run_mutant "$m"
	done
	tree_restore
	say "rebuilding the clean kernel; log: $KBUILD/build.log"
	if "$TOP/scripts/kernel.sh" build >"$out/clean.build.log" 2>&1; then
		kernel_mark_clean
	else
		ktap fail clean-rebuild "the kernel without mutants does not rebuild; see $out/clean.build.log"
	fi
	ktap_end
}

main "$@"
