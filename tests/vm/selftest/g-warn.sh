#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: the script passes but the kernel logs a WARNING (from
# tests/vm/selftest/kpx_selftest); the run must fail with 123.
insmod "$KPAXOS_BUILD/kpx_selftest/kpx_selftest.ko" warn=1 || exit 2
exit 0
