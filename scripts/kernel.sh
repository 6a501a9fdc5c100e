#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh - configure and build the kernel in $TREE into $KBUILD (O=).
#
# The configuration is the minimal guest kernel: merge_config.sh -n starts
# from allnoconfig and adds, with the kernel's own
# scripts/kconfig/merge_config.sh, config/guest.config, config/$ARCH.config,
# the KVM selftests' config, config/dax.config and config/harness.config
# (about 665 options =y and 1300 objects, against 1660 and 3100 for
# x86_64_defconfig; docs/figures.md).
#
# KCONFIG_MINIMAL=0 (x86 only) configures the kernel the plan was first
# measured with instead: x86_64_defconfig merged with
# kernel/configs/kvm_guest.config, config/x86_64-defconfig.config and the
# same shared fragments.  Both give the same results (docs/figures.md).
#
# ARCH=arm64 (lib.sh) cross-builds arch/arm64/boot/Image into
# build/arm64/kbuild, always the minimal way: allnoconfig plus
# config/guest.config and config/arm64.config and the same shared fragments.
#
# Every option the fragments ask for must survive; config/not-applicable.ARCH
# lists the few that cannot on that architecture, with the reason.  A
# dropped option is an error.
#
# Usage: kernel.sh [config|build]   (default: both)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The minimal kernel unless KCONFIG_MINIMAL=0 on x86; the arm64 lane has
# only the minimal kernel.
minimal() {
	[ "${KCONFIG_MINIMAL:-1}" = 1 ] || [ "$ARCH" != x86_64 ]
}

# Extra fragments, e.g. config/debug.config, come from KCONFIG_EXTRA.
fragments() {
	if minimal; then
		echo "$TOP/config/guest.config"
		echo "$TOP/config/$ARCH.config"
	else
		echo "$TREE/kernel/configs/kvm_guest.config"
		echo "$TOP/config/x86_64-defconfig.config"
	fi
	echo "$TREE/tools/testing/selftests/kvm/config"
	echo "$TOP/config/dax.config"
	echo "$TOP/config/harness.config"
	for f in ${KCONFIG_EXTRA:-}; do
		echo "$TOP/$f"
	done
}

# Options that are requested but not applicable on $ARCH, one per line:
# "CONFIG_FOO  reason".
not_applicable() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/config/not-applicable.$ARCH" | awk '{print $1}'
}

verify_config() {
	local opt name missing=0 skip

	skip=$(not_applicable)
	while read -r opt; do
		name=${opt%%=*}
		case $opt in
		"# CONFIG_"*" is not set")
			name=${opt#\# }; name=${name%% *}
			grep -q "^$name=" "$KBUILD/.config" || continue ;;
		CONFIG_*)
			grep -qx -- "$opt" "$KBUILD/.config" && continue ;;
		*) continue ;;
		esac
		grep -qx -- "$name" <<<"$skip" && continue
		say "error: $opt was requested but the final .config has: $(grep -E "^$name=|^# $name is not set" "$KBUILD/.config" || echo "(absent)")"
		missing=1
	done < <(fragments | xargs cat)
	[ $missing = 0 ] ||
		die "the kernel config dropped requested options (see above); check their dependencies with 'make O=$KBUILD menuconfig'"
}

configure() {
	local stamp=$KBUILD/.kvm-dax-config want

	mkdir -p "$KBUILD"
	want=$( (fragments | xargs cat; cat "$TOP/config/not-applicable.$ARCH"; tree_version "$TREE") | sha256sum)
	if [ -f "$KBUILD/.config" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		return 0
	fi
	if minimal; then
		say "configuring $KBUILD: allnoconfig and config/*.config ($ARCH, minimal)"
		# merge_config.sh runs make in the current directory.
		# shellcheck disable=SC2046
		(cd "$TREE" && scripts/kconfig/merge_config.sh -n -O "$KBUILD" $(fragments)) \
			>"$KBUILD/merge_config.log" 2>&1 ||
			die "merge_config.sh failed; see $KBUILD/merge_config.log"
	else
		say "configuring $KBUILD: x86_64_defconfig and config/*.config"
		make -s -C "$TREE" O="$KBUILD" x86_64_defconfig
		# shellcheck disable=SC2046
		"$TREE/scripts/kconfig/merge_config.sh" -m -O "$KBUILD" "$KBUILD/.config" $(fragments) \
			>"$KBUILD/merge_config.log" 2>&1 ||
			die "merge_config.sh failed; see $KBUILD/merge_config.log"
		make -s -C "$TREE" O="$KBUILD" olddefconfig
	fi
	verify_config
	echo "$want" >"$stamp"
}

build() {
	local log=$KBUILD/build.log

	say "building $KIMAGE in $KBUILD ($(kcc), -j$JOBS); log: $log"
	if ! make -s -C "$TREE" O="$KBUILD" -j"$JOBS" CC="$(kcc)" "$KIMAGE" >"$log" 2>&1; then
		grep -m5 -E 'error:|Error [0-9]' "$log" >&2 || tail -n 20 "$log" >&2
		die "the kernel build failed; full log: $log"
	fi
	cp "$KBUILD/.config" "$ARCH_BUILD/kernel.config"
}

case ${1:-all} in
config) configure ;;
build) build ;;
all) configure; build ;;
*) die "usage: kernel.sh [config|build]" ;;
esac
