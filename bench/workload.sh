#!/bin/bash
# workload.sh — a real workload on Debian guests, under each memory manager.
#
# Set-ups, one after the other on the same guest image (lab start --distro
# debian), each with its guests booted afresh:
#   none             no manager: what the guests take, they keep
#   fpr              QEMU's free page reporting (lab start --fpr), no manager
#   mom              oVirt MOM's default balloon policy (bench/baselines/mom)
#   pve              Proxmox VE's auto-ballooning (bench/baselines/pve)
#   hintd            hintd, its default configuration plus the budget
#   hintd-proactive  the same with Proactive=yes for every VM
# The managers get the same host budget: hintd's Budget= counts the guests'
# backed RAM; mom and pve see the guests' QEMU resident memory, so theirs is
# the budget plus the QEMU overhead measured after boot (resident - backed).
# The guests of none, fpr, mom and pve run without hint-agent and pagehint.
#
# Workloads:
#   build    one guest builds a Debian source package (WL_PACKAGE, fetched on
#            the host from the mirror the host's APT uses) with WL_JOBS
#            parallel jobs, WL_ROUNDS rounds (each from a fresh unpack), then
#            drops its caches
#   stagger  WL_GUESTS guests run that build, each WL_STAGGER s after the
#            previous, under a budget of WL_BUDGET_PCT % of their sizes
#   pgbench  one guest (the lab's debian-pgsql: PostgreSQL 15 as Debian
#            ships it, default settings) loads pgbench's tables at scale
#            WL_PG_SCALE (~15 MiB each) and runs pgbench's select-only
#            script for WL_PG_TIME s with WL_PG_CLIENTS clients: TPS, and the
#            99th percentile of the transactions' latency from pgbench's
#            per-transaction log; then drops its caches
# Every second the host samples each guest's backed RAM (`lab backed`) and
# balloon. Figures: the footprint integral (GiB·min over all guests), the
# peak of the guests' backed RAM, what stays backed WL_SETTLE s after the
# guests dropped their caches against what they still use (MemTotal -
# MemFree), the build time, balloon movements and OOM kills (guest dmesg).
# Plots of the backed RAM over time: bench/results/workload-WORKLOAD.png, drawn
# by workload-plot from the series kept in workload-WORKLOAD.dat.
#
# Environment (defaults for the full run):
#   WL_SETUPS="none fpr mom pve hintd hintd-proactive"  WL_WORKLOADS="build stagger"
#   WL_ROUNDS=3  WL_GUESTS=3  WL_MEM=1024 (MiB)  WL_JOBS=2  WL_PACKAGE=lua5.4
#   WL_STAGGER=60 (s)  WL_BUDGET_PCT=35  WL_MIN=256 (MiB, mom/pve minimum)
#   WL_PG_SCALE=24  WL_PG_TIME=180 (s)  WL_PG_CLIENTS=4
#   WL_SETTLE=30 (s)  BENCH_RESULTS (where the plots go; bench/run sets it)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a SETUPS <<< "${WL_SETUPS:-none fpr mom pve hintd hintd-proactive}"
read -r -a WORKLOADS <<< "${WL_WORKLOADS:-build stagger pgbench}"
ROUNDS=${WL_ROUNDS:-3}
GUESTS=${WL_GUESTS:-3}
MEM=${WL_MEM:-1024}
JOBS=${WL_JOBS:-2}
PACKAGE=${WL_PACKAGE:-lua5.4}
STAGGER=${WL_STAGGER:-60}
# A Lua build peaks at ~410 MiB backed in a 1 GiB guest: 35 % is below it.
BUDGET_PCT=${WL_BUDGET_PCT:-35}
MIN_MIB=${WL_MIN:-256}
SETTLE=${WL_SETTLE:-30}
# 24 x ~15 MiB: more than a guest squeezed to the budget keeps cached.
PG_SCALE=${WL_PG_SCALE:-24}
PG_TIME=${WL_PG_TIME:-180}
PG_CLIENTS=${WL_PG_CLIENTS:-4}
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results}
STATS=$BENCH_DIR/workload-stats.awk

