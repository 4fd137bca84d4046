#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kpaxos KUnit suites in a UML kernel built from Debian's
# linux-source-6.1 (see docs/kunit.md).
#
#   kunit/run.sh                  build (incrementally) and run every suite
#   kunit/run.sh GLOB             only suites/cases matching GLOB
#                                 (kunit.py filter_glob, e.g. kpaxos_wire)
#   kunit/run.sh --selftest-fail  boot with the deliberately failing case on;
#                                 must exit 1 with "1 passed, 1 failed"
#   kunit/run.sh --selftest       test of the wiring: runs --selftest-fail
#                                 and passes iff that run failed as it must
#
# The last line of output is always "N passed, N failed" (test cases, from
# kunit.py's parsed results; skipped cases are not counted; a build error, a
# run that produced no results, or a kernel warning/BUG/lockdep report in
# the kernel's log counts as one failure).  The exit status is 0 only if
# nothing failed and at least one case passed.
#
# Environment: KPAXOS_CACHE (default ~/.cache/kpaxos), KUNIT_JOBS (default
# 2), KPAXOS_LINUX_TARBALL (default /usr/src/linux-source-6.1.tar.xz).

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=kunit/tree.sh
. "$here/tree.sh"

build=$KPAXOS_CACHE/kunit-build
jobs=${KUNIT_JOBS:-2}
glob='kpaxos_*'
KERNEL_BAD_RE='WARNING:|BUG:|Oops|general protection|Kernel panic'
KERNEL_BAD_RE+='|possible circular locking|INFO: .*lock|KASAN|UBSAN:'
KERNEL_BAD_RE+='|refcount_t:|list_add corruption|list_del corruption'
KERNEL_BAD_RE+='|Call Trace'
kargs=()

usage()
{
	sed -n '4,22s/^# \{0,1\}//p' "$0"
}

# Print the summary line and exit accordingly.
finish()
{
	echo "$1 passed, $2 failed"
	[ "$2" -eq 0 ] && [ "$1" -gt 0 ]
	exit $?
}

selftest()
{
	local out rc last

	tree_log "selftest: running kunit/run.sh --selftest-fail," \
		"which must fail"
	out=$("$0" --selftest-fail 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[[0-9:]+\] +(\[|#|=|ok|not ok)' \
		| sed 's/^/  | /'
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [ "$rc" -ne 0 ] && [ "$last" = "1 passed, 1 failed" ]; then
		tree_log "selftest: the broken expectation failed the run" \
			"(exit $rc, \"$last\"): wiring ok"
		finish 1 0
	fi
	printf '%s\n' "$out" | tail -n 30 | sed 's/^/  | /'
	tree_log "selftest: expected exit != 0 and \"1 passed, 1 failed\"," \
		"got exit $rc and \"$last\""
	finish 0 1
}

while [ $# -gt 0 ]; do
	case $1 in
	-h|--help)
		usage
		exit 0
		;;
	--selftest)
		selftest
		;;
	--selftest-fail)
		glob='kpaxos-selftest'
		kargs+=(--kernel_args=kpaxos_kunit.selftest_fail=1)
		;;
	-*)
		echo "kunit/run.sh: unknown option $1" >&2
		usage >&2
		exit 2
		;;
	*)
		glob=$1
		;;
	esac
	shift
done

tree_extract || finish 0 1
old=$(tree_overlay "$repo") || finish 0 1
if [ -n "$old" ]; then
	# Another clone built here last: its objects may look newer than
	# our sources, so rebuild the suites from scratch.
	tree_log "overlay moved from $old to $repo; cleaning its objects"
	rm -rf "$build/drivers/kpaxos-kunit"
fi

json=$(mktemp "${TMPDIR:-/tmp}/kpaxos-kunit.XXXXXX") || finish 0 1
trap 'rm -f "$json"' EXIT

# One build directory at a time (make kunit and make test may overlap).
exec 9>"$KPAXOS_CACHE/kunit-build.lock"
flock 9

tree_log "kunit: tree $TREE, build $build"
stamp=$KPAXOS_CACHE/kunit-run.stamp
touch "$stamp"
# kunit.py's output minus known noise: the UML link's executable-stack
# warnings and stty complaining when stdin is not a terminal.
python3 "$TREE/tools/testing/kunit/kunit.py" run --arch=um \
	--kunitconfig="$here/kunitconfig" --build_dir="$build" \
	--jobs="$jobs" --json="$json" "${kargs[@]}" "$glob" </dev/null 2>&1 |
	grep --line-buffered -v -e '^/usr/bin/ld: \(warning\|NOTE\): ' \
		-e "^stty: 'standard input'"
rc=${PIPESTATUS[0]}

counts=$(python3 - "$json" <<'EOF'
import json
import sys


def walk(group, counts):
    for case in group.get('test_cases', []):
        status = case.get('status')
        if status == 'PASS':
            counts[0] += 1
        elif status != 'SKIP':
            counts[1] += 1
    for sub in group.get('sub_groups', []):
        walk(sub, counts)


counts = [0, 0]
try:
    with open(sys.argv[1]) as f:
        walk(json.load(f), counts)
except (OSError, ValueError):
    pass
print(counts[0], counts[1])
EOF
)
read -r passed failed <<<"$counts"
passed=${passed:-0}
failed=${failed:-0}

if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	tree_log "kunit.py exited $rc without a failed case" \
		"(build error, crash or timeout): counted as a failure"
	failed=1
fi
# A kernel warning, BUG or lockdep report during the run fails it even if
# every expectation held.  (test.log is only rewritten when a kernel ran.)
if [ "$build/test.log" -nt "$stamp" ]; then
	reports=$(grep -E "$KERNEL_BAD_RE" "$build/test.log" | head -n 20)
	if [ -n "$reports" ]; then
		tree_log "kernel reports in $build/test.log:"
		printf '%s\n' "$reports" | sed 's/^/  | /' >&2
		failed=$((failed + 1))
	fi
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
	tree_log "no test case ran"
	failed=1
fi
finish "$passed" "$failed"
