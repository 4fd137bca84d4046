#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a guest that hangs; the host must kill it at the
# timeout and report 124.
echo "hanging on purpose"
sleep 100000
