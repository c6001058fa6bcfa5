#!/bin/bash
# virtio-mem.sh — shrinking a guest by 256 MiB: virtio-mem against the balloon.
#
# The two instruments hintd has to take memory a guest uses, driven straight
# through libvirt (no hintd: the instrument is what is measured), on guests of
# the same size (768 MiB), no agent, no module, no free page reporting:
#   virtio-mem  256 MiB boot RAM + a 512 MiB virtio-mem device, all plugged;
#               shrunk with `virsh update-memory-device --requested-size` 256 MiB
#   balloon     768 MiB of plain RAM and the balloon; shrunk with
#               `virsh setmem --live` to 512 MiB
# Each run boots a fresh guest (the lab is torn down between runs), has it
# touch memtouch's TOUCH_MIB (600) and free it, so the host backs its RAM,
# then starts `memloop 64` (a cache-line pass over 64 MiB, again and again:
# a working set that still fits after the shrink). The host samples the
# guest's backing (st_blocks of its memfds, as `lab backed` counts them)
# every ~20 ms: 5 s before the request (memloop's first 2 s are a warm-up),
# then until it has fallen by 240 MiB (giving up after 60 s). Figures per
# run: the time from the request to that fall (and to its first 2 MiB), the
# fall once the backing is steady, what libvirt reports moved (the device's
# <current>, the balloon's actual), and memloop's passes/s over the shrink
# window against the 3 s before (speed ratio, 1.00 = no slowdown), the windows put
# on the guest's clock by the quickest of 5 clock reads before and after
# (the "clock" column: how far off that can be, in ms).
# BENCH_ROUNDS runs of each set-up (3), set-ups alternating; medians and
# ranges. The table is also written to BENCH_RESULTS/virtio-mem.md.
#
#   bench/virtio-mem.sh [-h|--help]
#   Environment: BENCH_ROUNDS=3  VMEM_SETUPS="virtio-mem balloon"
#                BENCH_RESULTS (bench/results)  LAB_DIR  BUILD  BENCH_SMOKE
#                VMEM_KEEP=DIR  keep each run's samples, clock reads and
#                memloop output in DIR/SETUP.RUN
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATS=$BENCH_DIR/virtio-mem-stats.awk
ROUNDS=${BENCH_ROUNDS:-3}
read -r -a SETUPS <<< "${VMEM_SETUPS:-virtio-mem balloon}"
GUEST_MIB=768 BOOT_MIB=256 SHRINK_MIB=256 GOAL_MIB=240
TOUCH_MIB=600 LOOP_MIB=64
LEAD_US=5000000 BEFORE_US=3000000 GIVEUP_US=60000000 POLL_S=0.015

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

for a in "$@"; do
	case $a in
	-h | --help) usage ;;
	*) echo "virtio-mem: unknown argument '$a'" >&2; usage ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || die "BENCH_ROUNDS must be 1..99, not '$ROUNDS'"
