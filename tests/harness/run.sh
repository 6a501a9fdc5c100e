#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - the harness's own tests.  Each case makes the harness fail in
# one way and checks that it says so in one clear line and exits non-zero,
# keeping what it had.  The cases that boot a guest use the real kernel in
# $KBUILD with a small kselftest collection of fake tests that pass,
# provoke a real WARNING, BUG or panic through lkdtm, hang or time out.
# The report's cases replay recorded serial logs (fixtures/) without a VM;
# the tree's cases use a fake kernel tree whose "builds" take no time, or
# a minute when they are to be interrupted.
#
# Output: KTAP, then "N passed, N failed, N skipped".
set -u
. "$(dirname "$0")/../../scripts/lib.sh"

# The cases change BUILD; the kernel and its tree stay the real ones.
export TREE KBUILD
tmp=$BUILD/harness-test
fixtures=$(dirname "$0")/fixtures

# case DESCRIPTION FUNCTION: run one case; its output goes to a log.
case_() {
	local log=$tmp/case-$((ktap_n + 1)).log t0=$SECONDS

	if "$2" >"$log" 2>&1; then
		ktap pass "$1"
	else
		ktap fail "$1" "$(tail -n 15 "$log")"
	fi
	say "$1: $((SECONDS - t0)) s; log: $log"
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

# The base's SUBLEVEL as base.conf records it: a fake base of that version
# is the base the series was made on.
base_sublevel=$(sed -n 's/^version=6\.12\.//p' "$TOP/base.conf")

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
	cp -r "$(fake_base "$base_sublevel")" "$g"
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
	BUILD=$tmp TREE=$tmp/tree SERIES=$(fake_series bad) KSRC=$(fake_base "$base_sublevel") expect_fail \
		'0001-KVM-change-a-line-that-the-base-does-not-have.patch does not apply.*hunk at virt/kvm/kvm_main.c:[0-9]+ is rejected' \
		"$TOP/scripts/tree.sh"
}

t_base_version_differs() {
	rm -rf "$tmp/tree"
	BUILD=$tmp TREE=$tmp/tree SERIES=$(fake_series good) KSRC=$(fake_base 1) \
		"$TOP/scripts/tree.sh" >"$tmp/out" 2>&1 ||
		{ cat "$tmp/out"; return 1; }
	grep -E "base is Linux 6.12.1 but the series was made on 6.12.$base_sublevel" "$tmp/out" &&
	grep -q 'line ten' "$tmp/tree/virt/kvm/kvm_main.c"
}

t_no_base() {
	rm -rf "$tmp/tree"
	BUILD=$tmp TREE=$tmp/tree KSRC=/nonexistent expect_fail \
		'no base source at KSRC=/nonexistent.*apt-get install linux-source-6.12' "$TOP/scripts/tree.sh"
}

