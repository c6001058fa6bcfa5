#!/usr/bin/env bats
# A Debian 12 guest with a virtio-mem device, set up as a user's is: no
# kernel parameter for hot-plugged memory, hint-agent and pagehint-dkms
# installed by apt. Debian's kernel leaves what the device plugs offline;
# hint-agent's udev rule onlines it movable. Measured on the host: the
# device's memfd, which QEMU empties as blocks are unplugged and hintd
# punches where the guest hints free memory.
load helpers

BOOT=384 VMEM=512

setup_file() {
	lab down
	lab start --distro debian --mem "$BOOT" --virtio-mem "$VMEM" dv
	start_bus
}

offline_blocks() { lab run dv 'grep -l offline /sys/devices/system/memory/memory*/state | wc -l'; }
plugged_is() { (($(virtio_mem_mib dv current) == $1)); }
# MiB of host memory behind the device's memfd.
device_mib() { echo $(($(stat -L -c %b "$(lab memfd dv | tail -1)") * 512 >> 20)); }

@test "a Debian guest onlines what its virtio-mem device plugs (hint-agent's udev rule) and uses it" {
	run lab run dv 'cat /proc/cmdline'
	refute_output --partial memhp_default_state
	wait_for 60 plugged_is "$VMEM" || fail "plugged: $(virtio_mem_mib dv current) MiB of $VMEM"
	wait_for 30 eval '(($(offline_blocks) == 0))' || fail "$(offline_blocks) memory blocks offline"
	total=$(($(guest_meminfo dv MemTotal) >> 10))
	report "MemTotal ${total} MiB with ${VMEM} MiB plugged over ${BOOT} MiB of boot RAM"
	((total >= BOOT + VMEM - 128)) || fail "MemTotal ${total} MiB"
	# More than the boot RAM holds: most of it must come from the device.
	run lab run dv "memtouch $((BOOT + VMEM - 200))"
	assert_output --partial "memtouch: ok $((BOOT + VMEM - 200)) MiB"
	run lab run dv 'dmesg | grep -ciE "out of memory|oom-kill" || true'
	assert_output "0"
}

@test "it unplugs what was onlined, and hintd discards the free memory it hints in the rest" {
	# Movable, so the device can take half back; QEMU empties what is
	# unplugged, so its file holds no more than what stays plugged.
	before=$(device_mib)
	((before > VMEM / 2)) || fail "the device's file holds ${before} MiB: the guest hardly used it"
	lab_virsh update-memory-device hintd-lab-dv --alias virtiomem0 --requested-size "$((VMEM / 2))MiB" --live
	wait_for 30 plugged_is $((VMEM / 2)) || fail "plugged: $(virtio_mem_mib dv current) MiB after asking for $((VMEM / 2))"
	unplugged=$(device_mib)
	((unplugged <= VMEM / 2)) || fail "the device's file holds ${unplugged} MiB after the unplug"
	# What is still plugged is mostly free now: hintd takes it from the
	# guest's hints (no host pressure needed).
	start_hintd "[Host]"
	wait_agents dv
	wait_for 20 eval '(($(device_mib) <= VMEM / 16))' || true
	left=$(device_mib)
	report "the device's file: ${before} MiB, ${unplugged} MiB once 256 MiB were unplugged, ${left} MiB with hintd taking hints"
	((left <= VMEM / 16)) || fail "the device's file still holds ${left} MiB"
	run hintctl show hintd-lab-dv
	assert_line --regexp '^ *Discard: +yes'
	nothing_rejected dv
	# Nothing more was unplugged: the discards were hints. The memory is
	# the guest's again at once.
	assert_equal "$(virtio_mem_mib dv current)" $((VMEM / 2))
	run lab run dv "memtouch $((BOOT + VMEM / 2 - 200))"
	assert_output --partial "memtouch: ok $((BOOT + VMEM / 2 - 200)) MiB"
	no_oops dv
}
