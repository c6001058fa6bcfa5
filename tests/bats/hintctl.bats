#!/usr/bin/env bats
# hintctl against hintd on a private dbus-daemon, with libvirt's test driver
# (one running domain "test", 8 GiB maximum, a balloon, no agent): every
# command, its output forms and its exit codes. Every process is stopped by
# its PID.
load bus-daemon

setup() {
	bus_daemon_setup
}

teardown() {
	bus_daemon_teardown
}

hintctl() { "$HINTCTL" --bus-address="$ADDR" "$@"; }

# Checks that stdin is one JSON document (or, with -l, one per line) and
# prints the Python expression $1 evaluated on it as d.
json() {
	if [ "$1" = -l ]; then
		python3 -c 'import json, sys
for line in sys.stdin:
    json.loads(line)
print("ok")'
	else
		python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
	fi
}

@test "hintctl: usage errors exit 2 and name the argument; --help lists the exit codes" {
	run "$HINTCTL" --help
	assert_success
	assert_output --partial "Exit status:"
	assert_output --partial "5  access denied"
	run "$HINTCTL" --version
	assert_success
	assert_output --regexp '^hintctl [0-9]'
	run "$HINTCTL" frobnicate
	assert_equal "$status" 2
	assert_output --partial "unknown command 'frobnicate'"
	run "$HINTCTL" --frob
	assert_equal "$status" 2
	assert_output --partial "'--frob'"
	run "$HINTCTL" list extra
	assert_equal "$status" 2
	assert_output --partial "unexpected argument 'extra'"
	run "$HINTCTL" set test
	assert_equal "$status" 2
	assert_output --partial "usage: hintctl set VM KEY=VALUE"
	run "$HINTCTL" set test Shares=0
	assert_equal "$status" 2
	assert_output "hintctl: set: 'Shares=0': Shares must be an integer 1..10000"
	run "$HINTCTL" set test Priority=high
	assert_equal "$status" 2
	assert_output --partial "'Priority=high'"
	run "$HINTCTL" set test MinMemory=lots
	assert_equal "$status" 2
	assert_output --partial "'MinMemory=lots'"
	run "$HINTCTL" set test Reclaim=swap
	assert_equal "$status" 2
	assert_output --partial "'Reclaim=swap'"
	run "$HINTCTL" set test Manage=perhaps
	assert_equal "$status" 2
	assert_output --partial "'Manage=perhaps'"
	run "$HINTCTL" set test Color=blue
	assert_equal "$status" 2
	assert_output --partial "unknown setting 'Color'"
	run "$HINTCTL" reclaim --bytes 0
	assert_equal "$status" 2
	assert_output --partial -- "--bytes: '0'"
	run "$HINTCTL" reclaim --bytes
	assert_equal "$status" 2
	assert_output --partial -- "'--bytes' needs a value"
	run "$HINTCTL" top --interval 0.1
	assert_equal "$status" 2
	assert_output --partial -- "--interval: '0.1'"
	run "$HINTCTL" list --interval 2
	assert_equal "$status" 2
	assert_output --partial -- "--interval applies to top only"
}

@test "hintctl: exit 3 and 'hintd is not running on BUS' without a bus or without hintd" {
	run "$HINTCTL" --bus-address="$ADDR" status
	assert_equal "$status" 3
	assert_output --partial "hintd is not running on $ADDR"
	start_bus
	local verb
	for verb in status list "show test" show "set test Shares=5" reclaim reload monitor dump; do
		run hintctl $verb
		assert_equal "$status" 3
		assert_output --partial "hintd is not running on $ADDR"
	done
}

@test "hintctl status: host, budget, watermarks, reclaim, plan and a line per VM" {
	start_bus
	start_hintd
	run hintctl
	assert_success
	assert_output --regexp $'^hintd 0\\.1, every 1s\n'
	assert_output --regexp 'Memory: +[0-9.]+[KMGT] total, [0-9.]+[KMGT] available; pressure some'
	assert_output --partial "Budget:     none"
	assert_output --regexp 'Free: +[0-9.]+[KMGT]; reclaim starts below [0-9.]+[KMGT] and goes on up to [0-9.]+[KMGT]'
	assert_output --partial "Reclaiming: no"
	assert_output --partial "Reclaimed:  unused 0 at 0/s, volatile 0 at 0/s, balloon 0 at 0/s; total 0"
	assert_output --partial "Plan:"
	assert_output --regexp $'\nVM +ACTUAL +BACKED +UNUSED +RECLAIMED +AGENT +DISCARD +LAST DECISION\n'
	assert_output --regexp $'\ntest +[0-9.]+[KMGT] .* absent +no backing '
	run hintctl --no-legend status
	assert_success
	refute_output --partial "LAST DECISION"
	assert_output --regexp $'\ntest '
	run hintctl --bytes status
	assert_output --regexp 'Memory: +[0-9]{6,} total'
}

