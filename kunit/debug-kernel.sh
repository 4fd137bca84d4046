#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a small x86_64 debug kernel (KASAN, lockdep, kmemleak, atomic-sleep
# checks) for the VM tests, from the same Linux 6.1 tree as the KUnit runs
# (see docs/kunit.md).
#
#   kunit/debug-kernel.sh            configure if needed, build, install
#   kunit/debug-kernel.sh --print    only print the variables below for an
#                                    existing build (exit 1 if there is none)
#
# Configuration: `make tinyconfig` + kunit/debug.config, redone only when
# that fragment changes; every option it sets is checked in the result.
# Output (in the cache, ${KPAXOS_CACHE:-~/.cache/kpaxos}):
#   debug-build/                      the O= build tree: KDIR for paxos.ko
#   debug/bzImage                     the kernel
#   debug/lib/modules/<KVER>/         modules_install (modules.dep, builtin)
#   debug/env                         the lines below, for sourcing
# The last lines printed are, for tests/vm/run.sh and the module build:
#   KERNEL=<bzImage>  MODDIR=<lib/modules/KVER>  KDIR=<debug-build>
#   KVER=<release>
#
# Environment: KPAXOS_CACHE, KPAXOS_LINUX_TARBALL (see kunit/tree.sh),
# DEBUG_KERNEL_JOBS (default 2).

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=kunit/tree.sh
. "$here/tree.sh"

build=$KPAXOS_CACHE/debug-build
inst=$KPAXOS_CACHE/debug
frag=$here/debug.config
jobs=${DEBUG_KERNEL_JOBS:-2}
print_only=0

die()
{
	tree_log "debug-kernel: $*"
	exit 1
}

print_env()
{
	[ -f "$inst/env" ] && [ -f "$inst/bzImage" ] || return 1
	cat "$inst/env"
}

case "${1:-}" in
--print)
	print_only=1
	;;
-h|--help)
	sed -n '4,25s/^# \{0,1\}//p' "$0"
	exit 0
	;;
"")
	;;
*)
	echo "debug-kernel.sh: unknown argument $1" >&2
	exit 2
	;;
esac
if [ "$print_only" = 1 ]; then
	print_env || die "no debug kernel built yet (run kunit/debug-kernel.sh)"
	exit 0
fi

kmake()
{
	make -C "$TREE" O="$build" ARCH=x86_64 "$@"
}

# Every "CONFIG_X=v" of the fragment must be in .config as is, and no
# "# CONFIG_X is not set" may be y there.
check_config()
{
	local line sym bad=0

	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$build/.config" && continue
			tree_log "debug-kernel: wanted $line, got:" \
				"$(grep -E "^(# )?${line%%=*}[= ]" \
				   "$build/.config" || echo nothing)"
			bad=1
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			if grep -q "^$sym=" "$build/.config"; then
				tree_log "debug-kernel: wanted $sym off"
				bad=1
			fi
			;;
		esac
	done <"$frag"
	return $bad
}

configure()
{
	local stamp=$build/.kpaxos-debug-config sum

	sum=$(md5sum <"$frag" | cut -c1-32)
	if [ -f "$build/.config" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]
	then
		return 0
	fi
	tree_log "debug-kernel: configuring (tinyconfig + $frag)"
	mkdir -p "$build"
	kmake tinyconfig >/dev/null || return 1
	"$TREE/scripts/kconfig/merge_config.sh" -m -O "$build" \
		"$build/.config" "$frag" >/dev/null || return 1
	kmake olddefconfig >/dev/null || return 1
	check_config || return 1
	echo "$sum" >"$stamp"
}

tree_extract || die "cannot extract the kernel tree"
tree_overlay "$repo" >/dev/null || die "cannot set up the tree overlay"

exec 9>"$KPAXOS_CACHE/debug-build.lock"
flock 9

start=$SECONDS
configure || die "configuration failed"
tree_log "debug-kernel: building in $build (-j$jobs)"
kmake -j"$jobs" bzImage modules >"$build/kpaxos-build.log" 2>&1 || {
	tail -n 40 "$build/kpaxos-build.log" >&2
	die "build failed (log $build/kpaxos-build.log)"
}
kver=$(cat "$build/include/config/kernel.release") ||
	die "no kernel.release"
rm -rf "$inst/lib/modules/$kver"
mkdir -p "$inst"
kmake INSTALL_MOD_PATH="$inst" modules_install >/dev/null ||
	die "modules_install failed"
[ -f "$inst/lib/modules/$kver/modules.dep" ] ||
	die "modules_install left no modules.dep"
cp "$build/arch/x86/boot/bzImage" "$inst/bzImage.tmp" &&
	mv "$inst/bzImage.tmp" "$inst/bzImage" || die "cannot install bzImage"
cat >"$inst/env" <<EOF
KERNEL=$inst/bzImage
MODDIR=$inst/lib/modules/$kver
KDIR=$build
KVER=$kver
EOF
tree_log "debug-kernel: $kver ready in $((SECONDS - start))s"
cat "$inst/env"
