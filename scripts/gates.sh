#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# gates.sh - the kernel norms every patch of series/ must meet, checked with
# the kernel's own tools:
#
#   checkpatch  scripts/checkpatch.pl --strict is clean on every patch
#   bisect      every commit builds on its own, on every architecture it
#               touches: the x86 KVM objects (make arch/x86/kvm/, which
#               also builds virt/kvm) when it touches kernel code x86
#               builds (anything but another architecture's arch/),
#               arch/<arch>/kvm/ of every cross architecture whose
#               arch/<arch>/ it changes, and the KVM selftests (x86_64;
#               also arm64 when it changes their arm64 code)
#   sparse      make C=2 W=1 arch/x86/kvm/ (virt/kvm included): neither
#               sparse nor gcc's W=1 warnings report anything new against
#               the base
#   coccicheck  make coccicheck MODE=report reports nothing new against the
#               base on the .c files the series touches
#   cross       virt/kvm and arch/<arch>/kvm build at HEAD for every KVM
#               architecture: arm64, riscv64, ppc64le (Book3S HV and PR),
#               powerpc e500mc, s390x, mips64el (loongson64) and
#               loongarch64 (clang), from their defconfigs, in output
#               directories that the bisect walk prepared, so only what
#               changed since is rebuilt; the arm64 KVM selftests too
#
# The results are KTAP on stdout: one "ok N gate" or "not ok N gate" per
# gate, after "# " lines that say what was checked or why it failed, then
# "N passed, N failed, N skipped".  A gate whose tool fails is a failure.
# Logs stay in $GATES_LOGS ($BUILD/gates/ by default).  The gates work on
# $TREE and build in $KBUILD and under $BUILD, as the environment gives
# them: "make gates" on build/linux, sharing the lanes' build directories;
# make check in a worktree and directories of their own (check.sh), so
# that they run beside its other steps.  The bisect walk checks out every
# commit detached, so the tree must be clean; it is put back on its branch
# (or commit) on every exit, Ctrl-C included (tree_guard in lib.sh).
#
# Each gate_NAME function is self-contained: it reads the tree, writes only
# its own logs and reports with ktap, so gates can run in any order.
#
# Usage: [CROSS="NAME..."] gates.sh [GATE...]   (default: checkpatch
# bisect_sparse cross coccicheck; an unknown name is an error).  CROSS
# limits the cross targets (bisect walk and cross gate) to those named;
# all eight by default, as make check runs them.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

logs=${GATES_LOGS:-$BUILD/gates}
all_gates="checkpatch bisect_sparse cross coccicheck"

pass() { ktap pass "$1" "${@:2}"; }
fail() { ktap fail "$1" "$2"; }

git_t() { git_tree "$@"; }

kmake() {
	make -C "$TREE" O="$KBUILD" -j"$JOBS" CC="$(kcc)" "$@"
}

# The x86 KVM build sees every kernel file but the selftests, the
# documentation, MAINTAINERS and the other architectures' arch/ directories.
touches_x86() {
	git_t diff-tree --no-commit-id --name-only -r "$1" |
		grep -vE '^(tools/|Documentation/|MAINTAINERS$)' | grep -qvE '^arch/([^x]|x[^8])[^/]*/'
}

touches_selftests() {
	git_t diff-tree --no-commit-id --name-only -r "$1" | grep -q '^tools/testing/selftests/kvm/'
}

# The .c files the series changes and that exist at HEAD.
touched_c_files() {
	git_t diff --name-only --diff-filter=AM base HEAD -- '*.c'
}

# checkpatch checks a changelog's commit references against the git
# repository of its working directory: one that lacks the commit (the base
# has no history, nor has the harness's) silences the format check of
# 'commit <sha1> ("<title>")' that the kernel test robot, in a tree with
# history, makes.  So it runs where there is no repository, where it also
# reports every 'commit <sha1>' as unknown: without history, a changelog
# cites a commit by its title.
gate_checkpatch() {
	local p bad="" cp

	cp=$(realpath "$TREE/scripts/checkpatch.pl") || { fail checkpatch "no checkpatch.pl in $TREE"; return; }
	for p in $(series_patches); do
		p=$(realpath "$p")
		(cd / && env -u GIT_DIR "$cp" --strict -q --no-tree "$p") \
			>"$logs/checkpatch-${p##*/}.log" 2>&1 || bad+=" ${p##*/}"
	done
	if [ -z "$bad" ]; then
		pass checkpatch "checkpatch --strict: $(series_patches | wc -l) patches clean"
	else
		fail checkpatch "not clean:$bad (logs in $logs)"
	fi
}