@test "hintctl list: a table with a legend; --no-legend and --bytes" {
	start_bus
	start_hintd
	run hintctl list
	assert_success
	# No VM with virtio-mem here: no VMEM column.
	assert_line --index 0 --regexp '^NAME +MAX +ACTUAL +BACKED +UNUSED +VOLATILE +STABLE +RECLAIMED +AGENT +DISCARD +LIBVIRT$'
	assert_line --index 1 --regexp '^test +8G +[0-9.]+[KMGT] +[0-9.]+[BKMGT]? .* absent +no backing +answering$'
	# (bats drops the empty line before the footer from lines)
	assert_line --index 2 "1 VM listed."
	assert_output --partial $'\n\n1 VM listed.'

	run hintctl list --no-legend
	assert_success
	assert_output --regexp '^test +8G '
	assert_equal "${#lines[@]}" 1
	run hintctl --no-legend --bytes list
	assert_output --regexp '^test +8589934592 +[0-9]+ '
}

@test "hintctl list: a VMEM column, plugged->requested/size, only when some VM has virtio-mem" {
	with_virtio_mem_vm
	start_bus
	start_hintd
	wait_virtio_mem vmem
	run hintctl list
	assert_success
	assert_line --index 0 --regexp '^NAME +MAX +ACTUAL +BACKED +UNUSED +VOLATILE +STABLE +RECLAIMED +VMEM +AGENT +DISCARD +LIBVIRT$'
	# The test driver reports 0 plugged against 1 GiB asked for: in flight.
	assert_line --regexp '^vmem +6G +2G .* 0 +0->1G/4G +absent +no backing +answering$'
	assert_line --regexp '^test +8G +8G .* 0 +- +absent +no backing +answering$'
	run hintctl --bytes --no-legend list
	assert_line --regexp '^vmem +6442450944 .* 0->1073741824/4294967296 +absent '
	run hintctl list --json
	assert_success
	run json '[(m["Name"], m["VirtioMemSize"], m["VirtioMemBlockSize"], m["VirtioMemRequested"], m["VirtioMemPlugged"]) for m in d]' <<< "$output"
	assert_output "[('test', 0, 0, 0, 0), ('vmem', 4294967296, 2097152, 1073741824, 0)]"
	run hintctl show vmem
	assert_line --regexp '^ +VirtioMemSize: 4G$'
	assert_line --regexp '^ +VirtioMemPlugged: 0$'
}

@test "hintctl show: every Machine property, the reason and the last decision with its time" {
	start_bus
	start_hintd
	# The first decision follows the first statistics, a tick later.
	for _ in $(seq 30); do
		hintctl show test | grep -q "LastDecision: ." && break
		sleep 0.1
	done
	run hintctl show test
	assert_success
	local p
	for p in Name Running MaxMemory BalloonActual BalloonTarget VirtioMemSize VirtioMemBlockSize \
		VirtioMemRequested VirtioMemPlugged LastInstrument Backed Unused Volatile Stable \
		Hinted ReclaimedUnused ReclaimedVolatile ReclaimedBalloon GuestPressureSomeAvg10 \
		SwapInRate MinMemory MaxMemorySetting Shares Priority Reclaim Managed Proactive AgentState AgentRejected \
		Libvirt Module DiscardCapable DiscardReason Discard LastDecision LastDecisionTimestamp; do
		assert_line --regexp "^ *$p: "
	done
	assert_equal "${#lines[@]}" 36
	assert_line --regexp '^ +VirtioMemBlockSize: 0$'
	assert_line --regexp '^ +LastInstrument: balloon$'
	assert_line --regexp '^ +Name: test$'
	assert_line --regexp '^ +MaxMemory: 8G$'
	assert_line --regexp '^ +Reclaim: unused,volatile,balloon$'
	assert_line --regexp '^ +DiscardReason: .*not a shared file mapping'
	assert_line --regexp '^ +Discard: no backing \(.*not a shared file mapping.*\)$'
	assert_line --regexp '^ +LastDecision: .+'
	assert_line --regexp '^ +LastDecisionTimestamp: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} \([0-9]+s ago\)$'
	run hintctl --bytes show test
	assert_line --regexp '^ +MaxMemory: 8589934592$'
	# Without a VM: hintd's own properties.
	run hintctl show
	assert_success
	assert_line --regexp '^ +Version: 0\.1$'
	assert_line --regexp '^ +TickIntervalUSec: 1s$'
	assert_line --regexp '^ +BudgetLimit: 0$'
}

