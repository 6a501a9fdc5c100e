#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh - pack the guest's initramfs: busybox, bash and coreutils'
# timeout for the kselftest runner, ndctl/daxctl/mkfs.ext4 for pmem, the
# installed KVM selftests, and a "kvm-dax" collection generated from
# tests/plan: one small wrapper per entry that runs the program with the
# entry's arguments under the entry's timeout.
#
# The plan is checked against the installed selftests here, on the host:
# every installed KVM test must be in tests/plan or tests/skiplist, with a
# reason, and every plan entry must name an installed program.  Another plan
# ($PLAN, e.g. the benchmark's) only needs its own programs installed.
#
# "initramfs.sh --validate" only checks tests/plan and tests/skiplist
# (format, unknown keys, duplicates, reasons), so that a typo stops "make"
# before any build; "make validate" runs it first.
#
# ARCH=arm64: the guest's userspace comes from Debian's arm64 packages
# instead of the host's programs (guest_root below), /bin/sh is busybox,
# and the plan and skip-list are tests/plan.arm64 and tests/skiplist.arm64.
#
# Usage: initramfs.sh [--validate]   (T=REGEX keeps the plan entries that match)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

install=${KSFT_INSTALL:-$ARCH_BUILD/kselftest}
stage=$ARCH_BUILD/initramfs
out=$ARCH_BUILD/initramfs.cpio
filter=${T:-}

# The arm64 guest's userspace: busybox, ndctl, daxctl and mkfs.ext4, glibc
# (for the selftests, which link dynamically) and libgcc_s, coreutils for
# the runner's GNU timeout (busybox's exits 143, not 124, on a timeout),
# with the libraries they need ("apt-cache depends"; every NEEDED entry
# checked with readelf -d).  Downloaded with "apt-get download" (make setup
# adds the arm64 architecture to dpkg) and unpacked once into $GUEST_ROOT.
arm64_packages=(busybox-static ndctl daxctl e2fsprogs coreutils libc6 libgcc-s1
	libblkid1 libcom-err2 libcxl1 libdaxctl1 libext2fs2 libiniparser1
	libjson-c5 libkeyutils1 libkmod2 libndctl6 libss2 libtraceevent1
	libtracefs1 libudev1 libuuid1 liblzma5 libssl3 libzstd1
	libacl1 libattr1 libselinux1 libpcre2-8-0 libgmp10)

# Host programs the guest needs, with their shared libraries, and
# libgcc_s, which glibc's pthread_cancel() loads at run time (ldd cannot
# see it; without it the selftests that cancel vCPU threads abort).
host_progs=(/bin/bash /usr/bin/timeout /usr/bin/ndctl /usr/bin/daxctl /sbin/mkfs.ext4
	    "$(readlink -f "$(gcc -print-file-name=libgcc_s.so.1)")")