# Sparse's warnings without line numbers, which move when code moves.
sparse_warnings() {
	grep -E ': (warning|error):' "$1" | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort
}

# W=1 rebuilds the objects (their flags change), so gcc's extra warnings
# land in the same log as sparse's and are compared with them.  (That is
# why the bisect walk builds without W=1: with it, sparse at HEAD would
# recompile nothing and see no gcc warning.)
sparse_run() {
	kmake C=2 W=1 arch/x86/kvm/ >"$logs/sparse-$1.log" 2>&1 ||
		{ echo "build failed, see $logs/sparse-$1.log"; return 1; }
}

# Every KVM architecture, as the kernel test robot builds it: "NAME ARCH
# TOOLCHAIN DEFCONFIG [OPTION=VALUE...]".  TOOLCHAIN is a Debian cross gcc's
# prefix, or LLVM=-19 for clang-19 (loongarch has no gcc in Debian 12).  The
# options are set on top of the defconfig and checked to have taken effect.
# arch/ARCH/kvm/ builds virt/kvm with it, which kvm_main.o's presence
# confirms.  Each has its own output directory, $BUILD/cross-NAME,
# configured once, which the bisect walk and the cross gate share.  arm64
# uses the arm64 lane's own config and build directory instead ("lane"):
# under the same $BUILD, the lane's kernel build then only finishes what
# the gates built.
cross_targets=(
	"arm64 arm64 aarch64-linux-gnu- lane"
	"riscv64 riscv riscv64-linux-gnu- defconfig"
	# Book3S PR besides HV (PR needs the tick-based CPU time accounting),
	# and the ultravisor (secure guests) code of HV.
	"ppc64le powerpc powerpc64le-linux-gnu- ppc64le_defconfig NO_HZ_FULL=n VIRT_CPU_ACCOUNTING_GEN=n TICK_CPU_ACCOUNTING=y KVM_BOOK3S_64_PR=m DEVICE_PRIVATE=y PPC_UV=y"
	"e500mc powerpc powerpc64le-linux-gnu- corenet64_smp_defconfig VIRTUALIZATION=y KVM_E500MC=y"
	"s390x s390 s390x-linux-gnu- defconfig"
	"mips64el mips mips64el-linux-gnuabi64- loongson3_defconfig"
	"loongarch64 loongarch LLVM=-19 loongson3_defconfig"
)
# CROSS: the names of the targets to build, all by default.  make check
# builds a subset (see check.sh) to stay within CI's time.
CROSS=${CROSS:-$(for t in "${cross_targets[@]}"; do echo "${t%% *}"; done)}
active_targets=()
for t in "${cross_targets[@]}"; do
	grep -qw -- "${t%% *}" <<<"$CROSS" && active_targets+=("$t")
done
[ ${#active_targets[@]} -gt 0 ] || { echo "gates.sh: error: CROSS='$CROSS' names no target" >&2; exit 1; }

# The make command line for a target's output directory $o.
cross_make() {
	local arch=$1 tc=$2

	case $tc in
	LLVM=*) echo make -C "$TREE" O="$o" ARCH="$arch" "$tc" ;;
	*) echo make -C "$TREE" O="$o" ARCH="$arch" CROSS_COMPILE="$tc" ;;
	esac
}

# cross_config ARCH TOOLCHAIN DEFCONFIG [OPTION=VALUE...]: configure $o.
cross_config() {
	local mk opt

	mk=$(cross_make "$1" "$2")
	shift 2
	$mk "$1" || return 1
	shift
	for opt in "$@"; do
		"$TREE/scripts/config" --file "$o/.config" --set-val "${opt%%=*}" "${opt#*=}"
	done
	$mk olddefconfig || return 1
	grep -qE '^CONFIG_KVM=[ym]' "$o/.config" || { echo "no CONFIG_KVM"; return 1; }
	for opt in "$@"; do
		case $opt in
		*=n) ! grep -q "^CONFIG_${opt%=n}=" "$o/.config" ;;
		*) grep -qx "CONFIG_$opt" "$o/.config" ;;
		esac || { echo "CONFIG_$opt did not take effect"; rm -f "$o/.config"; return 1; }
	done
}

