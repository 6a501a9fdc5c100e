#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pmem_teardown.sh - the harness's last guest check: tear down the DAX the
# guest set up (umount the fsdax filesystem, disable both namespaces).  A
# ZONE_DEVICE page reference that KVM leaked keeps that memory busy, and
# the teardown then blocks (this is how the 2019 bug showed: disabling a
# pmem namespace hung).  Each step gets 60 s; one that does not finish is a
# failure.  Exit 4 (skip) when the guest has no pmem.
[ -n "${KVM_DAX_DIR:-}${KVM_DAX_DEV:-}" ] || {
	echo "# no pmem in this guest (boot with memmap=1G!4G memmap=1G!5G)"
	exit 4
}

# Run "$@" in the background and wait up to 60 s: a task blocked in the
# kernel cannot be killed, so timeout(1) could wait forever.
bounded() {
	"$@" &
	pid=$!
	i=0
	while kill -0 $pid 2>/dev/null; do
		if [ $i -ge 60 ]; then
			echo "# '$*' did not finish in 60 s: a DAX page is still referenced (leaked by KVM?)"
			return 1
		fi
		sleep 1
		i=$((i + 1))
	done
	wait $pid || { echo "# '$*' failed"; return 1; }
	echo "# '$*' finished after ${i} s"
}

rc=0
if [ -n "${KVM_DAX_DIR:-}" ]; then
	bounded umount "$KVM_DAX_DIR" && bounded ndctl disable-namespace namespace0.0 || rc=1
fi
if [ -n "${KVM_DAX_DEV:-}" ]; then
	bounded ndctl disable-namespace namespace1.0 || rc=1
fi
exit $rc
