#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print kpaxos's version: `git describe` when the tree is a git clone with a
# tag, else the VERSION file plus the commit (e.g. 0.1.0-g88a14e6-dirty),
# else the VERSION file alone (release tarballs, dkms source trees).
# The result contains only [0-9A-Za-z.+-] so dkms and file names take it.

root=$(cd "$(dirname "$0")/.." && pwd)
base=$(cat "$root/VERSION" 2>/dev/null || echo 0.0.0)
v=
if [ -d "$root/.git" ] || [ -f "$root/.git" ]; then
	v=$(git -C "$root" describe --tags --dirty 2>/dev/null | sed 's/^v//')
	if [ -z "$v" ]; then
		h=$(git -C "$root" rev-parse --short HEAD 2>/dev/null)
		if [ -n "$h" ]; then
			v=$base-g$h
			git -C "$root" diff-index --quiet HEAD -- 2>/dev/null ||
				v=$v-dirty
		fi
	fi
fi
[ -n "$v" ] || v=$base
echo "$v" | tr -c '0-9A-Za-z.+\n-' '_'
