#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Three nodes in namespaces px1..px3 on one bridge (see lib.sh): every node
# proposes 200 commands of 2000 bytes at once (fragmented at MTU 1500);
# every node delivers all 600 exactly once and the three logs are equal.
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

px_basic_cluster 3 200 2000 1500
log "PASS"
