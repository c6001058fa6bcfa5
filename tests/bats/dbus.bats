#!/usr/bin/env bats
# hintd's D-Bus API (docs/dbus-api.md) on a private dbus-daemon, against
# libvirt's test driver: one running domain "test", 8 GiB maximum, a balloon,
# no memfd backing and no agent. Every process is stopped by its PID.
load bus-daemon

setup() {
	bus_daemon_setup
}

teardown() {
	bus_daemon_teardown
	[[ -z ${CG_DIR:-} ]] || rmdir "$CG_DIR" 2>/dev/null || true
}

bus() { busctl --address="$ADDR" "$@"; }
mgr() { bus call -- org.hintd1 /org/hintd1 org.hintd1.Manager "$@"; }
mgr_prop() { bus get-property org.hintd1 /org/hintd1 org.hintd1.Manager "$@"; }
vm_prop() { bus get-property org.hintd1 /org/hintd1/machine/test org.hintd1.Machine "$@"; }

# "ERROR-NAME: message" of a call that fails: busctl prints the name only
# in its debug log.
bus_error() {
	SYSTEMD_LOG_LEVEL=debug "$@" 2>&1 |
		sed -n 's/.*type=error .* error-name=\([^ ]*\) error-message=\(.*\)/\1: \2/p'
}

# The <interface name="NAME"> element of an introspection document on stdin.
xml_interface() {
	sed -n "/<interface name=\"$1\">/,/<\/interface>/p"
}

@test "hintd says which bus it cannot use and exits 1" {
	run "$HINTD" -c "$CONF" --config-dir="$BATS_TEST_TMPDIR/none" --bus-address="$ADDR"
	assert_equal "$status" 1
	assert_output --partial "Failed to connect to $ADDR"

	start_bus
	start_hintd
	run "$HINTD" -c "$CONF" --config-dir="$BATS_TEST_TMPDIR/none" --bus-address="$ADDR"
	assert_equal "$status" 1
	assert_output --partial "Failed to own org.hintd1 on $ADDR"
	assert_output --partial "another hintd"

	run "$HINTD" --no-bus --bus-address="$ADDR"
	assert_equal "$status" 2
	assert_output --partial "exclude each other"
}

@test "hintd --no-bus runs without any bus and stops cleanly" {
	"$HINTD" -c "$CONF" --config-dir="$BATS_TEST_TMPDIR/none" --no-bus \
		> "$BATS_TEST_TMPDIR/hintd.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	sleep 1
	kill -0 "$pid"
	kill "$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	run cat "$BATS_TEST_TMPDIR/hintd.log"
	assert_output --partial "hintd 0.1 running"
}

@test "Manager properties are readable" {
	start_bus
	start_hintd
	run mgr_prop Version DryRun TickIntervalUSec
	assert_success
	assert_output $'s "0.1"\nb false\nt 1000000'
	run mgr_prop MemoryTotal
	assert_output --regexp '^t [1-9][0-9]+$'
	run mgr_prop BudgetLimit Reclaiming
	assert_output $'t 0\nb false'
	run bus call org.hintd1 /org/hintd1 org.freedesktop.DBus.Properties GetAll s org.hintd1.Manager
	assert_success
	for p in Version DryRun TickIntervalUSec MemoryTotal MemoryAvailable PressureSomeAvg10 \
		PressureFullAvg10 BudgetLimit BudgetUsage Free LowWatermark HighWatermark Reclaiming \
		ReclaimedUnused ReclaimedVolatile ReclaimedBalloon RateUnused RateVolatile \
		RateBalloon Plan; do
		assert_output --partial "\"$p\""
	done
	assert_output --regexp '^a\{sv\} 21 '
}

