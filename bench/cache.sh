#!/bin/bash
# cache.sh — page cache, the blind spot of balloon-only managers.
#
# Three guests of the same image, 512 MiB each, booted together; each holds
# 100 MiB of hot anonymous memory (`memtouch 100 --retouch`) and ~200 MiB of
# clean page cache read from its data disk, and has used the rest once (a
# memtouch of all but 24 MiB of its free memory), so its free memory is backed
# on the host as in a guest that has run for a while. Then, one guest at a
# time, a host budget that leaves 250 MiB to find (Budget = what all guests
# hold + 250 MiB, LowWatermark 400 MiB, HighWatermark 500 MiB), given at t0 to
# a hintd that has been running without a budget (DiscardUnused=on-pressure
# until then, so nothing is taken before t0; the default, always, from t0):
#   balloon  hintd with [VM *] Reclaim=balloon: the balloon alone, as oVirt's
#            MOM or Proxmox reclaim (the guest decides what to give up)
#   fpr      QEMU's free page reporting, no manager: what it gives by itself
#   ladder   hintd's full ladder: unused, then clean cache, then balloon
# The guest's host backing is sampled every 100 ms for 30 s from t0 (the
# SIGHUP that brings the budget). Cost to the guest: time to read its hot set again afterwards (SIGUSR1
# to memtouch) against the same before, OOM kills and swap traffic.
# Target: the ladder returns the 250 MiB >= 2x faster than balloon only, with
# the hot set untouched.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GOAL_MIB=250
WINDOW=${BENCH_WINDOW:-30}
SETUPS=(balloon fpr ladder)

if [[ -n $BENCH_SMOKE ]]; then
	echo "cache: skipped (BENCH_SMOKE: real guests)"
	exit 0
fi
take_vm_lock "$@"
bench_begin cache

note "booting ${SETUPS[*]}"
lab_boot balloon "fpr --fpr --no-agent --no-module" ladder

# The hot set and the cache, in every guest before any is measured.
declare -A HOT R
for g in "${SETUPS[@]}"; do
	HOT[$g]=$(lab run "$g" 'memtouch 100 --retouch > /tmp/hot.out 2>&1 & echo $!')
done
for g in "${SETUPS[@]}"; do
	wait_until 120 lab run "$g" 'grep -q holding /tmp/hot.out' ||
		die "hot set of $g not ready: $(lab run "$g" 'cat /tmp/hot.out')"
	lab run "$g" 'cat /mnt/data/file0 /mnt/data/file1 /mnt/data/file2 > /dev/null;
		dd if=/mnt/data/file3 of=/dev/null bs=1M count=8 2>/dev/null' ||
		die "reading the data disk in $g failed"
	lab run "$g" 'memtouch $(($(awk "/^MemFree:/ { print int(\$2 / 1024) }" /proc/meminfo) - 24))' > /dev/null ||
		die "using the free memory of $g failed"
done

# Reads the hot set again; prints the seconds it took.
retouch() { # GUEST
	local n
	n=$(lab run "$1" 'grep -c retouched /tmp/hot.out || true')
	lab run "$1" "kill -USR1 ${HOT[$1]}" > /dev/null
	wait_until 120 lab run "$1" "[ \$(grep -c retouched /tmp/hot.out) -gt $n ]" ||
		die "retouch in $1 gave no answer: $(lab run "$1" 'tail -n 3 /tmp/hot.out')"
	lab run "$1" 'tail -n 1 /tmp/hot.out' | sed -n 's/.* in \([0-9.]*\) s$/\1/p'
}

guest_kib() { lab run "$1" "awk '\$1 == \"$2:\" { print \$2 }' /proc/meminfo"; }
guest_vmstat() { lab run "$1" "awk '\$1 == \"$2\" { print \$2 }' /proc/vmstat"; }
balloon_mib() { lab_virsh dommemstat "hintd-lab-$1" | awk '$1 == "actual" { print int($2 / 1024) }'; }

