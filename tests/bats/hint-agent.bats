#!/usr/bin/env bats
# hint-agent on the host: its port is a unix socket (hint-peer or socat
# listening on it), its device fake-pagehint's SOCK_SEQPACKET socket.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	BUILD=${BUILD:-$TOP/build}
	AGENT=$BUILD/hint-agent
	PEER=$BUILD/lab/host/hint-peer
	FAKE=$TOP/tests/lab/host/fake-pagehint
	D=$BATS_TEST_TMPDIR
	PIDS=()
}

teardown() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -f "/dev/shm/hint-agent-bats-$$"
}

# Starts fake-pagehint ARGS... on $D/dev.sock and waits until it listens.
start_fake() {
	"$FAKE" "$D/dev.sock" "$@" > "$D/fake.log" 2>&1 &
	PIDS+=($!)
	FAKE_PID=$!
	local i
	for i in $(seq 50); do
		grep -q '^listening' "$D/fake.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_agent() { # ARGS...
	"$AGENT" --port "$D/port.sock" "$@" > "$D/agent.log" 2>&1 &
	PIDS+=($!)
}

@test "hint-agent refuses bad arguments with exit status 2, naming them" {
	run "$AGENT" --stats-interval 5
	assert_equal "$status" 2
	assert_output --partial -- "--stats-interval"
	run "$AGENT" --port
	assert_equal "$status" 2
	assert_output --partial -- "--port: needs an argument"
	run "$AGENT" --frobnicate
	assert_equal "$status" 2
	assert_output --partial -- "--frobnicate"
	run "$AGENT" stray
	assert_equal "$status" 2
	run "$AGENT" --help
	assert_success
	assert_output --partial "Exit status"
}

@test "without the module: hello says why, stats flow, module commands fail" {
	start_agent --device "$D/nodev" --stats-interval 200
	run timeout 20 "$PEER" --listen "$D/port.sock" --duration 1.5 --cmd 'give bytes=1M'
	assert_output --partial "hello protocol=1"
	assert_output --partial "module=0 status=\"$D/nodev: No such file or directory\""
	assert_output --partial "stats seq=3"
	assert_output --partial 'reply id=1 ok=0 error="module not present'
}

@test "hello again on every connection, without spinning in between" {
	start_agent --device "$D/nodev"
	local pid=${PIDS[-1]}
	run timeout 20 "$PEER" --listen "$D/port.sock" --duration 0.5
	assert_output --partial "hello protocol=1"
	sleep 2
	# No host for 2 s: next to no CPU time (it polls every 250 ms).
	local ticks
	ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	((ticks < 10))
	run timeout 20 "$PEER" --listen "$D/port.sock" --duration 0.5
	assert_output --partial "hello protocol=1"
}

@test "batches are claimed, punched and acked; the holes are real" {
	local ram=/dev/shm/hint-agent-bats-$$
	head -c 64M /dev/urandom > "$ram"
	start_fake --batches 5 --duration 8
	start_agent --device "$D/dev.sock"
	run timeout 30 "$PEER" --listen "$D/port.sock" --memfd "$ram" --punch --duration 5 --quiet-stats
	assert_output --partial "module=1"
	assert_output --partial "total batches=5 bytes_hinted=31457280 bytes_punched=31457280 bytes_backed=31457280 refused=0 declined=0 errors=0"
	# 30 MiB of the 64 MiB file are holes now.
	run du -k "$ram"
	assert_output --regexp "^34816"
	wait "$FAKE_PID" || true
	run cat "$D/fake.log"
	assert_output --partial "summary claim=5 ack=5 release=0 violations=0"
}

@test "a host that declines gets its batches released, never acked" {
	start_fake --batches 3 --duration 5
	start_agent --device "$D/dev.sock"
	run timeout 30 "$PEER" --listen "$D/port.sock" --duration 3 --quiet-stats
	assert_output --partial "total batches=3"
	wait "$FAKE_PID" || true
	run cat "$D/fake.log"
	assert_output --partial "summary claim=0 ack=0 release=3 violations=0"
}

@test "unclaimed batches are released when the host goes away" {
	start_fake --batches 1 --ttl-ms 20000 --duration 5
	start_agent --device "$D/dev.sock"
	# A host that only listens, then hangs up.
	run timeout 10 socat -u "UNIX-LISTEN:$D/port.sock" "SYSTEM:sleep 2"
	wait "$FAKE_PID" || true
	run cat "$D/fake.log"
	assert_output --partial "cmd release id=1"
	assert_output --partial "violations=0"
	assert_output --partial "expired=0"
}

