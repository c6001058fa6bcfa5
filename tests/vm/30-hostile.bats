#!/usr/bin/env bats
# A compromised guest on its agent channel. "evil" runs tests/lab/guest/hostile
# instead of hint-agent: it names its own locked, patterned pages in every
# kind of bad message and checks that none of them was discarded, and that a
# properly reported page still is (so the channel keeps working). "good" is
# a normal guest whose reclaim latency is measured on the host while evil
# floods.
load helpers

setup_file() {
	lab down
	lab start --no-agent --no-module --mem 384 evil
	lab start good
	start_bus
}

# A fresh hintd per test: each starts with a full log allowance.
setup() {
	start_hintd "[Host]"
}

rejections() { hintd_log | grep -c "hintd-lab-evil: message from the guest rejected" || true; }

hostile() { # CASE [SECONDS]...
	run lab run evil "hostile $*"
	echo "$output"
	assert_success
}

@test "ranges outside RAM, unaligned or of another granularity are refused and not discarded" {
	hostile outside unaligned
	assert_output --partial "outside: ok, bait intact"
	assert_output --partial "unaligned: ok, bait intact"
	hintd_logged "rejected: batch .*is not guest RAM"
	hintd_logged "rejected: field \"ranges\[0\]\": not aligned to granularity 4096"
	hintd_logged "rejected: batch .*granularity 8192 differs from 4096"
	hintd_logged "rejected: field \"ranges\[0\]\": length 0"
	kill -0 "$HINTD_PID"
}

@test "overlapping, duplicated, twice-claimed and never-reported batches are refused and not discarded" {
	hostile overlap duplicate claimed-twice never-reported
	for c in overlap duplicate claimed-twice never-reported; do
		assert_output --partial "$c: ok, bait intact, channel still works"
	done
	# Pages of a batch being claimed, reported again: declined, not called hostile.
	hintd_logged "hints declined: batch .*being claimed"
	hintd_logged "rejected: field \"ranges\[1\]\": overlaps ranges\[0\]"
	hintd_logged "rejected: batch .*is already in flight"
	hintd_logged "rejected: \"claimed\" for batch .* that was not claimed"
}

@test "huge batches and invalid JSON: one log line each, at most 10 a minute per guest" {
	hostile huge bad-json
	assert_output --partial "huge: ok, bait intact"
	assert_output --partial "bad-json: ok, bait intact"
	hintd_logged "rejected: field \"ranges\": 33 ranges, expected 1..32"
	# 24 bad messages were sent; the guest's allowance is 10 lines a minute.
	(($(rejections) == 10)) || fail "$(rejections) rejection lines logged, expected 10"
	# All of them are counted where a sysadmin looks.
	local counted
	counted=$(hintctl show hintd-lab-evil | awk '$1 == "AgentRejected:" { print $2 }')
	((counted >= 24)) || fail "AgentRejected is ${counted:-missing}, 24 bad messages were sent"
	nothing_rejected good
	hintd_logged "hints declined: more than 16 batches in flight"
}

@test "a 100 MB line and invalid UTF-8 are dropped without hintd growing" {
	local before after
	before=$(awk '/^VmRSS/ { print $2 }' "/proc/$HINTD_PID/status")
	hostile long-line bad-utf8
	assert_output --partial "long-line: ok, bait intact, channel still works"
	assert_output --partial "bad-utf8: ok, bait intact, channel still works"
	hintd_logged "rejected: line longer than the protocol allows"
	hintd_logged "rejected: invalid JSON at byte 44: unable to decode byte 0xff"
	hintd_logged "rejected: invalid JSON at byte 44: unable to decode byte 0xed"
	hintd_logged "rejected: invalid JSON .*invalid Unicode"
	after=$(awk '/^VmHWM/ { print $2 }' "/proc/$HINTD_PID/status")
	report "hintd RSS before ${before} KiB, peak after ${after} KiB"
	((after - before < 8192)) || fail "hintd grew by $(((after - before) >> 10)) MiB"
}

hintd_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$HINTD_PID/stat"; }

