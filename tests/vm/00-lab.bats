#!/usr/bin/env bats
# The lab itself on two real guests: balloon stats, balloon inflation, the
# agent channel in both directions, the RAM backing seen from the host, and a
# broken boot reported with the console's tail.
load helpers

setup_file() {
	lab down
	lab start --no-agent --no-module a b
}

@test "both guests boot to the ready marker on the serial console" {
	for g in a b; do
		run lab console "$g" 100
		assert_output --partial "HINTD-LAB-READY"
	done
}

@test "balloon statistics arrive from each guest" {
	for g in a b; do
		wait_for 20 memstats_arrived "$g"
		unused=$(memstat "$g" unused) available=$(memstat "$g" available)
		((unused > 100 * 1024)) || fail "guest $g: unused ${unused} KiB"
		((available > 400 * 1024)) || fail "guest $g: available ${available} KiB"
	done
}

# With deflate-on-oom (autodeflate) the balloon's pages count as used, not
# taken out of MemTotal: the guest sees less memory available.
@test "setmem inflates the balloon and the guest sees less memory" {
	before=$(guest_meminfo a MemAvailable)
	lab_virsh setmem hintd-lab-a 256M --live
	wait_for 30 balloon_at_most a $((260 * 1024))
	after=$(guest_meminfo a MemAvailable)
	((before - after >= 200 * 1024)) || fail "MemAvailable $before -> $after KiB"
	# The other guest is left alone.
	assert_equal "$(memstat b actual)" $((512 * 1024))
}

@test "the agent channel carries a line both ways" {
	for g in a b; do
		sock=$(lab agent-socket "$g")
		out=$BATS_TEST_TMPDIR/$g.out
		(sleep 1; echo "host-to-$g") | timeout 10 socat - "UNIX-CONNECT:$sock" > "$out" &
		sleeper=$!
		run lab run "$g" "echo $g-to-host > /dev/virtio-ports/org.hintd.agent.0;
			timeout 8 head -n 1 /dev/virtio-ports/org.hintd.agent.0"
		wait "$sleeper" || true
		assert_success
		assert_output "host-to-$g"
		assert_equal "$(cat "$out")" "$g-to-host"
	done
}

@test "each guest's RAM is a shared memfd reachable from the host" {
	fd_a=$(lab memfd a) fd_b=$(lab memfd b)
	[[ $(readlink "$fd_a") == /memfd:* ]]
	[[ $fd_a != "$fd_b" ]]
	assert_equal "$(stat -L -c %s "$fd_a")" $((512 << 20))
	# A running guest has host memory behind part of its RAM, not all of it.
	backed=$(lab backed b)
	((backed > 16 << 20 && backed < 512 << 20)) || fail "backed $backed"
}

@test "a guest that fails to boot is reported with its console tail" {
	run lab start --timeout 60 --cmdline "rdinit=/nonexistent init=/nonexistent" broken
	assert_failure
	assert_output --partial "not ready"
	assert_output --partial "Kernel panic"
}
