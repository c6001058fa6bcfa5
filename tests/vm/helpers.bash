# Shared by the real-VM tests: the lab, libvirt and host-side measurements.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export BUILD=${BUILD:-$TOP/build}
# Each test file has a lab of its own, so a failure never leaks into the next.
export LAB_DIR=${LAB_DIR_BASE:-/tmp/hintd-lab}-$(basename "$BATS_TEST_FILENAME" .bats)
LAB=$TOP/tests/lab/lab

lab() { "$LAB" "$@"; }

# Defaults a test file may override: hintd stopped after each test, the lab
# torn down after the file, whatever happened.
teardown() { stop_hintd; }
teardown_file() { lab down; }
lab_virsh() { virsh -q -c "$("$LAB" uri)" "$@"; }

# dommemstat FIELD of guest NAME, in KiB ("" when absent).
memstat() { lab_virsh dommemstat "hintd-lab-$1" | awk -v k="$2" '$1 == k { print $2 }'; }

# Guest /proc/meminfo FIELD in KiB.
guest_meminfo() { lab run "$1" "awk '\$1 == \"$2:\" { print \$2 }' /proc/meminfo"; }

# Balloon of guest NAME at or below KIB.
balloon_at_most() { local a; a=$(memstat "$1" actual); [[ -n $a ]] && ((a <= $2)); }
balloon_at_least() { local a; a=$(memstat "$1" actual); [[ -n $a ]] && ((a >= $2)); }
# Balloon statistics of guest NAME have arrived.
memstats_arrived() { [[ -n $(memstat "$1" unused) ]]; }

