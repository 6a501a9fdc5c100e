#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - the harness's own tests.  Each case makes the harness fail in
# one way and checks that it says so in one clear line and exits non-zero,
# keeping what it had.  The cases that boot a guest use the real kernel in
# $KBUILD with a small kselftest collection of fake tests that pass,
# provoke a real WARNING, BUG or panic through lkdtm, hang or time out.
#
# Output: TAP, then "N passed, N failed".
set -u
. "$(dirname "$0")/../../scripts/lib.sh"

# The cases change BUILD; the kernel and its tree stay the real ones.
export TREE KBUILD
tmp=$BUILD/harness-test
n=0 passed=0 failed=0

# case DESCRIPTION FUNCTION: run one case; its output goes to a log.
case_() {
	local log

	n=$((n + 1))
	log=$tmp/case-$n.log
	if "$2" >"$log" 2>&1; then
		echo "ok $n $1"
		passed=$((passed + 1))
	else
		echo "not ok $n $1"
		sed 's/^/# /' "$log" | tail -n 15
		failed=$((failed + 1))
	fi
}

# expect_fail REGEX CMD...: CMD must exit non-zero and print REGEX.
expect_fail() {
	local re=$1 out=$tmp/out

	shift
	if "$@" >"$out" 2>&1; then
		echo "expected a failure, but it exited 0:"; cat "$out"; return 1
	fi
	grep -qE -- "$re" "$out" || { echo "no line matches /$re/ in:"; cat "$out"; return 1; }
	grep -E -- "$re" "$out"
}

# A tiny "kernel tree": a Makefile with the version and one KVM file.
fake_base() {
	local dir=$tmp/base-$1

	mkdir -p "$dir/virt/kvm"
	printf 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = %s\nEXTRAVERSION =\n' "$1" >"$dir/Makefile"
	printf 'line %s\n' $(seq 1 20) >"$dir/virt/kvm/kvm_main.c"
	echo "$dir"
}

# A one-patch series against fake_base, changing "line N" or, with
# "bad", a line that is not there.
fake_series() {
	local dir=$tmp/series-$1 g=$tmp/series-git

	rm -rf "$dir" "$g"
	mkdir -p "$dir"
	cp -r "$(fake_base 117)" "$g"
	git -C "$g" init -q && git -C "$g" add -A && git -C "$g" commit -qm base
	if [ "$1" = bad ]; then
		sed -i 's/^line 10$/line ten/' "$g/virt/kvm/kvm_main.c"
		git -C "$g" commit -qam tmp
		sed -i 's/^line ten$/line TEN/' "$g/virt/kvm/kvm_main.c"
		git -C "$g" commit -qam "KVM: change a line that the base does not have"
		git -C "$g" format-patch -q -1 -o "$dir"
	else
		sed -i 's/^line 10$/line ten/' "$g/virt/kvm/kvm_main.c"
		git -C "$g" commit -qam "KVM: change a line"
		git -C "$g" format-patch -q -1 -o "$dir"
	fi
	echo "$dir"
}

t_patch_does_not_apply() {
	rm -rf "$tmp/tree"
	BUILD=$tmp TREE=$tmp/tree SERIES=$(fake_series bad) KSRC=$(fake_base 117) expect_fail \
		'0001-KVM-change-a-line-that-the-base-does-not-have.patch does not apply.*hunk at virt/kvm/kvm_main.c:[0-9]+ is rejected' \
		"$TOP/scripts/tree.sh"
}

t_base_version_differs() {
	rm -rf "$tmp/tree"
	BUILD=$tmp TREE=$tmp/tree SERIES=$(fake_series good) KSRC=$(fake_base 1) \
		"$TOP/scripts/tree.sh" >"$tmp/out" 2>&1 ||
		{ cat "$tmp/out"; return 1; }
	grep -E 'base is Linux 6.12.1 but the series was made on 6.12.117' "$tmp/out" &&
	grep -q 'line ten' "$tmp/tree/virt/kvm/kvm_main.c"
}

