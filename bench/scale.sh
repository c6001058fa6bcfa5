#!/bin/bash
# scale.sh — what the daemon costs as the number of VMs grows.
#
# libvirt's test driver (test:///FILE, a node XML with N running domains of
# 1 GiB) stands in for a host with N VMs; no real guest. For N = 10, 100, 1000:
#   start     hintd's start until "Connected to ...: N running domains"
#   CPU/tick  utime+stime of hintd (/proc/PID/stat) over BENCH_SCALE_SEC (60)
#             seconds of 1 s ticks (no budget, no pressure), per tick
#   RSS       hintd's VmRSS (and VmHWM) at the end of that minute
#   D-Bus     with hintd on a private dbus-daemon: `hintctl status` wall time
#             (the whole command, 50 calls) and Manager GetAll round trips
#             (one connection, 100 calls), median and p99
# The test driver lives inside hintd's process: its CPU and memory count as
# hintd's, and "libvirt alone" is the RSS of virsh on the same connection.
# (Against a real libvirtd the same calls are RPCs instead.)
# Targets at 1000 VMs: <= 10 ms CPU per tick, <= 32 MiB RSS, GetAll p99 <= 20 ms.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZES=(10 100 1000)
MEASURE_SEC=${BENCH_SCALE_SEC:-60}
STATUS_CALLS=50
GETALL_CALLS=100
if [[ -n $BENCH_SMOKE ]]; then
	SIZES=(10)
	MEASURE_SEC=3
	STATUS_CALLS=5
	GETALL_CALLS=5
fi
bench_begin scale

# The D-Bus API is there when hintd serves it and hintctl and the probe exist.
bus=
if "$BUILD/hintd" --help 2>/dev/null | grep -q -- --bus-address &&
	[[ -x $BUILD/hintctl && -x $BUILD/bench/bus-latency ]]; then
	bus=1
fi
if [[ -n $bus ]]; then
	BUS_ADDRESS=unix:path=$WORK/bus.sock
	BUS_PID=$(dbus-daemon --config-file="$TOP/tests/lab/test-bus.conf" --address="$BUS_ADDRESS" \
		--fork --print-pid=1)
	OWN_PIDS+=("$BUS_PID")
fi