check_args() {
	local s w v
	for s in "${SETUPS[@]}"; do
		[[ " none fpr mom pve hintd hintd-proactive " == *" $s "* ]] || die "workload: unknown set-up '$s'"
	done
	for w in "${WORKLOADS[@]}"; do
		[[ " build stagger pgbench " == *" $w "* ]] || die "workload: unknown workload '$w' (build, stagger, pgbench)"
	done
	for v in ROUNDS GUESTS MEM JOBS STAGGER BUDGET_PCT MIN_MIB SETTLE PG_SCALE PG_TIME PG_CLIENTS; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "workload: WL_$v must be a whole number, not '${!v}'"
	done
	((GUESTS >= 1 && GUESTS <= 3)) || die "workload: WL_GUESTS must be 1..3 (the lab runs at most 3 at once)"
	((MEM >= 256 && MEM <= 1024)) || die "workload: WL_MEM must be 256..1024 MiB"
	((BUDGET_PCT >= 10 && BUDGET_PCT <= 200)) || die "workload: WL_BUDGET_PCT must be 10..200"
	((ROUNDS >= 1)) || die "workload: WL_ROUNDS must be at least 1"
	((PG_SCALE >= 1 && PG_TIME >= 10 && PG_CLIENTS >= 1 && PG_CLIENTS <= 64)) ||
		die "workload: WL_PG_SCALE must be at least 1, WL_PG_TIME at least 10 s, WL_PG_CLIENTS 1..64"
	[[ $PACKAGE =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || die "workload: bad package name '$PACKAGE'"
}
check_args

if [[ -n $BENCH_SMOKE ]]; then
	echo "workload: skipped (BENCH_SMOKE: real guests)"
	exit 0
fi
command -v gnuplot > /dev/null || die "gnuplot is missing (run scripts/deps)"
[[ -f $BUILD/lab/debian/root.img ]] || die "no Debian guest image: run 'make debian-image' (or make bench)"
[[ " ${WORKLOADS[*]} " != *" pgbench "* || -f $BUILD/lab/debian-pgsql/root.img ]] ||
	die "no Debian guest image with PostgreSQL: run 'make debian-pgsql-image' (or make bench)"
for p in mom pve hintd; do
	[[ -x $BUILD/bench/$p || -x $BUILD/$p ]] || die "$p is not built: run make all"
done
take_vm_lock "$@"
bench_begin workload

# The source package, fetched on the host from the mirrors its APT already
# uses (as deb-src), into a private APT state: the host's is not touched.
fetch_source() { # PACKAGE -> prints the upstream tarball
	local d=$WORK/apt f opts
	mkdir -p "$d/parts" "$d/lists/partial" "$d/cache/archives/partial" "$d/src"
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$d/parts/${f##*/}"
	done
	compgen -G "$d/parts/*.sources" > /dev/null || die "the host's APT has no .sources file to take a mirror from"
	opts=(-o "Dir::Etc::SourceParts=$d/parts" -o Dir::Etc::SourceList=/dev/null
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o Debug::NoLocking=1)
	apt-get -q "${opts[@]}" update > "$d/update.log" 2>&1 || die "apt-get update (deb-src) failed: $(tail -n 3 "$d/update.log")"
	(cd "$d/src" && apt-get -q "${opts[@]}" source --download-only "$1") > "$d/source.log" 2>&1 ||
		die "apt-get source $1 failed: $(tail -n 3 "$d/source.log")"
	f=$(ls "$d"/src/*.orig.tar.* 2>/dev/null | head -n 1)
	[[ -n $f ]] || die "no upstream tarball in the source package $1"
	echo "$f"
}

# Copies FILE into the guest as /root/src.tar, through the lab's command
# channel (its scripts are limited to 64 KiB: 48 KiB of base64 a call).
push_source() { # GUEST FILE
	local g=$1 f=$2 sum chunk
	sum=$(sha256sum < "$f" | cut -d' ' -f1)
	lab run "$g" 'rm -f /root/src.b64' > /dev/null
	while IFS= read -r chunk; do
		lab run "$g" "printf %s '$chunk' >> /root/src.b64" > /dev/null || die "copying the source to $g failed"
	done < <(base64 -w 49152 "$f")
	[[ $(lab run "$g" 'base64 -d /root/src.b64 > /root/src.tar && sha256sum < /root/src.tar | cut -d" " -f1') == "$sum" ]] ||
		die "the source arrived damaged in $g"
}

# The build in the guest: ROUNDS times unpack and make, then drop caches.
# Writes "round N SECONDS" lines and "done" to /root/wl.out.
start_build() { # GUEST
	lab run "$1" "cat > /root/wl-build.sh <<'EOF'
set -e
cd /root
for r in \$(seq $ROUNDS); do
	rm -rf wl && mkdir wl
	t0=\$(date +%s)
	tar -xf src.tar -C wl --strip-components=1
	cd wl
	if [ -x configure ]; then ./configure > ../wl-configure.log 2>&1; fi
	make -j$JOBS > ../wl-make.log 2>&1
	cd ..
	echo \"round \$r \$((\$(date +%s) - t0))\"
done
sync
echo 3 > /proc/sys/vm/drop_caches
echo done
EOF
command -v gcc > /dev/null && command -v make > /dev/null || { echo 'no gcc or make in the guest'; exit 1; }
rm -f /root/wl.out
nohup sh /root/wl-build.sh > /root/wl.out 2>&1 &
echo \$! > /root/wl.pid" > /dev/null || die "starting the build in $1 failed"
}

# pgbench in the guest: wait for the server, load the tables, run the
# select-only script, then drop caches. Writes "init SECONDS", "data MIB",
# "tps TPS", "p99 MS" and "done" to /root/wl.out.
start_pgbench() { # GUEST
	lab run "$1" "cat > /root/wl-pgbench.sh <<'EOF'
set -e
pg() { su postgres -c \"cd /var/lib/postgresql && \$1\"; }
i=0
until pg 'pg_isready -q'; do
	i=\$((i + 1)); [ \$i -lt 120 ] || { echo 'PostgreSQL did not start'; exit 1; }
	sleep 1
done
t0=\$(date +%s)
pg 'pgbench -i -q -s $PG_SCALE postgres' > /root/wl-init.log 2>&1
echo \"init \$((\$(date +%s) - t0))\"
echo \"data \$(pg \"psql -tAc 'select pg_database_size(current_database()) / 1048576'\")\"
pg 'rm -f pgbench_log.*; pgbench -n -b select-only -c $PG_CLIENTS -j 2 -T $PG_TIME -l postgres' > /root/wl-run.log 2>&1
echo \"tps \$(awk '/^tps = / { printf \"%.1f\", \$3; exit }' /root/wl-run.log)\"
# Field 3 of pgbench's per-transaction log: the latency in microseconds.
echo \"p99 \$(cat /var/lib/postgresql/pgbench_log.* | awk '{ print \$3 }' | sort -n |
	awk '{ v[NR] = \$1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf \"%.1f\", v[i] / 1000 }')\"
rm -f /var/lib/postgresql/pgbench_log.*
sync
echo 3 > /proc/sys/vm/drop_caches
echo done
EOF
command -v pgbench > /dev/null || { echo 'no pgbench in the guest'; exit 1; }
rm -f /root/wl.out
nohup sh /root/wl-pgbench.sh > /root/wl.out 2>&1 &
echo \$! > /root/wl.pid" > /dev/null || die "starting pgbench in $1 failed"
}

work_done() { lab run "$1" 'grep -q "^done" /root/wl.out' > /dev/null 2>&1; }
work_failed() { lab run "$1" '! kill -0 $(cat /root/wl.pid) 2>/dev/null && ! grep -q "^done" /root/wl.out' > /dev/null 2>&1; }
wl_figure() { lab run "$1" "awk '\$1 == \"$2\" { print \$2 }' /root/wl.out"; } # GUEST NAME

# Samples every guest's backing and balloon every second into FILE, lines
# "EPOCH GUEST BACKED BALLOON" (workload-stats.awk's input).
start_wl_sampler() { # FILE GUEST...
	local file=$1 g
	shift
	local -A fd
	for g in "$@"; do
		fd[$g]=$(lab memfd "$g")
	done
	(
		while :; do
			t=$EPOCHREALTIME
			declare -A bal=()
			while read -r name val; do
				bal[$name]=$val
			done < <(lab_virsh domstats --balloon 2>/dev/null |
				awk '/^Domain:/ { gsub(/\047/, "", $2); d = $2 } /balloon.current=/ { split($1, a, "="); print d, a[2] * 1024 }')
			for g in "${!fd[@]}"; do
				echo "$t $g $(($(stat -L -c %b "${fd[$g]}") * 512)) ${bal[hintd-lab-$g]:-0}"
			done
			sleep 1
		done
	) > "$file" 2>/dev/null &
	SAMPLER_PID=$!
}

# The QEMU processes' memory beyond the guests' backed RAM, in MiB.
qemu_overhead_mib() { # GUEST...
	local g rss backed=0
	rss=$(lab_virsh domstats --balloon 2>/dev/null | awk -F= '/balloon.rss=/ { s += $2 } END { print int(s / 1024) }')
	for g in "$@"; do
		backed=$((backed + $(lab backed "$g")))
	done
	echo $((rss - (backed >> 20)))
}

# Starts the set-up's manager with a budget of BUDGET_MIB for the guests.
start_manager() { # SETUP BUDGET_MIB GUEST...
	local setup=$1 budget=$2 over
	shift 2
	case $setup in
	none | fpr) ;;
	mom | pve)
		over=$(qemu_overhead_mib "$@")
		"$BUILD/bench/$setup" --uri "$(lab uri)" --budget "$((budget + over))M" --min "${MIN_MIB}M" \
			> "$WORK/$setup.log" 2>&1 &
		OWN_PIDS+=($!)
		note "$setup: budget $budget MiB + $over MiB QEMU overhead"
		;;
	hintd) start_hintd "$(printf '[Host]\nBudget=%dM' "$budget")" "$@" ;;
	hintd-proactive) start_hintd "$(printf '[Host]\nBudget=%dM\n\n[VM *]\nProactive=yes' "$budget")" "$@" ;;
	esac
}

stop_manager() {
	local p
	stop_hintd
	for p in "${OWN_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	OWN_PIDS=()
}

guest_kib() { lab run "$1" "awk '\$1 == \"$2:\" { print \$2 }' /proc/meminfo"; }

# One workload under one set-up; its table row goes to $WORK/rows.WORKLOAD.
run_setup() { # WORKLOAD SETUP TARBALL
	local w=$1 s=$2 src=$3 n=1 guests=() opts=() i g budget t0 deadline samples row distro=debian
	[[ $w == stagger ]] && n=$GUESTS
	[[ $w == pgbench ]] && distro=debian-pgsql
	for ((i = 1; i <= n; i++)); do guests+=("w$i"); done
	budget=$((n * MEM * BUDGET_PCT / 100))
	[[ $s == fpr ]] && opts+=(--fpr)
	[[ $s == hintd* ]] || opts+=(--no-agent --no-module)
	note "$w / $s: booting ${guests[*]} (${MEM} MiB each)"
	lab down > /dev/null 2>&1 || true
	BENCH_USES_LAB=1
	# hintd runs before the guests boot, as on a host; free page reporting
	# works from boot too. MOM and Proxmox are started once the guests run
	# (their budget counts QEMU's overhead, measured after boot).
	if [[ $s == hintd* ]]; then
		lab up > /dev/null
		start_manager "$s" "$budget"
	fi
	lab start "${guests[@]}" --distro "$distro" --mem "$MEM" "${opts[@]}" > "$WORK/start.log" 2>&1 ||
		die "the guests of $s did not boot: $(tail -n 5 "$WORK/start.log")"
	if [[ $w != pgbench ]]; then
		for g in "${guests[@]}"; do
			push_source "$g" "$src"
		done
	fi
	if [[ $s == hintd* ]]; then
		for g in "${guests[@]}"; do
			wait_until 30 hintd_logged "hintd-lab-$g: agent .* connected" ||
				die "the agent of $g did not connect: $(tail -n 5 "$HINTD_LOG")"
		done
	else
		start_manager "$s" "$budget" "${guests[@]}"
	fi
	samples=$WORK/samples.$w.$s
	start_wl_sampler "$samples" "${guests[@]}"
	t0=$SECONDS
	if [[ $w == pgbench ]]; then
		start_pgbench "${guests[0]}"
		deadline=$((SECONDS + PG_TIME + PG_SCALE * 60 + 300))
	else
		for ((i = 0; i < n; i++)); do
			((i == 0)) || sleep "$STAGGER"
			start_build "${guests[i]}"
		done
		deadline=$((SECONDS + ROUNDS * 900 + n * STAGGER))
	fi
	for g in "${guests[@]}"; do
		until work_done "$g"; do
			work_failed "$g" && die "$w in $g failed: $(lab run "$g" 'tail -n 5 /root/wl.out /root/wl-*.log')"
			((SECONDS < deadline)) || die "$w in $g did not end in time"
			sleep 5
		done
	done
	local build_s=$((SECONDS - t0))
	sleep "$SETTLE"
	local backed=0 used=() oom=() rounds=() tps p99
	for g in "${guests[@]}"; do
		backed=$((backed + ($(lab backed "$g") >> 20)))
		used+=("$(used_mib "$(guest_kib "$g" MemTotal)" "$(guest_kib "$g" MemFree)")")
		oom+=("$(figure_or_dash "$(lab run "$g" 'dmesg | grep -ci "killed process" || true')")")
		[[ $w == pgbench ]] && continue
		rounds+=("$(figure_or_dash "$(lab run "$g" "awk '/^round/ { s += \$3 } END { printf \"%.0f\", s }' /root/wl.out")")")
	done
	used=$(sum_figures "${used[@]}")
	oom=$(sum_figures "${oom[@]}")
	local work_figures
	work_figures=$(printf '%s\n' "${rounds[@]}" | sort -n | tail -n 1)
	[[ " ${rounds[*]} " == *" — "* ]] && work_figures="—"
	if [[ $w == pgbench ]]; then
		tps=$(figure_or_dash "$(wl_figure "${guests[0]}" tps)")
		p99=$(figure_or_dash "$(wl_figure "${guests[0]}" p99)")
		# No transaction, no latency to speak of.
		[[ $tps == "—" || $tps =~ ^0+(\.0+)?$ ]] && p99="—"
		work_figures="$tps $p99"
		PG_DATA_MIB=$(wl_figure "${guests[0]}" data)
	fi
	stop_sampler
	stop_manager
	awk -v mode=plot -f "$STATS" "$samples" > "$WORK/plot.$w.$s"
	read -r foot peak moves moved < <(awk -v mode=summary -f "$STATS" "$samples")
	# shellcheck disable=SC2086
	row=$(printf "%-16s %9s %8s %8s %8s $(work_columns "$w") %7s %4s %4s" "$s" "$foot" "$peak" "$backed" "$used" \
		$work_figures "$moves" "$moved" "$oom")
	echo "$row" >> "$WORK/rows.$w"
	note "$w / $s: $row (all done in ${build_s} s)"
	lab down > /dev/null 2>&1 || true
}

# The series of every set-up, kept next to the table, and their plot.
plot() { # WORKLOAD
	local w=$1 s data=$RESULTS/workload-$1.dat
	mkdir -p "$RESULTS"
	: > "$data"
	for s in "${SETUPS[@]}"; do
		[[ -s $WORK/plot.$w.$s ]] || continue
		{ echo "# $s"; cat "$WORK/plot.$w.$s"; printf '\n\n'; } >> "$data"
	done
	"$BENCH_DIR/workload-plot" "$data" "$RESULTS/workload-$w.png" "backed guest RAM on the host, workload $w" ||
		note "the plot of $w failed (data kept in $data)"
}

# The workload's own columns: the build's time, or pgbench's TPS and p99.
work_columns() { [[ $1 == pgbench ]] && echo '%8s %8s' || echo '%8s'; } # WORKLOAD

table() { # WORKLOAD
	local w=$1 n=1
	[[ $w == stagger ]] && n=$GUESTS
	if [[ $w == pgbench ]]; then
		echo "Workload pgbench: 1 Debian guest of $MEM MiB (TCG), PostgreSQL 15, scale $PG_SCALE (${PG_DATA_MIB:-?} MiB of data), select-only, $PG_CLIENTS clients, ${PG_TIME} s; budget $((MEM * BUDGET_PCT / 100)) MiB"
		echo
		printf "%-16s %9s %8s %8s %8s $(work_columns "$w") %7s %4s %4s\n" set-up "GiB·min" "peak" "after" "used" "TPS" "p99 ms" "moves" "MiB" "oom"
	else
		echo "Workload $w: $n Debian guest(s) of $MEM MiB (TCG), building $PACKAGE with make -j$JOBS, $ROUNDS round(s)$(
			[[ $w == stagger ]] && echo ", started ${STAGGER} s apart"); budget $((n * MEM * BUDGET_PCT / 100)) MiB"
		echo
		printf "%-16s %9s %8s %8s %8s $(work_columns "$w") %7s %4s %4s\n" set-up "GiB·min" "peak" "after" "used" "build s" "moves" "MiB" "oom"
	fi
	cat "$WORK/rows.$w"
	echo
}

tarball=
if [[ " ${WORKLOADS[*]} " == *" build "* || " ${WORKLOADS[*]} " == *" stagger "* ]]; then
	tarball=$(fetch_source "$PACKAGE")
	note "source: ${tarball##*/} ($(($(stat -c %s "$tarball") >> 10)) KiB)"
fi
for w in "${WORKLOADS[@]}"; do
	: > "$WORK/rows.$w"
	for s in "${SETUPS[@]}"; do
		run_setup "$w" "$s" "$tarball"
	done
	plot "$w"
done
for w in "${WORKLOADS[@]}"; do
	table "$w"
done
echo "(GiB·min: the guests' backed RAM integrated over the run; peak: its highest sum, MiB;"
echo " after: backed RAM ${SETTLE} s after the guests dropped their caches, MiB, against used: what"
echo " they still use then, MemTotal - MemFree; build s: the slowest guest's rounds; TPS: pgbench's,"
echo " p99 ms: its transactions' 99th percentile latency; moves: balloon movements, MiB: what"
echo " they moved; oom: OOM kills in the guests' dmesg)"
echo "Plots: $(for w in "${WORKLOADS[@]}"; do printf '%s ' "workload-$w.png"; done)(series in workload-WORKLOAD.dat)"
