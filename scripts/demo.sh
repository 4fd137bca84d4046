#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: a 3-node kpaxos cluster inside one QEMU guest.
#
#   scripts/demo.sh [--kver V]     (default: the 6.1 kernel; or $KVER)
#
# On the host it builds paxos.ko for the guest's kernel and the user-space
# tools, then boots the guest (tests/vm/run.sh) with this same script, which
# inside the guest:
#   1. brings up nodes px1..px3 (network namespaces on a bridge, see
#      tests/vm/lib.sh),
#   2. loads paxos.ko,
#   3. runs the demo proper, examples/demo-guest.sh, if it exists: it is
#      sourced with the cluster up, so it can use the lib.sh helpers
#      (in_node, node_mac, ...) to configure the nodes, run the kvstore
#      example, propose from every node and show each node's status.
# The console output is the demo; it is kept in out/vm-logs/demo-<kver>.log.

set -euo pipefail

if [ "${KPAXOS_GUEST:-0}" != 1 ]; then
	root=$(cd "$(dirname "$0")/.." && pwd)
	kver=${KVER:-6.1}
	[ "${1:-}" = --kver ] && kver=$2
	kver=$("$root/scripts/kernels.sh" "$kver")
	log=$root/out/demo-build.log
	mkdir -p "$root/out"
	echo "demo: building paxos.ko for $kver and the user-space tools" \
	     "(log ${log#"$root"/})"
	"$root/scripts/build-module.sh" --kver "$kver" >"$log" 2>&1 ||
		echo "demo: paxos.ko did not build; booting anyway"
	make -C "$root" --no-print-directory userspace >>"$log" 2>&1 ||
		echo "demo: user space did not build; booting anyway"
	exec "$root/tests/vm/run.sh" --kver "$kver" --timeout 900 \
		--name demo "$root/scripts/demo.sh"
fi

# ---- in the guest -------------------------------------------------------
. "$KPAXOS_SRC/tests/vm/lib.sh"

echo
echo "=== kpaxos demo on Linux $(uname -r) ==="
cluster_up 3
for i in 1 2 3; do
	echo "  node $i: netns px$i, eth0 $(node_mac "$i")"
done

load_module
echo "paxos.ko loaded: $(grep '^paxos ' /proc/modules | cut -d' ' -f1-2)"
[ -e /dev/paxos ] && echo "/dev/paxos present"

hook=$KPAXOS_SRC/examples/demo-guest.sh
if [ -f "$hook" ]; then
	echo "=== running examples/demo-guest.sh ==="
	. "$hook"
else
	echo "(examples/demo-guest.sh not written yet: the cluster and the" \
	     "module are up, nothing is configured)"
fi
echo "=== demo done ==="
