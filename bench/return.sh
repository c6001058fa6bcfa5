#!/bin/bash
# return.sh — how fast memory a guest frees comes back to the host.
#
# Three guests of the same image, booted together, 512 MiB each:
#   none   no manager (no agent, no module): what a plain VM does
#   fpr    QEMU's free page reporting (virtio-balloon free-page-reporting=on,
#          no pagehint.ko, which could not have the hook anyway)
#   hintd  hint-agent + pagehint.ko, hintd without a budget
#          (DiscardUnused=always: freed memory is taken whenever it comes)
# Each round, in each guest in turn: wait until its backing is steady, run
# `memtouch 300` (touch 300 MiB, verify, free), then sample the guest's host
# backing (the memfd's allocated blocks, as `lab backed` counts them) every
# 100 ms for 10 s. Returned = the highest backing while the memory was held
# minus the backing then; percentages are of the 300 MiB freed.
# Target: hintd returns >= 95% within 2 s and is never slower (to 90%) than
# free page reporting.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${BENCH_ROUNDS:-3}
FREED_MIB=300
GUESTS=(none fpr hintd)

if [[ -n $BENCH_SMOKE ]]; then
	echo "return: skipped (BENCH_SMOKE: real guests)"
	exit 0
fi
take_vm_lock "$@"
bench_begin return

note "booting ${GUESTS[*]}"
lab_boot "none --no-agent --no-module" "fpr --fpr --no-agent --no-module" "hintd"
start_hintd "$(printf '[Host]\n[VM hintd-lab-none]\nManage=no\n[VM hintd-lab-fpr]\nManage=no\n')" hintd

declare -A R	# R[guest,round,column]
for ((round = 1; round <= ROUNDS; round++)); do
	# A different guest goes first each round.
	for ((k = 0; k < ${#GUESTS[@]}; k++)); do
		g=${GUESTS[(k + round - 1) % ${#GUESTS[@]}]}
		note "round $round: $g"
		wait_backing_steady "$g" > /dev/null
		samples=$WORK/samples.$g.$round
		start_sampler "$g" "$samples"
		out=$(lab run "$g" "memtouch $FREED_MIB") || die "memtouch in $g failed: $out"
		t_free=$(now)
		sleep 10.3
		stop_sampler
		peak=$(awk -v t="$t_free" '$1 < t && $2 > m { m = $2 } END { print m + 0 }' "$samples")
		read -r r1 r2 r5 r10 t90 < <(returned_at "$samples" "$t_free" "$peak" \
			$((FREED_MIB * 9 / 10 << 20)) 1 2 5 10)
		R[$g,$round,peak]=$peak R[$g,$round,1]=$r1 R[$g,$round,2]=$r2
		R[$g,$round,5]=$r5 R[$g,$round,10]=$r10 R[$g,$round,t90]=$t90
		R[$g,$round,run]=$(sed -n 's/.*verified in \([0-9.]*\) s.*/\1/p' <<< "$out")
	done
done
stop_hintd

pct() { awk -v b="$1" -v f="$FREED_MIB" 'BEGIN { printf "%d%%", b / 1048576 / f * 100 + (b >= 0 ? 0.5 : -0.5) }'; }
cell() { printf '%4d MiB %4s' "$(($1 >> 20))" "$(pct "$1")"; }

echo "Returning freed guest memory: 3 guests of 512 MiB (TCG), memtouch $FREED_MIB MiB then free,"
echo "backing sampled every 100 ms; returned = peak backing while held - backing at t after the free"
echo "(% of the $FREED_MIB MiB freed); $ROUNDS rounds, guests in rotating order"
echo
printf '%-6s %-5s %8s %8s %13s %13s %13s %13s %8s\n' set-up round "touch s" "peak MiB" \
	"at 1 s" "at 2 s" "at 5 s" "at 10 s" "to 90%"
for g in "${GUESTS[@]}"; do
	for ((round = 1; round <= ROUNDS; round++)); do
		printf '%-6s %-5s %8s %8d %13s %13s %13s %13s %8s\n' "$g" "$round" "${R[$g,$round,run]}" \
			"$((R[$g,$round,peak] >> 20))" "$(cell "${R[$g,$round,1]}")" "$(cell "${R[$g,$round,2]}")" \
			"$(cell "${R[$g,$round,5]}")" "$(cell "${R[$g,$round,10]}")" \
			"$([[ ${R[$g,$round,t90]} == never ]] && echo never || echo "${R[$g,$round,t90]} s")"
	done
done

# Medians over the rounds, and the verdict.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { local g=$1 c=$2 r; for ((r = 1; r <= ROUNDS; r++)); do echo "${R[$g,$r,$c]/never/999}"; done; }
echo
printf '%-6s %13s %13s %13s %13s %8s\n' median "at 1 s" "at 2 s" "at 5 s" "at 10 s" "to 90%"
for g in "${GUESTS[@]}"; do
	m90=$(median $(col "$g" t90))
	printf '%-6s %13s %13s %13s %13s %8s\n' "$g" \
		"$(cell "$(median $(col "$g" 1) | cut -d. -f1)")" "$(cell "$(median $(col "$g" 2) | cut -d. -f1)")" \
		"$(cell "$(median $(col "$g" 5) | cut -d. -f1)")" "$(cell "$(median $(col "$g" 10) | cut -d. -f1)")" \
		"$(awk -v t="$m90" 'BEGIN { if (t >= 999) print "never"; else printf "%.1f s", t }')"
done

echo
ok=1 slower=0
for ((round = 1; round <= ROUNDS; round++)); do
	((R[hintd,$round,2] * 100 >= (FREED_MIB << 20) * 95)) || ok=0
	h=${R[hintd,$round,t90]/never/999} f=${R[fpr,$round,t90]/never/999}
	awk -v h="$h" -v f="$f" 'BEGIN { exit !(h > f) }' && slower=$((slower + 1))
done
echo "Target hintd >= 95% within 2 s in every round: $( ((ok)) && echo met || echo MISSED)"
echo "Target hintd never slower to 90% than free page reporting: $( ((slower == 0)) && echo met || echo "MISSED in $slower of $ROUNDS rounds")"
