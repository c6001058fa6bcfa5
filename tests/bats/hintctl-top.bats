#!/usr/bin/env bats
# hintctl top in a detached tmux on a private tmux server, against hintd on a
# private dbus-daemon with libvirt's test driver (one domain, "test"; a
# second with a virtio-mem device where a test says so). Every
# process is stopped by its PID; only this file's tmux server is killed.
load bus-daemon

setup() {
	bus_daemon_setup
	TMUX_SOCKET=hintd-test-$$-$BATS_TEST_NUMBER
	unset TMUX
}

teardown() {
	tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null || true
	[ -n "${TMUX_PID:-}" ] && PIDS+=("$TMUX_PID")
	bus_daemon_teardown
}


t() { tmux -L "$TMUX_SOCKET" "$@"; }

# Runs hintctl top ARGS in a WIDTHxHEIGHT tmux window; its exit status goes
# to $BATS_TEST_TMPDIR/rc when it ends.
start_top() { # WIDTH HEIGHT ARGS...
	local w=$1 h=$2
	shift 2
	t new-session -d -x "$w" -y "$h" \
		"$HINTCTL --bus-address=$ADDR top $*; echo \$? > $BATS_TEST_TMPDIR/rc"
	# The server ends by itself when top exits at once.
	TMUX_PID=$(t display-message -p '#{pid}' 2>/dev/null) || true
}

screen() { t capture-pane -p; }

# Waits until the screen matches the extended regular expression $1.
wait_screen() {
	for _ in $(seq 50); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	screen >&2
	return 1
}