# A fake kernel tree, a git tree tagged "base" with one commit on master,
# for the steps that walk or patch build/linux.  Its "builds" succeed at
# once, or take a minute when the file SLOW is in the checked-out tree (the
# commit adds it, and FAST is unset), so that a case can interrupt one once
# $O/building appears; coccicheck fails.  With W=1, the build of the
# commit's kvm_main.c warns as gcc's -Wmissing-prototypes does.
fake_tree() {
	local t=$tmp/ftree

	rm -rf "$t" "$tmp/fkb"
	mkdir -p "$t/virt/kvm" "$t/tools/testing/selftests/kvm" "$t/scripts/kconfig" "$tmp/fkb"
	printf 'VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = %s\nEXTRAVERSION =\n' "$base_sublevel" >"$t/Makefile"
	printf 'arch/x86/kvm/ bzImage headers:\n\t@if [ -f SLOW ] && [ -z "$$FAST" ]; then touch $(O)/building; sleep 60; fi\n' >>"$t/Makefile"
	printf '\t@if [ "$(W)" = 1 ] && grep -q "line ten" virt/kvm/kvm_main.c; then echo "virt/kvm/kvm_main.c:10:1: warning: no previous prototype for probe [-Wmissing-prototypes]"; fi\n' >>"$t/Makefile"
	printf 'coccicheck:\n\t@echo "spatch: broken on purpose" >&2; exit 2\n' >>"$t/Makefile"
	printf '%%config:\n\t@touch $(O)/.config\n' >>"$t/Makefile"
	mkdir -p "$t/kernel/configs"
	: >"$t/tools/testing/selftests/kvm/config"
	: >"$t/kernel/configs/kvm_guest.config"
	# merge_config.sh [-m|-n] -O DIR FRAGMENT...: every option as asked.
	cat >"$t/scripts/kconfig/merge_config.sh" <<-'EOS'
	#!/bin/sh
	while [ "${1#-}" != "$1" ]; do [ "$1" = -O ] && { out=$2; shift; }; shift; done
	cat "$@" >"$out/.config.new" && mv "$out/.config.new" "$out/.config"
	EOS
	chmod +x "$t/scripts/kconfig/merge_config.sh"
	printf 'line %s\n' $(seq 1 20) >"$t/virt/kvm/kvm_main.c"
	# The report parses KTAP with the tree's kunit_parser.
	cp -r "$TREE/tools/testing/kunit" "$t/tools/testing/"
	(
		cd "$t" && git init -q -b master && git add -A && git commit -qm base && git tag base &&
		sed -i 's/^line 10$/line ten/' virt/kvm/kvm_main.c && touch SLOW &&
		git add -A && git commit -qm "KVM: change a line"
	) || return 1
	cp "$TOP/config/guest.config" "$tmp/fkb/.config" 2>/dev/null || : >"$tmp/fkb/.config"
	echo "$t"
}

# The diff that changes the fake base's "line 2" of kvm_main.c.
fake_diff() {
	cat <<-EOP
	--- a/virt/kvm/kvm_main.c
	+++ b/virt/kvm/kvm_main.c
	@@ -1,3 +1,3 @@
	 line 1
	-line 2
	+line two
	 line 3
	EOP
}

# fake_mutant [CATCHER]: a mutant of the fake tree's kvm_main.c.
fake_mutant() {
	rm -rf "$tmp/fmutants"
	mkdir -p "$tmp/fmutants"
	{
		printf 'Recreates: nothing; a harness test\nCaught-by: %s\n' "${1:-pass_test}"
		fake_diff
	} >"$tmp/fmutants/01-fake.patch"
	echo "$tmp/fmutants"
}

# interrupt_when COND CMD...: run CMD in a process group of its own, wait
# (at most 2 min) until COND succeeds, then send SIGINT to the group, as
# Ctrl-C on a terminal does, and wait for CMD to end.  CMD's output is in
# $tmp/int.out.
interrupt_when() {
	local cond=$1 pid i

	shift
	set -m
	"$@" >"$tmp/int.out" 2>&1 &
	pid=$!
	set +m
	for i in $(seq 240); do
		eval "$cond" && break
		kill -0 "$pid" 2>/dev/null || { echo "it ended before the interrupt:"; cat "$tmp/int.out"; return 1; }
		sleep 0.5
	done
	for i in 1 2; do
		kill -INT -- -"$pid" 2>/dev/null
		timeout 15 tail --pid="$pid" -f /dev/null && break
		# A Ctrl-C that lands between two commands of a script waits
		# for the next one to end; a user would press it again.
		echo "still running 15 s after SIGINT $i:"
		ps -o pid,stat,args -g "$pid"
	done
	kill -0 "$pid" 2>/dev/null && { echo "killing it"; kill -KILL -- -"$pid"; }
	wait "$pid"
	echo "exit status $? after SIGINT; its output:"
	cat "$tmp/int.out"
}

tree_is_back() {
	local t=$1

	[ "$(git -C "$t" symbolic-ref -q --short HEAD)" = master ] ||
		{ echo "the tree was left at $(git -C "$t" log -1 --format='%h %s') (detached)"; return 1; }
	[ -z "$(git -C "$t" status --porcelain --untracked-files=no)" ] ||
		{ echo "the tree was left with edits:"; git -C "$t" status --short; return 1; }
	echo "the tree is back on master, clean"
}

