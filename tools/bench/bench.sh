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
# usage: bench.sh [--quick] [--duration S] [--only LIST] [--sweeps LIST]
#   --only: comma-separated of pingpong,pxd-udp,pxd-raw,kernel
#   --sweeps: of head,size,conc,long,lib,batch,window (default all)
#   --perf: profile (perf record -a, cpu-clock) the first 32-proposer
#           reference point of each backend into $KPAXOS_OUT/perf-*.txt
#   --prof: the module is a -DKPAXOS_PROF build (run.sh --prof): every
#           kernel point records its hand profile (kmod/prof.h)
#   --sched: trace the scheduler (ftrace sched_switch/sched_wakeup, the
#           events enabled at boot by run.sh) for 0.5 s of the first
#           32-proposer reference point of each backend into
#           $KPAXOS_OUT/sched-*.txt, for tools/bench/sched.py
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
SWEEPS=head,size,conc,long,lib,batch,window
PERF=0
PROF=
SCHED=
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1; shift ;;
	--duration) DUR=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--sweeps) SWEEPS=$2; shift 2 ;;
	--perf) PERF=1; shift ;;
	--prof) PROF=1; shift ;;
	--sched) SCHED=1; shift ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$QUICK" = 1 ] && DUR=1
want() { [[ ",$ONLY," == *",$1,"* ]]; }
sweep() { [[ ",$SWEEPS," == *",$1,"* ]]; }

mkdir -p "$RUN"
: > "$RES"
# `ip netns exec` mounts a sysfs of its own over /sys: the load generator
# reaches the profile through a debugfs mount outside it
if [ -n "$PROF" ]; then
	mkdir -p "$RUN/debugfs"
	mount -t debugfs debugfs "$RUN/debugfs" &&
		PROF=$RUN/debugfs/paxos/prof || PROF=
fi
# --sched: run.sh enabled the events at boot (trace_event=); only the
# buffer is switched on and off here
if [ -n "$SCHED" ]; then
	mkdir -p "$RUN/tracefs"
	mount -t tracefs tracefs "$RUN/tracefs" &&
		SCHED=$RUN/tracefs || SCHED=
	[ -n "$SCHED" ] && echo 0 > "$SCHED/tracing_on"
fi
emit() { echo "$1" >> "$RES"; }
note() { log "$*"; emit "{\"kind\":\"note\",\"text\":\"$*\"}"; }

# ------------------------------------------------------------ environment
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
virt=unknown
grep -q QEMU /proc/cpuinfo && virt=qemu
accel=tcg
[ -n "${KPAXOS_KVM:-}" ] && accel=kvm
clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
emit "$(printf '{"kind":"env","kernel":"%s","cpus":%d,"cpu_model":"%s","virt":"%s","accel":"%s","clocksource":"%s","idle":"%s","mem_mb":%d,"quick":%d,"duration_s":%s,"date":"%s"}' \
	"$(uname -r)" "$(nproc)" "$cpu_model" "$virt" "$accel" "$clocksource" \
	"$(grep -o 'idle=[a-z]*' /proc/cmdline || echo default)" \
	$(( $(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024 )) \
	"$QUICK" "$DUR" "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"

cluster_up 3
PEERS_MAC=""
for i in 1 2 3; do
	PEERS_MAC="$PEERS_MAC --peer $i=$(node_mac "$i")"
done

# --------------------------------------------------------------- helpers
BG=()
# bg_node I CMD...: run CMD in node I's namespace in the background; its pid
# (ip netns exec execs CMD) goes to BG
bg_node() {
	local i=$1
	shift
	ip netns exec "px$i" "$@" &
	BG+=($!)
}

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
		[ -n "$PROF" ] && cpu+=(--prof "$PROF")
	fi
	# --perf and --sched look at the first reference point of a backend
	local first=0 perf_pid= sched_pid=
	[[ " $* " == *"sweep=head --tag rep=1 "* ]] && first=1
	if [ "$PERF" = 1 ] && [ "$first" = 1 ] && command -v perf >/dev/null
	then
		perf record -e cpu-clock -a -o "$RUN/perf-$backend.data" -- \
			sleep "$(echo "$WARM + $DUR" | bc)" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	if [ -n "$SCHED" ] && [ "$first" = 1 ]; then
		sched_trace "$OUT/sched-$backend.txt" &
		sched_pid=$!
	fi
	out=$(in_node "$node" timeout $((${DUR%.*} + 30)) "$B/load" "$target" \
		-c "$conc" -s "$size" -d "$DUR" -w "$WARM" --mode "$mode" \
		--label "$backend" --json --timeout-ms 5000 "${cpu[@]}" "$@" \
		2>"$RUN/load.err")
	if [ $? = 0 ] && [ -n "$out" ]; then
		emit "$out"
		log "$backend/$mode size=$size conc=$conc $*:" \
		    "$(echo "$out" | sed 's/.*"cmds_per_s":\([0-9.]*\).*"p50":\([0-9.]*\).*/\1 cmds\/s p50 \2 us/')"
	else
		note "FAILED $backend/$mode size=$size conc=$conc $*: $(tail -1 "$RUN/load.err")"
	fi
	if [ -n "$sched_pid" ]; then
		wait "$sched_pid"
		echo "# point $out" >> "$OUT/sched-$backend.txt"
	fi
	if [ -n "$perf_pid" ]; then
		wait "$perf_pid"
		perf report -i "$RUN/perf-$backend.data" --stdio \
			--sort comm,dso,sym --percent-limit 0.3 2>/dev/null |
			grep -v '^$' | head -120 > "$OUT/perf-$backend.txt"
	fi
}