((${#SETUPS[@]})) || die "VMEM_SETUPS names no set-up"
for s in "${SETUPS[@]}"; do
	[[ $s == virtio-mem || $s == balloon ]] || die "VMEM_SETUPS: unknown set-up '$s' (virtio-mem, balloon)"
done

if [[ -n $BENCH_SMOKE ]]; then
	echo "virtio-mem: skipped (BENCH_SMOKE: real guests)"
	exit 0
fi
take_vm_lock "$@"
bench_begin virtio-mem

usec() { echo "${EPOCHREALTIME/./}"; }
secs() { awk -v u="$1" 'BEGIN { printf "%.6f", u / 1e6 }'; }
vsh() { lab_virsh "$@"; }
dom() { echo "hintd-lab-$1"; }

# libvirt's view, in KiB: the virtio-mem device's <current> (plugged) or
# <requested>, the balloon's actual.
vmem_kib() { # GUEST current|requested
	vsh dumpxml "$(dom "$1")" | awk -v k="<$2" -F'[<>]' 'index($0, k " unit=\047KiB\047>") { print $3; exit }'
}
vmem_alias() {
	vsh dumpxml "$(dom "$1")" | awk '/<memory model=.virtio-mem./ { m = 1 }
		m && /<alias name=/ { sub(/.*<alias name=./, ""); sub(/[\047"].*/, ""); print; exit }'
}
balloon_kib() { vsh dommemstat "$(dom "$1")" | awk '$1 == "actual" { print $2 }'; }
libvirt_kib() { # SETUP GUEST
	if [[ $1 == virtio-mem ]]; then vmem_kib "$2" current; else balloon_kib "$2"; fi
}

# The request, as hintd's actuators send it.
request_shrink() { # SETUP GUEST
	if [[ $1 == virtio-mem ]]; then
		vsh update-memory-device "$(dom "$2")" --alias "$(vmem_alias "$2")" \
			--requested-size $(((GUEST_MIB - BOOT_MIB - SHRINK_MIB) << 10)) --live
	else
		vsh setmem "$(dom "$2")" $(((GUEST_MIB - SHRINK_MIB) << 10)) --live
	fi
}

# The host's CPU ticks, all CPUs: "BUSY STEAL TOTAL". The guest's QEMU keeps
# one CPU busy; more is someone else's work, and steal is this host's own
# hypervisor's: a slower guest then is not the shrink's doing.
cpu_ticks() {
	awk '$1 == "cpu" { for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6 - $9, $9, t; exit }' /proc/stat
}

backed_sum() { # FD...
	local n sum=0
	for n in $(stat -L -c %b "$@"); do
		sum=$((sum + n * 512))
	done
	echo "$sum"
}

# Guest clock against the host's: a line "HOST-T0 GUEST-T HOST-T1" per read,
# over one connection to the guest's lab runner (the lab's `run` protocol:
# a script, "@@lab-end"; its output, "@@lab-exit STATUS"), so no process
# start on the host falls between the stamps.
clock_reads() { # GUEST FILE
	local h0 g h1 status _
	coproc CLOCK { exec socat - "UNIX-CONNECT:$LAB_DIR/guests/$1/lab.sock"; }
	for _ in 1 2 3 4 5; do
		h0=$EPOCHREALTIME
		printf 'memloop --now\n@@lab-end\n' >&"${CLOCK[1]}"
		if ! read -r -t 10 g <&"${CLOCK[0]}" || ! read -r -t 10 status <&"${CLOCK[0]}"; then
			die "$1: no answer from the lab runner"
		fi
		h1=$EPOCHREALTIME
		[[ $status == "@@lab-exit 0" ]] || die "$1: memloop --now: $g $status"
		echo "$h0 $g $h1" >> "$2"
	done
	kill "$CLOCK_PID" 2>/dev/null || true
	wait "$CLOCK_PID" 2>/dev/null || true
}

in_guest_ok() { lab run "$1" "grep -q '^memloop: $2' /tmp/memloop.out" > /dev/null 2>&1; }

# Samples the backing every POLL_S (~20 ms with the read) into FILE, sends the shrink LEAD_US in,
# and stops once the backing is GOAL_MIB under what it was at the request
# (or GIVEUP_US after it). Sets REQ_US, FIRST_US (when it first fell by
# 2 MiB), DONE_US (0: gave up), REF_BYTES,
# and the host's CPU ticks (cpu_ticks) BUSY0 STEAL0 TICKS0 before, BUSY1...
# after.
watch_shrink() { # SETUP GUEST FILE
	local setup=$1 g=$2 file=$3 fds t b t0 req_pid=""
	mapfile -t fds < <(lab memfd "$g")
	REQ_US=0 FIRST_US=0 DONE_US=0 REF_BYTES=0
	read -r BUSY0 STEAL0 TICKS0 < <(cpu_ticks)
	t0=$(usec)
	while :; do
		t=${EPOCHREALTIME/./}
		b=$(backed_sum "${fds[@]}")
		echo "$t $b" >> "$file"
		if ((!REQ_US && t - t0 >= LEAD_US)); then
			REF_BYTES=$b
			REQ_US=${EPOCHREALTIME/./}
			request_shrink "$setup" "$g" > "$WORK/request.out" 2>&1 &
			req_pid=$!
		elif ((REQ_US)); then
			((FIRST_US || REF_BYTES - b < 2 << 20)) || FIRST_US=$t
			if ((REF_BYTES - b >= GOAL_MIB << 20)); then
				DONE_US=$t
				break
			fi
			((t - REQ_US <= GIVEUP_US)) || break
		fi
		sleep "$POLL_S"
	done
	read -r BUSY1 STEAL1 TICKS1 < <(cpu_ticks)
	wait "$req_pid" || die "the $setup request failed: $(cat "$WORK/request.out")"
}

fully_plugged() { (($(vmem_kib "$1" current) == (GUEST_MIB - BOOT_MIB) << 10)); }

boot_guest() { # SETUP GUEST
	local opts="--no-agent --no-module"
	if [[ $1 == virtio-mem ]]; then
		lab_boot "$2 --mem $BOOT_MIB --virtio-mem $((GUEST_MIB - BOOT_MIB)) $opts"
		# The guest plugs what is requested block by block after boot.
		wait_until 60 fully_plugged "$2" ||
			die "$2: $(vmem_kib "$2" current) KiB plugged, not $((GUEST_MIB - BOOT_MIB)) MiB"
	else
		lab_boot "$2 --mem $GUEST_MIB $opts"
	fi
	lab run "$2" "memtouch $TOUCH_MIB" > /dev/null || die "$2: memtouch $TOUCH_MIB failed"
}

# One run: a fresh guest, the shrink under memloop, its figures into R[].
run_once() { # SETUP ROUND
	local setup=$1 round=$2 g dir before_kib after_kib final
	g=${setup/virtio-/v}$round
	dir=$WORK/$setup.$round
	mkdir -p "$dir"
	note "$setup, run $round: booting"
	boot_guest "$setup" "$g"
	before_kib=$(libvirt_kib "$setup" "$g")
	# The clock is read while the guest is idle: answers come quicker.
	clock_reads "$g" "$dir/clock"
	lab run "$g" "memloop $LOOP_MIB > /tmp/memloop.out 2>&1 &" > /dev/null
	wait_until 30 in_guest_ok "$g" ready || die "$g: memloop did not start"
	note "$setup, run $round: shrinking by $SHRINK_MIB MiB"
	watch_shrink "$setup" "$g" "$dir/samples"
	sleep 0.5
	# shellcheck disable=SC2016 # expanded in the guest
	lab run "$g" 'kill -TERM $(pidof memloop)' > /dev/null
	wait_until 30 in_guest_ok "$g" ok || die "$g: memloop failed: $(lab run "$g" 'tail -3 /tmp/memloop.out')"
	clock_reads "$g" "$dir/clock.after"
	lab run "$g" "cat /tmp/memloop.out" > "$dir/memloop"
	final=$(wait_backing_steady "$g" 20)
	after_kib=$(libvirt_kib "$setup" "$g")
	R[$setup,$round,ref]=$((REF_BYTES >> 20))
	R[$setup,$round,fell]=$(((REF_BYTES - final) >> 20))
	R[$setup,$round,moved]=$(((before_kib - after_kib) >> 10))
	R[$setup,$round,ms]=$(((DONE_US ? DONE_US - REQ_US : 0) / 1000))
	R[$setup,$round,first]=$(((FIRST_US ? FIRST_US - REQ_US : 0) / 1000))
	R[$setup,$round,busy]=$(pct $((BUSY1 - BUSY0)) $((TICKS1 - TICKS0)))
	R[$setup,$round,steal]=$(pct $((STEAL1 - STEAL0)) $((TICKS1 - TICKS0)))
	R[$setup,$round,oom]=$(lab run "$g" 'dmesg | grep -ciE "out of memory|oom-kill" || true')
	slowdown_figures "$setup" "$round" "$dir"
}

# memloop's rates before and during the shrink, from the windows the host
# timed put on the guest's clock: the mean offset of the reads before and
# after, good to the slower read's half round trip plus half the drift.
slowdown_figures() { # SETUP ROUND DIR
	local dir=$3 o1 h1 o2 h2 offset sync before during ratio end_us
	read -r o1 h1 < <(awk -v mode=offset -f "$STATS" "$dir/clock")
	read -r o2 h2 < <(awk -v mode=offset -f "$STATS" "$dir/clock.after")
	read -r offset sync < <(awk -v a="$o1" -v b="$o2" -v x="$h1" -v y="$h2" 'BEGIN {
		d = a > b ? a - b : b - a; printf "%.6f %.6f\n", (a + b) / 2, (x > y ? x : y) + d / 2 }')
	end_us=$((DONE_US ? DONE_US : REQ_US + GIVEUP_US))
	read -r before during ratio < <(awk -v mode=rate -v from="$(guest_t "$((REQ_US - BEFORE_US))" "$offset")" \
		-v at="$(guest_t "$REQ_US" "$offset")" -v to="$(guest_t "$end_us" "$offset")" -f "$STATS" "$dir/memloop") ||
		die "$1, run $2: no rate from memloop (kept in $dir)"
	R[$1,$2,before]=$before R[$1,$2,during]=$during R[$1,$2,ratio]=$ratio
	R[$1,$2,sync]=$(awk -v s="$sync" 'BEGIN { printf "%d", s * 1000 + 0.5 }')
}

pct() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", t ? n / t * 100 : 0 }'; }
guest_t() { awk -v u="$1" -v o="$2" 'BEGIN { printf "%.6f", u / 1e6 + o }'; }

summary() { # SETUP COLUMN: "MEDIAN MIN MAX" over the runs that have it
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		[[ ($2 == ms || $2 == first) && ${R[$1,$r,$2]} == 0 ]] || echo "${R[$1,$r,$2]}"
	done | awk -v mode=summary -f "$STATS" 2>/dev/null || echo "- - -"
}
# "MEDIAN (MIN-MAX)"
med_range() { read -r m lo hi <<< "$(summary "$1" "$2")"; echo "$m ($lo-$hi)"; }
ms_cell() { (($1)) && echo "$1" || echo "gave up"; }
gave_up() { local r n=0; for ((r = 1; r <= ROUNDS; r++)); do ((R[$1,$r,ms])) || n=$((n + 1)); done; echo "$n"; }

print_text() {
	local s r
	echo "Shrinking a ${GUEST_MIB} MiB guest (TCG) by ${SHRINK_MIB} MiB through libvirt, no hintd: virtio-mem"
	echo "(${BOOT_MIB} MiB boot RAM + $((GUEST_MIB - BOOT_MIB)) MiB device) against the balloon (${GUEST_MIB} MiB RAM);"
	echo "memtouch ${TOUCH_MIB} first, memloop over ${LOOP_MIB} MiB through the shrink; backing sampled every ~20 ms"
	echo
	printf '%-10s %3s %7s %8s %10s %5s %8s %9s %9s %6s %6s %11s %3s\n' set-up run "backed" "to -2" \
		"to -${GOAL_MIB}" "fell" "libvirt" "passes/s" "passes/s" "speed" "clock" "host CPU %" "oom"
	printf '%-10s %3s %7s %8s %10s %5s %8s %9s %9s %6s %6s %11s %3s\n' "" "" "MiB" "MiB, ms" "MiB, ms" \
		"MiB" "moved" "before" "during" "ratio" "+-ms" "busy/steal" ""
	for s in "${SETUPS[@]}"; do
		for ((r = 1; r <= ROUNDS; r++)); do
			printf '%-10s %3d %7d %8s %10s %5d %8d %9s %9s %6s %6d %11s %3d\n' "$s" "$r" "${R[$s,$r,ref]}" \
				"$(ms_cell "${R[$s,$r,first]}")" "$(ms_cell "${R[$s,$r,ms]}")" "${R[$s,$r,fell]}" \
				"${R[$s,$r,moved]}" "${R[$s,$r,before]}" \
				"${R[$s,$r,during]}" "${R[$s,$r,ratio]}" "${R[$s,$r,sync]}" \
				"${R[$s,$r,busy]}/${R[$s,$r,steal]}" "${R[$s,$r,oom]}"
		done
	done
	echo
	printf '%-10s %18s %20s %14s %14s %18s\n' "median" "to -2 MiB, ms" "to -${GOAL_MIB} MiB, ms" "fell MiB" \
		"libvirt moved" "speed ratio"
	for s in "${SETUPS[@]}"; do
		printf '%-10s %18s %20s %14s %14s %18s\n' "$s" "$(med_range "$s" first)" "$(med_range "$s" ms)" \
			"$(med_range "$s" fell)" "$(med_range "$s" moved)" "$(med_range "$s" ratio)"
		(($(gave_up "$s") == 0)) || echo "  $s: gave up after 60 s in $(gave_up "$s") of $ROUNDS runs"
	done
}

write_markdown() { # FILE
	local s r commit
	commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
	{
		echo "# Shrinking a guest by ${SHRINK_MIB} MiB: virtio-mem against the balloon"
		echo
		echo "\`bench/run virtio-mem\`, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit; $(nproc) CPUs," \
			"guests under TCG, one at a time. A ${GUEST_MIB} MiB busybox guest (no agent, no module):" \
			"virtio-mem = ${BOOT_MIB} MiB boot RAM + $((GUEST_MIB - BOOT_MIB)) MiB device, shrunk with" \
			"\`virsh update-memory-device --requested-size\`; balloon = ${GUEST_MIB} MiB RAM, shrunk with" \
			"\`virsh setmem --live\`. Each run: fresh guest, \`memtouch ${TOUCH_MIB}\`, \`memloop ${LOOP_MIB}\`" \
			"running through the shrink. Time = request to host backing (memfd st_blocks) ${GOAL_MIB} MiB lower," \
			"sampled every ~20 ms (to −2 MiB: until it first moved); fell = fall once the backing is steady;" \
			"moved = libvirt's \`<current>\` or balloon actual; speed ratio = memloop's passes/s over the" \
			"shrink window (request to −${GOAL_MIB} MiB, 1.00 = no slowdown) /" \
			"over the $((BEFORE_US / 1000000)) s before it (after $(((LEAD_US - BEFORE_US) / 1000000)) s of warm-up);" \
			"clock = how far off the guest's clock may be put on the host's (quickest of 5 reads before and after);" \
			"host CPU = busy and stolen (by this host's own hypervisor) share of all the host's CPUs over the" \
			"run's sampling; the guest's QEMU alone keeps one of them busy."
		echo
		echo "| set-up | run | backed at request MiB | to −2 MiB, ms | to −${GOAL_MIB} MiB, ms | fell MiB | libvirt moved MiB | passes/s before | passes/s during | speed ratio | clock ± ms | host CPU busy / steal % | OOM |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		for s in "${SETUPS[@]}"; do
			for ((r = 1; r <= ROUNDS; r++)); do
				echo "| $s | $r | ${R[$s,$r,ref]} | $(ms_cell "${R[$s,$r,first]}") | $(ms_cell "${R[$s,$r,ms]}") | ${R[$s,$r,fell]} |" \
					"${R[$s,$r,moved]} | ${R[$s,$r,before]} | ${R[$s,$r,during]} | ${R[$s,$r,ratio]} |" \
					"${R[$s,$r,sync]} | ${R[$s,$r,busy]} / ${R[$s,$r,steal]} | ${R[$s,$r,oom]} |"
			done
		done
		echo
		echo "| set-up | to −2 MiB, ms | to −${GOAL_MIB} MiB, ms | fell MiB | libvirt moved MiB | speed ratio | gave up (60 s) |"
		echo "|---|---|---|---|---|---|---|"
		for s in "${SETUPS[@]}"; do
			echo "| $s | $(med_range "$s" first) | $(med_range "$s" ms) | $(med_range "$s" fell) | $(med_range "$s" moved) |" \
				"$(med_range "$s" ratio) | $(gave_up "$s") of $ROUNDS |"
		done
		echo
		echo "Median (range) of $ROUNDS runs."
	} > "$1"
}

declare -A R
for ((round = 1; round <= ROUNDS; round++)); do
	for s in "${SETUPS[@]}"; do
		run_once "$s" "$round"
		lab down > /dev/null 2>&1 || true
	done
done
print_text
if [[ -n ${VMEM_KEEP:-} ]]; then
	mkdir -p "$VMEM_KEEP" && cp -r "$WORK"/*.[0-9]* "$VMEM_KEEP"/
fi
results=${BENCH_RESULTS:-$BENCH_DIR/results}
mkdir -p "$results"
write_markdown "$results/virtio-mem.md"
note "table written to $results/virtio-mem.md"
