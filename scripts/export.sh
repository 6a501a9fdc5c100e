#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# export.sh - regenerate series/ from the commits base..HEAD of $TREE with
# git format-patch.  The cover letter's subject and text come from the
# branch description (set by tree.sh from the previous cover letter; edit
# it with "git branch --edit-description"); format-patch adds the
# shortlog, the diffstat and "base-commit:", as b4 expects.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -e "$TREE/.git" ] || die "no tree at $TREE; run 'make tree'"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
	die "$TREE has uncommitted edits; commit them first"
n=$(git -C "$TREE" rev-list --count base..HEAD)
[ "$n" -gt 0 ] || die "$TREE has no commits on top of base"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$TREE" format-patch -q --cover-letter --cover-from-description=subject \
	--base=base -o "$tmp" base..HEAD
rm -f "$SERIES"/[0-9][0-9][0-9][0-9]-*.patch
mkdir -p "$SERIES"
mv "$tmp"/*.patch "$SERIES"/
# The tree now matches series/, so tree.sh must not reset it.
series_stamp_save
say "exported $n patches and the cover letter to $SERIES"
