#!/usr/bin/env bats
# hintd under valgrind memcheck against real guests, through every path it
# has: agent hello and stats, hint batches claimed and discarded, clean cache
# dropped, a balloon inflated and deflated, a reload, a guest that goes away
# and comes back, and a clean stop. No invalid access, no use of
# uninitialised memory, no definite leak.
load helpers

setup_file() {
	lab down
	lab start a
	lab start --no-agent c
}

@test "hintd is clean under valgrind memcheck with real guests" {
	local vlog=$BATS_FILE_TMPDIR/valgrind.log budget rc=0
	HINTD_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
		--errors-for-leak-kinds=definite --track-origins=yes --log-file=$vlog"
	HINTD_START_TIMEOUT=60
	start_hintd "$(printf '[Host]\nTickInterval=500ms\n[VM *]\nMinMemory=300M\n')"
	wait_agents a
	# Page cache in a, then memory freed: the unused and volatile rungs.
	lab run a 'cat /mnt/data/file0 /mnt/data/file1 > /dev/null; memtouch 200'
	wait_for 30 hintd_logged "hintd-lab-a: batch .* KiB returned" || fail "no batch discarded"
	# A budget below what the guests hold: cache drops, then c's balloon.
	sleep 2
	budget=$(($(total_backed_mib a c) - 150))
	printf '[Host]\nTickInterval=500ms\nBudget=%sM\n[VM *]\nMinMemory=300M\n' "$budget" > "$BATS_FILE_TMPDIR/hintd.conf"
	kill -HUP "$HINTD_PID"
	wait_for 60 balloon_at_most c $((480 * 1024)) || fail "c was not ballooned: $(balloon_mib c) MiB"
	# Slack again: deflation.
	printf '[Host]\nTickInterval=500ms\n[VM *]\nMinMemory=300M\n' > "$BATS_FILE_TMPDIR/hintd.conf"
	kill -HUP "$HINTD_PID"
	# The agent goes away and comes back; c is destroyed.
	lab run a 'kill $(pidof hint-agent); sleep 1; (hint-agent > /tmp/hint-agent.log 2>&1 &)'
	lab_virsh destroy hintd-lab-c > /dev/null
	wait_for 30 hintd_logged "hintd-lab-c: stopped, forgetting it" || fail "c not forgotten"
	sleep 3
	kill -TERM "$HINTD_PID"
	wait "$HINTD_PID" || rc=$?
	report "valgrind: $(grep -c . "$vlog" || true) lines of report, hintd exit status $rc"
	[[ ! -s $vlog ]] || { cp "$vlog" /tmp/hintd-valgrind-failed.log; cat "$vlog"; fail "valgrind reported errors (kept in /tmp/hintd-valgrind-failed.log)"; }
	((rc == 0)) || fail "hintd under valgrind exited $rc"
	hintd_logged "guest says it dropped .* MiB of clean cache" || fail "the volatile rung did not run"
}
