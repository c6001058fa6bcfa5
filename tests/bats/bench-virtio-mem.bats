#!/usr/bin/env bats
# The virtio-mem benchmark's parts that need no guest: the figures
# virtio-mem-stats.awk draws from memloop's stamps and the clock reads, the
# script's checks of its settings and its smoke run, and memloop itself.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	BUILD=${BUILD:-$TOP/build}
	STATS=$TOP/bench/virtio-mem-stats.awk
	BENCH=$TOP/bench/virtio-mem.sh
	# memloop's output: passes of 0.5 s from t=10 to 12, then of 1 s to 14.
	LOOP=$BATS_TEST_TMPDIR/memloop
	printf '%s\n' "memloop: ready 64 MiB" "memloop: start 10.0" 10.5 11.0 11.5 12.0 13.0 14.0 \
		"memloop: ok 6 passes" > "$LOOP"
}

rate() { awk -v mode=rate -v from="$1" -v at="$2" -v to="$3" -f "$STATS" "$LOOP"; }

@test "rate: passes per second before and during, and their ratio" {
	run rate 10.0 12.0 14.0
	assert_success
	assert_output "2.00 1.00 0.50"
}

@test "rate: windows that cut through passes count the part of a pass done" {
	# 0.5 .. 3.5 passes over 1.5 s; 3.5 .. 4.5 over 0.75 s.
	run rate 10.25 11.75 12.5
	assert_output "2.00 1.33 0.67"
}

@test "rate: a window outside memloop's run, out of order, or an unfinished run is refused" {
	run rate 9.0 11.0 12.0
	assert_failure
	assert_output --partial "time 9.000 is outside memloop's run (10.000 .. 14.000)"
	run rate 10.0 14.5 14.6
	assert_failure
	run rate 12.0 11.0 13.0
	assert_failure
	assert_output --partial "windows out of order"
	sed -i '/memloop: ok/d' "$LOOP"
	run rate 10.0 12.0 14.0
	assert_failure
	assert_output --partial "memloop did not finish"
	printf 'memloop: start 1\n2\nbogus\nmemloop: ok 2 passes\n' > "$LOOP"
	run rate 1.0 1.5 2.0
	assert_failure
	assert_output --partial "bad memloop line 'bogus'"
}

@test "offset: the quickest clock read sets the guest's offset and its error" {
	# Round trips of 0.2, 0.04 and 0.1 s; the quickest says guest = host + 4.
	printf '%s\n' "100.0 50.0 100.2" "101.00 105.02 101.04" "102.0 106.5 102.1" > "$BATS_TEST_TMPDIR/clock"
	run awk -v mode=offset -f "$STATS" "$BATS_TEST_TMPDIR/clock"
	assert_success
	assert_output "4.000000 0.020000"
	printf '1 2\n' | { run awk -v mode=offset -f "$STATS"; assert_failure; }
	run awk -v mode=offset -f "$STATS" /dev/null
	assert_failure
	assert_output --partial "no samples"
}

@test "summary: median and range, of an odd and an even count" {
	run awk -v mode=summary -f "$STATS" <<< $'1645\n765\n1069'
	assert_output "1069 765 1645"
	run awk -v mode=summary -f "$STATS" <<< $'0.25\n0.3\n0.2\n0.4'
	assert_output "0.275 0.2 0.4"
	run awk -v mode=summary -f "$STATS" <<< "gave up"
	assert_failure
	assert_output --partial "not a number: 'gave up'"
}

@test "virtio-mem: a smoke run is skipped and says so" {
	BENCH_SMOKE=1 run "$BENCH"
	assert_success
	assert_output "virtio-mem: skipped (BENCH_SMOKE: real guests)"
}

@test "virtio-mem: bad settings and arguments are named" {
	BENCH_SMOKE=1 BENCH_ROUNDS=three run "$BENCH"
	assert_failure
	assert_output --partial "BENCH_ROUNDS must be 1..99, not 'three'"
	BENCH_SMOKE=1 VMEM_SETUPS="balloon dimm" run "$BENCH"
	assert_failure
	assert_output --partial "unknown set-up 'dimm' (virtio-mem, balloon)"
	BENCH_SMOKE=1 run "$BENCH" --rounds 3
	assert_equal "$status" 2
	assert_output --partial "unknown argument '--rounds'"
	run "$BENCH" --help
	assert_equal "$status" 2
	assert_output --partial "virtio-mem.sh — shrinking a guest by 256 MiB"
}

@test "memloop: passes over its memory, stamped, checked at the end" {
	run "$BUILD/lab/memloop" 4 1
	assert_success
	assert_line --index 0 "memloop: ready 4 MiB"
	assert_line --regexp '^memloop: start [0-9]+\.[0-9]{6}$'
	assert_line --regexp '^memloop: ok [1-9][0-9]* passes$'
	# One stamp per pass, and the stats read them.
	passes=$(sed -n 's/^memloop: ok \([0-9]*\) passes$/\1/p' <<< "$output")
	assert_equal "$(grep -cE '^[0-9]+\.[0-9]{6}$' <<< "$output")" "$passes"
	run "$BUILD/lab/memloop" --now
	assert_output --regexp '^[0-9]+\.[0-9]{6}$'
}

@test "memloop: bad arguments get status 2" {
	run "$BUILD/lab/memloop" 0
	assert_equal "$status" 2
	assert_output --partial "bad size in MiB '0'"
	run "$BUILD/lab/memloop" 8 soon
	assert_equal "$status" 2
	assert_output --partial "bad seconds 'soon'"
	run "$BUILD/lab/memloop"
	assert_equal "$status" 2
	run "$BUILD/lab/memloop" --later
	assert_equal "$status" 2
}