# cross_build LOG NAME ARCH TOOLCHAIN DEFCONFIG [OPTION=VALUE...]: build
# arch/ARCH/kvm/ of the tree as it is checked out, configuring the output
# directory the first time.
# cross_dir NAME ARCH TOOLCHAIN DEFCONFIG: the target's output directory.
cross_dir() {
	if [ "$4" = lane ]; then
		env -u KBUILD ARCH="$2" bash -c '. "$TOP/scripts/lib.sh" && echo "$KBUILD"'
	else
		echo "$BUILD/cross-$1"
	fi
}

# cross_cc TOOLCHAIN: the compiler to pass as CC=, or nothing for clang
# (LLVM= sets it); fails when the toolchain is not installed.
cross_cc() {
	local cc

	case $1 in
	LLVM=*) command -v "clang${1#LLVM=}" >/dev/null || { echo "clang${1#LLVM=}"; return 1; } ;;
	*)
		cc=${1}gcc
		command -v "$cc" >/dev/null || { echo "$cc"; return 1; }
		# ccache, when present.
		kcc | sed "s/gcc\$/$cc/"
		;;
	esac
}

cross_build() {
	local log=$1 arch=$3 tc=$4 o cc

	o=$(cross_dir "$2" "$3" "$4" "$5")
	shift 2
	cc=$(cross_cc "$tc") || { echo "$cc is missing; run 'make setup'" >"$log"; return 1; }
	{
		if [ "$3" = lane ]; then
			ARCH=$arch KBUILD=$o "$TOP/scripts/kernel.sh" config
		else
			[ -f "$o/.config" ] || cross_config "$@"
		fi &&
		$(cross_make "$arch" "$tc") -j"$JOBS" ${cc:+CC="$cc"} "arch/$arch/kvm/" &&
		[ -f "$o/virt/kvm/kvm_main.o" ]
	} >"$log" 2>&1
}

# cross_w1 LOG NAME ARCH TOOLCHAIN DEFCONFIG [OPTION=VALUE...]: rebuild with
# W=1 the .c files of arch/ARCH/kvm/ that the series changes and that this
# configuration builds (cross_build made their .o); appends to LOG and
# prints the warnings in those files, or that the build failed.  (virt/kvm's W=1 warnings are the
# sparse gate's, in the x86 build.)
cross_w1() {
	local log=$1 arch=$3 tc=$4 o cc objs

	o=$(cross_dir "$2" "$3" "$4" "$5")
	cc=$(cross_cc "$tc") || return 0
	objs=$(touched_c_files | grep "^arch/$arch/kvm/" | sed 's/\.c$/.o/' |
		while read -r f; do [ ! -f "$o/$f" ] || echo "$f"; done)
	[ -n "$objs" ] || return 0
	# shellcheck disable=SC2086
	$(cross_make "$arch" "$tc") -j"$JOBS" ${cc:+CC="$cc"} W=1 $objs >>"$log" 2>&1 ||
		echo "the W=1 build failed"
	grep -E "arch/$arch/kvm/[^ :]+:[0-9]+:[0-9]+: (warning|error):" "$log"
}

# The names of the cross targets whose arch/<arch>/ commit $1 changes.
touched_cross_targets() {
	local t name arch files

	files=$(git_t diff-tree --no-commit-id --name-only -r "$1")
	for t in "${active_targets[@]}"; do
		read -r name arch _ <<<"$t"
		grep -q "^arch/$arch/" <<<"$files" && echo "$name"
	done
}

# selftests_build ARCH LOG: the KVM selftests of the tree as it is checked
# out, built as the ARCH lane builds them and in its directory
# (scripts/selftests.sh), so that under the same $BUILD the lane's own
# build then has nothing left to do.  arm64's are cross-built
# (libc6-dev-arm64-cross).
selftests_build() {
	env -u KBUILD ARCH="$1" "$TOP/scripts/selftests.sh" >>"$2" 2>&1
}

touches_selftests_arm64() {
	git_t diff-tree --no-commit-id --name-only -r "$1" |
		grep -qE '^tools/testing/selftests/kvm/(.*/)?aarch64/'
}

