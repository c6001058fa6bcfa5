#!/usr/bin/env bats
# hintd on a guest whose RAM is 2 MiB hugetlbfs pages (shared), as libvirt's
# <hugepages/> gives. The guest starts hinting at 8 KiB (pagehint's finest)
# and hintd asks it for 2 MiB. Measured on the host: HugePages_Free, the
# huge pages hintd's discards put back in the pool.
load helpers

setup_file() {
	lab down
	# QEMU preallocates a hugetlbfs guest: all of its 512 MiB is backed at start.
	lab start --hugepages --cmdline hintd.order=1 h
}

hugepages_free_mib() {
	awk '$1 == "HugePages_Free:" { n = $2 } $1 == "Hugepagesize:" { kib = $2 }
	     END { print int(n * kib / 1024) }' /proc/meminfo
}
hugepages_free_at_least() { (($(hugepages_free_mib) >= $1)); } # MIB

@test "a hugetlbfs guest: 300 MiB freed come back as free huge pages within 5 s, and reused intact" {
	start_bus
	start_hintd "[Host]"
	wait_agents h
	hintd_logged "hintd-lab-h: RAM (/dev/hugepages/.*) is in 2048 KiB huge pages" ||
		fail "hintd did not see the huge pages: $(hintd_log | grep hintd-lab-h | tail -5)"
	hintd_logged "hintd-lab-h: guest hints at 8 KiB granularity, .* asking for 2048 KiB" ||
		fail "hintd did not ask for 2 MiB hints: $(hintd_log | grep hintd-lab-h | tail -5)"
	# What the idle guest does not use comes back first (unused hints are
	# taken whenever they come).
	wait_for 30 hugepages_free_at_least 300 || fail "only $(hugepages_free_mib) MiB of huge pages free"
	lab run h 'memtouch 300 --hold 3' > "$BATS_TEST_TMPDIR/touch.out" &
	touch=$!
	# The fewest free huge pages while the guest holds the memory...
	low=$(hugepages_free_mib)
	while kill -0 "$touch" 2>/dev/null; do
		f=$(hugepages_free_mib)
		((f < low)) && low=$f
		sleep 0.2
	done
	wait "$touch" || fail "memtouch failed: $(cat "$BATS_TEST_TMPDIR/touch.out")"
	# ...and how many are free again within 5 s of the guest freeing it.
	t0=$(date +%s%N) rise=0
	while (($(date +%s%N) - t0 < 5000000000)); do
		rise=$(($(hugepages_free_mib) - low))
		((rise >= 270)) && break
		sleep 0.1
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	report "HugePages_Free: low ${low} MiB while held, +${rise} MiB within ${ms} ms of the free"
	((rise >= 270)) || fail "HugePages_Free rose by ${rise} MiB from ${low} MiB within 5 s"
	# The guest takes the memory again: every page reads zero, then holds
	# its pattern (memtouch verifies both).
	run lab run h 'memtouch 300 --hold 2'
	assert_success
	assert_output --partial "memtouch: ok 300 MiB"
	run lab run h 'dmesg | grep -ciE "bad page|corrupt|BUG:" || true'
	assert_output "0"
}
