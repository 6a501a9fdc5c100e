# SPDX-License-Identifier: GPL-2.0
#
# Shared definitions for the kvm-dax harness scripts: paths (all overridable
# from the environment, as the Makefile passes them), messages and the
# optional ccache wrapper.  Sourced, never run.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
TREE=${TREE:-$BUILD/linux}

# The guest's architecture: x86_64 (the default) or arm64, cross-built with
# CROSS_COMPILE=aarch64-linux-gnu- ("make run ARCH=arm64").  Each lane has
# its own kernel build, selftests, initramfs, results, plan and skip-list:
# the x86_64 lane's directly under $BUILD, the arm64 lane's under
# $BUILD/arm64 (where the gates also build arm64's KVM code).
ARCH=${ARCH:-x86_64}
[ "$ARCH" != x86 ] || ARCH=x86_64
case $ARCH in
x86_64) KIMAGE=bzImage CROSS_COMPILE=${CROSS_COMPILE:-} ARCH_SUFFIX= ;;
arm64) KIMAGE=Image CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-} ARCH_SUFFIX=.arm64 ;;
*) echo "$(basename "$0"): error: ARCH=$ARCH: the lanes are x86_64 and arm64" >&2; exit 1 ;;
esac
# arch_dir DIR: where the lane keeps its files under DIR (DIR/arm64).
arch_dir() {
	echo "$1${ARCH_SUFFIX/./\/}"
}
ARCH_BUILD=$(arch_dir "$BUILD")
# pack_plan DIR T: an initramfs of this lane's selftests with the plan
# entries whose names match T, in $(arch_dir DIR)/initramfs.cpio.  PLAN and
# SKIPLIST in the caller's environment replace the lane's own.
pack_plan() {
	KSFT_INSTALL=$ARCH_BUILD/kselftest BUILD=$1 T=$2 "$TOP/scripts/initramfs.sh"
}
# Kbuild and the kselftest Makefiles take both from the environment; the
# x86_64 lane's builds stay native, as they were before the arm64 lane.
[ "$ARCH" = x86_64 ] || export ARCH CROSS_COMPILE
KBUILD=${KBUILD:-$ARCH_BUILD/kbuild}
SELFTESTS_TREE=${SELFTESTS_TREE:-$TREE}
RESULTS=${RESULTS:-$ARCH_BUILD/results}
SERIES=${SERIES:-$TOP/series}
# The guest's kernel and initramfs (vm.sh boots them, run.sh reads the
# plan packed beside the initramfs).
KERNEL=${KERNEL:-$KBUILD/arch/${ARCH/x86_64/x86}/boot/$KIMAGE}
INITRD=${INITRD:-$ARCH_BUILD/initramfs.cpio}
# The arm64 guest's userspace, unpacked from Debian's arm64 packages
# (initramfs.sh); exported, so that the mutants' and the harness tests'
# other BUILD reuse it.
GUEST_ROOT=${GUEST_ROOT:-$BUILD/arm64/root}
# Exported, so that a step run with another BUILD (the mutants', the harness
# tests') keeps the kernel tree and build directory it was given.
export TOP BUILD TREE KBUILD SELFTESTS_TREE RESULTS SERIES GUEST_ROOT
# The Debian package that provides the default base, and its tarball.
BASE_PKG=linux-source-6.12
KSRC=${KSRC:-/usr/src/linux-source-6.12.tar.xz}

PROG=${PROG:-$(basename "$0")}

# Messages go to stderr and name the step that printed them.
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# JOBS defaults to one more than the number of CPUs, as the kernel's
# documentation suggests for I/O overlap.
JOBS=${JOBS:-$(($(nproc) + 1))}

# Use ccache when it is installed; never require it.  With base_dir, paths
# under build/ are hashed relative to it, so that another clone of the repo
# (CI's) can reuse the objects.  The price: ccache hands gcc relative source
# paths, so __FILE__ in the kernel's own messages reads "../linux/fs/dax.c"
# instead of "fs/dax.c".
if command -v ccache >/dev/null 2>&1; then
	export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$BUILD}
	kcc() { echo "ccache ${CROSS_COMPILE}gcc"; }
else
	kcc() { echo "${CROSS_COMPILE}gcc"; }
fi

# The kernel version of a source tree, from its top-level Makefile.
tree_version() {
	awk -F' = ' '/^VERSION/{v=$2} /^PATCHLEVEL/{p=$2} /^SUBLEVEL/{s=$2}
		/^EXTRAVERSION/{e=$2; exit} END{print v "." p "." s e}' "$1/Makefile"
}

# The base version the series was made on (base.conf, key "version").
series_base_version() {
	sed -n 's/^version=//p' "$TOP/base.conf"
}

# The patches of series/, in order, without the cover letter.
series_patches() {
	find "$SERIES" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort
}

# What series/ held when the tree was last made from it or exported to it.
series_stamp() {
	series_patches | xargs -r cat | sha256sum | cut -d' ' -f1
}

