#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kmemleak_scan.sh - after the tests, ask kmemleak for unreferenced objects
# and fail on any.  Only the debug kernel (config/debug.config) has
# kmemleak; elsewhere this skips (exit 4).
k=/sys/kernel/debug/kmemleak
[ -w $k ] || { echo "# kmemleak is not enabled in this kernel"; exit 4; }
# Two scans: an object must be seen unreferenced twice to be reported.
echo scan >$k && sleep 5 && echo scan >$k
if grep -q 'unreferenced object' $k; then
	echo "# kmemleak found leaks:"
	sed 's/^/# /' $k | head -n 60
	exit 1
fi
echo "# kmemleak: no leaks"