# Fail-open 1: a bisect walk interrupted while it builds a detached commit.
t_gate_interrupted() {
	local t

	t=$(fake_tree) || return 1
	interrupt_when "[ -f '$tmp/fkb/building' ]" \
		env TREE="$t" KBUILD="$tmp/fkb" BUILD="$tmp/fb" "$TOP/scripts/gates.sh" bisect_sparse || return 1
	tree_is_back "$t"
}

# Fail-open 1: a mutant run interrupted while the mutant kernel builds.
t_mutant_interrupted() {
	local t m

	t=$(fake_tree) || return 1
	m=$(fake_mutant)
	interrupt_when "[ -f '$tmp/fkb/building' ]" \
		env TREE="$t" KBUILD="$tmp/fkb" BUILD="$tmp/fb" MUTANTS_DIR="$m" INITRD=/dev/null \
		"$TOP/scripts/mutants.sh" || return 1
	tree_is_back "$t" || return 1
	# The mutant kernel it may have built is not tested by mistake.
	TREE=$t KBUILD=$tmp/fkb BUILD=$tmp/fb expect_fail \
		"kernel in $tmp/fkb was built with .*01-fake.patch applied .*'make kernel'" "$TOP/scripts/run.sh"
}

# Fail-open 4: a mutant that makes the wrong test fail is not killed, and
# neither is one whose Caught-by: test fails only through the kernel-log
# scan.  The "mutant kernel" is the real one; the plan has a test that
# fails (a BUG), one that passes but WARNs, and the Caught-by: tests are
# the WARNing one (01) and another (02).
t_mutant_wrong_catcher() {
	local t m b=$tmp/catcher

	t=$(fake_tree) || return 1
	m=$(fake_mutant warn_test)
	# A second mutant: each must be reverted before the next is applied,
	# and the tree must be clean at the end.
	sed -e 's/^-line 2$/-line 5/; s/^+line two$/+line five/; s/^ line 1$/ line 4/; s/^ line 3$/ line 6/' \
		-e 's/^@@ -1,3 +1,3 @@$/@@ -4,3 +4,3 @@/' -e 's/^Caught-by: .*/Caught-by: pass_test/' \
		"$m/01-fake.patch" >"$m/02-fake.patch"
	pack catcher pass_test warn_test bug_test || return 1
	expect_fail '^# caught by the wrong test .*pass_test did not fail; only warn_test bug_test did' \
		env FAST=1 TREE="$t" KBUILD="$tmp/fkb" BUILD="$tmp/fb" MUTANTS_DIR="$m" \
		INITRD="$b/initramfs.cpio" KERNEL="$KBUILD/arch/x86/boot/bzImage" \
		PMEM=0 VM_TIMEOUT=120 "$TOP/scripts/mutants.sh" || return 1
	grep -E '^# caught only by the kernel-log scan .*warn_test passed by itself' "$tmp/out" &&
	grep -x 'not ok 1 01-fake' "$tmp/out" && grep -x 'not ok 2 02-fake' "$tmp/out" &&
		tree_is_back "$t"
}

# Fail-open 1, second line of defence: what an interrupt could still leave
# (SIGKILL) is refused by tree.sh, which says what to do.
t_tree_refuses_wrong_tree() {
	local t

	t=$(fake_tree) || return 1
	git -C "$t" checkout -q --detach base
	BUILD=$tmp/fb TREE=$t SERIES=$(fake_series good) expect_fail \
		"detached HEAD.*run 'git -C $t checkout master'" "$TOP/scripts/tree.sh" || return 1
	git -C "$t" checkout -q master
	echo "line two" >>"$t/virt/kvm/kvm_main.c"
	BUILD=$tmp/fb TREE=$t SERIES=$(fake_series good) expect_fail \
		"uncommitted edits and would be tested as it is" "$TOP/scripts/tree.sh"
}

