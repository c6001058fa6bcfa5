#!/usr/bin/env bats
# hintd on one guest with 256 MiB of boot RAM and a virtio-mem device of
# 512 MiB (768 MiB in all), on a private bus, without the guest module (no
# free-page hints: 71-debian-virtio-mem has them). virtio-mem moves before the
# balloon: measured on the host by the guest's RAM backings (the lab's
# `backed`: both memfds) and by what libvirt reports plugged, never by
# hintd's counters.
load helpers

BOOT=256 VMEM=512 MIN=400

setup_file() {
	lab down
	lab start --mem "$BOOT" --virtio-mem "$VMEM" --no-module v
	start_bus
	# Every page of the device plugged and backed on the host.
	lab run v "memtouch $((VMEM + 128))" > /dev/null || fail "the guest could not use its virtio-mem memory"
}

# libvirt's view of the device, in MiB: requested or current (plugged).
vmem_mib() { virtio_mem_mib v "$1"; }
plugged_at_least() { (($(vmem_mib current) >= $1)); }
# The memory the guest has: what the balloon leaves of its boot RAM and
# what it plugged.
guest_mib() { echo $(($(balloon_mib v) + $(vmem_mib current))); }
# The time of day in ms.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A budget well below what QEMU holds now (its RSS moves by tens of MiB)
# and a high watermark of 320 MiB: more to reclaim than one step of 256 MiB.
pressure_config() {
	printf '[Host]\nBudget=%sM\nLowWatermark=260M\nHighWatermark=320M\n' "$(($(memstat v rss) / 1024 - 128))"
	# A guest that allocates is seen short 128 MiB before it runs out.
	printf '[Policy]\nBalloonStep=256M\nGuestHeadroom=128M\n[VM hintd-lab-v]\nMinMemory=%sM\n' "$MIN"
}

@test "under pressure virtio-mem gives 256 MiB before the balloon, back on the host within 2 s" {
	assert_equal "$(vmem_mib current)" "$VMEM"
	before=$(backed_mib v)
	start_hintd "$(pressure_config)"
	# The request, as hintd logs it when it sends it, and the guest's
	# backing on the host from then on (both watched every ~0.1 s).
	t0=0 fell=0 start=$(now_ms)
	while (($(now_ms) - start < 20000)); do
		((t0)) || ! hintd_logged "hintd-lab-v: .*shrink virtio-mem by 256 MiB to 256 MiB" || t0=$(now_ms)
		fell=$((before - $(backed_mib v)))
		((t0 && (fell >= 240 || $(now_ms) - t0 > 5000))) && break
		sleep 0.05
	done
	((t0)) || fail "no virtio-mem request: $(hintd_log | grep hintd-lab-v | tail -5)"
	ms=$(($(now_ms) - t0))
	report "virtio-mem 512 -> 256 MiB: backing ${before} MiB, fell ${fell} MiB within ${ms} ms of the request"
	((fell >= 240)) || fail "the backing fell by ${fell} MiB within 5 s"
	((ms <= 2000)) || fail "the backing took ${ms} ms to fall by 240 MiB"
	# (Reclaim goes on down to MinMemory: the budget stays short.)
	wait_for 5 eval '(($(vmem_mib current) <= 256))' || fail "plugged: $(vmem_mib current) MiB"
	plugged=$(vmem_mib current)
	((plugged >= MIN - BOOT)) || fail "plugged: ${plugged} MiB, below MinMemory"
	assert_equal "$(balloon_mib v)" "$BOOT"
	run hintd_logged "hintd-lab-v: .*inflate by"
	assert_failure
	# What hintctl shows is libvirt's, and the rung is credited with the
	# fall in what the guest plugged.
	wait_for 5 eval '[[ $(hintctl show --bytes hintd-lab-v) == *"VirtioMemPlugged: $(($(vmem_mib current) << 20))"* ]]' ||
		fail "hintctl shows $(hintctl show hintd-lab-v | grep VirtioMem), libvirt $(vmem_mib current) MiB plugged"
	run hintctl show --bytes hintd-lab-v
	assert_line --regexp '^ +VirtioMemBlockSize: 2097152$'
	assert_line --regexp '^ +VirtioMemSize: 536870912$'
	assert_line --regexp '^ +LastInstrument: virtio-mem$'
	credited=$(awk '$1 == "ReclaimedBalloon:" { print int($2 / 1048576) }' <<< "$output")
	report "shrink rung credited with ${credited} MiB (libvirt: $((VMEM - $(vmem_mib current))) MiB unplugged)"
	((credited >= 256 && credited <= VMEM - $(vmem_mib current))) || fail "credited ${credited} MiB"
}