@test "GetManagedObjects lists the machine, without memfd and agent, with the reason" {
	start_bus
	start_hintd
	run bus call org.hintd1 /org/hintd1 org.freedesktop.DBus.ObjectManager GetManagedObjects
	assert_success
	assert_output --partial '"/org/hintd1/machine/test"'
	assert_output --partial '"org.hintd1.Machine" 36 "Name" s "test"'
	run vm_prop Name Running MaxMemory DiscardCapable AgentState Module Managed Shares Reclaim
	assert_output $'s "test"\nb true\nt 8589934592\nb false\ns "absent"\nb false\nb true\nu 1000\nas 3 "unused" "volatile" "balloon"'
	run vm_prop DiscardReason
	assert_output --partial "not a shared file mapping"
	# What the VM can really get: the first thing in the way.
	run vm_prop Discard
	assert_output 's "no backing"'
}

@test "GetMachine returns the object path, NoSuchMachine for an unknown name" {
	start_bus
	start_hintd
	run mgr GetMachine s test
	assert_success
	assert_output 'o "/org/hintd1/machine/test"'
	run bus_error mgr GetMachine s nosuch
	assert_output "org.hintd1.Error.NoSuchMachine: No running domain 'nosuch' is known to hintd."
}

@test "SetMachine changes settings, all or nothing, and names what is wrong" {
	start_bus
	start_hintd
	run mgr SetMachine 'sa{sv}' test 3 Shares u 2500 Priority i -5 Reclaim as 2 balloon unused
	assert_success
	run vm_prop Shares Priority Reclaim
	assert_output $'u 2500\ni -5\nas 2 "unused" "balloon"'

	run bus_error mgr SetMachine 'sa{sv}' test 2 Priority i 7 Shares u 0
	assert_output "org.freedesktop.DBus.Error.InvalidArgs: Shares must be 1..10000, not 0."
	run bus_error mgr SetMachine 'sa{sv}' test 1 Priority i 101
	assert_output --partial "InvalidArgs: Priority must be -100..100"
	run bus_error mgr SetMachine 'sa{sv}' test 1 Frobnicate u 1
	assert_output --partial "InvalidArgs: Unknown setting 'Frobnicate'"
	run bus_error mgr SetMachine 'sa{sv}' test 1 Shares s many
	assert_output --partial "InvalidArgs: Shares must be of type 'u', not 's'."
	run bus_error mgr SetMachine 'sa{sv}' test 1 Reclaim as 1 swap
	assert_output --partial "InvalidArgs: Reclaim: unknown rung 'swap'"
	run bus_error mgr SetMachine 'sa{sv}' test 2 MinMemory t 4294967296 MaxMemory t 1073741824
	assert_output --partial "InvalidArgs: MinMemory (4294967296) is larger than MaxMemory"
	run bus_error mgr SetMachine 'sa{sv}' nosuch 1 Shares u 1
	assert_output --partial "NoSuchMachine"
	# Nothing of the refused calls was applied.
	run vm_prop Shares Priority MinMemory MaxMemorySetting
	assert_output $'u 2500\ni -5\nt 0\nt 0'

	run mgr SetMachine 'sa{sv}' test 2 Manage b false Reclaim as 0
	assert_success
	run vm_prop Managed Reclaim
	assert_output $'b false\nas 0'
}

@test "Reclaim asks for bytes, a balloon gives them, signals and properties follow" {
	printf '[VM test]\nMaxMemory=2G\n' >> "$CONF"
	start_bus
	start_hintd
	run bus_error mgr Reclaim st test 0
	assert_output "org.freedesktop.DBus.Error.InvalidArgs: bytes must be more than 0."
	run bus_error mgr Reclaim st nosuch 1
	assert_output --partial "NoSuchMachine"

	bus monitor org.hintd1 > "$BATS_TEST_TMPDIR/monitor" 2>&1 &
	local monitor=$!
	PIDS+=("$monitor")
	sleep 0.5
	run mgr Reclaim st test 67108864
	assert_success
	assert_output "t 67108864"
	for _ in $(seq 50); do
		[ "$(vm_prop ReclaimedBalloon)" = "t 67108864" ] && break
		sleep 0.1
	done
	run vm_prop ReclaimedBalloon BalloonTarget
	assert_output $'t 67108864\nt 2080374784'
	run mgr_prop ReclaimedBalloon
	assert_output "t 67108864"
	sleep 0.6	# the next tick: PropertiesChanged, reclaim over
	kill "$monitor"
	wait "$monitor" || true
	run grep -A6 'Member=Reclaimed' "$BATS_TEST_TMPDIR/monitor"
	assert_output --partial 'STRING "test";'
	assert_output --partial 'STRING "balloon";'
	assert_output --partial 'UINT64 67108864;'
	run grep -c 'Member=PressureChanged' "$BATS_TEST_TMPDIR/monitor"
	assert_output 2
	run grep -A30 'Path=/org/hintd1/machine/test  Interface=org.freedesktop.DBus.Properties  Member=PropertiesChanged' \
		"$BATS_TEST_TMPDIR/monitor"
	assert_output --partial 'STRING "BalloonTarget";'
	run grep -c 'STRING "RateBalloon";' "$BATS_TEST_TMPDIR/monitor"
	assert [ "$output" -ge 1 ]
	run cat "$BATS_TEST_TMPDIR/hintd.log"
	assert_output --partial "Requested reclaim done"
}

