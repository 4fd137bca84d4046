#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# bench.sh: the kpaxos benchmark, run inside a QEMU guest by
# tools/bench/run.sh (through tests/vm/run.sh).  Writes one JSON object per
# line to $KPAXOS_OUT/bench.jsonl; tools/bench/report.py turns that into the
# table, results.json and the plots.
#
#        px1 netns            px2 netns            px3 netns
#     eth0 10.99.0.1       eth0 10.99.0.2       eth0 10.99.0.3
#          |  veth              |  veth              |  veth
#     -----+------------ br-px (root namespace) -----+-----
#
# The same three namespaces run, one after the other:
#   pingpong  raw AF_PACKET and UDP echo between px1 and px2 (the floor)
#   pxd-udp   tools/bench/pxd on each node, frames in UDP datagrams
#   pxd-raw   tools/bench/pxd on each node, AF_PACKET frames like the module
#   kernel    paxos.ko on each node (if $KPAXOS_KO exists)
# and tools/bench/load drives each with the same workload from the leader's
# namespace: /dev/paxos for the module, pxd's unix socket for pxd.
#
# usage: bench.sh [--quick] [--duration S] [--only LIST]
#   LIST: comma-separated of pingpong,pxd-udp,pxd-raw,kernel
set -u
. "$KPAXOS_SRC/tests/vm/lib.sh"
set +e		# a failed point is recorded and the run goes on

B=$KPAXOS_SRC/tools/bench
OUT=$KPAXOS_OUT
RES=$OUT/bench.jsonl
RUN=/tmp/pxbench
QUICK=0
DUR=2
WARM=0.5
ONLY=pingpong,pxd-udp,pxd-raw,kernel
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1; shift ;;
	--duration) DUR=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$QUICK" = 1 ] && DUR=1
want() { [[ ",$ONLY," == *",$1,"* ]]; }

mkdir -p "$RUN"
: > "$RES"
emit() { echo "$1" >> "$RES"; }
note() { log "$*"; emit "{\"kind\":\"note\",\"text\":\"$*\"}"; }

# ------------------------------------------------------------ environment
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
virt=$(systemd-detect-virt 2>/dev/null || echo unknown)
accel=tcg
grep -qw hypervisor /proc/cpuinfo && grep -q QEMU /proc/cpuinfo 2>/dev/null &&
	accel=tcg
[ -n "${KPAXOS_KVM:-}" ] && accel=kvm
emit "$(printf '{"kind":"env","kernel":"%s","cpus":%d,"cpu_model":"%s","virt":"%s","accel":"%s","mem_mb":%d,"quick":%d,"duration_s":%s,"date":"%s"}' \
	"$(uname -r)" "$(nproc)" "$cpu_model" "$virt" "$accel" \
	$(( $(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024 )) \
	"$QUICK" "$DUR" "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"

cluster_up 3
PEERS_MAC=""
for i in 1 2 3; do
	PEERS_MAC="$PEERS_MAC --peer $i=$(node_mac "$i")"
done

# --------------------------------------------------------------- helpers
BG=()
bg_kill() {
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${BG[@]}"; do
		wait "$p" 2>/dev/null
	done
	BG=()
}
on_exit bg_kill

# point BACKEND TARGET NODE SIZE CONC MODE [TAGS...]: one load run
point() {
	local backend=$1 target=$2 node=$3 size=$4 conc=$5 mode=$6 out
	local cpu=()
	shift 6
	if [ "${backend#pxd}" != "$backend" ]; then
		cpu=(--cpu pxd)
	else
		cpu=(--cpu px1- --cpu px2- --cpu px3-)
	fi
	out=$(in_node "$node" timeout $((${DUR%.*} + 30)) "$B/load" "$target" \
		-c "$conc" -s "$size" -d "$DUR" -w "$WARM" --mode "$mode" \
		--label "$backend" --json "${cpu[@]}" "$@" 2>"$RUN/load.err")
	if [ $? = 0 ] && [ -n "$out" ]; then
		emit "$out"
		log "$backend/$mode size=$size conc=$conc $*:" \
		    "$(echo "$out" | sed 's/.*"cmds_per_s":\([0-9.]*\).*"p50":\([0-9.]*\).*/\1 cmds\/s p50 \2 us/')"
	else
		note "FAILED $backend/$mode size=$size conc=$conc $*: $(tail -1 "$RUN/load.err")"
	fi
}

# ---------------------------------------------------------------- pingpong
pingpong() {
	local n=2000 out
	[ "$QUICK" = 1 ] && n=300
	in_node 2 "$B/pingpong" server --raw eth0 &
	BG+=($!)
	in_node 2 "$B/pingpong" server --udp 0.0.0.0:7999 &
	BG+=($!)
	sleep 0.5
	for size in 64 1024; do
		out=$(in_node 1 "$B/pingpong" client --raw eth0 \
			--dst "$(node_mac 2)" -n $n -s $size --json) &&
			emit "$out" || note "FAILED pingpong raw $size"
		out=$(in_node 1 "$B/pingpong" client \
			--udp "$(node_ip 2):7999" -n $n -s $size --json) &&
			emit "$out" || note "FAILED pingpong udp $size"
		[ "$QUICK" = 1 ] && break
	done
	bg_kill
}

