#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build an out-of-tree module for one kernel, in its own directory, so that
# builds for different kernels never clobber each other:
#
#   scripts/build-module.sh [--kdir DIR | --kver V] [--src DIR] [MAKE ARGS...]
#
#   --kdir DIR   kernel build tree (default: /lib/modules/<V>/build)
#   --kver V     kernel version or series (6.1, 6.12); default: the running
#                kernel's headers, else the newest installed headers
#   --src DIR    module sources (a directory with a Kbuild file); default:
#                paxos.ko from the repository's Kbuild, kmod/ and uapi/
#   --install    then install it: /lib/modules/<V>/extra under $DESTDIR
#                (kbuild modules_install, unsigned), and depmod when
#                DESTDIR is empty
#   --prof       the hand-profiling build (-DKPAXOS_PROF, kmod/prof.h),
#                in build/<V>-prof/ (for tools/bench/run.sh --prof)
#
# Sources are copied (rsync, keeping objects) to build/<V>/ for paxos.ko,
# or build/<V>/<basename DIR>/ for --src, and built there with
# `make -C KDIR M=...`.  MAKE ARGS go to kbuild (e.g. W=1, V=1).
# The macro PAXOS_VERSION (a string, from scripts/version.sh) is defined
# for the module's sources.
# Prints the path of the built .ko files on the last line.

set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kdir=
kver=
src=
install=0
prof=0

die()
{
	echo "build-module: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	--kdir) kdir=$2; shift 2 ;;
	--kver) kver=$2; shift 2 ;;
	--src) src=$2; shift 2 ;;
	--install) install=1; shift ;;
	--prof) prof=1; shift ;;
	*) break ;;
	esac
done

if [ -z "$kdir" ]; then
	if [ -n "$kver" ]; then
		if [ -f "/lib/modules/$kver/build/Makefile" ]; then
			kdir=/lib/modules/$kver/build
		else
			v=$("$root/scripts/kernels.sh" "$kver" 2>/dev/null ||
			    true)
			[ -n "$v" ] || die "no headers for kernel '$kver':" \
				"install linux-headers-$kver (scripts/deps.sh)" \
				"or pass KDIR=/lib/modules/<ver>/build"
			kdir=/lib/modules/$v/build
		fi
	else
		kdir=/lib/modules/$(uname -r)/build
		if [ ! -f "$kdir/Makefile" ]; then
			v=$("$root/scripts/kernels.sh" --headers)
			[ -n "$v" ] || die "no kernel headers installed:" \
				"run scripts/deps.sh or install" \
				"linux-headers-$(uname -r)"
			echo "build-module: no headers for the running kernel" \
			     "$(uname -r); using the newest installed: $v" >&2
			kdir=/lib/modules/$v/build
		fi
	fi
fi

if [ ! -f "$kdir/Makefile" ]; then
	case "$kdir" in
	/lib/modules/*/build|/lib/modules/*/build/)
		guess=$(basename "$(dirname "$kdir")") ;;
	*)	guess="<ver>" ;;
	esac
	die "KDIR=$kdir has no Makefile: install linux-headers-$guess" \
	    "or pass KDIR=/lib/modules/<ver>/build (installed:" \
	    "$("$root/scripts/kernels.sh" --all | tr '\n' ' '| sed 's/ $//'))"
fi
kdir=$(cd "$kdir" && pwd -P)

rel=
if [ -f "$kdir/include/generated/utsrelease.h" ]; then
	rel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' \
	      "$kdir/include/generated/utsrelease.h")
fi
[ -n "$rel" ] || rel=$(cat "$kdir/include/config/kernel.release" 2>/dev/null ||
		       true)
[ -n "$rel" ] || die "cannot tell the kernel version of $kdir" \
	"(no include/generated/utsrelease.h): is it a configured kernel tree?"

excl=(--exclude='*.o' --exclude='.*.cmd' --exclude='*.ko' --exclude='*.mod'
      --exclude='*.mod.c' --exclude='*.o.d' --exclude='.*.d'
      --exclude=modules.order --exclude=Module.symvers
      --exclude='*.ko.xz' --exclude='*.ko.zst' --exclude=paxos_version.h)
if [ -z "$src" ]; then
	out=$root/build/$rel
	[ "$prof" = 1 ] && out=$out-prof
	mkdir -p "$out"
	rsync -a --delete "${excl[@]}" "$root/Kbuild" "$root/kmod" \
		"$root/uapi" "$out/"
else
	src=$(cd "$src" && pwd)
	[ -f "$src/Kbuild" ] || die "$src has no Kbuild file"
	out=$root/build/$rel/$(basename "$src")
	mkdir -p "$out"
	rsync -a --delete "${excl[@]}" "$src/" "$out/"
fi

# PAXOS_VERSION reaches the module through -imacros (dkms.conf does the
# same), which needs no quoting through make, dkms and the shell.
# Several developers may share one tree: one build per directory at a time.
exec {lockfd}>"$out.lock"
flock -w 900 "$lockfd" || die "$out is locked by another build"

ver=$("$root/scripts/version.sh")
vh="#define PAXOS_VERSION \"$ver\""
[ "$prof" = 1 ] && vh="$vh
#define KPAXOS_PROF 1"
[ "$(cat "$out/paxos_version.h" 2>/dev/null)" = "$vh" ] ||
	echo "$vh" > "$out/paxos_version.h"
echo "build-module: building in ${out#"$root"/} against $kdir" >&2
make -j2 -C "$kdir" M="$out" KCFLAGS="-imacros$out/paxos_version.h" \
	"$@" modules >&2 ||
	die "build against $rel failed (log above)"
if [ "$install" = 1 ]; then
	# Debian's modules are signed with Debian's key, which we do not
	# have: install unsigned (sign with your MOK for Secure Boot).
	make -C "$kdir" M="$out" INSTALL_MOD_PATH="${DESTDIR:-}" \
		INSTALL_MOD_DIR=extra CONFIG_MODULE_SIG_ALL= \
		modules_install >&2 || die "modules_install failed"
	if [ -z "${DESTDIR:-}" ]; then
		depmod -a "$rel" || die "depmod -a $rel failed"
	fi
fi
ls "$out"/*.ko