for g in "${SETUPS[@]}"; do
	note "$g"
	R[$g,touch0]=$(retouch "$g")
	R[$g,cached0]=$(($(guest_kib "$g" Cached) >> 10))
	R[$g,swap0]=$(($(guest_vmstat "$g" pswpin) + $(guest_vmstat "$g" pswpout)))
	for o in "${SETUPS[@]}"; do
		wait_backing_steady "$o" 20 > /dev/null
	done
	total=0
	for o in "${SETUPS[@]}"; do
		total=$((total + $(lab backed "$o")))
	done
	budget_mib=$(((total >> 20) + GOAL_MIB))
	vms=""
	for o in "${SETUPS[@]}"; do
		[[ $o == "$g" ]] || vms+=$(printf '\n[VM hintd-lab-%s]\nManage=no' "$o")
	done
	[[ $g == balloon ]] && vms+=$(printf '\n[VM *]\nReclaim=balloon')
	before=$(printf '[Host]\n[Policy]\nDiscardUnused=on-pressure\n%s' "$vms")
	budget=$(printf '[Host]\nBudget=%dM\nLowWatermark=400M\nHighWatermark=500M\n%s' "$budget_mib" "$vms")
	if [[ $g != fpr ]]; then
		start_hintd "$before" "$g"
		sleep 6	# past the agents' settling time: hintd decides every tick
	fi

	samples=$WORK/samples.$g
	start_sampler "$g" "$samples"
	sleep 0.5
	t0=$(now)
	R[$g,ref]=$(awk -v t="$t0" '$1 < t { b = $2 } END { print b + 0 }' "$samples")
	if [[ $g != fpr ]]; then
		printf '%s\n' "$budget" > "$WORK/hintd.conf"
		kill -HUP "$HINTD_PID"
		wait_until 10 hintd_logged "Configuration reloaded" || die "hintd did not reload: $(tail -n 3 "$HINTD_LOG")"
	fi
	sleep "$(awk -v w="$WINDOW" -v a="$t0" -v b="$(now)" 'BEGIN { d = w + 0.2 - (b - a); if (d < 0) d = 0; print d }')"
	stop_sampler
	read -r r1 r2 r5 r10 r30 tgoal < <(returned_at "$samples" "$t0" "${R[$g,ref]}" $((GOAL_MIB << 20)) 1 2 5 10 "$WINDOW")
	R[$g,1]=$r1 R[$g,2]=$r2 R[$g,5]=$r5 R[$g,10]=$r10 R[$g,30]=$r30 R[$g,goal]=$tgoal
	# When 90% of what came back by the end of the window had come back.
	R[$g,t90]=$( ((r30 > 8 << 20)) && returned_at "$samples" "$t0" "${R[$g,ref]}" $((r30 * 9 / 10)) 1 | cut -d' ' -f2 || echo -)
	R[$g,balloon]=$(balloon_mib "$g")
	R[$g,touch1]=$(retouch "$g")
	stop_hintd
	R[$g,cached1]=$(($(guest_kib "$g" Cached) >> 10))
	R[$g,swap1]=$(($(guest_vmstat "$g" pswpin) + $(guest_vmstat "$g" pswpout)))
	R[$g,swaptotal]=$(($(guest_kib "$g" SwapTotal) >> 10))
	R[$g,oom]=$(lab run "$g" 'dmesg | grep -ciE "out of memory|oom-kill" || true')
	R[$g,alive]=$(lab run "$g" "kill -0 ${HOT[$g]} 2>/dev/null && echo yes || echo no")
	[[ -n ${HINTD_LOG:-} && -f $HINTD_LOG ]] && cp "$HINTD_LOG" "$WORK/hintd.$g.log"
done

echo "Page cache: 3 guests of 512 MiB (TCG), each with 100 MiB hot anonymous memory and"
echo "~200 MiB clean page cache; a budget leaving $GOAL_MIB MiB to reclaim from one guest at a time."
echo "Returned = the guest's host backing at t0 (the budget given; fpr: no manager) - backing then."
echo
printf '%-8s %8s %6s %6s %6s %6s %6s %8s %8s %8s %11s %13s %5s %4s %5s\n' set-up "at t0" "1 s" "2 s" "5 s" \
	"10 s" "${WINDOW} s" "$GOAL_MIB MiB" "90% s" balloon "cache MiB" "hot set s" swap oom alive
for g in "${SETUPS[@]}"; do
	if ((R[$g,swaptotal] == 0)); then
		swap=none
	else
		swap="$((R[$g,swap1] - R[$g,swap0])) pg"
	fi
	printf '%-8s %4d MiB %6d %6d %6d %6d %6d %8s %8s %4s MiB %4d->%-4d %6s->%-6s %5s %4s %5s\n' "$g" \
		"$(mib "${R[$g,ref]}")" "$(mib "${R[$g,1]}")" "$(mib "${R[$g,2]}")" "$(mib "${R[$g,5]}")" \
		"$(mib "${R[$g,10]}")" "$(mib "${R[$g,30]}")" \
		"$([[ ${R[$g,goal]} == never ]] && echo never || echo "${R[$g,goal]} s")" \
		"${R[$g,t90]}" "${R[$g,balloon]}" \
		"${R[$g,cached0]}" "${R[$g,cached1]}" "${R[$g,touch0]}" "${R[$g,touch1]}" "$swap" "${R[$g,oom]}" \
		"${R[$g,alive]}"
done
echo
echo "(1 s .. ${WINDOW} s: MiB returned since t0; \"$GOAL_MIB MiB\": when that much had come back;"
echo " 90% s: when 90% of what came back in ${WINDOW} s had; balloon: the guest's balloon size at the"
echo " end (512 = not inflated); hot set s: reading the 100 MiB hot set before -> after; swap: the"
echo " guest has no swap device (\"none\") or pages swapped in+out; oom: OOM lines in the guest's dmesg)"
echo

lad=${R[ladder,goal]} bal=${R[balloon,goal]}
verdict=$(awk -v l="$lad" -v b="$bal" 'BEGIN {
	if (l == "never") { print "MISSED (the ladder never returned it)"; exit }
	if (b == "never") { printf "met (ladder %.1f s; balloon only never within the window)\n", l; exit }
	v = (b >= 2 * l) ? "met" : "MISSED"
	if (l < 0.1) l = 0.1
	printf "%s (ladder %.1f s, balloon only %.1f s: %.1fx)\n", v, l, b, b / l }')
hot="untouched"
awk -v a="${R[ladder,touch0]}" -v b="${R[ladder,touch1]}" 'BEGIN { exit !(b > 2 * a + 0.05) }' && hot="slower"
[[ ${R[ladder,oom]} == 0 && ${R[ladder,alive]} == yes ]] || hot="lost"
echo "Target ladder returns $GOAL_MIB MiB >= 2x faster than balloon only: $verdict"
echo "Target hot set untouched under the ladder: $([[ $hot == untouched ]] && echo met || echo "MISSED ($hot)")"
