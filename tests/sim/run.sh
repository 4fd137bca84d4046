#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Simulator self-checks:
#   1. determinism - the same seed gives the same trace, byte for byte, and
#      the seed set gives the same verdicts with 1 or 2 workers;
#   2. regressions - every seed in regress.txt (seeds that once found a bug
#      in the core) must pass;
#   3. snapshots - 300 seeds pass and some of them install a snapshot.
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
sim=$top/tools/sim/sim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

make -s -C "$top/tools/sim" sim >/dev/null || { echo "build failed"; exit 1; }

for s in 1 7 42 1000; do
	"$sim" --seed $s --trace >"$tmp/a" 2>&1
	"$sim" --seed $s --trace >"$tmp/b" 2>&1
	if cmp -s "$tmp/a" "$tmp/b" && [ -s "$tmp/a" ]; then
		ok
	else
		bad "seed $s: two runs differ"
	fi
done

"$sim" --seeds 60 --start 500 --jobs 1 | grep -v 'seeds/s' | sort >"$tmp/j1"
"$sim" --seeds 60 --start 500 --jobs 2 | grep -v 'seeds/s' | sort >"$tmp/j2"
if cmp -s "$tmp/j1" "$tmp/j2" && grep -q '^60 seeds, ' "$tmp/j1"; then
	ok
else
	bad "--jobs 1 and --jobs 2 disagree"
fi

# Snapshots are exercised: some of 300 seeds install one.
"$sim" --seeds 300 --jobs 2 >"$tmp/s"
n=$(awk '/^snapshots: / { print $2 }' "$tmp/s")
if grep -q '^300 seeds, 0 violations' "$tmp/s" && [ "${n:-0}" -gt 0 ]; then
	ok
else
	bad "300 seeds: $(grep -E '^(300 seeds|snapshots)' "$tmp/s" | tr '\n' ' ')"
fi

while read -r seed args; do
	case "$seed" in ''|'#'*) continue ;; esac
	args=${args%%#*}
	# shellcheck disable=SC2086
	if "$sim" --seed "$seed" $args >"$tmp/r" 2>&1; then
		ok
	else
		bad "regression seed $seed $args: $(grep '^VIOLATION' "$tmp/r")"
	fi
done <"$here/regress.txt"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