@test "hintctl: an unknown VM exits 4" {
	start_bus
	start_hintd
	run hintctl show nosuch
	assert_equal "$status" 4
	assert_output "hintctl: no VM named 'nosuch' is known to hintd"
	run hintctl set nosuch Shares=5
	assert_equal "$status" 4
	assert_output --partial "'nosuch'"
	run hintctl reclaim --bytes 1M nosuch
	assert_equal "$status" 4
	assert_output --partial "'nosuch'"
}

@test "hintctl set: changes settings; hintd's refusals exit 2 with its message" {
	start_bus
	start_hintd
	run hintctl set test Shares=2500 Priority=-5 Reclaim=balloon,unused MinMemory=1G \
		MaxMemory=4G Manage=yes
	assert_success
	assert_output ""
	run hintctl show test
	assert_line --regexp '^ +Shares: 2500$'
	assert_line --regexp '^ +Priority: -5$'
	assert_line --regexp '^ +Reclaim: unused,balloon$'
	assert_line --regexp '^ +MinMemory: 1G$'
	assert_line --regexp '^ +MaxMemorySetting: 4G$'
	run hintctl set test Reclaim=none MinMemory=none
	assert_success
	run hintctl show test
	assert_line --regexp '^ +Reclaim: none$'
	assert_line --regexp '^ +MinMemory: 0$'
	# Valid here, refused by hintd against the settings it has.
	run hintctl set test MinMemory=6G
	assert_equal "$status" 2
	assert_output --partial "hintd refused an argument: MinMemory"
	run hintctl set test Manage=no
	assert_success
	run hintctl show test
	assert_line --regexp '^ +Managed: no$'
	assert_line --regexp '^ +Proactive: no$'
	run hintctl set test proactive=yes
	assert_success
	run hintctl show test
	assert_line --regexp '^ +Proactive: yes$'
	run hintctl set test Proactive=often
	assert_equal "$status" 2
	assert_output --partial "Proactive must be yes or no"
}

@test "hintctl: an unprivileged caller may read, and changing exits 5 saying who may" {
	start_bus
	start_hintd
	run nobody "$HINTCTL" --bus-address="$ADDR" status
	assert_success
	run nobody "$HINTCTL" --bus-address="$ADDR" list --no-legend
	assert_success
	assert_output --regexp '^test '
	local verb
	for verb in "set test Shares=5" "reclaim test" reload; do
		run nobody "$HINTCTL" --bus-address="$ADDR" $verb
		assert_equal "$status" 5
		assert_output --partial "changing settings needs root or membership of hintd's AdminGroup"
	done
	run hintctl show test
	assert_line --regexp '^ +Shares: 1000$'
}

@test "hintctl: members of AdminGroup may change settings" {
	printf 'AdminGroup=nogroup\n' >> "$CONF"
	start_bus
	start_hintd
	run setpriv --reuid=nobody --regid=nogroup --init-groups "$HINTCTL" --bus-address="$ADDR" \
		set test Shares=5
	assert_success
	run hintctl show test
	assert_line --regexp '^ +Shares: 5$'
}

@test "hintctl reclaim: default 256M or --bytes, from a VM or any; reload and its errors" {
	printf '[VM test]\nMaxMemory=2G\n' >> "$CONF"
	start_bus
	start_hintd
	run hintctl reclaim
	assert_success
	assert_output "hintd will reclaim 256M from the VMs its policy chooses."
	run hintctl reclaim --bytes 64M test
	assert_success
	assert_output "hintd will reclaim 64M from test."
	run hintctl reclaim test --bytes=1G --json
	assert_success
	run json 'd["machine"], d["bytes"]' <<< "$output"
	assert_output "('test', 1073741824)"

	run hintctl reload
	assert_success
	assert_output ""
	printf '[Host]\nUri=test:///default\nTickInterval=forever\n' > "$CONF"
	run hintctl reload
	assert_equal "$status" 1
	assert_output --partial "hintctl: reload failed: "
	assert_output --partial "$CONF:3"
}