# Walk base..HEAD: sparse at the base, a build at every commit of every
# architecture it touches, sparse at HEAD.
gate_bisect_sparse() {
	local c n=0 total bad="" branch new t name

	branch=$(tree_ref)
	"$TOP/scripts/kernel.sh" config || { fail bisect "the kernel config failed"; return; }
	tree_guard "the bisect walk checks out every commit"
	rm -f "$logs"/bisect-*.log
	git_t checkout -q --detach base
	say "bisect: sparse at base; log: $logs/sparse-base.log"
	sparse_run base >/dev/null || { fail sparse "the base does not build"; tree_restore; return; }
	total=$(git_t rev-list --count base.."$branch")
	for c in $(git_t rev-list --reverse base.."$branch"); do
		n=$((n + 1))
		say "bisect: $n/$total $(git_t log -1 --format='%h %s' "$c"); log: $logs/bisect-$n.log"
		git_t checkout -q "$c"
		if touches_x86 "$c" && ! kmake arch/x86/kvm/ >"$logs/bisect-$n.log" 2>&1; then
			bad+=" $n:x86_64:$(git_t log -1 --format=%s "$c")"
		fi
		for name in $(touched_cross_targets "$c"); do
			for t in "${active_targets[@]}"; do
				[ "${t%% *}" != "$name" ] || break
			done
			say "bisect: $n/$total $name: arch/$(cut -d' ' -f2 <<<"$t")/kvm/; log: $logs/bisect-$n-$name.log"
			# shellcheck disable=SC2086
			cross_build "$logs/bisect-$n-$name.log" $t ||
				bad+=" $n:$name:$(git_t log -1 --format=%s "$c")"
		done
		if touches_selftests "$c" && ! selftests_build x86_64 "$logs/bisect-$n.log"; then
			bad+=" $n:selftests:$(git_t log -1 --format=%s "$c")"
		fi
		if touches_selftests_arm64 "$c" &&
		   ! selftests_build arm64 "$logs/bisect-$n-selftests-arm64.log"; then
			bad+=" $n:selftests-arm64:$(git_t log -1 --format=%s "$c")"
		fi
	done
	tree_restore
	[ "$want_cocci" = 0 ] || cocci_start
	if [ -z "$bad" ]; then
		pass bisect "$n commits build on their own: arch/x86/kvm/, the arch/<arch>/kvm/ they touch (of: $(echo $CROSS)) and the KVM selftests"
	else
		fail bisect "these commits do not build on their own:$bad (logs: $logs/bisect-N*.log)"
	fi

	say "sparse at HEAD; log: $logs/sparse-head.log"
	sparse_run head >/dev/null || { fail sparse "HEAD does not build"; return; }
	new=$(comm -13 <(sparse_warnings "$logs/sparse-base.log") <(sparse_warnings "$logs/sparse-head.log"))
	if [ -z "$new" ]; then
		pass sparse "sparse C=2 and gcc W=1, arch/x86/kvm/ and virt/kvm: $(sparse_warnings "$logs/sparse-head.log" | wc -l) warnings, none new"
	else
		printf '%s\n' "$new" >"$logs/sparse-new.log"
		fail sparse "new warnings against the base: $(head -1 <<<"$new") (all: $logs/sparse-new.log)"
	fi
}

# Reports without positions, which move when code moves: the line and
# column range, and line numbers in the message ("second lock on line N").
cocci_normalize() {
	sed -E "s|^$1/||; s/:[0-9]+:[0-9]+(-[0-9]+)?:/:/; s/line [0-9]+/line N/g"
}

# Copy the touched .c files, as they are at the base and at HEAD, into
# base/ and HEAD/ of one directory and run coccicheck on it once: spatch's
# cost is per semantic patch, not per file.  Leaves the normalised reports
# of each in $logs/cocci-base.log and $logs/cocci-HEAD.log; fails when
# coccicheck itself failed.  Its output directory is its own, and spatch
# reads the tree's headers, so it can run beside builds of the tree as it
# is checked out at HEAD (cocci_start), not beside the bisect walk.
cocci_run() {
	local dir=$logs/cocci rev f log=$logs/cocci.make.log

	rm -rf "$dir"
	for rev in base HEAD; do
		for f in $(touched_c_files); do
			git_t cat-file -e "$rev:$f" 2>/dev/null || continue
			mkdir -p "$dir/$rev/$(dirname "$f")"
			git_t show "$rev:$f" >"$dir/$rev/$f"
		done
	done
	[ -d "$dir" ] || return 0
	make -C "$TREE" O="$BUILD/cocci-obj" coccicheck MODE=report M="$dir" >"$log" 2>&1 || return 1
	for rev in base HEAD; do
		grep -E "^$dir/$rev/[^ ]+:[0-9]+:" "$log" | cocci_normalize "$dir/$rev" |
			sort >"$logs/cocci-$rev.log"
	done
}

