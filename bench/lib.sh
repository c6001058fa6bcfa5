# Shared by the benchmark scripts (sourced): paths, the VM lock, the lab,
# hintd, and sampling a guest's host backing.
#
# Environment: BUILD (default ./build), LAB_DIR (default /tmp/hintd-lab-bench),
# BENCH_SMOKE=1 (seconds, no VMs: VM benchmarks say they are skipped).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH_DIR/.." && pwd)
export BUILD=${BUILD:-$TOP/build}
export LAB_DIR=${LAB_DIR:-/tmp/hintd-lab-bench}
LAB=$TOP/tests/lab/lab
VM_LOCK=/tmp/hintd-vm.lock
BENCH_SMOKE=${BENCH_SMOKE:-0}
[[ $BENCH_SMOKE == 0 ]] && BENCH_SMOKE=

lab() { "$LAB" "$@"; }
lab_virsh() { virsh -q -c "$("$LAB" uri)" "$@"; }
note() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# A figure a guest printed, or "—" when it printed no number: a guest whose
# OOM killer loops may answer lab run with an error or nothing, and a table
# must not show arithmetic on that.
figure_or_dash() { # TEXT
	if [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then echo "$1"; else echo "—"; fi
}

# The sum of figures in MiB, "—" when any of them is one.
sum_figures() { # FIGURE...
	local f sum=0
	for f in "$@"; do
		[[ $f =~ ^[0-9]+$ ]] || { echo "—"; return; }
		sum=$((sum + f))
	done
	echo "$sum"
}

# What a guest uses, MemTotal - MemFree in MiB, from its two figures in KiB
# (as lab run printed them): "—" unless both are numbers and free <= total.
used_mib() { # TOTAL-KIB FREE-KIB
	[[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] && (($2 <= $1)) || { echo "—"; return; }
	echo $((($1 - $2) >> 10))
}

# Real guests: one VM user of this machine at a time. Re-runs the calling
# script under the lock (waiting for it), unless it already holds it: under
# `flock /tmp/hintd-vm.lock SCRIPT` it has the locked descriptor, and
# waiting for the lock again would wait for itself.
take_vm_lock() { # "$@" of the script
	local fd
	[[ -n ${BENCH_VM_LOCKED:-} ]] && return 0
	for fd in /proc/$$/fd/*; do
		[[ $(readlink "$fd" 2>/dev/null) == "$VM_LOCK" ]] && flock -n "${fd##*/}" && return 0
	done
	flock -n "$VM_LOCK" true 2>/dev/null || note "waiting for the VM lock ($VM_LOCK)"
	BENCH_VM_LOCKED=1 exec flock "$VM_LOCK" "$0" "$@"
}

# A working directory for this run; the lab and hintd are stopped on exit.
bench_begin() { # NAME
	WORK=$(mktemp -d "/tmp/hintd-bench-$1.XXXXXX")
	HINTD_PID=
	SAMPLER_PID=
	OWN_PIDS=()	# other processes this run started, stopped at the end
	trap bench_end EXIT
	trap 'exit 130' INT TERM
}

bench_end() {
	local rc=$?
	stop_sampler
	stop_hintd
	for p in "${OWN_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [[ -n ${BENCH_USES_LAB:-} ]]; then
		lab down > /dev/null 2>&1 || true
	fi
	if ((rc)) && [[ -n ${WORK:-} ]]; then
		note "failed; logs kept in $WORK"
	else
		[[ -n ${WORK:-} ]] && rm -rf "$WORK"
	fi
	return "$rc"
}

# Boots guests in parallel: lab_boot "NAME [lab start options]"...
lab_boot() {
	local spec pids=() rc=0 p
	BENCH_USES_LAB=1
	[[ -f $BUILD/lab/initrd.img && -f $BUILD/lab/data.img ]] ||
		die "no guest image in $BUILD/lab: run 'make lab-image' (or make bench)"
	lab down > /dev/null 2>&1 || true
	lab up
	for spec in "$@"; do
		# shellcheck disable=SC2086 # the options are words
		lab start $spec --timeout 120 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || rc=1
	done
	((rc == 0)) || die "guests did not boot"
}

# hintd on the lab with the configuration text given; waits until it is
# connected and, with agents named, until their agents are connected.
start_hintd() { # CONFIG-TEXT [GUEST...]
	local conf=$WORK/hintd.conf g extra=()
	HINTD_LOG=$WORK/hintd.log
	printf '%s\n' "$1" > "$conf"
	shift
	mkdir -p "$WORK/no-dropins"
	"$BUILD/hintd" --help 2>/dev/null | grep -q -- --no-bus && extra=(--no-bus)
	: > "$HINTD_LOG"
	"$BUILD/hintd" --config "$conf" --config-dir "$WORK/no-dropins" --uri "$(lab uri)" \
		--log-level info "${extra[@]}" >> "$HINTD_LOG" 2>&1 &
	HINTD_PID=$!
	lab track hintd "$HINTD_PID"
	wait_until 20 hintd_logged "Connected to" || die "hintd did not connect: $(tail -n 5 "$HINTD_LOG")"
	for g in "$@"; do
		wait_until 30 hintd_logged "hintd-lab-$g: agent .* connected" ||
			die "the agent of $g did not connect: $(tail -n 5 "$HINTD_LOG")"
	done
}

hintd_logged() { kill -0 "$HINTD_PID" 2>/dev/null && grep -q "$1" "$HINTD_LOG"; }

stop_hintd() {
	[[ -n ${HINTD_PID:-} ]] || return 0
	kill -TERM "$HINTD_PID" 2>/dev/null || true
	wait "$HINTD_PID" 2>/dev/null || true
	HINTD_PID=
}

wait_until() { # SECONDS COMMAND...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

now() { echo "$EPOCHREALTIME"; }

# Samples the backing of guest NAME every 100 ms into FILE, as lines
# "EPOCH-SECONDS BYTES", until stop_sampler.
start_sampler() { # NAME FILE
	local fd
	fd=$(lab memfd "$1")
	(
		while :; do
			echo "$EPOCHREALTIME $(($(stat -L -c %b "$fd") * 512))"
			sleep 0.1
		done
	) > "$2" 2>/dev/null &
	SAMPLER_PID=$!
}

stop_sampler() {
	[[ -n ${SAMPLER_PID:-} ]] || return 0
	kill "$SAMPLER_PID" 2>/dev/null || true
	wait "$SAMPLER_PID" 2>/dev/null || true
	SAMPLER_PID=
}

# Waits until the backing of guest NAME (all its RAM files) has not moved
# by more than 2 MiB for 3 s (at most SECONDS); prints it.
wait_backing_steady() { # NAME [SECONDS]
	local last cur still=0 deadline=$((SECONDS + ${2:-40}))
	last=$(lab backed "$1")
	while ((SECONDS < deadline && still < 6)); do
		sleep 0.5
		cur=$(lab backed "$1")
		if (((cur > last ? cur - last : last - cur) <= 2 << 20)); then
			still=$((still + 1))
		else
			still=0
			last=$cur
		fi
	done
	lab backed "$1"
}

# Reads samples FILE from time T0 on: bytes returned (REF - backed) at each
# offset in seconds, then the first offset at which REF - backed >= GOAL
# ("never" when it was not reached).
returned_at() { # FILE T0 REF GOAL OFFSET...
	local file=$1 t0=$2 ref=$3 goal=$4
	shift 4
	awk -v t0="$t0" -v ref="$ref" -v goal="$goal" -v offs="$*" '
		BEGIN { n = split(offs, off, " "); reached = "never" }
		$1 >= t0 {
			dt = $1 - t0
			for (i = 1; i <= n; i++)
				if (!(i in got) && dt >= off[i]) got[i] = ref - $2
			last = ref - $2
			if (reached == "never" && ref - $2 >= goal) reached = sprintf("%.1f", dt)
		}
		END {
			for (i = 1; i <= n; i++) printf "%d ", (i in got ? got[i] : last)
			print reached
		}' "$file"
}

mib() { echo $(($1 >> 20)); }
