#!/usr/bin/env bats
# Data integrity under aggressive reclaim: two real guests churn checksummed
# memory and re-read checksummed files (tests/lab/guest/soak) while hintd,
# under a budget that flips between tight and loose every few seconds,
# discards unused pages, has the guests drop clean cache and moves their
# balloons down and up. Every page written is verified every cycle.
#
# HINTD_SOAK_SECONDS sets the length (default 40; the long form is 120+).
load helpers

SOAK_SECONDS=${HINTD_SOAK_SECONDS:-40}
FILES="/mnt/data/file0 /mnt/data/file1 /mnt/data/file2 /mnt/data/file3"

setup_file() {
	lab down
	lab start a b
}

soak_config() { # BUDGET_MIB
	printf '[Host]\nBudget=%sM\nLowWatermark=48M\nHighWatermark=96M\nTickInterval=500ms\n' "$1"
	printf '[Policy]\nReverseHoldoff=2s\nBalloonStep=64M\n'
	printf '[VM *]\nMinMemory=384M\n'
}

soak_done() { lab run "$1" "grep -q '^soak: ' /tmp/soak.log"; }

@test "two guests churning checksummed memory under aggressive reclaim: no page corrupted, no crash" {
	local g tight loose=4096 conf=$BATS_FILE_TMPDIR/hintd.conf deadline
	local min_a=999999 min_b=999999 max_after_a=0 max_after_b=0 drops=0 last now_backed a b
	start_hintd "$(soak_config $loose)"
	wait_agents a b
	for g in a b; do
		lab run "$g" "soak $SOAK_SECONDS 128 128 $FILES > /tmp/soak.log 2>&1 &"
	done
	# Tight: less than the two guests hold once the soak runs.
	sleep 4
	tight=$(($(total_backed_mib a b) - 150))
	report "soak ${SOAK_SECONDS} s; budget flips between ${tight} MiB and ${loose} MiB every 6 s"
	last=$(total_backed_mib a b)
	deadline=$((SECONDS + SOAK_SECONDS))
	local phase=0 flipped=$SECONDS
	while ((SECONDS < deadline)); do
		if ((SECONDS - flipped >= 6)); then
			phase=$((1 - phase))
			soak_config $((phase ? tight : loose)) > "$conf"
			kill -HUP "$HINTD_PID"
			flipped=$SECONDS
		fi
		# Host-side evidence of reclaim: balloons and discarded backing.
		a=$(balloon_mib a) b=$(balloon_mib b)
		((a < min_a)) && min_a=$a
		((b < min_b)) && min_b=$b
		((min_a < 500 && a > max_after_a)) && max_after_a=$a
		((min_b < 500 && b > max_after_b)) && max_after_b=$b
		now_backed=$(total_backed_mib a b)
		((now_backed <= last - 32)) && drops=$((drops + 1))
		last=$now_backed
		sleep 1
	done
	for g in a b; do
		wait_for 90 soak_done "$g" || fail "soak in $g did not finish: $(lab console "$g" 20)"
		run lab run "$g" "cat /tmp/soak.log; dmesg | grep -ci 'out of memory\|oops\|BUG:' || true"
		report "$g: ${lines[0]}"
		assert_line --index 0 --regexp '^soak: ok [0-9]+ cycles, [0-9]+ pages verified'
		assert_line --index 1 "0"
	done
	report "balloons: a down to ${min_a} MiB then up to ${max_after_a}, b down to ${min_b} then up to ${max_after_b};" \
		"${drops} drops of >= 32 MiB of backing in 1 s"
	# The reclaim the soak had to survive really happened, seen on the host.
	((min_a < 500 || min_b < 500)) || fail "no balloon moved"
	((max_after_a > min_a || max_after_b > min_b)) || fail "no balloon came back up"
	((drops >= 2)) || fail "backing never dropped"
	hintd_logged "guest says it dropped .* MiB of clean cache" || fail "no clean cache was dropped"
	kill -0 "$HINTD_PID"
}