series_stamp_file() {
	echo "$(git -C "$TREE" rev-parse --absolute-git-dir)/kvm-dax-series"
}

# Record that $TREE's HEAD and series/ agree (after tree.sh applied it or
# export.sh wrote it): the series' stamp, and HEAD in kvm-dax-head, so that
# commits made later read as unexported.
series_stamp_save() {
	series_stamp >"$(series_stamp_file)"
	git -C "$TREE" rev-parse HEAD >"$(dirname "$(series_stamp_file)")/kvm-dax-head"
}

# The HEAD recorded by series_stamp_save.
series_stamp_head() {
	cat "$(dirname "$(series_stamp_file)")/kvm-dax-head" 2>/dev/null || true
}

# The guest prints every line of its own through /dev/kmsg with this
# prefix (scripts/guest-init); report.py and bench.py take it back out.
TAP_PREFIX='kvm-dax: '

# The test plan and skip-list (tests/plan documents their format).
# The arm64 lane's are tests/plan.arm64 and tests/skiplist.arm64.
PLAN=${PLAN:-$TOP/tests/plan$ARCH_SUFFIX}
SKIPLIST=${SKIPLIST:-$TOP/tests/skiplist$ARCH_SUFFIX}

# --- build/linux: checks and the guard that puts it back -----------------

git_tree() { git -C "$TREE" "$@"; }

# require_clean_tree WHY: stop unless $TREE has no uncommitted edits to
# tracked files.  WHY says what the caller is about to do to the tree.
require_clean_tree() {
	[ -e "$TREE/.git" ] || die "no tree at $TREE; run 'make tree'"
	[ -z "$(git_tree status --porcelain --untracked-files=no)" ] ||
		die "$TREE has uncommitted edits and $1; commit them (or 'git -C $TREE checkout -f .' to drop them) and run again"
}

# The branch $TREE is on, or its commit when detached.
tree_ref() {
	git_tree symbolic-ref -q --short HEAD || git_tree rev-parse HEAD
}

# tree_guard WHY: for a step that checks out commits in $TREE or patches it
# in place.  The tree must be clean; it is put back on the branch (or
# commit) it was on, with every edit dropped, on every exit: normal, error,
# Ctrl-C (SIGINT) or SIGTERM.  The kernel is not rebuilt on an interrupt:
# the files put back are newer than the objects, so the next "make kernel"
# rebuilds them.
tree_guard() {
	require_clean_tree "$1"
	tree_guard_ref=$(tree_ref)
	trap tree_restore EXIT
	trap 'tree_restore; trap - INT; kill -INT $$' INT
	trap 'tree_restore; trap - TERM; kill -TERM $$' TERM
}

# The guard stays set, so a step may restore the tree several times (once
# per mutant) and the EXIT trap still restores it at the end.
tree_restore() {
	[ -n "${tree_guard_ref:-}" ] || return 0
	if git_tree checkout -q -f "$tree_guard_ref" && git_tree reset -q --hard; then
		:
	else
		say "error: could not put $TREE back on $tree_guard_ref; run 'git -C $TREE checkout -f $tree_guard_ref'"
	fi
}

# tree_patch_build DIFF [GIT-APPLY-FLAGS...]: apply DIFF to the guarded
# tree (-R reverts it) and rebuild the kernel incrementally; the build log
# is $KBUILD/build.log.  The caller puts the tree back with tree_restore.
# Until a clean build clears it (kernel_mark_clean: mutants.sh and bench.sh
# at their end, "make kernel"), $KBUILD/.kvm-dax-patched says which diff
# the kernel was built with, and run.sh refuses to test that kernel.
tree_patch_build() {
	local diff=$1

	shift
	git_tree apply "$@" "$diff" || return 2
	echo "$diff${*:+ ($*)}" >"$KBUILD/.kvm-dax-patched"
	"$TOP/scripts/kernel.sh" build
}

kernel_mark_clean() {
	rm -f "$KBUILD/.kvm-dax-patched"
}

# Stop unless the kernel in $KBUILD was built from the tree as it is
# (ALLOW_PATCHED_KERNEL=1: mutants.sh testing its own mutant).
require_clean_kernel() {
	[ -e "$KBUILD/.kvm-dax-patched" ] && [ "${ALLOW_PATCHED_KERNEL:-0}" != 1 ] || return 0
	die "the kernel in $KBUILD was built with $(cat "$KBUILD/.kvm-dax-patched") applied (an interrupted 'make mutants' or 'make bench'); rebuild it with 'make kernel'"
}

# What was built and tested: "git describe --dirty" of $TREE.
tree_describe() {
	git_tree describe --always --tags --dirty 2>/dev/null || echo unknown
}

