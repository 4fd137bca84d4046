#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-test, two guests (tests/vm/multi.sh --nodes 2): frames flow
# between the VMs, the hub's block filter cuts them, a guest can be
# restarted, and a killed guest stops answering.  Guest 1 checks; guest 2
# just lives until it is killed.

. "$KPAXOS_SRC/tests/vm/lib.sh"

peer=10.98.0.2

# The host has no iputils; busybox is there (busybox-static).
ping()
{
	busybox ping "$@"
}

reachable()
{
	ping -c 1 -W 1 "$peer" >/dev/null 2>&1
}

if [ "$KPAXOS_NODE" = 2 ]; then
	assert_eq "$(node_mac 2)" "$(cat /sys/class/net/eth0/address)" "MAC"
	vm_barrier "boot$KPAXOS_BOOT" 2
	sleep 600
	exit 1
fi

assert_eq "$(node_mac 1)" "$(cat /sys/class/net/eth0/address)" "MAC"
vm_barrier boot0 2
wait_for 20 reachable
log "guest 2 answers ping"

vm_block 1 2
assert_fails ping -c 2 -W 1 "$peer"
vm_unblock
wait_for 20 reachable
log "block filter works"

vm_restart 2
vm_barrier boot1 2
wait_for 20 reachable
log "guest 2 is back after a restart"

vm_kill 2
assert_fails ping -c 2 -W 1 "$peer"
log "guest 2 is gone"