# sched_trace FILE: 0.5 s of scheduler events from the middle of a point
sched_trace() {
	local t=$SCHED
	sleep "$(echo "$WARM + 0.5" | bc)"
	echo global > "$t/trace_clock"
	echo 8192 > "$t/buffer_size_kb"
	: > "$t/trace"
	echo 1 > "$t/tracing_on"
	sleep 0.5
	echo 0 > "$t/tracing_on"
	cat "$t/trace" > "$1"
}

# ---------------------------------------------------------------- pingpong
# Echo servers in px2 for the whole run; clients in px1.
PP_PIDS=()
pp_servers() {
	ip netns exec px2 "$B/pingpong" server --raw eth0 &
	PP_PIDS+=($!)
	ip netns exec px2 "$B/pingpong" server --udp 0.0.0.0:7999 &
	PP_PIDS+=($!)
	sleep 0.3
}

pp_stop() {
	local p
	for p in "${PP_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PP_PIDS=()
}
on_exit pp_stop

# pp TRANSPORT SIZE COUNT [FOR]: one ping-pong run; FOR names the backend
# whose latency it is compared with (measured just before that backend)
pp() {
	local tr=$1 size=$2 n=$3 for=${4:-} out dst
	if [ "$tr" = raw ]; then
		dst=(--raw eth0 --dst "$(node_mac 2)")
	else
		dst=(--udp "$(node_ip 2):7999")
	fi
	out=$(in_node 1 timeout 60 "$B/pingpong" client "${dst[@]}" -n "$n" \
		-s "$size" --json)
	if [ $? = 0 ] && [ -n "$out" ]; then
		[ -n "$for" ] && out="${out%\}},\"for\":\"$for\"}"
		emit "$out"
	else
		note "FAILED pingpong $tr $size"
	fi
}

pingpong() {
	local n=1000 size
	[ "$QUICK" = 1 ] && n=300
	for size in 64 1024; do
		pp raw $size $n
		pp udp $size $n
		[ "$QUICK" = 1 ] && break
	done
}

# ---------------------------------------------------------------- clusters
# Only one cluster runs at a time; points are interleaved across backends
# (each configuration is measured on every backend back to back), so that
# drift in the machine's load - the host is shared - hits all alike.
LEADER=
CUR=
KMOD=0

wait_leader() {	# wait_leader STATUS-COMMAND-PREFIX...
	local t i
	LEADER=
	for t in $(seq 150); do
		for i in 1 2 3; do
			if "$@" "$i" 2>/dev/null | grep -qx is_leader=1; then
				LEADER=$i
				return 0
			fi
		done
		sleep 0.1
	done
	return 1
}

pxd_status() { "$B/pxd" --status "$RUN/px$1.sock.ctl"; }
k_status() { in_node "$1" "$B/pxcheck" kstatus /dev/paxos; }

pxd_up() {	# pxd_up udp|raw [K=V]...
	local tr=$1 i j peers kv opts=()
	shift
	for kv in "$@"; do
		opts+=("--${kv%%=*}" "${kv#*=}")
	done
	opts=("${opts[@]//_/-}")
	for i in 1 2 3; do
		rm -f "$RUN/px$i.sock" "$RUN/px$i.sock.ctl"
		if [ "$tr" = udp ]; then
			peers=""
			for j in 1 2 3; do
				[ $j = $i ] ||
				peers="$peers --peer $j=$(node_ip $j):7000"
			done
			bg_node $i "$B/pxd" --id $i --udp "$(node_ip $i):7000" \
				$peers --sock "$RUN/px$i.sock" --cluster-id 2 \
				"${opts[@]}" 2>>"$RUN/pxd.err"
		else
			bg_node $i "$B/pxd" --id $i --raw eth0 $PEERS_MAC \
				--ethertype 0x88B7 --cluster-id 3 \
				--sock "$RUN/px$i.sock" "${opts[@]}" \
				2>>"$RUN/pxd.err"
		fi
	done
	wait_leader pxd_status
}

kernel_up() {	# kernel_up [K=V]...
	local i kv params=()
	for kv in "$@"; do
		params+=(--param "$kv")
	done
	for i in 1 2 3; do
		in_node $i "$B/pxcheck" kup /dev/paxos --id $i --ifname eth0 \
			$PEERS_MAC "${params[@]}" || return 1
	done
	wait_leader k_status
}

