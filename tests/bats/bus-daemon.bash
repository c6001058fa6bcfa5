# Shared by the bats files that drive hintd over D-Bus: a private
# dbus-daemon, hintd on it against libvirt's test driver (one running domain
# "test", 8 GiB maximum, a balloon, no memfd backing, no agent), and a
# teardown that stops every process started, by PID.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

# Sets TOP, BUILD, HINTD, HINTCTL, PIDS, ADDR and CONF for one test.
bus_daemon_setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	BUILD=${BUILD:-$TOP/build}
	HINTD=$BUILD/hintd
	HINTCTL=$BUILD/hintctl
	PIDS=()
	# The socket must be reachable by nobody: not under BATS_TEST_TMPDIR.
	BUS_DIR=$(mktemp -d /tmp/hintd-bus.XXXXXX)
	chmod 755 "$BUS_DIR"
	ADDR=unix:path=$BUS_DIR/bus
	CONF=$BATS_TEST_TMPDIR/hintd.conf
	printf '[Host]\nUri=test:///default\n' > "$CONF"
	ADMIN_GROUP=
}

bus_daemon_teardown() {
	local i pid
	# Last started first: hintd before its bus.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		pid=${PIDS[i]}
		kill "$pid" 2>/dev/null || true
		# Children of this shell are waited for; the forked dbus-daemon is
		# polled until it is gone (or a zombie left to its reaper).
		wait "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			[ -e "/proc/$pid" ] && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ] ||
				break
			sleep 0.1
		done
	done
	rm -rf "$BUS_DIR"
	[[ -z ${ADMIN_GROUP:-} ]] || groupdel "$ADMIN_GROUP" || true
}

# Starts a dbus-daemon with CONFIG (default tests/lab/test-bus.conf) at $ADDR.
start_bus() {
	local pid
	pid=$(dbus-daemon --config-file="${1:-$TOP/tests/lab/test-bus.conf}" --address="$ADDR" \
		--fork --print-pid=1)
	PIDS+=("$pid")
}

# Starts hintd on the bus with $CONF and ARGS; waits until its machine
# "test" can be read over the bus.
start_hintd() {
	"$HINTD" -c "$CONF" --config-dir="$BATS_TEST_TMPDIR/none" --bus-address="$ADDR" "$@" \
		> "$BATS_TEST_TMPDIR/hintd.log" 2>&1 &
	HINTD_PID=$!
	PIDS+=("$HINTD_PID")
	for _ in $(seq 100); do
		# Described by libvirt and its statistics read (in the background).
		"$HINTCTL" --bus-address="$ADDR" show test 2>/dev/null | grep -q "Libvirt: answering" &&
			return 0
		kill -0 "$HINTD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/hintd.log" >&2
	return 1
}

# Points $CONF at a test-driver host of two running domains: "test" as in
# test:///default (8 GiB, a balloon) and "vmem", 2 GiB of boot RAM and a
# virtio-mem device of 4 GiB in 2 MiB blocks asked for 1 GiB. The test
# driver keeps no <current> (so 0 plugged: a change in flight) and only a
# user alias ("ua-"), which hintd drives like libvirt's own.
with_virtio_mem_vm() {
	cat > "$BATS_TEST_TMPDIR/node.xml" <<-'END'
	<node>
	  <domain type='test'>
	    <name>test</name>
	    <memory unit='KiB'>8388608</memory>
	    <currentMemory unit='KiB'>8388608</currentMemory>
	    <vcpu>2</vcpu>
	    <os><type arch='i686'>hvm</type></os>
	    <devices><memballoon model='virtio'/></devices>
	  </domain>
	  <domain type='test'>
	    <name>vmem</name>
	    <maxMemory slots='16' unit='KiB'>16777216</maxMemory>
	    <memory unit='KiB'>6291456</memory>
	    <currentMemory unit='KiB'>2097152</currentMemory>
	    <vcpu>2</vcpu>
	    <cpu><numa><cell id='0' cpus='0-1' memory='2097152' unit='KiB'/></numa></cpu>
	    <os><type arch='x86_64' machine='pc'>hvm</type></os>
	    <devices>
	      <memballoon model='virtio'/>
	      <memory model='virtio-mem'>
	        <target>
	          <size unit='KiB'>4194304</size>
	          <node>0</node>
	          <block unit='KiB'>2048</block>
	          <requested unit='KiB'>1048576</requested>
	        </target>
	        <alias name='ua-vmem0'/>
	      </memory>
	    </devices>
	  </domain>
	</node>
	END
	printf '[Host]\nUri=test://%s\n' "$BATS_TEST_TMPDIR/node.xml" > "$CONF"
}

# Waits until hintd has read the machine NAME from libvirt and shows its
# virtio-mem device.
wait_virtio_mem() { # NAME
	for _ in $(seq 100); do
		"$HINTCTL" --bus-address="$ADDR" show "$1" 2>/dev/null |
			grep -Eq "VirtioMemSize: [1-9]" && return 0
		sleep 0.1
	done
	"$HINTCTL" --bus-address="$ADDR" show "$1" >&2
	return 1
}

nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# A throwaway system group NAME for AdminGroup= (removed by the teardown,
# whatever the test's outcome); sets ADMIN_GROUP and ADMIN_GID.
make_admin_group() {
	groupadd --system "$1"
	ADMIN_GROUP=$1
	ADMIN_GID=$(getent group "$1" | cut -d: -f3)
	[[ -n $ADMIN_GID ]]
}