@test "Reload: a broken file is BadConfig with file:line and keeps the old configuration" {
	printf '[Host]\nUri=test:///default\nTickInterval=2s\n' > "$CONF"
	start_bus
	start_hintd
	run mgr SetMachine 'sa{sv}' test 1 Shares u 42
	assert_success

	printf '[Host]\nUri=test:///default\nTickInterval=forever\n' > "$CONF"
	run bus_error mgr Reload
	assert_output --partial "org.hintd1.Error.BadConfig: Configuration not reloaded, the old one is kept: $CONF:3"
	assert_output --partial "TickInterval"
	run mgr_prop TickIntervalUSec
	assert_output "t 2000000"
	run vm_prop Shares
	assert_output "u 42"

	# A good file applies, and settings changed over D-Bus give way to it.
	printf '[Host]\nUri=test:///default\nTickInterval=500ms\n[VM test]\nShares=7\n' > "$CONF"
	run mgr Reload
	assert_success
	run mgr_prop TickIntervalUSec
	assert_output "t 500000"
	run vm_prop Shares
	assert_output "u 7"
}

@test "Dump returns the state as text" {
	start_bus
	start_hintd
	run mgr Dump
	assert_success
	assert_output --regexp '^s "host: total [0-9]+ MiB'
	assert_output --partial 'vm test: max 8192 MiB'
	assert_output --partial 'discard no backing: guest RAM is not a shared file mapping'
}

@test "an unprivileged caller may read but not change; AdminGroup members may" {
	start_bus
	start_hintd
	run nobody busctl --address="$ADDR" get-property org.hintd1 /org/hintd1/machine/test \
		org.hintd1.Machine Shares
	assert_success
	assert_output "u 1000"
	run nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 org.hintd1.Manager Dump
	assert_success
	run nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 org.hintd1.Manager GetMachine s test
	assert_success

	run bus_error nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 \
		org.hintd1.Manager SetMachine 'sa{sv}' test 1 Shares u 5
	assert_output "org.freedesktop.DBus.Error.AccessDenied: Changing a machine's settings is allowed to root only (AdminGroup= in hintd.conf can allow a group)."
	run bus_error nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 \
		org.hintd1.Manager Reclaim st "" 1048576
	assert_output --partial "AccessDenied: Reclaiming is allowed to root only"
	run bus_error nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 \
		org.hintd1.Manager Reload
	assert_output --partial "AccessDenied: Reloading the configuration is allowed to root only"
	run vm_prop Shares
	assert_output "u 1000"

	printf '[Host]\nUri=test:///default\nAdminGroup=nogroup\n' > "$CONF"
	run mgr Reload
	assert_success
	run nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 org.hintd1.Manager \
		SetMachine 'sa{sv}' test 1 Shares u 5
	assert_success
	run vm_prop Shares
	assert_output "u 5"
	# A supplementary group counts too; another group does not.
	run setpriv --reuid=nobody --regid=daemon --groups=nogroup busctl --address="$ADDR" \
		call org.hintd1 /org/hintd1 org.hintd1.Manager SetMachine 'sa{sv}' test 1 Shares u 6
	assert_success
	run bus_error setpriv --reuid=nobody --regid=daemon --clear-groups busctl --address="$ADDR" \
		call org.hintd1 /org/hintd1 org.hintd1.Manager SetMachine 'sa{sv}' test 1 Shares u 9
	assert_output --partial "AccessDenied: Changing a machine's settings is allowed to root and to members of group 'nogroup'"
	run vm_prop Shares
	assert_output "u 6"
}