@test "hintctl: --json output is valid JSON for every reading command" {
	start_bus
	start_hintd
	run hintctl --json
	assert_success
	run json 'd["Version"], d["Machines"][0]["Name"], d["Machines"][0]["MaxMemory"], d["BudgetLimit"]' <<< "$output"
	assert_output "('0.1', 'test', 8589934592, 0)"
	run hintctl list --json
	assert_success
	run json 'len(d), d[0]["Name"], d[0]["Reclaim"], d[0]["DiscardCapable"], d[0]["Discard"]' <<< "$output"
	assert_output "(1, 'test', ['unused', 'volatile', 'balloon'], False, 'no backing')"
	run hintctl show test --json
	assert_success
	run json 'len(d), d["Name"], type(d["LastDecisionTimestamp"]).__name__' <<< "$output"
	assert_output "(36, 'test', 'int')"
	run hintctl show --json
	run json 'len(d), d["TickIntervalUSec"]' <<< "$output"
	assert_output "(21, 1000000)"
	run hintctl dump --json
	assert_success
	run json 'd["dump"].startswith("host:")' <<< "$output"
	assert_output "True"
	run hintctl dump
	assert_success
	assert_line --index 0 --regexp '^host: '
}

@test "hintctl monitor: Reclaimed, PressureChanged and Reclaiming as they come, until Ctrl-C" {
	printf '[VM test]\nMaxMemory=2G\n' >> "$CONF"
	start_bus
	start_hintd
	"$HINTCTL" --bus-address="$ADDR" monitor > "$BATS_TEST_TMPDIR/human" 2>&1 &
	local human=$!
	PIDS+=("$human")
	"$HINTCTL" --bus-address="$ADDR" monitor --json > "$BATS_TEST_TMPDIR/json" 2>&1 &
	local js=$!
	PIDS+=("$js")
	sleep 0.5
	run hintctl reclaim --bytes 64M test
	assert_success
	for _ in $(seq 50); do
		grep -q '"event":"PressureChanged","reclaiming":false' "$BATS_TEST_TMPDIR/json" && break
		sleep 0.1
	done
	kill -INT "$human" "$js"
	local rc=0
	wait "$human" || rc=$?
	assert_equal "$rc" 0
	wait "$js" || rc=$?
	assert_equal "$rc" 0

	run cat "$BATS_TEST_TMPDIR/human"
	assert_line --index 0 "Monitoring hintd on $ADDR; Ctrl-C ends."
	assert_line --regexp '^[0-9:]{8}\.[0-9]{3} pressure: reclaiming, free [0-9.]+[KMGT], need [0-9.]+[KMGT]$'
	assert_line --regexp '^[0-9:.]{12} Reclaiming=yes$'
	assert_line --regexp '^[0-9:.]{12} reclaimed 64M from test \(balloon\)$'
	assert_line --regexp '^[0-9:.]{12} Reclaiming=no$'
	run json -l < "$BATS_TEST_TMPDIR/json"
	assert_output "ok"
	run cat "$BATS_TEST_TMPDIR/json"
	assert_output --partial '"event":"Reclaimed","machine":"test","rung":"balloon","bytes":67108864,"time":'
	assert_output --partial '"event":"PressureChanged","reclaiming":true'
	assert_output --partial '"event":"PropertiesChanged","property":"Reclaiming","value":true'
}

@test "hintctl monitor: says when hintd stops and starts again" {
	start_bus
	start_hintd
	"$HINTCTL" --bus-address="$ADDR" monitor > "$BATS_TEST_TMPDIR/human" 2>&1 &
	local mon=$!
	PIDS+=("$mon")
	sleep 0.5
	kill "$HINTD_PID"
	wait "$HINTD_PID" || true
	start_hintd
	sleep 0.3
	kill -INT "$mon"
	local rc=0
	wait "$mon" || rc=$?
	assert_equal "$rc" 0
	run cat "$BATS_TEST_TMPDIR/human"
	assert_line --regexp '^[0-9:.]{12} hintd stopped$'
	assert_line --regexp '^[0-9:.]{12} hintd started$'
}