@test "claimed batches too go back when the host goes away; no reporting while no host listens" {
	start_fake --batches 1 --ttl-ms 20000 --duration 6
	start_agent --device "$D/dev.sock"
	# A host that claims the batch, then dies before it acks.
	cat > "$D/claim-and-die" <<-'EOF'
	#!/bin/sh
	while read -r l; do
		case $l in *'"hints"'*)
			id=$(echo "$l" | sed 's/.*"batch":\([0-9]*\).*/\1/')
			echo "{\"v\":1,\"type\":\"claim\",\"batch\":$id}"
			sleep 1
			exit ;;
		esac
	done
	EOF
	chmod +x "$D/claim-and-die"
	run timeout 10 socat "UNIX-LISTEN:$D/port.sock" EXEC:"$D/claim-and-die"
	wait "$FAKE_PID" || true
	run cat "$D/fake.log"
	assert_output --partial "violations=0"
	# Paused until the host came, resumed for it, paused again after it.
	run grep -E "^cmd (reporting|claim|release|give)" "$D/fake.log"
	assert_output "$(printf '%s\n' "cmd give id=0 arg=0" "cmd reporting id=0 arg=0" \
		"cmd reporting id=0 arg=1" "cmd claim id=1 arg=0" "cmd release id=1 arg=0" \
		"cmd give id=0 arg=0" "cmd reporting id=0 arg=0")"
}

@test "a new granularity is announced in a hello before any hint of it" {
	# The fake follows no ORDER: its batches stay 2 MiB, so after the
	# command the agent announces 4 MiB, then 2 MiB again before sending
	# those. Every hint must match the hello before it.
	start_fake --batches 3 --interval-ms 1500 --duration 8
	start_agent --device "$D/dev.sock"
	run timeout 30 "$PEER" --listen "$D/port.sock" --cmd 'granularity bytes=4M' --duration 5 --quiet-stats
	assert_success
	assert_line --partial "reply id=1 ok=1"
	run grep -E '^(hello|hints|reply)' <<< "$output"
	local seq
	seq=$(awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^granularity=/) g = " " $i
		     print $1 ($1 == "reply" ? "" : g) }' <<< "$output" | uniq | tr '\n' ,)
	[[ $seq == *"reply,hello granularity=4194304,hello granularity=2097152,hints granularity=2097152,"* ]] ||
		fail "order of messages: $seq"
	awk '$1 == "hello" { for (i = 2; i <= NF; i++) if ($i ~ /^granularity=/) said = $i }
	     $1 == "hints" && index($0, said) == 0 { print "mismatch: " $0; bad = 1 }
	     END { exit bad }' <<< "$output"
	wait "$FAKE_PID" || true
	run cat "$D/fake.log"
	assert_output --partial "cmd order id=0 arg=10"
	assert_output --partial "violations=0"
}

@test "bad host messages get an error reply when they carry an id, and no crash" {
	start_agent --device "$D/nodev"
	local pid=${PIDS[-1]}
	{
		printf '{"v":1,"type":"cmd","id":7,"name":"reboot","args":{}}\n'
		printf '{"v":2,"type":"cmd","id":8,"name":"hello"}\n'
		printf '{"v":1,"type":"cmd","id":9,"name":"drop_cache","args":{"bytes":-1}}\n'
		printf '{"v":1,"type":"cmd","id":10,"name":"stats_interval","args":{"ms":1.5}}\n'
		printf '\xff\xfe not json\n'
		head -c 100000 /dev/zero | tr '\0' x; printf '\n'
		printf '{"v":1,"type":"claim","batch":42}\n'
		printf '{"v":1,"type":"cmd","id":11,"name":"hello"}\n'
		sleep 1
	} | timeout 10 socat -t 1 "UNIX-LISTEN:$D/port.sock" STDIO > "$D/out" || true
	run cat "$D/out"
	assert_output --partial '"id":7,"ok":false,"error":"bad message: field \"name\": unknown command \"reboot\""'
	assert_output --partial '"id":8,"ok":false,"error":"bad message: protocol version 2 not supported'
	assert_output --partial '"id":9,"ok":false,"error":"bad message: field \"args.bytes\": -1 is negative"'
	assert_output --partial '"id":10,"ok":false'
	assert_output --partial '{"v":1,"type":"claimed","batch":42,"ok":false}'
	assert_output --partial '{"v":1,"type":"reply","id":11,"ok":true}'
	kill -0 "$pid"
	run cat "$D/agent.log"
	assert_output --partial "longer than 65536 bytes, dropped"
	assert_output --partial "invalid JSON"
}
