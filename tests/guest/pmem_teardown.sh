#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pmem_teardown.sh - the harness's last guest check: tear down the DAX the
# guest set up (umount the fsdax filesystem, disable both namespaces).  Each
# step gets 60 s; one that does not finish is a failure.  Exit 4 (skip)
# when the guest has no pmem.
#
# What it can see of a page reference that KVM leaked, on 6.12.  In 2019
# such a leak made disabling a pmem namespace hang.  Now memunmap_pages()
# drops the dev_pagemap's per-page references whatever the pages' refcounts
# are, so neither namespace's teardown waits for the pages:
#  - fsdax: evicting a file (closing it unlinked, or unmounting) drops its
#    DAX entries, and dax_disassociate_entry() WARNs on a page whose
#    refcount is above 1; the log scan fails the test during which that
#    is printed.  (The DAX selftests' punches see the leak earlier: the
#    filesystem waits for the page, and they time out.)
#  - devdax: nothing; no interface of this kernel shows a device-dax page's
#    refcount to userspace.  For devdax this step only checks that the
#    teardown works.
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
			echo "# '$*' did not finish in 60 s: the teardown hangs"
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