# cocci_start: cocci_run in the background, once; gate_coccicheck waits
# for it.  spatch is mostly serial, so it overlaps the cross builds well.
cocci_pid=
cocci_start() {
	[ -z "$cocci_pid" ] || return 0
	say "coccicheck at base and HEAD, in the background; log: $logs/cocci.make.log"
	cocci_run &
	cocci_pid=$!
}

gate_coccicheck() {
	local new

	cocci_start
	wait "$cocci_pid" ||
		{ fail coccicheck "make coccicheck failed; see $logs/cocci.make.log"; return; }
	new=$(comm -13 "$logs/cocci-base.log" "$logs/cocci-HEAD.log")
	if [ -z "$new" ]; then
		pass coccicheck "coccicheck: $(touched_c_files | wc -l) touched .c files, nothing new"
	else
		printf '%s\n' "$new" >"$logs/cocci-new.log"
		fail coccicheck "new reports against the base: $(head -1 <<<"$new") (all: $logs/cocci-new.log)"
	fi
}

gate_cross() {
	local t name log built=() bad=()

	for t in "${active_targets[@]}"; do
		name=${t%% *} log=$logs/cross-${t%% *}.log
		say "cross: $name; log: $log"
		# shellcheck disable=SC2086
		if ! cross_build "$log" $t; then
			bad+=("$name (see $log)")
		elif [ -n "$(cross_w1 "$log" $t)" ]; then
			bad+=("$name: W=1 warns in the touched files, or fails (see $log)")
		else
			built+=("$name")
		fi
	done
	log=$logs/cross-selftests-arm64.log
	say "cross: the arm64 KVM selftests; log: $log"
	rm -f "$log"
	if selftests_build arm64 "$log"; then
		built+=("the arm64 KVM selftests")
	else
		bad+=("the arm64 KVM selftests (see $log)")
	fi
	if [ ${#active_targets[@]} != ${#cross_targets[@]} ]; then
		built+=("(not built in this run, see CROSS:$(for t in "${cross_targets[@]}"; do
			grep -qw -- "${t%% *}" <<<"$CROSS" || printf ' %s' "${t%% *}"; done))")
	fi
	if [ ${#bad[@]} = 0 ]; then
		pass cross "arch/<arch>/kvm/ with virt/kvm builds, and W=1 warns nothing in the files the series changes, for: ${built[*]} (x86_64: the sparse gate)"
	else
		fail cross "fails for: ${bad[*]}"
	fi
}

main() {
	local g gates=("$@") pid

	# Run the gates in a process group of their own and pass a SIGTERM or
	# SIGINT of gates.sh on to all of it: bash runs a trap only once its
	# foreground command has ended, so killing gates.sh alone used to leave
	# its make children building, and the tree checked out, until they
	# were done.  The group gets SIGTERM either way, because a background
	# command starts with SIGINT ignored, which bash cannot trap again.
	if [ -z "${GATES_GROUP:-}" ]; then
		GATES_GROUP=1 setsid "$0" "$@" &
		pid=$!
		trap 'kill -TERM -- -$pid 2>/dev/null; wait $pid; exit 143' TERM
		trap 'kill -TERM -- -$pid 2>/dev/null; wait $pid; exit 130' INT
		wait "$pid"
		exit
	fi
	[ $# -gt 0 ] || read -ra gates <<<"$all_gates"
	want_cocci=0
	for g in "${gates[@]}"; do
		declare -F "gate_$g" >/dev/null || die "unknown gate '$g' (known: $all_gates)"
		[ "$g" != coccicheck ] || want_cocci=1
	done
	mkdir -p "$logs"
	require_clean_tree "the gates read its commits"
	ktap_begin
	for g in "${gates[@]}"; do
		"gate_$g"
	done
	ktap_end
}

main "$@"
