#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a failing guest script; the run must return its status.
echo "failing on purpose with status 3"
exit 3