# Copy the shared libraries that the given ELF files need into the stage.
copy_libs() {
	local lib

	for lib in $(ldd "$@" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

copy_progs() {
	local f

	for f in "$@"; do
		[ -e "$f" ] || die "$f is missing; run 'make setup'"
		mkdir -p "$stage$(dirname "$f")"
		cp -L "$f" "$stage$f"
	done
	copy_libs "$@"
}

guest_root() {
	local want=${arm64_packages[*]} debs=$GUEST_ROOT.debs d

	[ "$(cat "$GUEST_ROOT/.kvm-dax-packages" 2>/dev/null)" != "$want" ] || return 0
	say "downloading the arm64 guest's Debian packages into $debs"
	rm -rf "$GUEST_ROOT" "$debs"
	mkdir -p "$GUEST_ROOT" "$debs"
	(cd "$debs" && apt-get download -q "${arm64_packages[@]/%/:arm64}") >"$debs.log" 2>&1 ||
		die "apt-get download failed (see $debs.log); 'make setup' adds the arm64 architecture to dpkg"
	for d in "$debs"/*.deb; do
		dpkg-deb -x "$d" "$GUEST_ROOT"
	done
	rm -rf "${GUEST_ROOT:?}/usr/share"
	echo "$want" >"$GUEST_ROOT/.kvm-dax-packages"
}

# Print "name|key=value ...|args" for each entry of a plan-format
# file; reject unknown keys and duplicates.
read_plan() {
	awk -v file="$1" '
	function fail(msg) { printf "%s:%d: %s\n", file, NR, msg > "/dev/stderr"; bad = 1 }
	/^[[:space:]]*(#|$)/ { next }
	{
		name = $1; keys = ""; args = ""
		if (name in seen) fail("duplicate entry " name)
		seen[name] = 1
		for (i = 2; i <= NF; i++) {
			if ($i == "--") { for (j = i + 1; j <= NF; j++) args = args (args ? " " : "") $j; break }
			if ($i !~ /^timeout=[0-9]+$/) fail("unknown key or bad value \"" $i "\" (known: timeout=SECONDS)")
			keys = keys (keys ? " " : "") $i
		}
		printf "%s|%s|%s\n", name, keys, args
	}
	END { exit bad }' "$1"
}

# Print "name<TAB>reason" for each entry of a skip-list; reject entries
# without a reason and duplicates.  The guest's initramfs keeps this form
# (kselftest/skiplist.txt) for report.py, so the skip-list is parsed here
# only.
read_skiplist() {
	awk -v file="$1" '
	/^[[:space:]]*(#|$)/ { next }
	NF < 2 { printf "%s:%d: %s has no reason\n", file, NR, $1 > "/dev/stderr"; bad = 1 }
	$1 in seen { printf "%s:%d: duplicate entry %s\n", file, NR, $1 > "/dev/stderr"; bad = 1 }
	{ seen[$1] = 1; reason = $0; sub(/^[[:space:]]*[^[:space:]]+[[:space:]]+/, "", reason); print $1 "\t" reason }
	END { exit bad }' "$1"
}

# The program of an entry: the name itself, or the name less its last
# ".variant" suffix (dax_fault_test.fsdax runs dax_fault_test).
entry_prog() {
	if [ -x "$install/kvm/$1" ] && [ ! -d "$install/kvm/$1" ]; then
		echo "$1"
	else
		echo "${1%.*}"
	fi
}

check_coverage() {
	local plan=$1 skips=$2 t bad=0

	comm -12 <(cut -d'|' -f1 <<<"$plan" | sort) <(sort <<<"$skips") | while read -r t; do
		say "error: $t is in both tests/plan and tests/skiplist"
		echo x
	done | grep -q x && bad=1
	# Installed programs: the kselftest list names them by basename, the
	# install tree by path.
	while read -r t; do
		t=${t#"$install/kvm/"}
		grep -qx -- "$t" <<<"$skips" && continue
		cut -d'|' -f1 <<<"$plan" | grep -qE "^$t(\.[^/]+)?$" && continue
		say "error: installed KVM selftest $t is neither in tests/plan nor in tests/skiplist"
		bad=1
	done < <(find "$install/kvm" -type f -perm -u+x ! -path '*/harness/*' | sort)
	# A skip-list entry for a test that is gone checks nothing.
	while read -r t; do
		[ -z "$t" ] || [ -x "$install/kvm/$t" ] && continue
		say "error: tests/skiplist names $t, which is not an installed KVM selftest; remove the entry"
		bad=1
	done <<<"$skips"
	[ $bad = 0 ] || die "tests/plan and tests/skiplist must cover every installed KVM selftest"
}

gen_collection() {
	local plan=$1 dir=$stage/kselftest/kvm-dax name keys args prog timeout n=0 max=0

	mkdir -p "$dir"
	: >"$stage/kselftest/kselftest-list.txt"
	while IFS='|' read -r name keys args; do
		[ -z "$filter" ] || grep -qE -- "$filter" <<<"$name" || continue
		prog=$(entry_prog "$name")
		[ -x "$install/kvm/$prog" ] ||
			die "tests/plan: $name: no installed program kvm/$prog"
		timeout=$default_timeout
		[ -z "$keys" ] || timeout=${keys#timeout=}
		[ "$timeout" -le "$max" ] || max=$timeout
		cat >"$dir/${name##*/}" <<-EOW
		#!/bin/sh
		# Generated by scripts/initramfs.sh from tests/plan: $name
		cd ../kvm/$(dirname "$prog" | sed 's|^\.$||') || exit 1
		timeout $timeout ./$(basename "$prog") $args
		rc=\$?
		[ \$rc -ne 124 ] || echo "TIMEOUT: $name did not finish in $timeout s (tests/plan)"
		exit \$rc
		EOW
		chmod +x "$dir/${name##*/}"
		echo "kvm-dax:${name##*/}" >>"$stage/kselftest/kselftest-list.txt"
		n=$((n + 1))
	done <<<"$plan"
	[ $n -gt 0 ] || die "no plan entry matches T='$filter'"
	# The runner's own timeout is only the backstop for the wrappers'.
	echo "timeout=$((max + 30))" >"$dir/settings"
	say "the plan has $n entries to run${filter:+ (T='$filter')}"
}

main() {
	local plan skips skiplist

	plan=$(read_plan "$PLAN") || die "$PLAN is malformed (see above)"
	skiplist=$(read_skiplist "$SKIPLIST") || die "$SKIPLIST is malformed (see above)"
	skips=$(cut -f1 <<<"$skiplist")
	if [ "${1:-}" = --validate ]; then
		say "$PLAN ($(wc -l <<<"$plan") entries) and $SKIPLIST ($(wc -l <<<"$skips") entries) are well-formed"
		return 0
	fi
	[ -f "$install/run_kselftest.sh" ] || die "no kselftest install in $install; run 'make selftests'"
	default_timeout=$(sed -n 's/^timeout=//p' "$install/kvm/settings" 2>/dev/null || true)
	default_timeout=${default_timeout:-120}

	rm -rf "$stage"
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc}
	cp -a "$install" "$stage/kselftest"
	mkdir -p "$stage/kselftest/kvm/harness"
	cp "$TOP"/tests/guest/* "$stage/kselftest/kvm/harness/"
	install=$stage/kselftest
	[ "$PLAN" != "$TOP/tests/plan$ARCH_SUFFIX" ] || check_coverage "$plan" "$skips"
	printf '%s\n' "$skiplist" | sed '/^$/d' >"$stage/kselftest/skiplist.txt"
	gen_collection "$plan"
	find "$stage/kselftest" -type f -perm -u+x -exec "${CROSS_COMPILE}strip" --strip-debug {} + 2>/dev/null || true

	if [ "$ARCH" = x86_64 ]; then
		cp /bin/busybox "$stage/bin/busybox"
		copy_progs "${host_progs[@]}"
		ln -sf bash "$stage/bin/sh"
		copy_libs $(find "$stage/kselftest/kvm" -type f -perm -u+x ! -name '*.sh')
	else
		guest_root
		cp -a "$GUEST_ROOT/." "$stage/"
		rm -f "$stage/.kvm-dax-packages"
		ln -sf busybox "$stage/bin/sh"
	fi
	sed "s|@TAP_PREFIX@|$TAP_PREFIX|g" "$TOP/scripts/guest-init" >"$stage/init"
	chmod 755 "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet) >"$out"
	say "packed $out ($(du -h "$out" | cut -f1))"
}

main "$@"
