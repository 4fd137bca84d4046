#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel coding style check (`make style`): the kernel's checkpatch.pl, taken
# from Debian's linux-source-6.1 tarball (cached in build/checkpatch/), on
# every C file of kmod/, uapi/, userlib/ and tools/ (or the files given).
# Exit status 1 if checkpatch reports an ERROR or WARNING.
#
#   scripts/style.sh [FILE...]

set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cp_dir=$root/build/checkpatch
tarball=${KPAXOS_LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}

if [ ! -x "$cp_dir/checkpatch.pl" ]; then
	[ -f "$tarball" ] ||
		{ echo "style: $tarball missing: run scripts/deps.sh" >&2; exit 1; }
	echo "style: extracting checkpatch.pl from $tarball" >&2
	mkdir -p "$cp_dir"
	tar xJf "$tarball" -C "$cp_dir" --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi

cd "$root"
if [ $# -gt 0 ]; then
	files=("$@")
else
	mapfile -t files < <(find kmod uapi userlib tools \
		\( -name '*.c' -o -name '*.h' \) -not -path '*/obj/*' \
		2>/dev/null | sort)
fi

# Out-of-tree: no MAINTAINERS, no git tree of the kernel.  User-space files
# may use typedefs of their own (NEW_TYPEDEFS), the C library's types and
# plain __attribute__ (no kernel macros there), and volatile sig_atomic_t
# for signal handlers.
common=(--no-tree --terse --show-types --file --max-line-length=80
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG)
bad=0
for f in "${files[@]}"; do
	extra=()
	case "$f" in
	# The one place where kernel versions are compared (see its top).
	kmod/compat.h) extra=(--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON) ;;
	kmod/*) ;;
	# The benchmark's JSON formats read better split than on one line.
	tools/bench/*) extra=(--ignore NEW_TYPEDEFS,PREFER_KERNEL_TYPES,SSCANF_TO_KSTRTO,PREFER_PR_LEVEL,EMBEDDED_FUNCTION_NAME,PREFER_DEFINED_ATTRIBUTE_MACRO,VOLATILE,SPLIT_STRING) ;;
	# UAPI headers cannot use the kernel's __packed & co.
	uapi/*) extra=(--ignore PREFER_DEFINED_ATTRIBUTE_MACRO) ;;
	*) extra=(--ignore NEW_TYPEDEFS,PREFER_KERNEL_TYPES,SSCANF_TO_KSTRTO,PREFER_PR_LEVEL,EMBEDDED_FUNCTION_NAME,PREFER_DEFINED_ATTRIBUTE_MACRO,VOLATILE) ;;
	esac
	out=$(perl "$cp_dir/checkpatch.pl" "${common[@]}" "${extra[@]}" "$f" \
	      2>&1 | grep -E ': (ERROR|WARNING):' || true)
	if [ -n "$out" ]; then
		echo "$out"
		bad=$((bad + $(echo "$out" | wc -l)))
	fi
done
echo "style: ${#files[@]} files, $bad problems"
[ "$bad" = 0 ]