# --- KTAP, the one results format of the gates, mutants and harness tests --
#
# ktap_begin; ktap pass|fail|skip NAME [DETAIL]...; ktap_end.  DETAIL is
# printed as a "# " diagnostic line before the result.  ktap_end prints the
# plan and the line "N passed, N failed, N skipped" that check.sh adds up,
# and returns non-zero when anything failed.
ktap_begin() {
	echo "TAP version 13"
	ktap_n=0 ktap_pass=0 ktap_fail=0 ktap_skip=0
}

ktap() {
	local res=$1 name=$2

	shift 2
	ktap_n=$((ktap_n + 1))
	[ $# = 0 ] || printf '# %s\n' "$@"
	case $res in
	pass) echo "ok $ktap_n $name"; ktap_pass=$((ktap_pass + 1)) ;;
	skip) echo "ok $ktap_n $name # SKIP"; ktap_skip=$((ktap_skip + 1)) ;;
	*) echo "not ok $ktap_n $name"; ktap_fail=$((ktap_fail + 1)) ;;
	esac
}

ktap_end() {
	echo "1..$ktap_n"
	echo "$ktap_pass passed, $ktap_fail failed, $ktap_skip skipped"
	[ "$ktap_fail" = 0 ]
}

# --- Steps: make check's bookkeeping ------------------------------------
#
# steps_begin DIR; step [-c] NAME CMD...; step_skipped NAME WHY; steps_end.
# A step's output goes to DIR/NAME.log and the terminal.  With -c the step
# must end with "N passed, N failed[, N skipped]", which is added up;
# without, it only has to succeed.  Fail closed: a step that exits non-zero
# without counting a failure, or a -c step without that line, counts one.
# steps_end prints a table of the steps (result, duration, counts), then
# the closing "N passed, N failed, N skipped", and fails if anything did.
#
# step_bg [-c] NAME CMD... starts a step in the background, its output only
# in its log; step_wait NAME waits for it, prints its log and counts it as
# step would have.  A background step must not touch what the steps run
# meanwhile use.
steps_begin() {
	steps_dir=$1 steps_t0=$SECONDS steps_passed=0 steps_failed=0 steps_skipped=0
	steps_table=()
	declare -gA steps_bg_pid=() steps_bg_t0=() steps_bg_counted=()
	mkdir -p "$steps_dir"
}

steps_row() {
	steps_table+=("$(printf '%-13s %-5s %8s  %s' "$@")")
}

steps_duration() {
	printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

# step_count COUNTED NAME RC T0 [T1]: add up the step's log, and record
# it as taking from T0 to T1 (now by default); returns RC.
step_count() {
	local counted=$1 name=$2 rc=$3 t0=$4 t1=${5:-$SECONDS} log=$steps_dir/$2.log line p=0 f=0 s=0

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
	steps_passed=$((steps_passed + p)) steps_failed=$((steps_failed + f))
	steps_skipped=$((steps_skipped + s))
	steps_row "$name" "$([ "$f" = 0 ] && echo pass || echo FAIL)" \
		"$(steps_duration $((t1 - t0)))" "${line:-exit status $rc}"
	return "$rc"
}

step() {
	local counted=0 name t0=$SECONDS

	[ "$1" != -c ] || { counted=1; shift; }
	name=$1
	shift
	say "== $name; log: $steps_dir/$name.log"
	"$@" 2>&1 | tee "$steps_dir/$name.log"
	step_count $counted "$name" "${PIPESTATUS[0]}" "$t0"
}

step_bg() {
	local counted=0 name

	[ "$1" != -c ] || { counted=1; shift; }
	name=$1
	shift
	say "== $name, in the background; log: $steps_dir/$name.log"
	# The subshell's SECONDS goes on from ours: it writes when it ended.
	( "$@"; rc=$?; echo "$SECONDS" >"$steps_dir/$name.end"; exit $rc ) \
		>"$steps_dir/$name.log" 2>&1 </dev/null &
	steps_bg_pid[$name]=$! steps_bg_t0[$name]=$SECONDS steps_bg_counted[$name]=$counted
}

step_wait() {
	local name=$1 rc=0

	say "== $name: waiting for it to end"
	wait "${steps_bg_pid[$name]}" || rc=$?
	cat "$steps_dir/$name.log"
	step_count "${steps_bg_counted[$name]}" "$name" "$rc" "${steps_bg_t0[$name]}" \
		"$(cat "$steps_dir/$name.end" 2>/dev/null || echo "$SECONDS")"
}

step_skipped() {
	steps_row "$1" skip - "$2"
}

steps_end() {
	{
		echo
		printf '%-13s %-5s %8s  %s\n' STEP RESULT TIME COUNTS
		printf '%s\n' "${steps_table[@]}"
		echo "took $(steps_duration $((SECONDS - steps_t0))); logs in $steps_dir"
	} | tee "$steps_dir/steps.txt"
	echo "$steps_passed passed, $steps_failed failed, $steps_skipped skipped"
	[ "$steps_failed" = 0 ]
}