# ------------------------------------------------------------- pxd cluster
PXD_LEADER=
pxd_up() {	# pxd_up udp|raw [pxd options...]
	local tr=$1 i j peers t
	shift
	for i in 1 2 3; do
		rm -f "$RUN/px$i.sock" "$RUN/px$i.sock.ctl"
		if [ "$tr" = udp ]; then
			peers=""
			for j in 1 2 3; do
				[ $j = $i ] ||
				peers="$peers --peer $j=$(node_ip $j):7000"
			done
			in_node $i "$B/pxd" --id $i --udp "$(node_ip $i):7000" \
				$peers --sock "$RUN/px$i.sock" "$@" \
				2>>"$RUN/pxd.err" &
		else
			in_node $i "$B/pxd" --id $i --raw eth0 $PEERS_MAC \
				--sock "$RUN/px$i.sock" "$@" 2>>"$RUN/pxd.err" &
		fi
		BG+=($!)
	done
	PXD_LEADER=
	for t in $(seq 100); do
		for i in 1 2 3; do
			[ -S "$RUN/px$i.sock.ctl" ] || continue
			if "$B/pxd" --status "$RUN/px$i.sock.ctl" 2>/dev/null |
			   grep -qx is_leader=1; then
				PXD_LEADER=$i
				return 0
			fi
		done
		sleep 0.1
	done
	note "pxd-$tr: no leader elected"
	return 1
}

pxd_down() {
	bg_kill
}

# pxd_points udp|raw: the sweeps
pxd_sweep() {
	local tr=$1 be=pxd-$1 s c b w
	if [ "$QUICK" = 1 ]; then
		pxd_up "$tr" || return
		point $be "$RUN/px$PXD_LEADER.sock" $PXD_LEADER 64 4 loop \
			--tag sweep=quick
		pxd_down
		return
	fi
	pxd_up "$tr" || return
	for s in 16 64 256 1024 4096 8192; do
		point $be "$RUN/px$PXD_LEADER.sock" $PXD_LEADER $s 16 loop \
			--tag sweep=size
	done
	for c in 1 2 4 8 32 64; do
		point $be "$RUN/px$PXD_LEADER.sock" $PXD_LEADER 64 $c loop \
			--tag sweep=conc
	done
	point $be "$RUN/px$PXD_LEADER.sock" $PXD_LEADER 64 32 loop \
		--tag sweep=long -d $((DUR * 4)) -i 1
	pxd_down
	[ "$tr" = udp ] || return 0
	for b in 28 256 1024 4096 16384 65536; do
		pxd_up "$tr" --batch-bytes $b || continue
		point $be "$RUN/px$PXD_LEADER.sock" $PXD_LEADER 64 32 loop \
			--tag sweep=batch --tag batch_bytes=$b
		pxd_down
	done
	for w in 1 4 16 64 256; do
		pxd_up "$tr" --window $w || continue
		point $be "$RUN/px$PXD_LEADER.sock" $PXD_LEADER 64 32 loop \
			--tag sweep=window --tag window=$w
		pxd_down
	done
}

# ---------------------------------------------------------- kernel cluster
K_LEADER=
kernel_up() {	# kernel_up [--param K=V]...
	local i t
	for i in 1 2 3; do
		in_node $i "$B/pxcheck" kup /dev/paxos --id $i --ifname eth0 \
			$PEERS_MAC "$@" || { note "kernel: kup node $i failed"
					     return 1; }
	done
	K_LEADER=
	for t in $(seq 100); do
		for i in 1 2 3; do
			if in_node $i "$B/pxcheck" kstatus /dev/paxos \
			   2>/dev/null | grep -qx is_leader=1; then
				K_LEADER=$i
				return 0
			fi
		done
		sleep 0.1
	done
	note "kernel: no leader elected"
	return 1
}

kernel_down() {
	local i
	for i in 1 2 3; do
		in_node $i "$B/pxcheck" kdown /dev/paxos 2>/dev/null
	done
}

kernel_sweep() {
	local s c b w m
	if [ -z "${KPAXOS_KO:-}" ] || [ ! -f "$KPAXOS_KO" ]; then
		note "kernel: module not built, skipped"
		return
	fi
	if ! insmod "$KPAXOS_KO"; then
		note "kernel: insmod failed"
		return
	fi
	if [ "$QUICK" = 1 ]; then
		kernel_up || return
		point kernel /dev/paxos $K_LEADER 64 4 loop --tag sweep=quick
		kernel_down
		return
	fi
	kernel_up || return
	for s in 16 64 256 1024 4096 8192; do
		point kernel /dev/paxos $K_LEADER $s 16 loop --tag sweep=size
	done
	for c in 1 2 4 8 32 64; do
		point kernel /dev/paxos $K_LEADER 64 $c loop --tag sweep=conc
	done
	point kernel /dev/paxos $K_LEADER 64 32 loop --tag sweep=long \
		-d $((DUR * 4)) -i 1
	for m in lib uring; do
		for c in 1 16; do
			point kernel /dev/paxos $K_LEADER 64 $c $m \
				--tag sweep=lib
		done
	done
	kernel_down
	for b in 28 256 1024 4096 16384 65536; do
		kernel_up --param batch_bytes=$b || continue
		point kernel /dev/paxos $K_LEADER 64 32 loop \
			--tag sweep=batch --tag batch_bytes=$b
		kernel_down
	done
	for w in 1 4 16 64 256; do
		kernel_up --param window=$w || continue
		point kernel /dev/paxos $K_LEADER 64 32 loop \
			--tag sweep=window --tag window=$w
		kernel_down
	done
	rmmod paxos 2>/dev/null
}

for part in pingpong pxd-udp pxd-raw kernel; do
	want $part || note "$part: skipped (not in --only)"
done
want pingpong && pingpong
want pxd-udp && pxd_sweep udp
want pxd-raw && pxd_sweep raw
want kernel && kernel_sweep
log "bench done: $(grep -c '"kind":"load"' "$RES") load points," \
    "$(grep -c '"kind":"pingpong"' "$RES") ping-pong runs"
exit 0