# busctl as the given setpriv identity, calling a Manager method.
mgr_as() { # SETPRIV-ARGS... -- METHOD ARGS...
	local ids=()
	while [[ $1 != -- ]]; do ids+=("$1"); shift; done
	shift
	setpriv "${ids[@]}" busctl --address="$ADDR" call -- org.hintd1 /org/hintd1 org.hintd1.Manager "$@"
}

@test "AdminGroup: root and the group's members (primary or supplementary) may change, others not" {
	local g=hintd-test-adm-$$
	printf 'AdminGroup=%s\n' "$g" >> "$CONF"
	start_bus
	start_hintd
	# Looked up at every call: before the group exists, root only, and why.
	run bus_error nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 \
		org.hintd1.Manager SetMachine 'sa{sv}' test 1 Shares u 5
	assert_output "org.freedesktop.DBus.Error.AccessDenied: Changing a machine's settings is allowed to root only: AdminGroup=$g in hintd.conf names no group on this host."

	make_admin_group "$g"
	run bus_error nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 \
		org.hintd1.Manager SetMachine 'sa{sv}' test 1 Shares u 5
	assert_output "org.freedesktop.DBus.Error.AccessDenied: Changing a machine's settings is allowed to root and to members of group '$g' (AdminGroup= in hintd.conf) only."
	run bus_error mgr_as --reuid=nobody --regid=nogroup --clear-groups -- Reclaim st "" 1048576
	assert_output --partial "AccessDenied: Reclaiming is allowed to root and to members of group '$g'"
	run vm_prop Shares
	assert_output "u 1000"

	run mgr_as --reuid=nobody --regid=nogroup --groups="$ADMIN_GID" -- \
		SetMachine 'sa{sv}' test 1 Shares u 6
	assert_success
	run vm_prop Shares
	assert_output "u 6"
	run mgr_as --reuid=nobody --regid="$ADMIN_GID" --clear-groups -- \
		SetMachine 'sa{sv}' test 1 Shares u 7
	assert_success
	run vm_prop Shares
	assert_output "u 7"
	run mgr SetMachine 'sa{sv}' test 1 Shares u 8
	assert_success

	# The group by its GID; Reload is gated like the rest.
	printf '[Host]\nUri=test:///default\nAdminGroup=%s\n' "$ADMIN_GID" > "$CONF"
	run mgr_as --reuid=nobody --regid=nogroup --groups="$ADMIN_GID" -- Reload
	assert_success
	run bus_error mgr_as --reuid=nobody --regid=nogroup --groups=daemon -- Reload
	assert_output --partial "AccessDenied: Reloading the configuration is allowed to root and to members of group '$ADMIN_GID'"
	run vm_prop Shares
	assert_output "u 1000"	# the reload applied the file's settings
}