# Commits that were never exported survive a change of series/.
t_tree_backs_up_commits() {
	local t=$tmp/tree br

	rm -rf "$t"
	BUILD=$tmp TREE=$t SERIES=$(fake_series good) KSRC=$(fake_base "$base_sublevel") \
		"$TOP/scripts/tree.sh" >"$tmp/out" 2>&1 || { cat "$tmp/out"; return 1; }
	echo "line 21" >>"$t/virt/kvm/kvm_main.c"
	git -C "$t" commit -qam "KVM: work in progress"
	BUILD=$tmp TREE=$t SERIES=$(fake_series bad) KSRC=$(fake_base "$base_sublevel") \
		"$TOP/scripts/tree.sh" >"$tmp/out" 2>&1
	grep -E 'saved 2 commits .* on branch backup/' "$tmp/out" || { cat "$tmp/out"; return 1; }
	br=$(sed -n 's/.* on branch \(backup\/[^ ]*\) .*/\1/p' "$tmp/out")
	git -C "$t" log -1 --format=%s "$br" | grep -x "KVM: work in progress"
}

# Fail-open 4: a gate whose tool fails, and a gate that does not exist.
t_gate_tool_fails() {
	local t

	t=$(fake_tree) || return 1
	TREE=$t KBUILD=$tmp/fkb BUILD=$tmp/fb expect_fail \
		'make coccicheck failed; see' "$TOP/scripts/gates.sh" coccicheck || return 1
	grep -x 'not ok 1 coccicheck' "$tmp/out" || return 1
	TREE=$t KBUILD=$tmp/fkb BUILD=$tmp/fb expect_fail \
		"unknown gate 'cocci' \(known: checkpatch bisect_sparse cross coccicheck\)" "$TOP/scripts/gates.sh" cocci
}

