#!/usr/bin/env bats
# hintd as a daemon: arguments and exit codes, configuration checks, reload
# on SIGHUP keeping the old configuration when the new one is bad, a clean
# stop on SIGTERM, and the sd_notify messages a Type=notify unit relies on.
# libvirt's test driver stands in for a host; no bus.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	HINTD=${BUILD:-$TOP/build}/hintd
	CONF=$BATS_TEST_TMPDIR/hintd.conf
	printf '[Host]\nBudget=4G\n' > "$CONF"
	PIDS=()
}

teardown() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

start_hintd() { # [ENV=VALUE...]
	env "$@" "$HINTD" --config "$CONF" --config-dir "$BATS_TEST_TMPDIR/none" \
		--uri test:///default --no-bus > "$BATS_TEST_TMPDIR/log" 2>&1 &
	HINTD_PID=$!
	PIDS+=("$HINTD_PID")
	for _ in $(seq 50); do
		grep -q "running" "$BATS_TEST_TMPDIR/log" && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/log"
	return 1
}

@test "--help and --version exit 0" {
	run "$HINTD" --help
	assert_success
	assert_output --partial "Exit status"
	run "$HINTD" --version
	assert_success
}

@test "a bad argument exits 2 and names it" {
	run "$HINTD" --frobnicate
	assert_equal "$status" 2
	assert_output --partial "--frobnicate"
	run "$HINTD" --log-level loud
	assert_equal "$status" 2
	assert_output --partial "unknown level 'loud'"
}

@test "--check-config accepts a good file and refuses a bad one with file:line (exit 3)" {
	run "$HINTD" --config "$CONF" --config-dir "$BATS_TEST_TMPDIR/none" --check-config
	assert_success
	printf '[Host]\nBudget=4G\n\n[VM web]\nShares=0\n' > "$CONF"
	run "$HINTD" --config "$CONF" --config-dir "$BATS_TEST_TMPDIR/none" --check-config
	assert_equal "$status" 3
	assert_output --partial "$CONF:5: Shares=0"
}

@test "SIGHUP with a broken file keeps the running configuration" {
	start_hintd
	printf '[Host]\nBudget=lots\n' > "$CONF"
	kill -HUP "$HINTD_PID"
	sleep 1
	kill -0 "$HINTD_PID"
	run cat "$BATS_TEST_TMPDIR/log"
	assert_output --partial "Configuration not reloaded, keeping the old one"
	assert_output --partial "Budget=lots"
	# A good file is taken.
	printf '[Host]\nBudget=2G\n' > "$CONF"
	kill -HUP "$HINTD_PID"
	sleep 1
	run cat "$BATS_TEST_TMPDIR/log"
	assert_output --partial "Configuration reloaded"
}

@test "SIGTERM stops hintd cleanly (exit 0)" {
	start_hintd
	kill -TERM "$HINTD_PID"
	rc=0
	wait "$HINTD_PID" || rc=$?
	assert_equal "$rc" 0
	run cat "$BATS_TEST_TMPDIR/log"
	assert_output --partial "Stopping on"
}

@test "sd_notify: READY=1 at start, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM" {
	sock=$BATS_TEST_TMPDIR/notify
	socat -u "UNIX-RECVFROM:$sock,fork" "OPEN:$BATS_TEST_TMPDIR/notified,creat,append" &
	PIDS+=("$!")
	for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.1; done
	start_hintd NOTIFY_SOCKET="$sock"
	kill -HUP "$HINTD_PID"
	sleep 0.5
	kill -TERM "$HINTD_PID"
	wait "$HINTD_PID" || true
	sleep 0.3
	run cat "$BATS_TEST_TMPDIR/notified"
	assert_output --partial "READY=1"
	assert_output --partial "RELOADING=1"
	assert_output --partial "STOPPING=1"
}