node_xml() { # N
	echo "<node>"
	for ((i = 1; i <= $1; i++)); do
		printf "  <domain type='test'><name>vm%04d</name><uuid>%08x-0000-4000-8000-00000000%04x</uuid>" "$i" "$i" "$1"
		printf "<memory unit='MiB'>1024</memory><currentMemory unit='MiB'>1024</currentMemory><vcpu>1</vcpu>"
		printf "<os><type arch='x86_64'>hvm</type></os><devices><memballoon model='virtio'/></devices></domain>\n"
	done
	echo "</node>"
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
percentile() { # P VALUES...
	local p=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v p="$p" '{ v[NR] = $1 }
		END { if (p == 50) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      else { i = int((NR * p + 99) / 100); print v[i < 1 ? 1 : i] } }'
}

declare -A R
for n in "${SIZES[@]}"; do
	note "$n domains"
	xml=$WORK/node-$n.xml
	node_xml "$n" > "$xml"
	printf '[Host]\nTickInterval=1s\n' > "$WORK/hintd.conf"
	mkdir -p "$WORK/no-dropins"
	log=$WORK/hintd-$n.log
	args=(--config "$WORK/hintd.conf" --config-dir "$WORK/no-dropins" --uri "test://$xml" --log-level info)
	if [[ -n $bus ]]; then
		args+=(--bus-address "$BUS_ADDRESS")
	elif "$BUILD/hintd" --help 2>/dev/null | grep -q -- --no-bus; then
		args+=(--no-bus)
	fi
	t0=$(now)
	"$BUILD/hintd" "${args[@]}" > "$log" 2>&1 &
	HINTD_PID=$!
	wait_until 120 grep -q "Connected to" "$log" || die "hintd did not start with $n domains: $(tail -n 3 "$log")"
	R[$n,start]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
	grep -q ": $n running domains" "$log" || die "hintd did not see $n domains: $(grep 'Connected to' "$log")"
	sleep 2
	c0=$(ticks "$HINTD_PID") w0=$(now)
	sleep "$MEASURE_SEC"
	c1=$(ticks "$HINTD_PID") w1=$(now)
	R[$n,cpu]=$(awk -v c="$((c1 - c0))" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", c * 10 / (b - a) }')
	R[$n,rss]=$(status_kib "$HINTD_PID" VmRSS)
	R[$n,hwm]=$(status_kib "$HINTD_PID" VmHWM)
	if [[ -n $bus ]]; then
		wait_until 30 "$BUILD/hintctl" --bus-address="$BUS_ADDRESS" status > /dev/null 2>&1 ||
			die "hintd is not on the bus with $n domains: $(tail -n 3 "$log")"
		st=()
		for ((i = 0; i < STATUS_CALLS; i++)); do
			a=$(now)
			"$BUILD/hintctl" --bus-address="$BUS_ADDRESS" status > /dev/null ||
				die "hintctl status failed with $n domains"
			st+=("$(awk -v a="$a" -v b="$(now)" 'BEGIN { print (b - a) * 1000 }')")
		done
		R[$n,st50]=$(printf '%.1f' "$(percentile 50 "${st[@]}")")
		R[$n,st99]=$(printf '%.1f' "$(percentile 99 "${st[@]}")")
		read -r g50 g99 _ < <("$BUILD/bench/bus-latency" "$BUS_ADDRESS" "$GETALL_CALLS") ||
			die "GetAll failed with $n domains"
		R[$n,ga50]=$g50 R[$n,ga99]=$g99
	fi
	stop_hintd
	# libvirt and the test driver's state alone: virsh on the same connection.
	virsh -q -c "test://$xml" event --all --timeout 4 > /dev/null 2>&1 &
	vp=$!
	sleep 3
	R[$n,lv]=$(status_kib "$vp" VmRSS || echo 0)
	wait "$vp" 2>/dev/null || true
done

echo "Scale: hintd on libvirt's test driver with N running domains (in-process), 1 s ticks,"
echo "no budget; CPU over ${MEASURE_SEC} s; hintctl status: the whole command, $STATUS_CALLS calls;"
echo "GetAll: org.hintd1.Manager properties, $GETALL_CALLS calls on one connection"
echo
printf '%6s %8s %12s %9s %9s %12s %15s %15s\n' VMs "start s" "CPU ms/tick" "RSS MiB" "peak MiB" \
	"libvirt MiB" "status ms p50/99" "GetAll ms p50/99"
for n in "${SIZES[@]}"; do
	printf '%6d %8s %12s %9.1f %9.1f %12.1f %15s %15s\n' "$n" "${R[$n,start]}" "${R[$n,cpu]}" \
		"$(awk -v k="${R[$n,rss]}" 'BEGIN { print k / 1024 }')" "$(awk -v k="${R[$n,hwm]}" 'BEGIN { print k / 1024 }')" \
		"$(awk -v k="${R[$n,lv]}" 'BEGIN { print k / 1024 }')" \
		"$([[ -n $bus ]] && echo "${R[$n,st50]}/${R[$n,st99]}" || echo n/a)" \
		"$([[ -n $bus ]] && echo "${R[$n,ga50]}/${R[$n,ga99]}" || echo n/a)"
done
echo
[[ -n $bus ]] || echo "D-Bus columns: n/a (no bus yet: this hintd has no --bus-address)"
# Growth from the smallest to the largest size measured, per VM.
first=${SIZES[0]} last=${SIZES[-1]}
if ((last > first)); then
	awk -v n0="$first" -v n1="$last" -v c0="${R[$first,cpu]}" -v c1="${R[$last,cpu]}" \
		-v r0="${R[$first,rss]}" -v r1="${R[$last,rss]}" 'BEGIN {
		printf "Growth %d -> %d VMs: %.1f us CPU per VM per tick, %.1f KiB RSS per VM\n",
			n0, n1, (c1 - c0) * 1000 / (n1 - n0), (r1 - r0) / (n1 - n0) }'
	echo
fi
if [[ -n $BENCH_SMOKE ]]; then
	echo "Targets at 1000 VMs: not judged (BENCH_SMOKE)"
	exit 0
fi
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v == "n/a") ? "n/a" : (v + 0 <= t ? "met" : "MISSED") }'; }
echo "Target <= 10 ms CPU per tick at 1000 VMs: $(verdict "${R[1000,cpu]}" 10) (${R[1000,cpu]} ms)"
echo "Target <= 32 MiB RSS at 1000 VMs: $(verdict "$((R[1000,rss] / 1024))" 32) ($((R[1000,rss] / 1024)) MiB)"
if [[ -n $bus ]]; then
	echo "Target GetAll p99 <= 20 ms at 1000 VMs: $(verdict "${R[1000,ga99]}" 20) (${R[1000,ga99]} ms)"
else
	echo "Target GetAll p99 <= 20 ms at 1000 VMs: n/a (no bus yet)"
fi
