#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# List the kernels kpaxos builds and tests against: installed kernels that
# have both a bootable image (/boot/vmlinuz-V) and headers
# (/lib/modules/V/build).  One version a line.
#
#   scripts/kernels.sh              the supported series (6.1, 6.12): newest of each
#   scripts/kernels.sh 6.12         newest installed 6.12.x
#   scripts/kernels.sh 6.1.0-56-amd64   an exact version (checked)
#   scripts/kernels.sh --all        every usable installed kernel
#   scripts/kernels.sh --headers    newest kernel with headers (image optional)
#
# Exit status 1 when a requested series/version is not installed.
#
# Adding a kernel series: append it to SUPPORTED below (and to
# scripts/deps.sh), see README.md "Supported kernels".

set -u

SUPPORTED="6.1 6.12"

usable()
{
	[ -f "/boot/vmlinuz-$1" ] && [ -f "/lib/modules/$1/build/Makefile" ]
}

all_versions()
{
	local d v

	for d in /lib/modules/*/; do
		v=$(basename "$d")
		usable "$v" && echo "$v"
	done | sort -V
}

newest_of()
{
	local series=$1 re

	re="^${series//./\\.}[.-]"
	all_versions | grep -E "$re" | tail -n 1
}

resolve()
{
	local want=$1 v

	if usable "$want"; then
		echo "$want"
		return 0
	fi
	v=$(newest_of "$want")
	if [ -z "$v" ]; then
		echo "kernels.sh: no installed kernel matches '$want'" \
		     "(need /boot/vmlinuz-<ver> and /lib/modules/<ver>/build;" \
		     "run scripts/deps.sh)" >&2
		return 1
	fi
	echo "$v"
}

case "${1:-}" in
--all)
	all_versions
	exit 0
	;;
--headers)
	for d in /lib/modules/*/build; do
		[ -f "$d/Makefile" ] && basename "$(dirname "$d")"
	done | sort -V | tail -n 1
	exit 0
	;;
-h|--help)
	sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
esac

rc=0
[ $# -eq 0 ] && set -- $SUPPORTED
for want in "$@"; do
	resolve "$want" || rc=1
done
exit $rc
