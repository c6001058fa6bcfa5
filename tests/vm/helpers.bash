# Shared by the real-VM tests: the lab, libvirt and host-side measurements.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export BUILD=${BUILD:-$TOP/build}
# Each test file has a lab of its own, so a failure never leaks into the next.
export LAB_DIR=${LAB_DIR_BASE:-/tmp/hintd-lab}-$(basename "$BATS_TEST_FILENAME" .bats)
LAB=$TOP/tests/lab/lab

lab() { "$LAB" "$@"; }
lab_virsh() { virsh -q -c "$("$LAB" uri)" "$@"; }

# dommemstat FIELD of guest NAME, in KiB ("" when absent).
memstat() { lab_virsh dommemstat "hintd-lab-$1" | awk -v k="$2" '$1 == k { print $2 }'; }

# Guest /proc/meminfo FIELD in KiB.
guest_meminfo() { lab run "$1" "awk '\$1 == \"$2:\" { print \$2 }' /proc/meminfo"; }

# Balloon of guest NAME at or below KIB.
balloon_at_most() { local a; a=$(memstat "$1" actual); [[ -n $a ]] && ((a <= $2)); }
# Balloon statistics of guest NAME have arrived.
memstats_arrived() { [[ -n $(memstat "$1" unused) ]]; }

# Waits up to SECONDS for COMMAND to succeed; fails with the last output.
wait_for() { # SECONDS COMMAND...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}
