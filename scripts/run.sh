#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - boot the guest (vm.sh) and turn its serial log into results
# (report.py).  The exit code is the report's: 0 when every planned test
# passed or skipped and the kernel log is clean; 130 when interrupted.
# The results record what was tested: "git describe --dirty" of $TREE, the
# base version and the QEMU command line (qemu.cmdline).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_clean_kernel
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
vm=0
"$TOP/scripts/vm.sh" || vm=$?
cp "$KBUILD/.config" "$RESULTS/kernel.config" 2>/dev/null || true
rc=0
"$TOP/scripts/report.py" --prefix "$TAP_PREFIX" --results "$RESULTS" --tree "$TREE" \
	--planned "${INITRD%.cpio}/kselftest/kselftest-list.txt" \
	--skiplist "${INITRD%.cpio}/kselftest/skiplist.txt" --vm-status "$vm" \
	--base "$(cat "$BUILD/base-version" 2>/dev/null || tree_version "$TREE" 2>/dev/null || echo unknown)" \
	--describe "$(tree_describe)" \
	--expect-pmem "${PMEM:-1}" || rc=$?
say "results in $RESULTS (summary.txt, results.json, tests/*.log, serial.log, qemu.cmdline)"
[ "$vm" != 130 ] || exit 130
exit $rc
