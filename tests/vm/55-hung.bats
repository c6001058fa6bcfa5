#!/usr/bin/env bats
# A QEMU or a libvirtd that stops answering (kill -STOP: what a QEMU stuck on
# storage looks like) must stall nothing but itself. Guest a runs the soak
# (checksummed memory, batches in flight) and is the one stopped; guest b
# frees 200 MiB meanwhile, and the host must get it back. hintctl is timed
# on every call.
load helpers

STALL_SECONDS=${HINTD_STALL_SECONDS:-12}

setup_file() {
	lab down
	lab start a b
	start_bus
}

teardown() {
	# Whatever happened, nothing stays stopped.
	[[ -z ${STOPPED_PID:-} ]] || kill -CONT "$STOPPED_PID" 2>/dev/null || true
	stop_hintd
}

# One hintctl call, timed: its output in HINTCTL_OUT, milliseconds in
# HINTCTL_MS (globals: no subshell, which would lose them).
timed_hintctl() {
	local t0 rc=0
	t0=$(date +%s%N)
	HINTCTL_OUT=$(hintctl "$@" 2>&1) || rc=$?
	HINTCTL_MS=$((($(date +%s%N) - t0) / 1000000))
	((rc == 0)) || { echo "hintctl $*: $HINTCTL_OUT" >&2; return 1; }
}

# Calls hintctl list and status every 2 s for STALL_SECONDS; fails when one
# takes 1 s or more. Sets SLOWEST_MS, and SEEN when list showed PATTERN.
poll_hintctl() { # PATTERN
	local deadline=$((SECONDS + STALL_SECONDS)) verb
	SLOWEST_MS=0 SEEN=0 CALLS=0
	while ((SECONDS < deadline)); do
		for verb in list status; do
			timed_hintctl "$verb" || return 1
			CALLS=$((CALLS + 1))
			((HINTCTL_MS > SLOWEST_MS)) && SLOWEST_MS=$HINTCTL_MS
			((HINTCTL_MS < 1000)) || { echo "hintctl $verb took ${HINTCTL_MS} ms" >&2; return 1; }
			[[ $HINTCTL_OUT =~ $1 ]] && SEEN=1
		done
		sleep 2
	done
}

@test "one QEMU stopped: hintctl answers, the other guest's memory comes back, no page corrupted" {
	local secs
	start_hintd "[Host]"
	wait_agents a b
	# Long enough to go on for 10 s or more once a runs again.
	lab run a "soak $((STALL_SECONDS + 25)) 96 128 > /tmp/soak.log 2>&1 &"
	sleep 5
	STOPPED_PID=$(lab qemu-pid a)
	kill -STOP "$STOPPED_PID"
	# b's reclaim while a is stopped, then hintctl for the rest of the stall.
	sleep 8
	secs=$(reclaim_seconds b) || fail "b's freed memory did not come back while a was stopped"
	report "a stopped: b's 200 MiB back in ${secs} s"
	awk -v s="$secs" 'BEGIN { exit !(s <= 5) }' || fail "b took ${secs} s"
	poll_hintctl 'hintd-lab-a .*unresponsive' || fail "hintctl was slow or failed while a was stopped"
	report "a stopped ${STALL_SECONDS} s: ${CALLS} hintctl calls, slowest ${SLOWEST_MS} ms"
	((SEEN)) || fail "hintctl list never showed a as unresponsive: $HINTCTL_OUT"
	kill -CONT "$STOPPED_PID"
	STOPPED_PID=
	wait_for 30 eval 'hintctl show hintd-lab-a | grep -q "Libvirt: answering"' ||
		fail "a not managed again: $(hintctl show hintd-lab-a)"
	wait_for 120 lab run a "grep -q '^soak: ' /tmp/soak.log" || fail "soak in a did not finish"
	run lab run a "cat /tmp/soak.log; dmesg | grep -ci 'out of memory\|oops\|BUG:' || true"
	report "a: ${lines[0]}"
	assert_line --index 0 --regexp '^soak: ok [0-9]+ cycles, [0-9]+ pages verified'
	assert_line --index 1 "0"
	nothing_rejected a
	! hintd_logged "reading paused" || fail "a backlog was taken for a flood"
	hintd_logged "hintd-lab-a: QEMU does not answer libvirt"
	hintd_logged "hintd-lab-a: QEMU answers libvirt again"
	# The stopped guest's own memory comes back once it runs again.
	secs=$(reclaim_seconds b) || fail "b's freed memory did not come back after the stall"
	report "after the stall: b's 200 MiB back in ${secs} s"
}

@test "libvirtd stopped: hintctl answers saying so, freed memory comes back, nothing rejected after" {
	local secs mark lvpid
	start_hintd "[Host]"
	wait_agents a b
	lvpid=$(cat "$LAB_DIR/pids/libvirtd")
	STOPPED_PID=$lvpid
	kill -STOP "$lvpid"
	sleep 8
	run hintctl status
	assert_line --regexp '^Libvirt: +not (answering|connected)$'
	secs=$(reclaim_seconds b) || fail "b's freed memory did not come back while libvirtd was stopped"
	report "libvirtd stopped: b's 200 MiB back in ${secs} s"
	awk -v s="$secs" 'BEGIN { exit !(s <= 5) }' || fail "b took ${secs} s"
	poll_hintctl 'not (answering|connected)' || fail "hintctl was slow or failed while libvirtd was stopped"
	report "libvirtd stopped ${STALL_SECONDS} s: ${CALLS} hintctl calls, slowest ${SLOWEST_MS} ms"
	((SEEN)) || fail "hintctl never said libvirt is not answering: $HINTCTL_OUT"
	mark=$(hintd_log_mark)
	kill -CONT "$lvpid"
	STOPPED_PID=
	wait_for 60 eval 'hintctl status | grep -q "^Libvirt: *connected"' ||
		fail "libvirt not back: $(hintctl status | grep Libvirt)"
	for g in a b; do
		wait_for 30 eval "hintctl show hintd-lab-$g | grep -q 'Libvirt: answering'" ||
			fail "$g not answering after libvirtd came back"
	done
	secs=$(reclaim_seconds b) || fail "b's freed memory did not come back after libvirtd resumed"
	report "libvirtd back: b's 200 MiB back in ${secs} s"
	! hintd_logged_since "$mark" "rejected\|reading paused" || fail "$(hintd_log | tail -n +"$mark" | grep "rejected\|paused")"
	nothing_rejected a
	nothing_rejected b
}
