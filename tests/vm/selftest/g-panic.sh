#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: the guest kernel crashes (sysrq c); the run must fail
# with 125 (no status reported), not hang.
echo 1 > /proc/sys/kernel/sysrq
echo c > /proc/sysrq-trigger
sleep 100