# A patch whose changelog cites a commit as REF ("KVM: title").
cp_patch() {
	cat <<-EOF
	From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
	From: A U Thor <author@example.org>
	Date: Mon, 7 Dec 2026 00:00:00 +0000
	Subject: [PATCH] KVM: Reword a line

	Reword a line, as $1 ("KVM: MMU: Do not treat ZONE_DEVICE
	pages as being reserved") did.

	Signed-off-by: A U Thor <author@example.org>
	---
	 virt/kvm/kvm_main.c | 2 +-
	 1 file changed, 1 insertion(+), 1 deletion(-)

	diff --git a/virt/kvm/kvm_main.c b/virt/kvm/kvm_main.c
	index 1111111..2222222 100644
	EOF
	fake_diff
	printf -- '--\n2.39.5\n'
}

# The checkpatch gate checks a changelog's commit references as a kernel
# tree with history would, although neither this repository nor the base
# has history: a bare sha1 fails (GIT_COMMIT_ID), and so does 'commit
# <sha1>', which no history can confirm (UNKNOWN_COMMIT_ID); the title
# alone passes.
t_checkpatch_commit_ref() {
	local s=$tmp/cpseries ref re log=$tmp/cplogs/checkpatch-0001-KVM-Reword-a-line.patch.log

	[ -x "$TREE/scripts/checkpatch.pl" ] || { echo "no $TREE/scripts/checkpatch.pl: run 'make tree'"; return 1; }
	rm -rf "$s" && mkdir -p "$s"
	for ref in "a78986aae9b2:git commit description style" "commit a78986aae9b2:Unknown commit id"; do
		re=${ref#*:} ref=${ref%%:*}
		cp_patch "$ref" >"$s/0001-KVM-Reword-a-line.patch"
		SERIES=$s GATES_LOGS=$tmp/cplogs expect_fail 'not clean: 0001-KVM-Reword-a-line.patch' \
			"$TOP/scripts/gates.sh" checkpatch || return 1
		grep "$re" "$log" || { cat "$log"; return 1; }
	done
	cp_patch "the fix" >"$s/0001-KVM-Reword-a-line.patch"
	SERIES=$s GATES_LOGS=$tmp/cplogs "$TOP/scripts/gates.sh" checkpatch >"$tmp/out" 2>&1 ||
		{ cat "$tmp/out" "$log"; return 1; }
}

# A warning that only the series' HEAD has, from gcc's W=1 (or sparse,
# whose reports land in the same log), fails the sparse gate, naming it.
t_gate_new_warning() {
	local t

	t=$(fake_tree) || return 1
	FAST=1 TREE=$t KBUILD=$tmp/fkb BUILD=$tmp/fb expect_fail \
		'new warnings against the base: virt/kvm/kvm_main.c: warning: no previous prototype for probe' \
		"$TOP/scripts/gates.sh" bisect_sparse || return 1
	grep -x 'ok 1 bisect' "$tmp/out" && grep -x 'not ok 2 sparse' "$tmp/out"
}

# Fail-open 4: make check counts every step's exit status.  A gate step
# that prints "2 passed, 0 failed" but exits 1 (a gate that did not run)
# and a counted step that prints no result line are failures, in the
# foreground or in the background (step_bg, as the arm64 build runs).
t_check_counts_status() {
	(
		steps_begin "$tmp/steps"
		step -c gates sh -c 'echo "ok 1 checkpatch"; echo "2 passed, 0 failed, 0 skipped"; exit 1'
		step_bg -c bg sh -c 'echo "1 passed, 0 failed, 0 skipped"; exit 3'
		step_bg -c bgsilent true
		step -c silent true
		step build true
		step_skipped run "the build failed"
		step_wait bg
		step_wait bgsilent
		steps_end
	) >"$tmp/out" 2>&1 && { cat "$tmp/out"; echo "the steps passed"; return 1; }
	cat "$tmp/out"
	grep -E '^gates +FAIL +[0-9]+m[0-9]+s  2 passed, 0 failed, 0 skipped$' "$tmp/out" &&
	grep -E '^bg +FAIL +[0-9]+m[0-9]+s  1 passed, 0 failed, 0 skipped$' "$tmp/out" &&
	grep -E '^silent +FAIL ' "$tmp/out" && grep -E '^bgsilent +FAIL ' "$tmp/out" &&
	grep -E '^build +pass ' "$tmp/out" &&
	grep -E '^run +skip +- +the build failed$' "$tmp/out" &&
	[ "$(tail -1 "$tmp/out")" = "3 passed, 4 failed, 0 skipped" ]
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

# pack NAME PLAN-LINES...: pack the fake install with that plan into
# $tmp/NAME/initramfs.cpio.
pack() {
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
}

# boot NAME PLAN-LINES...: pack, boot without pmem, and report; the
# report's output is in $tmp/NAME/out.
boot() {
	local b=$tmp/$1

	pack "$@" || return 2
	BUILD=$b RESULTS=$b/results PMEM=0 VM_TIMEOUT=${VM_TIMEOUT:-120} \
		"$TOP/scripts/run.sh" >>"$b/out" 2>&1
}

# Fail-open 3, in a real guest: the host gives it pmem regions but the
# kernel does not bind them (the e820 pmem driver is kept from starting),
# so no namespace appears; every test passes, and the run must fail.
t_vm_no_pmem() {
	local b=$tmp/lostpmem

	pack lostpmem pass_test || return 1
	BUILD=$b RESULTS=$b/results PMEM=1 VM_TIMEOUT=120 \
		APPEND=initcall_blacklist=e820_pmem_driver_init \
		expect_fail 'error: the plan expects pmem but the guest said: pmem: none' "$TOP/scripts/run.sh"
}

# Fail-open 2: Ctrl-C while the guest runs a test must stop QEMU at once.
t_vm_interrupted() {
	local b=$tmp/ctrlc pids

	pack ctrlc 'slow_test timeout=100' || return 1
	interrupt_when "grep -q 'selftests: kvm-dax: slow_test' '$b/results/serial.log' 2>/dev/null" \
		env BUILD="$b" RESULTS="$b/results" PMEM=0 "$TOP/scripts/run.sh"
	sleep 2
	pids=$(pgrep -f -- "file:$b/results/serial.log" | paste -sd ' ')
	[ -n "$pids" ] || { echo "QEMU stopped"; return 0; }
	echo "QEMU (pids $pids, with its timeout) still runs after Ctrl-C; stopping it"
	# shellcheck disable=SC2086  # the pids of this case's own QEMU
	kill $pids
	return 1
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

# replay NAME EXPECT-PMEM: run report.py on fixtures/NAME.serial; its
# output is in $tmp/NAME/out and its exit status is returned.
replay() {
	local r=$tmp/$1/results

	rm -rf "$tmp/$1"
	mkdir -p "$r"
	cp "$fixtures/$1.serial" "$r/serial.log"
	"$TOP/scripts/report.py" --prefix "$TAP_PREFIX" --results "$r" --tree "$TREE" --planned "$fixtures/$1.planned" \
		--skiplist /dev/null --expect-pmem "$2" --describe fixture >"$tmp/$1/out" 2>&1
}

t_report_clean() {
	replay clean 1 || { cat "$tmp/clean/out"; return 1; }
	grep -E '^2 passed, 0 failed, 1 skipped$' "$tmp/clean/out" &&
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["passed"] == 2 and r["tree"] == "fixture", r' \
		"$tmp/clean/results/results.json" &&
	[ -z "$("$TOP/scripts/report.py" --failed "$tmp/clean/results")" ]
}

# A KASAN report needs a KASAN kernel (make check-debug), so this case
# replays one, in the format the guest's serial log has, through report.py.
t_kasan_report() {
	replay kasan 0 && { echo "the report passed"; return 1; }
	grep -E '^pass_test +FAIL \(pass, kernel splat: .*BUG: KASAN: slab-use-after-free' "$tmp/kasan/out" &&
	"$TOP/scripts/report.py" --failed "$tmp/kasan/results" | grep '^pass_test kernel splat: .*KASAN' ||
		{ cat "$tmp/kasan/out"; return 1; }
}

# Fail-open 3: the guest found no pmem, every DAX test skipped.
t_report_no_pmem() {
	replay no-pmem 1 && { cat "$tmp/no-pmem/out"; echo "the report passed"; return 1; }
	grep -E 'error: the plan expects pmem but the guest said: pmem: none' "$tmp/no-pmem/out" &&
	grep -E '^0 passed, 1 failed, 3 skipped$' "$tmp/no-pmem/out" ||
		{ cat "$tmp/no-pmem/out"; return 1; }
}

t_report_boot_splat() {
	replay boot-splat 1 && { echo "the report passed"; return 1; }
	grep -E 'error: kernel splat \(outside any test\): .*WARNING:' "$tmp/boot-splat/out" ||
		{ cat "$tmp/boot-splat/out"; return 1; }
}

# A recorded console: the DAX tests on pmem.
t_report_recorded_dax() {
	replay dax 1 || { cat "$tmp/dax/out"; return 1; }
	grep -E '^pmem: fsdax=/mnt/dax devdax=/dev/dax1.0$' "$tmp/dax/out" &&
	grep -E '^dax_fault_test.devdax +PASS$' "$tmp/dax/out" &&
	grep -E '^2 passed, 0 failed, 0 skipped$' "$tmp/dax/out"
}

# The same console from a guest that had the third pmem region (x86) and
# could not make it a devdax namespace at 1G alignment: the run fails.
t_report_pmem_1g_failed() {
	local r=$tmp/pmem1g/results

	rm -rf "$tmp/pmem1g"
	mkdir -p "$r"
	sed 's|^\(.*\)pmem: fsdax=/mnt/dax devdax=/dev/dax1.0\(\r*\)$|&\n\1pmem: devdax1g set-up failed\2|' \
		"$fixtures/dax.serial" >"$r/serial.log"
	"$TOP/scripts/report.py" --prefix "$TAP_PREFIX" --results "$r" --tree "$TREE" \
		--planned "$fixtures/dax.planned" --skiplist /dev/null --expect-pmem 1 \
		--describe fixture >"$tmp/pmem1g/out" 2>&1 &&
		{ cat "$tmp/pmem1g/out"; echo "the report passed"; return 1; }
	grep -E 'error: the guest could not set up the devdax namespace at 1G alignment' "$tmp/pmem1g/out" &&
	grep -E '^2 passed, 1 failed, 0 skipped$' "$tmp/pmem1g/out" ||
		{ cat "$tmp/pmem1g/out"; return 1; }
}

# A recorded console: real lkdtm splats and a timeout.
t_report_recorded() {
	replay lkdtm 0 && { echo "the report passed"; return 1; }
	grep -E '^warn_test +FAIL \(pass, kernel splat: WARNING: .*lkdtm_WARNING' "$tmp/lkdtm/out" &&
	grep -E '^bug_test +FAIL \(fail, kernel splat: kernel BUG at' "$tmp/lkdtm/out" &&
	grep -E '^slow_test +TIMEOUT' "$tmp/lkdtm/out" &&
	grep -E '^1 passed, 3 failed, 0 skipped$' "$tmp/lkdtm/out" ||
		{ cat "$tmp/lkdtm/out"; return 1; }
}

# An arm64 console: the lane's real run with a real arm64 WARNING spliced in.
t_report_arm64() {
	replay arm64 1 && { echo "the report passed"; return 1; }
	grep -E '^dax_exec_test.fsdax +PASS$' "$tmp/arm64/out" &&
	grep -E '^dax_exec_test.devdax +FAIL \(pass, kernel splat: WARNING: .*dax_disassociate_entry' "$tmp/arm64/out" &&
	grep -E '^1 passed, 1 failed, 0 skipped$' "$tmp/arm64/out" ||
		{ cat "$tmp/arm64/out"; return 1; }
}

t_report_old_parser() {
	mkdir -p "$tmp/old-tree/tools/testing/kunit"
	echo 'def parse_run_tests(lines): pass' >"$tmp/old-tree/tools/testing/kunit/kunit_parser.py"
	TREE=$tmp/old-tree replay clean 1 && { echo "the report passed"; return 1; }
	grep -E 'cannot use the KTAP parser in .*old-tree.*Linux 6.12' "$tmp/clean/out" ||
		{ cat "$tmp/clean/out"; return 1; }
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
	ktap_begin
	case_ "a patch that does not apply is named with its hunk" t_patch_does_not_apply
	case_ "a base of another version is reported and used" t_base_version_differs
	case_ "a missing base says how to install it" t_no_base
	case_ "unexported commits are saved on a branch before a reset" t_tree_backs_up_commits
	case_ "a detached or edited tree is refused" t_tree_refuses_wrong_tree
	case_ "an interrupted bisect walk puts the tree back" t_gate_interrupted
	case_ "an interrupted mutant run puts the tree back, its kernel is refused" t_mutant_interrupted
	case_ "a gate whose tool fails fails; an unknown gate is an error" t_gate_tool_fails
	case_ "checkpatch checks a changelog's commit references without history" t_checkpatch_commit_ref
	case_ "a new W=1 or sparse warning fails the sparse gate" t_gate_new_warning
	case_ "make check counts a step that fails without saying so" t_check_counts_status
	case_ "a kernel build failure is reported with its log" t_kernel_build_fails
	case_ "a missing QEMU says how to install it" t_qemu_missing
	case_ "the report of a clean run passes and writes results.json" t_report_clean
	case_ "a KASAN report fails its test" t_kasan_report
	case_ "a guest without pmem fails a plan that expects it" t_report_no_pmem
	case_ "a splat outside any test fails the run" t_report_boot_splat
	case_ "a recorded console with real splats and a timeout" t_report_recorded
	case_ "a recorded DAX run on pmem passes" t_report_recorded_dax
	case_ "a guest that could not set up devdax at 1G alignment fails the run" t_report_pmem_1g_failed
	case_ "an arm64 WARNING fails its test" t_report_arm64
	case_ "a kunit_parser of another interface is a clear error" t_report_old_parser
	if [ -f "$KBUILD/arch/x86/boot/bzImage" ] && [ -f "$BUILD/kselftest/run_kselftest.sh" ]; then
		case_ "Ctrl-C during the VM run stops QEMU" t_vm_interrupted
		case_ "a guest whose pmem does not appear fails the run" t_vm_no_pmem
		case_ "a mutant that the Caught-by: test misses, or catches only by its splat, is not killed; each is reverted" t_mutant_wrong_catcher
		case_ "a WARNING, a BUG and a timeout fail their tests" t_splats_and_timeout
		case_ "a guest panic names the test and keeps the results" t_guest_panic
		case_ "a guest hang is stopped by the watchdog and named" t_guest_hang
		case_ "DAX tests skip on a guest without pmem" t_no_pmem_dax_skips
	else
		# Fail closed: without a kernel these cases count as failures.
		ktap fail "the cases that boot a guest" "no kernel or selftests in $KBUILD, $BUILD/kselftest; run 'make kernel selftests'"
	fi
	ktap_end
}

main "$@"
