#!/usr/bin/env bats
# Command-line behaviour of the lab tools the tests and the demo rely on:
# bad arguments get a clear error and a non-zero status.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	BUILD=${BUILD:-$TOP/build}
	export LAB_DIR=$BATS_TEST_TMPDIR/lab
	LAB=$TOP/tests/lab/lab
}

@test "lab without a verb prints its usage and exits 2" {
	run "$LAB"
	assert_equal "$status" 2
	assert_output --partial "lab start NAME"
}

@test "lab start refuses a bad guest name" {
	run "$LAB" start 'Bad_Name'
	assert_failure
	assert_output --partial "bad guest name 'Bad_Name'"
}

@test "lab start refuses a memory size out of range" {
	run "$LAB" start --mem 99999 g
	assert_failure
	assert_output --partial "--mem must be 128..4096 MiB"
	run "$LAB" start --mem lots g
	assert_failure
}

@test "lab start refuses an unknown option" {
	run "$LAB" start --frobnicate g
	assert_failure
	assert_output --partial "unknown option --frobnicate"
}

@test "lab run names a guest that is not running" {
	run "$LAB" run ghost true
	assert_failure
	assert_output --partial "guest ghost is not running"
}

@test "lab down with nothing running succeeds" {
	run "$LAB" down
	assert_success
}

@test "memtouch verifies the memory it touches" {
	run "$BUILD/lab/memtouch" 8
	assert_success
	assert_output --partial "memtouch: ok 8 MiB verified"
}

@test "memtouch rejects bad arguments with status 2" {
	run "$BUILD/lab/memtouch" -5
	assert_equal "$status" 2
	run "$BUILD/lab/memtouch" 12abc
	assert_equal "$status" 2
	assert_output --partial "bad size in MiB '12abc'"
	run "$BUILD/lab/memtouch"
	assert_equal "$status" 2
}

@test "lab start and lab image refuse an unknown distro" {
	run "$LAB" start --distro arch g
	assert_failure
	assert_output --partial "unknown distro 'arch' (busybox, debian, debian-pgsql)"
	run "$LAB" image --distro arch
	assert_failure
	assert_output --partial "unknown distro 'arch'"
}