# Waits up to SECONDS for COMMAND to succeed; fails with the last output.
wait_for() { # SECONDS COMMAND...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# hintd on the lab's libvirtd with the hintd.conf text given; its log goes to
# $BATS_FILE_TMPDIR/hintd.log. The lab stops it too, should a test fail.
start_hintd() {
	local conf=$BATS_FILE_TMPDIR/hintd.conf from bus=(--no-bus)
	[[ -z ${BUS_ADDRESS:-} ]] || bus=(--bus-address="$BUS_ADDRESS")
	HINTD_LOG=$BATS_FILE_TMPDIR/hintd.log
	printf '%s\n' "$1" > "$conf"
	echo "---- hintd start: $BATS_TEST_DESCRIPTION" >> "$HINTD_LOG"
	from=$(wc -l < "$HINTD_LOG")
	HINTD_LOG_FROM=$from
	# HINTD_WRAPPER: a command to run hintd under (valgrind); BUS_ADDRESS:
	# a private bus from start_bus, else none.
	${HINTD_WRAPPER:-} "$BUILD/hintd" --config "$conf" --config-dir "$BATS_FILE_TMPDIR/no-dropins" \
		--uri "$(lab uri)" "${bus[@]}" --log-level debug >> "$HINTD_LOG" 2>&1 &
	HINTD_PID=$!
	lab track hintd "$HINTD_PID"
	# Only this start's part of the log counts, and hintd must still run.
	wait_for "${HINTD_START_TIMEOUT:-15}" hintd_connected "$from" ||
		fail "hintd did not connect: $(tail -n +"$from" "$HINTD_LOG" | tail -5)"
}

hintd_connected() { # FROM-LINE
	kill -0 "$HINTD_PID" 2>/dev/null || return 1
	tail -n +"$1" "$HINTD_LOG" | grep -q "Connected to"
}

# A private dbus-daemon for this file's hintd (stopped by lab down); sets
# BUS_ADDRESS.
start_bus() {
	local pid
	export BUS_ADDRESS=unix:path=$LAB_DIR/bus
	pid=$(dbus-daemon --config-file="$TOP/tests/lab/test-bus.conf" --address="$BUS_ADDRESS" \
		--fork --print-pid=1)
	lab track dbus-daemon "$pid"
}

hintctl() { "$BUILD/hintctl" --bus-address="$BUS_ADDRESS" "$@"; }

stop_hintd() {
	kill -TERM "$HINTD_PID" 2>/dev/null || true
	wait "$HINTD_PID" 2>/dev/null || true
}

# What the running hintd logged since it started.
hintd_log() { tail -n +"$HINTD_LOG_FROM" "$HINTD_LOG"; }
hintd_logged() { hintd_log | grep -q "$1"; }
# A mark in that log, and PATTERN logged from the mark on.
hintd_log_mark() { hintd_log | wc -l; }
hintd_logged_since() { hintd_log | tail -n +"$1" | grep -q "$2"; } # MARK PATTERN

# Waits until hintd heard the agents of the guests named.
wait_agents() { # NAME...
	local g
	for g in "$@"; do
		wait_for 20 hintd_logged "hintd-lab-$g: agent .* connected" ||
			fail "agent of $g did not connect"
	done
}

backed_mib() { echo $(($(lab backed "$1") >> 20)); }
backed_at_most() { (($(backed_mib "$1") <= $2)); } # NAME MIB
# The guest's backing moved by at most 4 MiB over 2 s.
backing_settled() { # NAME
	local a b
	a=$(backed_mib "$1")
	sleep 2
	b=$(backed_mib "$1")
	((b - a <= 4 && a - b <= 4))
}

# Host memory behind all the guests named, in MiB.
total_backed_mib() { # NAME...
	local g sum=0
	for g in "$@"; do
		sum=$((sum + $(lab backed "$g")))
	done
	echo $((sum >> 20))
}

# Seconds (one decimal) from guest NAME freeing 200 MiB until the host has
# it back (its backing within 40 MiB of where it was).
reclaim_seconds() { # NAME
	local base t0
	base=$(backed_mib "$1")
	lab run "$1" "memtouch 200" > /dev/null || return 1
	t0=$(date +%s%N)
	wait_for 30 backed_at_most "$1" $((base + 40)) || return 1
	echo $((($(date +%s%N) - t0) / 100000000)) | sed 's/.$/.&/; s/^\./0./'
}

balloon_mib() { echo $(($(memstat "$1" actual) / 1024)); }

# libvirt's view of guest NAME's virtio-mem device, in MiB: what it is
# asked to plug (requested) or has plugged (current).
virtio_mem_mib() { # NAME requested|current
	lab_virsh dumpxml "hintd-lab-$1" | awk -v k="<$2" -F'[<>]' '
		index($0, k " unit=\047KiB\047>") { print int($3 / 1024); exit }'
}

# A measured figure, shown in the TAP output whether the test passes or not.
report() { echo "# $*" >&3; }

# The guest's kernel reported no oops, BUG, warning or OOM kill. If it did,
# the whole report (its stack is below the console's log level) and what
# the module held go to the TAP output before the test fails.
OOPS_PATTERN="Oops|BUG:|WARNING:|general protection|Out of memory"
no_oops() { # NAME
	run lab run "$1" "dmesg | grep -E '$OOPS_PATTERN' || echo clean"
	[[ $output == clean ]] && return
	lab run "$1" "dmesg | grep -m 3 -A 40 -E '$OOPS_PATTERN'
		grep . /sys/kernel/pagehint/*_bytes" | sed 's/^/# /' >&3
	hintd_log | tail -40 | sed 's/^/# hintd: /' >&3
	assert_output "clean"
}

# hintd rejected no message from guest NAME's agent (an honest agent sends
# none it should); if it did, what hintd said about each.
nothing_rejected() { # NAME
	local count
	count=$(hintctl show "hintd-lab-$1" | awk '$1 == "AgentRejected:" { print $2 }')
	[[ $count == 0 ]] && return
	hintd_log | grep "hintd-lab-$1: .*rejected" | head -5 | sed 's/^/# hintd: /' >&3
	fail "AgentRejected of $1 is ${count:-missing}"
}
