#!/usr/bin/env bats
# The guest side on real guests: pagehint.ko hands freed memory to the host
# through hint-agent, a host peer punches it out of the guest's memfd, and the
# host's backing shrinks; the guest then uses fresh memory without error. The
# module refuses page poisoning and survives rmmod with batches in flight.
load helpers

PEER=$BUILD/lab/host/hint-peer

setup_file() {
	lab down
	lab start h
	lab start --cmdline "page_poison=1" poisoned
}

# A peer left by a failed test would keep the guest's channel to itself.
teardown() {
	[[ -n ${peer:-} ]] && kill "$peer" 2>/dev/null && wait "$peer" 2>/dev/null
	peer=
	return 0
}


@test "pagehint.ko is active and the agent says so in its hello" {
	run lab run h 'cat /sys/kernel/pagehint/status'
	assert_output "active"
	run timeout 10 "$PEER" --socket "$(lab agent-socket h)" --cmd hello --quiet-stats
	assert_success
	assert_output --partial "module=1"
	assert_output --partial "granularity=2097152"
}

@test "256 MiB freed in the guest comes back to the host and is reusable" {
	out=$BATS_TEST_TMPDIR/peer.out
	"$PEER" --socket "$(lab agent-socket h)" --memfd "$(lab memfd h)" --punch \
		--quiet-stats --duration 40 > "$out" 2>&1 &
	peer=$!
	sleep 2
	# The highest backing while the guest holds the memory...
	lab run h 'memtouch 256 --hold 2' > "$BATS_TEST_TMPDIR/touch.out" &
	touch=$!
	peak=0
	while kill -0 "$touch" 2>/dev/null; do
		b=$(backed_mib h)
		((b > peak)) && peak=$b
		sleep 0.2
	done
	wait "$touch" || fail "memtouch failed: $(cat "$BATS_TEST_TMPDIR/touch.out")"
	# ...drops by at least 200 MiB within 10 s of the free.
	dropped=0
	for _ in $(seq 20); do
		dropped=$((peak - $(backed_mib h)))
		((dropped >= 200)) && break
		sleep 0.5
	done
	echo "backing: peak ${peak} MiB, dropped ${dropped} MiB" >&3
	((dropped >= 200)) || fail "backing dropped only ${dropped} MiB from ${peak} MiB"
	# The guest uses fresh memory, including the punched pages, without error.
	run lab run h 'memtouch 256'
	assert_success
	kill -INT "$peer"
	wait "$peer" || true
	peer=
	total=$(grep '^total ' "$out")
	echo "$total" >&3
	hinted=$(sed -n 's/.*bytes_hinted=\([0-9]*\).*/\1/p' <<< "$total")
	((hinted >= 256 * 1024 * 1024 * 9 / 10)) || fail "hinted only $hinted bytes"
	# Every range was 2 MiB aligned and inside RAM: the peer refused none.
	[[ $total == *" refused=0 "* ]] || fail "$total"
}

@test "with page poisoning on, the module refuses and says why" {
	run lab run poisoned 'cat /sys/kernel/pagehint/status; dmesg | grep pagehint'
	assert_output --partial "inactive"
	assert_output --partial "poison"
	run timeout 10 "$PEER" --socket "$(lab agent-socket poisoned)" --cmd hello --quiet-stats
	assert_output --partial "module=0"
}

@test "rmmod with batches in flight returns every page, without an oops" {
	before=$(guest_meminfo h MemFree)
	# A host that claims batches and never answers keeps them in flight.
	"$PEER" --socket "$(lab agent-socket h)" --claim-only --quiet-stats --duration 60 \
		> "$BATS_TEST_TMPDIR/peer.out" 2>&1 &
	peer=$!
	run lab run h 'memtouch 200 > /dev/null; sleep 4; cat /sys/kernel/pagehint/held_bytes'
	assert_success
	held=$output
	echo "held by claimed batches: $held bytes" >&3
	# One batch is in flight at a time; it is claimed and never answered.
	((held >= 2 << 20)) || fail "only $held bytes in flight"
	# The agent goes away (closing the device) and the module is removed
	# while those batches are still claimed.
	run lab run h 'kill $(pidof hint-agent); sleep 0.5; rmmod pagehint && echo removed'
	assert_success
	assert_output --partial "removed"
	run lab run h 'dmesg | grep -E "Oops|BUG:|WARNING:|general protection" || echo clean'
	assert_output "clean"
	after=$(guest_meminfo h MemFree)
	# Free memory is back to its level (within 16 MiB).
	((after + 16 * 1024 >= before)) || fail "MemFree $before -> $after KiB"
	run lab run h 'memtouch 300'
	assert_success
}
