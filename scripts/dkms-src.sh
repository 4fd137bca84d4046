#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Populate a DKMS source tree for paxos.ko:
#
#   scripts/dkms-src.sh DEST VERSION
#
# Copies Kbuild, kmod/, uapi/ and dkms.conf (with @VERSION@ replaced) to
# DEST (normally /usr/src/paxos-VERSION) and writes DEST/paxos_version.h.

set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: dkms-src.sh DEST VERSION}
ver=${2:?usage: dkms-src.sh DEST VERSION}

mkdir -p "$dest"
rsync -a --delete --exclude='*.o' --exclude='.*.cmd' --exclude='*.ko' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='*.o.d' \
	"$root/kmod" "$root/uapi" "$dest/"
cp "$root/Kbuild" "$dest/Kbuild"
sed "s/@VERSION@/$ver/" "$root/dkms.conf" > "$dest/dkms.conf"
echo "#define PAXOS_VERSION \"$ver\"" > "$dest/paxos_version.h"