@test "a flood, a garbage flood and a slow-loris neither slow another guest nor grow hintd" {
	local baseline attack c cpu0 cpu1 hz
	hz=$(getconf CLK_TCK)
	wait_agents good
	baseline=$(reclaim_seconds good) || fail "good's freed memory did not come back"
	report "good: 200 MiB back in ${baseline} s with evil quiet"
	for c in flood-stats flood-garbage slowloris; do
		lab run evil "hostile $c 12 > /tmp/hostile.log 2>&1 &"
		sleep 3
		cpu0=$(hintd_cpu_ticks)
		attack=$(reclaim_seconds good) || fail "during $c: good's freed memory did not come back"
		cpu1=$(hintd_cpu_ticks)
		report "$c: good's 200 MiB back in ${attack} s; hintd CPU $(((cpu1 - cpu0) * 1000 / hz)) ms meanwhile"
		# Within its normal latency: twice the quiet figure, plus a
		# second for the CPU the flooding guest itself takes from TCG.
		awk -v a="$attack" -v b="$baseline" 'BEGIN { exit !(a <= 2 * b + 1) }' ||
			fail "during $c good took ${attack} s (quiet: ${baseline} s)"
		wait_for 60 lab run evil "grep -q 'hostile: $c: ok' /tmp/hostile.log" ||
			fail "$c: $(lab run evil 'cat /tmp/hostile.log')"
		lab run evil "cat /tmp/hostile.log"
	done
	hintd_logged "guest sends more than 200 messages a second, reading paused"
	hintd_logged "guest sent more than 64 bad messages in 10 s, closing its channel for 10 s"
	local peak
	peak=$(awk '/^VmHWM/ { print $2 }' "/proc/$HINTD_PID/status")
	report "hintd peak RSS $((peak >> 10)) MiB"
	((peak < 40 * 1024)) || fail "hintd peak RSS $((peak >> 10)) MiB"
	# Log lines evil could cause: 10 a minute, plus the cut-off notices.
	local lines
	lines=$(hintd_log | grep "hintd-lab-evil" | grep -vc "agent hostile 1 connected\|batch [0-9]*: 4 KiB returned\|hints declined" || true)
	report "$lines log lines about evil"
	((lines <= 30)) || fail "$lines log lines about evil in about a minute"
}

@test "a guest lying about its cache and its memory cannot hold off another VM's balloon" {
	local budget t0 secs counted
	stop_hintd
	# Pressure: the budget is below what the two guests hold, and evil's
	# balloon is not to be used, so good's is the only one left once the
	# cheap rungs give nothing measurable.
	budget=$(($(total_backed_mib evil good) - 160))
	start_hintd "$(printf '[Host]\nBudget=%sM\nLowWatermark=64M\nHighWatermark=128M\n[VM hintd-lab-evil]\nReclaim=unused,volatile\n' "$budget")"
	wait_agents good
	# It lies for 25 s; the balloon must move while it does.
	lab run evil "hostile liar 25 > /tmp/liar.log 2>&1 &"
	t0=$SECONDS
	wait_for 20 balloon_at_most good $((500 * 1024)) ||
		fail "good's balloon did not move in 20 s: $(hintctl status | grep -i plan)"
	secs=$((SECONDS - t0))
	report "evil lying: good's balloon down to $(balloon_mib good) MiB after ${secs} s"
	wait_for 20 hintd_logged "hintd-lab-evil: message from the guest rejected: stats: total 1099511627776" ||
		fail "impossible stats were not refused"
	wait_for 20 hintd_logged "hintd-lab-evil: message from the guest rejected: drop_cache: freed 9223372036854775807" ||
		fail "the lie about a cache drop was not refused"
	counted=$(hintctl show hintd-lab-evil | awk '$1 == "AgentRejected:" { print $2 }')
	((counted >= 2)) || fail "AgentRejected is ${counted:-missing}"
	# The lies credited nothing: evil's rungs count only what the host measured.
	run hintctl show hintd-lab-evil
	assert_line --regexp '^ *ReclaimedVolatile: 0$'
	wait_for 45 lab run evil "grep -q 'hostile: liar: ok' /tmp/liar.log" ||
		fail "liar: $(lab run evil 'cat /tmp/liar.log')"
}