@test "the guest allocates: deflate-first plugs memory back, never below MinMemory" {
	start_hintd "$(pressure_config)"
	wait_agents v
	# Down to MinMemory: 144 MiB plugged (whole blocks) over the boot RAM.
	wait_for 15 eval '(($(vmem_mib requested) == MIN - BOOT))' ||
		fail "hintd did not shrink the device to MinMemory: $(vmem_mib requested) MiB requested"
	wait_for 10 eval '(($(vmem_mib current) == $(vmem_mib requested)))' ||
		fail "the guest did not unplug: $(vmem_mib current) of $(vmem_mib requested) MiB"
	low=$(guest_mib)
	report "shrunk to $low MiB (MinMemory $MIN MiB)"
	# More than the guest has free now.
	lab run v 'memtouch 420 --hold 4' > "$BATS_TEST_TMPDIR/touch.out" &
	touch=$!
	high=0
	while kill -0 "$touch" 2>/dev/null; do
		m=$(guest_mib)
		((m < low)) && low=$m
		((m > high)) && high=$m
		sleep 0.2
	done
	wait "$touch" || fail "memtouch failed: $(cat "$BATS_TEST_TMPDIR/touch.out")"
	report "while allocating: guest memory between $low and $high MiB"
	hintd_logged "hintd-lab-v: guest short: .*grow virtio-mem by" ||
		fail "no deflate-first by virtio-mem: $(hintd_log | grep 'hintd-lab-v: .*virtio-mem' | head -20)"
	((high > low)) || fail "nothing plugged back"
	((low >= MIN)) || fail "the guest went down to ${low} MiB"
	run lab run v 'dmesg | grep -ciE "out of memory|oom-kill" || true'
	assert_output "0"
}

@test "a guest that does not unplug: asked once, the balloon takes the rest, nothing loops" {
	# All of it plugged again, then the guest's driver let go of the
	# device: what it plugged stays plugged, whatever it is asked.
	lab_virsh update-memory-device hintd-lab-v --alias virtiomem0 --requested-size "${VMEM}MiB" --live
	wait_for 20 plugged_at_least "$VMEM" || fail "the guest did not plug all back: $(vmem_mib current) MiB"
	lab run v 'for d in /sys/bus/virtio/drivers/virtio_mem/virtio*; do echo "${d##*/}" > /sys/bus/virtio/drivers/virtio_mem/unbind; done'
	balloon_before=$(balloon_mib v)
	start_hintd "$(pressure_config)"
	wait_for 10 hintd_logged "hintd-lab-v: .*shrink virtio-mem by" ||
		fail "hintd did not ask the device: $(hintd_log | grep hintd-lab-v | tail -5)"
	# The request stands, the device does not move; after 10 s hintd says
	# so and the balloon inflates, never below GuestFloor (128 MiB) on top
	# of what stays plugged.
	wait_for 30 hintd_logged "hintd-lab-v: .*virtio-mem unplugged nothing in 10 s (512 MiB plugged, .*inflate by" ||
		fail "the balloon did not take over: $(hintd_log | grep hintd-lab-v | tail -5)"
	wait_for 15 eval '(($(balloon_mib v) < balloon_before))' || fail "balloon still at $(balloon_mib v) MiB"
	sleep 4
	report "balloon ${balloon_before} -> $(balloon_mib v) MiB; device requested $(vmem_mib requested) MiB, plugged $(vmem_mib current) MiB"
	assert_equal "$(vmem_mib current)" "$VMEM"
	(($(balloon_mib v) >= 128)) || fail "balloon at $(balloon_mib v) MiB"
	# Asked once: the request is not sent again and again.
	asks=$(hintd_log | grep -c "hintd-lab-v: .*shrink virtio-mem by")
	((asks == 1)) || fail "the device was asked ${asks} times: $(hintd_log | grep 'shrink virtio-mem' | tail -3)"
	kill -0 "$HINTD_PID"
	run lab run v 'dmesg | grep -ciE "out of memory|oom-kill" || true'
	assert_output "0"
}
