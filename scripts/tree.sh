#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tree.sh - make $TREE a git tree of the base with series/ applied.
#
# The base is KSRC: Debian's linux-source-6.12 tarball by default, or any
# 6.12.y tree given as a directory or a tarball.  It is committed once with a
# fixed identity and date, so the same base gives the same commit everywhere,
# and tagged "base"; series/*.patch are then applied with git am.  The cover
# letter's text is kept as the branch description for "make export".
#
# An existing tree is left alone while series/ is unchanged, so commits made
# in it survive until they are exported.  When series/ changed, the tree is
# reset to "base" and the series applied again; commits that were never
# exported are first saved on a branch backup/DATE.  Either way the tree
# must be on its branch, clean and on top of "base": a detached HEAD or an
# edited tree is what an interrupted gate or mutant run leaves, and testing
# it would test the wrong kernel, so tree.sh stops and says what to do.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

check_base_conf() {
	local key
	while IFS='=' read -r key _; do
		case $key in
		''|'#'*|version|source) ;;
		*) die "base.conf: unknown key '$key' (known: version, source)" ;;
		esac
	done <"$TOP/base.conf"
}

unpack_base() {
	local tmp=$TREE.tmp

	rm -rf "$tmp"
	mkdir -p "$tmp"
	if [ -d "$KSRC" ]; then
		say "copying base from $KSRC"
		if [ -e "$KSRC/.git" ]; then
			git -C "$KSRC" archive HEAD | tar -C "$tmp" -x
		else
			tar -C "$KSRC" -c --exclude=.git . | tar -C "$tmp" -x
		fi
	elif [ -f "$KSRC" ]; then
		say "unpacking base from $KSRC"
		tar -C "$tmp" -xf "$KSRC" --strip-components=1
	else
		die "no base source at KSRC=$KSRC; install it with 'apt-get install $BASE_PKG' (or run 'make setup'), or set KSRC to a 6.12.y tree"
	fi
	[ -f "$tmp/Makefile" ] && grep -q '^VERSION' "$tmp/Makefile" ||
		die "KSRC=$KSRC does not look like a kernel tree (no top-level Makefile with VERSION)"

	# A fixed identity and date make the base commit reproducible, so
	# the series' base-commit: means the same thing on every machine.
	# Debian's .gitignore ignores every top-level file, hence add -f.
	(
		cd "$tmp"
		export GIT_AUTHOR_NAME="kvm-dax base" GIT_AUTHOR_EMAIL="base@kvm-dax.invalid"
		export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
		export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
		git init -q -b master
		git add -f -A
		git commit -q -m "Linux $(tree_version .)" -m "Base for the kvm-dax series, from $(basename "$KSRC")."
		git tag base
	)
	rm -rf "$TREE"
	mv "$tmp" "$TREE"
}

# The cover letter's subject and text, without format-patch's shortlog,
# diffstat and base-commit, become the branch description.
keep_cover_letter() {
	local cover=$SERIES/0000-cover-letter.patch desc

	[ -f "$cover" ] || return 0
	desc=$(awk '
		/^Subject: / { sub(/^Subject: (\[[^]]*\] )?/, ""); subj = $0; insubj = 1; next }
		insubj && /^ / { sub(/^ /, ""); subj = subj " " $0; next }
		insubj { insubj = 0 }
		!body && /^$/ { body = 1; print subj; print ""; next }
		body && /^[^ ].* \([0-9]+\):$/ { exit }
		body && /^base-commit: / { exit }
		body { print }
	' "$cover")
	git -C "$TREE" config branch.master.description "$desc"
}

apply_series() {
	local p log=$BUILD/tree-am.log hunk

	: >"$log"
	for p in $(series_patches); do
		git -C "$TREE" am -3 --keep-non-patch "$p" >>"$log" 2>&1 && continue
		git -C "$TREE" am --abort >/dev/null 2>&1 || true
		# git am -3 may only say that it could not build an ancestor;
		# git apply names the hunk and shows the lines it looked for.
		git -C "$TREE" apply --check -v "$p" >>"$log" 2>&1 || true
		hunk=$(sed -n 's/^error: patch failed: //p' "$log" | head -1)
		sed -n '/^error: while searching for:/,/^error: patch failed/p' "$log" >&2
		die "series/${p##*/} does not apply to the base ($(tree_version "$TREE")): the hunk at ${hunk:-?} is rejected; the tree stops at the patch before it; full log: $log"
	done
	say "applied $(series_patches | wc -l) patches on base $(tree_version "$TREE")"
}

# Stop unless the tree is on a branch, clean, and on top of "base".
check_tree_state() {
	git_tree symbolic-ref -q HEAD >/dev/null ||
		die "$TREE is at a detached HEAD ($(git_tree log -1 --format='%h %s')), as an interrupted 'make gates' leaves it; run 'git -C $TREE checkout master' (or the branch you work on) and run again"
	require_clean_tree "would be tested as it is (an interrupted 'make mutants' or 'make bench' leaves a patched tree)"
	git_tree merge-base --is-ancestor base HEAD ||
		die "$TREE's branch $(tree_ref) does not contain the tag 'base'; rebase it onto base ('git -C $TREE rebase base') or remove $TREE"
}

# Save commits that series/ does not have on a branch before a reset.
backup_unexported() {
	local head branch

	head=$(git_tree rev-parse HEAD)
	[ "$head" != "$(git_tree rev-parse base)" ] || return 0
	[ "$head" != "$(series_stamp_head)" ] || return 0
	branch=backup/$(date -u +%Y%m%d-%H%M%S)
	git_tree branch "$branch" "$head"
	say "saved $(git_tree rev-list --count base.."$head") commits of $TREE that were never exported on branch $branch ($(git_tree log -1 --format='%h %s' "$head"))"
}

main() {
	local stamp want have

	check_base_conf
	mkdir -p "$BUILD"
	# .git is a file in a git worktree: ask git, never rm -rf a tree.
	if git -C "$TREE" rev-parse -q --verify base >/dev/null 2>&1; then
		check_tree_state
		stamp=$(series_stamp_file)
		if [ "$(cat "$stamp" 2>/dev/null)" = "$(series_stamp)" ]; then
			say "$TREE is up to date with series/ (at $(tree_describe))"
			tree_version "$TREE" >"$BUILD/base-version"
			return 0
		fi
		backup_unexported
		say "series/ changed: resetting $TREE to base (old HEAD $(git_tree log -1 --format='%h %s'))"
		git -C "$TREE" reset -q --hard base
	elif [ -e "$TREE" ] && [ -n "$(ls -A "$TREE")" ]; then
		die "$TREE exists but is not a git tree with a 'base' tag; move it away or set TREE"
	else
		unpack_base
	fi

	want=$(series_base_version)
	have=$(tree_version "$TREE")
	[ "$want" = "$have" ] ||
		say "warning: the base is Linux $have but the series was made on $want (base.conf); going on"
	echo "$have" >"$BUILD/base-version"

	keep_cover_letter
	apply_series
	series_stamp_save
}

main "$@"
