#!/usr/bin/env bats
# The backing hintd punches is the one QEMU uses, proven from QEMU's own
# answers: a local user's process started before the VM, with the VM's
# "-uuid" on its command line and a shared mapping of a file of the VM's RAM
# size (tests/lab/host/decoy), is never opened or punched.
load helpers

DECOY=$TOP/tests/lab/host/decoy

setup_file() {
	lab down
}

teardown() {
	stop_hintd
	[[ -z ${DECOY_PID:-} ]] || kill "$DECOY_PID" 2>/dev/null || true
	[[ -z ${DECOY_PID:-} ]] || wait "$DECOY_PID" 2>/dev/null || true
	rm -f "${DECOY_FILE:-}"
}

@test "a process posing as the VM's QEMU is never opened nor punched" {
	local uuid mem=384 before after base qemu
	uuid=$(cat /proc/sys/kernel/random/uuid)
	DECOY_FILE=/dev/shm/hintd-decoy-$$
	"$DECOY" -uuid "$uuid" "$DECOY_FILE" $((mem << 20)) > "$BATS_TEST_TMPDIR/decoy.log" 2>&1 &
	DECOY_PID=$!
	wait_for 30 grep -q "decoy: ready" "$BATS_TEST_TMPDIR/decoy.log" || fail "decoy: $(cat "$BATS_TEST_TMPDIR/decoy.log")"
	lab start --uuid "$uuid" --mem "$mem" a
	qemu=$(lab qemu-pid a)
	# Listed first in /proc: whoever scans command lines finds the decoy.
	((DECOY_PID < qemu)) || skip "the decoy's PID ($DECOY_PID) is not below QEMU's ($qemu)"
	tr '\0' ' ' < "/proc/$DECOY_PID/cmdline" | grep -q -- "-uuid $uuid" || fail "decoy lacks -uuid"
	before=$("$DECOY" --check "$DECOY_FILE")
	report "before: $before (decoy PID $DECOY_PID, QEMU PID $qemu)"

	start_hintd "[Host]"
	wait_agents a
	hintd_logged "hintd-lab-a: managing (max $mem MiB, discard capable" ||
		fail "a is not discard capable: $(hintd_log | grep hintd-lab-a: | head -3)"
	base=$(backed_mib a)
	lab run a "memtouch 200" > /dev/null
	wait_for 15 backed_at_most a $((base + 40)) || fail "a's freed memory did not come back"
	report "a's freed 200 MiB came back (backed ${base} -> $(backed_mib a) MiB)"

	! ls -l "/proc/$HINTD_PID/fd" | grep -q hintd-decoy || fail "hintd holds the decoy's file open"
	after=$("$DECOY" --check "$DECOY_FILE")
	report "after: $after"
	[[ $after == "$before" ]] || fail "the decoy's file changed: $before -> $after"
	[[ $after == *intact ]] || fail "$after"
}