t_no_base() {
	rm -rf "$tmp/tree"
	BUILD=$tmp TREE=$tmp/tree KSRC=/nonexistent expect_fail \
		'no base source at KSRC=/nonexistent.*apt-get install linux-source-6.12' "$TOP/scripts/tree.sh"
}

t_kernel_build_fails() {
	local t=$tmp/broken-tree

	mkdir -p "$t" "$tmp/kb"
	printf 'bzImage:\n\t@echo "init/main.c:1:1: error: broken on purpose" >&2; exit 2\n' >"$t/Makefile"
	TREE=$t KBUILD=$tmp/kb expect_fail 'the kernel build failed; full log' "$TOP/scripts/kernel.sh" build
}

t_qemu_missing() {
	local bin=$tmp/bin c

	mkdir -p "$bin"
	for c in bash dirname basename nproc cat; do ln -sf "$(command -v $c)" "$bin/$c"; done
	expect_fail 'qemu-system-x86_64 is missing' env PATH="$bin" "$TOP/scripts/vm.sh"
}

# A kselftest install with fake tests, and a plan for them.
fake_install() {
	local ksft=$tmp/ksft

	rm -rf "$ksft"
	mkdir -p "$ksft/kvm"
	cp -r "$BUILD/kselftest/run_kselftest.sh" "$BUILD/kselftest/kselftest" "$ksft/"
	echo 'timeout=120' >"$ksft/kvm/settings"
	printf '#!/bin/sh\necho "# all good"\n' >"$ksft/kvm/pass_test"
	printf '#!/bin/sh\necho WARNING >/sys/kernel/debug/provoke-crash/DIRECT\n' >"$ksft/kvm/warn_test"
	printf '#!/bin/sh\necho BUG >/sys/kernel/debug/provoke-crash/DIRECT\n' >"$ksft/kvm/bug_test"
	printf '#!/bin/sh\necho PANIC >/sys/kernel/debug/provoke-crash/DIRECT\n' >"$ksft/kvm/panic_test"
	printf '#!/bin/sh\necho HUNG_TASK >/sys/kernel/debug/provoke-crash/DIRECT\n' >"$ksft/kvm/hang_test"
	printf '#!/bin/sh\nsleep 60\n' >"$ksft/kvm/slow_test"
	chmod +x "$ksft"/kvm/*_test
	echo "$ksft"
}

# boot NAME PLAN-LINES...: pack the fake install with that plan, boot it
# without pmem, and report; the report's output is in $tmp/NAME/out.
boot() {
	local name=$1 b=$tmp/$1 ksft

	shift
	rm -rf "$b"
	mkdir -p "$b"
	printf '%s\n' "$@" >"$b/plan"
	ksft=$(fake_install)
	# The fake tests this case does not run go to its skip-list.
	(cd "$ksft/kvm" && ls) | grep -E '_test$' | while read -r t; do
		grep -qE "^$t( |\.|$)" "$b/plan" || echo "$t  not used by this case"
	done >"$b/skiplist"
	BUILD=$b KSFT_INSTALL=$ksft PLAN=$b/plan SKIPLIST=$b/skiplist T= \
		"$TOP/scripts/initramfs.sh" >"$b/out" 2>&1 || { cat "$b/out"; return 2; }
	BUILD=$b RESULTS=$b/results SKIPLIST=$b/skiplist PMEM=0 VM_TIMEOUT=${VM_TIMEOUT:-120} \
		"$TOP/scripts/run.sh" >>"$b/out" 2>&1
}

# expect_boot_fail NAME REGEX...: the boot must fail and print every REGEX.
expect_boot_fail() {
	local name=$1 re

	shift
	if [ -f "$tmp/$name/results/summary.txt" ] && [ -s "$tmp/$name/results/junit.xml" ]; then :; else
		echo "no summary.txt or junit.xml kept in $tmp/$name/results"; cat "$tmp/$name/out"; return 1
	fi
	for re in "$@"; do
		grep -qE -- "$re" "$tmp/$name/out" || { echo "no line matches /$re/:"; cat "$tmp/$name/out"; return 1; }
		grep -E -- "$re" "$tmp/$name/out"
	done
}

t_splats_and_timeout() {
	boot warn pass_test warn_test bug_test 'slow_test timeout=5' && { echo "the run passed"; return 1; }
	expect_boot_fail warn '^pass_test +PASS' '^warn_test +FAIL \(pass, kernel splat: .*WARNING:' \
		'^bug_test +FAIL \(.*kernel splat: .*kernel BUG at' '^slow_test +TIMEOUT' '^1 passed, 3 failed'
}

# A KASAN report needs a KASAN kernel (make check-debug), so this case
# replays one, in the format the guest's serial log has, through report.py.
t_kasan_report() {
	local r=$tmp/kasan/results

	mkdir -p "$r"
	echo 'kvm-dax:pass_test' >"$tmp/kasan/list"
	cat >"$r/serial.log" <<-EOL
	[    5.100000] kvm-dax: status=running
	[    5.200000] kvm-dax: TAP version 13
	[    5.200001] kvm-dax: 1..1
	[    5.300000] kvm-dax: # selftests: kvm-dax: pass_test
	[    5.400000] ==================================================================
	[    5.400001] BUG: KASAN: slab-use-after-free in kvm_vcpu_unmap+0x2c/0x90 [kvm]
	[    5.400002] Read of size 8 at addr ffff888104c3a000 by task pass_test/211
	[    5.500000] kvm-dax: ok 1 selftests: kvm-dax: pass_test
	[    5.600000] kvm-dax: status=done
	EOL
	"$TOP/scripts/report.py" --results "$r" --tree "$TREE" --planned "$tmp/kasan/list" \
		--skiplist /dev/null --expect-pmem 0 >"$tmp/kasan/out" 2>&1 && { echo "the report passed"; return 1; }
	grep -E '^pass_test +FAIL \(pass, kernel splat: .*BUG: KASAN: slab-use-after-free' "$tmp/kasan/out" ||
		{ cat "$tmp/kasan/out"; return 1; }
}

t_guest_panic() {
	boot panic pass_test panic_test pass_test.after && { echo "the run passed"; return 1; }
	expect_boot_fail panic 'error: the guest panicked during panic_test' '^pass_test +PASS' \
		'^pass_test.after +NOT RUN'
}

t_guest_hang() {
	VM_TIMEOUT=45 boot hang pass_test hang_test && { echo "the run passed"; return 1; }
	expect_boot_fail hang 'error: the guest hung \(the watchdog stopped it\) during hang_test' '^pass_test +PASS'
}

t_no_pmem_dax_skips() {
	local b=$tmp/nopmem ksft=$BUILD/kselftest

	grep -q '^dax_' "$PLAN" || { echo "no DAX test in the plan yet"; return 1; }
	rm -rf "$b"
	BUILD=$b KSFT_INSTALL=$ksft T='dax_' "$TOP/scripts/initramfs.sh" >"$b.out" 2>&1 &&
	BUILD=$b RESULTS=$b/results PMEM=0 VM_TIMEOUT=300 "$TOP/scripts/run.sh" >>"$b.out" 2>&1 ||
		{ cat "$b.out"; return 1; }
	grep -E '^dax_.* SKIP' "$b.out" && ! grep -E '^dax_.* (PASS|FAIL)' "$b.out" &&
	grep -q 'pmem' "$b"/results/tests/dax_*.log
}

main() {
	rm -rf "$tmp"
	mkdir -p "$tmp"
	echo "TAP version 13"
	case_ "a patch that does not apply is named with its hunk" t_patch_does_not_apply
	case_ "a base of another version is reported and used" t_base_version_differs
	case_ "a missing base says how to install it" t_no_base
	case_ "a kernel build failure is reported with its log" t_kernel_build_fails
	case_ "a missing QEMU says how to install it" t_qemu_missing
	case_ "a WARNING, a BUG and a timeout fail their tests" t_splats_and_timeout
	case_ "a KASAN report fails its test" t_kasan_report
	case_ "a guest panic names the test and keeps the results" t_guest_panic
	case_ "a guest hang is stopped by the watchdog and named" t_guest_hang
	case_ "DAX tests skip on a guest without pmem" t_no_pmem_dax_skips
	echo "1..$n"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

main "$@"