kernel_down() {
	local i
	for i in 1 2 3; do
		in_node $i "$B/pxcheck" kdown /dev/paxos 2>/dev/null
	done
}

# use BACKEND [K=V]...: make BACKEND with these parameters the running
# cluster; sets LEADER and TARGET.
use() {
	local be=$1 key="$*"
	shift
	[ "$key" = "$CUR" ] && [ -n "$LEADER" ] && return 0
	case "$CUR" in
	kernel*) kernel_down ;;
	pxd*) bg_kill ;;
	esac
	CUR=$key
	case "$be" in
	kernel)
		kernel_up "$@" || { note "kernel $*: no leader"; LEADER=
				    return 1; }
		TARGET=/dev/paxos ;;
	pxd-udp|pxd-raw)
		pxd_up "${be#pxd-}" "$@" || { note "$be $*: no leader"
					      LEADER=; return 1; }
		TARGET=$RUN/px$LEADER.sock ;;
	esac
	sleep 0.2	# let the new leader finish phase 1
}

# Parameters every cluster gets: a TCG guest on a busy host can stall for
# longer than the default election timeout (150 ms), and a spurious
# election in the middle of a point measures the election, not the path.
BASE_KV=(election_us=500000)

# at BACKENDS SIZE CONC [MODE] [--param K=V]... [--tag ...]: one point on
# each backend
at() {
	local bes=$1 size=$2 conc=$3 mode=loop be kv=("${BASE_KV[@]}") extra=()
	shift 3
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		mode=$1
		shift
	fi
	while [ $# -gt 0 ]; do
		case "$1" in
		--param) kv+=("$2"); extra+=(--tag "$2"); shift 2 ;;
		*) extra+=("$1"); shift ;;
		esac
	done
	for be in ${bes//,/ }; do
		want "$be" || continue
		[ "$be" = kernel ] && [ "$KMOD" = 0 ] && continue
		use "$be" "${kv[@]}" || continue
		point "$be" "$TARGET" "$LEADER" "$size" "$conc" "$mode" \
			"${extra[@]}"
	done
}

setup_kernel() {
	want kernel || return 0
	if [ -z "${KPAXOS_KO:-}" ] || [ ! -f "$KPAXOS_KO" ]; then
		note "kernel: module not built, skipped"
		return 0
	fi
	if insmod "$KPAXOS_KO"; then
		KMOD=1
	else
		note "kernel: insmod failed"
	fi
}

ALL=kernel,pxd-udp,pxd-raw
sweeps() {
	local s c b w m r be
	if [ "$QUICK" = 1 ]; then
		at $ALL 64 4 --tag sweep=quick
		return
	fi
	# the reference points of the ratios, five interleaved rounds; the
	# 1-proposer latency right after a ping-pong on the same transport
	for r in 1 2 3 4 5; do
		sweep head || break
		at $ALL 64 32 --tag sweep=head --tag rep=$r
		for be in ${ALL//,/ }; do
			want "$be" || continue
			[ "$be" = kernel ] && [ "$KMOD" = 0 ] && continue
			use "$be" || continue
			if [ "$be" = pxd-udp ]; then
				pp udp 64 300 "$be"
			else
				pp raw 64 300 "$be"
			fi
			at "$be" 64 1 --tag sweep=head1 --tag rep=$r
		done
	done
	for s in 16 64 512 2048 8192; do
		sweep size || break
		at $ALL $s 16 --tag sweep=size
	done
	for c in 1 4 16 64 256; do
		sweep conc || break
		at $ALL 64 $c --tag sweep=conc
	done
	sweep long && at $ALL 64 32 --tag sweep=long -d $((DUR * 4)) -i 1
	for m in lib uring; do
		sweep lib || break
		for c in 1 16; do
			at kernel 64 $c $m --tag sweep=lib
		done
	done
	for b in 28 256 4096 16384 65536; do
		sweep batch || break
		at kernel,pxd-udp 64 256 --param batch_bytes=$b --tag sweep=batch
	done
	# batching alone: one instance in flight
	for b in 28 4096 16384 65536; do
		sweep batch || break
		at kernel,pxd-udp 64 256 --param window=1 \
			--param batch_bytes=$b --tag sweep=batch1
	done
	for w in 1 8 64; do
		sweep window || break
		at kernel,pxd-udp 64 256 --param window=$w --tag sweep=window
	done
}

for part in pingpong pxd-udp pxd-raw kernel; do
	want $part || note "$part: skipped (not in --only)"
done
pp_servers
want pingpong && pingpong
setup_kernel
sweeps
use none
pp_stop
[ "$KMOD" = 1 ] && rmmod paxos
log "bench done: $(grep -c '"kind":"load"' "$RES") load points," \
    "$(grep -c '"kind":"pingpong"' "$RES") ping-pong runs"
exit 0
