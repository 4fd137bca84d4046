#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian 12 packages kpaxos needs to build, test and demo.
# Idempotent and fast: when everything is installed it only runs dpkg-query
# and exits.  Otherwise it runs apt-get update + install for what is missing
# (as root, or through sudo).
#
#   scripts/deps.sh           install what is missing
#   scripts/deps.sh --check   only report; exit 1 if something is missing
#
# Adding a kernel series: add its linux-image-*/linux-headers-* packages here
# and the series to SUPPORTED in scripts/kernels.sh.

set -euo pipefail

PKGS=(
	# compiler and kernel build
	build-essential bc flex bison libelf-dev libssl-dev pkg-config
	kmod dkms rsync xz-utils zstd
	# the two supported LTS kernels (6.1 and 6.12), images + headers
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	# KUnit (UML build) and checkpatch come from the 6.1 source tarball
	linux-source-6.1 python3
	# VM test harness: QEMU guest with the host root over 9p
	qemu-system-x86 busybox-static cpio iproute2
	# user space: library and tools
	libnl-3-dev libnl-genl-3-dev liburing-dev
	# benchmark plots
	gnuplot-nox
)

# Print the packages of "$@" that are not installed (one dpkg-query call).
not_installed()
{
	local have

	have=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" \
	       2>/dev/null | awk '$1 == "ii" { print $2 }' || true)
	for p in "$@"; do
		grep -qxF -- "$p" <<<"$have" || echo "$p"
	done
}

mapfile -t missing < <(not_installed "${PKGS[@]}")

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "deps: missing: ${missing[*]}"
[ "${1:-}" = "--check" ] && exit 1

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		SUDO=(sudo)
	else
		echo "deps: need root (or sudo) to install packages" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get
     -o DPkg::Lock::Timeout=600 -y -q)
"${APT[@]}" update
"${APT[@]}" install "${missing[@]}"

# Re-check: a package that vanished from the archive must not pass silently.
mapfile -t left < <(not_installed "${missing[@]}")
if [ ${#left[@]} -ne 0 ]; then
	echo "deps: still missing after install: ${left[*]}" >&2
	exit 1
fi
echo "deps: installed ${missing[*]}"