# Waits until the top's window is gone.
wait_exit() {
	for _ in $(seq 50); do
		[ -e "$BATS_TEST_TMPDIR/rc" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "hintctl top: header and the VM's row, sorted as the keys say" {
	start_bus
	start_hintd
	start_top 120 40 --interval 0.5
	wait_screen '^test +8G'
	run screen
	assert_line --index 0 --regexp '^Sort: BACKED \(largest first\)  every 0\.5s  hintd 0\.1 on unix:path='
	assert_line --index 1 --regexp '^Memory: [0-9.]+[KMGT] total, [0-9.]+[KMGT] available   PSI some [0-9.]+% full [0-9.]+%$'
	assert_line --index 2 --regexp '^Budget: no budget   Free: [0-9.]+[KMGT] \(low [0-9.]+[KMGT], high [0-9.]+[KMGT]\)   Reclaiming: (no|YES)$'
	assert_line --index 3 --regexp '^Reclaim rate: unused [^ ]+/s, volatile [^ ]+/s, balloon [^ ]+/s, total [^ ]+/s$'
	assert_line --index 4 --regexp '^Reclaimed: unused .*, total [^ ]+   VMs: 1$'
	assert_line --index 5 --regexp '^Plan: '
	assert_line --regexp '^NAME +MAX +ACTUAL +BACKED +UNUSED +VOLATILE +STABLE +RECLAIMED +RECL/S +PSI +AGENT +DISCARD$'
	assert_line --regexp '^test +8G +[0-9.]+[KMGT] .* [0-9.]+ +absent +no backing$'

	t send-keys s
	wait_screen '^Sort: UNUSED \(largest first\)'
	t send-keys i
	wait_screen '^Sort: UNUSED \(smallest first\)'
	t send-keys n
	wait_screen '^Sort: NAME \(A-Z\)'
	t send-keys r
	wait_screen '^Sort: RECLAIMED \(largest first\)'
	t send-keys b
	wait_screen '^Sort: BACKED \(largest first\)'

	t send-keys '?'
	wait_screen 'hintctl top keys'
	run screen
	assert_output --partial "s      sort by the next column"
	assert_output --partial "q      quit"
	t send-keys x
	for _ in $(seq 20); do
		screen | grep -q 'hintctl top keys' || break
		sleep 0.1
	done
	run screen
	refute_output --partial "hintctl top keys"
	assert_line --index 0 --regexp '^Sort: BACKED'

	t send-keys q
	wait_exit
	run cat "$BATS_TEST_TMPDIR/rc"
	assert_output 0
	run t has-session
	assert_failure
}

@test "hintctl top: resized to 80x24 the header and rows stay readable, without wrapped lines" {
	start_bus
	start_hintd
	start_top 120 40
	wait_screen '^test +8G'
	t resize-window -x 80 -y 24
	wait_screen '^NAME +MAX +ACTUAL +BACKED +UNUSED +VOLAT +STABLE +RECL +RECL/S +PSI +AGENT +DISC$'
	run screen
	# 6 header lines, the titles and the row (bats leaves out the empty line)
	assert_equal "${#lines[@]}" 8
	local line
	for line in "${lines[@]}"; do
		[ "${#line}" -le 80 ] || fail "longer than 80 columns: $line"
	done
	assert_line --index 0 --regexp '^Sort: BACKED \(largest first\)  every 1s'
	assert_line --index 1 --regexp '^Memory: '
	assert_line --index 2 --regexp '^Budget: no budget   Free: .*   Reclaiming: (no|YES)$'
	assert_line --index 3 --regexp '^Reclaim rate: '
	assert_line --regexp '^test +8G +[0-9.]+[KMGT] .* - +nobak$'
	# and back: the wide layout again.
	t resize-window -x 120 -y 40
	wait_screen '^NAME +MAX +ACTUAL +BACKED +UNUSED +VOLATILE +STABLE +RECLAIMED'
	t send-keys q
	wait_exit
}

@test "hintctl top: a VMEM column when a VM has virtio-mem, still within 80 columns" {
	with_virtio_mem_vm
	start_bus
	start_hintd
	wait_virtio_mem vmem
	start_top 120 40 --interval 0.5
	wait_screen '^vmem +6G'
	run screen
	assert_line --regexp '^NAME +MAX +ACTUAL +BACKED +UNUSED +VOLATILE +STABLE +RECLAIMED +RECL/S +PSI +VMEM +AGENT +DISCARD$'
	# 0 plugged, 1G asked for, of 4G (the test driver plugs nothing).
	assert_line --regexp '^vmem +6G +2G .* 0->1G/4G +absent +no backing$'
	assert_line --regexp '^test +8G +8G .* - +absent +no backing$'
	t resize-window -x 80 -y 24
	wait_screen '^NAME +MAX +ACTUAL +BACKED +UNUSED +VOLAT +STABLE +RECL +PSI +VMEM +AGENT +DISC$'
	run screen
	local line
	for line in "${lines[@]}"; do
		[ "${#line}" -le 80 ] || fail "longer than 80 columns: $line"
	done
	assert_line --regexp '^vmem +6G .* 0->1G/4G +- +nobak$'
	t send-keys q
	wait_exit
}

@test "hintctl top: says when hintd goes away and recovers when it is back" {
	start_bus
	start_hintd
	start_top 100 30 --interval 0.2
	wait_screen '^test +8G'
	kill "$HINTD_PID"
	wait "$HINTD_PID" || true
	wait_screen "^hintd is not running on $ADDR"
	# The last rows stay.
	run screen
	assert_line --regexp '^test +8G'
	start_hintd
	for _ in $(seq 50); do
		screen | grep -q '^hintd is not running' || break
		sleep 0.1
	done
	run screen
	refute_output --partial "hintd is not running"
	assert_line --regexp '^test +8G'
	t send-keys q
	wait_exit
}

@test "hintctl top: without hintd it exits 3 before taking the screen" {
	start_bus
	start_top 100 30
	wait_exit
	run cat "$BATS_TEST_TMPDIR/rc"
	assert_output 3
	run "$HINTCTL" --bus-address="$ADDR" top < /dev/null
	assert_equal "$status" 3
	assert_output --partial "hintd is not running on $ADDR"
}
