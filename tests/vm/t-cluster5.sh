#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Five nodes with MTU 9000: every node proposes 120 commands of 6000 bytes
# at once; every node delivers all 600 exactly once and the logs are equal.
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

px_basic_cluster 5 120 6000 9000
log "PASS"
