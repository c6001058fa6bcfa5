#!/usr/bin/env bats
# Free-page hints from a virtio-mem device's memory: a guest with 256 MiB of
# boot RAM and a 512 MiB device, all of it plugged, with the guest module.
# What the guest frees there is discarded from the device's own memfd, like
# boot memory from its own; measured on the host by each file's blocks.
load helpers

setup_file() {
	lab down
	lab start --mem 256 --virtio-mem 512 h
}

# MiB of host memory behind the guest's boot RAM file and the device's.
boot_mib() { echo $(($(stat -L -c %b "$(lab memfd h | head -1)") * 512 >> 20)); }
device_mib() { echo $(($(stat -L -c %b "$(lab memfd h | tail -1)") * 512 >> 20)); }

@test "hints from the virtio-mem region are discarded from the device's file, and the memory is reusable" {
	start_bus
	start_hintd "[Host]"
	wait_agents h
	run hintctl show hintd-lab-h
	assert_line --regexp '^ *Discard: +yes'
	assert_line --regexp '^ *VirtioMemPlugged: 512M$'
	# More than the boot RAM: the rest lands in what the device plugged.
	lab run h 'memtouch 600 --hold 3' > "$BATS_TEST_TMPDIR/touch.out" &
	touch=$!
	peak=0
	while kill -0 "$touch" 2>/dev/null; do
		d=$(device_mib)
		((d > peak)) && peak=$d
		sleep 0.2
	done
	wait "$touch" || fail "memtouch failed: $(cat "$BATS_TEST_TMPDIR/touch.out")"
	((peak >= 300)) || fail "the device's file held at most ${peak} MiB: the guest did not use it"
	t0=$(date +%s%N)
	wait_for 10 eval '(($(device_mib) <= peak / 10))' || true
	ms=$((($(date +%s%N) - t0) / 1000000))
	left=$(device_mib)
	report "device file: peak ${peak} MiB, ${left} MiB left ${ms} ms after the guest's program exited; boot RAM file $(boot_mib) MiB"
	((left <= peak / 10)) || fail "the device's file still holds ${left} of ${peak} MiB"
	# hintd credited what the files lost, and the guest was not cut off.
	run hintctl show --bytes hintd-lab-h
	assert_line --regexp '^ *AgentRejected: 0$'
	unused=$(awk '$1 == "ReclaimedUnused:" { print int($2 / 1048576) }' <<< "$output")
	((unused >= peak - left)) || fail "unused rung credited ${unused} MiB, the device's file lost $((peak - left)) MiB"
	# Nothing unplugged meanwhile: the discards were hints, not the device.
	run hintctl show hintd-lab-h
	assert_line --regexp '^ *VirtioMemPlugged: 512M$'
	run lab run h 'memtouch 600'
	assert_output --partial "memtouch: ok 600 MiB"
	run lab run h 'dmesg | grep -E "Oops|BUG:|WARNING:|general protection|Out of memory" || echo clean'
	assert_output "clean"
}
