#!/usr/bin/env bats
# Faults around hintd on real guests: hintd killed mid-batch, libvirtd
# restarted, a VM destroyed mid-batch, the agent killed and the module
# removed mid-batch. After each, the guests' memory is verified by the
# guests themselves and hintd's work is measured on the host. (The budget
# cgroup removed and a broken config reloaded are in tests/bats/.)
load helpers

setup_file() {
	lab down
	lab start a b
}

held_bytes() { lab run "$1" 'cat /sys/kernel/pagehint/held_bytes'; }
nothing_held() { [[ $(held_bytes "$1") == 0 ]]; }

# Guest NAME frees MIB of memory it touched; the host must get most of it
# back within SECONDS.
reclaim_works() { # NAME MIB SECONDS
	local base
	base=$(backed_mib "$1")
	lab run "$1" "memtouch $2" > /dev/null || fail "memtouch $2 in $1 failed"
	wait_for "$3" backed_at_most "$1" $((base + $2 / 5)) ||
		fail "$1: backing $(backed_mib "$1") MiB, was $base before touching $2 MiB"
}

# Starts freeing MIB in guest NAME and returns once hintd discarded a batch
# of it, i.e. with batches in flight.
free_and_catch_a_batch() { # NAME MIB
	local from guest=$1
	from=$(hintd_log_mark)
	lab run "$guest" "memtouch $2 > /tmp/memtouch.log 2>&1 &"
	wait_for 20 hintd_logged_since "$from" "hintd-lab-$guest: batch [0-9]*: [0-9]* KiB returned" ||
		fail "no batch of $guest was discarded"
}

# The memtouch free_and_catch_a_batch left running in guest NAME has
# verified and freed its memory: a second one must not compete with it.
memtouch_done() { # NAME
	lab run "$1" 'i=0; while pidof memtouch > /dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
		! pidof memtouch > /dev/null' || fail "$1: memtouch still running after 30 s"
	run lab run "$1" 'cat /tmp/memtouch.log'
	assert_output --partial "memtouch: ok"
}

@test "kill -9 of hintd mid-batch: the guest gets its pages back, a restarted hintd picks everything up" {
	local released
	start_hintd "[Host]"
	wait_agents a b
	released=$(lab run a 'echo $(($(cat /sys/kernel/pagehint/released_bytes) + $(cat /sys/kernel/pagehint/dropped_bytes)))')
	free_and_catch_a_batch a 300
	kill -KILL "$HINTD_PID"
	wait "$HINTD_PID" 2>/dev/null || true
	sleep 1
	released=$(($(lab run a 'echo $(($(cat /sys/kernel/pagehint/released_bytes) + $(cat /sys/kernel/pagehint/dropped_bytes)))') - released))
	report "given back to the guest when hintd died: $((released >> 20)) MiB"
	# The agent gives every batch back, claimed ones too, once the host's end
	# of the channel is gone: no waiting for the module's 30 s claim timeout.
	wait_for 5 nothing_held a || fail "a still holds $(held_bytes a) bytes"
	memtouch_done a
	run lab run a 'memtouch 400'
	assert_success
	no_oops a
	start_hintd "[Host]"
	wait_agents a b
	hintd_logged "hintd-lab-a: managing"
	hintd_logged "hintd-lab-b: managing"
	reclaim_works a 200 15
	run lab run a 'memtouch 400'
	assert_success
}

@test "kill -9 of hintd with balloons inflated: the restarted hintd raises them to MinMemory" {
	local budget
	start_hintd "[Host]"
	wait_agents a b
	# What earlier tests left free in the guests is discarded first.
	sleep 5
	budget=$(($(total_backed_mib a b) + 40))
	printf '[Host]\nBudget=%sM\nLowWatermark=100M\nHighWatermark=150M\n[VM *]\nMinMemory=300M\n' "$budget" \
		> "$BATS_FILE_TMPDIR/hintd.conf"
	kill -HUP "$HINTD_PID"
	# Nothing unused or volatile is left to take once the guests hold it.
	lab run a 'memtouch 150 --hold 30 > /dev/null 2>&1 &'
	wait_for 40 eval 'balloon_at_most a $((480 * 1024)) || balloon_at_most b $((480 * 1024))' ||
		fail "no balloon moved: a $(balloon_mib a), b $(balloon_mib b) MiB"
	kill -KILL "$HINTD_PID"
	wait "$HINTD_PID" 2>/dev/null || true
	report "balloons when hintd died: a $(balloon_mib a) MiB, b $(balloon_mib b) MiB"
	start_hintd "$(printf '[Host]\n[VM *]\nMinMemory=500M\n')"
	for g in a b; do
		wait_for 20 balloon_at_least $g $((500 * 1024)) ||
			fail "$g stays at $(balloon_mib $g) MiB, below its MinMemory of 500 MiB"
	done
	lab run a 'while pidof memtouch > /dev/null; do sleep 1; done'
}

@test "libvirtd restarted: hintd reconnects and goes on managing" {
	local from
	start_hintd "[Host]"
	wait_agents a b
	from=$(hintd_log_mark)
	lab restart-libvirtd
	wait_for 30 hintd_logged_since "$from" "Connected to" ||
		fail "hintd did not reconnect: $(hintd_log | tail -5)"
	hintd_logged_since "$from" "libvirt connection lost"
	kill -0 "$HINTD_PID"
	# The VMs, their agents and their RAM files were kept through it: the
	# discard path needs no libvirt.
	! hintd_logged_since "$from" "forgetting it" || fail "a VM was forgotten: $(hintd_log | tail -n +"$from")"
	reclaim_works a 200 15
	# And the balloon, which goes through libvirt.
	printf '[Host]\nBudget=%sM\n[VM *]\nMinMemory=300M\n' $(($(total_backed_mib a b) - 100)) \
		> "$BATS_FILE_TMPDIR/hintd.conf"
	kill -HUP "$HINTD_PID"
	wait_for 30 eval 'balloon_at_most a $((500 * 1024)) || balloon_at_most b $((500 * 1024))' ||
		fail "no balloon moved after the reconnect"
}

@test "a VM destroyed mid-batch is forgotten; the other goes on; started again, it is managed" {
	local from
	start_hintd "[Host]"
	wait_agents a b
	free_and_catch_a_batch b 300
	lab_virsh destroy hintd-lab-b > /dev/null
	wait_for 10 hintd_logged "hintd-lab-b: stopped, forgetting it" || fail "b was not forgotten"
	kill -0 "$HINTD_PID"
	reclaim_works a 200 15
	from=$(hintd_log_mark)
	lab start b
	wait_for 20 hintd_logged_since "$from" "hintd-lab-b: agent .* connected (module: active)" ||
		fail "b not picked up"
	reclaim_works b 200 15
}

@test "the agent killed and the module removed mid-batch, then both back: no page lost, hints resume" {
	local from
	start_hintd "[Host]"
	wait_agents a b
	free_and_catch_a_batch a 300
	run lab run a 'kill -9 $(pidof hint-agent); sleep 0.5; rmmod pagehint && echo removed'
	assert_success
	assert_output --partial "removed"
	kill -0 "$HINTD_PID"
	memtouch_done a
	no_oops a
	run lab run a 'memtouch 400'
	assert_success
	from=$(hintd_log_mark)
	lab run a 'insmod /lib/modules/pagehint.ko && (hint-agent > /tmp/hint-agent.log 2>&1 &)'
	wait_for 20 hintd_logged_since "$from" "hintd-lab-a: agent .* connected (module: active)" ||
		fail "the new agent was not heard"
	reclaim_works a 200 15
	run lab run a 'memtouch 400'
	assert_success
}
