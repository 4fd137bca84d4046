#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install` into a scratch DESTDIR with PREFIX=/usr, for one kernel:
# every file users need lands where it should, the installed library links
# a program through its pkg-config file, and nothing is written outside
# DESTDIR.  Ends with "N passed, N failed".
#
#   tests/install.sh [KVER]      (default: the 6.1 kernel)

set -u
root=$(cd "$(dirname "$0")/.." && pwd)
kver=$("$root/scripts/kernels.sh" "${1:-6.1}") || exit 1
dest=$(mktemp -d /tmp/kpaxos-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
pass=0
fail=0

check()
{
	if "${@:2}"; then
		pass=$((pass + 1))
	else
		echo "FAIL: $1"
		fail=$((fail + 1))
	fi
}

make -C "$root" --no-print-directory install DESTDIR="$dest" PREFIX=/usr \
	KVER="$kver" >"$dest.log" 2>&1
check "make install (log $dest.log)" [ $? = 0 ]
for f in "lib/modules/$kver/extra/paxos.ko" usr/sbin/paxosctl \
	 usr/include/linux/paxos.h usr/include/kpaxos.h \
	 usr/lib/pkgconfig/kpaxos.pc usr/lib/libkpaxos.a usr/bin/kvstore; do
	check "$f installed" [ -s "$dest/$f" ]
done
check "libkpaxos.so.1 soname link" [ -e "$dest/usr/lib/libkpaxos.so.1" ]
check "libkpaxos.so dev link" [ -e "$dest/usr/lib/libkpaxos.so" ]

# A program built against the installed tree only.
cat >"$dest/t.c" <<'PROG'
#include <kpaxos.h>
#include <linux/paxos.h>
int main(void)
{
	struct kpaxos *h;

	return kpaxos_open(&h, NULL) == 0 ? 1 : (PAXOS_ETHERTYPE ? 0 : 2);
}
PROG
flags=$(PKG_CONFIG_SYSROOT_DIR=$dest \
	PKG_CONFIG_LIBDIR=$dest/usr/lib/pkgconfig \
	pkg-config --cflags --libs kpaxos 2>&1)
check "pkg-config kpaxos ($flags)" [ -n "$flags" ]
# shellcheck disable=SC2086
check "a program compiles and links against the installed library" \
	cc -o "$dest/t" "$dest/t.c" $flags -Wl,-rpath-link,"$dest/usr/lib"
rm -f "$dest.log"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
