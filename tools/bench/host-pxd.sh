#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# host-pxd.sh: pxd natively on this host (no VM), three daemons over UDP on
# 127.0.0.1 - a reference for what emulation costs the in-guest numbers of
# `make bench`.  The module cannot be measured this way (the host does not
# load modules), so this is not a comparison, only a scale.
#
#   tools/bench/host-pxd.sh [--duration S] [--json]
#
# Points: 64 B commands with 1, 32 and 256 proposers; 256 proposers with
# batching off (batch limit 28 B = one command per instance); and a UDP
# ping-pong on loopback.
set -u
cd "$(dirname "$0")"
B=$PWD
DUR=2
JSON=()
while [ $# -gt 0 ]; do
	case "$1" in
	--duration) DUR=$2; shift 2 ;;
	--json) JSON=(--json); shift ;;
	*) echo "host-pxd.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
make -s -j2 pxd load pingpong >/dev/null || exit 1

DIR=$(mktemp -d /tmp/host-pxd.XXXXXX)
PORT=$((21000 + $$ % 20000))
PIDS=()
stop() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
}
trap 'stop; rm -rf "$DIR"' EXIT

up() {	# up [pxd options]: three nodes; sets L to the leader
	local i j peers t
	for i in 1 2 3; do
		peers=""
		for j in 1 2 3; do
			[ $j = $i ] ||
				peers="$peers --peer $j=127.0.0.1:$((PORT + j))"
		done
		"$B/pxd" --id $i --udp "127.0.0.1:$((PORT + i))" $peers \
			--sock "$DIR/px$i.sock" --election-us 500000 "$@" \
			2>>"$DIR/pxd.err" &
		PIDS+=($!)
	done
	for t in $(seq 100); do
		for i in 1 2 3; do
			if "$B/pxd" --status "$DIR/px$i.sock.ctl" 2>/dev/null |
			   grep -qx is_leader=1; then
				L=$i
				return 0
			fi
		done
		sleep 0.05
	done
	echo "host-pxd.sh: no leader" >&2
	return 1
}

point() {	# point CONC LABEL
	"$B/load" "$DIR/px$L.sock" -c "$1" -s 64 -d "$DUR" --cpu pxd \
		--label "$2" --timeout-ms 5000 "${JSON[@]}"
}

echo "host: $(nproc) CPUs, $(uname -r), load average" \
     "$(cut -d' ' -f1-3 /proc/loadavg)"
"$B/pingpong" server --udp "127.0.0.1:$((PORT + 9))" &
pp=$!
sleep 0.2
"$B/pingpong" client --udp "127.0.0.1:$((PORT + 9))" -n 2000 "${JSON[@]}"
kill $pp
wait $pp 2>/dev/null
up && { point 1 pxd-udp-native; point 32 pxd-udp-native
	point 256 pxd-udp-native; }
stop
up --batch-bytes 28 && point 256 pxd-udp-native-unbatched
stop
