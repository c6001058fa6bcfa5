#!/usr/bin/env bats
# A guest with two NUMA nodes: libvirt gives each node a memory backend of
# its own, so its RAM is two memfds. hintd must prove and punch both, each
# range in the file of its own node. Measured on the host: each file's
# allocated blocks.
load helpers

setup_file() {
	lab down
	lab start --numa 2 --mem 512 n
}

# MiB of host memory behind each of the guest's files, "NODE0 NODE1".
backed_per_file() {
	local fd out=""
	for fd in $(lab memfd n); do
		out+="$(($(stat -L -c %b "$fd") * 512 >> 20)) "
	done
	echo "${out% }"
}

@test "a guest with two NUMA nodes: discard-capable, 300 MiB freed back within 5 s from both files, reusable" {
	start_bus
	start_hintd "[Host]"
	wait_agents n
	run lab memfd n
	assert_equal "${#lines[@]}" 2
	hintd_logged "hintd-lab-n: RAM in 2 backends" ||
		fail "hintd did not find two backends: $(hintd_log | grep hintd-lab-n | tail -5)"
	run hintctl show hintd-lab-n
	assert_line --regexp '^ *Discard: +yes'
	lab run n 'memtouch 300 --hold 3' > "$BATS_TEST_TMPDIR/touch.out" &
	touch=$!
	peak=0 at_peak=""
	while kill -0 "$touch" 2>/dev/null; do
		b=$(backed_mib n)
		((b > peak)) && peak=$b at_peak=$(backed_per_file)
		sleep 0.2
	done
	wait "$touch" || fail "memtouch failed: $(cat "$BATS_TEST_TMPDIR/touch.out")"
	t0=$(date +%s%N) dropped=0
	while (($(date +%s%N) - t0 < 5000000000)); do
		dropped=$((peak - $(backed_mib n)))
		((dropped >= 270)) && break
		sleep 0.2
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	report "backing peak ${peak} MiB (per node: ${at_peak}), ${dropped} MiB returned within ${ms} ms; now per node: $(backed_per_file)"
	((dropped >= 270)) || fail "dropped ${dropped} MiB from ${peak} MiB within 5 s"
	# Both nodes' files were punched: each is mostly holes now.
	for mib in $(backed_per_file); do
		((mib < 160)) || fail "a node's file still holds ${mib} MiB of its 256: $(backed_per_file)"
	done
	run lab run n 'memtouch 300'
	assert_output --partial "memtouch: ok 300 MiB"
	nothing_rejected n
	no_oops n
}
