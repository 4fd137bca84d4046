# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by kunit/run.sh and kunit/debug-kernel.sh (sourced, not run):
# the Linux 6.1 source tree both build from, kept in a cache outside the
# clone so later runs only rebuild what changed.
#
#   KPAXOS_CACHE          cache directory (default ~/.cache/kpaxos)
#   KPAXOS_LINUX_TARBALL  source tarball (default Debian's linux-source-6.1)
#
# Layout of the cache:
#   linux-6.1/            extracted once; never built in (builds use O=)
#   linux-6.1/drivers/kpaxos-kunit/   the KUnit overlay (see tree_overlay)
#   kunit-build/          UML KUnit build directory
#   debug-build/          x86_64 debug kernel build directory
#   debug/                debug kernel install: bzImage, lib/modules/...
#   tree.lock             serialises extraction and overlay updates

KPAXOS_CACHE=${KPAXOS_CACHE:-$HOME/.cache/kpaxos}
KPAXOS_LINUX_TARBALL=${KPAXOS_LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
TREE=$KPAXOS_CACHE/linux-6.1

tree_log()
{
	echo "[$(date +%H:%M:%S)] $*" >&2
}

# Extract the tarball into $TREE unless already done.  The tree appears
# only complete: it is unpacked beside and renamed into place.
tree_extract()
{
	local tmp

	mkdir -p "$KPAXOS_CACHE" || return 1
	(
		flock 8 || exit 1
		[ -f "$TREE/.kpaxos-extracted" ] && exit 0
		if [ ! -r "$KPAXOS_LINUX_TARBALL" ]; then
			tree_log "missing $KPAXOS_LINUX_TARBALL" \
				"(apt-get install linux-source-6.1)"
			exit 1
		fi
		tmp=$TREE.tmp.$$
		rm -rf "$tmp" "$TREE"
		mkdir -p "$tmp" || exit 1
		tree_log "extracting $KPAXOS_LINUX_TARBALL into $TREE"
		tar -xf "$KPAXOS_LINUX_TARBALL" -C "$tmp" \
			--strip-components=1 || { rm -rf "$tmp"; exit 1; }
		touch "$tmp/.kpaxos-extracted"
		mv "$tmp" "$TREE"
	) 8>"$KPAXOS_CACHE/tree.lock"
}

# Update a symlink only when it changes, so make sees stable mtimes.
tree_link()
{
	[ "$(readlink "$2" 2>/dev/null)" = "$1" ] && return 0
	ln -sfn "$1" "$2"
}

# Hook drivers/kpaxos-kunit/ into the tree: a real directory whose Kconfig
# and Makefile are symlinks to kunit/Kconfig and kunit/Makefile of the
# clone in $1, next to a symlink "repo" -> $1 through which that Makefile
# reaches kmod/core/*.c, kmod/*.c and kunit/*.c: the very same files the
# module is built from.  Prints the previous clone path if it changed.
tree_overlay()
{
	local repo=$1 dir=$TREE/drivers/kpaxos-kunit

	(
		flock 8 || exit 1
		mkdir -p "$dir" || exit 1
		if ! grep -q kpaxos-kunit "$TREE/drivers/Kconfig"; then
			sed -i '$s|^endmenu$|source "drivers/kpaxos-kunit/Kconfig"\n\nendmenu|' \
				"$TREE/drivers/Kconfig" || exit 1
			grep -q kpaxos-kunit "$TREE/drivers/Kconfig" || exit 1
		fi
		if ! grep -q kpaxos-kunit "$TREE/drivers/Makefile"; then
			echo 'obj-$(CONFIG_KPAXOS_KUNIT_TEST) += kpaxos-kunit/' \
				>>"$TREE/drivers/Makefile" || exit 1
		fi
		old=$(readlink "$dir/repo" 2>/dev/null)
		tree_link "$repo" "$dir/repo" &&
		tree_link repo/kunit/Kconfig "$dir/Kconfig" &&
		tree_link repo/kunit/Makefile "$dir/Makefile" || exit 1
		[ -n "$old" ] && [ "$old" != "$repo" ] && echo "$old"
		exit 0
	) 8>"$KPAXOS_CACHE/tree.lock"
}