@test "who called is decided without reading /proc: hintd under strace during the calls" {
	local g=hintd-test-adm-$$ trace=$BATS_TEST_TMPDIR/trace p_denied p_member p_root tracer
	command -v strace > /dev/null || skip "strace is not installed"
	make_admin_group "$g"
	printf 'AdminGroup=%s\n' "$g" >> "$CONF"
	start_bus
	start_hintd
	# Every call naming a file, and the replies hintd sends, from all its threads.
	strace -f -e trace=%file,sendmsg -p "$HINTD_PID" -o "$trace" 2> "$BATS_TEST_TMPDIR/strace.err" &
	tracer=$!
	PIDS+=("$tracer")
	for _ in $(seq 50); do
		grep -q "Process $HINTD_PID attached" "$BATS_TEST_TMPDIR/strace.err" && break
		sleep 0.1
	done
	grep -q "Process $HINTD_PID attached" "$BATS_TEST_TMPDIR/strace.err"

	nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 org.hintd1.Manager \
		SetMachine 'sa{sv}' test 1 Shares u 5 2> "$BATS_TEST_TMPDIR/denied.err" &
	p_denied=$!
	wait "$p_denied" && fail "nobody's call was not refused"
	mgr_as --reuid=nobody --regid=nogroup --groups="$ADMIN_GID" -- \
		SetMachine 'sa{sv}' test 1 Shares u 6 &
	p_member=$!
	wait "$p_member"
	mgr SetMachine 'sa{sv}' test 1 Shares u 7 &
	p_root=$!
	wait "$p_root"
	sleep 0.2
	kill "$tracer"
	wait "$tracer" || true

	run cat "$BATS_TEST_TMPDIR/denied.err"
	assert_output --partial "Access denied"
	run grep -c "(uid 65534) refused: Changing a machine's settings is allowed to root and to members of group '$g'" \
		"$BATS_TEST_TMPDIR/hintd.log"
	assert_output 1
	run vm_prop Shares
	assert_output "u 7"
	# The trace covered the calls: hintd's three replies (and its questions) are in it.
	run grep -c 'sendmsg(' "$trace"
	assert [ "$output" -ge 6 ]
	# ...and no path under a caller's /proc/PID, nor any other process's.
	run grep -E "\"/proc/($p_denied|$p_member|$p_root)(/|\")" "$trace"
	assert_failure
	run grep -E '"/proc/[0-9]+' "$trace"
	assert_failure
}

@test "a flood of refused calls is logged in at most 11 lines, and nothing else stops" {
	local i
	start_bus
	start_hintd
	for i in $(seq 50); do
		nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 org.hintd1.Manager \
			SetMachine 'sa{sv}' test 1 Shares u 5 2>> "$BATS_TEST_TMPDIR/refused.err" &&
			fail "call $i was not refused"
	done
	run grep -c "Access denied" "$BATS_TEST_TMPDIR/refused.err"
	assert_output 50
	run grep -c "refused" "$BATS_TEST_TMPDIR/hintd.log"
	assert_output 11
	run grep -c "D-Bus call from :1\.[0-9]* (uid 65534) refused: Changing a machine's settings is allowed to root only" \
		"$BATS_TEST_TMPDIR/hintd.log"
	assert_output 10
	run grep -c "More D-Bus calls refused; the next ones this minute are not logged." \
		"$BATS_TEST_TMPDIR/hintd.log"
	assert_output 1
	# Root is still served at once.
	run mgr SetMachine 'sa{sv}' test 1 Shares u 9
	assert_success
	run vm_prop Shares
	assert_output "u 9"
}

@test "the shipped polkit action is valid and declares org.hintd1.manage" {
	local dtd=/usr/share/polkit-1/policyconfig-1.dtd policy=$TOP/etc/polkit-1/actions/org.hintd1.policy
	command -v xmllint > /dev/null || skip "xmllint is not installed"
	if [[ -f $dtd ]]; then
		run xmllint --noout --dtdvalid "$dtd" "$policy"
	else
		run xmllint --noout "$policy"
	fi
	assert_success
	run xmllint --xpath 'string(//action[@id="org.hintd1.manage"]/defaults)' "$policy"
	assert_output --regexp '^[[:space:]]*no[[:space:]]+no[[:space:]]+auth_admin_keep[[:space:]]*$'
}

@test "introspection matches docs/org.hintd1.xml" {
	start_bus
	start_hintd
	local iface
	for iface in org.hintd1.Manager:/org/hintd1 org.hintd1.Machine:/org/hintd1/machine/test; do
		run diff -u <(xml_interface "${iface%%:*}" < "$TOP/docs/org.hintd1.xml") \
			<(bus introspect --xml-interface org.hintd1 "${iface#*:}" | xml_interface "${iface%%:*}")
		assert_success
	done
	run xml_interface org.hintd1.Manager < "$TOP/docs/org.hintd1.xml"
	assert_output --partial '<method name="SetMachine">'
}

