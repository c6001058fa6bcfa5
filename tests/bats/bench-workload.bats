#!/usr/bin/env bats
# The workload benchmark's pure parts: the figures workload-stats.awk draws
# from host samples, its checks of its settings, its smoke run; and the
# baseline controllers' refusal of bad arguments.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	BUILD=${BUILD:-$TOP/build}
	STATS=$TOP/bench/workload-stats.awk
	# Two guests sampled every 60 s: a backed 1 GiB, then 1 GiB, 512 MiB, 0;
	# b 0, 1 GiB, 0, 0, its balloon moving 70 then 95 MiB in a row (one move).
	SAMPLES=$BATS_TEST_TMPDIR/samples
	cat > "$SAMPLES" <<-EOF
	0 a 1073741824 1073741824
	0 b 0 1073741824
	60 a 1073741824 1073741824
	60 b 1073741824 1000000000
	120 a 536870912 1073741824
	120 b 0 900000000
	180 a 0 1073741824
	180 b 0 900000000
	EOF
}

@test "footprint integral, peak, balloon moves and MiB moved" {
	run awk -v mode=summary -f "$STATS" "$SAMPLES"
	assert_success
	# 1 GiB for a minute, 2 GiB for a minute, 0.5 GiB for a minute.
	assert_output "3.50 2048 1 166"
}

@test "a balloon that moves, stops and moves again counts twice" {
	printf '%s\n' "0 a 0 100000000" "1 a 0 50000000" "2 a 0 50000000" "3 a 0 100000000" > "$SAMPLES"
	run awk -v mode=summary -f "$STATS" "$SAMPLES"
	assert_output "0.00 0 2 95"
}

@test "rounds stamped with real epoch times stay apart" {
	# As the sampler writes them: ten digits and microseconds, ~1 s apart.
	printf '%s\n' "1795970423.179351 a 1073741824 0" "1795970424.227321 a 1073741824 0" \
		"1795970425.307226 a 0 0" > "$SAMPLES"
	run awk -v mode=summary -f "$STATS" "$SAMPLES"
	# 1 GiB for 2.128 s = 0.035 GiB·min.
	assert_output "0.04 1024 0 0"
	run awk -v mode=plot -f "$STATS" "$SAMPLES"
	assert_line --index 2 "2.1 0"
}

@test "the plot series: seconds from the first sample and the sum in MiB" {
	run awk -v mode=plot -f "$STATS" "$SAMPLES"
	assert_success
	assert_line --index 0 "0.0 1024"
	assert_line --index 1 "60.0 2048"
	assert_line --index 3 "180.0 0"
}

@test "workload-plot draws a PNG with a line per set-up block" {
	local data=$BATS_TEST_TMPDIR/series.dat
	printf '# none\n0.0 300\n1.0 400\n\n\n# hintd\n0.0 300\n1.0 200\n' > "$data"
	run "$TOP/bench/workload-plot" "$data" "$BATS_TEST_TMPDIR/out.png" "test"
	assert_success
	run head -c 4 "$BATS_TEST_TMPDIR/out.png"
	assert_output --partial "PNG"
}

@test "workload-plot refuses empty data and data without set-up blocks" {
	: > "$BATS_TEST_TMPDIR/empty.dat"
	run "$TOP/bench/workload-plot" "$BATS_TEST_TMPDIR/empty.dat" "$BATS_TEST_TMPDIR/out.png"
	assert_failure
	assert_output --partial "no data in"
	printf '0.0 300\n' > "$BATS_TEST_TMPDIR/bare.dat"
	run "$TOP/bench/workload-plot" "$BATS_TEST_TMPDIR/bare.dat" "$BATS_TEST_TMPDIR/out.png"
	assert_failure
	assert_output --partial "no '# SET-UP' block"
}

@test "workload: a smoke run is skipped and says so" {
	BENCH_SMOKE=1 run "$TOP/bench/workload.sh"
	assert_success
	assert_output "workload: skipped (BENCH_SMOKE: real guests)"
}

@test "workload: bad settings are named" {
	BENCH_SMOKE=1 WL_GUESTS=4 run "$TOP/bench/workload.sh"
	assert_failure
	assert_output --partial "WL_GUESTS must be 1..3"
	BENCH_SMOKE=1 WL_SETUPS="none ovirt" run "$TOP/bench/workload.sh"
	assert_failure
	assert_output --partial "unknown set-up 'ovirt'"
	BENCH_SMOKE=1 WL_ROUNDS=two run "$TOP/bench/workload.sh"
	assert_failure
	assert_output --partial "WL_ROUNDS must be a whole number, not 'two'"
	BENCH_SMOKE=1 WL_WORKLOADS="build tpcc" run "$TOP/bench/workload.sh"
	assert_failure
	assert_output --partial "unknown workload 'tpcc' (build, stagger, pgbench)"
	BENCH_SMOKE=1 WL_PG_CLIENTS=0 run "$TOP/bench/workload.sh"
	assert_failure
	assert_output --partial "WL_PG_CLIENTS 1..64"
	BENCH_SMOKE=1 WL_PG_SCALE=-3 run "$TOP/bench/workload.sh"
	assert_failure
	assert_output --partial "WL_PG_SCALE must be a whole number, not '-3'"
}

@test "mom and pve: bad arguments get a clear error" {
	run "$BUILD/bench/mom"
	assert_failure 2
	assert_output --partial "--budget SIZE is required"
	run "$BUILD/bench/mom" --budget 2X
	assert_failure 2
	assert_output --partial "--budget must be a size of at least 64M: '2X'"
	run "$BUILD/bench/pve" --budget 2G
	assert_failure 2
	assert_output --partial "--min SIZE is required"
	run "$BUILD/bench/pve" --budget 2G --min 256M --interval 0
	assert_failure 2
	assert_output --partial "--interval must be 1..3600 seconds: '0'"
	run "$BUILD/bench/pve" --budget 2G --min 256M extra
	assert_failure 2
	assert_output --partial "unexpected argument: 'extra'"
}

@test "mom and pve: a dry run against libvirt's test driver starts and logs its settings" {
	run timeout 2 "$BUILD/bench/mom" --uri test:///default --budget 2G --interval 1 --dry-run
	assert_output --partial "mom: budget 2048 MiB, policy every 1 s"
	run timeout 2 "$BUILD/bench/pve" --uri test:///default --budget 2G --min 256M --interval 1 --dry-run
	assert_output --partial "pve: budget 2048 MiB, every 1 s, minimum 256 MiB"
}

@test "workload: a figure a guest did not give is shown as a dash, never computed on" {
	source "$TOP/bench/lib.sh"
	run figure_or_dash 12
	assert_output "12"
	run figure_or_dash 6.75
	assert_output "6.75"
	# What lab run prints when the guest cannot answer.
	for junk in "" "error: guest not answering" "-961" "12 13" "1e3"; do
		run figure_or_dash "$junk"
		assert_output "—"
	done
	run used_mib 983860 865888
	assert_output "115"
	run used_mib "" 865888
	assert_output "—"
	run used_mib 983860 "timeout"
	assert_output "—"
	run used_mib 865888 983860
	assert_output "—"
	run sum_figures 131 290 16
	assert_output "437"
	run sum_figures 131 "—" 16
	assert_output "—"
	run sum_figures
	assert_output "0"
}
