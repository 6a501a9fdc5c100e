# SPDX-License-Identifier: GPL-2.0
#
# Shared definitions for the kvm-dax harness scripts: paths (all overridable
# from the environment, as the Makefile passes them), messages and the
# optional ccache wrapper.  Sourced, never run.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
TREE=${TREE:-$BUILD/linux}
KBUILD=${KBUILD:-$BUILD/kbuild}
SELFTESTS_TREE=${SELFTESTS_TREE:-$TREE}
RESULTS=${RESULTS:-$BUILD/results}
SERIES=${SERIES:-$TOP/series}
# Exported, so that a step run with another BUILD (the mutants', the harness
# tests') keeps the kernel tree and build directory it was given.
export TOP BUILD TREE KBUILD SELFTESTS_TREE RESULTS SERIES
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
	kcc() { echo "ccache gcc"; }
else
	kcc() { echo gcc; }
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

# The test plan and skip-list (tests/plan documents their format).
PLAN=${PLAN:-$TOP/tests/plan}
SKIPLIST=${SKIPLIST:-$TOP/tests/skiplist}