@test "the shipped bus policy lets root own org.hintd1 and anyone call it" {
	# A bus with the system bus's defaults: nothing may be owned, no method
	# called, except what the policy file allows.
	cat > "$BATS_TEST_TMPDIR/system.conf" <<-EOF
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>system</type>
	  <listen>unix:tmpdir=/tmp</listen>
	  <auth>EXTERNAL</auth>
	  <policy context="default">
	    <allow user="*"/>
	    <deny own="*"/>
	    <deny send_type="method_call"/>
	    <allow send_type="signal"/>
	    <allow send_requested_reply="true" send_type="method_return"/>
	    <allow send_requested_reply="true" send_type="error"/>
	    <allow receive_type="method_call"/>
	    <allow receive_type="method_return"/>
	    <allow receive_type="error"/>
	    <allow receive_type="signal"/>
	    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
	    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
	  </policy>
	  <include>$TOP/etc/dbus-1/system.d/org.hintd1.conf</include>
	</busconfig>
	EOF
	start_bus "$BATS_TEST_TMPDIR/system.conf"
	start_hintd
	run nobody busctl --address="$ADDR" get-property org.hintd1 /org/hintd1 org.hintd1.Manager Version
	assert_success
	assert_output 's "0.1"'
	run nobody busctl --address="$ADDR" call org.hintd1 /org/hintd1 org.hintd1.Manager Dump
	assert_success
	run bus_error nobody busctl --address="$ADDR" call org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus RequestName su org.hintd1 0
	assert_output --partial "AccessDenied"
}

@test "--dry-run decides and logs, and changes no balloon" {
	printf '[VM test]\nMaxMemory=2G\n' >> "$CONF"
	start_bus
	start_hintd --dry-run
	before=$(vm_prop BalloonActual)
	run mgr_prop DryRun
	assert_output "b true"
	run mgr Reclaim st test 67108864
	assert_success
	for _ in $(seq 50); do
		grep -q "(dry run)" "$BATS_TEST_TMPDIR/hintd.log" && break
		sleep 0.1
	done
	run cat "$BATS_TEST_TMPDIR/hintd.log"
	assert_output --partial "(dry run)"
	assert_output --partial "inflate"
	sleep 1
	run vm_prop BalloonActual
	assert_output "$before"
}

# A memory cgroup of the test's own with LIMIT bytes: v1, else v2.
make_budget_cgroup() { # NAME LIMIT
	if [[ -f /sys/fs/cgroup/memory/memory.usage_in_bytes ]]; then
		CG_DIR=/sys/fs/cgroup/memory/$1
		mkdir "$CG_DIR" && echo "$2" > "$CG_DIR/memory.limit_in_bytes"
	else
		CG_DIR=/sys/fs/cgroup/$1
		mkdir "$CG_DIR" && echo "$2" > "$CG_DIR/memory.max"
	fi
}

@test "the budget cgroup removed: host memory is used, said once, and the cgroup is picked up again" {
	local cg=hintd-test-budget-$$ fails
	make_budget_cgroup "$cg" $((1 << 30))
	printf 'BudgetCgroup=/%s\n' "$cg" >> "$CONF"
	start_bus
	start_hintd
	run mgr_prop BudgetLimit
	assert_output "t $((1 << 30))"
	rmdir "$CG_DIR"
	for _ in $(seq 50); do
		[[ $(mgr_prop BudgetLimit) == "t 0" ]] && break
		sleep 0.1
	done
	run mgr_prop BudgetLimit
	assert_output "t 0"
	kill -0 "$HINTD_PID"
	sleep 3	# several ticks without the cgroup: still one line
	fails=$(grep -c "Failed to read budget cgroup /$cg" "$BATS_TEST_TMPDIR/hintd.log")
	((fails == 1)) || fail "$fails lines about the missing cgroup"
	make_budget_cgroup "$cg" $((2 << 30))
	for _ in $(seq 50); do
		[[ $(mgr_prop BudgetLimit) == "t $((2 << 30))" ]] && break
		sleep 0.1
	done
	rmdir "$CG_DIR"
	run mgr_prop BudgetLimit
	assert_output "t $((2 << 30))"
	grep -q "Budget cgroup /$cg readable again" "$BATS_TEST_TMPDIR/hintd.log"
}
